/// What an attention core costs inside an encoder layer's model: the three figures of a
/// ``DifferentiableAttention`` plus how its training forward holds what it saves. It lives with the
/// kernels so that a mechanism's registry entry (``MechanismKernels/coreCost``) can give it; the
/// encoder layer's model (module EncoderLayer) calls it `EncoderStack.CoreCost`.
public struct CoreCost: Equatable, Sendable {
    /// One inference call (``AttentionKernel/cost(for:)``).
    public var forward: AttentionCost
    /// One backward call given a saved forward (``DifferentiableAttention/backwardCost(for:)``).
    public var backward: AttentionCost
    /// Bytes the training forward keeps beside its output (``DifferentiableAttention/savedBytes(for:)``).
    public var savedBytes: Int
    /// Whether the saved bytes are allocated beside the forward's intermediates (flash attention's
    /// row log-sum-exp) rather than being some of them (standard, Linformer and linear attention
    /// keep their own intermediates): the training forward then peaks at saved + forward peak.
    public var savedBesideIntermediates: Bool

    public init(
        forward: AttentionCost, backward: AttentionCost, savedBytes: Int, savedBesideIntermediates: Bool = false
    ) {
        self.forward = forward
        self.backward = backward
        self.savedBytes = savedBytes
        self.savedBesideIntermediates = savedBesideIntermediates
    }

    /// The costs of `kernel` on `shape`; flash attention's at `threads` workers (its tiles are per worker).
    public init(_ kernel: any DifferentiableAttention, shape: AttentionShape, threads: Int = ComputeThreads.current) {
        if let flash = kernel as? FlashAttention {
            self.init(
                forward: flash.cost(for: shape, threads: threads),
                backward: flash.backwardCost(for: shape, threads: threads),
                savedBytes: flash.savedBytes(for: shape), savedBesideIntermediates: true)
        } else {
            self.init(
                forward: kernel.cost(for: shape), backward: kernel.backwardCost(for: shape),
                savedBytes: kernel.savedBytes(for: shape))
        }
    }

    /// The costs of a mechanism's core without building it (for sweep planning; nothing is
    /// allocated), from its ``MechanismKernels/coreCost``: linear attention's causal form is the
    /// recurrence (the suite's default); Linformer needs `projectedLength` and `sharing` (nil
    /// reads as k = 1, key-value).
    public static func of(
        _ mechanism: Mechanism, causal: Bool, shape: AttentionShape, projectedLength: Int? = nil,
        sharing: ProjectionSharing? = nil, threads: Int = ComputeThreads.current
    ) -> CoreCost {
        let settings = MechanismSettings(causal: causal, projectedLength: projectedLength, sharing: sharing)
        return mechanism.kernels.coreCost(settings, shape, threads)
    }

    /// ``of(_:causal:shape:projectedLength:sharing:threads:)`` with every axis of the mechanism
    /// (``MechanismSettings``; nil values read as the kernel's defaults).
    public static func of(
        _ mechanism: Mechanism, settings: MechanismSettings, shape: AttentionShape,
        threads: Int = ComputeThreads.current
    ) -> CoreCost {
        mechanism.kernels.coreCost(settings, shape, threads)
    }

    /// The training forward's own peak: the forward's, plus the saved bytes when they are separate.
    package var trainingForwardPeak: Int {
        savedBesideIntermediates ? .saturatingSum(savedBytes, forward.callPeakBytes) : forward.callPeakBytes
    }
}
