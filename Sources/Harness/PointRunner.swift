import AttentionKernels
import AttentionReference
import Foundation
import Profiling
import Reporting
import Results

/// Measures one point: builds the kernel (or, at layer scope, the encoder stack), inputs and the
/// call its pass makes (``SweepPoint/makeCall(seed:)``, untimed),
/// measures memory on one call, then times calls by the policy; (Linformer's forward pass) measures
/// the approximation error. A decode point is the same with a ``Generation`` as the call, plus its
/// per-token latency against position.
public struct PointRunner: Sendable {
    public var policy: TimingPolicy
    public var seed: UInt64
    /// sgemm GFLOP/s per thread count, from ``Calibration``.
    public var ceilings: [Int: Double]
    /// A deliberate regression, for testing the checker (nil in every real run).
    public var injection: RegressionInjection?
    /// Heap a point may need (``SweepPoint/predictedBytes``): a point over it is refused before
    /// anything is allocated. Nil means 60% of the memory available now.
    public var memoryBudget: Int?
    /// The system calls behind the hardware counters (the kernel's; tests make them fail or fake them).
    public var hardwareCounters = HardwareCounters.System.kernel
    /// A point is `noisy` when its median's 95% interval is wider than this fraction of the median.
    public static let noisyWidth = 0.10

    public init(policy: TimingPolicy, seed: UInt64, ceilings: [Int: Double]) {
        self.policy = policy
        self.seed = seed
        self.ceilings = ceilings
    }

    public func measure(_ point: SweepPoint) throws -> ResultRow {
        try point.checkMeasurable()
        var budget = SweepSpec()
        budget.memoryBudget = memoryBudget
        if case .skip(let reason) = PointPlan(point, memoryBudget: budget.effectiveMemoryBudget()) {
            throw UsageError("\(point.label) cannot be measured: \(reason)")
        }
        ComputeThreads.set(point.threads)
        if point.mode == .decode { return try measureDecode(point) }
        let (made, inputs) = try point.makeCall(seed: seed)
        let call = injection.map { $0.wrap(made, mechanism: point.mechanism, length: point.length) } ?? made
        var row = ResultRow(point: point, status: .ok, seed: seed)

        // Memory, on a call of its own so that probing never lands in a timed region. It comes first,
        // so its RSS includes first-touch page faults of fresh buffers, as a cold call would.
        let rss = RSSWindow()
        try AllocatorProbe.resetThreadPeak()
        let out = call.run()
        row.peakHeapBytes = try AllocatorProbe.threadPeakBytes()
        rss.finish(into: &row)
        row.modelBytes = made.cost.callPeakBytes
        row.paramBytes = made.cost.parameterBytes
        if point.mechanism.descriptor.approximatesSoftmax, !point.causal, point.pass == .forward, let out,
            let (q, k, v) = inputs
        {
            row.approxRelError = ApproximationError.sampled(out, q: q, k: k, v: v)
        }

        // Time, with the counters opened for the threads alive now (OpenBLAS's included).
        let hardware = openHardwareCounters(into: &row)
        let calls = policy.measureCalls({ blackHole(call.run()) }, hardware: hardware)
        record(calls, flops: made.cost.flops, into: &row)
        return row
    }

    /// A whole generation of n tokens per sequence is the timed call. Each timed repetition also
    /// records every step's wall time (two clock reads per step, ~40 ns against steps of ≥ 1 µs),
    /// gathered into ``TokenLatency`` windows outside the timed region.
    private func measureDecode(_ point: SweepPoint) throws -> ResultRow {
        let generation = try point.makeDecodeCall(seed: seed)
        var row = ResultRow(point: point, status: .ok, seed: seed)

        let rss = RSSWindow()
        try AllocatorProbe.resetThreadPeak()
        blackHole(generation.run(nil))
        row.peakHeapBytes = try AllocatorProbe.threadPeakBytes()
        rss.finish(into: &row)
        row.modelBytes = generation.cost.callPeakBytes
        row.paramBytes = generation.cost.parameterBytes

        let times = StepTimes(length: point.length, workers: generation.workers)
        var latency = TokenLatency(length: point.length)
        let hardware = openHardwareCounters(into: &row)
        let calls = policy.measureCalls(
            { blackHole(generation.run(times)) }, hardware: hardware, afterEach: { latency.add(times) })
        record(calls, flops: generation.cost.flops, into: &row)
        row.tokenLatency = latency.samples
        return row
    }

