import AttentionKernels
import AttentionReference
import EncoderLayer
import Testing
import _TestSupport

/// The encoder stack against its Float64 reference, part by part and end to end
/// (``Verification/checkLayer(_:x:outputGradient:referenceWeights:)``): every tolerance is the
/// per-element bound derived in `ReferenceLayer.swift` (and the cores' own in `ReferenceAttention`),
/// never a fixed epsilon.
@Suite struct LayerReferenceTests {
    /// What `attnbench verify` runs: L = 2 stacks of every core (standard and flash with and without
    /// the causal mask, Linformer key-value, linear and causal linear, Reformer lsh-2 and Performer
    /// with m = 32 with and without it), n = 37, forward part by part, end to end and backward part by part.
    @Test func everyCoreAgreesWithTheReference() {
        let results = Verification.checkLayers(seed: 42)
        #expect(results.count == 11 * 3)
        for r in results {
            #expect(
                r.passed,
                "\(r.kernel): max error \(r.maxAbsoluteError), \(r.worstBoundFraction)× its bound, \(r.nonFinite) non-finite"
            )
        }
    }

    static let small = LayerConfiguration(heads: 2, headDim: 8, ffnMultiplier: 2, layers: 2)

    /// `weights` with element `index` of tensor `name` of layer `layer` multiplied by `factor`.
    static func perturbed(_ weights: [EncoderWeights], layer: Int, _ name: String, index: Int, by factor: Float)
        -> [EncoderWeights]
    {
        weights.enumerated().map { l, w in
            let copies = w.named.map { entry -> Tensor in
                let copy = Tensor(shape: entry.tensor.shape, scalars: entry.tensor.scalars, label: "test")
                if l == layer && entry.name == name { copy.data[index] *= factor }
                return copy
            }
            return EncoderWeights(
                wq: copies[0], wk: copies[1], wv: copies[2], wo: copies[3], bq: copies[4], bk: copies[5],
                bv: copies[6], bo: copies[7], w1: copies[8], b1: copies[9], w2: copies[10], b2: copies[11],
                gamma1: copies[12], beta1: copies[13], gamma2: copies[14], beta2: copies[15])
        }
    }

    /// `weights` with each layer's two LayerNorms' γ, β swapped.
    static func swappedLayerNorms(_ weights: [EncoderWeights]) -> [EncoderWeights] {
        weights.map { w in
            EncoderWeights(
                wq: w.wq, wk: w.wk, wv: w.wv, wo: w.wo, bq: w.bq, bk: w.bk, bv: w.bv, bo: w.bo, w1: w.w1, b1: w.b1,
                w2: w.w2, b2: w.b2, gamma1: w.gamma2, beta1: w.beta2, gamma2: w.gamma1, beta2: w.beta1)
        }
    }

    /// The check can fail: judged against a reference whose weights differ by 1% in one element (of
    /// Wo in layer 1, W1 in layer 0, W2 in layer 1), the forward, the end-to-end and the backward
    /// checks each fail, while the stack's own weights pass all three. A bias or a β off by 1% (β₂ of
    /// layer 1, bv of layer 0) fails the forward and end-to-end checks, and only those: no backward
    /// part reads a bias (each is judged on the saved forward the kernel made), as it should be.
    @Test(arguments: [
        (1, "wo", 5, true), (0, "w1", 17, true), (1, "w2", 40, true), (1, "beta2", 3, false), (0, "bv", 6, false),
    ])
    func aOnePercentWeightChangeFailsTheCheck(_ layer: Int, _ name: String, _ index: Int, _ entersBackward: Bool) {
        let (x, dy, stack) = Self.setUp()
        let right = Verification.checkLayer(stack, x: x, outputGradient: dy)
        #expect(right.passed)
        let off = Verification.checkLayer(
            stack, x: x, outputGradient: dy,
            referenceWeights: Self.perturbed(stack.weights, layer: layer, name, index: index, by: 1.01))
        #expect(!off.forwardPassed, "forward passed with \(name) of layer \(layer) off by 1%")
        #expect(!off.endToEnd.passed, "end-to-end passed with \(name) of layer \(layer) off by 1%")
        #expect(off.backwardPassed != entersBackward, "backward with \(name) of layer \(layer) off by 1%")
    }

    /// Each layer's two LayerNorms swapped (γ₁, β₁ for γ₂, β₂) fail all three checks.
    @Test func swappedLayerNormsFailTheCheck() {
        let (x, dy, stack) = Self.setUp()
        let swapped = Verification.checkLayer(
            stack, x: x, outputGradient: dy, referenceWeights: Self.swappedLayerNorms(stack.weights))
        #expect(!swapped.forwardPassed)
        #expect(!swapped.endToEnd.passed)
        #expect(!swapped.backwardPassed)
    }

    /// A small L = 2 stack of standard attention, n = 23, and its X and dY.
    static func setUp(core: any DifferentiableAttention = SoftmaxAttention()) -> (Tensor, Tensor, EncoderStack) {
        let x = Tensor.normal([2, 23, small.modelDim], seed: 8, label: "test")
        let dy = Tensor.normal(x.shape, seed: 9, label: "test")
        return (x, dy, EncoderStack(configuration: small, cores: [core, core], seed: 10))
    }

    /// OpenBLAS rounds its products differently at different thread counts, so the stack at 1 and at
    /// 2 threads is not the same bit for bit; both must agree with the same Float64 reference within
    /// its bound, forward, end to end and backward, which makes them the same output up to rounding.
    @Test(arguments: [1, 2])
    func theThreadCountChangesOnlyTheRounding(_ threads: Int) {
        let x = Tensor.normal([3, 19, Self.small.modelDim], seed: 11, label: "test")
        let dy = Tensor.normal(x.shape, seed: 12, label: "test")
        withComputeThreads(threads) {
            for (name, cores) in Verification.layerCores(
                configuration: Self.small, length: 19, projectedLength: 5, seed: 13,
                flashBlocks: Verification.smallFlashBlocks)
            {
                let stack = EncoderStack(configuration: Self.small, cores: cores, seed: 14)
                let check = Verification.checkLayer(stack, x: x, outputGradient: dy)
                for r in check.all {
                    #expect(r.passed, "\(name) at \(threads) threads: \(r.kernel), \(r.worstBoundFraction)× its bound")
                }
            }
        }
    }
}
