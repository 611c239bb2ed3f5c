import Foundation

/// The two-sided Mann–Whitney U test (Wilcoxon rank-sum) of two independent samples: do they come
/// from the same distribution, against one shifted either way? It assumes nothing about the shape
/// of the distributions, which suits timings (skewed, with a long slow tail).
///
/// U of the first sample `x` (m values) against `y` (n values) is the number of pairs (xᵢ, yⱼ) with
/// xᵢ > yⱼ, a tie counting ½: U = R − m(m + 1)/2 with R the sum of x's ranks in the pooled sample,
/// tied values taking the mean of their ranks (mid-ranks). Cost: O((m + n) log(m + n)) to rank.
///
/// The p-value is computed as SciPy's `mannwhitneyu(x, y, alternative="two-sided")` does by default
/// (`method="auto"`), which is what Google Benchmark's `compare.py` prints:
/// - **exact** when there are no ties and one sample has at most 8 values: p = 2·P(U ≤ min(U, mn − U))
///   under the null hypothesis, capped at 1. Every ordering of the pooled sample is equally likely, so
///   P(U = u) is the number of orderings with U = u over C(m + n, m); those numbers are the
///   coefficients of the Gaussian binomial [m + n choose s]_q (s = min(m, n), L = max(m, n)), built
///   as Π_{i=1…s} (1 − q^{L+i}) / (1 − q^i), one factor at a time, truncated at degree min(U, mn − U):
///   every partial product is itself a Gaussian binomial, so its coefficients are non-negative
///   integers, exact in a Double up to 2⁵³. Cost O(s · mn).
/// - **normal approximation** otherwise, with the tie correction and the continuity correction:
///   z = (max(U, mn − U) − mn/2 − ½) / σ, σ² = mn/12 · ((N + 1) − Σ(t³ − t)/(N(N − 1))), N = m + n,
///   t the size of each group of tied values; p = 2·(1 − Φ(z)) = erfc(z/√2), capped at 1 (1 when
///   every value is tied, σ = 0).
public struct MannWhitneyU: Equatable, Sendable {
    public enum Method: String, Sendable { case exact, normal }

    /// U of the first sample.
    public let u: Double
    /// Two-sided p-value.
    public let pValue: Double
    public let method: Method
    /// The sample sizes m (first) and n (second).
    public let counts: [Int]

    /// The test of `x` against `y`; nil when either is empty or holds a NaN.
    public init?(_ x: [Double], _ y: [Double]) {
        guard !x.isEmpty, !y.isEmpty, !x.contains(where: \.isNaN), !y.contains(where: \.isNaN) else { return nil }
        let (m, n) = (x.count, y.count)
        let pooled = (x.map { ($0, true) } + y.map { ($0, false) }).sorted { $0.0 < $1.0 }
        var rankSum = 0.0
        var tieTerm = 0.0
        var i = 0
        while i < pooled.count {
            var j = i
            while j + 1 < pooled.count && pooled[j + 1].0 == pooled[i].0 { j += 1 }
            let t = Double(j - i + 1)
            let midRank = Double(i + j + 2) / 2  // ranks i + 1 … j + 1
            rankSum += midRank * Double(pooled[i...j].filter(\.1).count)
            tieTerm += t * t * t - t
            i = j + 1
        }
        let mn = Double(m) * Double(n)
        u = rankSum - Double(m) * Double(m + 1) / 2
        counts = [m, n]
        if tieTerm == 0 && min(m, n) <= 8 {
            method = .exact
            pValue = min(1, 2 * Self.exactCDF(Int(min(u, mn - u).rounded()), m: m, n: n))
        } else {
            method = .normal
            let total = Double(m + n)
            let sigma = (mn / 12 * ((total + 1) - tieTerm / (total * (total - 1)))).squareRoot()
            let z = (max(u, mn - u) - mn / 2 - 0.5) / sigma
            pValue = sigma > 0 ? min(1, erfc(z / 2.0.squareRoot())) : 1
        }
    }

    /// P(U ≤ k) under the null hypothesis for samples of m and n values without ties.
    public static func exactCDF(_ k: Int, m: Int, n: Int) -> Double {
        guard k >= 0 else { return 0 }
        let (s, l) = (min(m, n), max(m, n))
        let degree = min(k, s * l)
        // Coefficients 0…degree of the Gaussian binomial [l + i choose i]_q, for i = 0, 1, …, s.
        var ways = [Double](repeating: 0, count: degree + 1)
        ways[0] = 1
        var total = 1.0  // C(l + i, i)
        for i in 1...s {
            let shift = l + i
            if shift <= degree {  // × (1 − q^(l+i)), from the top so each term reads the old value
                for u in stride(from: degree, through: shift, by: -1) { ways[u] -= ways[u - shift] }
            }
            if i <= degree {  // ÷ (1 − q^i) = × (1 + q^i + q^2i + …)
                for u in i...degree { ways[u] += ways[u - i] }
            }
            total = total * Double(l + i) / Double(i)
        }
        return min(1, ways.reduce(0, +) / total)
    }
}
