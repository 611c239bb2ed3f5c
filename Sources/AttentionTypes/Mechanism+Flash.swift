/// Flash attention: standard attention's exact result over query×key tiles with an online softmax,
/// never holding the `[n, n]` scores. A decoding step has no score matrix to tile, so it has no
/// decode mode of its own.
/// Kernel side: `FlashAttention+Mechanism.swift` (AttentionKernels).
extension MechanismDescriptor {
    public static let flash = MechanismDescriptor(
        name: "flash", title: "flash attention",
        supports: Support(
            causal: true,
            decoding: .unsupported(
                reason: """
                    flash attention has no decode mode of its own: a decoding step is one query row against the KV cache, \
                    with no score matrix to tile, which is the standard decoder (--mechanism standard --mode decode)
                    """)),
        rank: 1, paperRank: 1, style: PlotStyle(colors: ["#7b241c", "#d98880"]),
        peer: PeerForm("torch.nn.functional.scaled_dot_product_attention"))
}

extension Mechanism {
    public static let flash = MechanismDescriptor.flash.mechanism
}
