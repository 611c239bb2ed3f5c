import AttentionKernels
import AttentionReference
import Testing
import _TestSupport

@Suite struct RobustnessTests {
    /// Inputs scaled by 100 make scores of order 10⁴: without max subtraction exp would overflow.
    @Test func largeInputsStayFinite() {
        let shape = AttentionShape(batch: 2, heads: 2, length: 70, headDim: 64)
        let (q, k, v) = Verification.inputs(shape, seed: 31)
        let (q100, k100, v100) = (scaled(q, by: 100), scaled(k, by: 100), scaled(v, by: 100))
        for kernel in Verification.kernels(for: shape, projectedLength: 16, seed: 3) {
            let out = kernel(q: q100, k: k100, v: v100)
            #expect(out.scalars.allSatisfy { $0.isFinite }, "\(kernel.name) produced NaN or Inf")
        }
    }

    @Test func linformerRefusesACausalForm() {
        let projections = LinformerProjections.seeded(k: 4, length: 8, heads: 2, sharing: .headwise, seed: 1)
        #expect(throws: KernelConfigurationError.self) {
            try LinformerAttention(projections: projections, causal: true)
        }
    }

    @Test func projectionSharingModesHaveTheirMatrixCounts() {
        let (k, n, h) = (4, 10, 3)
        let none = LinformerProjections.seeded(k: k, length: n, heads: h, sharing: .none, seed: 1)
        let headwise = LinformerProjections.seeded(k: k, length: n, heads: h, sharing: .headwise, seed: 1)
        let keyValue = LinformerProjections.seeded(k: k, length: n, heads: h, sharing: .keyValue, seed: 1)
        #expect(none.sharing == .none && none.e.shape == [h, k, n] && none.e !== none.f)
        #expect(headwise.sharing == .headwise && headwise.e.shape == [1, k, n] && headwise.e !== headwise.f)
        #expect(keyValue.sharing == .keyValue && keyValue.e === keyValue.f)
        for (p, sharing) in [(none, ProjectionSharing.none), (headwise, .headwise), (keyValue, .keyValue)] {
            #expect(p.byteCount == LinformerProjections.byteCount(k: k, length: n, heads: h, sharing: sharing))
        }
        // Per-head matrices differ between heads; shared ones are the same memory.
        #expect(none.e(head: 0).base != none.e(head: 1).base)
        #expect(headwise.e(head: 0).base == headwise.e(head: 2).base)
    }

    @Test func mismatchedProjectionsAreRejected() {
        #expect(throws: KernelConfigurationError.self) {
            try LinformerProjections(
                e: Tensor(zeros: [4, 10], label: "test"), f: Tensor(zeros: [5, 10], label: "test"), heads: 2)
        }
        #expect(throws: KernelConfigurationError.self) {
            try LinformerProjections(
                e: Tensor(zeros: [3, 4, 10], label: "test"), f: Tensor(zeros: [3, 4, 10], label: "test"), heads: 2)
        }
    }

    @Test func seededInputsAreReproducible() {
        let a = Tensor.normal([3, 5], seed: 77, label: "test")
        let b = Tensor.normal([3, 5], seed: 77, label: "test")
        let c = Tensor.normal([3, 5], seed: 78, label: "test")
        #expect(a.scalars == b.scalars && a.scalars != c.scalars)
    }
}
