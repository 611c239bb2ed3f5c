/// Performer's kernels (its C-free half: ``MechanismDescriptor/performer``). Its features are
/// seeded from the point's seed (each layer of a stack its own), m from the settings (nil: 256).
extension MechanismKernels {
    public static let performer = MechanismKernels(
        .performer,
        make: { settings, _, seed, headDim in
            PerformerAttention(
                features: settings.features ?? PerformerAttention.defaultFeatures, headDim: headDim, seed: seed,
                causal: settings.causal)
        },
        cost: { settings, shape, pass, _ in
            let m = settings.features ?? PerformerAttention.defaultFeatures
            let forward = PerformerAttention.cost(for: shape, features: m)
            return .of(
                pass, forward: forward,
                backward: PerformerAttention.backwardCost(for: shape, features: m, causal: settings.causal),
                savedBytes: forward.intermediateBytes)
        },
        coreCost: { settings, shape, _ in
            let m = settings.features ?? PerformerAttention.defaultFeatures
            let forward = PerformerAttention.cost(for: shape, features: m)
            return CoreCost(
                forward: forward,
                backward: PerformerAttention.backwardCost(for: shape, features: m, causal: settings.causal),
                savedBytes: forward.intermediateBytes)
        },
        verificationKernels: { shape, _, seed in
            [false, true].map { PerformerAttention(features: 32, headDim: shape.headDim, seed: seed, causal: $0) }
        },
        layerCores: { settings in
            [false, true].map { causal in
                let cores: [any DifferentiableAttention] = (0..<settings.layers).map { l in
                    PerformerAttention(
                        features: 32, headDim: settings.headDim, seed: settings.seed &+ UInt64(l), causal: causal)
                }
                return ("performer" + (causal ? " (causal)" : ""), cores)
            }
        })
}
