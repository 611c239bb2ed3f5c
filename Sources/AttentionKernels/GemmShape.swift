/// One matrix product of an attention call, `op(A)·op(B) → C` with op(A) `[m, k]`, op(B) `[k, n]` and
/// C `[m, n]` (op transposes a stored operand when flagged, as
/// ``BLAS/gemm(_:transposeA:_:transposeB:into:alpha:beta:)`` reads it), made `count` times per call
/// (once per slice, per tile…).
///
/// A kernel lists its products with ``AttentionKernel/products(for:)``: `attnbench kernels` times
/// exactly that list against the kernel (``KernelBench``), and a test holds the list's FLOPs to the
/// kernel's cost model, so neither can drift from the other unnoticed.
public struct GemmShape: Hashable, Sendable, CustomStringConvertible {
    /// Rows of op(A) and C.
    public var m: Int
    /// The inner dimension: columns of op(A), rows of op(B).
    public var k: Int
    /// Columns of op(B) and C.
    public var n: Int
    public var transposeA: Bool
    public var transposeB: Bool
    /// How many times one call makes this product.
    public var count: Int

    /// `[m, k]·[k, n] → [m, n]`, `count` times.
    public init(m: Int, k: Int, n: Int, transposeA: Bool = false, transposeB: Bool = false, count: Int = 1) {
        (self.m, self.k, self.n) = (m, k, n)
        (self.transposeA, self.transposeB) = (transposeA, transposeB)
        self.count = count
    }

    /// `2·m·k·n·count`: a multiply-add counts 2, as in ``AttentionCost``.
    public var flops: Double { 2 * Double(m) * Double(k) * Double(n) * Double(count) }

    /// The stored operands' sizes in floats: A is `[m, k]` (`[k, m]` when transposed), B `[k, n]`, C `[m, n]`.
    public var operandFloats: (a: Int, b: Int, c: Int) {
        (.saturatingProduct(m, k), .saturatingProduct(k, n), .saturatingProduct(m, n))
    }

    public var description: String {
        "[\(m), \(k)]\(transposeA ? "ᵀ" : "")·[\(k), \(n)]\(transposeB ? "ᵀ" : "") → [\(m), \(n)] ×\(count)"
    }
}

extension [GemmShape] {
    /// Σ FLOPs of the products.
    public var flops: Double { reduce(0) { $0 + $1.flops } }
}
