import AttentionKernels
import Foundation
import Profiling

/// The largest batch whose heap fits a budget, per mechanism and (n, k): how the Linformer paper
/// defined "memory saved" (a ratio of maximum batch sizes).
///
/// Method: the heap of a whole point (inputs, parameters, one call) is measured with jemalloc's
/// thread.peak at batch 1 and batch 8 (2 when 8 cannot fit); the difference over the batch step is
/// the per-sample cost and the rest is fixed (parameters, OpenBLAS's job array). A step of 7 keeps
/// thread.peak's ~100 KB sampling error small per sample. The predicted maximum is
/// ⌊(budget − fixed) / per-sample⌋; runs at that batch (and a binary search below it when jemalloc's
/// size classes make it miss) verify it, and the wall time of the verified run gives the time per
/// sample at the largest batch.
public struct MaxBatch {
    public struct Row: Equatable {
        public var point: SweepPoint  // batch = the verified maximum (or 1 when nothing fits)
        public var status: ResultRow.Status
        public var reason = ""
        public var budgetBytes: Int
        public var fixedBytes, perSampleBytes, maxBatch, verifiedPeakBytes: Int?
        public var timePerSampleSeconds: Double?
    }

    public static let columns = [
        "mechanism", "sharing", "n", "k", "heads", "d", "threads", "status", "reason", "budget_bytes",
        "fixed_bytes", "per_sample_bytes", "max_batch", "verified_peak_bytes", "time_per_sample_ms", "seed",
    ]

    public var budget: Int
    public var seed: UInt64

    public init(budget: Int, seed: UInt64) {
        self.budget = budget
        self.seed = seed
    }

    /// The heap of one point at `batch`: inputs, kernel parameters and one call, measured together.
    func pointPeak(_ point: SweepPoint) throws -> (bytes: Int, seconds: Double) {
        ComputeThreads.set(point.threads)
        try AllocatorProbe.resetThreadPeak()
        let kernel = point.makeKernel(seed: seed)
        let (q, k, v) = Verification.inputs(point.shape, seed: seed)
        let seconds = Stopwatch.seconds { blackHole(kernel(q: q, k: k, v: v)) }
        return (try AllocatorProbe.threadPeakBytes(), seconds)
    }

    public func find(_ template: SweepPoint) throws -> Row {
        var point = template
        point.batch = 1
        var row = Row(point: point, status: .ok, budgetBytes: budget)
        if let k = point.projectedLength, k >= point.length {
            row.status = .skipped
            row.reason = "k >= n (the paper's dash)"
            return row
        }
        // Check the probe batches against the cost model first: never allocate what cannot fit.
        var probe = point
        probe.batch = 8
        if probe.predictedBytes > budget { probe.batch = 2 }
        guard probe.predictedBytes <= budget else {
            row.status = .skipped
            row.reason = "batch 2 needs \(formatBytes(probe.predictedBytes)) > budget \(formatBytes(budget))"
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
        // smallest verified not to, to within 1%.
        var fits = (batch: probe.batch, bytes: pb, seconds: Double.nan)
        var tooBig = Int.max
        var batch = max((budget - fixed) / perSample, 1)
        for _ in 0..<12 {
            point.batch = batch
            let (peak, seconds) = try pointPeak(point)
            if peak <= budget { fits = (batch, peak, seconds) } else { tooBig = batch }
            if tooBig == Int.max || tooBig - fits.batch <= max(1, fits.batch / 100) { break }
            batch = (fits.batch + tooBig) / 2
        }
        if fits.seconds.isNaN {  // only the probe batch was verified: time it once
            point.batch = fits.batch
            fits.seconds = try pointPeak(point).seconds
        }
        point.batch = fits.batch
        row.point = point
        row.maxBatch = fits.batch
        row.verifiedPeakBytes = fits.bytes
        row.timePerSampleSeconds = fits.seconds / Double(fits.batch)
        return row
    }

    public static func fields(_ row: Row, seed: UInt64) -> [String] {
        let p = row.point
        return [
            p.mechanism.rawValue, p.sharing?.rawValue ?? "", String(p.length), p.projectedLength.map(String.init) ?? "",
            String(p.heads), String(p.headDim), String(p.threads), row.status.rawValue, row.reason, String(row.budgetBytes),
            row.fixedBytes.map(String.init) ?? "", row.perSampleBytes.map(String.init) ?? "",
            row.maxBatch.map(String.init) ?? "", row.verifiedPeakBytes.map(String.init) ?? "",
            row.timePerSampleSeconds.map { String(format: "%.6f", $0 * 1e3) } ?? "", String(seed),
        ]
    }
}
