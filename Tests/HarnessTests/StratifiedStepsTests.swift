import Harness
import Testing

@Suite struct StratifiedStepsTests {
    /// Every position is in exactly one stratum, each stratum's sample is inside it, distinct, and
    /// the same seed draws the same sample.
    @Test func theSampleCoversEveryStratum() {
        let strata = StratifiedSteps.positions(length: 3072, strata: 16, perStratum: 3, seed: 5)
        #expect(strata.count == 16)
        for (h, sample) in strata.enumerated() {
            let (start, end) = (h * 3072 / 16, (h + 1) * 3072 / 16)
            #expect(sample.count == 3 && Set(sample).count == 3)
            #expect(sample.allSatisfy { $0 >= start && $0 < end })
        }
        #expect(strata == StratifiedSteps.positions(length: 3072, strata: 16, perStratum: 3, seed: 5))
        #expect(strata != StratifiedSteps.positions(length: 3072, strata: 16, perStratum: 3, seed: 6))
        // More strata or samples than positions: every position once.
        #expect(
            StratifiedSteps.positions(length: 5, strata: 8, perStratum: 4, seed: 1).flatMap { $0 } == [0, 1, 2, 3, 4])
    }

    /// Steps that cost a + b·i + c·i² (no-cache decoding's shape), with ±5% noise: the estimate
    /// falls within its interval of the exact sum in at least 95 of 100 seeded trials, within 3%,
    /// from 64 of 3072 steps.
    @Test func theEstimateCoversTheExactSum() {
        func t(_ i: Int, noise: Double) -> Double { (1e-3 + 2e-6 * Double(i) + 3e-9 * Double(i * i)) * (1 + noise) }
        let n = 3072
        let exact = (0..<n).reduce(0.0) { $0 + t($1, noise: 0) }
        var covered = 0
        for seed in 0..<100 as Range<UInt64> {
            var noise = SeededNoise(seed: seed &+ 1000)
            let strata = StratifiedSteps.positions(length: n, strata: 32, perStratum: 2, seed: seed)
            let sizes = (0..<32).map { h in (h + 1) * n / 32 - h * n / 32 }
            let estimate = StratifiedSteps.estimate(
                sizes: sizes, seconds: strata.map { $0.map { t($0, noise: noise.next()) } })
            #expect(abs(estimate.total - exact) / exact < 0.03, "seed \(seed): \(estimate.total) against \(exact)")
            #expect(estimate.samples == 64)
            if estimate.low <= exact && exact <= estimate.high { covered += 1 }
        }
        #expect(covered >= 95, "\(covered) of 100 intervals hold the exact sum")
    }

    /// One sample per stratum leaves no variance to estimate: the interval says so by being unbounded.
    @Test func oneSamplePerStratumHasNoInterval() {
        let estimate = StratifiedSteps.estimate(sizes: [10, 10], seconds: [[1], [2]])
        #expect(estimate.total == 30)
        #expect(estimate.high == .infinity)
    }
}

/// Uniform noise in [−5%, +5%], seeded.
private struct SeededNoise {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> Double {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return (Double(state >> 11) / Double(1 << 53) - 0.5) * 0.1
    }
}
