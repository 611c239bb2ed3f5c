/// The kernel of a mechanism: where a ``Mechanism`` (a CLI flag, a CSV value) becomes an
/// ``AttentionKernel``, for the harness's sweep points and the CLI's `eval` alike, through its
/// ``MechanismKernels/make``.
///
/// `projections` are Linformer's E and F (built by the caller: seeded, or from files).
/// - Throws: ``KernelConfigurationError`` for Linformer without projections or with `causal`, and
///   for projections given to a mechanism without a k axis (standard, linear, flash), which takes none.
public func makeAttentionKernel(
    _ mechanism: Mechanism, causal: Bool, projections: LinformerProjections?, headDim: Int = 64
) throws(KernelConfigurationError) -> any AttentionKernel {
    try makeAttentionKernel(
        mechanism, settings: MechanismSettings(causal: causal), projections: projections, seed: 0, headDim: headDim)
}

/// ``makeAttentionKernel(_:causal:projections:)`` with the values of the mechanism's axes
/// (Reformer's rounds, buckets and chunk, Performer's features; nil: the kernel's defaults) and the
/// seed of its random projections (Reformer's rotations, Performer's features), drawn for head
/// dimension `headDim`.
public func makeAttentionKernel(
    _ mechanism: Mechanism, settings: MechanismSettings, projections: LinformerProjections?, seed: UInt64,
    headDim: Int
) throws(KernelConfigurationError) -> any AttentionKernel {
    if projections != nil && !mechanism.descriptor.axes.contains(.projectedLength) {
        throw KernelConfigurationError(
            "projections E and F are for Linformer only; \(mechanism.rawValue) attention takes none")
    }
    return try mechanism.kernels.make(settings, projections, seed, headDim)
}
