import AttentionKernels
import EncoderLayer
import Foundation
import Profiling
import Results

/// The largest batch whose heap fits a budget, per point: how the Linformer paper defined "memory
/// saved" (a ratio of maximum batch sizes).
///
/// Method: the heap of a whole point (inputs, parameters, one call of its pass, a backward's saved
/// forward and dO included; for a decode point its projections, prompt and one whole generation) is measured with jemalloc's thread.peak at batch 1
/// and batch 8 (2 when 8 cannot fit); the difference over the batch step is the per-sample cost and
/// the rest is fixed (parameters, OpenBLAS's job array). A step of 7 keeps thread.peak's ~100 KB
/// sampling error small per sample. The predicted maximum is ⌊(budget − fixed) / per-sample⌋; runs at
/// that batch (and a binary search below it when jemalloc's size classes make it miss) verify it,
/// and the wall time of the verified run gives the time per sample at the largest batch.
///
/// Nothing is allocated that the cost model says exceeds the budget: every batch is checked against
/// ``SweepPoint/predictedBytes`` before it runs.
public struct MaxBatch {
    public var budget: Int
    public var seed: UInt64

    public init(budget: Int, seed: UInt64) {
        self.budget = budget
        self.seed = seed
    }

    /// The heap of one point at its batch: inputs, parameters and one call, measured together.
    func pointPeak(_ point: SweepPoint) throws -> (bytes: Int, seconds: Double) {
        ComputeThreads.set(point.threads)
        try AllocatorProbe.releaseFreedMemory()  // the previous batch's pages, before this one's
        try AllocatorProbe.resetThreadPeak()
        let seconds: Double
        if point.mode == .decode {
            let generation = try point.makeDecodeCall(seed: seed)
            seconds = Stopwatch.seconds { blackHole(generation.run(nil)) }
        } else {
            let call = try point.makeCall(seed: seed).call
            seconds = Stopwatch.seconds { blackHole(call.run()) }
        }
        return (try AllocatorProbe.threadPeakBytes(), seconds)
    }

    /// The largest batch of `point` whose ``SweepPoint/predictedBytes`` fits the budget (0 when
    /// none does), by doubling then bisection on the cost model alone: nothing is allocated.
    func largestAdmittedBatch(_ point: SweepPoint) -> Int {
        var p = point
        func admits(_ batch: Int) -> Bool {
            p.batch = batch
            return p.predictedBytes <= budget
        }
        guard admits(1) else { return 0 }
        // low admitted; high refused (Int.max: never reached, refused as beyond any machine)
        var (low, high) = (1, Int.max)
        while true {
            let (next, overflow) = low.multipliedReportingOverflow(by: 2)
            if overflow { break }
            if admits(next) {
                low = next
            } else {
                high = next
                break
            }
        }
        while high - low > 1 {
            let mid = low + (high - low) / 2
            if admits(mid) { low = mid } else { high = mid }
        }
        return low
    }

    /// The largest batch by replaying the call's tensor allocations (``HeapReplay``): the point is
    /// run at batches 1, 2 and 3 only, so a grid of large maxima takes seconds, not a run at every
    /// maximum. A point whose batch 3 the cost model already puts over the budget (a maximum of 0,
    /// 1 or 2) is searched by runs instead (``find(_:)``), as is one whose allocations are not linear
    /// in the batch (the row's reason says so). Nothing here runs over the budget.
    public func predict(_ template: SweepPoint) throws -> MaxBatchRow {
        try template.checkMeasurable()
        var point = template
        point.batch = 1
        var row = MaxBatchRow(point: point, status: .ok, budgetBytes: budget, seed: seed)
        row.method = .predicted
        if case .skip(let reason) = PointPlan(point, memoryBudget: budget) {
            (row.status, row.reason) = (.skipped, reason)
            return row
        }
        let probes = [1, 2, 3].map { b -> SweepPoint in
            var p = point
            p.batch = b
            return p
        }
        guard probes.allSatisfy({ $0.predictedBytes <= budget }) else { return try find(template) }
        // One untraced call first: what a thread allocates once, on its first call (OpenBLAS's
        // buffers, the runtime's caches), would otherwise count in every predicted peak.
        _ = try pointPeak(probes[0])
        var traces: [HeapTrace] = []
        var peaks: [Int] = []
        for probe in probes {
            let (result, trace) = try HeapTrace.record { try pointPeak(probe) }
            traces.append(trace)
            peaks.append(result.bytes)
        }
        let replay: HeapReplay
        do {
            replay = try HeapReplay(
                batches: (1, 2, 3), traces: (traces[0], traces[1], traces[2]), measured: (peaks[0], peaks[1], peaks[2]))
        } catch {
            var measured = try find(template)
            measured.reason = "searched by runs: \(error.description)"
            return measured
        }
        let best = replay.largestBatch(within: budget)
        point.batch = max(best, 1)
        row.point = point
        row.maxBatch = best
        row.perSampleBytes = peaks[1] - peaks[0]
        row.fixedBytes = peaks[0] - (peaks[1] - peaks[0])
        row.predictedPeakBytes = replay.peak(batch: best)
        return row
    }

