import AttentionKernels

/// Linear attention decoding in its RNN form ("Transformers are RNNs", Eqs. 16–20): the state is a
/// `d×d` matrix and a `d` vector per (batch, head), whatever the position.
///
///     s_i = s_{i-1} + φ(k_i) v_iᵀ,   z_i = z_{i-1} + φ(k_i),   out_i = φ(q_i)ᵀ s_i / (φ(q_i)·z_i + ε)
///
/// Cost of every step: `4·d² + 3·d` FLOPs, O(1) in the position; memory `d² + 3·d` floats per slice,
/// O(1) in the sequence length. The step is ``LinearAttention``'s causal recurrence itself, so the
/// decoded outputs equal the causal forward pass on the same q, k, v bit for bit.
public final class RecurrentDecoder: TokenDecoder {
    let state: Tensor  // s_i: [slices, d, d]
    let keySum: Tensor  // z_i: [slices, 1, d]
    let phi: Tensor  // φ(q_i), φ(k_i): [slices, 2, d]
    let epsilon: Float

    public init(slices: Int, capacity: Int, headDim: Int) {
        state = Tensor(zeros: [slices, headDim, headDim], label: "recurrent: state S")
        keySum = Tensor(zeros: [slices, 1, headDim], label: "recurrent: key sum z")
        phi = Tensor(uninitialized: [slices, 2, headDim], label: "recurrent: φ(q), φ(k) rows")
        epsilon = LinearAttention(causal: true).epsilon
    }

    @inline(__always)
    public func step(
        slice: Int, position: Int, q: UnsafeMutablePointer<Float>, k: UnsafeMutablePointer<Float>,
        v: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>
    ) {
        let scratch = phi.matrix(slice)
        LinearAttention.recurrentStep(
            state: state.matrix(slice), keySum: keySum.matrix(slice).row(0), phiQ: scratch.row(0),
            phiK: scratch.row(1), q: q, k: k, v: v, out: out, epsilon: epsilon)
    }

    public static func stepFlops(position: Int, headDim: Int) -> Double {
        let d = Double(headDim)
        return 4 * d * d + 3 * d
    }

    /// `slices·(d² + 3d)` floats: s_i, z_i, φ(q_i), φ(k_i) (saturating).
    public static func stateBytes(slices: Int, capacity: Int, headDim: Int) -> Int {
        AttentionCost.floats(
            slices, .saturatingSum(.saturatingProduct(headDim, headDim), .saturatingProduct(3, headDim)))
    }
}
