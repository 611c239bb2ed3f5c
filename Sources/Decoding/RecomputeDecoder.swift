import AttentionKernels

/// Softmax attention decoding without a cache, the "Softmax" rows of "Transformers are RNNs" Tables
/// 4 and 5: each new token re-runs causal softmax attention over the whole prefix. Step i stores
/// q_i, k_i, v_i, then computes, as ``SoftmaxAttention`` computes one causal slice of i + 1 rows,
///
///     S = Q K ᵀ/√d              [i+1, d]·[d, i+1] → [i+1, i+1]    (the whole causal prefix)
///     W = exp(S − rowmax), masked above the diagonal; l = row sums of W
///     O = (W V) / l             [i+1, i+1]·[i+1, d] → [i+1, d]
///
/// and returns the last row, y_i = O_i; the other rows are what a model without a cache recomputes
/// and throws away.
///
/// Cost of step i: `4·(i+1)²·d` FLOPs (both products in full, as the causal core computes them), so
/// `Σ_i 4·(i+1)²·d = (2/3)·d·N(N+1)(2N+1)` per sequence: O(N³·d) against the cache's O(N²·d).
/// Memory per slice, allocated once for all N steps: the prefix's q, k, v (`3·N·d` floats) and the
/// core's own buffers at n = N, the scores and row sums and the output (`N² + N + N·d` floats):
/// the n×n scores a re-run holds at its last step. Numerics: ``SoftmaxAttention``'s (scale in the
/// first product's `alpha`, max subtraction, division deferred to the d outputs of each row).
/// The step's products are OpenBLAS calls on the slice's own rows (single-threaded inside
/// ``ComputeThreads/forEachWorker(_:_:)``'s workers).
public final class RecomputeDecoder: TokenDecoder {
    let queries, keys, values: Tensor  // [slices, N, d]
    let scores: Tensor  // [slices, N, N], step i uses its first (i+1)² floats as [i+1, i+1]
    let sums: Tensor  // [slices, 1, N]
    let outputs: Tensor  // [slices, N, d]
    let scale: Float

    public init(slices: Int, capacity: Int, headDim: Int) {
        queries = Tensor(uninitialized: [slices, capacity, headDim], label: "recompute: queries")
        keys = Tensor(uninitialized: [slices, capacity, headDim], label: "recompute: keys")
        values = Tensor(uninitialized: [slices, capacity, headDim], label: "recompute: values")
        scores = Tensor(uninitialized: [slices, capacity, capacity], label: "recompute: scores")
        sums = Tensor(uninitialized: [slices, 1, capacity], label: "recompute: row sums")
        outputs = Tensor(uninitialized: [slices, capacity, headDim], label: "recompute: outputs")
        scale = 1 / Float(headDim).squareRoot()
    }

    @inline(__always)
    public func step(
        slice s: Int, position i: Int, q: UnsafeMutablePointer<Float>, k: UnsafeMutablePointer<Float>,
        v: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>
    ) {
        let d = queries.shape[2]
        precondition(i < queries.shape[1], "decode position \(i) is past the prefix's capacity \(queries.shape[1])")
        // pass 0: store the new token's q, k, v.
        queries.matrix(s).row(i).update(from: q, count: d)
        keys.matrix(s).row(i).update(from: k, count: d)
        values.matrix(s).row(i).update(from: v, count: d)
        let m = i + 1
        let (prefix, p) = (
            MatrixView(base: queries.matrix(s).base, rows: m, cols: d),
            MatrixView(base: scores.matrix(s).base, rows: m, cols: m)
        )
        let (o, rowSums) = (MatrixView(base: outputs.matrix(s).base, rows: m, cols: d), sums.matrix(s).row(0))
        // pass 1: scores of the whole prefix.
        // [i+1, d]·[d, i+1] → [i+1, i+1]
        BLAS.gemm(
            prefix, MatrixView(base: keys.matrix(s).base, rows: m, cols: d), transposeB: true, into: p, alpha: scale)
        // pass 2: causal weights exp(s − max), row by row.
        for r in 0..<m { rowSums[r] = Softmax.exponentiate(p.row(r), valid: r + 1, count: m) }
        // pass 3: weighted sum of values, each row divided by its weights' sum.
        // [i+1, i+1]·[i+1, d] → [i+1, d]
        BLAS.gemm(p, MatrixView(base: values.matrix(s).base, rows: m, cols: d), into: o)
        for r in 0..<m { Softmax.divide(o.row(r), count: d, by: rowSums[r]) }
        out.update(from: o.row(i), count: d)
    }

    public static func stepFlops(position: Int, headDim: Int) -> Double {
        4 * (Double(position) + 1) * (Double(position) + 1) * Double(headDim)
    }

    /// `slices·(4·N·d + N² + N)` floats: q, k, v, the output rows, the scores and their row sums (saturating).
    public static func stateBytes(slices: Int, capacity n: Int, headDim d: Int) -> Int {
        AttentionCost.floats(slices, .saturatingSum(.saturatingProduct(4, n, d), .saturatingProduct(n, n), n))
    }
}
