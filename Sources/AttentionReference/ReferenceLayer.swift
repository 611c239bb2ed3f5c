import AttentionKernels

#if canImport(Glibc)
    import Glibc
#endif

/// The algorithmic reference for ``EncoderStack``: naive Float64 loops, no BLAS, the same weights,
/// part by part. Every value carries a bound on how far a correct float32 kernel may be from it,
/// derived as ``ReferenceAttention`` and its gradients derive theirs (Higham §3.1, first order): a
/// float32 sum of m terms, in any order, is within γ(m)·Σ|terms| of the exact sum (γ(m) = m·u/(1 − m·u),
/// u = 2⁻²⁴); an element-wise operation rounds once (u relative); and an input that already errs by
/// δ carries δ times its coefficient into every later value:
///
///     |ŷ − y| ≤ γ(m)·Σ_t |a_t b_t| + Σ_t (|δa_t|·|b_t| + |a_t|·|δb_t|)            (y = Σ_t a_t b_t)
///
/// A ``Field`` is a `[rows, cols]` matrix of exact values and such bounds; a part's exact float32
/// inputs have bound 0, and what a part computes (U, GELU(U), the LayerNorm statistics…) carries its
/// bound into the later steps of the part. The derivations, where they are not one product:
///
/// **Products** (``product(_:_:bias:residual:)``): the kernel writes the bias (and the residual, one
/// rounding) into the output rows and adds p products with BLAS `beta = 1`: a sum of p + 1 or p + 2
/// terms, γ(p + 2)·(Σ|x w| + |b| + |r|) + Σ δx·|w| + δr. Backward products and weight gradients are
/// the same rule over D, M (``productTransposed(_:residual:)``) or the T = b·n rows (``weightGradient(_:_:)``,
/// ``columnSums(_:)``).
///
/// **GELU** (``gelu(_:)``), as the kernel computes it (``GELU``): r̂ = k̂·(x + (â·x²)·x) with the
/// float constants â, k̂ = −2ĉ each within u: x², â·x², ·x and â's own error are 4u on a term of x's
/// sign, the sum adds u (no cancellation: both terms have x's sign), k̂ and the product 2u, so the
/// exponent −2r errs relatively by ≤ 7u. exp is within 2 ulp ≤ 4u, and a relative error ρ in its
/// argument becomes |2r|·ρ in e: ρ_e ≤ 4u + 7u·|2r|. Then 1 + e adds u (and passes on ρ_e·e/(1 + e)
/// ≤ ρ_e) and x/(1 + e) adds u: |δGELU| ≤ (6u + 7u·|2r|)·|GELU(x)|. Past the exp's range (|2r| > 87)
/// e is clamped and both the kernel's and the true value are below |x|·e⁻⁸⁷ away from the exact
/// limit: 2|x|·e⁻⁸⁷ is added. An input error δx adds |GELU′(x)|·δx.
///
/// **GELU′** (``geluDerivative(_:)``): s = 1/(1 + e) errs by ρ_s = 2u + ρ_e; the slope
/// 2ĉ·x·(1 + 3â·x²) by 7u (x², 3â, the product, 1 + ·, 2ĉ and two products; no cancellation);
/// e·s by ρ_e + ρ_s + u; the term slope·(e·s)·s by the sum of those plus 2u; the final s + term
/// (which may cancel) by ρ_s·s + ρ_term·|term| + u·|GELU′|. Past the exp's range, 2·(1 + |slope|)·e⁻⁸⁷.
/// An input error δx adds |GELU″(x)|·δx.
///
/// **LayerNorm** (``layerNorm(_:gamma:beta:)``), two-pass as the kernel (``LayerNorm``), per row of D:
/// - μ: a D-term sum and a division: δμ ≤ γ(D)·Σ|z|/D;
/// - c_i = z_i − μ̂: δc_i ≤ δμ + u·|c_i|;
/// - v = Σ ĉ_i²/D: the sum of D squares and the division, γ(D+1)·v, plus the c_i's errors,
///   2·Σ|c_i|·δc_i/D ≤ 2·δμ·mean|c| + 2u·v;
/// - w = v + ε: δw ≤ δv + u·ε (ε as a float) + u·(v + ε); r = 1/√w: ρ_r ≤ δw/(2w) + 2u (√ and 1/);
/// - x̂_i = ĉ_i·r: δx̂_i ≤ r·δc_i + |x̂_i|·(ρ_r + u); y_i = γ_i x̂_i + β_i: |γ_i|·δx̂_i + u·|γ_i x̂_i| + u·|y_i|.
/// An input error δz propagates through the Jacobian ∂x̂_i/∂z_j = r·(δ_ij − 1/D − x̂_i x̂_j/D):
/// δx̂_i gains r·(δz_i + mean(δz) + |x̂_i|·mean(|x̂| ∘ δz)), and r (∂r/∂z_j = −r²·x̂_j/D) gains
/// r²·mean(|x̂| ∘ δz).
///
/// **LayerNorm backward** (``layerNormBackward(_:normalized:inverseStd:gamma:)``), with t = γ ∘ g and the
/// kernel's x̂, r (which carry the forward's bounds):
/// - δt_i = |γ_i|·δg_i + u·|t_i|; δmean(t) = γ(D)·mean|t| + mean(δt);
///   δmean(t ∘ x̂) = γ(D+1)·mean|t x̂| + mean(δt·|x̂| + |t|·δx̂);
/// - q_i = (t_i − m₁) − x̂_i·m₂: u·(|t_i − m₁| + |x̂_i m₂| + |q_i|) + δt_i + δm₁ + |x̂_i|·δm₂ + |m₂|·δx̂_i;
/// - dz_i = r·q_i: u·|dz_i| + r·δq_i + |q_i|·δr;
/// - dγ = Σ_rows g ∘ x̂ and dβ = Σ_rows g: T-term sums with their inputs' errors.
public enum ReferenceLayer {
    /// A `[rows, cols]` Float64 matrix of exact values and error bounds (``ReferenceAttention``'s).
    typealias Field = ReferenceAttention.Bounded

