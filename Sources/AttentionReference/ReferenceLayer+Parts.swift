import AttentionKernels
import EncoderLayer

/// The encoder layer's parts in Float64, forward and backward, each from the inputs the part is
/// given (a part's check gives it the float32 tensors the kernel's part received, with bound 0):
///
/// 1. projections: Q, K, V = X Wq + bq, … from X;
/// 2. the core: ``ReferenceAttention`` (and its gradients) on the kernel's Q, K, V (and dA);
/// 3. attention output: H = LayerNorm1(X + A Wo + bo) from X and A;
/// 4. feed-forward: Y = LayerNorm2(H + GELU(H W1 + b1) W2 + b2) from H.
///
/// The backward parts run in the reverse order from the gradient each part is handed (dY, dH, dA
/// and dZ₁, dQ, dK, dV), through the same part's forward recomputed here with its bounds (the kernel
/// reads its saved U, x̂, r, which carry exactly those forward errors).
extension ReferenceLayer {
    // MARK: - Forward

    /// Part 1: Q, K, V `[T, D]` (heads side by side) from X `[T, D]`.
    static func projections(input x: Field, weights w: EncoderWeights) -> (q: Field, k: Field, v: Field) {
        (
            product(x, w.wq.matrix(0), bias: w.bq), product(x, w.wk.matrix(0), bias: w.bk),
            product(x, w.wv.matrix(0), bias: w.bv)
        )
    }

    /// Part 3: Z₁ = X + A Wo + bo and its LayerNorm, from X and A (`[T, D]`, A's heads side by side).
    static func attentionOutput(input x: Field, attention a: Field, weights w: EncoderWeights) -> Normalized {
        layerNorm(product(a, w.wo.matrix(0), bias: w.bo, residual: x), gamma: w.gamma1, beta: w.beta1)
    }

    /// Part 4's forward values: U = H W1 + b1, G = GELU(U), and LayerNorm2(H + G W2 + b2).
    struct FeedForward {
        var preActivation, activation: Field
        var normalized: Normalized
    }

    static func feedForward(hidden h: Field, weights w: EncoderWeights) -> FeedForward {
        let u = product(h, w.w1.matrix(0), bias: w.b1)
        let g = gelu(u)
        let z = product(g, w.w2.matrix(0), bias: w.b2, residual: h)
        return FeedForward(preActivation: u, activation: g, normalized: layerNorm(z, gamma: w.gamma2, beta: w.beta2))
    }

    // MARK: - Backward

    /// Part 4 backward from dY: dH (= dZ₂ + dU W1ᵀ) and the FFN's and LayerNorm 2's parameter
    /// gradients, named as ``EncoderWeights/named`` (`dh` for dH).
    static func feedForwardBackward(hidden h: Field, weights w: EncoderWeights, gradient dy: Field) -> [String: Field] {
        let forward = feedForward(hidden: h, weights: w)
        let (dz, dGamma, dBeta) = layerNormBackward(
            dy, normalized: forward.normalized.normalized,
            inverseStd: forward.normalized.inverseStd, gamma: w.gamma2)
        let dActivation = productTransposed([(dz, w.w2.matrix(0))])  // dG = dZ₂ W2ᵀ
        let du = hadamard(dActivation, geluDerivative(forward.preActivation))
        return [
            "dh": productTransposed([(du, w.w1.matrix(0))], residual: dz),
            "w2": weightGradient(forward.activation, dz), "b2": columnSums(dz),
            "w1": weightGradient(h, du), "b1": columnSums(du), "gamma2": dGamma, "beta2": dBeta,
        ]
    }

    /// Part 3 backward from dH: dZ₁ (`dz`, the residual's share of dX), dA (`da`, heads side by side)
    /// and dWo, dbo, dγ₁, dβ₁.
    static func attentionOutputBackward(
        input x: Field, attention a: Field, weights w: EncoderWeights, gradient dh: Field
    ) -> [String: Field] {
        let forward = attentionOutput(input: x, attention: a, weights: w)
        let (dz, dGamma, dBeta) = layerNormBackward(
            dh, normalized: forward.normalized, inverseStd: forward.inverseStd,
            gamma: w.gamma1)
        return [
            "dz": dz, "da": productTransposed([(dz, w.wo.matrix(0))]), "wo": weightGradient(a, dz),
            "bo": columnSums(dz), "gamma1": dGamma, "beta1": dBeta,
        ]
    }

