import AttentionKernels
import Foundation
import Profiling
import Reporting
import Results

/// `attnbench profile`: where one point's time goes (``PhaseRow``) and where the point sits on the
/// roofline (``RooflineRow``).
///
/// Method, per point: build the call as `run` does (``SweepPoint/makeCall(seed:)``); then, by the
/// policy (warm-ups, then repetitions until its minimum count and time, or its maximum time), time
/// plain calls and instrumented calls in alternation, each instrumented one inside
/// ``PhaseClock/measure(_:)``, which returns every phase's thread-time for that call. Per
/// call and level, a phase's share of the wall time W is its thread-time A_i, scaled by
/// W / max(Σ A, W): at one thread Σ A ≤ W and the remainder W − Σ A is `other` (time in no phase:
/// allocation, dispatch); when several threads are in phases at once Σ A > W and the shares are of
/// the threads' time. Each phase's median and interval are over the instrumented calls; the
/// instrumented calls' median against the plain calls' says what the clock adds. At layer scope
/// the layer's parts are split within the call, and the core's phases within the layer's
/// "attention core" parts (so a core phase's share is of the core, as at core scope).
public struct PhaseProfiler: Sendable {
    public var policy: TimingPolicy
    public var seed: UInt64
    /// sgemm GFLOP/s and triad GB/s per thread count, measured in the run.
    public var ceilings: [Int: Double]
    public var bandwidths: [Int: Double]

    public init(policy: TimingPolicy, seed: UInt64, ceilings: [Int: Double], bandwidths: [Int: Double]) {
        (self.policy, self.seed, self.ceilings, self.bandwidths) = (policy, seed, ceilings, bandwidths)
    }

    public func profile(_ point: SweepPoint) throws -> (phases: [PhaseRow], roofline: RooflineRow) {
        try point.checkMeasurable()
        guard point.mode == .forward else {
            throw UsageError("\(point.label) is a decode point: profile times forward, backward and train passes")
        }
        if case .skip(let reason) = PointPlan(point, memoryBudget: SweepSpec().effectiveMemoryBudget()) {
            throw UsageError("\(point.label) cannot be profiled: \(reason)")
        }
        ComputeThreads.set(point.threads)
        let (call, _) = try point.makeCall(seed: seed)

        // Plain and instrumented calls alternate, so drift (another process, the clock speed) falls
        // on both alike and their ratio is the clock's cost: warm-ups of each, then pairs until the
        // policy's minimums are met or its maximum is spent.
        var (plain, instrumented) = ([Double](), [Double]())
        var spans: [[Phase: UInt64]] = []
        var order: [Phase] = []
        func instrumentedCall() -> [Phase: UInt64] {
            let (value, nanoseconds, reached) = PhaseClock.measure { call.run() }
            blackHole(value)
            for phase in reached where !order.contains(phase) { order.append(phase) }
            return nanoseconds
        }
        for _ in 0..<policy.warmups {
            blackHole(call.run())
            _ = instrumentedCall()
        }
        let start = Stopwatch.now()
        while true {
            plain.append(Stopwatch.seconds { blackHole(call.run()) })
            var span: [Phase: UInt64] = [:]
            instrumented.append(Stopwatch.seconds { span = instrumentedCall() })
            spans.append(span)
            let elapsed = Double(Stopwatch.now() - start) * 1e-9
            if (plain.count >= policy.minReps && elapsed >= policy.minSeconds) || elapsed >= policy.maxSeconds { break }
        }

        var rows: [PhaseRow] = []
        let plainStats = SampleStatistics(plain)
        let instrumentedStats = SampleStatistics(instrumented)
        let costs = PhaseCost.model(for: point)
        for level in Phase.Level.allCases {
            let phases = order.filter { $0.level == level }
            guard !phases.isEmpty else { continue }
            var times: [String: [Double]] = [:]
            var busy: [Double] = []
            for (call, span) in zip(instrumented, spans) {
                // At layer scope the core's phases are split within the layer's core parts (forward
                // and backward), not within the whole layer.
                let wall =
                    level == .core && point.scope == .layer
                    ? span.filter { $0.key.level == .layer && $0.key.name.hasPrefix("attention core") }.values.reduce(
                        0.0, { $0 + Double($1) * 1e-9 })
                    : call
                let total = phases.reduce(0.0) { $0 + Double(span[$1] ?? 0) * 1e-9 }
                let scale = total > wall ? wall / total : 1
                for phase in phases { times[phase.name, default: []].append(Double(span[phase] ?? 0) * 1e-9 * scale) }
                times[PhaseRow.other, default: []].append(max(wall - total * scale, 0))
                busy.append(wall > 0 ? total / wall : 0)
            }
            let names = phases.map(\.name) + [PhaseRow.other]
            let medians = names.map { SampleStatistics(times[$0] ?? [])?.median ?? 0 }
            let whole = medians.reduce(0, +)
            for name in names {
                var row = PhaseRow(point: point, level: level.rawValue, phase: name)
                if let stats = SampleStatistics(times[name] ?? []) {
                    row.reps = stats.count
                    (row.median, row.ciLow, row.ciHigh) = (stats.median, stats.ciLow, stats.ciHigh)
                    if whole > 0 { row.share = stats.median / whole }
                    if let cost = costs[name] {
                        (row.phaseGflop, row.phaseBytes) = (cost.flops / 1e9, cost.bytes)
                        if stats.median > 0 { row.gflops = cost.flops / stats.median / 1e9 }
                    }
                }
                row.callMedian = plainStats?.median
                row.instrumentedMedian = instrumentedStats?.median
                if let p = plainStats?.median, let i = instrumentedStats?.median, p > 0 { row.overhead = i / p - 1 }
                row.busyThreads = SampleStatistics(busy)?.median
                rows.append(row)
            }
        }

        var roof = RooflineRow(point: point)
        roof.modelGflop = call.cost.flops / 1e9
        roof.trafficBytes = point.trafficBytes(cost: call.cost)
        roof.median = plainStats?.median
        if let median = plainStats?.median, median > 0 { roof.gflops = call.cost.flops / median / 1e9 }
        roof.ceilingGflops = ceilings[point.threads]
        roof.bandwidthGBs = bandwidths[point.threads]
        roof.derive()
        return (rows, roof)
    }
}

