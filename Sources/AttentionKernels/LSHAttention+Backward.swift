/// The backward pass of LSH attention (causal and not), flash-like: the rounds' outputs combined by
/// their log-sum-exp weights are one softmax over the multiset of (round, key) pairs of each query
/// (``LSHAttention``), so the weights are recomputed chunk by chunk from each query's log-sum-exp over
/// all its pairs, LSE_i, which the forward saved with every round's sorted order.
///
/// With D_i = dO_i·out_i (one pass over O and dO per slice), each round's chunk of r queries and w
/// window keys computes
///
///     S    = Q_c K̂_wᵀ / √d                    [r, d]·[d, w] → [r, w]
///     P    = exp(S − LSE_i)                    (masked pairs exactly 0, as in the forward)
///     dV_w += Pᵀ dO_c                          [w, r]·[r, d] → [w, d]
///     dP   = dO_c V_wᵀ                         [r, d]·[d, w] → [r, w]
///     dS   = P ∘ (dP − D_i)
///     dQ_c += dS K̂_w / √d                      [r, w]·[w, d] → [r, d]
///     dK̂_w += dSᵀ Q_c / √d                     [w, r]·[r, d] → [w, d]
///
/// (the chunk's rows are gathered by the sorted order and the sums scattered back to the original
/// positions), and then, as the keys are the normalised queries (shared QK), the chain rule through
/// k̂_j = q_j/‖q_j‖:
///
///     dq_j += (dk̂_j − k̂_j (k̂_j·dk̂_j)) / ‖q_j‖        (0 for q_j = 0, whose k̂_j is 0)
///
/// dK is zero: the kernel never reads K's values. The hashes are piecewise constant in q and get no
/// gradient (almost everywhere exact), and, as in the forward, a key attended in several rounds
/// counts once per round (no duplicate-count correction).
///
/// What the forward keeps: each round's sorted order (`[b, h, R, n]`, positions as 32-bit integers)
/// and LSE_i (`[b, h, 1, n]`): O(R·n) per slice, never the scores. Cost: five products of `2·r·w·d`
/// FLOPs per chunk and round (2.5× the forward's chunk products; the hashing is not redone) plus
/// the O(n·d) chain rule, which is not counted (element-wise). Memory beside the three gradients:
/// one ``BackwardScratch`` per worker (k̂ and dK̂ `[n, d]`, 1/‖q‖ and D, one chunk's gathered rows,
/// its `[C, 2C]` P and dS and its gradients), never n×n.
extension LSHAttention: DifferentiableAttention {
    public struct Saved: Sendable {
        /// Every round's sorted order, `[b, h, R, n]`: row r of slice s holds the position at each
        /// sorted index, as 32-bit integers (read them with ``order(slice:round:)``).
        public let orders: Tensor
        /// LSE_i = log Σ exp(s_ij) over every (round, key) pair query i attends to: `[b, h, 1, n]`.
        public let logSumExp: Tensor

        /// The sorted order of round r of slice s.
        public func order(slice s: Int, round r: Int) -> [Int32] {
            let row = LSHAttention.Indices(orders.matrix(s).row(r))
            return (0..<orders.shape[3]).map { Int32(row[$0]) }
        }
    }

    public func trainingForward(q: Tensor, k: Tensor, v: Tensor) -> (output: Tensor, saved: Saved) {
        let shape = AttentionShape(of: q)
        let saved = Saved(
            // [b, h, R, n]
            orders: Tensor(uninitialized: [shape.batch, shape.heads, rounds, shape.length], label: "LSH orders"),
            // [b, h, 1, n]
            logSumExp: Tensor(uninitialized: [shape.batch, shape.heads, 1, shape.length], label: "log-sum-exp L"))
        return (forward(q: q, k: k, v: v, saved: saved), saved)
    }