    /// Part 1 backward: dX = dZ₁ + dQ Wqᵀ + dK Wkᵀ + dV Wvᵀ (one sum of 3D + 1 terms) and the
    /// projections' weight and bias gradients, from X, dZ₁ and dQ, dK, dV (`[T, D]`, heads side by side).
    static func projectionBackward(
        input x: Field, weights w: EncoderWeights, residual dz: Field, dq: Field, dk: Field, dv: Field
    ) -> [String: Field] {
        [
            "dx": productTransposed([(dq, w.wq.matrix(0)), (dk, w.wk.matrix(0)), (dv, w.wv.matrix(0))], residual: dz),
            "wq": weightGradient(x, dq), "wk": weightGradient(x, dk), "wv": weightGradient(x, dv),
            "bq": columnSums(dq), "bk": columnSums(dk), "bv": columnSums(dv),
        ]
    }

    // MARK: - Measured deviations

    /// `reference` with its bounds replaced by the measured |float32 − Float64| of the kernel's own
    /// value `kernel` (exact in Float64): what the end-to-end check propagates into the next part
    /// instead of the worst-case bound, as ``ReferenceAttention/linformerGradients(q:k:v:projections:outputGradient:projected:)``
    /// does with Linformer's K′ and V′. `kernel` is `[b, n, c]` (or `[b, h, n, d]` with `heads`).
    static func measured(_ reference: Field, against kernel: Tensor, heads: Bool = false) -> Field {
        let observed = heads ? tokens(heads: kernel) : tokens(kernel)
        precondition(observed.values.count == reference.values.count, "measured deviation: sizes differ")
        var f = reference
        for i in 0..<f.values.count { f.bounds[i] = abs(observed.values[i] - f.values[i]) }
        return f
    }

    // MARK: - On tensors (for tests: the finite-difference checks of these gradients)

    /// Part 3 forward on tensors: H `[b, n, D]` from X `[b, n, D]` and A `[b, h, n, d]`.
    public static func attentionOutput(input x: Tensor, attention a: Tensor, weights w: EncoderWeights)
        -> ReferenceAttention.Output
    {
        attentionOutput(input: tokens(x), attention: tokens(heads: a), weights: w).output.output
    }

    /// Part 3 backward on tensors, for dH: `dz` (dZ₁, `[b, n, D]`), `da` (`[b, h, n, d]`), `wo`, `bo`,
    /// `gamma1`, `beta1`.
    public static func attentionOutputGradients(
        input x: Tensor, attention a: Tensor, weights w: EncoderWeights, outputGradient dh: Tensor
    ) -> [String: ReferenceAttention.Output] {
        let gradients = attentionOutputBackward(
            input: tokens(x), attention: tokens(heads: a), weights: w, gradient: tokens(dh))
        var all = gradients.mapValues(\.output)
        if let da = gradients["da"] { all["da"] = headsFirst(da, batch: x.shape[0], heads: a.shape[1]) }
        return all
    }

    /// Part 4 forward on tensors: Y `[b, n, D]` from H `[b, n, D]`.
    public static func feedForward(hidden h: Tensor, weights w: EncoderWeights) -> ReferenceAttention.Output {
        feedForward(hidden: tokens(h), weights: w).normalized.output.output
    }

    /// Part 4 backward on tensors, for dY: `dh`, `w1`, `b1`, `w2`, `b2`, `gamma2`, `beta2`.
    public static func feedForwardGradients(hidden h: Tensor, weights w: EncoderWeights, outputGradient dy: Tensor)
        -> [String: ReferenceAttention.Output]
    {
        feedForwardBackward(hidden: tokens(h), weights: w, gradient: tokens(dy)).mapValues(\.output)
    }

    /// Part 1 forward on tensors: Q, K, V `[b, h, n, d]` from X `[b, n, D]`.
    public static func projections(input x: Tensor, weights w: EncoderWeights, heads: Int) -> (
        q: ReferenceAttention.Output, k: ReferenceAttention.Output, v: ReferenceAttention.Output
    ) {
        let (q, k, v) = projections(input: tokens(x), weights: w)
        let b = x.shape[0]
        return (
            headsFirst(q, batch: b, heads: heads), headsFirst(k, batch: b, heads: heads),
            headsFirst(v, batch: b, heads: heads)
        )
    }

    /// Part 1 backward on tensors, from dZ₁ `[b, n, D]` and dQ, dK, dV `[b, h, n, d]`: `dx`, `wq`,
    /// `wk`, `wv`, `bq`, `bk`, `bv`.
    public static func projectionGradients(
        input x: Tensor, weights w: EncoderWeights, residual dz: Tensor, dq: Tensor, dk: Tensor, dv: Tensor
    ) -> [String: ReferenceAttention.Output] {
        projectionBackward(
            input: tokens(x), weights: w, residual: tokens(dz), dq: tokens(heads: dq), dk: tokens(heads: dk),
            dv: tokens(heads: dv)
        ).mapValues(\.output)
    }
}
