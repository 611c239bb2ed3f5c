import Foundation

/// One timed call: its wall time and the CPU time the whole process spent meanwhile.
public struct CallTime: Equatable, Sendable {
    /// Wall time on the monotonic clock.
    public var seconds: Double
    /// Process CPU time (`CLOCK_PROCESS_CPUTIME_ID`, every thread: OpenBLAS's workers included), read
    /// just outside the wall-clock window; nil when it was not measured.
    public var cpuSeconds: Double?
    /// Page faults, context switches, user and system time and hardware counts over the call, read
    /// just outside the CPU-clock window; nil when not measured. Not in the samples file: the results
    /// row keeps their per-call means.
    public var counters: CallCounters?

    public init(seconds: Double, cpuSeconds: Double?, counters: CallCounters? = nil) {
        (self.seconds, self.cpuSeconds, self.counters) = (seconds, cpuSeconds, counters)
    }
}

/// One timed repetition of a point, as kept in the samples file: which repetition it was (1-based,
/// in the order the point's repetitions ran, over all its cycles), which interleaved cycle it came
/// from (1-based), and its times.
public struct RepetitionSample: Equatable, Sendable {
    public var repetition: Int
    public var cycle: Int
    public var time: CallTime

    public init(repetition: Int, cycle: Int, time: CallTime) {
        (self.repetition, self.cycle, self.time) = (repetition, cycle, time)
    }

    /// The calls of every cycle of one point, numbered: `cycles[c]` holds cycle c + 1's calls in order.
    public static func numbering(_ cycles: [[CallTime]]) -> [RepetitionSample] {
        var samples: [RepetitionSample] = []
        for (c, calls) in cycles.enumerated() {
            for call in calls {
                samples.append(RepetitionSample(repetition: samples.count + 1, cycle: c + 1, time: call))
            }
        }
        return samples
    }
}

/// The raw samples of a run: `<name>.samples.csv` beside `<name>.csv`, one row per timed repetition
/// of every measured point (all cycles; the results row keeps the fastest cycle's statistics).
///
/// Columns: the key columns of ``SweepPoint``, then `repetition` (1-based over all the point's
/// cycles), `cycle` (1-based), `seconds` (wall time of one call: a forward pass, or a whole decode
/// generation) and `cpu_seconds` (the process's CPU time over that call, all threads; empty when not
/// measured). Seconds are written with 9 decimals (the clock's nanoseconds).
///
/// A point's rows are written together, after its last cycle. A resumed run that measures a point
/// again writes it again from repetition 1: ``read(_:)`` keeps each point's last measurement (a row
/// whose repetition does not follow the point's previous row starts a new one).
public struct SampleRow: Equatable, Sendable {
    public var point: SweepPoint
    public var sample: RepetitionSample

    public init(point: SweepPoint, sample: RepetitionSample) {
        (self.point, self.sample) = (point, sample)
    }

    public static let table: [Column<SampleRow>] =
        SweepPoint.columns.map { $0.lifted(\.point) } + [
            .int("repetition", \.sample.repetition),
            .int("cycle", \.sample.cycle),
            Column(
                "seconds", write: { String(format: "%.9f", $0.sample.time.seconds) },
                read: { row, field in
                    guard let s = Double(field) else { return false }
                    row.sample.time.seconds = s
                    return true
                }),
            Column(
                "cpu_seconds", write: { $0.sample.time.cpuSeconds.map { String(format: "%.9f", $0) } ?? "" },
                read: { row, field in
                    if field.isEmpty {
                        row.sample.time.cpuSeconds = nil
                        return true
                    }
                    guard let s = Double(field) else { return false }
                    row.sample.time.cpuSeconds = s
                    return true
                }),
        ]

    public static let columns = RowFile.header(table)
    static let empty = SampleRow(
        point: .empty, sample: RepetitionSample(repetition: 0, cycle: 0, time: CallTime(seconds: 0, cpuSeconds: nil)))

    /// The path of the samples file that goes with a results CSV.
    public static func path(forCSV csv: String) -> String { sidecarPath(forCSV: csv, suffix: ".samples.csv") }

    /// The rows of one point's samples, in repetition order.
    public static func rows(_ point: SweepPoint, _ samples: [RepetitionSample]) -> [SampleRow] {
        samples.map { SampleRow(point: point, sample: $0) }
    }

    /// Reads a samples file: point → its last measurement's repetitions, in order. A missing file is
    /// an empty result (runs made before samples were kept have none).
    /// - Throws: ``UsageError`` when the file has another schema or a line does not parse.
    public static func read(_ path: String) throws -> [SweepPoint: [RepetitionSample]] {
        guard FileManager.default.fileExists(atPath: path) else { return [:] }
        return lastMeasurements(try RowFile.read(path, columns: table, empty: empty))
    }

    /// Groups rows by point; a row whose repetition is not above the point's previous one starts the
    /// point's samples afresh (a re-measurement after a resume).
    public static func lastMeasurements(_ rows: [SampleRow]) -> [SweepPoint: [RepetitionSample]] {
        var byPoint: [SweepPoint: [RepetitionSample]] = [:]
        for row in rows {
            if let last = byPoint[row.point]?.last, row.sample.repetition > last.repetition {
                byPoint[row.point, default: []].append(row.sample)
            } else {
                byPoint[row.point] = [row.sample]
            }
        }
        return byPoint
    }
}
