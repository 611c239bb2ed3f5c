import AttentionKernels
import AttentionReference
import EncoderLayer
import Testing

/// The Float64 reference layer's gradients are the derivatives of its forward parts: for each part
/// (the Q, K, V projections; the output projection with LayerNorm 1; the FFN with LayerNorm 2) and
/// L = Σ upstream ∘ output, every element of every input's and every parameter's gradient must equal
/// the central difference (L(x + h) − L(x − h)) / 2h of the Float64 forward, on a tiny layer
/// (T = 3 rows, D = 4, M = 8). The cores' reference gradients are checked the same way in
/// ``FiniteDifferenceTests``; the kernel's parts are checked against these references in
/// ``LayerReferenceTests``.
///
/// As in ``FiniteDifferenceTests``: inputs and weights are odd multiples of 1/64 and h = 2⁻¹², so
/// x ± h is exact in float32; the central difference errs by h²/6·|L‴| (≈ 1e-8·|L‴|) plus Float64
/// rounding of L over 2h (≈ 1e-12), so 1e-5 of the gradient's scale is ample, and a missing term is
/// off by a sizeable fraction of it.
@Suite struct LayerGradientTests {
    static let (batch, length, heads, headDim, hidden) = (1, 3, 2, 2, 8)
    static var modelDim: Int { heads * headDim }
    static let step: Float = 0x1p-12

    static func quantised(_ shape: [Int], seed: UInt64, std: Float = 1, mean: Float = 0) -> Tensor {
        let t = Tensor.normal(shape, seed: seed, std: std, label: "test")
        for i in 0..<t.count { t.data[i] = mean + (2 * (t.data[i] * 32).rounded(.down) + 1) / 64 }
        return t
    }

    /// Quantised weights: matrices N(0, 1/fan-in), biases and β N(0, 0.1²)-ish, γ around 1.
    static func weights(seed: UInt64) -> EncoderWeights {
        let (dm, m) = (modelDim, hidden)
        let wide = 1 / Float(dm).squareRoot()
        func matrix(_ rows: Int, _ cols: Int, _ s: UInt64, std: Float) -> Tensor {
            quantised([rows, cols], seed: seed &+ s, std: std)
        }
        func vector(_ count: Int, _ s: UInt64, mean: Float = 0) -> Tensor {
            quantised([count], seed: seed &+ s, std: 0.1, mean: mean)
        }
        return EncoderWeights(
            wq: matrix(dm, dm, 1, std: wide), wk: matrix(dm, dm, 2, std: wide), wv: matrix(dm, dm, 3, std: wide),
            wo: matrix(dm, dm, 4, std: wide), bq: vector(dm, 5), bk: vector(dm, 6), bv: vector(dm, 7),
            bo: vector(dm, 8),
            w1: matrix(dm, m, 9, std: wide), b1: vector(m, 10), w2: matrix(m, dm, 11, std: 1 / Float(m).squareRoot()),
            b2: vector(dm, 12), gamma1: vector(dm, 13, mean: 1), beta1: vector(dm, 14), gamma2: vector(dm, 15, mean: 1),
            beta2: vector(dm, 16))
    }

    /// The largest |central difference − gradient| over every element of every `(tensor, gradient)`
    /// pair, relative to the largest |gradient| of that tensor (at least 1).
    static func worstMismatch(_ pairs: [(Tensor, ReferenceAttention.Output)], loss: () -> Double) -> Double {
        var worst = 0.0
        for (x, gradient) in pairs {
            #expect(x.count == gradient.values.count)
            let scale = max(1, gradient.values.map(abs).max() ?? 0)
            for i in 0..<x.count {
                let saved = x.data[i]
                x.data[i] = saved + step
                let plus = loss()
                x.data[i] = saved - step
                let minus = loss()
                x.data[i] = saved
                worst = max(worst, abs((plus - minus) / (2 * Double(step)) - gradient.values[i]) / scale)
            }
        }
        return worst
    }

    static func dot(_ upstream: Tensor, _ values: [Double]) -> Double {
        (0..<upstream.count).reduce(0) { $0 + Double(upstream.data[$1]) * values[$1] }
    }

    /// The same gradients' names, from a dictionary (a missing one fails the test).
    static func lookup(_ gradients: [String: ReferenceAttention.Output], _ pairs: [(String, Tensor)]) -> [(
        Tensor, ReferenceAttention.Output
    )] {
        pairs.compactMap { name, tensor in
            guard let g = gradients[name] else {
                Issue.record("no gradient \(name)")
                return nil
            }
            return (tensor, g)
        }
    }

    static var tokens: [Int] { [batch, length, modelDim] }
    static var headsShape: [Int] { [batch, heads, length, headDim] }