    public func backward(
        q: Tensor, k: Tensor, v: Tensor, output: Tensor, saved: Saved, outputGradient: Tensor
    ) -> AttentionGradients {
        let shape = checkedBackwardShape(q: q, k: k, v: v, output: output, outputGradient: outputGradient)
        let (n, d) = (shape.length, shape.headDim)
        precondition(
            saved.orders.shape == [shape.batch, shape.heads, rounds, n]
                && saved.logSumExp.shape == [shape.batch, shape.heads, 1, n],
            "\(name) backward: saved \(saved.orders.shape), \(saved.logSumExp.shape) do not match \(shape)")
        let dq = Tensor(zeros: shape.dims, label: "dQ")  // [b, h, n, d], accumulated over chunks, then the chain rule
        let dk = Tensor(zeros: shape.dims, label: "dK")  // [b, h, n, d]: K is not read
        let dv = Tensor(zeros: shape.dims, label: "dV")  // [b, h, n, d], accumulated over chunks
        guard n > 0, shape.slices > 0 else { return AttentionGradients(q: dq, k: dk, v: dv) }
        let chunks = Chunks(length: n, size: min(chunk, n))
        let workers = ComputeThreads.workerCount(shape.slices)
        let layout = BackwardScratch(length: n, headDim: d, chunk: chunks.size)
        // one BackwardScratch per worker
        let scratch = Tensor(uninitialized: [workers, layout.floats], label: "LSH scratch (per worker)")
        let (scale, causal) = (1 / Float(d).squareRoot(), isCausal)

        ComputeThreads.forEachWorker(shape.slices) { worker, slices in
            let base = scratch.matrix(0).row(worker)
            let keys = MatrixView(base: base + layout.keys, rows: n, cols: d)
            let keyGradients = MatrixView(base: base + layout.keyGradients, rows: n, cols: d)
            let (inverseNorms, rowTerms) = (base + layout.inverseNorms, base + layout.rowTerms)
            let gathered = Gathered(base: base, layout: layout.window, headDim: d)
            var clock = PhaseClock.start()
            for s in slices {
                let (qs, vs, os, gs) = (q.matrix(s), v.matrix(s), output.matrix(s), outputGradient.matrix(s))
                let (dqs, dvs, lse) = (dq.matrix(s), dv.matrix(s), saved.logSumExp.matrix(s).row(0))
                Self.normalise(qs, into: keys, inverseNorms: inverseNorms)
                keyGradients.base.update(repeating: 0, count: n * d)
                for i in 0..<n { rowTerms[i] = Lanes.dot(gs.row(i), os.row(i), count: d) }
                clock.lap(Self.backwardPhases.bookkeeping)
                for r in 0..<rounds {
                    let order = Indices(saved.orders.matrix(s).row(r))
                    for c in 0..<chunks.count {
                        let window = chunks.window(c)
                        let (rows, width, first) = (window.rows, window.width, window.own.lowerBound)
                        gathered.load(window, order: order, queries: qs, keys: keys, values: vs)
                        let (qc, kw, vw, gc) = (
                            gathered.queries(rows), gathered.keys(width), gathered.values(width),
                            gathered.gradients(rows)
                        )
                        for a in 0..<rows { gc.row(a).update(from: gs.row(order[first + a]), count: d) }
                        clock.lap(Self.backwardPhases.gather)
                        let p = gathered.scores(rows: rows, width: width)
                        let ds = gathered.gradientScores(rows: rows, width: width)
                        // [rows, d]·[d, width] → [rows, width]: S, scaled.
                        BLAS.gemm(qc, kw, transposeB: true, into: p, alpha: scale)
                        clock.lap(Self.backwardPhases.products)
                        for a in 0..<rows {
                            let i = order[first + a]
                            Self.mask(
                                p.row(a), count: width, positions: gathered.positions, query: i,
                                selfColumn: window.column(ofOwn: a), causal: causal)
                            FlashAttention.exponentiate(p.row(a), minus: lse[i], valid: width, count: width)
                        }
                        clock.lap(Self.backwardPhases.weights)
                        let (dqc, dkw, dvw) = (
                            gathered.queryGradients(rows), gathered.keyGradients(width), gathered.valueGradients(width)
                        )
                        // [width, rows]·[rows, d] → [width, d]: Pᵀ dO.
                        BLAS.gemm(p, transposeA: true, gc, into: dvw)
                        // [rows, d]·[d, width] → [rows, width]: dP.
                        BLAS.gemm(gc, vw, transposeB: true, into: ds)
                        clock.lap(Self.backwardPhases.products)
                        for a in 0..<rows {
                            let (w, x, term) = (p.row(a), ds.row(a), rowTerms[order[first + a]])
                            for j in 0..<width { x[j] = w[j] * (x[j] - term) }
                        }
                        clock.lap(Self.backwardPhases.weights)
                        // [rows, width]·[width, d] → [rows, d]: dS K̂_w / √d.
                        BLAS.gemm(ds, kw, into: dqc, alpha: scale)
                        // [width, rows]·[rows, d] → [width, d]: dSᵀ Q_c / √d.
                        BLAS.gemm(ds, transposeA: true, qc, into: dkw, alpha: scale)
                        clock.lap(Self.backwardPhases.products)
                        for a in 0..<rows { Self.add(dqc.row(a), into: dqs.row(order[first + a]), count: d) }
                        for a in 0..<width {
                            let j = gathered.positions[a]
                            Self.add(dkw.row(a), into: keyGradients.row(j), count: d)
                            Self.add(dvw.row(a), into: dvs.row(j), count: d)
                        }
                        clock.lap(Self.backwardPhases.gather)
                    }
                }
                // shared QK: dq_j += (dk̂_j − k̂_j (k̂_j·dk̂_j)) / ‖q_j‖.
                for j in 0..<n {
                    let (key, g, target) = (keys.row(j), keyGradients.row(j), dqs.row(j))
                    let (along, inverse) = (Lanes.dot(key, g, count: d), inverseNorms[j])
                    for l in 0..<d { target[l] += (g[l] - key[l] * along) * inverse }
                }
                clock.lap(Self.backwardPhases.bookkeeping)
            }
        }
        return AttentionGradients(q: dq, k: dk, v: dv)
    }

