import AttentionKernels

#if canImport(Glibc)
    import Glibc
#endif

/// The algorithmic reference for the backward passes: the gradients of L = Σ dO ∘ O by the chain
/// rule on the naive formulas, in Float64 loops, with no BLAS and none of the kernels' tricks (no
/// blocks, no folded divisions, no prefix or suffix sums: linear attention is differentiated through
/// its n×n quadratic form). A finite-difference test checks these values against the forward
/// references (`FiniteDifferenceTests`).
///
/// Every value comes with a bound on how far a correct float32 backward may be from it, derived as
/// the forward bounds are (``ReferenceAttention``): a float32 sum of m terms, in any order, is within
/// γ(m)·Σ|terms| of the exact sum (γ(m) = m·u/(1 − m·u), u = 2⁻²⁴), and an input that already errs
/// by δ carries δ times its coefficient through every later sum. The rule used throughout, for
/// y = Σ_t a_t·b_t computed from â_t = a_t + δa_t and b̂_t = b_t + δb_t:
///
///     |ŷ − y| ≤ γ(m)·Σ_t |a_t b_t| + Σ_t (|δa_t|·|b_t| + |a_t|·|δb_t|)        (first order)
///
/// The bounds are worst-case and first-order, so a correct kernel uses a small fraction of them and a
/// wrong index, a missing term or a transposed product does not fit.
extension ReferenceAttention {
    /// Reference gradients of one call, each like an ``Output`` (values and bounds) flattened like
    /// its tensor: dQ, dK, dV `[b, h, n, d]`; Linformer's dE, dF like its projections' `e`, `f`.
    public struct Gradients {
        public var q: Output
        public var k: Output
        public var v: Output
        public var e: Output?
        public var f: Output?
        /// Key-value sharing: E = F, and `e` holds the gradient of both paths (`f` repeats it).
        public var sharedProjection = false

        /// Every gradient with its name, as ``AttentionGradients/named`` lists them.
        public var named: [(name: String, output: Output)] {
            var all = [("dq", q), ("dk", k), ("dv", v)]
            if let e { all.append(("de", e)) }
            if let f, !sharedProjection { all.append(("df", f)) }
            return all
        }
    }

    /// The reference gradients for any of the suite's kernels. `projected` (Linformer only) is the
    /// K′, V′ of the kernel's own forward pass (see ``linformerGradients(q:k:v:projections:outputGradient:projected:)``).
    public static func gradients(
        of kernel: any AttentionKernel, q: Tensor, k: Tensor, v: Tensor, outputGradient: Tensor,
        projected: (keys: Tensor, values: Tensor)? = nil
    ) -> Gradients {
        switch kernel {
        case let linformer as LinformerAttention:
            return linformerGradients(
                q: q, k: k, v: v, projections: linformer.projections, outputGradient: outputGradient,
                projected: projected)
        case let linearKernel as LinearAttention:
            return linearGradients(
                q: q, k: k, v: v, outputGradient: outputGradient, causal: linearKernel.isCausal,
                epsilon: Double(linearKernel.epsilon))
        case let performer as PerformerAttention:
            return performerGradients(q: q, k: k, v: v, outputGradient: outputGradient, kernel: performer)
        case let lsh as LSHAttention:
            return lshGradients(q: q, k: k, v: v, outputGradient: outputGradient, kernel: lsh)
        case let flash as FlashAttention:
            return standardGradients(
                q: q, k: k, v: v, outputGradient: outputGradient, causal: flash.isCausal,
                rescalings: max(flash.keyBlocks(length: AttentionShape(of: q).length) - 1, 0),
                logSumExp: true)
        default:
            precondition(kernel.mechanism == .standard, "no reference gradients for \(kernel.name)")
            return standardGradients(q: q, k: k, v: v, outputGradient: outputGradient, causal: kernel.isCausal)
        }
    }

    // MARK: - Standard attention

