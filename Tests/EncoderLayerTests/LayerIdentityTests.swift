import AttentionKernels
import EncoderLayer
import Foundation
import Testing
import _TestSupport

@testable import AttentionReference

/// Properties of the encoder stack and its element-wise parts that hold exactly (bit for bit) or
/// within a derived bound, independent of the reference layer's composition.
@Suite struct LayerIdentityTests {
    static let configuration = LayerConfiguration(heads: 2, headDim: 8, ffnMultiplier: 2, layers: 2)

    static func cores(length: Int) -> [(name: String, cores: [any DifferentiableAttention])] {
        Verification.layerCores(
            configuration: configuration, length: length, projectedLength: 5, seed: 3,
            flashBlocks: Verification.smallFlashBlocks)
    }

    /// Inference and the training forward run the same products and passes: the same output, bit for
    /// bit, for every core.
    @Test func inferenceIsTheTrainingForward() {
        let x = Tensor.normal([2, 21, Self.configuration.modelDim], seed: 1, label: "test")
        for (name, cores) in Self.cores(length: 21) {
            let stack = EncoderStack(configuration: Self.configuration, cores: cores, seed: 2)
            let same = stack(x: x).scalars == stack.trainingForward(x: x).output.scalars
            #expect(same, "\(name)")
        }
    }

    /// The backward only reads the saved forward: differentiating it twice gives the same gradients,
    /// bit for bit, and leaves every saved tensor as it was (the harness times backward passes so).
    @Test func theSavedForwardCanBeDifferentiatedAgain() {
        let x = Tensor.normal([2, 13, Self.configuration.modelDim], seed: 4, label: "test")
        let dy = Tensor.normal(x.shape, seed: 5, label: "test")
        for (name, cores) in Self.cores(length: 13) {
            let stack = EncoderStack(configuration: Self.configuration, cores: cores, seed: 6)
            let (output, saved) = stack.trainingForward(x: x)
            let before = saved.layers.map {
                [$0.q, $0.attention, $0.hidden, $0.normalized1, $0.preActivation, $0.normalized2, $0.output].map(
                    \.scalars)
            }
            let first = stack.backward(x: x, output: output, saved: saved, outputGradient: dy)
            let second = stack.backward(x: x, output: output, saved: saved, outputGradient: dy)
            let after = saved.layers.map {
                [$0.q, $0.attention, $0.hidden, $0.normalized1, $0.preActivation, $0.normalized2, $0.output].map(
                    \.scalars)
            }
            let same = zip(first.named, second.named).allSatisfy {
                $0.name == $1.name && $0.tensor.scalars == $1.tensor.scalars
            }
            #expect(same && before == after, "\(name)")
            #expect(first.named.count == 1 + 16 * Self.configuration.layers + (name.hasPrefix("linformer") ? 2 : 0))
        }
    }

    /// With Wo = 0 and W2 = 0 the attention core and the FFN drop out: each layer is
    /// Y = LayerNorm2(LayerNorm1(X + bo) + b2), bit for bit (a zero product adds exactly 0), whatever
    /// the core.
    @Test func withoutOutputProjectionAndFFNTheLayerIsTwoLayerNorms() {
        let c = Self.configuration
        let x = Tensor.normal([2, 11, c.modelDim], seed: 7, label: "test")
        let weights = (0..<c.layers).map { l -> EncoderWeights in
            let w = EncoderWeights.seeded(modelDim: c.modelDim, ffnDim: c.ffnDim, seed: 8 &+ UInt64(l))
            return EncoderWeights(
                wq: w.wq, wk: w.wk, wv: w.wv, wo: Tensor(zeros: w.wo.shape, label: "test"), bq: w.bq, bk: w.bk,
                bv: w.bv, bo: w.bo,
                w1: w.w1, b1: w.b1, w2: Tensor(zeros: w.w2.shape, label: "test"), b2: w.b2, gamma1: w.gamma1,
                beta1: w.beta1,
                gamma2: w.gamma2, beta2: w.beta2)
        }
        // Y by hand: two LayerNorms per layer.
        let expected = Tensor(shape: x.shape, scalars: x.scalars, label: "test")
        let rows = MatrixView(base: expected.data, rows: x.shape[0] * x.shape[1], cols: c.modelDim)
        for w in weights {
            for i in 0..<rows.rows { for j in 0..<rows.cols { rows[i, j] += w.bo.data[j] } }
            LayerNorm.forward(rows: rows, gamma: w.gamma1, beta: w.beta1)
            for i in 0..<rows.rows { for j in 0..<rows.cols { rows[i, j] += w.b2.data[j] } }
            LayerNorm.forward(rows: rows, gamma: w.gamma2, beta: w.beta2)
        }
        for (name, cores) in Self.cores(length: 11) {
            let y = EncoderStack(configuration: c, cores: cores, weights: weights)(x: x)
            let same = y.scalars == expected.scalars
            #expect(same, "\(name)")
        }
    }

