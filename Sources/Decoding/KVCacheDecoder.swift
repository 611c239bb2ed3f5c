import AttentionKernels

/// Softmax attention decoding with a key/value cache: each step appends one key and one value row,
/// then attends over every cached row.
///
///     K[i] = k_i,  V[i] = v_i,   out_i = Σ_{j ≤ i} exp(q_i·K[j]/√d − m) V[j] / Σ_{j ≤ i} exp(q_i·K[j]/√d − m)
///
/// with m the maximum score. Cost of step i: `4·(i+1)·d` FLOPs (two matrix-vector products over
/// i + 1 cached rows), so O(i) per token and O(N²·d) per sequence; it streams the whole cache from
/// memory every step. Memory: the cache is preallocated to the sequence length N, `2·N·d` floats plus
/// `N` scores per slice, so peak memory grows with N (the RNN state of ``RecurrentDecoder`` does not).
/// Numerics: as in ``SoftmaxAttention``, the scores are shifted by their maximum before `exp`
/// (``Softmax``) and the division by the weights' sum is deferred to the d outputs. Unlike it, the
/// scale 1/√d and the division are each folded into a GEMV's `alpha` (``SoftmaxAttention`` scales in
/// its GEMM's `alpha` but divides the output rows in a pass of their own), only the i + 1 cached rows
/// are scored (no masked tail), and the sums run in another order (GEMVs per step against GEMMs), so
/// the two agree within the reference's bound, not bit for bit.
public final class KVCacheDecoder: TokenDecoder {
    let keys: Tensor  // [slices, N, d]
    let values: Tensor  // [slices, N, d]
    let scores: Tensor  // [slices, 1, N]
    let scale: Float

    public init(slices: Int, capacity: Int, headDim: Int) {
        keys = Tensor(uninitialized: [slices, capacity, headDim], label: "KV cache: keys")
        values = Tensor(uninitialized: [slices, capacity, headDim], label: "KV cache: values")
        scores = Tensor(uninitialized: [slices, 1, capacity], label: "KV cache: scores row")
        scale = 1 / Float(headDim).squareRoot()
    }

    @inline(__always)
    public func step(
        slice: Int, position i: Int, q: UnsafeMutablePointer<Float>, k: UnsafeMutablePointer<Float>,
        v: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>
    ) {
        let (K, V, p) = (keys.matrix(slice), values.matrix(slice), scores.matrix(slice).row(0))
        let d = K.cols
        precondition(i < K.rows, "decode position \(i) is past the cache's capacity \(K.rows)")
        // pass 1: append the new key and value.
        K.row(i).update(from: k, count: d)
        V.row(i).update(from: v, count: d)
        let cached = i + 1
        // pass 2: scores of q against every cached key.
        // [i+1, d]·[d] → [i+1]
        BLAS.gemv(MatrixView(base: K.base, rows: cached, cols: d), q, into: p, alpha: scale)
        // pass 3: unnormalised weights exp(s − max), and their sum (≥ 1).
        let sum = Softmax.exponentiate(p, valid: cached, count: cached)
        // pass 4: the weighted sum of cached values, divided by the weights' sum.
        // [i+1, d]ᵀ·[i+1] → [d]
        BLAS.gemv(MatrixView(base: V.base, rows: cached, cols: d), transpose: true, p, into: out, alpha: 1 / sum)
    }

    public static func stepFlops(position: Int, headDim: Int) -> Double {
        4 * (Double(position) + 1) * Double(headDim)
    }

    /// `slices·(2·N·d + N)` floats: keys, values and one row of scores (saturating).
    public static func stateBytes(slices: Int, capacity: Int, headDim: Int) -> Int {
        AttentionCost.floats(slices, .saturatingSum(.saturatingProduct(2, capacity, headDim), capacity))
    }
}
