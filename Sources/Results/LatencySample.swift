import Foundation

/// The latency of one decode step around one position, over a window of steps and every timed
/// repetition (collected by the harness's `TokenLatency`).
public struct LatencySample: Equatable, Sendable {
    /// First token of the window (1-based).
    public var position: Int
    /// Median and minimum of the step times in the window, over all repetitions (seconds).
    public var median: Double
    public var min: Double
    /// Step times that went into it.
    public var count: Int

    public init(position: Int, median: Double, min: Double, count: Int) {
        (self.position, self.median, self.min, self.count) = (position, median, min, count)
    }
}

/// The per-token latency samples of a run's decode points: `<name>.tokens.csv` beside `<name>.csv`,
/// one row per (point, position), the point's key columns first.
///
/// Columns: the key columns of ``SweepPoint``, then `position` (1-based token), `latency_median_us`
/// and `latency_min_us` (one step, all sequences of the batch), `steps` (step times in the sample).
/// A resumed run appends, and ``read(_:)`` keeps the last row for a (point, position), so a point
/// re-measured after an interruption is not counted twice.
public struct TokenLatencyRow: Equatable, Sendable {
    public var point: SweepPoint
    public var sample: LatencySample

    public init(point: SweepPoint, sample: LatencySample) {
        (self.point, self.sample) = (point, sample)
    }

    public static let table: [Column<TokenLatencyRow>] =
        SweepPoint.columns.map { $0.lifted(\.point) } + [
            .int("position", \.sample.position),
            Column(
                "latency_median_us", write: { String(format: "%.4f", $0.sample.median * 1e6) },
                read: { row, field in
                    guard let us = Double(field) else { return false }
                    row.sample.median = us * 1e-6
                    return true
                }),
            Column(
                "latency_min_us", write: { String(format: "%.4f", $0.sample.min * 1e6) },
                read: { row, field in
                    guard let us = Double(field) else { return false }
                    row.sample.min = us * 1e-6
                    return true
                }),
            .int("steps", \.sample.count),
        ]

    public static let columns = RowFile.header(table)
    public static let empty = TokenLatencyRow(
        point: .empty, sample: LatencySample(position: 0, median: 0, min: 0, count: 0))

    /// The path of the samples file that goes with a results CSV.
    public static func path(forCSV csv: String) -> String { sidecarPath(forCSV: csv, suffix: ".tokens.csv") }

    /// Reads a samples file: point → samples by increasing position. A missing file is an empty
    /// result (a run without decode points has none).
    public static func read(_ path: String) throws -> [SweepPoint: [LatencySample]] {
        guard FileManager.default.fileExists(atPath: path) else { return [:] }
        let rows = try RowFile.read(path, columns: table, empty: empty)
        var byPoint: [SweepPoint: [Int: LatencySample]] = [:]
        for row in rows { byPoint[row.point, default: [:]][row.sample.position] = row.sample }
        return byPoint.mapValues { $0.values.sorted { $0.position < $1.position } }
    }
}
