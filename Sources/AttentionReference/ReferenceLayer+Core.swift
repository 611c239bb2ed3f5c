#if canImport(Glibc)
import Glibc
#endif
import AttentionKernels

/// The attention cores in Float64 on bounded inputs, for the end-to-end check of a whole stack
/// (``Verification/endToEnd(_:x:boundaries:final:weights:)``), where Q, K and V are themselves Float64 values
/// that the kernel's differ from. The formulas and the rounding bounds are ``ReferenceAttention``'s
/// (with zero input bounds the two agree exactly, which a test checks); the input bounds add their
/// first-order propagation:
/// - softmax (standard, flash): a score s_ij = q_i·k_j/√d gains Σ_l (δq_il·|k_jl| + |q_il|·δk_jl)/√d,
///   which enters the row's score error e_s, from where the softmax's derivation carries it (a weight's
///   relative error 2e_s); the output gains Σ_j p_ij·δv_jc;
/// - Linformer: K′ = E K gains Σ_j |E_rj|·δK_jl (V′ likewise), then as softmax over K′, V′;
/// - linear: φ(x) gains φ′(x)·δx (φ′ = 1 for x > 0, eˣ below); the numerator num_c = Σ_l φ(q_l)
///   Σ_j φ(k_jl) v_jc gains Σ_l Σ_j (δφ(q_l)·φ(k_jl)·|v_jc| + φ(q_l)·δφ(k_jl)·|v_jc| + φ(q_l)·φ(k_jl)·δv_jc),
///   the denominator den = Σ_l φ(q_l) Σ_j φ(k_jl) + ε gains Σ_l (δφ(q_l)·z_l + φ(q_l)·Σ_j δφ(k_jl)),
///   and out = num/den gains δnum/den + |out|·δden/den.
/// Fields are `[b·n, h·d]`, heads side by side (``ReferenceLayer/tokens(heads:)``).
extension ReferenceLayer {
    static func core(_ kernel: any AttentionKernel, q: Field, k: Field, v: Field, batch: Int, heads: Int) -> Field {
        switch kernel {
        case let linformer as LinformerAttention:
            return linformerCore(q: q, k: k, v: v, projections: linformer.projections, batch: batch, heads: heads)
        case let linear as LinearAttention:
            return linearCore(q: q, k: k, v: v, causal: linear.isCausal, epsilon: Double(linear.epsilon), batch: batch, heads: heads)
        case let flash as FlashAttention:
            let n = q.rows / batch
            return softmaxCore(q: q, k: k, v: v, causal: flash.isCausal, rescalings: max(flash.keyBlocks(length: n) - 1, 0),
                               batch: batch, heads: heads)
        default:
            precondition(kernel.mechanism == .standard, "no layer reference for \(kernel.name)")
            return softmaxCore(q: q, k: k, v: v, causal: kernel.isCausal, rescalings: 0, batch: batch, heads: heads)
        }
    }

    /// Element (b, head, i, c) of a `[b·n, h·d]` field: its flat index.
    private static func index(_ b: Int, _ head: Int, _ i: Int, _ c: Int, n: Int, d: Int, heads: Int) -> Int {
        (b * n + i) * heads * d + head * d + c
    }

