import Analysis
import AttentionKernels
import Foundation
import Harness
import Reporting
import Results
import Testing

/// Decode rows as the ci preset has them: softmax generation ∝ N², linear ∝ N, at N = 512…2048;
/// `linearScale` and `linearExponent` change the linear decoder's times.
func decodeTable(linearScale: Double = 1, linearExponent: Double = 1) -> ResultTable {
    var rows: [ResultRow] = []
    for n in [512, 1024, 2048] {
        let x = Double(n) / 512
        for (mechanism, seconds) in [
            (Mechanism.standard, 0.007 * x * x), (.linear, 0.0024 * pow(x, linearExponent) * linearScale),
        ] {
            let point = SweepPoint(
                mechanism: mechanism, mode: .decode, causal: true, length: n, prompt: 1,
                batch: 1, heads: 4, headDim: 64, threads: 1)
            var r = ResultRow(point: point, status: .ok, seed: 42)
            (r.median, r.min, r.mean, r.stddev) = (seconds, seconds, seconds, 0)
            (r.ciLow, r.ciHigh) = (seconds * 0.99, seconds * 1.01)
            r.reps = 10
            r.gflops = point.cost.flops / seconds / 1e9
            r.ceilingGflops = 100
            r.efficiency = r.gflops! / 100
            (r.modelBytes, r.peakHeapBytes) = (point.cost.callPeakBytes, point.cost.callPeakBytes)
            rows.append(r)
        }
    }
    return ResultTable(rows: rows, path: "decode.csv")
}

@Suite struct DecodeRegressionTests {
    let check = RegressionCheck(thresholds: Thresholds())

    func failures(_ current: ResultTable) throws -> [RegressionCheck.Finding] {
        try check.compare(baseline: decodeTable(), current: current).filter(\.fails)
    }

    @Test func unchangedDecodersPass() throws {
        #expect(try failures(decodeTable()).isEmpty)
    }

    /// A 25% slower RNN-state decoder fails its efficiency and speed-up series.
    @Test func aQuarterSlowerDecoderIsCaught() throws {
        let failed = try failures(decodeTable(linearScale: 1.25))
        #expect(failed.contains { $0.metric == "efficiency (series)" && $0.point.hasPrefix("linear decode") })
        #expect(failed.contains { $0.metric == "speed-up (series)" && $0.point.hasPrefix("linear decode") })
        #expect(!failed.contains { $0.point.hasPrefix("standard") })
    }

    /// A decoder whose step grows with position (the RNN state lost: O(N²) per sequence) fails the exponent rule.
    @Test func aDecoderThatStopsBeingConstantPerTokenIsCaught() throws {
        let failed = try failures(decodeTable(linearExponent: 2))
        #expect(failed.contains { $0.metric == "exponent of time in n" && $0.point.hasPrefix("linear decode") })
    }
}
