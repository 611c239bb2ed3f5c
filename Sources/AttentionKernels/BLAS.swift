import CBLAS

/// The only file that imports OpenBLAS. Storage is row-major everywhere (`CblasRowMajor`), and
/// every leading dimension is a ``MatrixView/rowStride``.
public enum BLAS {
    /// `c ← alpha · op(a) · op(b) + beta · c`, where `op(x)` is `x` or `xᵀ`.
    ///
    /// Shapes: `op(a)` is `[m, p]`, `op(b)` is `[p, q]`, `c` is `[m, q]`; a mismatch is a
    /// programmer error. Costs `2·m·p·q` FLOPs. The corresponding C function is `cblas_sgemm`.
    public static func gemm(
        _ a: MatrixView, transposeA: Bool = false,
        _ b: MatrixView, transposeB: Bool = false,
        into c: MatrixView, alpha: Float = 1, beta: Float = 0
    ) {
        let (m, p) = transposeA ? (a.cols, a.rows) : (a.rows, a.cols)
        let (pb, q) = transposeB ? (b.cols, b.rows) : (b.rows, b.cols)
        precondition(p == pb, "gemm: inner dimensions differ: op(a) is [\(m), \(p)], op(b) is [\(pb), \(q)]")
        precondition(c.rows == m && c.cols == q, "gemm: output is [\(c.rows), \(c.cols)], expected [\(m), \(q)]")
        guard m > 0, q > 0 else { return }
        if p == 0 {  // an empty product: BLAS would still read c when beta ≠ 0; keep it explicit.
            for i in 0..<m { for j in 0..<q { c[i, j] = beta == 0 ? 0 : beta * c[i, j] } }
            return
        }
        cblas_sgemm(
            CblasRowMajor,
            transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(q), Int32(p),
            alpha, a.base, Int32(a.rowStride), b.base, Int32(b.rowStride),
            beta, c.base, Int32(c.rowStride))
    }

    /// `y ← alpha · op(a) · x + beta · y`: `op(a)` is `a` (`[m, p]`: x has p floats, y has m) or `aᵀ`
    /// (x has m floats, y has p). Costs `2·m·p` FLOPs; it streams `a` once, so it runs at memory
    /// speed, not at GEMM speed. The corresponding C function is `cblas_sgemv`.
    public static func gemv(
        _ a: MatrixView, transpose: Bool = false,
        _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, alpha: Float = 1, beta: Float = 0
    ) {
        guard a.rows > 0, a.cols > 0 else {  // an empty product: y ← beta·y, explicitly.
            let count = transpose ? a.cols : a.rows
            for i in 0..<count { y[i] = beta == 0 ? 0 : beta * y[i] }
            return
        }
        cblas_sgemv(
            CblasRowMajor, transpose ? CblasTrans : CblasNoTrans, Int32(a.rows), Int32(a.cols),
            alpha, a.base, Int32(a.rowStride), x, 1, beta, y, 1)
    }

    /// `y ← alpha · x + beta · y` over `count` contiguous floats (2 reads and 1 write per
    /// element: STREAM's triad traffic). The corresponding C function is `cblas_saxpby`.
    public static func axpby(
        _ count: Int, alpha: Float, _ x: UnsafePointer<Float>, beta: Float, _ y: UnsafeMutablePointer<Float>
    ) {
        precondition(count >= 0 && count <= Int(Int32.max), "axpby: \(count) elements do not fit a BLAS int")
        cblas_saxpby(Int32(count), alpha, x, 1, beta, y, 1)
    }

    /// `y ← x` over `count` contiguous floats (1 read and 1 write per element).
    /// The corresponding C function is `cblas_scopy`.
    public static func copy(_ count: Int, _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) {
        precondition(count >= 0 && count <= Int(Int32.max), "copy: \(count) elements do not fit a BLAS int")
        cblas_scopy(Int32(count), x, 1, y, 1)
    }

    /// Sets the number of threads OpenBLAS uses for every following call.
    /// The corresponding C function is `openblas_set_num_threads`.
    public static func setThreads(_ count: Int) { openblas_set_num_threads(Int32(count)) }

    /// Threads OpenBLAS will use. The corresponding C function is `openblas_get_num_threads`.
    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// The kernel family OpenBLAS picked for this CPU (e.g. `SkylakeX`, `Zen`).
    /// The corresponding C function is `openblas_get_corename`.
    public static var coreName: String { String(cString: openblas_get_corename()) }

    /// OpenBLAS's build configuration string (version, threading, max threads).
    /// The corresponding C function is `openblas_get_config`.
    public static var config: String { String(cString: openblas_get_config()) }

    /// Threading model: 0 sequential, 1 pthreads, 2 OpenMP.
    /// The corresponding C function is `openblas_get_parallel`.
    public static var parallelMode: Int { Int(openblas_get_parallel()) }
}