    /// softmax(Q Kᵀ/√d) V (causal: j ≤ i), ``ReferenceAttention/standard(q:k:v:causal:rescalings:)`` with input bounds.
    static func softmaxCore(q: Field, k: Field, v: Field, causal: Bool, rescalings: Int, batch: Int, heads: Int) -> Field {
        let (n, d) = (q.rows / batch, q.cols / heads)
        let scale = 1 / Double(d).squareRoot()
        var out = Field(rows: q.rows, cols: q.cols)
        for b in 0..<batch {
            for head in 0..<heads {
                let at = { (i: Int, c: Int) in index(b, head, i, c, n: n, d: d, heads: heads) }
                for i in 0..<n {
                    let keys = causal ? i + 1 : n
                    var scores = [Double](repeating: 0, count: keys)
                    var scoreError = 0.0
                    for j in 0..<keys {
                        var dot = 0.0, magnitude = 0.0, propagated = 0.0
                        for l in 0..<d {
                            let (ql, kl) = (q.values[at(i, l)], k.values[at(j, l)])
                            dot += ql * kl
                            magnitude += abs(ql * kl)
                            propagated += q.bounds[at(i, l)] * abs(kl) + abs(ql) * k.bounds[at(j, l)]
                        }
                        scores[j] = dot * scale
                        scoreError = max(scoreError, (ReferenceAttention.gamma(d + 2) * magnitude + propagated) * scale)
                    }
                    let (p, factor) = ReferenceAttention.softmaxRow(scores, scoreError: scoreError, terms: n, rescalings: rescalings)
                    for c in 0..<d {
                        var value = 0.0, magnitude = 0.0, propagated = 0.0
                        for j in 0..<keys {
                            value += p[j] * v.values[at(j, c)]
                            magnitude += p[j] * abs(v.values[at(j, c)])
                            propagated += p[j] * v.bounds[at(j, c)]
                        }
                        (out.values[at(i, c)], out.bounds[at(i, c)]) = (value, factor * magnitude + propagated)
                    }
                }
            }
        }
        return out
    }

    /// softmax(Q (E K)ᵀ/√d) (F V), ``ReferenceAttention/linformer(q:k:v:projections:)`` with input bounds.
    static func linformerCore(q: Field, k: Field, v: Field, projections: LinformerProjections, batch: Int, heads: Int) -> Field {
        let (n, d, kp) = (q.rows / batch, q.cols / heads, projections.projectedLength)
        let scale = 1 / Double(d).squareRoot()
        var out = Field(rows: q.rows, cols: q.cols)
        for b in 0..<batch {
            for head in 0..<heads {
                let at = { (i: Int, c: Int) in index(b, head, i, c, n: n, d: d, heads: heads) }
                let (e, f) = (projections.e(head: head), projections.f(head: head))
                var keys = Field(rows: kp, cols: d), values = Field(rows: kp, cols: d)
                for r in 0..<kp {
                    for l in 0..<d {
                        var (ks, km, kpg, vs, vm, vpg) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
                        for j in 0..<n {
                            let (er, fr) = (Double(e[r, j]), Double(f[r, j]))
                            ks += er * k.values[at(j, l)]; km += abs(er * k.values[at(j, l)]); kpg += abs(er) * k.bounds[at(j, l)]
                            vs += fr * v.values[at(j, l)]; vm += abs(fr * v.values[at(j, l)]); vpg += abs(fr) * v.bounds[at(j, l)]
                        }
                        (keys.values[r * d + l], keys.bounds[r * d + l]) = (ks, ReferenceAttention.gamma(n) * km + kpg)
                        (values.values[r * d + l], values.bounds[r * d + l]) = (vs, ReferenceAttention.gamma(n) * vm + vpg)
                    }
                }
                for i in 0..<n {
                    var scores = [Double](repeating: 0, count: kp)
                    var scoreError = 0.0
                    for r in 0..<kp {
                        var dot = 0.0, magnitude = 0.0, propagated = 0.0
                        for l in 0..<d {
                            let ql = q.values[at(i, l)]
                            dot += ql * keys[r, l]
                            magnitude += abs(ql * keys[r, l])
                            propagated += abs(ql) * keys.bound(r, l) + q.bounds[at(i, l)] * abs(keys[r, l])
                        }
                        scores[r] = dot * scale
                        scoreError = max(scoreError, (ReferenceAttention.gamma(d + 2) * magnitude + propagated) * scale)
                    }
                    let (p, factor) = ReferenceAttention.softmaxRow(scores, scoreError: scoreError, terms: kp)
                    for c in 0..<d {
                        var value = 0.0, magnitude = 0.0, propagated = 0.0
                        for r in 0..<kp {
                            value += p[r] * values[r, c]
                            magnitude += p[r] * abs(values[r, c])
                            propagated += p[r] * values.bound(r, c)
                        }
                        (out.values[at(i, c)], out.bounds[at(i, c)]) = (value, factor * magnitude + propagated)
                    }
                }
            }
        }
        return out
    }

