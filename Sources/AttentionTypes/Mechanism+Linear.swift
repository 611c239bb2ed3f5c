/// Linear attention ("Transformers are RNNs"), φ(Q)(Σ φ(K) Vᵀ) / (φ(Q)·Σ φ(K) + ε), φ = elu + 1;
/// causal as a prefix recurrence, and decoding as an RNN.
/// Kernel side: `LinearAttention+Mechanism.swift` (AttentionKernels).
extension MechanismDescriptor {
    public static let linear = MechanismDescriptor(
        name: "linear", title: "linear attention",
        supports: Support(causal: true, decoding: .decoders([.recurrent])),
        rank: 3, paperRank: 2, style: PlotStyle(colors: ["#27ae60", "#16a085"]),
        peer: PeerForm("the formula in batched matmuls"))
}

extension Mechanism {
    public static let linear = MechanismDescriptor.linear.mechanism
}
