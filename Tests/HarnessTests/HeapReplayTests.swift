import AttentionKernels
import EncoderLayer
import Foundation
import Profiling
import Results
import Testing

@testable import Harness

/// The predicted maximum batch (a replay of traced tensor allocations through jemalloc's size
/// classes) against runs, and the replay's own rules.
///
/// The tests that run points measure each in a child process of its own (an exit test), since
/// OpenBLAS's thread count is process-wide: a test beside one that sets 2 threads, or any kernel
/// at 2 threads restoring OpenBLAS's count after its slices, makes a 1-thread point's sgemm malloc a
/// 512 KiB job array on the calling thread, well past the 64 KiB the prediction is held to. A
/// child writes each failed check on stderr, which the test records with its text; a child that
/// crashes fails the exit condition.
@Suite struct HeapReplayTests {
    /// Points whose heaps differ in shape (standard's n² scores, Linformer's n·k, flash's per-worker
    /// tiles, a causal linear training step), at budgets that put large tensors between size classes.
    static let cases: [(point: SweepPoint, budget: Int)] = [
        (SweepPoint(mechanism: .standard, length: 96, batch: 1, heads: 2, headDim: 16, threads: 1), 6 << 20),
        (SweepPoint(mechanism: .standard, length: 200, batch: 1, heads: 3, headDim: 16, threads: 1), 23 << 20),
        (
            SweepPoint(
                mechanism: .linformer, sharing: .keyValue, length: 256, projectedLength: 32, batch: 1, heads: 2,
                headDim: 32, threads: 1), 9 << 20
        ),
        (SweepPoint(mechanism: .flash, length: 300, batch: 1, heads: 2, headDim: 32, threads: 2), 7 << 20),
        (
            SweepPoint(
                mechanism: .linear, pass: .train, causal: true, length: 128, batch: 1, heads: 2, headDim: 16,
                threads: 1), 5 << 20
        ),
    ]

    /// Runs `checks` in an exit test's child: it writes each failure on stderr as `FAILED: …` (an
    /// exit code alone would lose the message), then exits 0.
    static func report(_ checks: () throws -> [String]) -> Never {
        let failures: [String]
        do { failures = try checks() } catch { failures = ["threw: \(error)"] }
        for failure in failures { FileHandle.standardError.write(Data("FAILED: \(failure)\n".utf8)) }
        exit(EXIT_SUCCESS)
    }

    /// The child's stderr, for the parent's message.
    static func text(_ result: ExitTest.Result?) -> String {
        result.map { String(decoding: $0.standardErrorContent, as: UTF8.self) } ?? "no result"
    }