    @Test func feedForwardGradientsAreItsDerivatives() {
        let (w, h, dy) = (
            Self.weights(seed: 1), Self.quantised(Self.tokens, seed: 2), Self.quantised(Self.tokens, seed: 3)
        )
        let gradients = ReferenceLayer.feedForwardGradients(hidden: h, weights: w, outputGradient: dy)
        let pairs = Self.lookup(
            gradients,
            [
                ("dh", h), ("w1", w.w1), ("b1", w.b1), ("w2", w.w2), ("b2", w.b2),
                ("gamma2", w.gamma2), ("beta2", w.beta2),
            ])
        let worst = Self.worstMismatch(pairs) { Self.dot(dy, ReferenceLayer.feedForward(hidden: h, weights: w).values) }
        #expect(worst <= 1e-5, "central differences differ by \(worst) of the gradient's scale")
        // Gradients taken with another γ₂ must not pass.
        let other = Self.weights(seed: 5)
        let wrong = EncoderWeights(
            wq: w.wq, wk: w.wk, wv: w.wv, wo: w.wo, bq: w.bq, bk: w.bk, bv: w.bv, bo: w.bo, w1: w.w1, b1: w.b1,
            w2: w.w2, b2: w.b2, gamma1: w.gamma1, beta1: w.beta1, gamma2: other.gamma2, beta2: w.beta2)
        let misjudged = Self.lookup(
            ReferenceLayer.feedForwardGradients(hidden: h, weights: wrong, outputGradient: dy),
            [("dh", h), ("w1", w.w1)])
        #expect(
            Self.worstMismatch(misjudged) { Self.dot(dy, ReferenceLayer.feedForward(hidden: h, weights: w).values) }
                > 1e-2)
    }

    @Test func attentionOutputGradientsAreItsDerivatives() {
        let w = Self.weights(seed: 11)
        let (x, a, dh) = (
            Self.quantised(Self.tokens, seed: 12), Self.quantised(Self.headsShape, seed: 13),
            Self.quantised(Self.tokens, seed: 14)
        )
        let gradients = ReferenceLayer.attentionOutputGradients(input: x, attention: a, weights: w, outputGradient: dh)
        let pairs = Self.lookup(
            gradients, [("dz", x), ("da", a), ("wo", w.wo), ("bo", w.bo), ("gamma1", w.gamma1), ("beta1", w.beta1)])
        let loss = { Self.dot(dh, ReferenceLayer.attentionOutput(input: x, attention: a, weights: w).values) }
        let worst = Self.worstMismatch(pairs, loss: loss)
        #expect(worst <= 1e-5, "central differences differ by \(worst) of the gradient's scale")
        // Gradients taken for the transposed upstream rows (the last two rows swapped) must not pass.
        let swapped = Tensor(shape: dh.shape, scalars: dh.scalars, label: "test")
        for c in 0..<Self.modelDim { (swapped[0, 1, c], swapped[0, 2, c]) = (dh[0, 2, c], dh[0, 1, c]) }
        let misjudged = Self.lookup(
            ReferenceLayer.attentionOutputGradients(input: x, attention: a, weights: w, outputGradient: swapped),
            [("dz", x), ("wo", w.wo)])
        #expect(Self.worstMismatch(misjudged, loss: loss) > 1e-2)
    }

    @Test func projectionGradientsAreTheirDerivatives() {
        let w = Self.weights(seed: 21)
        let x = Self.quantised(Self.tokens, seed: 22)
        let dz = Self.quantised(Self.tokens, seed: 23)
        let (dq, dk, dv) = (
            Self.quantised(Self.headsShape, seed: 24), Self.quantised(Self.headsShape, seed: 25),
            Self.quantised(Self.headsShape, seed: 26)
        )
        let loss = {
            let (q, k, v) = ReferenceLayer.projections(input: x, weights: w, heads: Self.heads)
            return Self.dot(dq, q.values) + Self.dot(dk, k.values) + Self.dot(dv, v.values)
                + Self.dot(dz, x.scalars.map(Double.init))
        }
        let gradients = ReferenceLayer.projectionGradients(input: x, weights: w, residual: dz, dq: dq, dk: dk, dv: dv)
        let pairs = Self.lookup(
            gradients, [("dx", x), ("wq", w.wq), ("wk", w.wk), ("wv", w.wv), ("bq", w.bq), ("bk", w.bk), ("bv", w.bv)])
        let worst = Self.worstMismatch(pairs, loss: loss)
        #expect(worst <= 1e-5, "central differences differ by \(worst) of the gradient's scale")
        // Without the residual's share of dX the differences must not match.
        let noResidual = ReferenceLayer.projectionGradients(
            input: x, weights: w, residual: Tensor(zeros: Self.tokens, label: "test"), dq: dq, dk: dk, dv: dv)
        #expect(Self.worstMismatch(Self.lookup(noResidual, [("dx", x)]), loss: loss) > 1e-2)
    }
}
