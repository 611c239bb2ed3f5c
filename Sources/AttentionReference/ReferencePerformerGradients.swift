import AttentionKernels

/// Performer's FAVOR+ gradients in Float64 over the kernel's own features W (float32 values, exact here).
extension ReferenceAttention {
    /// dQ, dK, dV of ``PerformerAttention`` (causal: keys j ≤ i), differentiated through the n×n
    /// quadratic form A_ij = φ(q_i)·φ(k_j) as ``linearGradients(q:k:v:outputGradient:causal:epsilon:)``
    /// is (never the kernel's prefix sums), then through the feature map with its shifts held constant,
    /// as the kernel's backward does. With den_i = Σ_j A_ij + ε, O_i = Σ_j A_ij v_j / den_i,
    /// g_i = dO_i / den_i, a_i = −(dO_i·O_i) / den_i and dA_ij = g_i·v_j + a_i:
    ///
    ///     ∇φ(q_i) = Σ_j dA_ij φ(k_j),  ∇φ(k_j) = Σ_i dA_ij φ(q_i),  ∇v_j = Σ_i A_ij g_i
    ///     dq_i = (∇φ(q_i) ∘ φ(q_i)) W                                  [m]·[m, d] → [d]
    ///     dk_j = (∇φ(k_j) ∘ φ(k_j)) W − (Σ_l ∇φ(k_j)_l φ(k_j)_l)·k_j/√d
    ///
    /// since a query's φ_l = exp(u_l − max u)/√m with u = W q, and a key's φ_l = exp(u_l − ‖k‖²/(2√d) − c)/√m
    /// with c the keys' shared maximum. Holding the shifts constant is exact but for ε: each is a factor
    /// common to a query's row or to every key, which cancels in O and in every ∇φ ∘ φ (of degree 0 in
    /// it), so the gradients of the forward with the shifts recomputed differ by O(ε/den_i).
    ///
    /// Bounds (first order, worst case, the rule of ``ReferenceAttention``'s gradients):
    /// - features: δφ is the forward's (``favorFeatures(_:_:query:)``: the logits, a key's norm term,
    ///   the subtraction of the shift) plus 5u·φ (exp and the 1/√m factor). The kernel's own shifts
    ///   differ from the reference's by a common factor per row (queries) or per slice (keys), which
    ///   cancels in every result below, so the relative errors are what count;
    /// - A_ij: its m products δA_ij = Σ_l (δφ(q_il)·φ(k_jl) + φ(q_il)·δφ(k_jl)) (rounding in Γ below);
    /// - den_i: (γ(n) + γ(m+1))·Σ_j A_ij + Σ_j δA_ij (all terms positive), relatively η_i; g_i errs by
    ///   (η_i + 2u)·|g_i| (the inverse and the product), a_i by
    ///   δa_i = (γ(d)·Σ_c|dO_ic O_ic| + Σ_c|dO_ic|·δO_ic)/den_i + (η_i + 2u)·|a_i| with δO the forward's bound;
    /// - every term of ∇φ(Q), ∇φ(K), ∇V is a product of the same factors in whatever order the kernel
    ///   sums (S = Φkᵀ V or its prefix sums, ∂L/∂S = Φqᵀ g or its suffix sums, then a sum over d or m),
    ///   and none is rounded more than n + m + d + 3 times, so with Γ = γ(n + m + d + 3) and
    ///   gv_ij = Σ_c|g_ic v_jc|:
    ///   ∇φ(q_i)_l: Σ_j [(Γ + η_i + 2u)·gv_ij·φ(k_jl) + (Γ·|a_i| + δa_i)·φ(k_jl) + (gv_ij + |a_i|)·δφ(k_jl)],
    ///   ∇φ(k_j)_l likewise over i with φ(q_il), δφ(q_il);
    ///   ∇v_jc: Σ_i [(Γ + η_i + 2u)·A_ij + δA_ij]·|g_ic|;
    /// - the chain rule: dU_l = ∇φ_l·φ_l errs by δ∇φ_l·φ_l + |∇φ_l|·δφ_l + u·|dU_l|; (dU W)_c, an m-term
    ///   sum of signed terms, by γ(m)·Σ_l|dU_l W_lc| + Σ_l δdU_l·|W_lc|; a key's T = Σ_l dU_l by
    ///   δT = γ(m)·Σ_l|dU_l| + Σ_l δdU_l, its factor T/√d by (δT + 3u·|T|)/√d (1/√d: two roundings,
    ///   the product one), and the update x_c·T/√d and the subtraction add u·|x_c T|/√d + u·|dk_c|.
    ///
    /// A correct float32 kernel uses a small fraction of these; a causal kernel against the non-causal
    /// reference, or a 3% error in dO, does not fit (`PerformerAttentionTests`). O(n²·(m + d)) time and
    /// O(n²) memory per slice.
    public static func performerGradients(
        q: Tensor, k: Tensor, v: Tensor, outputGradient: Tensor, kernel: PerformerAttention
    ) -> Gradients {
        let shape = AttentionShape(of: q)
        let (n, d) = (shape.length, shape.headDim)
        let w = kernel.features.projection.matrix(0)
        let epsilon = Double(kernel.epsilon)
        var (dq, dk, dv) = (Output.zeros(q.count), Output.zeros(q.count), Output.zeros(q.count))
        for s in 0..<shape.slices {
            let x = exactSlice(s, q, k, v)
            let (phiQ, phiK) = (favorFeatures(x.q, w, query: true), favorFeatures(x.k, w, query: false))
            // The kernel's output with the forward's bound δO (its own reference, ``performerSlice``).
            let output = contractSlice(
                phiQ: phiQ, phiK: phiK, v: x.v, causal: kernel.isCausal, epsilon: epsilon,
                featureRounding: elementwiseError + u)
            let (roundedQ, roundedK) = (withRounding(phiQ), withRounding(phiK))
            let slice = quadraticFormGradients(
                phiQ: roundedQ, phiK: roundedK, v: x.v, output: output, outputGradient: outputGradient.matrix(s),
                causal: kernel.isCausal, epsilon: epsilon)
            dq.place(favorChainRule(slice.dPhiQ, features: roundedQ, input: x.q, w, query: true), at: s * n * d)
            dk.place(favorChainRule(slice.dPhiK, features: roundedK, input: x.k, w, query: false), at: s * n * d)
            dv.place(slice.dv, at: s * n * d)
        }
        return Gradients(q: dq, k: dk, v: dv)
    }

