import AttentionKernels
import Profiling
import Testing
import _TestSupport

/// What jemalloc's per-thread peak sees of one kernel call, against the analytic cost model.
/// Memory is deterministic, so the bounds are tight: model − 100 KiB ≤ peak ≤ model + 768 KiB.
/// Below: jemalloc samples thread.peak to within about 100 KB. Above: OpenBLAS mallocs a 512 KiB
/// job array on the calling thread for each threaded level-3 call (measured with the probe at 2
/// threads; 192 bytes at 1 thread), plus that sampling granularity and a few small Swift
/// allocations. An extra buffer of output size (1 MiB here) or score size is outside it.
@Suite struct MemoryTests {
    static let below = 100 * 1024
    static let above = 768 * 1024

    static func expectNearModel(_ peak: Int, _ model: Int, _ label: String) {
        #expect(peak >= model - below && peak <= model + above, "\(label): peak \(peak), model \(model)")
    }

    /// One standard-attention call must hold the whole [B, H, n, n] score tensor.
    @Test func standardAttentionPeakHoldsTheScores() throws {
        let shape = AttentionShape(batch: 2, heads: 3, length: 512, headDim: 32)
        let (q, k, v) = Verification.inputs(shape, seed: 1)
        let kernel = SoftmaxAttention()
        let (_, peak) = try AllocatorProbe.measurePeak { kernel(q: q, k: k, v: v) }
        let scores = shape.batch * shape.heads * shape.length * shape.length * 4
        #expect(peak >= scores)
        Self.expectNearModel(peak, kernel.cost(for: shape).callPeakBytes, kernel.name)
    }

    /// At 2 threads, held for the whole test: flash attention's tiles are one per worker thread.
    @Test func everyKernelPeakMatchesTheCostModel() throws {
        let shape = AttentionShape(batch: 2, heads: 2, length: 1024, headDim: 64)
        let (q, k, v) = Verification.inputs(shape, seed: 2)
        try withComputeThreads(2) {
            for kernel in Verification.kernels(for: shape, projectedLength: 128, seed: 3) {
                let (_, peak) = try AllocatorProbe.measurePeak { kernel(q: q, k: k, v: v) }
                let model = kernel.cost(for: shape).callPeakBytes
                Self.expectNearModel(peak, model, kernel.name)
            }
        }
    }
}
