/// The analytic cost of one attention call: what it must compute and what it must hold.
///
/// FLOPs count a multiply-add as 2 in the matrix products (and matrix-vector products) and in
/// linear attention's normaliser; the element-wise work (the softmax's max, subtract, exp and sum,
/// the feature map φ, the division by the row sums, the decode loop's feedback) is not counted.
/// They are computed in `Double` from the sizes, so they never overflow (at worst they read +inf).
/// Bytes are float32 buffers, counted exactly as the kernels allocate them, with saturating
/// arithmetic (``Swift/Int/saturatingProduct(_:)``): a count that does not fit reads `Int.max`,
/// which is over any memory budget.
public struct AttentionCost: Equatable, Sendable {
    /// Floating-point operations of one call.
    public var flops: Double
    /// Bytes of the intermediates the call allocates and frees (scores, projected K/V, state…).
    public var intermediateBytes: Int
    /// Bytes of the output the call allocates and returns (`b·h·n·d·4`).
    public var outputBytes: Int
    /// Bytes of parameters held by the kernel across calls (Linformer's E and F), not per call.
    public var parameterBytes: Int

    public init(flops: Double, intermediateBytes: Int, outputBytes: Int, parameterBytes: Int = 0) {
        self.flops = flops
        self.intermediateBytes = intermediateBytes
        self.outputBytes = outputBytes
        self.parameterBytes = parameterBytes
    }

    /// What one call adds to the heap at its peak: intermediates plus output (saturating). This is
    /// the figure jemalloc's `thread.peak` is compared with (`model_bytes` in the CSV).
    public var callPeakBytes: Int { .saturatingSum(intermediateBytes, outputBytes) }

    /// Bytes of one float32 buffer of `Π counts` elements (`Π counts · 4`), saturating at `Int.max`.
    public static func floats(_ counts: Int...) -> Int {
        counts.reduce(MemoryLayout<Float>.stride) { .saturatingProduct($0, $1) }
    }
}
