/// The backward pass of softmax attention over one (batch, head) slice, shared by standard attention
/// (m = n columns: keys K, values V) and Linformer (m = k columns: K′ = E K, V′ = F V).
///
/// Forward, per slice: S = Q Kᵀ/√d `[n, m]`, P = softmax(S) by rows, O = P V `[n, d]`. The forward
/// keeps the unnormalised weights W = exp(S − rowmax) `[n, m]` and their row sums l, so P = W / l.
/// For dO = ∂L/∂O:
///
///     dV = Pᵀ dO                          [m, n]·[n, d] → [m, d]
///     dP = dO Vᵀ                          [n, d]·[d, m] → [n, m]
///     dS = P ∘ (dP − D),  D_i = Σ_c dO_ic O_ic     (softmax's Jacobian: Σ_j P_ij dP_ij = D_i)
///     dQ = dS K / √d                      [n, m]·[m, d] → [n, d]
///     dK = dSᵀ Q / √d                     [m, n]·[n, d] → [m, d]
///
/// Cost: four products of `2·n·m·d` FLOPs (`8·n·m·d`), twice the forward's two; the element-wise
/// work (D, dS) is one pass over the `[n, m]` weights without an `exp`.
/// Memory: dP and dS are never held whole. They are formed `r` query rows at a time in an `[r, m]`
/// block (r = ``rows(length:)``, at most 64), and each block's share of dQ and dK is taken before
/// the next block, so the backward needs `r·m` floats beside its gradients, not the `n·m` of a
/// whole dS (an unfused backward, PyTorch's, holds dP and dS: `2·n·m`).
/// Numerics: P itself is never formed: dV = Wᵀ (dO / l) with the division folded into the `[n, d]`
/// rows of dO, and dS_ij = (W_ij · 1/l_i) · (dP_ij − D_i); the 1/√d scale is the GEMMs' alpha.
/// Masked (causal) weights are exactly 0 in W, and their dS entries are set to exactly 0.
/// The saved W and l are read, never written: one saved forward can be differentiated again.
enum SoftmaxBackward {
    /// Query rows per block: 64 keeps each block's `[r, m]`·`[m, d]` and `[m, r]`·`[r, d]` products
    /// compute-bound (an inner dimension of 64, as the forward's Q Kᵀ) while the block is small.
    static let blockRows = 64

    /// The block's rows for a sequence of n queries: min(n, 64).
    static func rows(length n: Int) -> Int { min(n, blockRows) }

    /// Writes dQ `[n, d]`, dKeys `[m, d]` and dValues `[m, d]` of one slice. `keys` is `[m, d]`, or
    /// `[d, m]` with `keysTransposed` (Linformer's K′ᵀ, as its micro-kernel forward stores it). `block` is an `[r, m]`
    /// scratch matrix of this slice; `scale` is 1/√d; with `causal`, query i sees columns j ≤ i.
    /// `innerParallel`: whether the element-wise loops may use ``ComputeThreads/parallelFor(_:_:)``
    /// (slices run in order, see ``ComputeThreads/forEachSlice(_:splitSlices:_:)``).
    /// The backward's passes, as `attnbench profile` names them.
    static let phases = (
        valueGradient: Phase.named("dV = Wᵀ·dO"), weightGradient: Phase.named("dP = dO·Vᵀ"),
        scoreGradient: Phase.named("dS = W∘(dP − D)"), queryKeyGradients: Phase.named("dQ = dS·K, dK = dSᵀ·Q")
    )

    static func slice(
        q: MatrixView, keys: MatrixView, keysTransposed: Bool = false, values: MatrixView,
        weights: MatrixView, rowSums: UnsafeMutablePointer<Float>,
        output: MatrixView, outputGradient dO: MatrixView, causal: Bool, scale: Float, block: MatrixView,
        dq: MatrixView, dKeys: MatrixView, dValues: MatrixView, innerParallel: Bool
    ) {
        let (n, m, d) = (q.rows, keysTransposed ? keys.cols : keys.rows, q.cols)
        var clock = PhaseClock.start()
        // pass 1: dV = Wᵀ (dO / l). dO / l is staged in dQ's rows, which pass 2 writes only after.
        for i in 0..<n {
            let inverse = 1 / rowSums[i]
            let (source, staged) = (dO.row(i), dq.row(i))
            for c in 0..<d { staged[c] = source[c] * inverse }
        }
        // [m, n]·[n, d] → [m, d]
        BLAS.gemm(weights, transposeA: true, dq, into: dValues)
        clock.lap(phases.valueGradient)

        // pass 2: dS for r query rows at a time, and their share of dQ and dK.
        var start = 0
        while start < n {
            let range = start..<min(start + block.rows, n)
            let ds = block.prefix(rows: range.count)
            // [r, d]·[d, m] → [r, m]: dP for these rows.
            BLAS.gemm(dO.rows(range), values, transposeB: true, into: ds)
            clock.lap(phases.weightGradient)
            let form = { (rows: Range<Int>) in
                for t in rows {
                    let i = range.lowerBound + t
                    let (g, o) = (dO.row(i), output.row(i))
                    var rowTerm: Float = 0  // D_i
                    for c in 0..<d { rowTerm += g[c] * o[c] }
                    let inverse = 1 / rowSums[i]
                    let (w, x) = (weights.row(i), ds.row(t))
                    let visible = causal ? i + 1 : m
                    for j in 0..<visible { x[j] = (w[j] * inverse) * (x[j] - rowTerm) }
                    if visible < m { (x + visible).update(repeating: 0, count: m - visible) }
                }
            }
            if innerParallel { ComputeThreads.parallelFor(range.count, form) } else { form(0..<range.count) }
            clock.lap(phases.scoreGradient)
            // [r, m]·[m, d] → [r, d]
            BLAS.gemm(ds, keys, transposeB: keysTransposed, into: dq.rows(range), alpha: scale)
            // [m, r]·[r, d] → [m, d], accumulated over the blocks.
            BLAS.gemm(ds, transposeA: true, q.rows(range), into: dKeys, alpha: scale, beta: start == 0 ? 0 : 1)
            clock.lap(phases.queryKeyGradients)
            start = range.upperBound
        }
        if n == 0 { for j in 0..<m { dKeys.row(j).update(repeating: 0, count: d) } }
    }
}
