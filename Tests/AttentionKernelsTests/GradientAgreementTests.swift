import AttentionKernels
import AttentionReference
import Testing
import _TestSupport

/// Every backward pass (after its training forward) against the Float64 reference gradients over the
/// shape table. The tolerance is derived per element in `ReferenceGradients.swift` (each reference
/// function's doc comment gives the derivation); a pass means every element of dQ, dK, dV (and dE,
/// dF) is inside its bound.
@Suite struct GradientAgreementTests {
    /// The kernels of a shape as differentiable ones (all of the suite's are).
    static func kernels(_ shape: AttentionShape, k: Int, seed: UInt64) -> [any DifferentiableAttention] {
        Verification.kernels(for: shape, projectedLength: k, seed: seed).compactMap {
            $0 as? any DifferentiableAttention
        }
    }

    /// The kernel table without its n = 257, d = 64 row, whose Float64 reference gradients take about
    /// 90 s in a debug build (n²·d per slice, seven kernels); `attnbench verify` checks n = 130, d = 64.
    static let cases = kernelCases.filter { $0.shape.length * $0.shape.length * $0.shape.headDim <= 130 * 130 * 64 }

    @Test(arguments: cases)
    func everyBackwardMatchesTheReference(_ c: KernelCase) {
        let (q, k, v) = Verification.inputs(c.shape, seed: 7)
        let dO = Verification.outputGradient(c.shape, seed: 7)
        let kernels = Self.kernels(c.shape, k: c.projectedLength, seed: 11)
        #expect(kernels.count == Verification.kernels(for: c.shape, projectedLength: c.projectedLength, seed: 11).count)
        for kernel in kernels {
            let result = Verification.checkGradients(kernel, q: q, k: k, v: v, outputGradient: dO)
            #expect(
                result.passed,
                "\(kernel.name) at \(c.shape): max error \(result.maxAbsoluteError), \(result.worstBoundFraction)× its bound"
            )
        }
    }

    @Test(arguments: [1, 2])
    func gradientsDoNotDependOnTheThreadCount(_ threads: Int) {
        let shape = AttentionShape(batch: 2, heads: 3, length: 65, headDim: 16)
        let (q, k, v) = Verification.inputs(shape, seed: 3)
        let dO = Verification.outputGradient(shape, seed: 3)
        withComputeThreads(threads) {
            for kernel in Self.kernels(shape, k: 9, seed: 5) {
                #expect(
                    Verification.checkGradients(kernel, q: q, k: k, v: v, outputGradient: dO).passed,
                    "\(kernel.name) with \(threads) threads")
            }
        }
    }

    /// The check must be able to fail, for each mechanism: gradients for dO judged against the
    /// reference for 1.03·dO (a 3% error everywhere), and a causal backward against the non-causal
    /// reference. Linformer's bounds are the widest and widen with n, so it is also judged at verify's
    /// largest shape (n = 130, d = 64, k = 32) with key-value sharing, its widest mode there.
    @Test(arguments: [
        (AttentionShape(batch: 2, heads: 3, length: 37, headDim: 16), 8, nil),
        (AttentionShape(batch: 2, heads: 2, length: 130, headDim: 64), 32, ProjectionSharing.keyValue),
    ])
    func wrongGradientsFailTheCheck(_ shape: AttentionShape, _ projected: Int, _ only: ProjectionSharing?) {
        let (q, k, v) = Verification.inputs(shape, seed: 1)
        let dO = Verification.outputGradient(shape, seed: 1)
        let off = scaled(dO, by: 1.03)
        func judge<K: DifferentiableAttention>(_ kernel: K, against reference: any AttentionKernel, upstream: Tensor)
            -> Bool
        {
            let (output, saved) = kernel.trainingForward(q: q, k: k, v: v)
            let gradients = kernel.backward(q: q, k: k, v: v, output: output, saved: saved, outputGradient: dO)
            let projected = (saved as? LinformerAttention.Saved).map { ($0.keys, $0.values) }
            let expected = ReferenceAttention.gradients(
                of: reference, q: q, k: k, v: v, outputGradient: upstream, projected: projected)
            return Verification.compare(gradients, expected, kernel: kernel.name, shape: shape).passed
        }
        let kernels = Self.kernels(shape, k: projected, seed: 2).filter { kernel in
            only.map { (kernel as? LinformerAttention)?.projections.sharing == $0 } ?? true
        }
        #expect(!kernels.isEmpty)
        for kernel in kernels {
            let (right, wrong) = (
                judge(kernel, against: kernel, upstream: dO), judge(kernel, against: kernel, upstream: off)
            )
            #expect(right, "\(kernel.name) with the right dO")
            #expect(!wrong, "\(kernel.name) passed a 3% error")
        }
        if only == nil {
            #expect(!judge(SoftmaxAttention(causal: true), against: SoftmaxAttention(), upstream: dO))
            #expect(!judge(LinearAttention(causal: true), against: LinearAttention(), upstream: dO))
        }
    }

    /// The backward only reads its saved forward: differentiating it twice gives the same gradients,
    /// bit for bit, and leaves the saved tensors as they were (the harness times backward passes so).
    @Test func theSavedForwardCanBeDifferentiatedAgain() {
        let shape = AttentionShape(batch: 2, heads: 2, length: 70, headDim: 16)
        let (q, k, v) = Verification.inputs(shape, seed: 4)
        let dO = Verification.outputGradient(shape, seed: 4)
        func twice<K: DifferentiableAttention>(_ kernel: K) -> Bool {
            let (output, saved) = kernel.trainingForward(q: q, k: k, v: v)
            let first = kernel.backward(q: q, k: k, v: v, output: output, saved: saved, outputGradient: dO)
            let second = kernel.backward(q: q, k: k, v: v, output: output, saved: saved, outputGradient: dO)
            return zip(first.named, second.named).allSatisfy { $0.tensor.scalars == $1.tensor.scalars }
        }
        for kernel in Self.kernels(shape, k: 16, seed: 6) {
            let same = twice(kernel)
            #expect(same, "\(kernel.name)")
        }
    }

    /// The training forward is the forward: the same output, bit for bit.
    @Test func theTrainingForwardIsTheForward() {
        let shape = AttentionShape(batch: 2, heads: 3, length: 33, headDim: 16)
        let (q, k, v) = Verification.inputs(shape, seed: 8)
        func same<K: DifferentiableAttention>(_ kernel: K) -> Bool {
            kernel.trainingForward(q: q, k: k, v: v).output.scalars == kernel(q: q, k: k, v: v).scalars
        }
        for kernel in Self.kernels(shape, k: 8, seed: 9) {
            let equal = same(kernel)
            #expect(equal, "\(kernel.name)")
        }
    }
}
