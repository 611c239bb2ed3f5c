/// Linformer, softmax(Q (E K)ᵀ/√d) (F V) with E, F `[k, n]`: its sweeps add k and the projections'
/// sharing; the paper defines no causal form, so it neither masks nor decodes.
/// Kernel side: `LinformerAttention+Mechanism.swift` (AttentionKernels).
extension MechanismDescriptor {
    public static let linformer = MechanismDescriptor(
        name: "linformer", title: "Linformer", axes: [.sharing, .projectedLength],
        supports: Support(
            causal: false, noCausalReason: "E and F mix all n positions into every projected row",
            decoding: .unsupported(
                reason: """
                    Linformer has no causal form, so it cannot decode: E and F mix all n positions into every projected key, \
                    and the paper defines no autoregressive variant
                    """)),
        rank: 2, paperRank: 3,
        style: PlotStyle(colors: ["#2e86c1", "#8e44ad", "#34495e", "#d4ac0d", "#7f8c8d"], colorBy: .projectedLength),
        peer: PeerForm("the formula in batched matmuls"), approximatesSoftmax: true)
}

extension Mechanism {
    public static let linformer = MechanismDescriptor.linformer.mechanism
}
