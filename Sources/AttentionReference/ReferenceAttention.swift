#if canImport(Glibc)
import Glibc
#endif
import AttentionKernels

/// The algorithmic reference: naive loops, Float64 accumulation, no BLAS, no tricks.
///
/// Every value comes with a bound on how far a correct float32 kernel may be from it, derived from
/// the sums involved (Higham, "Accuracy and Stability of Numerical Algorithms", §3.1):
/// a sum of m float32 terms is within γ(m)·Σ|terms| of the exact sum, γ(m) = m·u / (1 − m·u),
/// u = 2⁻²⁴. The bounds are first-order and worst-case (they do not assume blocked or pairwise
/// summation), so a correct kernel sits far inside them and a wrong index or a missing scale does not.
public enum ReferenceAttention {
    /// float32 unit roundoff, 2⁻²⁴.
    public static let u = Double(Float.ulpOfOne) / 2
    /// Relative error allowed for one float32 `exp` or φ evaluation: 2 ulp ≤ 4u.
    public static let elementwiseError = 4 * u

    /// γ(m) = m·u / (1 − m·u): the relative error bound of an m-term float32 sum or dot product.
    public static func gamma(_ m: Int) -> Double { Double(m) * u / (1 - Double(m) * u) }

    /// Reference values of one call, `[b, h, n, d]` flattened, and the per-element error bound.
    public struct Output {
        public var values: [Double]
        public var bounds: [Double]
    }

    // MARK: - Standard attention

    /// softmax(Q Kᵀ/√d) V in Float64 (causal: keys j ≤ i only).
    ///
    /// Bound for out[i, c], with A = Σ_j p_j |v_jc|:
    /// - each score s_j = q_i·k_j/√d is a d-term dot product plus a scaling: error ≤ γ(d+2)·Σ_l|q_il k_jl|/√d;
    ///   call the row's largest such error e_s;
    /// - each p_j then has relative error ≤ δ = 2e_s (the score and the max) + u·|s_j − max| (the
    ///   subtraction) + 4u (exp), and normalising adds δ (the sum's terms) + γ(n) + u;
    /// - the weighted sum Σ_j p_j v_jc adds γ(n)·A.
    /// So |error| ≤ (2δ + 2γ(n) + u)·A.
    ///
    /// `rescalings` (R) is for kernels that see a row's keys in blocks with an online softmax
    /// (``FlashAttention``, R = key blocks − 1): a weight is then exp(s_j − m_t) times up to R factors
    /// exp(m_{t} − m_{t+1}), each off by u·|m_t − m_{t+1}| (the difference) + 4u (exp) + u (the
    /// product); the differences add up to at most the row's spread, so δ gains u·spread + 5u·R.
    public static func standard(q: Tensor, k: Tensor, v: Tensor, causal: Bool, rescalings: Int = 0) -> Output {
        let shape = AttentionShape(of: q)
        let (n, d) = (shape.length, shape.headDim)
        var values = [Double](repeating: 0, count: q.count)
        var bounds = [Double](repeating: 0, count: q.count)
        let scale = 1 / Double(d).squareRoot()
        for s in 0..<shape.slices {
            let (qs, ks, vs) = (q.matrix(s), k.matrix(s), v.matrix(s))
            for i in 0..<n {
                let keys = causal ? i + 1 : n
                var scores = [Double](repeating: 0, count: keys)
                var scoreError = 0.0
                for j in 0..<keys {
                    var dot = 0.0, magnitude = 0.0
                    for l in 0..<d {
                        dot += Double(qs[i, l]) * Double(ks[j, l])
                        magnitude += abs(Double(qs[i, l]) * Double(ks[j, l]))
                    }
                    scores[j] = dot * scale
                    scoreError = max(scoreError, gamma(d + 2) * magnitude * scale)
                }
                let (probabilities, factor) = softmaxRow(scores, scoreError: scoreError, terms: n, rescalings: rescalings)
                for c in 0..<d {
                    var value = 0.0, magnitude = 0.0
                    for j in 0..<keys {
                        let p = probabilities[j]
                        value += p * Double(vs[j, c])
                        magnitude += p * abs(Double(vs[j, c]))
                    }
                    let index = (s * n + i) * d + c
                    values[index] = value
                    bounds[index] = factor * magnitude
                }
            }
        }
        return Output(values: values, bounds: bounds)
    }

