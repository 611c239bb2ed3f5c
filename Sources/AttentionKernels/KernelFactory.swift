/// The kernel of a mechanism: where a ``Mechanism`` (a CLI flag, a CSV value) becomes an
/// ``AttentionKernel``, for the harness's sweep points and the CLI's `eval` alike.
///
/// `projections` are Linformer's E and F (built by the caller: seeded, or from files).
/// - Throws: ``KernelConfigurationError`` for Linformer without projections or with `causal`, and
///   for projections given to standard, linear or flash attention, which take none.
public func makeAttentionKernel(
    _ mechanism: Mechanism, causal: Bool, projections: LinformerProjections?
) throws(KernelConfigurationError) -> any AttentionKernel {
    switch (mechanism, projections) {
    case (.standard, nil): return SoftmaxAttention(causal: causal)
    case (.linear, nil): return LinearAttention(causal: causal)
    case (.flash, nil): return FlashAttention(causal: causal)
    case (.linformer, let projections?): return try LinformerAttention(projections: projections, causal: causal)
    case (.linformer, nil):
        throw KernelConfigurationError("Linformer needs its projections E and F ([k, n] or [h, k, n]): give them, or a projected length k to seed them")
    case (.standard, _?), (.linear, _?), (.flash, _?):
        throw KernelConfigurationError("projections E and F are for Linformer only; \(mechanism.rawValue) attention takes none")
    }
}
