/// Reformer's LSH attention (Kitaev, Kaiser, Levskaya 2020): shared QK (keys are the queries
/// normalised to unit length), each of `hash-rounds` rounds hashes the keys into `buckets` buckets
/// by a seeded random rotation, sorts by (bucket, position) and attends within chunks of `chunk`
/// sorted tokens and the chunk before; the rounds are combined by their log-sum-exp weights. Causal
/// masks later positions; it decodes by re-running the model over the prefix, as the RNN paper's
/// LSH rows do. Its sweeps add the three hashing axes; the curve label names the rounds ("lsh-4").
/// Kernel side: `LSHAttention+Mechanism.swift` (AttentionKernels).
extension MechanismDescriptor {
    public static let reformer = MechanismDescriptor(
        name: "reformer", title: "Reformer (LSH attention)", label: "lsh",
        axes: [.hashRounds, .buckets, .chunk],
        supports: Support(causal: true, decoding: .decoders([.recompute]), decodesAtCoreScope: false),
        rank: 4, paperRank: 4, style: PlotStyle(colors: ["#a0522d", "#6e2c00", "#d2a679"], colorBy: .hashRounds))
}

extension Mechanism {
    public static let reformer = MechanismDescriptor.reformer.mechanism
}