    /// Features with exp's and the 1/√m factor's rounding (5u·φ) added to their propagated bounds.
    static func withRounding(_ phi: Bounded) -> Bounded {
        var result = phi
        for t in result.values.indices { result.bounds[t] += (elementwiseError + u) * result.values[t] }
        return result
    }

    /// ∇φ(Q), ∇φ(K) (`[n, m]`) and ∇V (`[n, d]`) of one slice through A = Φq Φkᵀ (see
    /// ``performerGradients(q:k:v:outputGradient:kernel:)`` for the formulas and bounds). `phiQ`, `phiK`
    /// carry their full bounds (rounding included); `output` is O with its forward bound.
    static func quadraticFormGradients(
        phiQ fq: Bounded, phiK fk: Bounded, v: Bounded, output o: Bounded, outputGradient gs: MatrixView,
        causal: Bool, epsilon: Double
    ) -> (dPhiQ: Bounded, dPhiK: Bounded, dv: Bounded) {
        let (n, m, d) = (fq.rows, fq.cols, v.cols)
        let big = gamma(n + m + d + 3)
        // Query i sees keys 0..<keys(i); key j is seen by queries queries(j)..<n.
        let keys = { (i: Int) in causal ? i + 1 : n }
        let queries = { (j: Int) in causal ? j : 0 }
        // A = Φq Φkᵀ: [n, m]·[m, n] → [n, n], with δA (the features' propagated errors).
        var (A, AError) = ([Double](repeating: 0, count: n * n), [Double](repeating: 0, count: n * n))
        for i in 0..<n {
            for j in 0..<keys(i) {
                for l in 0..<m {
                    A[i * n + j] += fq[i, l] * fk[j, l]
                    AError[i * n + j] += fq.bound(i, l) * fk[j, l] + fq[i, l] * fk.bound(j, l)
                }
            }
        }
        // Per row: g_i, a_i, δa_i and the relative error of g, η_i + 2u.
        var g = [Double](repeating: 0, count: n * d)
        var (a, aBound, gError) = (
            [Double](repeating: 0, count: n), [Double](repeating: 0, count: n), [Double](repeating: 0, count: n)
        )
        for i in 0..<n {
            var (sum, sumError) = (0.0, 0.0)
            for j in 0..<keys(i) {
                sum += A[i * n + j]
                sumError += AError[i * n + j]
            }
            let den = sum + epsilon
            let eta = ((gamma(n) + gamma(m + 1)) * sum + sumError) / den
            var (dot, magnitude, propagated) = (0.0, 0.0, 0.0)
            for c in 0..<d {
                let dO = Double(gs[i, c])
                g[i * d + c] = dO / den
                dot += dO * o[i, c]
                magnitude += abs(dO * o[i, c])
                propagated += abs(dO) * o.bound(i, c)
            }
            a[i] = -dot / den
            gError[i] = eta + 2 * u
            aBound[i] = (gamma(d) * magnitude + propagated) / den + gError[i] * abs(a[i])
        }
        // dA_ij = g_i·v_j + a_i and gv_ij = Σ_c|g_ic v_jc|.
        var (dA, gv) = ([Double](repeating: 0, count: n * n), [Double](repeating: 0, count: n * n))
        for i in 0..<n {
            for j in 0..<keys(i) {
                var (value, magnitude) = (a[i], 0.0)
                for c in 0..<d {
                    value += g[i * d + c] * v[j, c]
                    magnitude += abs(g[i * d + c] * v[j, c])
                }
                (dA[i * n + j], gv[i * n + j]) = (value, magnitude)
            }
        }
        var (dPhiQ, dPhiK, dv) = (Bounded(rows: n, cols: m), Bounded(rows: n, cols: m), Bounded(rows: n, cols: d))
        // ∇φ(q_i)_l = Σ_j dA_ij φ(k_jl): [n, n]·[n, m] → [n, m].
        for i in 0..<n {
            for l in 0..<m {
                var (value, bound) = (0.0, 0.0)
                for j in 0..<keys(i) {
                    let (f, df, t) = (fk[j, l], fk.bound(j, l), i * n + j)
                    value += dA[t] * f
                    bound +=
                        (big + gError[i]) * gv[t] * f + (big * abs(a[i]) + aBound[i]) * f + (gv[t] + abs(a[i])) * df
                }
                (dPhiQ.values[i * m + l], dPhiQ.bounds[i * m + l]) = (value, bound)
            }
        }
        // ∇φ(k_j)_l = Σ_i dA_ij φ(q_il): [n, n]ᵀ·[n, m] → [n, m]; ∇v_jc = Σ_i A_ij g_ic: [n, n]ᵀ·[n, d] → [n, d].
        for j in 0..<n {
            for l in 0..<m {
                var (value, bound) = (0.0, 0.0)
                for i in queries(j)..<n {
                    let (f, df, t) = (fq[i, l], fq.bound(i, l), i * n + j)
                    value += dA[t] * f
                    bound +=
                        (big + gError[i]) * gv[t] * f + (big * abs(a[i]) + aBound[i]) * f + (gv[t] + abs(a[i])) * df
                }
                (dPhiK.values[j * m + l], dPhiK.bounds[j * m + l]) = (value, bound)
            }
            for c in 0..<d {
                var (value, bound) = (0.0, 0.0)
                for i in queries(j)..<n {
                    let (t, gc) = (i * n + j, g[i * d + c])
                    value += A[t] * gc
                    bound += ((big + gError[i]) * A[t] + AError[t]) * abs(gc)
                }
                (dv.values[j * d + c], dv.bounds[j * d + c]) = (value, bound)
            }
        }
        return (dPhiQ, dPhiK, dv)
    }

