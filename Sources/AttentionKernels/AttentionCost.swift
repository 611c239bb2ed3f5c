/// The analytic cost of one attention call: what it must compute and what it must hold.
///
/// FLOPs count a multiply-add as 2 and count the matrix products plus the element-wise work that
/// is proportional to them (softmax: ~5 per score for max, subtract, exp, sum, scale; φ: 2 per
/// element). Bytes are float32 buffers, counted exactly as the kernels allocate them.
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

    /// What one call adds to the heap at its peak: intermediates plus output. This is the figure
    /// jemalloc's `thread.peak` is compared with (`model_bytes` in the CSV).
    public var callPeakBytes: Int { intermediateBytes + outputBytes }

    /// Bytes of one float32 buffer of `count` elements.
    public static func floats(_ count: Int) -> Int { count * MemoryLayout<Float>.stride }
}