    /// LayerNorm's rows have mean 0 and mean square σ²/(σ² + ε) before γ and β, within the bound the
    /// reference derives for each x̂ (the exact values have them exactly), on rows whose mean (1000)
    /// dwarfs their spread (1), where a one-pass E[z²] − E[z]² would have lost every digit. And y is
    /// γ ∘ x̂ + β, bit for bit.
    @Test func layerNormRowsHaveMeanZeroAndUnitScale() {
        let (rows, d) = (5, 48)
        let z = Tensor.normal([rows, d], seed: 9, label: "test")
        for i in 0..<z.count { z.data[i] += 1000 }
        let (gamma, beta) = (
            Tensor.normal([d], seed: 10, std: 0.1, label: "test"), Tensor.normal([d], seed: 11, std: 0.1, label: "test")
        )
        for i in 0..<d { gamma.data[i] += 1 }
        let reference = ReferenceLayer.layerNorm(ReferenceLayer.field(z.matrix(0)), gamma: gamma, beta: beta)
        let y = Tensor(shape: z.shape, scalars: z.scalars, label: "test")
        let (normalized, inverseStd) = (
            Tensor(uninitialized: z.shape, label: "test"), Tensor(uninitialized: [rows], label: "test")
        )
        LayerNorm.forward(
            rows: y.matrix(0), gamma: gamma, beta: beta, normalized: normalized.matrix(0), inverseStd: inverseStd.data)
        for i in 0..<rows {
            var (sum, squares, allowed, squareAllowed) = (0.0, 0.0, 0.0, 0.0)
            for c in 0..<d {
                let x = Double(normalized[i, c])
                sum += x
                squares += x * x
                allowed += reference.normalized.bound(i, c)
                squareAllowed += 2 * abs(x) * reference.normalized.bound(i, c)
                #expect(y[i, c] == gamma.data[c] * normalized[i, c] + beta.data[c])
            }
            let mean = (0..<d).reduce(0.0) { $0 + Double(z[i, $1]) } / Double(d)
            let variance =
                (0..<d).reduce(0.0) { $0 + (Double(z[i, $1]) - mean) * (Double(z[i, $1]) - mean) } / Double(d)
            #expect(abs(sum / Double(d)) <= allowed / Double(d), "row \(i): mean \(sum / Double(d))")
            #expect(
                abs(squares / Double(d) - variance / (variance + 1e-5)) <= squareAllowed / Double(d) + 1e-12,
                "row \(i): mean square \(squares / Double(d))")
        }
    }

    /// The end-to-end check's cores on Float64 inputs (``ReferenceLayer/core(_:q:k:v:batch:heads:)``)
    /// are the suite's references: on exact float32 inputs (bound 0) they give the same values and the
    /// same bounds as ``ReferenceAttention/output(of:q:k:v:)``, for every core.
    @Test func theLayerReferenceCoresAreTheSuiteReferences() {
        let shape = AttentionShape(batch: 2, heads: 3, length: 19, headDim: 8)
        let (q, k, v) = Verification.inputs(shape, seed: 12)
        let configuration = LayerConfiguration(heads: 3, headDim: 8, layers: 1)
        for (name, cores) in Verification.layerCores(
            configuration: configuration, length: 19, projectedLength: 6, seed: 13,
            flashBlocks: Verification.smallFlashBlocks)
        {
            let expected = ReferenceAttention.output(of: cores[0], q: q, k: k, v: v)
            let layer = ReferenceLayer.core(
                cores[0], q: ReferenceLayer.tokens(heads: q), k: ReferenceLayer.tokens(heads: k),
                v: ReferenceLayer.tokens(heads: v), batch: 2, heads: 3)
            let got = ReferenceLayer.headsFirst(layer, batch: 2, heads: 3)
            let values = zip(got.values, expected.values).allSatisfy { abs($0 - $1) <= 1e-12 * max(1, abs($1)) }
            let bounds = zip(got.bounds, expected.bounds).allSatisfy { abs($0 - $1) <= 1e-9 * $1 }
            #expect(values && bounds, "\(name)")
        }
    }

    /// GELU and its derivative against their Float64 values over x ∈ [−20, 20], inside the bound the
    /// reference derives (which covers the exp's clamped range, |x| ≳ 9.4); GELU(x) − GELU(−x) = x
    /// (σ(2r) + σ(−2r) = 1) within the two bounds; and the bound is tight enough to tell BERT's tanh
    /// form from the erf form ½x(1 + erf(x/√2)), which differs by up to ~1e-3 near |x| = 2.
    @Test func geluMatchesItsReferenceOverItsWholeRange() {
        let xs = (0...108).map { Float($0) * 0.37 - 20 } + [0, 1e-30, -1e-30, 9.4, -9.4, 2, -2]
        let input = Tensor(shape: [1, xs.count], scalars: xs, label: "test")
        let field = ReferenceLayer.field(input.matrix(0))
        let (values, slopes) = (ReferenceLayer.gelu(field), ReferenceLayer.geluDerivative(field))
        var erfDistinguished = false
        for (i, x) in xs.enumerated() {
            let (g, gp) = (Double(GELU.value(x)), Double(GELU.derivative(x)))
            #expect(abs(g - values.values[i]) <= values.bounds[i], "GELU(\(x)) = \(g), reference \(values.values[i])")
            #expect(
                abs(gp - slopes.values[i]) <= slopes.bounds[i], "GELU′(\(x)) = \(gp), reference \(slopes.values[i])")
            let mirrored = ReferenceLayer.gelu(
                ReferenceLayer.field(Tensor(shape: [1, 1], scalars: [-x], label: "test").matrix(0)))
            let odd = g - Double(GELU.value(-x)) - Double(x)
            #expect(abs(odd) <= values.bounds[i] + mirrored.bounds[0] + ReferenceAttention.u * abs(Double(x)))
            let erfForm = 0.5 * Double(x) * (1 + erf(Double(x) / 2.0.squareRoot()))
            if abs(erfForm - g) > values.bounds[i] { erfDistinguished = true }
        }
        #expect(erfDistinguished)
    }
}
