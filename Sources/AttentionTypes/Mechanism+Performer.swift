/// Performer's FAVOR+ (Choromanski et al. 2021): linear attention whose feature map is m positive
/// orthogonal random features, φ(x) = exp(ωᵢᵀx′ − ‖x′‖²/2)/√m with x′ = x·d^(−1/4), an unbiased
/// estimate of softmax attention; causal as linear attention's prefix sums. Its sweeps add the
/// feature count m (`features`, 256 in LRA).
/// Kernel side: `PerformerAttention+Mechanism.swift` (AttentionKernels).
extension MechanismDescriptor {
    public static let performer = MechanismDescriptor(
        name: "performer", title: "Performer (FAVOR+)", axes: [.features],
        supports: Support(
            causal: true,
            decoding: .unsupported(
                reason: """
                    performer has no decoder here: none of the papers' generation tables has a Performer row, \
                    and its causal form is measured as a forward or training pass (--causal true)
                    """)),
        rank: 5, paperRank: 5, style: PlotStyle(colors: ["#e84393", "#b71c6b"]), approximatesSoftmax: true)
}

extension Mechanism {
    public static let performer = MechanismDescriptor.performer.mechanism
}
