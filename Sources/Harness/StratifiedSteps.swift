import AttentionKernels
import Foundation

/// The time of a whole generation estimated from a sample of its steps.
///
/// Decoding without a cache costs Σ_{i<N} t(i), where step i re-runs the model over a prefix of
/// i + 1 tokens: t grows with i (quadratically in the attention, linearly in the rest), and each
/// step depends on the ones before only through the prefix's values, not its cost. So a step can
/// be timed alone over a prefix of its length, and the sum estimated by stratified sampling: the
/// positions 0…N−1 are cut into `strata` runs of (nearly) equal length, `perStratum` positions are
/// drawn at random without replacement from each (seeded), and
///
///     T̂ = Σ_h N_h · ȳ_h,   V̂ = Σ_h N_h² · (1 − r_h / N_h) · s_h² / r_h,
///
/// with N_h a stratum's positions, r_h its sample, ȳ_h and s_h² the sample's mean and variance. The
/// 95% interval is T̂ ± t·√V̂ with Student's t at Σ_h (r_h − 1) degrees of freedom. Within a stratum
/// the spread comes mostly from the trend of t(i), which the variance counts as noise: the interval
/// is conservative. Cost: Σ_h r_h steps instead of N.
public enum StratifiedSteps {
    /// The sampled positions, stratum by stratum (ascending within each).
    /// - Precondition: `length`, `strata`, `perStratum` ≥ 1.
    public static func positions(length n: Int, strata: Int, perStratum r: Int, seed: UInt64) -> [[Int]] {
        precondition(n >= 1 && strata >= 1 && r >= 1, "stratified steps: length, strata and sample must be ≥ 1")
        let h = min(strata, n)
        var generator = SplitMix64(seed: seed)
        return (0..<h).map { s in
            let (start, end) = (s * n / h, (s + 1) * n / h)
            var pool = Array(start..<end)
            let take = min(r, pool.count)
            for i in 0..<take {  // a partial Fisher–Yates shuffle: the first `take` are the sample
                let j = i + Int(generator.next() % UInt64(pool.count - i))
                pool.swapAt(i, j)
            }
            return pool.prefix(take).sorted()
        }
    }

    /// T̂ and its 95% interval from each stratum's size and the seconds of its sampled steps.
    public struct Estimate: Equatable, Sendable {
        public let total: Double
        public let low: Double
        public let high: Double
        /// Steps timed.
        public let samples: Int
    }

    /// The estimate for strata of `sizes` positions whose samples took `seconds`. With no stratum of
    /// two samples there is no variance to estimate, and the interval's upper end is infinite.
    public static func estimate(sizes: [Int], seconds: [[Double]]) -> Estimate {
        precondition(sizes.count == seconds.count, "stratified steps: one sample per stratum")
        var total = 0.0
        var variance = 0.0
        var freedom = 0
        for (size, sample) in zip(sizes, seconds) where !sample.isEmpty {
            let (n, r) = (Double(size), Double(sample.count))
            let mean = sample.reduce(0, +) / r
            total += n * mean
            if sample.count > 1 {
                let s2 = sample.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (r - 1)
                variance += n * n * (1 - r / n) * s2 / r
                freedom += sample.count - 1
            }
        }
        let half = freedom > 0 ? studentT975(freedom) * variance.squareRoot() : .infinity
        return Estimate(
            total: total, low: max(0, total - half), high: total + half,
            samples: seconds.reduce(0) { $0 + $1.count })
    }

    /// The 97.5% quantile of Student's t with `df` degrees of freedom (two-sided 95%): the table to 30,
    /// then the normal's 1.96 plus its first correction, 2.4/df.
    static func studentT975(_ df: Int) -> Double {
        let table = [
            12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
            2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
            2.045, 2.042,
        ]
        return df <= table.count ? table[max(df, 1) - 1] : 1.96 + 2.4 / Double(df)
    }
}
