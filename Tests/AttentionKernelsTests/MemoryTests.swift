import AttentionKernels
import AttentionReference
import Profiling
import Testing
import _TestSupport

/// What jemalloc's per-thread peak sees of one kernel call, against the analytic cost model, within
/// ``PeakBounds``.
@Suite struct MemoryTests {

    /// One standard-attention call must hold the whole [B, H, n, n] score tensor.
    @Test func standardAttentionPeakHoldsTheScores() throws {
        let shape = AttentionShape(batch: 2, heads: 3, length: 512, headDim: 32)
        let (q, k, v) = Verification.inputs(shape, seed: 1)
        let kernel = SoftmaxAttention()
        let (_, peak) = try AllocatorProbe.measurePeak { kernel(q: q, k: k, v: v) }
        let scores = shape.batch * shape.heads * shape.length * shape.length * 4
        #expect(peak >= scores)
        expectNearModel(peak, kernel.cost(for: shape).callPeakBytes, kernel.name)
    }

    /// At 2 threads, held for the whole test: flash attention's tiles are one per worker thread.
    @Test func everyKernelPeakMatchesTheCostModel() throws {
        let shape = AttentionShape(batch: 2, heads: 2, length: 1024, headDim: 64)
        let (q, k, v) = Verification.inputs(shape, seed: 2)
        try withComputeThreads(2) {
            for kernel in Verification.kernels(for: shape, projectedLength: 128, seed: 3) {
                let (_, peak) = try AllocatorProbe.measurePeak { kernel(q: q, k: k, v: v) }
                let model = kernel.cost(for: shape).callPeakBytes
                expectNearModel(peak, model, kernel.name)
            }
        }
    }
}
