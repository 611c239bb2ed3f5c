import Analysis
import AttentionTypes
import Foundation
import Results
import Testing

@Suite struct InterleavedComparisonTests {
    static func point(_ mechanism: Mechanism, _ n: Int) -> SweepPoint {
        SweepPoint(mechanism: mechanism, length: n, batch: 1, heads: 4, headDim: 64, threads: 1)
    }

    /// Rounds of base and head for `points`: base takes `seconds(point, round)`, head that times
    /// `factor(point, round)`; five repetitions each, spread ±1% around the round's value.
    static func measurements(
        _ points: [SweepPoint], rounds: Int,
        seconds: (SweepPoint, Int) -> Double = { p, r in
            Double(p.length) * 1e-6 * (1 + 0.03 * sin(Double(r)))
        }, factor: (SweepPoint, Int) -> Double, heap: Int = 4096
    ) -> [InterleavedMeasurement] {
        var out: [InterleavedMeasurement] = []
        for round in 1...rounds {
            for p in points {
                let base = seconds(p, round)
                for (side, value) in [(ComparedSide.base, base), (.head, base * factor(p, round))] {
                    let reps = [0.99, 1.0, 1.01, 0.995, 1.005].map { $0 * value }
                    out.append(.init(point: p, side: side, round: round, seconds: reps, peakHeapBytes: heap))
                }
            }
        }
        return out
    }

    static let grid = [Mechanism.standard, .linear].flatMap { m in [512, 1024, 2048].map { point(m, $0) } }

    /// A kernel 25% slower in every round: each of its points and its series are slower (p = 2/2⁸
    /// over 8 rounds), and the other mechanism's are not.
    @Test func aSlowerKernelIsSlowerAtEveryPointAndItsSeries() throws {
        let m = Self.measurements(Self.grid, rounds: 8) { p, r in
            p.mechanism == .linear ? 1.25 * (1 + 0.01 * cos(Double(r))) : 1 + 0.01 * cos(Double(r))
        }
        let c = InterleavedComparison(m, order: Self.grid, alpha: 0.05, pointEffect: 0.20, seriesEffect: 0.10)
        #expect(c.points.map(\.key) == Self.grid)
        for f in c.points {
            #expect(f.verdict == (f.key.mechanism == .linear ? .slower : .same), "\(f.label)")
            #expect(f.rounds == 8)
        }
        #expect(c.series.count == 2)
        let linear = try #require(c.series.first { $0.key.mechanism == .linear })
        #expect(linear.verdict == .slower)
        #expect(abs(linear.ratio - 1.25) < 0.02)
        #expect(abs(try #require(linear.test).pValue - 2.0 / 256) < 1e-12)
        #expect(c.slower.count == 4)
        #expect(c.text(base: "a", head: "b").contains("6 points: 3 slower, 0 faster, 3 no difference"))
        // A uniform slowdown keeps the scaling: the exponent's change is the noise's, no verdict.
        #expect(c.steeper.isEmpty)
        #expect(c.exponents.allSatisfy { abs($0.change) < 0.02 && $0.verdict == .same })
    }

