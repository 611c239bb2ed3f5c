import AttentionKernels
import Decoding
import Testing

/// The cost models: the documented formulas exactly on ordinary shapes, and no trap on sizes whose
/// byte counts do not fit in an Int (they saturate at Int.max, over any memory budget).
@Suite struct CostModelTests {
    @Test func saturatingArithmeticIsExactUntilItClamps() {
        #expect(Int.saturatingProduct() == 1)
        #expect(Int.saturatingProduct(3, 5, 7) == 105)
        #expect(Int.saturatingProduct(1 << 31, 1 << 31) == 1 << 62)
        #expect(Int.saturatingProduct(1 << 32, 1 << 31) == .max)
        #expect(Int.saturatingProduct(1 << 40, 1 << 40, 0) == 0)
        #expect(Int.saturatingProduct(-(1 << 40), 1 << 40) == .min)
        #expect(Int.saturatingSum(2, 3, 4) == 9)
        #expect(Int.saturatingSum(.max, 1) == .max)
        #expect(Int.saturatingSum(.max - 1, 1) == .max)
        #expect(Int.saturatingSum(.min, -1) == .min)
        #expect(AttentionCost.floats(3, 5) == 60)
        #expect(AttentionCost.floats(1 << 61) == .max)
    }

    /// b = 2, h = 3 (6 slices), n = 100, d = 16, k = 37: the README's table, term by term.
    @Test func ordinaryShapesGiveTheDocumentedFormulas() {
        let shape = AttentionShape(batch: 2, heads: 3, length: 100, headDim: 16)
        #expect(shape.slices == 6)
        #expect(SoftmaxAttention().cost(for: shape) == AttentionCost(
            flops: 6 * 4 * 100 * 100 * 16, intermediateBytes: 6 * (100 * 100 + 100) * 4, outputBytes: 6 * 100 * 16 * 4))
        #expect(SoftmaxAttention(causal: true).cost(for: shape) == SoftmaxAttention().cost(for: shape))
        for (sharing, matrices) in [(ProjectionSharing.none, 2 * 3), (.headwise, 2), (.keyValue, 1)] {
            #expect(LinformerAttention.cost(for: shape, projectedLength: 37, sharing: sharing) == AttentionCost(
                flops: 6 * 8 * 100 * 37 * 16, intermediateBytes: 6 * (2 * 37 * 16 + 100 * 37 + 100) * 4,
                outputBytes: 6 * 100 * 16 * 4, parameterBytes: matrices * 37 * 100 * 4))
        }
        #expect(LinearAttention().cost(for: shape) == AttentionCost(
            flops: 6 * (4 * 100 * 16 * 16 + 3 * 100 * 16), intermediateBytes: 6 * (2 * 100 * 16 + 16 * 16 + 16) * 4,
            outputBytes: 6 * 100 * 16 * 4))
        #expect(LinearAttention(causal: true).cost(for: shape) == AttentionCost(
            flops: 6 * (4 * 100 * 16 * 16 + 3 * 100 * 16), intermediateBytes: 6 * (16 * 16 + 3 * 16) * 4,
            outputBytes: 6 * 100 * 16 * 4))
        // chunks of 64: one full chunk and one of 36 rows, each 4·rows²·d more; scratch 2·64·16 + 64² + 64.
        #expect(LinearAttention(causal: true, chunk: 64).cost(for: shape) == AttentionCost(
            flops: 6 * (4 * 100 * 16 * 16 + 3 * 100 * 16 + 4 * 16 * (64 * 64 + 36 * 36)),
            intermediateBytes: 6 * (16 * 16 + 16 + 2 * 64 * 16 + 64 * 64 + 64) * 4, outputBytes: 6 * 100 * 16 * 4))
    }

    /// The backward passes on the same shape (r = min(n, 64) = 64 rows of dS per block), term by term,
    /// and a training step's peak: max(forward's, output + saved + backward's).
    @Test func backwardCostsGiveTheDocumentedFormulas() {
        let shape = AttentionShape(batch: 2, heads: 3, length: 100, headDim: 16)
        let gradients = 3 * 6 * 100 * 16 * 4
        #expect(SoftmaxAttention().backwardCost(for: shape) == AttentionCost(
            flops: 6 * 8 * 100 * 100 * 16, intermediateBytes: 6 * 64 * 100 * 4, outputBytes: gradients))
        #expect(SoftmaxAttention().savedBytes(for: shape) == 6 * (100 * 100 + 100) * 4)
        for (sharing, matrices) in [(ProjectionSharing.none, 2 * 3), (.headwise, 2), (.keyValue, 1)] {
            #expect(LinformerAttention.backwardCost(for: shape, projectedLength: 37, sharing: sharing) == AttentionCost(
                flops: 6 * 16 * 100 * 37 * 16, intermediateBytes: 6 * (2 * 37 * 16 + 64 * 37) * 4,
                outputBytes: gradients + matrices * 37 * 100 * 4, parameterBytes: matrices * 37 * 100 * 4))
        }
        #expect(LinearAttention().backwardCost(for: shape) == AttentionCost(
            flops: 6 * (8 * 100 * 16 * 16 + 9 * 100 * 16), intermediateBytes: 6 * (16 * 16 + 16 + 100) * 4, outputBytes: gradients))
        #expect(LinearAttention().savedBytes(for: shape) == 6 * (2 * 100 * 16 + 16 * 16 + 16) * 4)
        #expect(LinearAttention(causal: true).backwardCost(for: shape) == AttentionCost(
            flops: 6 * (10 * 100 * 16 * 16 + 10 * 100 * 16), intermediateBytes: 6 * (16 * 16 + 4 * 16 + 100) * 4, outputBytes: gradients))
        #expect(LinearAttention(causal: true).savedBytes(for: shape) == 0)

        let output = 6 * 100 * 16 * 4
        let standard = SoftmaxAttention()
        let saved = standard.savedBytes(for: shape), backward = standard.backwardCost(for: shape)
        #expect(standard.cost(for: shape, pass: .forward) == standard.cost(for: shape))
        #expect(standard.cost(for: shape, pass: .backward) == backward)
        #expect(standard.cost(for: shape, pass: .train) == AttentionCost(
            flops: 6 * 4 * 100 * 100 * 16 + backward.flops, intermediateBytes: saved + backward.intermediateBytes,
            outputBytes: output + gradients))
        // Causal linear saves nothing, so its step peaks at the output plus the backward's peak.
        let causal = LinearAttention(causal: true)
        #expect(causal.cost(for: shape, pass: .train).callPeakBytes == output + causal.backwardCost(for: shape).callPeakBytes)
        // A forward larger than what follows it sets the peak (n² scores, tiny gradients).
        let long = AttentionShape(batch: 1, heads: 1, length: 4096, headDim: 1)
        #expect(standard.cost(for: long, pass: .train).callPeakBytes == max(standard.cost(for: long).callPeakBytes,
            4096 * 4 + standard.savedBytes(for: long) + standard.backwardCost(for: long).callPeakBytes))
    }

    /// N = 100 tokens, prompt 5: state + scratch (5d per slice), x_N, and W (d×3d per head) + the prompt's sources.
    @Test func ordinaryGenerationsGiveTheDocumentedFormulas() {
        let parameters = (3 * 16 * 3 * 16 + 6 * 5 * 16) * 4
        #expect(Generation.cost(mechanism: .standard, batch: 2, heads: 3, headDim: 16, length: 100, prompt: 5) == AttentionCost(
            flops: 6 * (4 * 16 * (100 * 101 / 2) + 100 * 6 * 16 * 16),
            intermediateBytes: 6 * (2 * 100 * 16 + 100) * 4 + 6 * 5 * 16 * 4, outputBytes: 6 * 16 * 4,
            parameterBytes: parameters))
        #expect(Generation.cost(mechanism: .linear, batch: 2, heads: 3, headDim: 16, length: 100, prompt: 5) == AttentionCost(
            flops: 6 * (100 * (4 * 16 * 16 + 3 * 16) + 100 * 6 * 16 * 16),
            intermediateBytes: 6 * (16 * 16 + 3 * 16) * 4 + 6 * 5 * 16 * 4, outputBytes: 6 * 16 * 4,
            parameterBytes: parameters))
    }

    /// The brief's b = h = n = 10⁹ (b·h = 10¹⁸ still fits, every byte count does not) and all-Int.max.
    static let huge = [
        AttentionShape(batch: 1_000_000_000, heads: 1_000_000_000, length: 1_000_000_000, headDim: 64),
        AttentionShape(batch: .max, heads: .max, length: .max, headDim: .max),
    ]

    /// Byte counts saturate at Int.max (so the harness's budget guard refuses the point); FLOPs are
    /// computed in Double and are huge, never NaN.
    @Test(arguments: huge)
    func hugeShapesSaturateInsteadOfTrapping(_ shape: AttentionShape) {
        #expect(shape.slices == (shape.batch == .max ? .max : 1_000_000_000_000_000_000))
        var costs: [(String, AttentionCost)] = [Mechanism.standard, .linear].map { mechanism in
            ("\(mechanism) decode", Generation.cost(mechanism: mechanism, batch: shape.batch, heads: shape.heads,
                                                    headDim: shape.headDim, length: shape.length, prompt: shape.length))
        }
        costs += [("standard", SoftmaxAttention().cost(for: shape)), ("standard causal", SoftmaxAttention(causal: true).cost(for: shape)),
                  ("linear", LinearAttention().cost(for: shape)), ("linear causal", LinearAttention(causal: true).cost(for: shape))]
        for sharing in ProjectionSharing.allCases {
            costs.append(("linformer \(sharing)", LinformerAttention.cost(for: shape, projectedLength: 256, sharing: sharing)))
        }
        for pass in [Pass.backward, .train] {
            costs += [("standard \(pass)", SoftmaxAttention().cost(for: shape, pass: pass)),
                      ("linear \(pass)", LinearAttention().cost(for: shape, pass: pass)),
                      ("linear causal \(pass)", LinearAttention(causal: true).cost(for: shape, pass: pass)),
                      ("linformer \(pass)", LinformerAttention.cost(for: shape, projectedLength: 256, sharing: .none, pass: pass))]
        }
        for (name, cost) in costs {
            #expect(cost.intermediateBytes == .max && cost.outputBytes == .max && cost.callPeakBytes == .max, "\(name): \(cost)")
            #expect(cost.flops > 1e30 && !cost.flops.isNaN, "\(name): \(cost.flops)")
        }
    }

    /// One overflowing term saturates its count and leaves the others exact.
    @Test func oneOverflowingTermSaturatesOnlyItsCount() {
        let long = AttentionShape(batch: 1, heads: 1, length: 1_000_000_000_000, headDim: 64)  // n² does not fit
        let standard = SoftmaxAttention().cost(for: long)
        #expect(standard.intermediateBytes == .max && standard.outputBytes == 1_000_000_000_000 * 64 * 4)
        #expect(standard.flops == 4 * 1e24 * 64)
        let linformer = LinformerAttention.cost(for: long, projectedLength: 1 << 40, sharing: .keyValue)  // n·k does not fit
        #expect(linformer.intermediateBytes == .max && linformer.parameterBytes == .max)
        #expect(linformer.outputBytes == standard.outputBytes)
        let decode = Generation.cost(mechanism: .linear, batch: 1, heads: 1, headDim: 64, length: .max, prompt: 1)
        #expect(decode.intermediateBytes == (64 * 64 + 3 * 64 + 5 * 64) * 4 && decode.flops > 1e22)  // O(1) state at any N
    }
}
