/// Standard attention, softmax(Q Kᵀ/√d) V with the full `[n, n]` scores: the papers' baseline.
/// Kernel side: `SoftmaxAttention+Mechanism.swift` (AttentionKernels).
extension MechanismDescriptor {
    public static let standard = MechanismDescriptor(
        name: "standard", title: "standard attention", label: "softmax",
        supports: Support(causal: true, decoding: .decoders([.kvCache, .recompute])),
        rank: 0, paperRank: 0, style: PlotStyle(colors: ["#c0392b", "#e67e22"]),
        peer: PeerForm("matmul-softmax-matmul", fused: "flash"))
}

extension Mechanism {
    public static let standard = MechanismDescriptor.standard.mechanism
}