    /// Linear attention turning towards quadratic: head/base grows as (n/512)^0.5, so head's exponent
    /// is base's + 0.5 in every round (base's is 1: its times are ∝ n). Its exponent is steeper by
    /// 0.5 with p = 2/2⁸; standard's is unchanged; shrinking instead is flatter.
    @Test func aSteeperCurveIsCaughtByItsExponent() throws {
        let m = Self.measurements(Self.grid, rounds: 8) { p, r in
            let noise = 1 + 0.02 * sin(Double(r * 5 + p.length))
            return p.mechanism == .linear ? (Double(p.length) / 512).squareRoot() * noise : noise
        }
        let c = InterleavedComparison(
            m, order: Self.grid, alpha: 0.05, pointEffect: 0.20, seriesEffect: 0.10, exponentEffect: 0.15)
        #expect(c.exponents.map(\.key) == [Mechanism.standard, .linear].map { Self.point($0, 512).series })
        let linear = try #require(c.steeper.first)
        #expect(c.steeper.count == 1 && linear.key.mechanism == .linear)
        #expect(abs(linear.change - 0.5) < 0.03 && linear.rounds == 8)
        #expect(abs(try #require(linear.test).pValue - 2.0 / 256) < 1e-12)
        #expect(abs(try #require(linear.baseExponent) - 1) < 0.05)
        #expect(abs(try #require(linear.headExponent) - 1.5) < 0.05)
        #expect(c.exponents.first { $0.key.mechanism == .standard }?.verdict == .same)
        let text = c.text(base: "a", head: "b")
        #expect(text.contains("2 exponents: 1 steeper, 0 flatter, 1 no difference"))
        #expect(text.contains("base exponent  head exponent  head − base"))
        let inverse = Self.measurements(Self.grid, rounds: 8) { p, _ in (512 / Double(p.length)).squareRoot() }
        let flatter = InterleavedComparison(inverse, alpha: 0.05, pointEffect: 0.2, seriesEffect: 0.1)
        #expect(flatter.exponents.allSatisfy { $0.verdict == .flatter } && flatter.steeper.isEmpty)
    }

    /// Noise alone: head/base scattered ±8% round to round with no direction gives no verdict, and
    /// one round disturbed by 60% moves the median ratio by one rank, not by 60%.
    @Test func scatterAndOneDisturbedRoundGiveNoVerdict() {
        let m = Self.measurements(Self.grid, rounds: 8) { p, r in
            if r == 3 && p.length == 2048 { return 1.6 }
            return 1 + 0.08 * sin(Double(r * 7 + p.length))
        }
        let c = InterleavedComparison(m, order: Self.grid, alpha: 0.05, pointEffect: 0.20, seriesEffect: 0.10)
        #expect(c.slower.isEmpty && c.steeper.isEmpty)
        #expect((c.points + c.series).allSatisfy { $0.verdict == .same })
        #expect(c.exponents.count == 2 && c.exponents.allSatisfy { $0.verdict == .same })
        for f in c.points where f.key.length == 2048 { #expect(f.ratio < 1.1 && abs(f.highest - 1.6) < 1e-9) }
    }

    /// A consistent change below the minimum effect is significant but not a verdict: 3% slower in
    /// every round is "no difference" at a 5% minimum effect, and "slower" at 2%.
    @Test func aSmallConsistentChangeNeedsTheMinimumEffect() {
        let m = Self.measurements(Self.grid, rounds: 8) { _, r in 1.03 + 0.001 * Double(r) }
        let strict = InterleavedComparison(m, alpha: 0.05, pointEffect: 0.05, seriesEffect: 0.05)
        #expect(strict.slower.isEmpty)
        let loose = InterleavedComparison(m, alpha: 0.05, pointEffect: 0.02, seriesEffect: 0.02)
        #expect(loose.slower.count == 8)
    }

    /// A faster head is "faster" beyond 1 ÷ (1 + effect); a heap change is reported in bytes.
    @Test func fasterAndHeapChange() throws {
        var m = Self.measurements([Self.grid[0]], rounds: 6) { _, _ in 0.7 }
        for i in m.indices where m[i].side == .head { m[i].peakHeapBytes = 4096 + 512 }
        let c = InterleavedComparison(m, alpha: 0.05, pointEffect: 0.20, seriesEffect: 0.10)
        let f = try #require(c.points.first)
        #expect(f.verdict == .faster)
        #expect(f.heapChange == 512)
        #expect(c.series.isEmpty && c.exponents.isEmpty)  // one point is no series
    }

    /// Rounds where a side is missing are not paired; a series uses only the rounds all its points share.
    @Test func unpairedRoundsAreLeftOut() throws {
        var m = Self.measurements(Array(Self.grid.prefix(3)), rounds: 7) { _, _ in 1 }
        m.removeAll { $0.round == 7 && $0.side == .head && $0.point.length == 512 }
        let c = InterleavedComparison(m, alpha: 0.05, pointEffect: 0.2, seriesEffect: 0.1)
        #expect(c.points.map(\.rounds) == [6, 7, 7])
        #expect(c.series.first?.rounds == 6)
        #expect(c.exponents.first?.rounds == 6)
    }
}
