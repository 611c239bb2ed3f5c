import AttentionKernels
import AttentionReference
import Foundation
import Testing
import _TestSupport

/// Identities between mechanisms, each checked against an independent Float64 formula.
@Suite struct IdentityTests {
    static let shape = AttentionShape(batch: 2, heads: 3, length: 45, headDim: 16)

    /// With k = n and E = F = I, K' = K and V' = V exactly (products with 1 and 0 are exact), so
    /// Linformer must land inside standard attention's own reference bound.
    @Test func linformerWithIdentityProjectionsIsStandardAttention() throws {
        let (q, k, v) = Verification.inputs(Self.shape, seed: 21)
        let eye = identity(Self.shape.length)
        for (e, f) in [(eye, eye), (eye, identity(Self.shape.length))] {  // key-value shared, then headwise
            let linformer = try LinformerAttention(
                projections: LinformerProjections(e: e, f: f, heads: Self.shape.heads))
            let out = linformer(q: q, k: k, v: v)
            let reference = ReferenceAttention.standard(q: q, k: k, v: v, causal: false)
            #expect(withinBounds(out, values: reference.values, bounds: reference.bounds))
            let standard = SoftmaxAttention()(q: q, k: k, v: v)
            #expect(maxDifference(out, standard) <= 2 * Float(reference.bounds.max()!))
        }
    }

    /// Linear attention equals its explicit quadratic form: A = φ(Q) φ(K)ᵀ (masked to j ≤ i when
    /// causal), out = (A V) / (A 1 + ε), computed here in Float64 as an [n, n] matrix, a different
    /// association from both the kernel's and the reference's.
    @Test(arguments: [false, true])
    func linearAttentionEqualsItsQuadraticForm(causal: Bool) {
        let (q, k, v) = Verification.inputs(Self.shape, seed: 22)
        let out = LinearAttention(causal: causal)(q: q, k: k, v: v)
        let bound = ReferenceAttention.linear(q: q, k: k, v: v, causal: causal).bounds
        let (n, d) = (Self.shape.length, Self.shape.headDim)
        func phi(_ x: Float) -> Double { x > 0 ? Double(x) + 1 : exp(Double(x)) }
        var ok = true
        for s in 0..<Self.shape.slices {
            let (qs, ks, vs, os) = (q.matrix(s), k.matrix(s), v.matrix(s), out.matrix(s))
            for i in 0..<n {
                var weights = [Double](repeating: 0, count: n)
                for j in 0..<(causal ? i + 1 : n) {
                    for l in 0..<d { weights[j] += phi(qs[i, l]) * phi(ks[j, l]) }
                }
                let normaliser = weights.reduce(0, +) + 1e-6
                for c in 0..<d {
                    var value = 0.0
                    for j in 0..<n { value += weights[j] * Double(vs[j, c]) }
                    let expected = value / normaliser
                    if abs(Double(os[i, c]) - expected) > bound[(s * n + i) * d + c] { ok = false }
                }
            }
        }
        #expect(ok)
    }

    /// Causal standard attention (masking by position) equals softmax over a score matrix masked
    /// with -inf above the diagonal, evaluated by the kernel's own row softmax over the whole row
    /// (which must give -inf weight 0) and normalised after the product, as the kernel does.
    @Test func causalStandardEqualsTheMaskedQuadraticForm() {
        let (q, k, v) = Verification.inputs(Self.shape, seed: 23)
        let (n, d) = (Self.shape.length, Self.shape.headDim)
        let out = SoftmaxAttention(causal: true)(q: q, k: k, v: v)
        let masked = Tensor(uninitialized: [Self.shape.slices, n, n], label: "test")
        let expected = Tensor(zeros: Self.shape.dims, label: "test")
        for s in 0..<Self.shape.slices {
            let (qs, ks, vs, scores, e) = (q.matrix(s), k.matrix(s), v.matrix(s), masked.matrix(s), expected.matrix(s))
            for i in 0..<n {
                for j in 0..<n {
                    var dot: Float = 0
                    for l in 0..<d { dot += qs[i, l] * ks[j, l] }
                    scores[i, j] = j <= i ? dot / Float(d).squareRoot() : -.infinity
                }
                let sum = Softmax.exponentiate(scores.row(i), valid: n, count: n)
                for c in 0..<d {
                    for j in 0..<n { e[i, c] += scores[i, j] * vs[j, c] }
                    e[i, c] /= sum
                }
            }
        }
        let bound = ReferenceAttention.standard(q: q, k: k, v: v, causal: true).bounds.max()!
        #expect(maxDifference(out, expected) <= Float(2 * bound))
    }

    /// Attention is a set operation over (key, value) pairs: reordering them together changes
    /// nothing for standard and (non-causal) linear attention. Linformer is excluded: E and F
    /// weight positions, so it is not permutation invariant.
    @Test func permutingKeysAndValuesTogetherChangesNothing() {
        let (q, k, v) = Verification.inputs(Self.shape, seed: 24)
        var rng = SplitMix64(seed: 9)
        let order = Array(0..<Self.shape.length).shuffled(using: &rng)
        let (kp, vp) = (permutingRows(k, order), permutingRows(v, order))
        let kernels: [any AttentionKernel] = [SoftmaxAttention(), LinearAttention()]
        for kernel in kernels {
            let bound = ReferenceAttention.output(of: kernel, q: q, k: k, v: v).bounds.max()!
            let difference = maxDifference(kernel(q: q, k: k, v: v), kernel(q: q, k: kp, v: vp))
            #expect(difference <= Float(2 * bound), "\(kernel.name): \(difference)")
        }
    }

    /// With Q = 0 every score is 0, so softmax attention returns the mean of V's rows (the causal
    /// form: the mean of rows 0...i).
    @Test func zeroQueriesAverageTheValues() {
        let shape = AttentionShape(batch: 2, heads: 2, length: 10, headDim: 4)
        let (_, k, v) = Verification.inputs(shape, seed: 25)
        let q = Tensor(zeros: shape.dims, label: "test")
        let out = SoftmaxAttention()(q: q, k: k, v: v)
        let causal = SoftmaxAttention(causal: true)(q: q, k: k, v: v)
        for s in 0..<shape.slices {
            for c in 0..<shape.headDim {
                var running: Float = 0
                var total: Float = 0
                for j in 0..<shape.length { total += v.matrix(s)[j, c] }
                for i in 0..<shape.length {
                    running += v.matrix(s)[i, c]
                    #expect(abs(causal.matrix(s)[i, c] - running / Float(i + 1)) <= 1e-5)
                    #expect(abs(out.matrix(s)[i, c] - total / Float(shape.length)) <= 1e-5)
                }
            }
        }
    }
}