    /// dQ, dK, dV of softmax(Q Kᵀ/√d) V (causal: keys j ≤ i), by ``softmaxSliceGradients``.
    /// `rescalings` and `logSumExp` are for ``FlashAttention``: its output carries the forward's
    /// online-softmax rescalings (``standard(q:k:v:causal:rescalings:)``), and its backward forms each
    /// weight as exp(s_ij − L_i) from the saved L_i = m_i + log l_i.
    public static func standardGradients(
        q: Tensor, k: Tensor, v: Tensor, outputGradient: Tensor, causal: Bool, rescalings: Int = 0,
        logSumExp: Bool = false
    ) -> Gradients {
        let shape = AttentionShape(of: q)
        let (n, d) = (shape.length, shape.headDim)
        var (dq, dk, dv) = (Output.zeros(q.count), Output.zeros(q.count), Output.zeros(q.count))
        for s in 0..<shape.slices {
            let x = exactSlice(s, q, k, v)
            let slice = softmaxSliceGradients(
                q: x.q, keys: x.k, values: x.v, outputGradient: outputGradient.matrix(s), causal: causal,
                rescalings: rescalings, logSumExp: logSumExp)
            dq.place(slice.dq, at: s * n * d)
            dk.place(slice.dKeys, at: s * n * d)
            dv.place(slice.dValues, at: s * n * d)
        }
        return Gradients(q: dq, k: dk, v: dv)
    }

    /// The gradients of one slice of softmax attention over m columns, O = softmax(Q Kᵀ/√d) V with
    /// keys and values `[m, d]` that may already err (Linformer's K′, V′), for dO = `outputGradient`:
    ///
    ///     dV = Pᵀ dO,  dS_ij = P_ij (dP_ij − D_i),  dP = dO Vᵀ,  D_i = Σ_c dO_ic O_ic,
    ///     dQ = dS K / √d,  dK = dSᵀ Q / √d
    ///
    /// Bounds, with the forward's row quantities of ``standard(q:k:v:causal:)`` (score error e_s,
    /// δ = 2e_s + u·spread + 4u, factor = 2δ + 2γ(m) + u, and the output's bound δO):
    /// - a weight as the kernel uses it, W_ij·(1/l_i), errs relatively by ≤ 2δ + γ(m) + 2u ≤ ε_P := factor + 3u;
    /// - dV_jc: n terms of relative error ε_P: Σ_i (ε_P,i + γ(n))·P_ij |dO_ic|;
    /// - x_ij = dP_ij − D_i: γ(d)·Σ_c|dO_ic V_jc| + Σ_c|dO_ic|·δV_jc + γ(d)·Σ_c|dO_ic O_ic| + Σ_c|dO_ic|·δO_ic + u·|x_ij|;
    /// - dS_ij = P_ij·x_ij: P_ij·|δx_ij| + ε_P·|dS_ij|;
    /// - dQ_il: (γ(m+4)·Σ_j|dS_ij K_jl| + Σ_j (|δdS_ij|·|K_jl| + |dS_ij|·δK_jl)) / √d, the +4 for the
    ///   scale 1/√d (two roundings) and the product by it; dK_jl likewise over the n rows i.
    ///
    /// With `rescalings` R, the output (and so D_i) carries an online softmax's R rescalings
    /// (``softmaxRow(_:scoreError:terms:rescalings:)``). With `logSumExp`, the kernel forms a weight
    /// as exp(ŝ_ij − L̂_i), L̂_i = m_i + log l̂_i, instead of W_ij·(1/l_i): the same score and sum
    /// errors (in factor), plus the roundings of log, of the sum m + log l and of the difference, and
    /// exp's: ε_P gains u·(|m_i| + 3·log m + spread) + 8u.
    static func softmaxSliceGradients(
        q qs: Bounded, keys: Bounded, values: Bounded, outputGradient gs: MatrixView, causal: Bool,
        rescalings: Int = 0, logSumExp: Bool = false
    ) -> (dq: Bounded, dKeys: Bounded, dValues: Bounded) {
        let (n, d, m) = (qs.rows, qs.cols, keys.rows)
        let scale = 1 / Double(d).squareRoot()
        var dS = [Double](repeating: 0, count: n * m)
        var dSBound = dS
        var (dq, dKeys, dValues) = (Bounded(rows: n, cols: d), Bounded(rows: m, cols: d), Bounded(rows: m, cols: d))
        // dP = dO Vᵀ: [n, d]·[d, m] → [n, m], bounds γ(d)·Σ_c|dO_ic V_jc| + Σ_c|dO_ic|·δV_jc.
        let dP = product(gs, values.transposed)
        for i in 0..<n {
            let visible = causal ? i + 1 : m
            // The forward row: scores, probabilities, the output and its bound.
            let row = attentionRow(i, q: qs, keys: keys, values: values, causal: causal, rescalings: rescalings)
            let (scores, p, factor) = (row.scores, row.probabilities, row.errorFactor)
            var weightError = factor + 3 * u  // ε_P
            if logSumExp, let rowMax = scores.max(), let rowMin = scores.min() {
                weightError += u * (abs(rowMax) + 3 * log(Double(m)) + (rowMax - rowMin) + 8)
            }
            var rowTerm = 0.0
            var rowTermBound = 0.0  // D_i and its bound
            var rowTermMagnitude = 0.0
            for c in 0..<d {
                let (g, o) = (Double(gs[i, c]), row.values[c])
                rowTerm += g * o
                rowTermMagnitude += abs(g * o)
                rowTermBound += abs(g) * row.bounds[c]
            }
            rowTermBound += gamma(d) * rowTermMagnitude
            for j in 0..<visible {
                for c in 0..<d {
                    let g = Double(gs[i, c])
                    dValues.values[j * d + c] += p[j] * g
                    dValues.bounds[j * d + c] += (weightError + gamma(n)) * p[j] * abs(g)
                }
                let x = dP[i, j] - rowTerm
                let xBound = dP.bound(i, j) + rowTermBound + u * abs(x)
                dS[i * m + j] = p[j] * x
                dSBound[i * m + j] = p[j] * xBound + weightError * abs(p[j] * x)
            }
        }
        for i in 0..<n {
            for l in 0..<d {
                var value = 0.0
                var magnitude = 0.0
                var propagated = 0.0
                for j in 0..<m {
                    let ds = dS[i * m + j]
                    value += ds * keys[j, l]
                    magnitude += abs(ds * keys[j, l])
                    propagated += dSBound[i * m + j] * abs(keys[j, l]) + abs(ds) * keys.bound(j, l)
                }
                dq.values[i * d + l] = value * scale
                dq.bounds[i * d + l] = (gamma(m + 4) * magnitude + propagated) * scale
            }
        }
        for j in 0..<m {
            for l in 0..<d {
                var value = 0.0
                var magnitude = 0.0
                var propagated = 0.0
                for i in 0..<n {
                    let ds = dS[i * m + j]
                    let ql = qs[i, l]
                    value += ds * ql
                    magnitude += abs(ds * ql)
                    propagated += dSBound[i * m + j] * abs(ql)
                }
                dKeys.values[j * d + l] = value * scale
                dKeys.bounds[j * d + l] = (gamma(n + 4) * magnitude + propagated) * scale
            }
        }
        return (dq, dKeys, dValues)
    }