    static var u: Double { ReferenceAttention.u }
    static func gamma(_ m: Int) -> Double { ReferenceAttention.gamma(m) }

    /// LayerNorm's ε as the reference uses it (the real number; the kernel's float is within u·ε).
    static let epsilon = 1e-5
    /// √(2/π) and 0.044715, exactly.
    static let geluC = (2 / Double.pi).squareRoot()
    static let geluA = 0.044715
    /// Beyond |2r| > 87 the kernel's exp is clamped (``Softmax/exp(_:)-(SIMD8<Float>)``); e⁻⁸⁷ bounds what that changes.
    static let expRange = 87.0

    // MARK: - Fields

    /// The exact float32 values of a `[rows, cols]` view (bounds 0).
    static func field(_ m: MatrixView) -> Field { Field(m) }

    /// A `[b, n, c]` tensor as a `[b·n, c]` field (bounds 0).
    static func tokens(_ t: Tensor) -> Field {
        Field(MatrixView(base: t.data, rows: t.shape[0] * t.shape[1], cols: t.shape[2]))
    }

    /// A `[b, h, n, d]` tensor as the `[b·n, h·d]` field of its heads side by side (bounds 0).
    static func tokens(heads t: Tensor) -> Field {
        let (b, h, n, d) = (t.shape[0], t.shape[1], t.shape[2], t.shape[3])
        var f = Field(rows: b * n, cols: h * d)
        for s in 0..<(b * h) {
            let m = t.matrix(s)
            for i in 0..<n {
                for c in 0..<d { f.values[((s / h) * n + i) * h * d + (s % h) * d + c] = Double(m[i, c]) }
            }
        }
        return f
    }

