/// The backward pass of flash attention (causal and not), as FlashAttention computes it: P is
/// never stored, but recomputed one tile at a time from the row log-sum-exp the forward saved.
///
/// What the forward keeps: L_i = m_i + log l_i per row (`[b, h, 1, n]`, n floats per slice, against
/// the n² weights ``SoftmaxAttention``'s training forward keeps). For dO = ∂L/∂O and
/// D_i = Σ_c dO_ic O_ic (softmax's Jacobian term, one pass over O and dO before the tiles), each
/// tile of B key rows j and B query rows i computes
///
///     S   = Q_i K_jᵀ / √d                     [B, d]·[d, B] → [B, B]
///     P   = exp(S − L_i)                       (masked entries exactly 0)
///     dV_j += Pᵀ dO_i                          [B, B]·[B, d] → [B, d]
///     dP  = dO_i V_jᵀ                          [B, d]·[d, B] → [B, B]
///     dS  = P ∘ (dP − D_i)                     (masked entries exactly 0)
///     dQ_i += dS K_j / √d                      [B, B]·[B, d] → [B, d]
///     dK_j += dSᵀ Q_i / √d                     [B, B]·[B, d] → [B, d]
///
/// Cost: five products of `2·d` FLOPs per score computed (`10·d·n²` per slice without a mask, 2.5×
/// the forward's, against 2× for ``SoftmaxAttention``'s backward, which reads the stored weights
/// instead of recomputing them); causal skips the tiles above the diagonal. Memory beside the three
/// gradients: D (n floats per slice) and two `B × B` tiles (P and dP/dS) per worker, never O(n²).
///
/// Order and parallelism: key blocks outside, query blocks inside, so dK_j and dV_j stay in cache
/// while the query blocks stream past; dQ_i accumulates in place. A slice is one work item
/// (``ComputeThreads/forEachItem(_:_:)``: its dQ rows are shared by all its key blocks, so two
/// workers never share a slice). With fewer slices than threads, one slice's products run on
/// OpenBLAS's threads instead.
///
/// Numerics: each weight is exp of s − L ≤ 0 (up to rounding), as in the forward; its relative
/// error gains, over the stored-weight backward's, the rounding of L and of s − L (u·|L| and
/// u·|s − L|), which ``ReferenceAttention/standardGradients(q:k:v:outputGradient:causal:rescalings:logSumExp:)``
/// adds to its bound. The tile products go through OpenBLAS `sgemm`, single-threaded in each worker.
extension FlashAttention: DifferentiableAttention {
    public struct Saved: Sendable {
        /// L_i = m_i + log l_i for every row: `[b, h, 1, n]`.
        public let logSumExp: Tensor
    }

    /// Query and key rows per backward tile: the forward's key block, square, so each key block
    /// meets whole query blocks from the diagonal down. The default 128 keeps the working set (two
    /// 64 KiB tiles, K_j, V_j, dK_j, dV_j and Q_i, dO_i, dQ_i of 32 KiB at d = 64) near 350 KiB,
    /// inside a 512 KiB L2.
    public var backwardBlock: Int { blocks.key }

    public func trainingForward(q: Tensor, k: Tensor, v: Tensor) -> (output: Tensor, saved: Saved) {
        let shape = AttentionShape(of: q)
        // [b, h, 1, n]
        let logSumExp = Tensor(uninitialized: [shape.batch, shape.heads, 1, shape.length], label: "log-sum-exp L")
        let output = forward(q: q, k: k, v: v, logSumExp: logSumExp)
        return (output, Saved(logSumExp: logSumExp))
    }

