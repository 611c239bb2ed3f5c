/// Linformer (Wang et al. 2020, Eq. 7): keys and values are projected along the sequence axis,
/// `K' = E K`, `V' = F V` with E, F of shape `[k, n]`, then `out = softmax(Q K'ᵀ / √d) V'`.
/// Queries are not projected, so the output keeps all n rows.
///
/// Cost per call: `8·b·h·n·k·d` FLOPs (four products of `2·n·k·d` per slice) and
/// `b·h·(2·k·d + n·k + n)·4` bytes of intermediates (K', V', the `[n, k]` scores and their row
/// sums): O(nkd) time and
/// O(nk) extra memory. Numerics: as ``SoftmaxAttention`` (deferred normalisation), over k columns.
/// Speed: the projections go through OpenBLAS (long products over n); when d and k are multiples
/// of 16 the attention half (`Q K'ᵀ` and `P V'`) goes through flash attention's micro-kernels
/// (``FlashTiles``; K' is computed transposed, so nothing is repacked), rows split across threads
/// when there are fewer slices than threads. Same buffers, so the same memory.
/// The paper gives Linformer no causal form, so there is none here (see ``init(projections:causal:)``).
public struct LinformerAttention: AttentionKernel {
    public let projections: LinformerProjections
    public var mechanism: Mechanism { .linformer }
    public var isCausal: Bool { false }
    public var projectedLength: Int { projections.projectedLength }
    public var name: String { "linformer k=\(projectedLength) \(projections.sharing.rawValue)" }

    /// - Throws: ``KernelConfigurationError`` when `causal` is asked for: projecting along the
    ///   sequence mixes future positions into every K' row, and the paper defines no causal variant.
    public init(projections: LinformerProjections, causal: Bool = false) throws(KernelConfigurationError) {
        guard !causal else {
            throw KernelConfigurationError(
                "Linformer has no causal form: E and F mix all n positions into every projected row, and the paper defines no mask; use standard or linear attention for causal runs"
            )
        }
        self.init(nonCausal: projections)
    }

    /// The (only) non-causal form, which cannot fail.
    package init(nonCausal projections: LinformerProjections) { self.projections = projections }

    public func callAsFunction(q: Tensor, k: Tensor, v: Tensor) -> Tensor { forward(q: q, k: k, v: v).output }

    /// The forward pass, with its intermediates: K′ and V′ (`[b, h, k, d]`), the unnormalised
    /// weights exp(s − max) (`[b, h, n, k]`) and their row sums (`[b, h, 1, n]`).
    /// ``callAsFunction(q:k:v:)`` frees them on return, ``trainingForward(q:k:v:)`` keeps them.
    func forward(q: Tensor, k: Tensor, v: Tensor) -> (output: Tensor, saved: Saved) {
        let shape = checkedShape(q: q, k: k, v: v)
        let (n, d, kp) = (shape.length, shape.headDim, projectedLength)
        precondition(d >= 1, "\(name): head dimension must be at least 1")
        precondition(
            n == projections.length,
            "linformer: the projections are [\(kp), \(projections.length)] but the sequence has n=\(n)")
        precondition(
            projections.heads == shape.heads || projections.sharing != .none,
            "linformer: per-head projections for \(projections.heads) heads, input has \(shape.heads)")
        let kProjected = Tensor(uninitialized: [shape.batch, shape.heads, kp, d], label: "K′ = E·K")  // [b, h, k, d]
        let vProjected = Tensor(uninitialized: [shape.batch, shape.heads, kp, d], label: "V′ = F·V")  // [b, h, k, d]
        let scores = Tensor(uninitialized: [shape.batch, shape.heads, n, kp], label: "scores QK′ᵀ")  // [b, h, n, k]
        // Σ_r exp(s_ir − max_i) per row
        let sums = Tensor(uninitialized: [shape.batch, shape.heads, 1, n], label: "softmax row sums")
        let out = Tensor(uninitialized: shape.dims, label: "output")  // [b, h, n, d]
        let scale = 1 / Float(d).squareRoot()

        let micro = Self.usesMicroKernels(headDim: d, projectedLength: kp)
        ComputeThreads.forEachSlice(shape.slices) { s, innerParallel in
            let head = s % shape.heads
            let (p, rowSums, o) = (scores.matrix(s), sums.matrix(s).row(0), out.matrix(s))
            var clock = PhaseClock.start()
            // [k, n]·[n, d] → [k, d]
            BLAS.gemm(projections.f(head: head), v.matrix(s), into: vProjected.matrix(s))
            if micro {
                // K'ᵀ = (E K)ᵀ = Kᵀ Eᵀ, stored in K''s own buffer: [d, n]·[n, k] → [d, k]
                let kT = MatrixView(base: kProjected.matrix(s).base, rows: d, cols: kp)
                BLAS.gemm(k.matrix(s), transposeA: true, projections.e(head: head), transposeB: true, into: kT)
                clock.lap(Self.phases.project)
                let rows = { (range: Range<Int>) in
                    var rowClock = PhaseClock.start()
                    let queries = MatrixView(base: q.matrix(s).row(range.lowerBound), rows: range.count, cols: d)
                    let (pr, or) = (
                        MatrixView(base: p.row(range.lowerBound), rows: range.count, cols: kp),
                        MatrixView(base: o.row(range.lowerBound), rows: range.count, cols: d)
                    )
                    // [rows, d]·[d, k] → [rows, k]
                    FlashTiles.scores(
                        queries, packedKeys: kT.base, cols: kp, alpha: scale, into: pr, maxima: nil,
                        keyStride: 1, depthStride: kp)
                    rowClock.lap(Self.phases.scores)
                    for r in range { rowSums[r] = Softmax.exponentiate(p.row(r), valid: kp, count: kp) }
                    rowClock.lap(Self.phases.softmax)
                    // [rows, k]·[k, d] → [rows, d]
                    FlashTiles.accumulate(pr, vProjected.matrix(s), cols: kp, into: or, rescale: rowSums, first: true)
                    for r in range { Softmax.divide(o.row(r), count: d, by: rowSums[r]) }
                    rowClock.lap(Self.phases.weightedSum)
                }
                if innerParallel { ComputeThreads.parallelFor(n, rows) } else { rows(0..<n) }
                return
            }
            // pass 1: project keys and values along the sequence, then score against the queries.
            // [k, n]·[n, d] → [k, d]
            BLAS.gemm(projections.e(head: head), k.matrix(s), into: kProjected.matrix(s))
            clock.lap(Self.phases.project)
            // [n, d]·[d, k] → [n, k]
            BLAS.gemm(q.matrix(s), kProjected.matrix(s), transposeB: true, into: p, alpha: scale)
            clock.lap(Self.phases.scores)
            // pass 2: unnormalised softmax weights over the n rows of k scores.
            let exponentiate = { (range: Range<Int>) in
                for r in range { rowSums[r] = Softmax.exponentiate(p.row(r), valid: kp, count: kp) }
            }
            if innerParallel { ComputeThreads.parallelFor(n, exponentiate) } else { exponentiate(0..<n) }
            clock.lap(Self.phases.softmax)
            // pass 3: weighted sum of projected values, then each row divided by its weights' sum.
            // [n, k]·[k, d] → [n, d]
            BLAS.gemm(p, vProjected.matrix(s), into: o)
            for r in 0..<n { Softmax.divide(o.row(r), count: d, by: rowSums[r]) }
            clock.lap(Self.phases.weightedSum)
        }
        return (
            out,
            Saved(projectedKeys: kProjected, keysTransposed: micro, values: vProjected, weights: scores, rowSums: sums)
        )
    }

