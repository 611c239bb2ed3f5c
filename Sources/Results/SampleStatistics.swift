import Foundation

/// Summary statistics of repeated timings, with a distribution-free confidence interval of the median.
///
/// The 95% interval of the median is the pair of order statistics `[x₍ⱼ₎, x₍ₘ₋ⱼ₊₁₎]` with the largest j
/// such that P(Bin(m, ½) < j) ≤ 2.5%: the true median lies below x₍ⱼ₎ only if fewer than j samples
/// fall below it. No normality is assumed, which suits timings (skewed, with outliers from a shared
/// machine). With m < 6 samples no such j exists; the interval is then [min, max] and
/// ``ciIsExact`` is false.
public struct SampleStatistics: Equatable, Sendable {
    public let count: Int
    public let min: Double
    public let max: Double
    public let median: Double
    public let mean: Double
    /// Sample standard deviation (m − 1 in the denominator; 0 for one sample).
    public let stddev: Double
    public let ciLow: Double
    public let ciHigh: Double
    /// Whether the interval has at least 95% coverage (false when there were fewer than 6 samples).
    public let ciIsExact: Bool

    public init?(_ samples: [Double]) {
        guard !samples.isEmpty else { return nil }
        let sorted = samples.sorted()
        let m = sorted.count
        count = m
        min = sorted[0]
        max = sorted[m - 1]
        median = m % 2 == 1 ? sorted[m / 2] : (sorted[m / 2 - 1] + sorted[m / 2]) / 2
        let mean = sorted.reduce(0, +) / Double(m)
        self.mean = mean
        stddev = m > 1 ? (sorted.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(m - 1)).squareRoot() : 0
        if let j = Self.medianRank(count: m) {
            ciLow = sorted[j - 1]
            ciHigh = sorted[m - j]
            ciIsExact = true
        } else {
            ciLow = min
            ciHigh = max
            ciIsExact = false
        }
    }

    /// The fewest samples whose median has a 95% interval: 6, the smallest m with 2⁻ᵐ ≤ 2.5%.
    public static let minimumCountFor95 = 6

    /// Width of the median's interval relative to the median: the figure a "too noisy" flag uses.
    public var relativeCIWidth: Double { median > 0 ? (ciHigh - ciLow) / median : 0 }

    /// The largest 1-based rank j with P(Bin(m, ½) ≤ j − 1) ≤ 0.025, or nil when m < 6.
    public static func medianRank(count m: Int, alpha: Double = 0.05) -> Int? {
        var cumulative = 0.0
        var j = 0
        // P(X = i) = C(m, i) / 2^m, in logs so large m does not underflow.
        while j < m {
            let logP = lgamma(Double(m + 1)) - lgamma(Double(j + 1)) - lgamma(Double(m - j + 1)) - Double(m) * log(2.0)
            if cumulative + exp(logP) > alpha / 2 { break }
            cumulative += exp(logP)
            j += 1
        }
        return j >= 1 ? j : nil
    }
}