    public func backward(
        q: Tensor, k: Tensor, v: Tensor, output: Tensor, saved: Saved, outputGradient: Tensor
    ) -> AttentionGradients {
        let shape = checkedBackwardShape(q: q, k: k, v: v, output: output, outputGradient: outputGradient)
        let (n, d) = (shape.length, shape.headDim)
        precondition(
            saved.logSumExp.shape == [shape.batch, shape.heads, 1, n],
            "\(name) backward: saved log-sum-exp \(saved.logSumExp.shape) does not match \(shape)")
        let b = backwardBlock
        let workers = ComputeThreads.workerCount(shape.slices)
        // P and dP/dS per worker
        let tiles = Tensor(uninitialized: [workers, 2, b, b], label: "P, dS tiles (per worker)")
        let rowTerms = Tensor(uninitialized: [shape.batch, shape.heads, 1, n], label: "row terms D")  // D: [b, h, 1, n]
        let dq = Tensor(zeros: shape.dims, label: "dQ")  // [b, h, n, d], accumulated over key blocks
        let dk = Tensor(uninitialized: shape.dims, label: "dK")  // [b, h, n, d]
        let dv = Tensor(uninitialized: shape.dims, label: "dV")  // [b, h, n, d]
        let scale = 1 / Float(d).squareRoot()
        let causal = isCausal

        ComputeThreads.forEachItem(shape.slices) { worker, s in
            var clock = PhaseClock.start()
            let (qs, ks, vs) = (q.matrix(s), k.matrix(s), v.matrix(s))
            let (os, gs) = (output.matrix(s), outputGradient.matrix(s))
            let (dqs, dks, dvs) = (dq.matrix(s), dk.matrix(s), dv.matrix(s))
            let lse = saved.logSumExp.matrix(s).row(0)
            let rowTerm = rowTerms.matrix(s).row(0)
            for i in 0..<n { rowTerm[i] = Lanes.dot(gs.row(i), os.row(i), count: d) }
            clock.lap(Self.backwardPhases.bookkeeping)
            let pBase = tiles.matrix(worker * 2).row(0)
            let dsBase = tiles.matrix(worker * 2 + 1).row(0)

            for first in stride(from: 0, to: n, by: b) {
                let cols = min(b, n - first)
                let (kBlock, vBlock) = (ks.rows(first..<first + cols), vs.rows(first..<first + cols))
                let (dkBlock, dvBlock) = (dks.rows(first..<first + cols), dvs.rows(first..<first + cols))
                // causal: query rows before `first` see none of these keys; the blocks are square,
                // so the first query block that sees any starts at `first` itself.
                for start in stride(from: causal ? first : 0, to: n, by: b) {
                    let rows = min(b, n - start)
                    let range = start..<start + rows
                    let p = MatrixView(base: pBase, rows: rows, cols: cols, rowStride: b)
                    let ds = MatrixView(base: dsBase, rows: rows, cols: cols, rowStride: b)
                    let masked = causal && start == first  // the diagonal tile: row r sees keys ≤ r
                    // [rows, d]·[d, cols] → [rows, cols]: S, scaled.
                    clock.lap(Self.backwardPhases.bookkeeping)
                    BLAS.gemm(qs.rows(range), kBlock, transposeB: true, into: p, alpha: scale)
                    clock.lap(Self.backwardPhases.products)
                    for r in 0..<rows {
                        let visible = masked ? min(r + 1, cols) : cols
                        Self.exponentiate(p.row(r), minus: lse[start + r], valid: visible, count: cols)
                    }
                    clock.lap(Self.backwardPhases.weights)
                    let accumulate: Float = start == (causal ? first : 0) ? 0 : 1
                    // [cols, rows]·[rows, d] → [cols, d]: dV_j += Pᵀ dO_i.
                    BLAS.gemm(p, transposeA: true, gs.rows(range), into: dvBlock, beta: accumulate)
                    // [rows, d]·[d, cols] → [rows, cols]: dP.
                    BLAS.gemm(gs.rows(range), vBlock, transposeB: true, into: ds)
                    clock.lap(Self.backwardPhases.products)
                    for r in 0..<rows {
                        let visible = masked ? min(r + 1, cols) : cols
                        let (w, x, term) = (p.row(r), ds.row(r), rowTerm[start + r])
                        for j in 0..<visible { x[j] = w[j] * (x[j] - term) }
                        if visible < cols { (x + visible).update(repeating: 0, count: cols - visible) }
                    }
                    clock.lap(Self.backwardPhases.scoreGradient)
                    // [rows, cols]·[cols, d] → [rows, d]: dQ_i += dS K_j / √d.
                    BLAS.gemm(ds, kBlock, into: dqs.rows(range), alpha: scale, beta: 1)
                    // [cols, rows]·[rows, d] → [cols, d]: dK_j += dSᵀ Q_i / √d.
                    BLAS.gemm(ds, transposeA: true, qs.rows(range), into: dkBlock, alpha: scale, beta: accumulate)
                    clock.lap(Self.backwardPhases.products)
                }
            }
        }
        return AttentionGradients(q: dq, k: dk, v: dv)
    }

