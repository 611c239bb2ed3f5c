import Foundation
import Results
import Testing

/// The quantiles (i + ½)/n of a timing-like distribution, 1 ms × (1 + 0.05·Exp(1)), times `shift`:
/// the same formula, term for term, as `base` in Tests/mannwhitney_reference.py.
func timingQuantiles(_ n: Int, shift: Double = 1) -> [Double] {
    (0..<n).map { i -> Double in
        let exponential: Double = -log(1 - (Double(i) + 0.5) / Double(n))
        return 1e-3 * (1 + 0.05 * exponential) * shift
    }
}

/// One case of Tests/mannwhitney_reference.py: the samples, and SciPy's U, p-value and method.
struct SciPyCase: Sendable, CustomStringConvertible {
    let name: String
    let x: [Double], y: [Double]
    let u: Double, p: Double
    let method: MannWhitneyU.Method
    var description: String { name }
}

/// Every other one of 2n quantiles, from `start`.
func interleaved(_ n: Int, from start: Int) -> [Double] {
    let all = timingQuantiles(2 * n)
    return stride(from: start, to: 2 * n, by: 2).map { all[$0] }
}

@Suite struct MannWhitneyTests {
    /// The values SciPy 1.17.1 gives for `mannwhitneyu(x, y, alternative="two-sided")` (default
    /// `method="auto"`, as Google Benchmark's compare.py calls it), printed by
    /// `python3 Tests/mannwhitney_reference.py`.
    static let sciPy: [SciPyCase] = [
        // Identical samples: every value tied across the two, U = mn/2, p = 1 (normal, tie-corrected).
        SciPyCase(name: "identical", x: timingQuantiles(12), y: timingQuantiles(12), u: 72, p: 1.0, method: .normal),
        // One distribution, interleaved quantiles: no difference.
        SciPyCase(
            name: "interleaved", x: interleaved(10, from: 0), y: interleaved(10, from: 1), u: 45, p: 0.7337299956962472,
            method: .normal),
        // Shifted 10%, 5 against 5: exact; U = 1, so p = 2·P(U ≤ 1) = 2·2/C(10, 5) = 4/252.
        SciPyCase(
            name: "shift10-small", x: timingQuantiles(5), y: timingQuantiles(5, shift: 1.1), u: 1,
            p: 0.015873015873015872, method: .exact),
        SciPyCase(
            name: "shift10-medium", x: timingQuantiles(9), y: timingQuantiles(12, shift: 1.1), u: 7,
            p: 0.0009510827072544147, method: .normal),
        // Shifted 1% with 4000 samples a side: a difference far below what a few runs could show.
        SciPyCase(
            name: "shift1-huge", x: timingQuantiles(4000), y: timingQuantiles(4000, shift: 1.01), u: 6_517_251,
            p: 9.805411383775404e-47, method: .normal),
        // Exact with a small and a large sample (the Gaussian-binomial path past C(m + n, m) > 2⁵³).
        SciPyCase(
            name: "exact-unequal", x: timingQuantiles(7), y: timingQuantiles(200, shift: 1.05), u: 244,
            p: 0.0020744342515578392, method: .exact),
        // Ties: the normal approximation with the tie correction, also for small samples.
        SciPyCase(
            name: "ties", x: [3, 1, 4, 1, 5, 9, 2, 6, 5, 3], y: [2, 7, 1, 8, 2, 8, 1, 8, 2, 8, 4, 5], u: 53,
            p: 0.6649994984437295, method: .normal),
        SciPyCase(
            name: "ties-small", x: [1, 2, 2, 3], y: [2, 3, 4, 5, 5], u: 2.5, p: 0.07854585095119067, method: .normal),
    ]

    /// Agreement to 1e-9 relative: the formulas are the same, the arithmetic is not (SciPy sums in
    /// another order and uses its own normal tail).
    @Test(arguments: sciPy)
    func agreesWithSciPy(_ c: SciPyCase) throws {
        let test = try #require(MannWhitneyU(c.x, c.y))
        #expect(test.u == c.u)
        #expect(test.method == c.method)
        #expect(abs(test.pValue - c.p) <= 1e-9 * c.p, "p = \(test.pValue), SciPy \(c.p)")
    }

    /// Hand-computed exact values: with 3 against 3 there are C(6, 3) = 20 orderings, 1 of them with
    /// U = 0 and 1 with U = 1, so separated samples give p = 2/20 and one swap 2·2/20.
    @Test func exactSmallValuesByHand() throws {
        #expect(try #require(MannWhitneyU([1, 2, 3], [4, 5, 6])).pValue == 0.1)
        let swapped = try #require(MannWhitneyU([1, 2, 4], [3, 5, 6]))
        #expect(swapped.u == 1 && abs(swapped.pValue - 0.2) < 1e-15)
        // The test is symmetric: swapping the samples changes U to mn − U, not p.
        let reversed = try #require(MannWhitneyU([3, 5, 6], [1, 2, 4]))
        #expect(reversed.u == 8 && reversed.pValue == swapped.pValue)
        // One value each: U is 0 or 1, both equally likely: p = 1.
        #expect(try #require(MannWhitneyU([1], [2])).pValue == 1)
    }

    /// The exact distribution sums to 1 and is symmetric, for sizes on both sides of the 2⁵³ limit.
    @Test(arguments: [(1, 1), (3, 5), (8, 8), (8, 40), (2, 500)])
    func exactDistributionIsADistribution(_ m: Int, _ n: Int) {
        let all = MannWhitneyU.exactCDF(m * n, m: m, n: n)
        #expect(abs(all - 1) < 1e-12)
        for k in 0..<(m * n) {
            let below = MannWhitneyU.exactCDF(k, m: m, n: n)
            let above = 1 - MannWhitneyU.exactCDF(m * n - k - 1, m: m, n: n)
            #expect(abs(below - above) < 1e-12, "P(U ≤ \(k)) = \(below), P(U ≥ \(m * n - k)) = \(above)")
        }
    }

    @Test func emptyOrNaNSamplesHaveNoTest() {
        #expect(MannWhitneyU([], [1]) == nil)
        #expect(MannWhitneyU([1, .nan], [2]) == nil)
    }
}
