import AttentionKernels
import Decoding
import Foundation
import Profiling
import Results

extension SweepPoint {
    /// Whether a sample of steps can stand for the whole call: a layer-scope `recompute` generation,
    /// whose step i re-runs the stack over i + 1 tokens whatever the tokens are.
    public var isEstimable: Bool { mode == .decode && scope == .layer && decoder == .recompute }
}

extension PointRunner {
    /// A layer-scope `recompute` generation's time estimated from `steps` of its N steps
    /// (``StratifiedSteps``: steps / 2 strata of 2, drawn from the run's seed), each timed once as
    /// a real step over a seeded prefix of its length, in a seeded random order so that drift on
    /// the machine does not follow position; one untimed step first. The row: status ok, `reps`
    /// the steps timed, the median and its interval the estimate's, no min, mean or spread, and
    /// `reason` saying it was estimated; the peak heap is not measured (no whole call runs), the
    /// cost model's `model_bytes` is given.
    public func estimate(_ point: SweepPoint, steps: Int) throws -> (row: ResultRow, estimate: StratifiedSteps.Estimate)
    {
        precondition(point.isEstimable, "estimate: \(point.label) is not a layer-scope recompute generation")
        ComputeThreads.set(point.threads)
        let generation = try LayerGeneration(
            configuration: point.layerConfiguration, mechanism: point.mechanism, decoder: point.decoder,
            batch: point.batch,
            length: point.length, prompt: point.prompt ?? 1, settings: point.mechanismSettings, seed: seed)
        let n = point.length
        let prefix = Tensor.normal(
            [point.batch, n, point.layerConfiguration.modelDim], seed: seed &+ 9, label: "estimate: prefix")
        let strata = StratifiedSteps.positions(length: n, strata: max(steps / 2, 1), perStratum: 2, seed: seed &+ 10)
        var order = strata.enumerated().flatMap { h, positions in positions.map { (h, $0) } }
        var generator = SplitMix64(seed: seed &+ 11)
        order.shuffle(using: &generator)
        if let first = order.first { blackHole(generation.recomputeStep(position: first.1, prefix: prefix)) }
        var seconds = strata.map { _ in [Double]() }
        for (h, position) in order {
            seconds[h].append(
                Stopwatch.seconds { blackHole(generation.recomputeStep(position: position, prefix: prefix)) })
        }
        let sizes = strata.indices.map { h in (h + 1) * n / strata.count - h * n / strata.count }
        let estimate = StratifiedSteps.estimate(sizes: sizes, seconds: seconds)
        var row = ResultRow(point: point, status: .ok, seed: seed)
        row.reason = "estimated from \(estimate.samples) of \(n) steps (stratified sample)"
        row.reps = estimate.samples
        (row.median, row.ciLow, row.ciHigh) = (estimate.total, estimate.low, estimate.high)
        row.noisy = !(estimate.high.isFinite) || (estimate.high - estimate.low) / estimate.total > Self.noisyWidth
        let cost = generation.cost
        row.tokensPerSecond = Double(point.batch * n) / estimate.total
        row.modelGflop = cost.flops / 1e9
        row.gflops = cost.flops / estimate.total / 1e9
        if let ceiling = ceilings[point.threads] {
            row.ceilingGflops = ceiling
            row.efficiency = cost.flops / estimate.total / 1e9 / ceiling
        }
        row.modelBytes = cost.callPeakBytes
        row.paramBytes = cost.parameterBytes
        return (row, estimate)
    }
}
