/// Linear attention's kernels (its C-free half: ``MechanismDescriptor/linear``). Its causal form in
/// sweeps and layers is the sequential recurrence (the suite's default); `verify` checks the
/// chunked form too.
extension MechanismKernels {
    public static let linear = MechanismKernels(
        .linear,
        make: { settings, _, _, _ in LinearAttention(causal: settings.causal) },
        cost: { settings, shape, pass, _ in LinearAttention(causal: settings.causal).cost(for: shape, pass: pass) },
        coreCost: { settings, shape, threads in
            CoreCost(LinearAttention(causal: settings.causal), shape: shape, threads: threads)
        },
        decodeCore: { _, _, _ in LinearAttention(causal: true) },
        verificationKernels: { _, _, _ in
            [
                LinearAttention(), LinearAttention(causal: true),
                LinearAttention(causal: true, chunk: LinearAttention.bestChunk),
            ]
        },
        layerCores: { settings in
            [
                settings.same("linear", LinearAttention()),
                settings.same("linear (causal)", LinearAttention(causal: true)),
            ]
        })
}
