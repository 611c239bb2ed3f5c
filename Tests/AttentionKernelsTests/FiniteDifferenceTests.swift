import AttentionKernels
import AttentionReference
import Testing

/// The reference gradients are the derivatives of the reference forward passes: for L = Σ dO ∘ O,
/// each element of ∂L/∂Q, ∂L/∂K, ∂L/∂V (and Linformer's ∂L/∂E, ∂L/∂F) must equal the central
/// difference (L(x + h) − L(x − h)) / 2h of the Float64 forward reference, on tiny shapes.
///
/// Inputs are odd multiples of 1/64 and h = 2⁻¹²: x ± h is then exact in float32 (|x| < 8 needs 15
/// significant bits), so the difference sees exactly the step it divides by, and no input sits within
/// h of φ's kink at 0. The central difference errs by h²/6·|L‴| (≈ 1e-8·|L‴|) plus Float64
/// rounding of L over 2h (≈ 1e-12), so 1e-5 of the gradient's scale is ample; a missing term or a
/// transposed product is off by a sizeable fraction of it.
@Suite struct FiniteDifferenceTests {
    static let shape = AttentionShape(batch: 1, heads: 2, length: 5, headDim: 3)
    static let projected = 2
    static let step: Float = 0x1p-12

    /// N(0, std²) entries rounded to odd multiples of 1/64.
    static func quantised(_ shape: [Int], seed: UInt64, std: Float = 1) -> Tensor {
        let t = Tensor.normal(shape, seed: seed, std: std, label: "test")
        for i in 0..<t.count { t.data[i] = (2 * (t.data[i] * 32).rounded(.down) + 1) / 64 }
        return t
    }

    /// Every kernel on the tiny shape, Linformer in each sharing mode with quantised projections.
    static func kernels() throws -> [any AttentionKernel] {
        let (k, n, h) = (projected, shape.length, shape.heads)
        let perHead = (quantised([h, k, n], seed: 31, std: 0.7), quantised([h, k, n], seed: 32, std: 0.7))
        let shared = (quantised([k, n], seed: 33, std: 0.7), quantised([k, n], seed: 34, std: 0.7))
        return [
            SoftmaxAttention(), SoftmaxAttention(causal: true),
            try LinformerAttention(projections: LinformerProjections(e: perHead.0, f: perHead.1, heads: h)),
            try LinformerAttention(projections: LinformerProjections(e: shared.0, f: shared.1, heads: h)),
            try LinformerAttention(projections: LinformerProjections(e: shared.0, f: shared.0, heads: h)),
            LinearAttention(), LinearAttention(causal: true),
        ]
    }

    static func loss(_ kernel: any AttentionKernel, _ q: Tensor, _ k: Tensor, _ v: Tensor, _ dO: Tensor) -> Double {
        let out = ReferenceAttention.output(of: kernel, q: q, k: k, v: v).values
        return (0..<dO.count).reduce(0) { $0 + Double(dO.data[$1]) * out[$1] }
    }

    /// The largest |central difference − reference gradient| over every element of every input,
    /// relative to the largest |gradient| of that input (at least 1).
    static func worstMismatch(
        _ kernel: any AttentionKernel, against gradients: ReferenceAttention.Gradients,
        q: Tensor, k: Tensor, v: Tensor, dO: Tensor
    ) -> Double {
        var inputs: [(Tensor, ReferenceAttention.Output)] = [(q, gradients.q), (k, gradients.k), (v, gradients.v)]
        if let linformer = kernel as? LinformerAttention, let e = gradients.e, let f = gradients.f {
            inputs.append((linformer.projections.e, e))
            if linformer.projections.f !== linformer.projections.e { inputs.append((linformer.projections.f, f)) }
        }
        var worst = 0.0
        for (x, gradient) in inputs {
            let scale = max(1, gradient.values.map(abs).max() ?? 0)
            for i in 0..<x.count {
                let saved = x.data[i]
                x.data[i] = saved + step
                let plus = loss(kernel, q, k, v, dO)
                x.data[i] = saved - step
                let minus = loss(kernel, q, k, v, dO)
                x.data[i] = saved
                let difference = (plus - minus) / (2 * Double(step))
                worst = max(worst, abs(difference - gradient.values[i]) / scale)
            }
        }
        return worst
    }

    @Test func referenceGradientsAreTheForwardsDerivatives() throws {
        let (q, k, v, dO) = (
            Self.quantised(Self.shape.dims, seed: 1), Self.quantised(Self.shape.dims, seed: 2),
            Self.quantised(Self.shape.dims, seed: 3), Self.quantised(Self.shape.dims, seed: 4)
        )
        for kernel in try Self.kernels() {
            let gradients = ReferenceAttention.gradients(of: kernel, q: q, k: k, v: v, outputGradient: dO)
            let worst = Self.worstMismatch(kernel, against: gradients, q: q, k: k, v: v, dO: dO)
            #expect(worst <= 1e-5, "\(kernel.name): central differences differ by \(worst) of the gradient's scale")
        }
    }

    /// The comparison can fail: the causal forward's differences against the non-causal gradients, and
    /// Linformer's against gradients taken without the value path of a shared E = F.
    @Test func wrongGradientsFailTheDifferences() throws {
        let (q, k, v, dO) = (
            Self.quantised(Self.shape.dims, seed: 5), Self.quantised(Self.shape.dims, seed: 6),
            Self.quantised(Self.shape.dims, seed: 7), Self.quantised(Self.shape.dims, seed: 8)
        )
        for (causal, full) in [
            (SoftmaxAttention(causal: true), SoftmaxAttention()) as (any AttentionKernel, any AttentionKernel),
            (LinearAttention(causal: true), LinearAttention()),
        ] {
            let wrong = ReferenceAttention.gradients(of: full, q: q, k: k, v: v, outputGradient: dO)
            #expect(Self.worstMismatch(causal, against: wrong, q: q, k: k, v: v, dO: dO) > 1e-2, "\(causal.name)")
        }
        let e = Self.quantised([Self.projected, Self.shape.length], seed: 9, std: 0.7)
        let shared = try LinformerAttention(projections: LinformerProjections(e: e, f: e, heads: Self.shape.heads))
        let separate = try LinformerAttention(
            projections: LinformerProjections(
                e: e, f: Self.quantised(e.shape, seed: 9, std: 0.7), heads: Self.shape.heads))
        var keyPathOnly = ReferenceAttention.gradients(of: separate, q: q, k: k, v: v, outputGradient: dO)
        keyPathOnly.sharedProjection = true
        #expect(Self.worstMismatch(shared, against: keyPathOnly, q: q, k: k, v: v, dO: dO) > 1e-2)
    }
}
