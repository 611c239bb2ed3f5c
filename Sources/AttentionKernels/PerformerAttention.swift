/// Performer's FAVOR+ attention (Choromanski et al. 2021): linear attention whose feature map is m
/// positive orthogonal random features (``RandomFeatures``), an unbiased estimate of softmax attention:
///
///     out_i = φ(q_i)ᵀ (Σ_j φ(k_j) v_jᵀ) / (φ(q_i)ᵀ Σ_j φ(k_j) + ε)        (j ≤ i when causal)
///
/// It is linear attention's kernel with another feature map: the contraction is
/// ``LinearAttention/contract(phiQ:phiK:v:state:keySum:into:epsilon:)`` and the causal step
/// ``LinearAttention/prefixStep(state:keySum:phiQ:phiK:v:out:epsilon:)``, over m features instead of d.
///
/// Cost per call: `b·h·(4·n·m·d + 2·n·m·d·2 + 5·n·m + 2·n·d)` FLOPs: the two feature maps' logits
/// (`2·n·m·d` each), their exps, and the contraction's `4·n·m·d` (causal: the same sums as a prefix
/// recurrence, one pass over the `[m, d]` state per row). Extra memory per slice: Φq, Φk (`[n, m]`
/// each), the state S (`[m, d]`) and z (m floats); the features W (`[m, d]`) are the kernel's
/// parameters. O(n·m) memory, never n×n.
/// Numerics: the features are positive, so the denominator has no cancellation; the shifts of
/// ``RandomFeatures`` keep every feature ≤ 1/√m; ε = 1e-6 as linear attention's.
public struct PerformerAttention: AttentionKernel {
    public let isCausal: Bool
    public let features: RandomFeatures
    public let epsilon: Float
    public var mechanism: Mechanism { .performer }
    public var name: String { "performer m=\(features.count)" + (isCausal ? " (causal)" : "") }

    /// LRA's feature count.
    public static let defaultFeatures = 256

    public init(features: RandomFeatures, causal: Bool = false, epsilon: Float = 1e-6) {
        (self.features, self.isCausal, self.epsilon) = (features, causal, epsilon)
    }

    /// `m` features for head dimension `headDim`, seeded.
    public init(features m: Int = defaultFeatures, headDim: Int, seed: UInt64, causal: Bool = false) {
        self.init(features: RandomFeatures(count: m, headDim: headDim, seed: seed), causal: causal)
    }

    public func callAsFunction(q: Tensor, k: Tensor, v: Tensor) -> Tensor {
        forward(q: q, k: k, v: v).output
    }

    /// The features Φq, Φk (`[b, h, n, m]` each), the state S (`[b, h, m, d]`) and z (`[b, h, 1, m]`)
    /// of a forward pass, kept for the backward.
    public struct Saved: Sendable {
        public let phiQ: Tensor
        public let phiK: Tensor
        public let state: Tensor
        public let keySum: Tensor
    }