    /// A `[b·n, h·d]` field laid out as a `[b, h, n, d]` tensor is (for comparing with Q, K, V, A, dA…).
    static func headsFirst(_ f: Field, batch b: Int, heads h: Int) -> ReferenceAttention.Output {
        var out = ReferenceAttention.Output(values: f.values, bounds: f.bounds)
        forEachElement(batch: b, heads: h, length: f.rows / b, headDim: f.cols / h) { heads, tokens in
            (out.values[heads], out.bounds[heads]) = (f.values[tokens], f.bounds[tokens])
        }
        return out
    }

    /// The inverse of ``headsFirst(_:batch:heads:)``: a `[b, h, n, d]`-ordered output as a `[b·n, h·d]` field.
    static func tokensFirst(_ o: ReferenceAttention.Output, batch b: Int, heads h: Int, length n: Int) -> Field {
        let d = o.values.count / (b * h * n)
        var f = Field(rows: b * n, cols: h * d)
        forEachElement(batch: b, heads: h, length: n, headDim: d) { heads, tokens in
            (f.values[tokens], f.bounds[tokens]) = (o.values[heads], o.bounds[heads])
        }
        return f
    }

    /// `body(heads, tokens)` for every element (b, h, i, c): its flat index in the `[b, h, n, d]`
    /// layout and in the `[b·n, h·d]` one.
    private static func forEachElement(
        batch: Int, heads: Int, length n: Int, headDim d: Int, _ body: (Int, Int) -> Void
    ) {
        for bi in 0..<batch {
            for hi in 0..<heads {
                for i in 0..<n {
                    for c in 0..<d { body(((bi * heads + hi) * n + i) * d + c, (bi * n + i) * heads * d + hi * d + c) }
                }
            }
        }
    }

    // MARK: - Products

    /// y = x·W + bias + residual: `[T, p]·[p, q] → [T, q]`, bound γ(p + extras)·(Σ|x w| + |b| + |r|)
    /// + Σ δx·|w| + δr.
    static func product(_ x: Field, _ w: MatrixView, bias: Tensor? = nil, residual: Field? = nil) -> Field {
        precondition(x.cols == w.rows, "reference product: [\(x.rows), \(x.cols)]·[\(w.rows), \(w.cols)]")
        let terms = w.rows + (bias == nil ? 0 : 1) + (residual == nil ? 0 : 1)
        var y = Field(rows: x.rows, cols: w.cols)
        for i in 0..<x.rows {
            for j in 0..<w.cols {
                var value = 0.0
                var magnitude = 0.0
                var propagated = 0.0
                for k in 0..<x.cols {
                    let wkj = Double(w[k, j])
                    value += x[i, k] * wkj
                    magnitude += abs(x[i, k] * wkj)
                    propagated += x.bound(i, k) * abs(wkj)
                }
                if let bias {
                    value += Double(bias.data[j])
                    magnitude += abs(Double(bias.data[j]))
                }
                if let residual {
                    value += residual[i, j]
                    magnitude += abs(residual[i, j])
                    propagated += residual.bound(i, j)
                }
                y.values[i * w.cols + j] = value
                y.bounds[i * w.cols + j] = gamma(terms) * magnitude + propagated
            }
        }
        return y
    }

    /// y = Σ_t g_t·W_tᵀ + residual: `[T, q]·[q, p] → [T, p]` for each pair, summed (the backward of
    /// one or more products), bound γ(Σ q + 1)·(Σ|g w| + |r|) + Σ δg·|w| + δr.
    static func productTransposed(_ pairs: [(g: Field, w: MatrixView)], residual: Field? = nil) -> Field {
        let (rows, cols) = (pairs[0].g.rows, pairs[0].w.rows)
        let terms = pairs.reduce(0) { $0 + $1.w.cols } + (residual == nil ? 0 : 1)
        var y = Field(rows: rows, cols: cols)
        for i in 0..<rows {
            for k in 0..<cols {
                var value = 0.0
                var magnitude = 0.0
                var propagated = 0.0
                for (g, w) in pairs {
                    precondition(
                        g.cols == w.cols && g.rows == rows && w.rows == cols, "reference backward product shapes")
                    for j in 0..<g.cols {
                        let wkj = Double(w[k, j])
                        value += g[i, j] * wkj
                        magnitude += abs(g[i, j] * wkj)
                        propagated += g.bound(i, j) * abs(wkj)
                    }
                }
                if let residual {
                    value += residual[i, k]
                    magnitude += abs(residual[i, k])
                    propagated += residual.bound(i, k)
                }
                y.values[i * cols + k] = value
                y.bounds[i * cols + k] = gamma(terms) * magnitude + propagated
            }
        }
        return y
    }