    /// Softmax probabilities of one row of Float64 scores, and the relative error factor of a float32
    /// kernel's weighted sum over them, as derived in ``standard(q:k:v:causal:)``:
    /// δ = 2·scoreError + u·(max − min score) + 4u, factor = 2δ + 2γ(terms) + u; with R > 0
    /// online-softmax rescalings δ gains u·(max − min score) + 5u·R.
    static func softmaxRow(
        _ scores: [Double], scoreError: Double, terms: Int, rescalings: Int = 0
    ) -> (probabilities: [Double], errorFactor: Double) {
        let rowMax = scores.max()!
        let spread = scores.map { rowMax - $0 }.max()!
        let weights = scores.map { exp($0 - rowMax) }
        let total = weights.reduce(0, +)
        var delta = 2 * scoreError + u * spread + elementwiseError
        if rescalings > 0 { delta += u * spread + 5 * u * Double(rescalings) }
        return (weights.map { $0 / total }, 2 * delta + 2 * gamma(terms) + u)
    }

    // MARK: - Linformer

    /// softmax(Q (E K)ᵀ/√d) (F V) in Float64.
    ///
    /// Bound: K' = E K and V' = F V are n-term sums, so |δK'_rl| ≤ γ(n)·Σ_j|E_rj K_jl| (likewise V').
    /// Each score then errs by ≤ (γ(d+2)·Σ_l|q_il K'_rl| + Σ_l|q_il|·|δK'_rl|)/√d; from there as in
    /// ``standard(q:k:v:causal:)`` over k columns, plus Σ_r p_r |δV'_rc| for the projected values.
    public static func linformer(q: Tensor, k: Tensor, v: Tensor, projections: LinformerProjections) -> Output {
        let shape = AttentionShape(of: q)
        let (n, d, kp) = (shape.length, shape.headDim, projections.projectedLength)
        var values = [Double](repeating: 0, count: q.count)
        var bounds = [Double](repeating: 0, count: q.count)
        let scale = 1 / Double(d).squareRoot()
        for s in 0..<shape.slices {
            let head = s % shape.heads
            let (e, f) = (projections.e(head: head), projections.f(head: head))
            let (qs, ks, vs) = (q.matrix(s), k.matrix(s), v.matrix(s))
            // K', V' and their error bounds: [k, d] each.
            var kp2 = [Double](repeating: 0, count: kp * d), kpErr = kp2
            var vp = kp2, vpErr = kp2
            for r in 0..<kp {
                for l in 0..<d {
                    var ksum = 0.0, kmag = 0.0, vsum = 0.0, vmag = 0.0
                    for j in 0..<n {
                        ksum += Double(e[r, j]) * Double(ks[j, l])
                        kmag += abs(Double(e[r, j]) * Double(ks[j, l]))
                        vsum += Double(f[r, j]) * Double(vs[j, l])
                        vmag += abs(Double(f[r, j]) * Double(vs[j, l]))
                    }
                    kp2[r * d + l] = ksum
                    kpErr[r * d + l] = gamma(n) * kmag
                    vp[r * d + l] = vsum
                    vpErr[r * d + l] = gamma(n) * vmag
                }
            }
            for i in 0..<n {
                var scores = [Double](repeating: 0, count: kp)
                var scoreError = 0.0
                for r in 0..<kp {
                    var dot = 0.0, magnitude = 0.0, propagated = 0.0
                    for l in 0..<d {
                        let ql = Double(qs[i, l])
                        dot += ql * kp2[r * d + l]
                        magnitude += abs(ql * kp2[r * d + l])
                        propagated += abs(ql) * kpErr[r * d + l]
                    }
                    scores[r] = dot * scale
                    scoreError = max(scoreError, (gamma(d + 2) * magnitude + propagated) * scale)
                }
                let (probabilities, factor) = softmaxRow(scores, scoreError: scoreError, terms: kp)
                for c in 0..<d {
                    var value = 0.0, magnitude = 0.0, propagated = 0.0
                    for r in 0..<kp {
                        let p = probabilities[r]
                        value += p * vp[r * d + c]
                        magnitude += p * abs(vp[r * d + c])
                        propagated += p * vpErr[r * d + c]
                    }
                    let index = (s * n + i) * d + c
                    values[index] = value
                    bounds[index] = factor * magnitude + propagated
                }
            }
        }
        return Output(values: values, bounds: bounds)
    }