    /// φ(Q)(Σ φ(K) Vᵀ) / (φ(Q)·Σ φ(K) + ε) (causal: j ≤ i), ``ReferenceAttention/linear(q:k:v:causal:epsilon:)``
    /// with input bounds.
    static func linearCore(q: Field, k: Field, v: Field, causal: Bool, epsilon: Double, batch: Int, heads: Int) -> Field {
        let (n, d) = (q.rows / batch, q.cols / heads)
        let u = ReferenceAttention.u
        let factor = ReferenceAttention.gamma(n) + ReferenceAttention.gamma(d + 1) + 2 * ReferenceAttention.elementwiseError
        func phi(_ x: Double) -> Double { x > 0 ? x + 1 : exp(x) }
        func slope(_ x: Double) -> Double { x > 0 ? 1 : exp(x) }
        var out = Field(rows: q.rows, cols: q.cols)
        for b in 0..<batch {
            for head in 0..<heads {
                let at = { (i: Int, c: Int) in index(b, head, i, c, n: n, d: d, heads: heads) }
                // Running sums over the keys seen: S = Σ φ(k) vᵀ, its magnitude Σ φ(k)|v|ᵀ, z = Σ φ(k), and
                // the propagation terms Σ δφ(k)|v|ᵀ, Σ φ(k) δvᵀ, Σ δφ(k).
                var state = [Double](repeating: 0, count: d * d), magnitude = state, keyErrors = state, valueErrors = state
                var keySum = [Double](repeating: 0, count: d), keySumError = keySum
                func accumulate(_ j: Int) {
                    for l in 0..<d {
                        let kl = k.values[at(j, l)]
                        let (a, da) = (phi(kl), slope(kl) * k.bounds[at(j, l)])
                        keySum[l] += a
                        keySumError[l] += da
                        for c in 0..<d {
                            let vc = v.values[at(j, c)]
                            state[l * d + c] += a * vc
                            magnitude[l * d + c] += a * abs(vc)
                            keyErrors[l * d + c] += da * abs(vc)
                            valueErrors[l * d + c] += a * v.bounds[at(j, c)]
                        }
                    }
                }
                if !causal { for j in 0..<n { accumulate(j) } }
                for i in 0..<n {
                    if causal { accumulate(i) }
                    var (denominator, denominatorError) = (epsilon, 0.0)
                    var (features, featureErrors) = ([Double](repeating: 0, count: d), [Double](repeating: 0, count: d))
                    for l in 0..<d {
                        let ql = q.values[at(i, l)]
                        (features[l], featureErrors[l]) = (phi(ql), slope(ql) * q.bounds[at(i, l)])
                        denominator += features[l] * keySum[l]
                        denominatorError += featureErrors[l] * keySum[l] + features[l] * keySumError[l]
                    }
                    for c in 0..<d {
                        var (numerator, a, numeratorError) = (0.0, 0.0, 0.0)
                        for l in 0..<d {
                            numerator += features[l] * state[l * d + c]
                            a += features[l] * magnitude[l * d + c]
                            numeratorError += featureErrors[l] * magnitude[l * d + c]
                                + features[l] * (keyErrors[l * d + c] + valueErrors[l * d + c])
                        }
                        let value = numerator / denominator
                        let rounding = factor * (a / denominator + abs(value)) + u * abs(value)
                        let propagated = numeratorError / denominator + abs(value) * denominatorError / denominator
                        (out.values[at(i, c)], out.bounds[at(i, c)]) = (value, rounding + propagated)
                    }
                }
            }
        }
        return out
    }
}