    /// The hardware counters for a point's timed calls, or nil with the reason in the row's
    /// ``ResultRow/hardwareCountersNote`` (the sweep logs it once per run).
    private func openHardwareCounters(into row: inout ResultRow) -> HardwareCounters? {
        switch HardwareCounters.open(system: hardwareCounters) {
        case .success(let counters): return counters
        case .failure(let why):
            row.hardwareCountersNote = why.description
            return nil
        }
    }

    /// Fills the timing and counter columns of `row` from the timed repetitions of a call costing `flops`, and
    /// keeps the repetitions themselves for the samples file.
    private func record(_ calls: [CallTime], flops: Double, into row: inout ResultRow) {
        row.calls = calls
        row.setCounters(calls.map(\.counters))
        if row.hardwareCounters == .unavailable, row.hardwareCountersNote == nil {
            row.hardwareCountersNote =
                "hardware counters unavailable: a read of the counters failed during the timed calls"
        }
        guard let stats = SampleStatistics(calls.map(\.seconds)) else { return }  // a policy always times at least once
        row.reps = stats.count
        (row.median, row.min, row.mean, row.stddev) = (stats.median, stats.min, stats.mean, stats.stddev)
        (row.ciLow, row.ciHigh) = (stats.ciLow, stats.ciHigh)
        row.noisy = !stats.ciIsExact || stats.relativeCIWidth > Self.noisyWidth
        row.tokensPerSecond = Double(row.point.batch * row.point.length) / stats.median
        row.modelGflop = flops / 1e9
        row.gflops = flops / stats.median / 1e9
        if let ceiling = ceilings[row.point.threads] {
            row.ceilingGflops = ceiling
            row.efficiency = flops / stats.median / 1e9 / ceiling
        }
    }
}

/// The process's resident high-water mark over one call: jemalloc returns every freed page first
/// (`arena.<all>.purge`: it is configured never to return them by itself, so without this the mark
/// would hold every earlier call's pages and never fall across a run), then the mark is reset and
/// read after the call. What it covers: the call's own pages, plus what is live (inputs, weights,
/// the binary and its libraries, OpenBLAS's buffers). A probe that fails leaves `peak_rss_bytes`
/// empty and says why in the row's warnings, never in silence.
struct RSSWindow {
    private var failure: String?

    init() {
        do { try AllocatorProbe.releaseFreedMemory() } catch {
            failure = "peak_rss_bytes not measured: jemalloc could not return freed pages (\(error))"
            return
        }
        do { try RSSProbe.resetPeak() } catch {
            failure = "peak_rss_bytes not measured: cannot reset the RSS peak (\(error))"
        }
    }

    func finish(into row: inout ResultRow) {
        if let failure {
            row.warnings.append(failure)
            return
        }
        do { row.peakRSSBytes = try RSSProbe.peakBytes() } catch {
            row.warnings.append("peak_rss_bytes not measured: \(error)")
        }
    }
}

/// Linformer's price: how far its output is from exact softmax attention on the same inputs.
public enum ApproximationError {
    /// Query rows sampled per (batch, head) slice, and slices used at most.
    public static let rowsPerSlice = 16
    public static let maxSlices = 8

    /// ‖O − O_exact‖_F / ‖O_exact‖_F over `rowsPerSlice` evenly spaced query rows in each of the first
    /// `maxSlices` slices, with O_exact the suite's Float64 reference rows
    /// (``ReferenceAttention/standardRows(_:q:k:v:)``: O(n·d) doubles per slice for K and V, so it works
    /// at any n where Linformer itself runs).
    public static func sampled(_ out: Tensor, q: Tensor, k: Tensor, v: Tensor) -> Double {
        let shape = AttentionShape(of: q)
        let (n, d) = (shape.length, shape.headDim)
        var errorSquared = 0.0
        var normSquared = 0.0
        for s in 0..<min(shape.slices, maxSlices) {
            let os = out.matrix(s)
            let rows = (0..<Swift.min(rowsPerSlice, n)).map { r in r * n / Swift.min(rowsPerSlice, n) }
            let exact = ReferenceAttention.standardRows(rows, q: q.matrix(s), k: k.matrix(s), v: v.matrix(s))
            for (i, reference) in zip(rows, exact) {
                for c in 0..<d {
                    errorSquared += (Double(os[i, c]) - reference[c]) * (Double(os[i, c]) - reference[c])
                    normSquared += reference[c] * reference[c]
                }
            }
        }
        return normSquared > 0 ? (errorSquared / normSquared).squareRoot() : 0
    }
}
