import Analysis
import Profiling
import Reporting
import Results
import Testing

@Suite struct StatisticsTests {
    @Test func summaryOfKnownSamples() throws {
        let s = try #require(SampleStatistics([5, 1, 4, 2, 3]))
        #expect(s.median == 3 && s.min == 1 && s.max == 5 && s.mean == 3)
        #expect(abs(s.stddev - 2.5.squareRoot()) < 1e-12)
        #expect(SampleStatistics([4, 1, 3, 2])?.median == 2.5)
        #expect(SampleStatistics([]) == nil)
        #expect(SampleStatistics([7])?.stddev == 0)
    }

    /// Ranks from the binomial distribution: m = 6 → (1, 6), m = 10 → (2, 9), m = 20 → (6, 15),
    /// m = 100 → (40, 61), the standard table of distribution-free median intervals.
    @Test(arguments: [(5, nil), (6, 1), (10, 2), (20, 6), (100, 40)] as [(Int, Int?)])
    func medianIntervalRanks(_ m: Int, _ j: Int?) {
        #expect(SampleStatistics.medianRank(count: m) == j)
    }

    @Test func intervalUsesThoseOrderStatistics() throws {
        let s = try #require(SampleStatistics((1...10).map(Double.init).reversed()))
        #expect(s.ciLow == 2 && s.ciHigh == 9 && s.ciIsExact)
        #expect(abs(s.relativeCIWidth - 7 / 5.5) < 1e-12)
        let few = try #require(SampleStatistics([1, 2, 3]))
        #expect(few.ciLow == 1 && few.ciHigh == 3 && !few.ciIsExact)
    }

    @Test func policyMeetsMinimumsAndStopsAtTheMaximum() {
        var calls = 0
        let samples = TimingPolicy(warmups: 2, minReps: 4, minSeconds: 0, maxSeconds: 10).measure { calls += 1 }
        #expect(samples.count == 4 && calls == 6)
        let slow = TimingPolicy(warmups: 1, minReps: 1000, minSeconds: 100, maxSeconds: 0.05).measure {
            let start = Stopwatch.now()
            while Stopwatch.now() - start < 10_000_000 {}  // 10 ms
        }
        #expect(slow.count >= 1 && slow.count <= 6)
        #expect(slow.allSatisfy { $0 >= 0.01 })
    }
}
