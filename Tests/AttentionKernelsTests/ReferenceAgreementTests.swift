import AttentionKernels
import AttentionReference
import Testing
import _TestSupport

extension KernelCase: CustomTestStringConvertible {
    public var testDescription: String { description }
}

/// Every mechanism and causal variant against the Float64 reference over the shape table. The
/// tolerance is derived per element in `ReferenceAttention` (the doc comment of each reference
/// function gives the derivation); a pass means every element is inside its bound.
@Suite struct ReferenceAgreementTests {
    @Test(arguments: kernelCases)
    func everyKernelMatchesTheReference(_ c: KernelCase) {
        let (q, k, v) = Verification.inputs(c.shape, seed: 7)
        for kernel in Verification.kernels(for: c.shape, projectedLength: c.projectedLength, seed: 11) {
            let result = Verification.check(kernel, q: q, k: k, v: v)
            #expect(
                result.passed,
                "\(kernel.name) at \(c.shape): max error \(result.maxAbsoluteError), \(result.worstBoundFraction)× its bound"
            )
        }
    }

    @Test(arguments: [1, 2])
    func resultsDoNotDependOnTheThreadCount(_ threads: Int) {
        let shape = AttentionShape(batch: 2, heads: 3, length: 65, headDim: 16)
        let (q, k, v) = Verification.inputs(shape, seed: 3)
        withComputeThreads(threads) {
            for kernel in Verification.kernels(for: shape, projectedLength: 9, seed: 5) {
                #expect(Verification.check(kernel, q: q, k: k, v: v).passed, "\(kernel.name) with \(threads) threads")
            }
        }
    }

    /// The check must be able to fail: a non-causal kernel judged against the causal reference.
    @Test func aWrongKernelFailsTheCheck() {
        let shape = AttentionShape(batch: 2, heads: 2, length: 16, headDim: 8)
        let (q, k, v) = Verification.inputs(shape, seed: 1)
        let out = SoftmaxAttention()(q: q, k: k, v: v)
        let causal = ReferenceAttention.standard(q: q, k: k, v: v, causal: true)
        #expect(!Verification.compare(out, causal, kernel: "wrong", shape: shape).passed)
        let linear = ReferenceAttention.linear(q: q, k: k, v: v, causal: false)
        #expect(!Verification.compare(out, linear, kernel: "wrong", shape: shape).passed)
    }
}
