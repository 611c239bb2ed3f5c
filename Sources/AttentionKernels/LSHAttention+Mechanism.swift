/// Reformer's kernels (its C-free half: ``MechanismDescriptor/reformer``): rounds, buckets and
/// chunk from the settings (nil: 1, 64, 32), rotations seeded from the point's seed. Its cost
/// depends on the thread count (one scratch per worker), and its training forward keeps the saved
/// orders and log-sum-exps beside its scratch, as flash keeps its statistics.
extension MechanismKernels {
    public static let reformer = MechanismKernels(
        .reformer,
        make: { settings, _, seed, _ in LSHAttention(settings, seed: seed) },
        cost: { settings, shape, pass, threads in
            let (rounds, buckets, chunk) = LSHAttention.axes(settings)
            return LSHAttention.cost(
                for: shape, rounds: rounds, buckets: buckets, chunk: chunk, causal: settings.causal, pass: pass,
                threads: threads)
        },
        coreCost: { settings, shape, threads in
            let (rounds, buckets, chunk) = LSHAttention.axes(settings)
            return CoreCost(
                forward: LSHAttention.cost(
                    for: shape, rounds: rounds, buckets: buckets, chunk: chunk, threads: threads),
                backward: LSHAttention.backwardCost(
                    for: shape, rounds: rounds, buckets: buckets, chunk: chunk, threads: threads),
                savedBytes: LSHAttention.savedBytes(for: shape, rounds: rounds), savedBesideIntermediates: true)
        },
        decodeCore: { settings, seed, _ in
            var causal = settings
            causal.causal = true
            return LSHAttention(causal, seed: seed)
        },
        verificationKernels: { _, _, seed in
            // One round and four, small chunks and buckets so short sequences span several chunks.
            [(1, false), (1, true), (4, false), (4, true)].map { rounds, causal in
                LSHAttention(rounds: rounds, buckets: 8, chunk: 8, causal: causal, seed: seed)
            }
        },
        layerCores: { settings in
            [false, true].map { causal in
                let cores: [any DifferentiableAttention] = (0..<settings.layers).map { l in
                    LSHAttention(rounds: 2, buckets: 8, chunk: 8, causal: causal, seed: settings.seed &+ UInt64(l))
                }
                return ("reformer lsh-2" + (causal ? " (causal)" : ""), cores)
            }
        })
}

extension LSHAttention {
    /// The kernel of a sweep point's settings (nil axes: 1 round, 64 buckets, chunks of 32).
    public init(_ settings: MechanismSettings, seed: UInt64) {
        let (rounds, buckets, chunk) = Self.axes(settings)
        self.init(rounds: rounds, buckets: buckets, chunk: chunk, causal: settings.causal, seed: seed)
    }

    /// The settings' rounds, buckets and chunk, with the defaults for nil.
    static func axes(_ settings: MechanismSettings) -> (rounds: Int, buckets: Int, chunk: Int) {
        (settings.hashRounds ?? 1, settings.buckets ?? 64, settings.chunk ?? 32)
    }
}

extension LSHAttention: RandomlyProjected {
    /// The rotations R_0 … R_{R−1}, `[R, d, b/2]`.
    public func randomProjection(headDim: Int) -> Tensor { rotations(headDim: headDim) }
}
