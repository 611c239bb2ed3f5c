import AttentionKernels
import Decoding
import Results

/// What a decode point times: a ``Generation`` (core scope: one attention layer's core with its
/// projections and feedback) or a ``LayerGeneration`` (layer scope: the whole causal encoder stack),
/// with its cost and how many workers report steps to a ``StepObserver``.
public struct DecodeCall: Sendable {
    /// One whole generation; returns the final sources.
    public let run: @Sendable ((any StepObserver)?) -> Tensor
    public let cost: AttentionCost
    /// Workers that start and finish steps (each observed separately).
    public let workers: Int
}

extension SweepPoint {
    /// Builds the generation of a decode point (its weights, projections and prompt seeded from `seed`).
    public func makeDecodeCall(seed: UInt64) throws(KernelConfigurationError) -> DecodeCall {
        switch scope {
        case .core:
            let generation = try makeGeneration(seed: seed)
            return DecodeCall(
                run: { generation(observer: $0) }, cost: generation.cost,
                workers: ComputeThreads.workerCount(generation.slices))
        case .layer:
            let generation = try LayerGeneration(
                configuration: layerConfiguration, mechanism: mechanism, decoder: decoder,
                batch: batch, length: length, prompt: prompt ?? 1, settings: mechanismSettings, seed: seed)
            return DecodeCall(run: { generation(observer: $0) }, cost: generation.cost, workers: 1)
        }
    }
}