    /// Whether the attention half goes through ``FlashTiles`` (d and k multiples of 16), with K′
    /// computed transposed; else everything through OpenBLAS.
    /// The forward's passes, as `attnbench profile` names them.
    static let phases = (
        project: Phase.named("E·K, F·V"), scores: Phase.named("QK′ᵀ"), softmax: Phase.named("softmax"),
        weightedSum: Phase.named("P·V′ and 1/Σ")
    )

    static func usesMicroKernels(headDim d: Int, projectedLength kp: Int) -> Bool {
        FlashTiles.supports(headDim: d) && kp % FlashTiles.width == 0
    }

    /// Per slice, as ``forward(q:k:v:)`` makes them: F V, [k, n]·[n, d] → [k, d]; E K, [k, n]·[n, d] → [k, d]
    /// (with the micro-kernels K′ᵀ = Kᵀ Eᵀ, [d, n]·[n, k] → [d, k]); Q K′ᵀ, [n, d]·[d, k] → [n, k];
    /// P V′, [n, k]·[k, d] → [n, d]: `2·n·k·d` FLOPs each.
    public func products(for shape: AttentionShape) -> [GemmShape] {
        let (n, d, kp, slices) = (shape.length, shape.headDim, projectedLength, shape.slices)
        let keys =
            Self.usesMicroKernels(headDim: d, projectedLength: kp)
            ? GemmShape(m: d, k: n, n: kp, transposeA: true, transposeB: true, count: slices)
            : GemmShape(m: kp, k: n, n: d, count: slices)
        return [
            GemmShape(m: kp, k: n, n: d, count: slices), keys,  // F V, E K
            GemmShape(m: n, k: d, n: kp, transposeB: true, count: slices),  // [n, d]·[d, k] → [n, k]
            GemmShape(m: n, k: kp, n: d, count: slices),
        ]  // [n, k]·[k, d] → [n, d]
    }

    public func cost(for shape: AttentionShape) -> AttentionCost {
        Self.cost(for: shape, projectedLength: projectedLength, sharing: projections.sharing)
    }

    /// The cost for a configuration, without building its projections (for sweep planning).
    public static func cost(
        for shape: AttentionShape, projectedLength kp: Int, sharing: ProjectionSharing
    ) -> AttentionCost {
        let (n, d, k) = (shape.length, shape.headDim, kp)
        let perSlice = Int.saturatingSum(.saturatingProduct(2, k, d), .saturatingProduct(n, k), n)  // 2kd + nk + n
        return AttentionCost(
            flops: Double(shape.batch) * Double(shape.heads) * 8 * Double(n) * Double(k) * Double(d),
            intermediateBytes: AttentionCost.floats(shape.slices, perSlice),
            outputBytes: AttentionCost.floats(shape.slices, n, d),
            parameterBytes: LinformerProjections.byteCount(k: k, length: n, heads: shape.heads, sharing: sharing))
    }
}
