/// Standard attention's kernels (its C-free half: ``MechanismDescriptor/standard``).
extension MechanismKernels {
    public static let standard = MechanismKernels(
        .standard,
        make: { settings, _, _, _ in SoftmaxAttention(causal: settings.causal) },
        cost: { settings, shape, pass, _ in SoftmaxAttention(causal: settings.causal).cost(for: shape, pass: pass) },
        coreCost: { settings, shape, threads in
            CoreCost(SoftmaxAttention(causal: settings.causal), shape: shape, threads: threads)
        },
        decodeCore: { _, _, _ in SoftmaxAttention(causal: true) },
        verificationKernels: { _, _, _ in [SoftmaxAttention(), SoftmaxAttention(causal: true)] },
        layerCores: { settings in
            [
                settings.same("standard", SoftmaxAttention()),
                settings.same("standard (causal)", SoftmaxAttention(causal: true)),
            ]
        })
}
