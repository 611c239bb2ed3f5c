import AttentionKernels
import AttentionReference
import Foundation
import Testing

/// Identities the exact gradients satisfy, checked on the kernels' float32 gradients: the exact
/// values meet each identity exactly, so the kernels' sum may miss it by no more than the sum of
/// the reference bounds of its terms (summed here in Float64).
@Suite struct GradientIdentityTests {
    static let shape = AttentionShape(batch: 2, heads: 3, length: 45, headDim: 16)

    static func gradients<K: DifferentiableAttention>(_ kernel: K, _ q: Tensor, _ k: Tensor, _ v: Tensor, _ dO: Tensor)
        -> AttentionGradients
    {
        kernel.trainingStep(q: q, k: k, v: v, outputGradient: dO).gradients
    }

    /// Softmax ignores a shift of every key by one vector c (each score row moves by q_i·c), so
    /// Σ_j dK_j = 0; and each row of P sums to 1, so Σ_j dV_j = Σ_i dO_i. Per slice and column.
    @Test(arguments: [false, true])
    func standardKeyGradientsSumToZeroAndValueGradientsToTheUpstream(causal: Bool) {
        let (q, k, v) = Verification.inputs(Self.shape, seed: 41)
        let dO = Verification.outputGradient(Self.shape, seed: 41)
        let kernel = SoftmaxAttention(causal: causal)
        let g = Self.gradients(kernel, q, k, v, dO)
        let reference = ReferenceAttention.standardGradients(q: q, k: k, v: v, outputGradient: dO, causal: causal)
        let (n, d) = (Self.shape.length, Self.shape.headDim)
        for s in 0..<Self.shape.slices {
            for c in 0..<d {
                var keys = 0.0
                var keysBound = 0.0
                var values = 0.0
                var valuesBound = 0.0
                var upstream = 0.0
                for j in 0..<n {
                    let index = (s * n + j) * d + c
                    keys += Double(g.k.data[index])
                    keysBound += reference.k.bounds[index]
                    values += Double(g.v.data[index])
                    valuesBound += reference.v.bounds[index]
                    upstream += Double(dO.data[index])
                }
                #expect(abs(keys) <= keysBound, "slice \(s), column \(c): Σ dK = \(keys)")
                #expect(
                    abs(values - upstream) <= valuesBound, "slice \(s), column \(c): Σ dV − Σ dO = \(values - upstream)"
                )
            }
        }
    }

    /// The same shift invariance through K′ = E K: Σ_r dK′_r = 0, so every column of dE = Σ dK′ Kᵀ
    /// sums to 0 over its k rows (when E is not also F, whose path adds dV′ Vᵀ).
    @Test(arguments: [ProjectionSharing.none, .headwise])
    func linformerKeyProjectionGradientsSumToZeroOverRows(sharing: ProjectionSharing) throws {
        let (q, k, v) = Verification.inputs(Self.shape, seed: 42)
        let dO = Verification.outputGradient(Self.shape, seed: 42)
        let kp = 7
        let projections = LinformerProjections.seeded(
            k: kp, length: Self.shape.length, heads: Self.shape.heads, sharing: sharing, seed: 43)
        let kernel = try LinformerAttention(projections: projections)
        let (output, saved) = kernel.trainingForward(q: q, k: k, v: v)
        let de = try #require(kernel.backward(q: q, k: k, v: v, output: output, saved: saved, outputGradient: dO).e)
        let reference = try #require(
            ReferenceAttention.linformerGradients(
                q: q, k: k, v: v, projections: projections, outputGradient: dO, projected: (saved.keys, saved.values)
            ).e)
        let (n, matrices) = (Self.shape.length, de.count / (kp * Self.shape.length))
        for m in 0..<matrices {
            for j in 0..<n {
                var sum = 0.0
                var bound = 0.0
                for r in 0..<kp {
                    sum += Double(de.data[(m * kp + r) * n + j])
                    bound += reference.bounds[(m * kp + r) * n + j]
                }
                #expect(abs(sum) <= bound, "matrix \(m), column \(j): Σ_r dE = \(sum)")
            }
        }
    }

    /// With ε = 0, O_i is unchanged when φ(q_i) is scaled (numerator and normaliser scale alike), so
    /// Σ_l ∇φ(q_i)_l φ(q_il) = 0 for every row: the normaliser's term a_i z_i must cancel the
    /// numerator's exactly. ∇φ(q) = dQ / φ′(q).
    @Test(arguments: [false, true])
    func linearQueryGradientsAreOrthogonalToTheFeatures(causal: Bool) {
        let (q, k, v) = Verification.inputs(Self.shape, seed: 44)
        let dO = Verification.outputGradient(Self.shape, seed: 44)
        let g = Self.gradients(LinearAttention(causal: causal, epsilon: 0), q, k, v, dO)
        let reference = ReferenceAttention.linearGradients(
            q: q, k: k, v: v, outputGradient: dO, causal: causal, epsilon: 0)
        let (n, d) = (Self.shape.length, Self.shape.headDim)
        for s in 0..<Self.shape.slices {
            for i in 0..<n {
                var sum = 0.0
                var bound = 0.0
                for l in 0..<d {
                    let index = (s * n + i) * d + l
                    let x = Double(q.data[index])
                    let ratio = x > 0 ? x + 1 : 1  // φ(x) / φ′(x)
                    sum += Double(g.q.data[index]) * ratio
                    bound += reference.q.bounds[index] * ratio
                }
                #expect(abs(sum) <= bound, "slice \(s), row \(i): Σ_l ∇φ(q)·φ(q) = \(sum)")
            }
        }
    }
}