    // MARK: - Linear attention

    /// φ(q_i)ᵀ Σ_j φ(k_j) v_jᵀ / (φ(q_i)ᵀ Σ_j φ(k_j) + ε) in Float64 (causal: j ≤ i).
    ///
    /// Bound: with φ > 0 every product in the denominator is positive, so it has relative error
    /// ≤ γ(n) + γ(d+1) + 2·4u (the two sums and the two φ's). The numerator num_c errs by
    /// ≤ (γ(n) + γ(d) + 2·4u)·A_c with A_c = Σ_l φ(q_il) Σ_j φ(k_jl)|v_jc|. Dividing:
    /// |error| ≤ (γ(n) + γ(d+1) + 8u)·(A_c/den + |out_c|) + u·|out_c|.
    public static func linear(q: Tensor, k: Tensor, v: Tensor, causal: Bool, epsilon: Double = 1e-6) -> Output {
        let shape = AttentionShape(of: q)
        let (n, d) = (shape.length, shape.headDim)
        var values = [Double](repeating: 0, count: q.count)
        var bounds = [Double](repeating: 0, count: q.count)
        let factor = gamma(n) + gamma(d + 1) + 2 * elementwiseError
        func phi(_ x: Float) -> Double { let x = Double(x); return x > 0 ? x + 1 : exp(x) }
        for s in 0..<shape.slices {
            let (qs, ks, vs) = (q.matrix(s), k.matrix(s), v.matrix(s))
            var state = [Double](repeating: 0, count: d * d)  // Σ φ(k_j) v_jᵀ
            var magnitude = state  // Σ φ(k_j) |v_j|ᵀ
            var keySum = [Double](repeating: 0, count: d)  // Σ φ(k_j)
            func accumulate(_ j: Int) {
                for l in 0..<d {
                    let a = phi(ks[j, l])
                    keySum[l] += a
                    for c in 0..<d {
                        state[l * d + c] += a * Double(vs[j, c])
                        magnitude[l * d + c] += a * abs(Double(vs[j, c]))
                    }
                }
            }
            if !causal { for j in 0..<n { accumulate(j) } }
            for i in 0..<n {
                if causal { accumulate(i) }
                var denominator = epsilon
                for l in 0..<d { denominator += phi(qs[i, l]) * keySum[l] }
                for c in 0..<d {
                    var numerator = 0.0, a = 0.0
                    for l in 0..<d {
                        numerator += phi(qs[i, l]) * state[l * d + c]
                        a += phi(qs[i, l]) * magnitude[l * d + c]
                    }
                    let out = numerator / denominator
                    let index = (s * n + i) * d + c
                    values[index] = out
                    bounds[index] = factor * (a / denominator + abs(out)) + u * abs(out)
                }
            }
        }
        return Output(values: values, bounds: bounds)
    }

    /// The reference for any of the suite's kernels.
    public static func output(of kernel: any AttentionKernel, q: Tensor, k: Tensor, v: Tensor) -> Output {
        switch kernel {
        case let projected as LinformerAttention:
            return Self.linformer(q: q, k: k, v: v, projections: projected.projections)
        case let linearKernel as LinearAttention:
            return Self.linear(q: q, k: k, v: v, causal: linearKernel.isCausal, epsilon: Double(linearKernel.epsilon))
        case let flash as FlashAttention:
            let blocks = flash.keyBlocks(length: AttentionShape(of: q).length)
            return Self.standard(q: q, k: k, v: v, causal: flash.isCausal, rescalings: max(blocks - 1, 0))
        default:
            precondition(kernel.mechanism == .standard, "no reference for \(kernel.name)")
            return Self.standard(q: q, k: k, v: v, causal: kernel.isCausal)
        }
    }
}