    /// Confirms a maximum by measurement: runs the point at `max_batch` (its measured peak must be
    /// within the budget; its time per sample is recorded) and at `max_batch` + 1 (over it). The
    /// second run allocates past the budget, so each run is made only when its predicted heap
    /// stays below `ceiling()` bytes, asked just before it runs (90% of the memory available then,
    /// after jemalloc has returned the previous run's pages); otherwise the row's reason says why
    /// it was not, and nothing is risked.
    public func verify(_ row: inout MaxBatchRow, ceiling: () -> Int) throws {
        guard row.isOK, let best = row.maxBatch, best >= 1 else { return }
        var point = row.point
        point.batch = best
        try AllocatorProbe.releaseFreedMemory()
        guard point.predictedBytes <= ceiling() else {
            row.reason =
                "not verified: batch \(best) needs \(formatBytes(point.predictedBytes)) > 90% of available memory"
            return
        }
        let (fits, seconds) = try pointPeak(point)
        row.verifiedPeakBytes = fits
        row.timePerSample = seconds / Double(best)
        point.batch = best + 1
        try AllocatorProbe.releaseFreedMemory()
        // The cost model counts requests; jemalloc's size classes may add up to 25% to a large
        // tensor, so a quarter more is asked of the machine than the model says.
        let needed = Int.saturatingSum(point.predictedBytes, point.predictedBytes / 4)
        guard needed <= ceiling() else {
            row.reason = "batch \(best + 1) not run: it may need \(formatBytes(needed)) > 90% of available memory"
            return
        }
        row.overPeakBytes = try pointPeak(point).bytes
    }

    public func find(_ template: SweepPoint) throws -> MaxBatchRow {
        try template.checkMeasurable()
        var point = template
        point.batch = 1
        var row = MaxBatchRow(point: point, status: .ok, budgetBytes: budget, seed: seed)
        if case .skip(let reason) = PointPlan(point, memoryBudget: budget) {
            row.status = .skipped
            row.reason = reason
            return row
        }
        // Check the probe batches against the cost model first: never allocate what cannot fit.
        var probe = point
        probe.batch = 8
        if probe.predictedBytes > budget { probe.batch = 2 }
        guard probe.predictedBytes <= budget else {
            // Batch 2 is over the budget by the cost model, which never exceeds jemalloc's figure
            // (size classes only round up; the memory tests hold peak ≥ model − 100 KiB): the
            // maximum is 1 if batch 1 fits when run.
            let (peak, seconds) = try pointPeak(point)
            guard peak <= budget else {
                (row.status, row.reason) = (
                    .skipped, "memory: batch 1 peaked at \(formatBytes(peak)) > budget \(formatBytes(budget))"
                )
                return row
            }
            (row.maxBatch, row.verifiedPeakBytes, row.timePerSample) = (1, peak, seconds)
            row.reason = "batch 2 needs \(formatBytes(probe.predictedBytes)) by the cost model > budget"
            return row
        }
        let p1 = try pointPeak(point).bytes
        let pb = try pointPeak(probe).bytes
        let perSample = max((pb - p1) / (probe.batch - 1), 1)
        let fixed = max(p1 - perSample, 0)
        row.perSampleBytes = perSample
        row.fixedBytes = fixed
        // The heap is a staircase in the batch, not a line: jemalloc rounds large allocations up to
        // size classes (4 per doubling, so up to 25% over the request; exact at powers of two).
        // Try the prediction, then binary-search between the largest batch verified to fit and the
        // smallest verified not to (or that the cost model refuses), to within 1%.
        //
        // The search starts no higher than the largest batch the cost model admits: a per-sample
        // heap below thread.peak's resolution (a decode point's few hundred bytes) predicts the
        // whole budget / 1 byte, and halving down from there spent all 12 steps on batches the
        // model refuses, leaving the probe batch as the answer.
        let admitted = largestAdmittedBatch(point)
        var fits = (batch: probe.batch, bytes: pb, seconds: Double.nan)
        var tooBig = Int.max
        var overPeak: Int?  // jemalloc's peak at tooBig, when it was run (nil: the cost model refused it)
        var batch = max((budget - fixed) / perSample, 1)
        if batch > admitted {
            batch = admitted
            tooBig = admitted + 1
        }
        for _ in 0..<12 {
            point.batch = batch
            if point.predictedBytes > budget {
                (tooBig, overPeak) = (batch, nil)
            } else {
                let (peak, seconds) = try pointPeak(point)
                if peak <= budget { fits = (batch, peak, seconds) } else { (tooBig, overPeak) = (batch, peak) }
            }
            if tooBig == Int.max || tooBig - fits.batch <= max(1, fits.batch / 100) { break }
            batch = fits.batch + (tooBig - fits.batch) / 2
        }
        if fits.seconds.isNaN {  // only the probe batch was verified: time it once
            point.batch = fits.batch
            fits.seconds = try pointPeak(point).seconds
        }
        point.batch = fits.batch
        row.point = point
        row.maxBatch = fits.batch
        row.verifiedPeakBytes = fits.bytes
        row.timePerSample = fits.seconds / Double(fits.batch)
        // What bounds the maximum from above: the next batch run over the budget, or refused by the cost model.
        if tooBig == fits.batch + 1, let overPeak {
            row.overPeakBytes = overPeak
        } else if tooBig != Int.max {
            point.batch = tooBig
            let why =
                overPeak.map { "peaked at \(formatBytes($0))" }
                ?? "needs \(formatBytes(point.predictedBytes)) by the cost model"
            row.reason =
                "batch \(tooBig) \(why) > budget" + (tooBig == fits.batch + 1 ? "" : " (searched to within 1%)")
        }
        return row
    }
}