    /// The feature map's chain rule with its shifts held constant, for the rows of `x` (`[n, d]`):
    /// dx = (∇φ ∘ φ) W, and for keys − (Σ_l ∇φ_l φ_l)·x/√d (the derivative of ‖x‖²/(2√d)), with the
    /// bounds of ``performerGradients(q:k:v:outputGradient:kernel:)``.
    static func favorChainRule(
        _ featureGradient: Bounded, features phi: Bounded, input x: Bounded, _ w: MatrixView, query: Bool
    ) -> Bounded {
        let (n, m, d) = (phi.rows, phi.cols, x.cols)
        let root = Double(d).squareRoot()
        var dx = Bounded(rows: n, cols: d)
        var (dU, dUBound) = ([Double](repeating: 0, count: m), [Double](repeating: 0, count: m))
        for i in 0..<n {
            // dU = ∇φ ∘ φ and its bound; for keys T = Σ_l dU_l and δT.
            var (total, totalMagnitude, totalPropagated) = (0.0, 0.0, 0.0)
            for l in 0..<m {
                let (gradient, f) = (featureGradient[i, l], phi[i, l])
                dU[l] = gradient * f
                dUBound[l] = featureGradient.bound(i, l) * f + abs(gradient) * phi.bound(i, l) + u * abs(dU[l])
                total += dU[l]
                totalMagnitude += abs(dU[l])
                totalPropagated += dUBound[l]
            }
            let factor = total / root
            let factorBound = (gamma(m) * totalMagnitude + totalPropagated + 3 * u * abs(total)) / root
            for c in 0..<d {
                // [m]·[m, d] → [d], column c: (dU W)_c
                var (value, magnitude, propagated) = (0.0, 0.0, 0.0)
                for l in 0..<m {
                    let wc = Double(w[l, c])
                    value += dU[l] * wc
                    magnitude += abs(dU[l] * wc)
                    propagated += dUBound[l] * abs(wc)
                }
                var bound = gamma(m) * magnitude + propagated
                if !query {
                    value -= factor * x[i, c]
                    bound += factorBound * abs(x[i, c]) + u * abs(factor * x[i, c]) + u * abs(value)
                }
                (dx.values[i * d + c], dx.bounds[i * d + c]) = (value, bound)
            }
        }
        return dx
    }
}