    /// xᵀ·g: `[p, T]·[T, q] → [p, q]` (a weight's gradient), bound γ(T)·Σ|x g| + Σ (δx·|g| + |x|·δg).
    static func weightGradient(_ x: Field, _ g: Field) -> Field {
        precondition(x.rows == g.rows, "reference weight gradient: \(x.rows) and \(g.rows) rows")
        var y = Field(rows: x.cols, cols: g.cols)
        for k in 0..<x.cols {
            for j in 0..<g.cols {
                var value = 0.0
                var magnitude = 0.0
                var propagated = 0.0
                for i in 0..<x.rows {
                    value += x[i, k] * g[i, j]
                    magnitude += abs(x[i, k] * g[i, j])
                    propagated += x.bound(i, k) * abs(g[i, j]) + abs(x[i, k]) * g.bound(i, j)
                }
                y.values[k * g.cols + j] = value
                y.bounds[k * g.cols + j] = gamma(x.rows) * magnitude + propagated
            }
        }
        return y
    }

    /// Σ_rows g: `[1, q]` (a bias's gradient), bound γ(T)·Σ|g| + Σ δg.
    static func columnSums(_ g: Field) -> Field {
        var y = Field(rows: 1, cols: g.cols)
        for j in 0..<g.cols {
            var value = 0.0
            var magnitude = 0.0
            var propagated = 0.0
            for i in 0..<g.rows {
                value += g[i, j]
                magnitude += abs(g[i, j])
                propagated += g.bound(i, j)
            }
            y.values[j] = value
            y.bounds[j] = gamma(g.rows) * magnitude + propagated
        }
        return y
    }

    /// a ∘ b, element-wise: one rounding, u·|ab| + δa·|b| + |a|·δb.
    static func hadamard(_ a: Field, _ b: Field) -> Field {
        var y = Field(rows: a.rows, cols: a.cols)
        for i in 0..<a.values.count {
            let value = a.values[i] * b.values[i]
            y.values[i] = value
            y.bounds[i] = u * abs(value) + a.bounds[i] * abs(b.values[i]) + abs(a.values[i]) * b.bounds[i]
        }
        return y
    }

    // MARK: - GELU

    /// exp(−2r(x)), and −2r(x), exactly.
    static func geluExponent(_ x: Double) -> (e: Double, argument: Double) {
        let argument = -2 * geluC * (x + geluA * x * x * x)
        return (exp(argument), argument)
    }

    /// GELU(x) = x/(1 + exp(−2r)) element-wise, with the bound derived in the type's comment.
    static func gelu(_ x: Field) -> Field {
        var y = Field(rows: x.rows, cols: x.cols)
        for i in 0..<x.values.count {
            let v = x.values[i]
            let (e, argument) = geluExponent(v)
            let value = v / (1 + e)
            var bound = (6 * u + 7 * u * abs(argument)) * abs(value) + abs(geluDerivativeValue(v)) * x.bounds[i]
            if abs(argument) > expRange { bound += 2 * abs(v) * exp(-expRange) }
            y.values[i] = value
            y.bounds[i] = bound
        }
        return y
    }

