import Foundation
import Results
import Testing

@Suite struct SignedRankTests {
    /// SciPy 1.17.1's `scipy.stats.wilcoxon(d)` (exact without ties; `method="approx"` with ties):
    /// the p-values printed by
    /// `python3 -c "import scipy.stats as st; print(st.wilcoxon(d).pvalue)"` for each d.
    static let sciPy: [(name: String, d: [Double], p: Double, method: SignedRank.Method)] = [
        ("all positive, n = 5", [0.1, 0.2, 0.3, 0.4, 0.5], 0.0625, .exact),
        ("one negative, n = 6", [0.1, -0.2, 0.3, 0.4, 0.5, 0.6], 0.09375, .exact),
        ("mixed, n = 8", [0.03, -0.01, 0.02, -0.05, 0.04, 0.06, -0.07, 0.08], 0.546875, .exact),
        ("a zero dropped", [0.0, 0.1, 0.2, -0.3, 0.4, 0.5, 0.6], 0.15625, .exact),
        ("tied magnitudes", [0.1, 0.1, -0.1, 0.2, 0.2, 0.3, 0.3, -0.3, 0.4, 0.5], 0.057852694427290845, .normal),
    ]

    @Test(arguments: sciPy.indices)
    func matchesSciPy(_ i: Int) throws {
        let c = Self.sciPy[i]
        let test = try #require(SignedRank(c.d))
        #expect(test.method == c.method, "\(c.name)")
        #expect(abs(test.pValue - c.p) <= 1e-12 * max(1, c.p), "\(c.name): \(test.pValue) against SciPy's \(c.p)")
    }

    /// The exact p-value is the share of the 2ⁿ sign patterns whose W⁺ is at least as far from its
    /// mean as the observed one: counted here by enumerating every pattern.
    @Test(arguments: [1, 2, 5, 9, 12])
    func exactEqualsEnumeration(_ n: Int) throws {
        let d = (1...n).map { i in Double(i) * (i % 3 == 0 ? -1 : 1) }
        let test = try #require(SignedRank(d))
        let total = Double(n * (n + 1)) / 2
        let observed = abs(test.wPlus - total / 2)
        var extreme = 0
        for pattern in 0..<(1 << n) {
            let w = (0..<n).filter { pattern & (1 << $0) != 0 }.map { Double($0 + 1) }.reduce(0, +)
            if abs(w - total / 2) >= observed { extreme += 1 }
        }
        #expect(test.method == .exact)
        #expect(abs(test.pValue - min(1, Double(extreme) / Double(1 << n))) < 1e-12)
    }

    /// The smallest p-value n rounds can give is 2/2ⁿ: why an interleaved comparison runs at least 6 rounds.
    @Test func smallestPValues() throws {
        #expect(try #require(SignedRank([1, 2, 3, 4])).pValue == 0.125)
        #expect(try #require(SignedRank([1, 2, 3, 4, 5])).pValue == 0.0625)
        #expect(try #require(SignedRank([1, 2, 3, 4, 5, 6, 7, 8])).pValue == 2.0 / 256)
    }

    @Test func noTestWithoutNonZeroFiniteDifferences() {
        #expect(SignedRank([]) == nil)
        #expect(SignedRank([0, 0, 0]) == nil)
        #expect(SignedRank([1, .nan, 2]) == nil)
        #expect(SignedRank([1, .infinity]) == nil)
    }
}