    // MARK: - Linformer

    /// dQ, dK, dV, dE, dF of softmax(Q (E K)ᵀ/√d) (F V): ``softmaxSliceGradients`` over K′ = E K and
    /// V′ = F V, then back through the projections. The backward reads the K′ and V′ its forward
    /// computed, whose error the forward bound puts at γ(n)·Σ_j|E_rj K_jl|; that worst case, carried
    /// through the softmax and two more sums that cancel, would leave room for a 30% error in dE at
    /// n = 130. Given the kernel's forward (`projected`), the measured |K̂′ − K′|, |V̂′ − V′| are used
    /// instead (exact in Float64; the forward's own check covers how large they may be), so the bounds
    /// are the backward's rounding plus the propagated error of what it was actually given. Then:
    /// - dK_jl = Σ_r E_rj dK′_rl: γ(k)·Σ_r|E_rj dK′_rl| + Σ_r |E_rj|·δdK′_rl (dV through F likewise);
    /// - dE_rj = Σ_slices Σ_l dK′_rl K_jl, over the t = slices·d terms that reach one matrix (2·slices·d
    ///   under key-value sharing, where dF's terms add in): γ(t)·Σ|dK′_rl K_jl| + Σ δdK′_rl·|K_jl|.
    public static func linformerGradients(
        q: Tensor, k: Tensor, v: Tensor, projections: LinformerProjections, outputGradient: Tensor,
        projected: (keys: Tensor, values: Tensor)? = nil
    ) -> Gradients {
        let shape = AttentionShape(of: q)
        let (n, d, kp) = (shape.length, shape.headDim, projections.projectedLength)
        let shared = projections.e === projections.f
        var (dq, dk, dv) = (Output.zeros(q.count), Output.zeros(q.count), Output.zeros(q.count))
        // dE, dF sums: values, Σ|terms|, propagated bounds; and how many terms reach each matrix.
        var de = (
            values: [Double](repeating: 0, count: projections.e.count),
            magnitude: [Double](repeating: 0, count: projections.e.count),
            propagated: [Double](repeating: 0, count: projections.e.count)
        )
        var df = (
            values: [Double](repeating: 0, count: projections.f.count),
            magnitude: [Double](repeating: 0, count: projections.f.count),
            propagated: [Double](repeating: 0, count: projections.f.count)
        )
        var eTerms = [Int](repeating: 0, count: max(projections.e.count / max(kp * n, 1), 1))
        var fTerms = eTerms
        for s in 0..<shape.slices {
            let head = s % shape.heads
            let (e, f) = (projections.e(head: head), projections.f(head: head))
            let (ks, vs) = (k.matrix(s), v.matrix(s))
            let x = exactSlice(s, q, k, v)
            // K′ = E K, V′ = F V: [k, n]·[n, d] → [k, d] each, with the forward's bounds, or the
            // kernel's own deviation from them when its forward is given.
            var (keys, values) = (product(e, x.k), product(f, x.v))
            if let projected {
                let (kernelKeys, kernelValues) = (projected.keys.matrix(s), projected.values.matrix(s))
                for r in 0..<kp {
                    for l in 0..<d {
                        keys.bounds[r * d + l] = abs(Double(kernelKeys[r, l]) - keys[r, l])
                        values.bounds[r * d + l] = abs(Double(kernelValues[r, l]) - values[r, l])
                    }
                }
            }
            let slice = softmaxSliceGradients(
                q: x.q, keys: keys, values: values,
                outputGradient: outputGradient.matrix(s), causal: false)
            // Back through the projections: dK = Eᵀ dK′, dV = Fᵀ dV′.
            for j in 0..<n {
                for l in 0..<d {
                    var kValue = 0.0
                    var kMagnitude = 0.0
                    var kPropagated = 0.0
                    var vValue = 0.0
                    var vMagnitude = 0.0
                    var vPropagated = 0.0
                    for r in 0..<kp {
                        let (er, fr) = (Double(e[r, j]), Double(f[r, j]))
                        kValue += er * slice.dKeys[r, l]
                        kMagnitude += abs(er * slice.dKeys[r, l])
                        kPropagated += abs(er) * slice.dKeys.bound(r, l)
                        vValue += fr * slice.dValues[r, l]
                        vMagnitude += abs(fr * slice.dValues[r, l])
                        vPropagated += abs(fr) * slice.dValues.bound(r, l)
                    }
                    let index = (s * n + j) * d + l
                    (dk.values[index], dk.bounds[index]) = (kValue, gamma(kp) * kMagnitude + kPropagated)
                    (dv.values[index], dv.bounds[index]) = (vValue, gamma(kp) * vMagnitude + vPropagated)
                }
            }
            dq.place(slice.dq.output, at: s * n * d)
            // The projections' gradients: dE += dK′ Kᵀ, dF += dV′ Vᵀ (into dE itself when shared).
            let (eIndex, fIndex) = (
                LinformerProjections.index(of: head, in: projections.e),
                LinformerProjections.index(of: head, in: projections.f)
            )
            eTerms[eIndex] += d
            if shared { eTerms[eIndex] += d } else { fTerms[fIndex] += d }
            for r in 0..<kp {
                for j in 0..<n {
                    let (ei, fi) = ((eIndex * kp + r) * n + j, (fIndex * kp + r) * n + j)
                    for l in 0..<d {
                        let (kj, vj) = (Double(ks[j, l]), Double(vs[j, l]))
                        de.values[ei] += slice.dKeys[r, l] * kj
                        de.magnitude[ei] += abs(slice.dKeys[r, l] * kj)
                        de.propagated[ei] += slice.dKeys.bound(r, l) * abs(kj)
                        if shared {
                            de.values[ei] += slice.dValues[r, l] * vj
                            de.magnitude[ei] += abs(slice.dValues[r, l] * vj)
                            de.propagated[ei] += slice.dValues.bound(r, l) * abs(vj)
                        } else {
                            df.values[fi] += slice.dValues[r, l] * vj
                            df.magnitude[fi] += abs(slice.dValues[r, l] * vj)
                            df.propagated[fi] += slice.dValues.bound(r, l) * abs(vj)
                        }
                    }
                }
            }
        }
        func finish(_ sums: (values: [Double], magnitude: [Double], propagated: [Double]), _ terms: [Int]) -> Output {
            let bounds = sums.values.indices.map { i in
                gamma(terms[i / max(kp * n, 1)]) * sums.magnitude[i] + sums.propagated[i]
            }
            return Output(values: sums.values, bounds: bounds)
        }
        let eOutput = finish(de, eTerms)
        return Gradients(
            q: dq, k: dk, v: dv, e: eOutput, f: shared ? eOutput : finish(df, fTerms), sharedProjection: shared)
    }

