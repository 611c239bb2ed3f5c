/// A non-owning row-major view of a matrix: `rows × cols`, consecutive rows `rowStride` floats apart.
///
/// Every kernel addresses memory through this type, so offsets are computed in one place.
/// Row strides are always listed as the leading dimension (`lda`) in BLAS calls.
public struct MatrixView: @unchecked Sendable {
    public let base: UnsafeMutablePointer<Float>
    public let rows: Int
    public let cols: Int
    public let rowStride: Int

    public init(base: UnsafeMutablePointer<Float>, rows: Int, cols: Int, rowStride: Int? = nil) {
        self.base = base
        self.rows = rows
        self.cols = cols
        self.rowStride = rowStride ?? cols
        precondition(self.rowStride >= cols, "row stride \(self.rowStride) is shorter than a row of \(cols)")
    }

    /// Pointer to the first element of row `i`.
    @inline(__always)
    public func row(_ i: Int) -> UnsafeMutablePointer<Float> { base + i * rowStride }

    @inline(__always)
    public subscript(i: Int, j: Int) -> Float {
        get { base[i * rowStride + j] }
        nonmutating set { base[i * rowStride + j] = newValue }
    }
}