    /// GELU′(x), exactly: s + x·2r′·s·(1 − s), s = 1/(1 + e), 1 − s = e·s.
    static func geluDerivativeValue(_ x: Double) -> Double {
        let (e, _) = geluExponent(x)
        let s = 1 / (1 + e)
        return s + 2 * geluC * x * (1 + 3 * geluA * x * x) * (e * s) * s
    }

    /// GELU″(x), exactly: with r′ = c(1 + 3a x²), r″ = 6a c x, s′ = 2r′·s(1 − s),
    /// s″ = 2r″·s(1 − s) + 2r′·s′·(1 − 2s): GELU″ = 2s′ + x·s″.
    static func geluSecondDerivative(_ x: Double) -> Double {
        let (e, _) = geluExponent(x)
        let s = 1 / (1 + e)
        let sm = e * s  // s and 1 − s
        let (r1, r2) = (geluC * (1 + 3 * geluA * x * x), 6 * geluA * geluC * x)
        let s1 = 2 * r1 * s * sm
        let s2 = 2 * r2 * s * sm + 2 * r1 * s1 * (sm - s)
        return 2 * s1 + x * s2
    }

    /// GELU′(x) element-wise, with the bound derived in the type's comment.
    static func geluDerivative(_ x: Field) -> Field {
        var y = Field(rows: x.rows, cols: x.cols)
        for i in 0..<x.values.count {
            let v = x.values[i]
            let (e, argument) = geluExponent(v)
            let rhoE = 4 * u + 7 * u * abs(argument)
            let s = 1 / (1 + e)
            let rhoS = 2 * u + rhoE
            let slope = 2 * geluC * v * (1 + 3 * geluA * v * v)
            let term = slope * (e * s) * s
            let rhoTerm = 7 * u + (rhoE + rhoS + u) + rhoS + 2 * u
            let value = s + term
            var bound = rhoS * s + rhoTerm * abs(term) + u * abs(value) + abs(geluSecondDerivative(v)) * x.bounds[i]
            if abs(argument) > expRange { bound += 2 * (1 + abs(slope)) * exp(-expRange) }
            y.values[i] = value
            y.bounds[i] = bound
        }
        return y
    }

    // MARK: - LayerNorm

    /// One LayerNorm over the rows of `z` (bounded), as derived in the type's comment.
    struct Normalized {
        /// y = γ ∘ x̂ + β, x̂, and r = 1/√(σ² + ε) (`[T, 1]`).
        var output, normalized, inverseStd: Field
    }

    static func layerNorm(_ z: Field, gamma: Tensor, beta: Tensor) -> Normalized {
        let (rows, d) = (z.rows, z.cols)
        var out = Normalized(
            output: Field(rows: rows, cols: d), normalized: Field(rows: rows, cols: d),
            inverseStd: Field(rows: rows, cols: 1))
        let dd = Double(d)
        for i in 0..<rows {
            var (sum, magnitude) = (0.0, 0.0)
            for c in 0..<d {
                sum += z[i, c]
                magnitude += abs(z[i, c])
            }
            let mean = sum / dd
            let meanError = Self.gamma(d) * magnitude / dd
            var (squares, absolute) = (0.0, 0.0)
            for c in 0..<d {
                let centred = z[i, c] - mean
                squares += centred * centred
                absolute += abs(centred)
            }
            let variance = squares / dd
            let varianceError = Self.gamma(d + 1) * variance + 2 * meanError * absolute / dd + 2 * u * variance
            let w = variance + epsilon
            let r = 1 / w.squareRoot()
            let rho = (varianceError + u * epsilon + u * w) / (2 * w) + 2 * u
            // The input's error, through the Jacobian: mean(δz) and mean(|x̂| ∘ δz).
            var (meanInput, weightedInput) = (0.0, 0.0)
            for c in 0..<d {
                meanInput += z.bound(i, c)
                weightedInput += abs((z[i, c] - mean) * r) * z.bound(i, c)
            }
            (meanInput, weightedInput) = (meanInput / dd, weightedInput / dd)
            out.inverseStd.values[i] = r
            out.inverseStd.bounds[i] = rho * r + r * r * weightedInput
            for c in 0..<d {
                let centred = z[i, c] - mean
                let x = centred * r
                let g = Double(gamma.data[c])
                let y = g * x + Double(beta.data[c])
                let xError =
                    r * (meanError + u * abs(centred)) + abs(x) * (rho + u)
                    + r * (z.bound(i, c) + meanInput + abs(x) * weightedInput)
                (out.normalized.values[i * d + c], out.normalized.bounds[i * d + c]) = (x, xError)
                (out.output.values[i * d + c], out.output.bounds[i * d + c]) = (
                    y, abs(g) * xError + u * abs(g * x) + u * abs(y)
                )
            }
        }
        return out
    }