    /// The forward pass with its intermediates (``callAsFunction(q:k:v:)`` frees them on return).
    func forward(q: Tensor, k: Tensor, v: Tensor) -> (output: Tensor, saved: Saved) {
        let shape = checkedShape(q: q, k: k, v: v)
        let (n, d, m) = (shape.length, shape.headDim, features.count)
        precondition(
            d == features.headDim, "\(name): head dimension \(d), but the features are for d = \(features.headDim)")
        let phiQ = Tensor(uninitialized: [shape.batch, shape.heads, n, m], label: "φ(Q)")  // [b, h, n, m]
        let phiK = Tensor(uninitialized: [shape.batch, shape.heads, n, m], label: "φ(K)")  // [b, h, n, m]
        let state = Tensor(uninitialized: [shape.batch, shape.heads, m, d], label: "state φ(K)ᵀV")  // [b, h, m, d]
        let keySum = Tensor(uninitialized: [shape.batch, shape.heads, 1, m], label: "key sum Σφ(K)")  // [b, h, 1, m]
        let out = Tensor(uninitialized: shape.dims, label: "output")  // [b, h, n, d]
        let (eps, causal, map) = (epsilon, isCausal, features)
        ComputeThreads.forEachSlice(shape.slices) { s, _ in
            let (fq, fk, S, z, o) = (
                phiQ.matrix(s), phiK.matrix(s), state.matrix(s), keySum.matrix(s).row(0), out.matrix(s)
            )
            var clock = PhaseClock.start()
            map.apply(q.matrix(s), into: fq, query: true)
            map.apply(k.matrix(s), into: fk, query: false)
            clock.lap(Self.phases.features)
            guard causal else {
                LinearAttention.contract(phiQ: fq, phiK: fk, v: v.matrix(s), state: S, keySum: z, into: o, epsilon: eps)
                return
            }
            S.base.update(repeating: 0, count: m * d)
            z.update(repeating: 0, count: m)
            let vs = v.matrix(s)
            for i in 0..<n {
                LinearAttention.prefixStep(
                    state: S, keySum: z, phiQ: fq.row(i), phiK: fk.row(i), v: vs.row(i), out: o.row(i), epsilon: eps)
            }
            clock.lap(Self.phases.prefix)
        }
        return (out, Saved(phiQ: phiQ, phiK: phiK, state: state, keySum: keySum))
    }

    /// Per slice: the two feature logits, [n, d]·[d, m] → [n, m]; non-causal, the contraction's
    /// Φkᵀ V, [m, n]·[n, d] → [m, d], and Φq S, [n, m]·[m, d] → [n, d] (causal: the recurrence, no product).
    /// The forward's passes, as `attnbench profile` names them (the non-causal contraction's are
    /// linear attention's, ``LinearAttention/contract(phiQ:phiK:v:state:keySum:into:epsilon:)``).
    static let phases = (features: Phase.named("random features φ(Q), φ(K)"), prefix: Phase.named("prefix sums"))

    public func products(for shape: AttentionShape) -> [GemmShape] {
        let (n, d, m, slices) = (shape.length, shape.headDim, features.count, shape.slices)
        let logits = GemmShape(m: n, k: d, n: m, transposeB: true, count: 2 * slices)  // [n, d]·[d, m] → [n, m]
        guard !isCausal else { return [logits] }
        return [
            logits,
            GemmShape(m: m, k: n, n: d, transposeA: true, count: slices),  // [m, n]·[n, d] → [m, d]
            GemmShape(m: n, k: m, n: d, count: slices),  // [n, m]·[m, d] → [n, d]
        ]
    }

    public func cost(for shape: AttentionShape) -> AttentionCost {
        Self.cost(for: shape, features: features.count)
    }

    /// The forward's cost without building the features: `b·h·(8·n·m·d + 5·n·m + 2·n·d)` FLOPs (the
    /// same count, causal or not: the recurrence does the contraction's sums in another order);
    /// intermediates `b·h·(2·n·m + m·d + m)` floats; output `b·h·n·d`; the features' W `m·d`
    /// (parameters).
    public static func cost(for shape: AttentionShape, features m: Int) -> AttentionCost {
        let (n, d) = (shape.length, shape.headDim)
        let perSlice = Int.saturatingSum(.saturatingProduct(2, n, m), .saturatingProduct(m, d), m)
        let (nd, dd, md) = (Double(n), Double(d), Double(m))
        return AttentionCost(
            flops: Double(shape.batch) * Double(shape.heads) * (8 * nd * md * dd + 5 * nd * md + 2 * nd * dd),
            intermediateBytes: AttentionCost.floats(shape.slices, perSlice),
            outputBytes: AttentionCost.floats(shape.slices, n, d),
            parameterBytes: AttentionCost.floats(m, d))
    }
}

extension PerformerAttention: RandomlyProjected {
    /// W = d^(−1/4)·ω, `[m, d]`.
    public func randomProjection(headDim _: Int) -> Tensor {
        Tensor(
            shape: [features.count, features.headDim], scalars: features.projection.scalars,
            label: "projection W (copy)")
    }
}
