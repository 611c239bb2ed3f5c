#if canImport(Glibc)
import Glibc
#endif

/// Standard (softmax) attention, the papers' baseline: `out = softmax(Q Kᵀ / √d) V`, with the full
/// `[b, h, n, n]` score tensor materialised, as PyTorch's unfused implementation does.
///
/// Cost per call: `4·b·h·n²·d` FLOPs (two products of `2·n²·d` each, per slice) and
/// `b·h·n²·4` bytes of scores on top of the output: O(n²d) time, O(n²) extra memory.
/// Numerics: the `1/√d` scale is fused into the first GEMM's `alpha`; rows are shifted by their
/// maximum before `exp` (``Softmax``). With `causal`, query `i` sees keys `j ≤ i`: the masked
/// scores are set to exactly 0 after the softmax, which equals masking them with `-inf` before it.
/// The full `Q Kᵀ` is still computed in the causal case, so FLOPs are the same.
public struct SoftmaxAttention: AttentionKernel {
    public let isCausal: Bool
    public var mechanism: Mechanism { .standard }

    public init(causal: Bool = false) { isCausal = causal }

    public func callAsFunction(q: Tensor, k: Tensor, v: Tensor) -> Tensor {
        let shape = checkedShape(q: q, k: k, v: v)
        let (n, d) = (shape.length, shape.headDim)
        precondition(d >= 1, "\(name): head dimension must be at least 1")
        let scores = Tensor(uninitialized: [shape.batch, shape.heads, n, n])  // [b, h, n, n]
        let out = Tensor(uninitialized: shape.dims)  // [b, h, n, d]
        let scale = 1 / Float(d).squareRoot()

        // pass 1: scores, one GEMM per (batch, head); OpenBLAS threads each product.
        for s in 0..<shape.slices {
            // [n, d]·[d, n] → [n, n]
            BLAS.gemm(q.matrix(s), k.matrix(s), transposeB: true, into: scores.matrix(s), alpha: scale)
        }
        // pass 2: row softmax over all b·h·n rows, split across threads.
        let rows = scores.flatMatrix
        let causal = isCausal
        ComputeThreads.parallelFor(rows.rows) { range in
            for r in range {
                Softmax.normalize(rows.row(r), valid: causal ? r % n + 1 : n, count: n)
            }
        }
        // pass 3: weighted sum of values.
        for s in 0..<shape.slices {
            // [n, n]·[n, d] → [n, d]
            BLAS.gemm(scores.matrix(s), v.matrix(s), into: out.matrix(s))
        }
        return out
    }

    public func cost(for shape: AttentionShape) -> AttentionCost {
        let (n, d, slices) = (Double(shape.length), Double(shape.headDim), Double(shape.slices))
        return AttentionCost(
            flops: slices * 4 * n * n * d,
            intermediateBytes: AttentionCost.floats(shape.slices * shape.length * shape.length),
            outputBytes: AttentionCost.floats(shape.slices * shape.length * shape.headDim))
    }
}
