import Foundation

/// Whether a samples file (`<name>.samples.csv`) belongs to its results CSV, judged by what both
/// record: a measured row's `reps` and `time_median_ms` are the count and the median of one of its
/// point's cycles (the fastest), so some cycle in the samples must have exactly `reps` repetitions
/// whose median is the row's. A samples file copied from another run, or edited, fails this.
public enum SampleAgreement {
    /// Rounding allowed between the two files: the CSV keeps milliseconds to 6 decimals and the
    /// samples seconds to 9, each off by at most 0.5 ns, and a median of two samples averages them.
    public static let toleranceSeconds = 1.5e-9

    /// The first row of `rows` whose samples disagree with it, described in words; nil when every
    /// row with samples agrees. Rows without samples (skipped, estimated, older runs) are not judged.
    public static func firstMismatch(_ rows: [ResultRow], _ samples: [SweepPoint: [RepetitionSample]]) -> String? {
        for row in rows where row.isOK {
            guard let points = samples[row.point], !points.isEmpty else { continue }
            guard let reps = row.reps, let median = row.median else {
                return "\(row.point.label) has samples but no reps or median"
            }
            let cycles = Dictionary(grouping: points, by: \.cycle).values.map { $0.map(\.time.seconds) }
            let agrees = cycles.contains { times in
                times.count == reps && abs(Self.median(times) - median) <= toleranceSeconds + 1e-12 * abs(median)
            }
            if !agrees {
                let seen = cycles.map { "\($0.count) with median \(Self.milliseconds(Self.median($0))) ms" }
                return
                    "\(row.point.label) has \(reps) reps with median \(Self.milliseconds(median)) ms, but its samples have cycles of \(seen.joined(separator: "; "))"
            }
        }
        return nil
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        let m = sorted.count
        return m % 2 == 1 ? sorted[m / 2] : (sorted[m / 2 - 1] + sorted[m / 2]) / 2
    }

    static func milliseconds(_ seconds: Double) -> String {
        String(format: "%.6f", seconds * 1e3)
    }
}
