import AttentionKernels
import EncoderLayer
@testable import Harness
import Profiling
import Results
import Testing

/// The predicted maximum batch (a replay of traced tensor allocations through jemalloc's size
/// classes) against runs, and the replay's own rules.
///
/// `make test` runs this suite in a process of its own: OpenBLAS's thread count is process-wide, and
/// a test beside it that sets 2 threads makes a 1-thread point's sgemm malloc a 512 KiB job array.
@Suite(.serialized) struct HeapReplayTests {
    /// The prediction is exact where it matters: a run at the predicted maximum fits the budget and a
    /// run at one more sample does not, for kernels whose heaps differ in shape (standard's n² scores,
    /// Linformer's n·k, flash's per-worker tiles), at budgets that put large tensors between size classes.
    @Test(arguments: [
        (SweepPoint(mechanism: .standard, length: 96, batch: 1, heads: 2, headDim: 16, threads: 1), 6 << 20),
        (SweepPoint(mechanism: .standard, length: 200, batch: 1, heads: 3, headDim: 16, threads: 1), 23 << 20),
        (SweepPoint(mechanism: .linformer, sharing: .keyValue, length: 256, projectedLength: 32, batch: 1, heads: 2, headDim: 32, threads: 1), 9 << 20),
        (SweepPoint(mechanism: .flash, length: 300, batch: 1, heads: 2, headDim: 32, threads: 2), 7 << 20),
        (SweepPoint(mechanism: .linear, pass: .train, causal: true, length: 128, batch: 1, heads: 2, headDim: 16, threads: 1), 5 << 20),
    ])
    func predictedMaximumIsExact(_ point: SweepPoint, _ budget: Int) throws {
        let finder = MaxBatch(budget: budget, seed: 3)
        var row = try finder.predict(point)
        #expect(row.status == .ok && row.method == .predicted, "\(row.reason)")
        let best = try #require(row.maxBatch)
        #expect(best >= 4)
        try finder.verify(&row) { 1 << 30 }
        let (fits, over) = (try #require(row.verifiedPeakBytes), try #require(row.overPeakBytes))
        #expect(fits <= budget && over > budget, "batch \(best): \(fits) and batch \(best + 1): \(over) against \(budget)")
        #expect(row.isVerifiedExact == true)
        // The replay predicted the measured peak to within jemalloc's small allocations.
        let predicted = try #require(row.predictedPeakBytes)
        #expect(abs(predicted - fits) <= 64 << 10, "predicted \(predicted), measured \(fits)")
    }

    /// Size classes, not a line: a tensor just past a class boundary costs the next class.
    @Test func replayRoundsEachTensorToItsSizeClass() throws {
        // one tensor of 1 MiB + 1 byte per batch, released, then one of 4 KiB per batch.
        func trace(_ b: Int) -> HeapTrace {
            HeapTrace(events: [.allocate(index: 0, bytes: b * ((1 << 20) + 1)), .release(index: 0), .allocate(index: 1, bytes: b * 4096)],
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
            if extra { t.events.append(.allocate(index: 1, bytes: 8)); t.sizes.append(8) }
            return t
        }
        #expect(throws: HeapReplay.NotLinear.self) {
            try HeapReplay(batches: (1, 2, 3), traces: (trace(100), trace(200), trace(400)), measured: (0, 0, 0))
        }
        #expect(throws: HeapReplay.NotLinear.self) {
            try HeapReplay(batches: (1, 2, 3), traces: (trace(100), trace(200), trace(300, extra: true)), measured: (0, 0, 0))
        }
    }

    /// A point whose batch 2 the cost model (a lower bound on jemalloc's figure) puts over the budget
    /// has a maximum of 1 when batch 1 fits when run, and none when it does not.
    @Test func aBatchOfOneIsAMaximumToo() throws {
        let point = SweepPoint(mechanism: .standard, length: 512, batch: 1, heads: 2, headDim: 16, threads: 1)
        var two = point
        two.batch = 2
        let budget = two.predictedBytes - 1
        let row = try MaxBatch(budget: budget, seed: 1).predict(point)
        #expect(row.status == .ok && row.maxBatch == 1 && (row.verifiedPeakBytes ?? .max) <= budget, "\(row)")
        let none = try MaxBatch(budget: 1 << 20, seed: 1).find(point)
        #expect(none.status == .skipped)
    }

    /// A point whose batch 3 the cost model puts over the budget is searched by runs instead.
    @Test func tightBudgetsFallBackToTheMeasuredSearch() throws {
        let point = SweepPoint(mechanism: .standard, length: 512, batch: 1, heads: 2, headDim: 16, threads: 1)
        let row = try MaxBatch(budget: 6 << 20, seed: 1).predict(point)
        #expect(row.method == .measured && row.maxBatch == 2)
    }
}