    /// `target[l] += x[l]` for `l < count`.
    @inline(__always)
    static func add(_ x: UnsafeMutablePointer<Float>, into target: UnsafeMutablePointer<Float>, count: Int) {
        for l in 0..<count { target[l] += x[l] }
    }

    /// One worker's backward scratch, in floats: k̂ and dK̂ `[n, d]`, 1/‖q_j‖ and D_i (n each), then
    /// one chunk's backward ``WindowLayout``.
    struct BackwardScratch {
        let keys, keyGradients, inverseNorms, rowTerms: Int
        let window: WindowLayout
        var floats: Int { window.end }

        init(length n: Int, headDim d: Int, chunk c: Int) {
            keys = 0
            keyGradients = .saturatingProduct(n, d)
            inverseNorms = .saturatingProduct(2, n, d)
            rowTerms = .saturatingSum(inverseNorms, n)
            window = WindowLayout(chunk: c, headDim: d, backward: true, offset: .saturatingSum(rowTerms, n))
        }
    }

    /// The backward's parts, as `attnbench profile` names them (fused in one loop over chunks).
    static let backwardPhases = (
        gather: Phase.named("gather and scatter chunks"), products: Phase.named("chunk products (S, dV, dP, dQ, dK)"),
        weights: Phase.named("P = exp(S − L), dS"), bookkeeping: Phase.named("normalise, D, shared-QK gradient")
    )

    public func backwardCost(for shape: AttentionShape) -> AttentionCost {
        Self.backwardCost(for: shape, rounds: rounds, buckets: buckets, chunk: chunk, threads: ComputeThreads.current)
    }

    /// `b·h·R·Σ_chunks 10·r·w·d` FLOPs (five products per chunk of r rows and w keys); intermediates
    /// one ``BackwardScratch`` per worker (`min(threads, b·h)` workers); the gradients `3·b·h·n·d`
    /// floats. `buckets` does not enter it (the hashing is not redone).
    public static func backwardCost(for shape: AttentionShape, rounds: Int, buckets: Int, chunk: Int, threads: Int)
        -> AttentionCost
    {
        let (n, d) = (shape.length, shape.headDim)
        let gradients = AttentionCost.floats(3, shape.slices, n, d)
        guard n > 0, shape.slices > 0 else {
            return AttentionCost(flops: 0, intermediateBytes: 0, outputBytes: gradients)
        }
        let workers = max(min(threads, shape.slices), 1)
        let perRound = chunkShapes(length: n, chunk: chunk).reduce(0.0) { total, chunk in
            total + 10 * Double(chunk.rows) * Double(chunk.width) * Double(d) * Double(chunk.count)
        }
        return AttentionCost(
            flops: Double(shape.batch) * Double(shape.heads) * Double(rounds) * perRound,
            intermediateBytes: AttentionCost.floats(
                workers, BackwardScratch(length: n, headDim: d, chunk: min(chunk, n)).floats),
            outputBytes: gradients)
    }

    public func savedBytes(for shape: AttentionShape) -> Int { Self.savedBytes(for: shape, rounds: rounds) }

    /// The sorted orders and the log-sum-exp: `b·h·(R·n + n)` floats (as two tensors).
    public static func savedBytes(for shape: AttentionShape, rounds: Int) -> Int {
        .saturatingSum(
            AttentionCost.floats(shape.slices, rounds, shape.length), AttentionCost.floats(shape.slices, shape.length))
    }

    /// The cost of one pass at `threads` workers (``AttentionCost/of(_:forward:backward:savedBytes:)``).
    public func cost(for shape: AttentionShape, threads: Int, pass: Pass) -> AttentionCost {
        .of(
            pass,
            forward: Self.cost(for: shape, rounds: rounds, buckets: buckets, chunk: chunk, threads: threads),
            backward: Self.backwardCost(for: shape, rounds: rounds, buckets: buckets, chunk: chunk, threads: threads),
            savedBytes: savedBytes(for: shape))
    }
}
