/// Linformer's kernels (its C-free half: ``MechanismDescriptor/linformer``). Its cost models take k
/// and the sharing from the settings (nil reads as k = 1, key-value), so a sweep is planned without
/// building E and F.
extension MechanismKernels {
    public static let linformer = MechanismKernels(
        .linformer,
        make: { (settings, projections, _, _) throws(KernelConfigurationError) -> any AttentionKernel in
            let causal = settings.causal
            guard let projections else {
                throw KernelConfigurationError(
                    """
                    Linformer needs its projections E and F ([k, n] or [h, k, n]): give them, \
                    or a projected length k to seed them
                    """)
            }
            return try LinformerAttention(projections: projections, causal: causal)
        },
        cost: { settings, shape, pass, _ in
            LinformerAttention.cost(
                for: shape, projectedLength: settings.projectedLength ?? 1,
                sharing: settings.sharing ?? .keyValue, pass: pass)
        },
        coreCost: { settings, shape, _ in
            let (k, sharing) = (settings.projectedLength ?? 1, settings.sharing ?? .keyValue)
            let forward = LinformerAttention.cost(for: shape, projectedLength: k, sharing: sharing)
            let backward = LinformerAttention.backwardCost(for: shape, projectedLength: k, sharing: sharing)
            return CoreCost(forward: forward, backward: backward, savedBytes: forward.intermediateBytes)
        },
        verificationKernels: { shape, projectedLength, seed in
            ProjectionSharing.allCases.map { sharing in
                LinformerAttention(
                    nonCausal: LinformerProjections.seeded(
                        k: projectedLength, length: shape.length, heads: shape.heads, sharing: sharing, seed: seed))
            }
        },
        layerCores: { settings in
            // Key-value sharing (the paper's layerwise form with one layer), E = F per layer.
            let (n, heads) = (settings.length, settings.heads)
            let cores: [any DifferentiableAttention] = (0..<settings.layers).map { l in
                LinformerAttention(
                    nonCausal: LinformerProjections.seeded(
                        k: min(settings.projectedLength, n), length: n, heads: heads, sharing: .keyValue,
                        seed: settings.seed &+ UInt64(l)))
            }
            return [("linformer key-value", cores)]
        })
}