    /// The prediction is exact where it matters: a run at the predicted maximum fits the budget and a
    /// run at one more sample does not, and the replay predicted the measured peak to within
    /// jemalloc's small allocations (64 KiB).
    @Test(arguments: 0..<5)
    func predictedMaximumIsExact(_ index: Int) async {
        let result = await #expect(processExitsWith: .success, observing: [\.standardErrorContent]) { [index] in
            let (point, budget) = HeapReplayTests.cases[index]
            HeapReplayTests.report { try HeapReplayTests.predictedMaximumFailures(point, budget) }
        }
        #expect(!Self.text(result).contains("FAILED"), "\(Self.text(result))")
    }

    static func predictedMaximumFailures(_ point: SweepPoint, _ budget: Int) throws -> [String] {
        let finder = MaxBatch(budget: budget, seed: 3)
        var row = try finder.predict(point)
        guard row.status == .ok && row.method == .predicted, let best = row.maxBatch else {
            return ["\(point.label): not predicted: \(row.reason)"]
        }
        var failures: [String] = []
        if best < 4 { failures.append("\(point.label): maximum \(best) < 4") }
        try finder.verify(&row) { 1 << 30 }
        guard let fits = row.verifiedPeakBytes, let over = row.overPeakBytes,
            let predicted = row.predictedPeakBytes
        else {
            return failures + ["\(point.label): not verified"]
        }
        if !(fits <= budget && over > budget) {
            failures.append("\(point.label): batch \(best): \(fits) and batch \(best + 1): \(over) against \(budget)")
        }
        if row.isVerifiedExact != true { failures.append("\(point.label): not verified exact") }
        if abs(predicted - fits) > 64 << 10 {
            failures.append("\(point.label): predicted \(predicted), measured \(fits)")
        }
        return failures
    }

    /// Size classes, not a line: a tensor just past a class boundary costs the next class.
    @Test func replayRoundsEachTensorToItsSizeClass() throws {
        // one tensor of 1 MiB + 1 byte per batch, released, then one of 4 KiB per batch.
        func trace(_ b: Int) -> HeapTrace {
            HeapTrace(
                events: [
                    .allocate(index: 0, bytes: b * ((1 << 20) + 1)), .release(index: 0),
                    .allocate(index: 1, bytes: b * 4096),
                ],
                sizes: [b * ((1 << 20) + 1), b * 4096])
        }
        let replay = try HeapReplay(batches: (1, 2, 3), traces: (trace(1), trace(2), trace(3)), measured: (0, 0, 0))
        let one = try #require(AllocatorProbe.sizeClass(of: (1 << 20) + 1, alignment: 64))
        #expect(one > (1 << 20) + 1)
        #expect(replay.replay(batch: 1) == one)
        #expect(replay.replay(batch: 5) == AllocatorProbe.sizeClass(of: 5 * ((1 << 20) + 1), alignment: 64))
        #expect(replay.largestBatch(within: one - 1) == 0)
        #expect(replay.largestBatch(within: one) == 1)
    }

    /// Traces whose sizes are not linear in the batch, or whose events differ, are refused.
    @Test func nonLinearTracesAreRefused() {
        func trace(_ bytes: Int, extra: Bool = false) -> HeapTrace {
            var t = HeapTrace(events: [.allocate(index: 0, bytes: bytes)], sizes: [bytes])
            if extra {
                t.events.append(.allocate(index: 1, bytes: 8))
                t.sizes.append(8)
            }
            return t
        }
        #expect(throws: HeapReplay.NotLinear.self) {
            try HeapReplay(batches: (1, 2, 3), traces: (trace(100), trace(200), trace(400)), measured: (0, 0, 0))
        }
        #expect(throws: HeapReplay.NotLinear.self) {
            try HeapReplay(
                batches: (1, 2, 3), traces: (trace(100), trace(200), trace(300, extra: true)), measured: (0, 0, 0))
        }
    }

    /// A point whose batch 2 the cost model (a lower bound on jemalloc's figure) puts over the budget
    /// has a maximum of 1 when batch 1 fits when run, and none when it does not.
    @Test func aBatchOfOneIsAMaximumToo() async {
        let result = await #expect(processExitsWith: .success, observing: [\.standardErrorContent]) {
            HeapReplayTests.report {
                let point = SweepPoint(mechanism: .standard, length: 512, batch: 1, heads: 2, headDim: 16, threads: 1)
                var two = point
                two.batch = 2
                let budget = two.predictedBytes - 1
                let row = try MaxBatch(budget: budget, seed: 1).predict(point)
                var failures: [String] = []
                if !(row.status == .ok && row.maxBatch == 1 && (row.verifiedPeakBytes ?? .max) <= budget) {
                    failures.append("\(row)")
                }
                let none = try MaxBatch(budget: 1 << 20, seed: 1).find(point)
                if none.status != .skipped { failures.append("a 1 MiB budget found \(none)") }
                return failures
            }
        }
        #expect(!Self.text(result).contains("FAILED"), "\(Self.text(result))")
    }

    /// A point whose batch 3 the cost model puts over the budget is searched by runs instead.
    @Test func tightBudgetsFallBackToTheMeasuredSearch() async {
        let result = await #expect(processExitsWith: .success, observing: [\.standardErrorContent]) {
            HeapReplayTests.report {
                let point = SweepPoint(mechanism: .standard, length: 512, batch: 1, heads: 2, headDim: 16, threads: 1)
                let row = try MaxBatch(budget: 6 << 20, seed: 1).predict(point)
                return row.method == .measured && row.maxBatch == 2 ? [] : ["\(row)"]
            }
        }
        #expect(!Self.text(result).contains("FAILED"), "\(Self.text(result))")
    }
}