    // MARK: - Linear attention

    /// dQ, dK, dV of φ(Q)(Σ φ(K) Vᵀ) / (φ(Q)·Σ φ(K) + ε), through the quadratic form
    /// A_ij = φ(q_i)·φ(k_j) (j ≤ i when causal): O_i = Σ_j A_ij v_j / den_i, den_i = Σ_j A_ij + ε. With
    /// g_i = dO_i / den_i and a_i = −(dO_i·O_i) / den_i, dA_ij = g_i·v_j + a_i and
    ///
    ///     ∇φ(q_i) = Σ_j dA_ij φ(k_j),  ∇φ(k_j) = Σ_i dA_ij φ(q_i),  ∇v_j = Σ_i A_ij g_i,
    ///     dQ = ∇φ(Q) ∘ φ′(Q),  dK = ∇φ(K) ∘ φ′(K)
    ///
    /// Bounds. Every term of every gradient is a product of the same factors whatever the order of
    /// the sums (the kernel's S = Σ φ(k) vᵀ, R = Σ φ(q) gᵀ, prefix or suffix, or this n×n form), and
    /// no path through the kernel's sums rounds one term more than n + d + 3 times (a sum over
    /// positions, one over d, the normaliser's addition, two products), so with Γ = γ(n + d + 3):
    /// - den_i errs relatively by η = γ(n) + γ(d+1) + 8u (as in ``linear(q:k:v:causal:epsilon:)``),
    ///   g by η + 2u, a_i by δa_i = (γ(d)·Σ_c|dO_ic O_ic| + Σ_c|dO_ic|·δO_ic)/den_i + (η + 2u)·|a_i|;
    /// - ∇φ(q_i)_l: (Γ + 4u + η + 2u)·Σ_j φ(k_jl)·Σ_c|g_ic v_jc| + (Γ + 4u)·|a_i|·Σ_j φ(k_jl) + δa_i·Σ_j φ(k_jl),
    ///   and ∇φ(k_j)_l likewise over i with φ(q_il); 4u for φ;
    /// - ∇v_jc: (Γ + 8u + η + 2u)·Σ_i A_ij·|g_ic| (A ≥ 0: its two φ's are 8u);
    /// - dQ = φ′(q)·∇φ(q): φ′(q)·(|δ∇φ(q)| + 5u·|∇φ(q)|) (φ′ from φ's value, 4u, and the product).
    public static func linearGradients(
        q: Tensor, k: Tensor, v: Tensor, outputGradient: Tensor, causal: Bool, epsilon: Double = 1e-6
    ) -> Gradients {
        let shape = AttentionShape(of: q)
        let (n, d) = (shape.length, shape.headDim)
        var (dq, dk, dv) = (Output.zeros(q.count), Output.zeros(q.count), Output.zeros(q.count))
        let eta = gamma(n) + gamma(d + 1) + 2 * elementwiseError
        let big = gamma(n + d + 3)
        func phi(_ x: Float) -> Double {
            let x = Double(x)
            return x > 0 ? x + 1 : exp(x)
        }
        func slope(_ x: Float) -> Double {
            let x = Double(x)
            return x > 0 ? 1 : exp(x)
        }
        for s in 0..<shape.slices {
            let (qs, ks, vs, gs) = (q.matrix(s), k.matrix(s), v.matrix(s), outputGradient.matrix(s))
            var phiQ = [Double](repeating: 0, count: n * d)
            var phiK = phiQ
            for i in 0..<n {
                for l in 0..<d {
                    phiQ[i * d + l] = phi(qs[i, l])
                    phiK[i * d + l] = phi(ks[i, l])
                }
            }
            // Query i sees keys 0..<keys(i); key j is seen by queries queries(j)..<n.
            let keys = { (i: Int) in causal ? i + 1 : n }
            let queries = { (j: Int) in causal ? j : 0 }
            var A = [Double](repeating: 0, count: n * n)
            for i in 0..<n {
                for j in 0..<keys(i) { for l in 0..<d { A[i * n + j] += phiQ[i * d + l] * phiK[j * d + l] } }
            }
            // Per row: g_i, a_i and δa_i (from the output's forward bound).
            var g = [Double](repeating: 0, count: n * d)
            var a = [Double](repeating: 0, count: n)
            var aBound = a
            for i in 0..<n {
                var den = epsilon
                for j in 0..<n { den += A[i * n + j] }
                var dot = 0.0
                var magnitude = 0.0
                var propagated = 0.0
                for c in 0..<d {
                    var num = 0.0
                    var numMagnitude = 0.0
                    for j in 0..<n {
                        num += A[i * n + j] * Double(vs[j, c])
                        numMagnitude += A[i * n + j] * abs(Double(vs[j, c]))
                    }
                    let o = num / den
                    let oBound = eta * (numMagnitude / den + abs(o)) + u * abs(o)
                    let dO = Double(gs[i, c])
                    g[i * d + c] = dO / den
                    dot += dO * o
                    magnitude += abs(dO * o)
                    propagated += abs(dO) * oBound
                }
                a[i] = -dot / den
                aBound[i] = (gamma(d) * magnitude + propagated) / den + (eta + 2 * u) * abs(a[i])
            }
            // dA_ij = g_i·v_j + a_i, and Σ_c|g_ic v_jc| for the bounds.
            var dA = [Double](repeating: 0, count: n * n)
            var gv = dA
            for i in 0..<n {
                for j in 0..<keys(i) {
                    var value = a[i]
                    var magnitude = 0.0
                    for c in 0..<d {
                        value += g[i * d + c] * Double(vs[j, c])
                        magnitude += abs(g[i * d + c] * Double(vs[j, c]))
                    }
                    (dA[i * n + j], gv[i * n + j]) = (value, magnitude)
                }
            }
            let base = s * n * d
            for i in 0..<n {
                for l in 0..<d {
                    var value = 0.0
                    var products = 0.0
                    var keySum = 0.0
                    for j in 0..<keys(i) {
                        value += dA[i * n + j] * phiK[j * d + l]
                        products += phiK[j * d + l] * gv[i * n + j]
                        keySum += phiK[j * d + l]
                    }
                    let bound =
                        (big + 4 * u + eta + 2 * u) * products + (big + 4 * u) * abs(a[i]) * keySum + aBound[i] * keySum
                    let p = slope(qs[i, l])
                    (dq.values[base + i * d + l], dq.bounds[base + i * d + l]) = (
                        p * value, p * (bound + 5 * u * abs(value))
                    )
                }
            }
            for j in 0..<n {
                for l in 0..<d {
                    var value = 0.0
                    var products = 0.0
                    var normaliser = 0.0
                    var propagated = 0.0
                    for i in queries(j)..<n {
                        value += dA[i * n + j] * phiQ[i * d + l]
                        products += phiQ[i * d + l] * gv[i * n + j]
                        normaliser += phiQ[i * d + l] * abs(a[i])
                        propagated += phiQ[i * d + l] * aBound[i]
                    }
                    let bound = (big + 4 * u + eta + 2 * u) * products + (big + 4 * u) * normaliser + propagated
                    let p = slope(ks[j, l])
                    (dk.values[base + j * d + l], dk.bounds[base + j * d + l]) = (
                        p * value, p * (bound + 5 * u * abs(value))
                    )
                }
                for c in 0..<d {
                    var value = 0.0
                    var magnitude = 0.0
                    for i in queries(j)..<n {
                        value += A[i * n + j] * g[i * d + c]
                        magnitude += A[i * n + j] * abs(g[i * d + c])
                    }
                    (dv.values[base + j * d + c], dv.bounds[base + j * d + c]) = (
                        value, (big + 8 * u + eta + 2 * u) * magnitude
                    )
                }
            }
        }
        return Gradients(q: dq, k: dk, v: dv)
    }
}

extension ReferenceAttention.Output {
    /// All zeros, `count` values and bounds.
    static func zeros(_ count: Int) -> Self {
        Self(values: [Double](repeating: 0, count: count), bounds: [Double](repeating: 0, count: count))
    }

    /// Copies one slice's values and bounds in at `offset`.
    mutating func place(_ slice: ReferenceAttention.Bounded, at offset: Int) { place(slice.output, at: offset) }

    mutating func place(_ slice: Self, at offset: Int) {
        for (i, (value, bound)) in zip(slice.values, slice.bounds).enumerated() {
            values[offset + i] = value
            bounds[offset + i] = bound
        }
    }
}
