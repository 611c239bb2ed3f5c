import Foundation
import Results
import Testing

@Suite struct EstimateCommandTests {
    /// With --estimate-steps, a no-cache layer generation over max-time is estimated (a row that says
    /// so, its interval around its median), and one measured in full is estimated beside it.
    @Test func overTheTimeLimitIsEstimatedAndTheEstimatorIsChecked() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "attnbench-estimate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = dir.appendingPathComponent("gen.csv").path
        // n = 16 runs in full; n = 2048's lower bound (its FLOPs at the sgemm ceiling, about 0.01 s) is
        // over the 1 ms limit, so it is estimated from 8 steps.
        let result = try attnbench([
            "run", "--allow-debug", "--quiet", "--mechanism", "standard", "--mode", "decode", "--decoder", "recompute",
            "--scope", "layer", "--layers", "1", "--n", "16,2048", "--heads", "1", "--head-dim", "4", "--ffn-mult", "1",
            "--batch", "1", "--threads", "1", "--warmups", "0", "--min-reps", "1", "--min-time", "0", "--max-time",
            "0.001",
            "--estimate-steps", "8", "--output", csv,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let rows = try ResultTable(path: csv).rows
        let full = try #require(rows.first { $0.point.length == 16 })
        let estimated = try #require(rows.first { $0.point.length == 2048 })
        #expect(full.isOK && !full.isEstimate)
        #expect(estimated.isEstimate, "\(estimated.status) \(estimated.reason)")
        #expect(estimated.reason == "estimated from 8 of 2048 steps (stratified sample)")
        #expect(estimated.reps == 8)
        let (low, median, high) = (
            try #require(estimated.ciLow), try #require(estimated.median), try #require(estimated.ciHigh)
        )
        #expect(low <= median && median <= high && median > 0)
        let checks = try EstimateCheckRow.read(EstimateCheckRow.path(forCSV: csv))
        #expect(checks.count == 1)
        #expect(checks.first?.length == 16 && checks.first?.stepsSampled == 8)
        // The CSV keeps milliseconds to 6 decimals; the estimates file the seconds as measured.
        #expect(abs((checks.first?.fullMedian ?? 0) - (full.median ?? 1)) < 1e-8)
    }
}
