#if canImport(Glibc)
    import Glibc
#endif

/// Standard (softmax) attention, the papers' baseline: `out = softmax(Q Kᵀ / √d) V`, with the full
/// `[b, h, n, n]` score tensor materialised, as PyTorch's unfused implementation does.
///
/// Cost per call: `4·b·h·n²·d` FLOPs (two products of `2·n²·d` each, per slice) and
/// `b·h·n²·4` bytes of scores on top of the output: O(n²d) time, O(n²) extra memory.
/// Numerics: the `1/√d` scale is fused into the first GEMM's `alpha`; rows are shifted by their
/// maximum before `exp` (``Softmax``), and the division by the row sum is deferred to the `[n, d]`
/// output (the score tensor holds exp(s − max)). With `causal`, query `i` sees keys `j ≤ i`: the
/// masked weights are exactly 0, which equals masking the scores with `-inf`.
/// The full `Q Kᵀ` is still computed in the causal case, so FLOPs are the same.
/// Non-finite inputs propagate as in the naive formula (``ReferenceAttention``): a row whose visible
/// scores hold a NaN or +inf, or are all −inf, is NaN (a NaN in q_i or k_j does that to every row it
/// reaches; a −inf score among finite ones only gets weight 0, see ``Softmax``); NaN or ±inf in v_jc
/// reaches column c of every row that sees j. For the causal form that takes one O(n·d) finiteness check of V per slice,
/// and a row-by-row product (GEMV over the visible prefix) only when V is not finite.
/// Speed: each (batch, head) slice runs its three passes in turn; slices are split across threads
/// while they fit in cache (``splitsSlices(length:)``). Blocks of query rows sized for the cache
/// were slower (`Results/NOTES-kernels.md`).
public struct SoftmaxAttention: AttentionKernel {
    public let isCausal: Bool
    public var mechanism: Mechanism { .standard }

    public init(causal: Bool = false) { isCausal = causal }

    public func callAsFunction(q: Tensor, k: Tensor, v: Tensor) -> Tensor { forward(q: q, k: k, v: v).output }

    /// The forward pass, with its unnormalised weights exp(s − max) (`[b, h, n, n]`, masked entries
    /// 0) and their row sums (`[b, h, 1, n]`): ``callAsFunction(q:k:v:)`` frees them on return,
    /// ``trainingForward(q:k:v:)`` keeps them for the backward pass.
    func forward(q: Tensor, k: Tensor, v: Tensor) -> (output: Tensor, weights: Tensor, rowSums: Tensor) {
        let shape = checkedShape(q: q, k: k, v: v)
        let (n, d) = (shape.length, shape.headDim)
        precondition(d >= 1, "\(name): head dimension must be at least 1")
        let scores = Tensor(uninitialized: [shape.batch, shape.heads, n, n], label: "scores QKᵀ")  // [b, h, n, n]
        // Σ_j exp(s_ij − max_i) per row
        let sums = Tensor(uninitialized: [shape.batch, shape.heads, 1, n], label: "softmax row sums")
        let out = Tensor(uninitialized: shape.dims, label: "output")  // [b, h, n, d]
        let scale = 1 / Float(d).squareRoot()

        let causal = isCausal
        ComputeThreads.forEachSlice(shape.slices, splitSlices: Self.splitsSlices(length: n)) { s, innerParallel in
            let (p, rowSums) = (scores.matrix(s), sums.matrix(s).row(0))
            var clock = PhaseClock.start()
            // pass 1: scores.
            // [n, d]·[d, n] → [n, n]
            BLAS.gemm(q.matrix(s), k.matrix(s), transposeB: true, into: p, alpha: scale)
            clock.lap(Self.phases.scores)
            // pass 2: unnormalised softmax weights exp(s − max).
            let exponentiate = { (range: Range<Int>) in
                for r in range { rowSums[r] = Softmax.exponentiate(p.row(r), valid: causal ? r + 1 : n, count: n) }
            }
            if innerParallel { ComputeThreads.parallelFor(n, exponentiate) } else { exponentiate(0..<n) }
            clock.lap(Self.phases.softmax)
            // pass 3: weighted sum of values, then each row divided by its weights' sum.
            let (o, values) = (out.matrix(s), v.matrix(s))
            if causal && !values.allFinite() {
                // A masked weight is 0 and 0·NaN = NaN, so a NaN or ±inf value row j would reach rows
                // i < j through the GEMM; each row takes only the values it sees instead.
                for r in 0..<n {
                    // [r+1, d]ᵀ·[r+1] → [d]
                    BLAS.gemv(values.prefix(rows: r + 1), transpose: true, p.row(r), into: o.row(r))
                }
            } else {
                // [n, n]·[n, d] → [n, d]
                BLAS.gemm(p, values, into: o)
            }
            for r in 0..<n { Softmax.divide(o.row(r), count: d, by: rowSums[r]) }
            clock.lap(Self.phases.weightedSum)
        }
        return (out, scores, sums)
    }

    /// The forward's passes, as `attnbench profile` names them.
    static let phases = (
        scores: Phase.named("QKᵀ"), softmax: Phase.named("softmax"), weightedSum: Phase.named("P·V and 1/Σ")
    )

    /// Whether slices are split across threads: only while one slice's scores fit in a 16 MiB
    /// share of the cache (n ≤ 2048). Larger slices stream their n×n scores from memory, and two at
    /// once were slower than one at a time with OpenBLAS threading each product
    /// (`Results/NOTES-kernels.md`).
    static func splitsSlices(length n: Int) -> Bool { AttentionCost.floats(n, n) <= 16 << 20 }

    /// Per slice, [n, d]·[d, n] → [n, n] (Q Kᵀ) and [n, n]·[n, d] → [n, d] (P V): `2·n²·d` FLOPs each.
    /// (A causal slice whose V is not finite takes the second as n GEMVs over the visible prefixes
    /// instead: fewer FLOPs, a path only non-finite inputs take.)
    public func products(for shape: AttentionShape) -> [GemmShape] {
        let (n, d) = (shape.length, shape.headDim)
        return [
            GemmShape(m: n, k: d, n: n, transposeB: true, count: shape.slices),  // [n, d]·[d, n] → [n, n]
            GemmShape(m: n, k: n, n: d, count: shape.slices),
        ]  // [n, n]·[n, d] → [n, d]
    }

    /// `4·b·h·n²·d` FLOPs (the two products); scores and row sums `b·h·(n² + n)` floats; output `b·h·n·d`.
    public func cost(for shape: AttentionShape) -> AttentionCost {
        let (n, d) = (shape.length, shape.headDim)
        let slices = Double(shape.batch) * Double(shape.heads)
        return AttentionCost(
            flops: slices * 4 * Double(n) * Double(n) * Double(d),
            intermediateBytes: AttentionCost.floats(shape.slices, .saturatingSum(.saturatingProduct(n, n), n)),
            outputBytes: AttentionCost.floats(shape.slices, n, d))
    }
}
