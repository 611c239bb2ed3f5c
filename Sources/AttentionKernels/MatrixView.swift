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

    /// The first `rows` rows of this matrix (same base and stride).
    public func prefix(rows count: Int) -> MatrixView {
        precondition(count >= 0 && count <= rows, "prefix of \(count) rows of a \(rows)-row matrix")
        return MatrixView(base: base, rows: count, cols: cols, rowStride: rowStride)
    }

    /// Rows `range` of this matrix (same stride): a block of rows, for block-wise products.
    public func rows(_ range: Range<Int>) -> MatrixView {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows, "rows \(range) of a \(rows)-row matrix")
        return MatrixView(
            base: base + range.lowerBound * rowStride, rows: range.count, cols: cols, rowStride: rowStride)
    }

    /// Whether every element is finite: Σ (x − x) is 0 for finite elements and NaN as soon as one is
    /// NaN or ±inf, accumulated 16 lanes at a time (one subtraction and one addition per 16 floats).
    public func allFinite() -> Bool {
        typealias Lanes = SIMD16<Float>
        var poison = Lanes()
        var tail: Float = 0
        for i in 0..<rows {
            let r = row(i)
            var c = 0
            while c + Lanes.scalarCount <= cols {
                let x = UnsafeRawPointer(r + c).loadUnaligned(as: Lanes.self)
                poison += x - x
                c += Lanes.scalarCount
            }
            while c < cols {
                tail += r[c] - r[c]
                c += 1
            }
        }
        return (poison.sum() + tail).isFinite
    }
}
