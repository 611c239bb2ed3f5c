// TEMPORARY until the kernels branch lands its factory.
public func makeAttentionKernel(_ mechanism: Mechanism, causal: Bool, projections: LinformerProjections?) throws(KernelConfigurationError) -> any AttentionKernel {
    switch mechanism {
    case .standard: return SoftmaxAttention(causal: causal)
    case .linear: return LinearAttention(causal: causal)
    case .linformer:
        guard let projections else { throw KernelConfigurationError("Linformer needs projections") }
        guard !causal else { throw KernelConfigurationError("Linformer has no causal form") }
        return try LinformerAttention(projections: projections)
    }
}