    /// The backward's parts, as `attnbench profile` names them (fused in one loop over tiles).
    static let backwardPhases = (
        products: Phase.named("tile products (S, dV, dP, dQ, dK)"), weights: Phase.named("P = exp(S − L)"),
        scoreGradient: Phase.named("dS = P∘(dP − D)"), bookkeeping: Phase.named("row bookkeeping")
    )

    /// In place `x[j] ← exp(x[j] − shift)` for `j < valid`, `x[j] ← 0` for `valid ≤ j < count`.
    @inline(__always)
    static func exponentiate(_ x: UnsafeMutablePointer<Float>, minus shift: Float, valid: Int, count: Int) {
        let lanes = Softmax.Vector.scalarCount
        let by = Softmax.Vector(repeating: shift)
        var j = 0
        while j + lanes <= valid {
            Softmax.store(Softmax.exp(Softmax.load(x + j) - by), x + j)
            j += lanes
        }
        if j < valid {
            let e = Softmax.exp(Softmax.loadPartial(x + j, valid - j, padding: 0) - by)
            for t in 0..<(valid - j) { x[j + t] = e[t] }
        }
        if valid < count { (x + valid).update(repeating: 0, count: count - valid) }
    }

    /// Scores the backward computes per slice, at tile granularity (B = ``backwardBlock``): n² without
    /// a mask; causal, key block j (of F = ⌊n/B⌋ full ones, then a tail of t) meets the query rows
    /// from its own first row to n: Σ_{j<F} B·(n − j·B) + t².
    func backwardProducts(length n: Int) -> Double {
        guard isCausal else { return Double(n) * Double(n) }
        let b = Double(backwardBlock)
        let (full, tail) = (Double(n / backwardBlock), Double(n % backwardBlock))
        return b * (full * Double(n) - b * full * (full - 1) / 2) + tail * tail
    }

    public func backwardCost(for shape: AttentionShape) -> AttentionCost {
        backwardCost(for: shape, threads: ComputeThreads.current)
    }

    /// `10·d` FLOPs per score of ``backwardProducts(length:)`` per slice; intermediates D
    /// (`b·h·n` floats) and two `B × B` tiles per worker (`min(threads, b·h)` workers); the gradients
    /// `3·b·h·n·d` floats.
    public func backwardCost(for shape: AttentionShape, threads: Int) -> AttentionCost {
        let (n, d, b) = (shape.length, shape.headDim, backwardBlock)
        let workers = max(min(threads, shape.slices), 1)
        return AttentionCost(
            flops: Double(shape.batch) * Double(shape.heads) * 10 * Double(d) * backwardProducts(length: n),
            intermediateBytes: Int.saturatingSum(
                AttentionCost.floats(shape.slices, n), AttentionCost.floats(workers, 2, b, b)),
            outputBytes: AttentionCost.floats(3, shape.slices, n, d))
    }

    /// The row log-sum-exp: `b·h·n` floats.
    public func savedBytes(for shape: AttentionShape) -> Int { AttentionCost.floats(shape.slices, shape.length) }

    /// The cost of one pass at `threads` workers (``AttentionCost/of(_:forward:backward:savedBytes:)``).
    public func cost(for shape: AttentionShape, threads: Int, pass: Pass) -> AttentionCost {
        .of(
            pass, forward: cost(for: shape, threads: threads), backward: backwardCost(for: shape, threads: threads),
            savedBytes: savedBytes(for: shape))
    }
}