extension SweepPoint {
    /// The least a call must move to and from memory, in bytes (the roofline's denominator): its
    /// inputs (Q, K, V at core scope, X at layer scope, and dO for a backward or training step) and
    /// parameters read once, its output written once, and every intermediate tensor its cost model
    /// allocates written once and read once. A model, not a measurement: a tensor that stays in
    /// cache moves less, one read by several passes moves more.
    public func trafficBytes(cost: AttentionCost) -> Double {
        let elements = Double(batch) * Double(heads) * Double(length) * Double(headDim)
        let inputs = (scope == .core ? 3 : 1) + (pass == .forward ? 0 : 1)
        return 4 * elements * Double(inputs) + Double(cost.parameterBytes) + Double(cost.outputBytes)
            + 2 * Double(cost.intermediateBytes)
    }
}

/// The modelled FLOPs and memory traffic of the phases `attnbench profile` names, for the non-causal
/// forward passes of standard, Linformer, linear attention and flash, and the parts of an encoder
/// layer. Element-wise work counts one FLOP per operation (softmax: shift, exponential, sum: 3 per
/// score); bytes are each phase's tensors read and written once (fp32), tiles that stay in cache
/// excluded. Phases without a model (backward passes, causal forms, Reformer, Performer) have none,
/// and their rows leave the columns empty.
enum PhaseCost {
    struct Cost {
        var flops: Double
        var bytes: Double
    }

    static func model(for point: SweepPoint) -> [String: Cost] {
        guard point.pass == .forward else { return [:] }
        var costs: [String: Cost] = [:]
        let (b, h, n, d) = (Double(point.batch), Double(point.heads), Double(point.length), Double(point.headDim))
        let slices = b * h
        func add(_ name: String, flops: Double, floats: Double) {
            costs[name] = Cost(flops: slices * flops, bytes: slices * 4 * floats)
        }
        if point.scope == .layer, let multiplier = point.ffnMultiplier {
            let (t, dm, layers) = (b * n, h * d, Double(point.layers ?? 1))
            let m = Double(multiplier) * dm
            func part(_ name: String, flops: Double, floats: Double) {
                costs[name] = Cost(flops: layers * flops, bytes: layers * 4 * floats)
            }
            part("Q, K, V projections", flops: 6 * t * dm * dm, floats: t * dm + 3 * dm * dm + 3 * t * dm)
            part(
                "output projection, residual, LayerNorm", flops: 2 * t * dm * dm + 8 * t * dm,
                floats: 3 * t * dm + dm * dm)
            part(
                "FFN, residual, LayerNorm", flops: 4 * t * dm * m + 8 * t * m + 8 * t * dm,
                floats: 2 * t * dm + 2 * dm * m + 3 * t * m)
        }
        guard !point.causal else { return costs }
        switch point.mechanism {
        case .standard:
            add("QKᵀ", flops: 2 * n * n * d, floats: 2 * n * d + n * n)
            add("softmax", flops: 3 * n * n, floats: 2 * n * n)
            add("P·V and 1/Σ", flops: 2 * n * n * d + n * d, floats: n * n + 2 * n * d)
        case .linformer:
            let k = Double(point.projectedLength ?? 0)
            add("E·K, F·V", flops: 4 * n * k * d, floats: 2 * n * d + 2 * k * n + 2 * k * d)
            add("QK′ᵀ", flops: 2 * n * k * d, floats: n * d + k * d + n * k)
            add("softmax", flops: 3 * n * k, floats: 2 * n * k)
            add("P·V′ and 1/Σ", flops: 2 * n * k * d + n * d, floats: n * k + k * d + n * d)
        case .linear:
            add("φ", flops: 2 * n * d, floats: 4 * n * d)
            add("φ(K)ᵀV, Σφ(K)", flops: 2 * n * d * d + n * d, floats: 2 * n * d + d * d)
            add("φ(Q)·S", flops: 2 * n * d * d, floats: 2 * n * d + d * d)
            add("division", flops: 3 * n * d, floats: 3 * n * d)
        case .flash:
            let blocks = (n / Double(FlashAttention.Blocks.default.query)).rounded(.up)
            add("tile products", flops: 4 * n * n * d, floats: n * d + blocks * 2 * n * d)
            add("online softmax and rescaling", flops: 3 * n * n, floats: 0)
            add("packing", flops: 0, floats: blocks * n * d)
            add("row bookkeeping", flops: n * d, floats: n * d)
        default:
            break
        }
        return costs
    }
}
