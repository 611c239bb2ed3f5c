#if canImport(Glibc)
    import Glibc
#endif

/// A dense float32 tensor in row-major order, 64-byte aligned.
///
/// Attention tensors are `[B, H, n, d]` (batch, heads, length, head dim); projections are `[k, n]`
/// or `[H, k, n]`. The storage comes from `posix_memalign`, so when jemalloc is linked it is
/// allocated by jemalloc on the calling thread and shows in that thread's `thread.peak`.
/// Offsets into a tensor are computed only here (``matrix(_:)`` and the multi-index subscript) and,
/// within one matrix, in ``MatrixView``; kernels step along a single row. (``ReferenceAttention``
/// indexes its own Float64 arrays, laid out like a `[b, h, n, d]` tensor, as `(s·n + i)·d + c`.)
public final class Tensor: @unchecked Sendable {
    /// Alignment of ``data`` in bytes: one cache line, and a whole AVX-512 register.
    public static let alignment = 64

    public let shape: [Int]
    public let count: Int
    public let data: UnsafeMutablePointer<Float>

    /// Allocates `shape` without initialising it (the pages are not touched). `label` says what the
    /// tensor is ("scores", "K′ = E·K", "layer: FFN hidden"): it is only handed to
    /// ``allocationObserver`` (the memory timeline's legend), never stored, so it costs nothing
    /// without one. Required, so that every allocation site names its tensor.
    public init(uninitialized shape: [Int], label: StaticString) {
        precondition(!shape.isEmpty, "a tensor needs at least one dimension")
        precondition(shape.allSatisfy { $0 >= 0 }, "tensor dimensions must be non-negative, got \(shape)")
        self.shape = shape
        self.count = shape.reduce(1) { .saturatingProduct($0, $1) }
        let bytes = AttentionCost.floats(max(count, 1))
        precondition(bytes < Int.max, "tensor shape \(shape) is too large to allocate")
        var raw: UnsafeMutableRawPointer?
        let status = posix_memalign(&raw, Tensor.alignment, bytes)
        precondition(status == 0 && raw != nil, "posix_memalign of \(bytes) bytes failed (\(status))")
        data = raw!.bindMemory(to: Float.self, capacity: max(count, 1))
        Tensor.notify(data, (bytes, label))
    }

    /// Told of every tensor allocation (its address, requested bytes and label) and release (nil)
    /// made **on the thread that set it**, in order, while set: how the harness traces a call's heap
    /// (`HeapTrace`). Other threads' tensors (another test running beside the trace) are not
    /// reported; the kernels' workers allocate none. nil (the default) costs one load per allocation.
    nonisolated(unsafe) public static var allocationObserver:
        ((_ address: UInt, _ allocation: (bytes: Int, label: StaticString)?) -> Void)?
    {
        // The owner is recorded before the observer is stored and cleared with it, so a thread
        // that is not the owner never reads the observer while it is being written.
        willSet { observingThread = newValue == nil ? nil : pthread_self() }
    }

    /// The thread whose allocations ``allocationObserver`` sees (nil while there is none).
    nonisolated(unsafe) private static var observingThread: pthread_t?

    @inline(__always)
    private static func notify(_ address: UnsafeMutablePointer<Float>, _ allocation: (bytes: Int, label: StaticString)?)
    {
        guard let owner = observingThread, pthread_equal(owner, pthread_self()) != 0 else { return }
        allocationObserver?(UInt(bitPattern: address), allocation)
    }

    /// Allocates `shape` filled with zeros.
    public convenience init(zeros shape: [Int], label: StaticString) {
        self.init(uninitialized: shape, label: label)
        data.initialize(repeating: 0, count: count)
    }

    /// Copies `scalars` (row-major) into a new tensor of `shape`.
    public convenience init(shape: [Int], scalars: [Float], label: StaticString) {
        self.init(uninitialized: shape, label: label)
        precondition(scalars.count == count, "\(scalars.count) scalars do not fill shape \(shape)")
        scalars.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: count) }
    }

    deinit {
        Tensor.notify(data, nil)
        free(data)
    }

    /// Bytes of storage (`count × 4`).
    public var byteCount: Int { count * MemoryLayout<Float>.stride }

    /// All elements in row-major order (a copy; for tests and file output).
    public var scalars: [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }

    /// Element at a multi-index (slow; for tests and references).
    public subscript(_ index: Int...) -> Float {
        get { data[offset(index)] }
        set { data[offset(index)] = newValue }
    }

    private func offset(_ index: [Int]) -> Int {
        precondition(index.count == shape.count, "index \(index) does not match shape \(shape)")
        var offset = 0
        for (i, n) in zip(index, shape) {
            precondition(i >= 0 && i < n, "index \(index) out of bounds for shape \(shape)")
            offset = offset * n + i
        }
        return offset
    }
}

// MARK: - Attention layout

extension Tensor {
    /// The `i`-th `[rows, cols]` matrix of a tensor `[..., rows, cols]` (its last two dimensions):
    /// for `[b, h, n, d]`, slice `i = batch·h + head`.
    public func matrix(_ i: Int) -> MatrixView {
        precondition(shape.count >= 2, "matrix(_:) needs at least two dimensions, got \(shape)")
        let (rows, cols) = (shape[shape.count - 2], shape[shape.count - 1])
        precondition(i >= 0 && i * rows * cols < max(count, 1), "matrix \(i) is outside shape \(shape)")
        return MatrixView(base: data + i * rows * cols, rows: rows, cols: cols)
    }
}