    /// The gradients of one LayerNorm for g = ∂L/∂y: dz, dγ and dβ (`[1, D]`), as derived in the
    /// type's comment, from the x̂ and r the kernel uses (with their forward bounds).
    static func layerNormBackward(
        _ g: Field, normalized x: Field, inverseStd r: Field, gamma: Tensor
    ) -> (dz: Field, dGamma: Field, dBeta: Field) {
        let (rows, d) = (g.rows, g.cols)
        let dd = Double(d)
        var dz = Field(rows: rows, cols: d)
        for i in 0..<rows {
            var (m1, m1Error, m2, m2Magnitude, m2Error) = (0.0, 0.0, 0.0, 0.0, 0.0)
            var tMagnitude = 0.0
            for c in 0..<d {
                let gc = Double(gamma.data[c])
                let t = gc * g[i, c]
                let tError = abs(gc) * g.bound(i, c) + u * abs(t)
                m1 += t
                tMagnitude += abs(t)
                m1Error += tError
                m2 += t * x[i, c]
                m2Magnitude += abs(t * x[i, c])
                m2Error += tError * abs(x[i, c]) + abs(t) * x.bound(i, c)
            }
            (m1, m2) = (m1 / dd, m2 / dd)
            m1Error = Self.gamma(d) * tMagnitude / dd + m1Error / dd
            m2Error = Self.gamma(d + 1) * m2Magnitude / dd + m2Error / dd
            let (ri, rError) = (r.values[i], r.bounds[i])
            for c in 0..<d {
                let gc = Double(gamma.data[c])
                let t = gc * g[i, c]
                let tError = abs(gc) * g.bound(i, c) + u * abs(t)
                let q = (t - m1) - x[i, c] * m2
                let qError =
                    u * (abs(t - m1) + abs(x[i, c] * m2) + abs(q))
                    + tError + m1Error + abs(x[i, c]) * m2Error + abs(m2) * x.bound(i, c)
                let value = ri * q
                dz.values[i * d + c] = value
                dz.bounds[i * d + c] = u * abs(value) + ri * qError + abs(q) * rError
            }
        }
        return (dz, weightGradient(ones(rows), hadamardExact(g, x)), columnSums(g))
    }

    /// A `[T, 1]` field of ones (so that Σ_rows g ∘ x̂ is ``weightGradient(_:_:)`` of it).
    private static func ones(_ rows: Int) -> Field {
        var f = Field(rows: rows, cols: 1)
        for i in 0..<rows { f.values[i] = 1 }
        return f
    }

    /// g ∘ x̂ as the terms of dγ (the kernel adds each product straight into the sum, so its rounding
    /// is the sum's: no rounding here, only the inputs' errors δg·|x̂| + |g|·δx̂).
    private static func hadamardExact(_ a: Field, _ b: Field) -> Field {
        var y = Field(rows: a.rows, cols: a.cols)
        for i in 0..<a.values.count {
            y.values[i] = a.values[i] * b.values[i]
            y.bounds[i] = a.bounds[i] * abs(b.values[i]) + abs(a.values[i]) * b.bounds[i]
        }
        return y
    }
}
