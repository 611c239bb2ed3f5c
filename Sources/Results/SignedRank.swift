import Foundation

/// The two-sided Wilcoxon signed-rank test of paired differences: is their distribution centred
/// on zero, against one shifted either way? It suits paired timings (each pair measured side by
/// side, so slow drift of the machine cancels within a pair) and assumes only that the differences
/// are symmetric about their centre.
///
/// Zero differences are dropped (Wilcoxon's convention, SciPy's `zero_method="wilcox"`); the n that
/// remain are ranked by |dᵢ|, tied magnitudes taking the mean of their ranks, and W⁺ is the sum of
/// the ranks of the positive differences. Cost: O(n log n) to rank, O(n³) for the exact count.
///
/// The p-value:
/// - **exact** when no magnitudes tie and n ≤ 50 (as SciPy's `wilcoxon(d)` does by default): under
///   the null hypothesis each of the 2ⁿ sign patterns is equally likely, so P(W⁺ = w) is the number
///   of subsets of {1, …, n} summing to w over 2ⁿ, counted by the recurrence over ranks
///   c_k(w) = c_{k−1}(w) + c_{k−1}(w − k) (the coefficients of Π (1 + qᵏ)); p = min(1, 2·P(W⁺ ≤ min(W⁺, W⁻))).
///   The counts reach at most 2⁵⁰ / √n, exact in a Double.
/// - **normal approximation** otherwise, with the tie correction and no continuity correction (as
///   SciPy's `wilcoxon(d, method="approx")`): z = |W⁺ − n(n + 1)/4| / σ,
///   σ² = n(n + 1)(2n + 1)/24 − Σ(t³ − t)/48; p = erfc(z/√2), capped at 1.
///
/// The smallest two-sided p-value of n pairs is 2/2ⁿ: 5 pairs cannot go below 0.0625, 6 pairs reach
/// 0.031, 8 pairs 0.0078.
public struct SignedRank: Equatable, Sendable {
    public enum Method: String, Sendable { case exact, normal }

    /// The sum of the ranks of the positive differences.
    public let wPlus: Double
    /// Two-sided p-value.
    public let pValue: Double
    public let method: Method
    /// Non-zero differences ranked.
    public let count: Int

    /// The test of `differences`; nil when one is NaN or infinite, or when none is non-zero.
    public init?(_ differences: [Double]) {
        guard differences.allSatisfy(\.isFinite) else { return nil }
        let d = differences.filter { $0 != 0 }.sorted { abs($0) < abs($1) }
        guard !d.isEmpty else { return nil }
        let n = d.count
        var wPlus = 0.0
        var tieTerm = 0.0
        var i = 0
        while i < n {
            var j = i
            while j + 1 < n && abs(d[j + 1]) == abs(d[i]) { j += 1 }
            let t = Double(j - i + 1)
            let midRank = Double(i + j + 2) / 2  // ranks i + 1 … j + 1
            wPlus += midRank * Double(d[i...j].filter { $0 > 0 }.count)
            tieTerm += t * t * t - t
            i = j + 1
        }
        self.wPlus = wPlus
        self.count = n
        let total = Double(n * (n + 1)) / 2
        if tieTerm == 0 && n <= 50 {
            method = .exact
            pValue = Self.exactP(n: n, w: Int(min(wPlus, total - wPlus)))
        } else {
            method = .normal
            let variance = Double(n * (n + 1) * (2 * n + 1)) / 24 - tieTerm / 48
            guard variance > 0 else {
                pValue = 1
                return
            }
            let z = abs(wPlus - total / 2) / variance.squareRoot()
            pValue = min(1, erfc(z / 2.0.squareRoot()))
        }
    }

    /// 2·P(W⁺ ≤ w) for n untied ranks, capped at 1.
    static func exactP(n: Int, w: Int) -> Double {
        let total = n * (n + 1) / 2
        var counts = [Double](repeating: 0, count: total + 1)
        counts[0] = 1
        var reach = 0
        for k in 1...n {
            reach += k
            for s in stride(from: reach, through: k, by: -1) { counts[s] += counts[s - k] }
        }
        let below = counts[0...w].reduce(0, +)
        return min(1, 2 * below / pow(2, Double(n)))
    }
}
