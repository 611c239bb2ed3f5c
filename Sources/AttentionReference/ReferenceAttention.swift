import AttentionKernels

#if canImport(Glibc)
    import Glibc
#endif

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

    /// A `[rows, cols]` Float64 matrix of exact values and their error bounds: an input, exact (no
    /// bounds stored, every bound 0), or a value a kernel computes that may already err (Linformer's K′
    /// and V′, a layer's Q, K, V). Every reference loop reads its operands through this one type.
    struct Bounded {
        var rows: Int, cols: Int
        var values: [Double]
        /// Row-major like `values`; empty for an exact matrix (``bound(_:_:)`` reads 0).
        var bounds: [Double]

        init(rows: Int, cols: Int) {
            (self.rows, self.cols) = (rows, cols)
            values = [Double](repeating: 0, count: rows * cols)
            bounds = values
        }

        /// An exact float32 input, its bounds stored as zeros (for callers that write bounds later).
        init(_ m: MatrixView) {
            self = Self.exact(m)
            bounds = [Double](repeating: 0, count: rows * cols)
        }

        /// An exact float32 input: the values only (O(rows·cols) doubles, no bound array).
        static func exact(_ m: MatrixView) -> Self {
            var matrix = Self(rows: 0, cols: 0)
            (matrix.rows, matrix.cols) = (m.rows, m.cols)
            matrix.values.reserveCapacity(m.rows * m.cols)
            for i in 0..<m.rows { for c in 0..<m.cols { matrix.values.append(Double(m[i, c])) } }
            return matrix
        }

        /// Slice `s` (`[rows, cols]`) of a `[slices, rows, cols]`-ordered output.
        init(_ o: Output, slice s: Int, rows: Int, cols: Int) {
            (self.rows, self.cols) = (rows, cols)
            let range = (s * rows * cols)..<((s + 1) * rows * cols)
            (values, bounds) = (Array(o.values[range]), Array(o.bounds[range]))
        }

        subscript(i: Int, c: Int) -> Double { values[i * cols + c] }
        func bound(_ i: Int, _ c: Int) -> Double { bounds.isEmpty ? 0 : bounds[i * cols + c] }

        /// `[cols, rows]`, the bounds with the values (none for an exact matrix).
        var transposed: Bounded {
            var t = Bounded(rows: 0, cols: 0)
            (t.rows, t.cols) = (cols, rows)
            for c in 0..<cols { for i in 0..<rows { t.values.append(values[i * cols + c]) } }
            if !bounds.isEmpty { for c in 0..<cols { for i in 0..<rows { t.bounds.append(bounds[i * cols + c]) } } }
            return t
        }
        var output: Output { Output(values: values, bounds: bounds) }
    }

    /// The inputs of one (batch, head) slice: Q, K, V `[n, d]`.
    typealias SliceInputs = (q: Bounded, k: Bounded, v: Bounded)

    // MARK: - Standard attention

    /// softmax(Q Kᵀ/√d) V in Float64 (causal: keys j ≤ i).
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
    /// The loops are ``attentionRow(_:q:keys:values:causal:rescalings:)``'s: O(n²d) time, O(n) extra
    /// memory per row.
    public static func standard(q: Tensor, k: Tensor, v: Tensor, causal: Bool, rescalings: Int = 0) -> Output {
        let shape = AttentionShape(of: q)
        return perSlice(shape) { s in
            softmaxSlice(exactSlice(s, q, k, v), causal: causal, rescalings: rescalings)
        }
    }

    /// One row of softmax(Q Kᵀ/√d) V over one slice, from inputs that may already err: what the
    /// forward references, the layer's end-to-end reference, the gradients' forward rows and
    /// Linformer's approximation error all compute, in one place.
    struct AttentionRow {
        /// s_j = q_i·k_j/√d over the visible keys.
        var scores: [Double]
        /// softmax(s), and the relative error factor of a float32 weighted sum over it
        /// (``softmaxRow(_:scoreError:terms:rescalings:)``).
        var probabilities: [Double]
        var errorFactor: Double
        /// out_i `[d]` and its bound: factor·Σ_j p_j|v_jc| + Σ_j p_j·δv_jc.
        var values: [Double]
        var bounds: [Double]
    }

    /// Row i of softmax(Q Kᵀ/√d) V, Q `[n, d]`, keys and values `[m, d]`, causal: keys j ≤ i. With
    /// input bounds δ (zero for exact inputs, where this is ``standard(q:k:v:causal:rescalings:)``'s
    /// derivation), a score s_ij also gains Σ_l (δq_il·|k_jl| + |q_il|·δk_jl)/√d, which enters the row's
    /// score error e_s (a weight's relative error 2e_s), and the output gains Σ_j p_ij·δv_jc.
    /// Cost O(m·d) time, O(m + d) memory.
    static func attentionRow(
        _ i: Int, q: Bounded, keys: Bounded, values: Bounded, causal: Bool, rescalings: Int
    ) -> AttentionRow {
        let (d, m) = (q.cols, keys.rows)
        let scale = 1 / Double(d).squareRoot()
        let visible = causal ? i + 1 : m
        var scores = [Double](repeating: 0, count: visible)
        var scoreError = 0.0
        for j in 0..<visible {
            // [d]·[d] → [1]: s_ij, Σ|q k| and the propagated input error.
            var dot = 0.0
            var magnitude = 0.0
            var propagated = 0.0
            for l in 0..<d {
                let (ql, kl) = (q[i, l], keys[j, l])
                dot += ql * kl
                magnitude += abs(ql * kl)
                propagated += q.bound(i, l) * abs(kl) + abs(ql) * keys.bound(j, l)
            }
            scores[j] = dot * scale
            scoreError = max(scoreError, (gamma(d + 2) * magnitude + propagated) * scale)
        }
        let (p, factor) = softmaxRow(scores, scoreError: scoreError, terms: m, rescalings: rescalings)
        var (out, bounds) = ([Double](repeating: 0, count: d), [Double](repeating: 0, count: d))
        for c in 0..<d {
            // [visible]·[visible, d] → [d], one column at a time.
            var value = 0.0
            var magnitude = 0.0
            var propagated = 0.0
            for j in 0..<visible {
                value += p[j] * values[j, c]
                magnitude += p[j] * abs(values[j, c])
                propagated += p[j] * values.bound(j, c)
            }
            (out[c], bounds[c]) = (value, factor * magnitude + propagated)
        }
        return AttentionRow(scores: scores, probabilities: p, errorFactor: factor, values: out, bounds: bounds)
    }

    /// softmax(Q Kᵀ/√d) V over one slice, `[n, d]`: every row by
    /// ``attentionRow(_:q:keys:values:causal:rescalings:)``.
    static func softmaxSlice(_ x: SliceInputs, causal: Bool, rescalings: Int) -> Bounded {
        var out = Bounded(rows: x.q.rows, cols: x.q.cols)
        let d = x.q.cols
        for i in 0..<x.q.rows {
            let row = attentionRow(i, q: x.q, keys: x.k, values: x.v, causal: causal, rescalings: rescalings)
            out.values.replaceSubrange((i * d)..<((i + 1) * d), with: row.values)
            out.bounds.replaceSubrange((i * d)..<((i + 1) * d), with: row.bounds)
        }
        return out
    }

    /// The exact rows `rows` of softmax(Q Kᵀ/√d) V over one slice of float32 inputs (non-causal):
    /// Linformer's approximation error compares its output with these. O(n·d) doubles for K and V,
    /// O(|rows|·n·d) time.
    public static func standardRows(_ rows: [Int], q: MatrixView, k: MatrixView, v: MatrixView) -> [[Double]] {
        var queries = Bounded(rows: 0, cols: 0)
        (queries.rows, queries.cols) = (rows.count, q.cols)
        for i in rows { for l in 0..<q.cols { queries.values.append(Double(q[i, l])) } }
        let (keys, values) = (Bounded.exact(k), Bounded.exact(v))
        return rows.indices.map {
            attentionRow($0, q: queries, keys: keys, values: values, causal: false, rescalings: 0).values
        }
    }

    /// Softmax probabilities of one row of Float64 scores, and the relative error factor of a float32
    /// kernel's weighted sum over them, as derived in ``standard(q:k:v:causal:rescalings:)``:
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
    /// Bound: K' = E K and V' = F V are n-term sums, so |δK'_rl| ≤ γ(n)·Σ_j|E_rj K_jl| (likewise V',
    /// ``product(_:_:)``). Each score then errs by ≤ (γ(d+2)·Σ_l|q_il K'_rl| + Σ_l|q_il|·|δK'_rl|)/√d; from
    /// there as in ``standard(q:k:v:causal:rescalings:)`` over k columns, plus Σ_r p_r |δV'_rc| for the
    /// projected values. O(nkd) time.
    public static func linformer(q: Tensor, k: Tensor, v: Tensor, projections: LinformerProjections) -> Output {
        let shape = AttentionShape(of: q)
        return perSlice(shape) { s in
            linformerSlice(exactSlice(s, q, k, v), projections: projections, head: s % shape.heads)
        }
    }

    /// One slice of Linformer: K′ = E K, V′ = F V (``product(_:_:)``), then softmax attention over them.
    static func linformerSlice(_ x: SliceInputs, projections: LinformerProjections, head: Int) -> Bounded {
        // [k, n]·[n, d] → [k, d] each
        let (keys, values) = (product(projections.e(head: head), x.k), product(projections.f(head: head), x.v))
        return softmaxSlice((x.q, keys, values), causal: false, rescalings: 0)
    }

    /// P·X in Float64 for an exact float32 P `[k, n]` and a bounded X `[n, d]`: `[k, n]·[n, d] → [k, d]`,
    /// with bounds γ(n)·Σ_j|P_rj X_jl| (the n-term sum) + Σ_j |P_rj|·δX_jl (X's own error). O(knd) time.
    /// Linformer's K′ = E K and V′ = F V, and the gradients' dP = dO Vᵀ.
    static func product(_ p: MatrixView, _ x: Bounded) -> Bounded {
        let (kp, n, d) = (p.rows, x.rows, x.cols)
        precondition(p.cols == n, "reference product: [\(kp), \(p.cols)]·[\(n), \(d)]")
        var out = Bounded(rows: kp, cols: d)
        for r in 0..<kp {
            for l in 0..<d {
                var sum = 0.0
                var magnitude = 0.0
                var propagated = 0.0
                for j in 0..<n {
                    let pr = Double(p[r, j])
                    sum += pr * x[j, l]
                    magnitude += abs(pr * x[j, l])
                    propagated += abs(pr) * x.bound(j, l)
                }
                (out.values[r * d + l], out.bounds[r * d + l]) = (sum, gamma(n) * magnitude + propagated)
            }
        }
        return out
    }

    // MARK: - Linear attention

    /// φ(q_i)ᵀ Σ_j φ(k_j) v_jᵀ / (φ(q_i)ᵀ Σ_j φ(k_j) + ε) in Float64 (causal: j ≤ i).
    ///
    /// Bound: with φ > 0 every product in the denominator is positive, so it has relative error
    /// ≤ γ(n) + γ(d+1) + 2·4u (the two sums and the two φ's). The numerator num_c errs by
    /// ≤ (γ(n) + γ(d) + 2·4u)·A_c with A_c = Σ_l φ(q_il) Σ_j φ(k_jl)|v_jc|. Dividing:
    /// |error| ≤ (γ(n) + γ(d+1) + 8u)·(A_c/den + |out_c|) + u·|out_c|. O(nd²) time, O(d²) memory.
    public static func linear(q: Tensor, k: Tensor, v: Tensor, causal: Bool, epsilon: Double = 1e-6) -> Output {
        perSlice(AttentionShape(of: q)) { s in linearSlice(exactSlice(s, q, k, v), causal: causal, epsilon: epsilon) }
    }

    /// One slice of linear attention, `[n, d]`, from inputs that may already err (zero bounds: exactly
    /// ``linear(q:k:v:causal:epsilon:)``'s derivation). Input errors propagate to first order:
    /// φ(x) gains φ′(x)·δx (φ′ = 1 for x > 0, eˣ below); the numerator num_c = Σ_l φ(q_l) Σ_j φ(k_jl) v_jc
    /// gains Σ_l Σ_j (δφ(q_l)·φ(k_jl)·|v_jc| + φ(q_l)·δφ(k_jl)·|v_jc| + φ(q_l)·φ(k_jl)·δv_jc), the
    /// denominator den = Σ_l φ(q_l) Σ_j φ(k_jl) + ε gains Σ_l (δφ(q_l)·z_l + φ(q_l)·Σ_j δφ(k_jl)), and
    /// out = num/den gains δnum/den + |out|·δden/den.
    static func linearSlice(_ x: SliceInputs, causal: Bool, epsilon: Double) -> Bounded {
        let (q, k, v) = x
        func phi(_ x: Double) -> Double { x > 0 ? x + 1 : exp(x) }
        func slope(_ x: Double) -> Double { x > 0 ? 1 : exp(x) }
        // φ of an input that errs by δx: φ′(x)·δx, plus φ's own rounding (4u, in the contraction's factor).
        func features(_ x: Bounded) -> Bounded {
            var f = Bounded(rows: x.rows, cols: x.cols)
            for i in 0..<x.rows {
                for l in 0..<x.cols {
                    (f.values[i * x.cols + l], f.bounds[i * x.cols + l]) = (
                        phi(x[i, l]), slope(x[i, l]) * x.bound(i, l)
                    )
                }
            }
            return f
        }
        return contractSlice(
            phiQ: features(q), phiK: features(k), v: v, causal: causal, epsilon: epsilon,
            featureRounding: elementwiseError)
    }

    /// Linear attention's contraction of one slice over given features Φq, Φk (`[n, m]`, positive,
    /// with the bounds of their propagated errors) and V (`[n, d]`), in Float64: the reference half
    /// of the kernels' feature-map seam (linear attention's φ, Performer's random features).
    /// `featureRounding` is the relative error of one float32 feature evaluation beyond its bound.
    ///
    /// Bound: with every feature positive the denominator has no cancellation; it errs relatively
    /// by ≤ γ(n) + γ(m+1) + 2·ρ (the two sums and the two features' rounding ρ), and the numerator
    /// num_c by ≤ (γ(n) + γ(m) + 2ρ)·A_c with A_c = Σ_l φ(q_il) Σ_j φ(k_jl)|v_jc|; propagated feature
    /// and value errors add Σ_l Σ_j (δφ(q_l)·φ(k_jl)·|v_jc| + φ(q_l)·δφ(k_jl)·|v_jc| + φ(q_l)·φ(k_jl)·δv_jc)
    /// to the numerator and Σ_l (δφ(q_l)·z_l + φ(q_l)·Σ_j δφ(k_jl)) to the denominator; out = num/den
    /// gains δnum/den + |out|·δden/den. O(n·m·d) time, O(m·d) memory.
    static func contractSlice(
        phiQ fq: Bounded, phiK fk: Bounded, v: Bounded, causal: Bool, epsilon: Double, featureRounding rho: Double
    ) -> Bounded {
        let (n, m, d) = (fq.rows, fq.cols, v.cols)
        let factor = gamma(n) + gamma(m + 1) + 2 * rho
        var out = Bounded(rows: n, cols: d)
        // Running sums over the keys seen: S = Σ φ(k) vᵀ, its magnitude Σ φ(k)|v|ᵀ, z = Σ φ(k), and
        // the propagation terms Σ δφ(k)|v|ᵀ, Σ φ(k) δvᵀ, Σ δφ(k).
        var state = [Double](repeating: 0, count: m * d)
        var magnitude = state
        var keyErrors = state
        var valueErrors = state
        var keySum = [Double](repeating: 0, count: m)
        var keySumError = keySum
        func accumulate(_ j: Int) {
            for l in 0..<m {
                let (a, da) = (fk[j, l], fk.bound(j, l))
                keySum[l] += a
                keySumError[l] += da
                // [m]⊗[d] → [m, d], row l: S += φ(k_j) v_jᵀ
                for c in 0..<d {
                    let vc = v[j, c]
                    state[l * d + c] += a * vc
                    magnitude[l * d + c] += a * abs(vc)
                    keyErrors[l * d + c] += da * abs(vc)
                    valueErrors[l * d + c] += a * v.bound(j, c)
                }
            }
        }
        if !causal { for j in 0..<n { accumulate(j) } }
        for i in 0..<n {
            if causal { accumulate(i) }
            var (denominator, denominatorError) = (epsilon, 0.0)
            for l in 0..<m {
                denominator += fq[i, l] * keySum[l]
                denominatorError += fq.bound(i, l) * keySum[l] + fq[i, l] * keySumError[l]
            }
            for c in 0..<d {
                // [m]·[m, d] → [d], column c: φ(q_i)ᵀ S
                var (numerator, a, numeratorError) = (0.0, 0.0, 0.0)
                for l in 0..<m {
                    numerator += fq[i, l] * state[l * d + c]
                    a += fq[i, l] * magnitude[l * d + c]
                    numeratorError +=
                        fq.bound(i, l) * magnitude[l * d + c]
                        + fq[i, l] * (keyErrors[l * d + c] + valueErrors[l * d + c])
                }
                let value = numerator / denominator
                let rounding = factor * (a / denominator + abs(value)) + u * abs(value)
                let propagated = numeratorError / denominator + abs(value) * denominatorError / denominator
                (out.values[i * d + c], out.bounds[i * d + c]) = (value, rounding + propagated)
            }
        }
        return out
    }

    // MARK: - Slices

    /// Slice s of float32 tensors as exact inputs.
    static func exactSlice(_ s: Int, _ q: Tensor, _ k: Tensor, _ v: Tensor) -> SliceInputs {
        (.exact(q.matrix(s)), .exact(k.matrix(s)), .exact(v.matrix(s)))
    }

    /// A `[b, h, n, d]`-ordered output from `slice(s)` `[n, d]` for every slice s.
    static func perSlice(_ shape: AttentionShape, _ slice: (Int) -> Bounded) -> Output {
        let size = shape.length * shape.headDim
        var out = Output.zeros(shape.slices * size)
        for s in 0..<shape.slices { out.place(slice(s), at: s * size) }
        return out
    }

    /// The reference for any of the suite's kernels.
    public static func output(of kernel: any AttentionKernel, q: Tensor, k: Tensor, v: Tensor) -> Output {
        output(of: kernel, shape: AttentionShape(of: q)) { s in exactSlice(s, q, k, v) }
    }

    /// The reference for any of the suite's kernels on `shape`, slice by slice from `inputs(s)` (exact
    /// tensors, or a layer's Float64 Q, K, V with their bounds): the one place a kernel picks its reference.
    static func output(of kernel: any AttentionKernel, shape: AttentionShape, inputs: (Int) -> SliceInputs) -> Output {
        switch kernel {
        case let projected as LinformerAttention:
            return perSlice(shape) { s in
                linformerSlice(inputs(s), projections: projected.projections, head: s % shape.heads)
            }
        case let linearKernel as LinearAttention:
            let epsilon = Double(linearKernel.epsilon)
            return perSlice(shape) { s in linearSlice(inputs(s), causal: linearKernel.isCausal, epsilon: epsilon) }
        case let performer as PerformerAttention:
            return perSlice(shape) { s in performerSlice(inputs(s), kernel: performer) }
        case let lsh as LSHAttention:
            return perSlice(shape) { s in
                let x = inputs(s)
                return lshSlice(x, orders: lshOrders(of: lsh, q: x.q), chunk: lsh.chunk, causal: lsh.isCausal)
            }
        case let flash as FlashAttention:
            let rescalings = max(flash.keyBlocks(length: shape.length) - 1, 0)
            return perSlice(shape) { s in softmaxSlice(inputs(s), causal: flash.isCausal, rescalings: rescalings) }
        default:
            precondition(kernel.mechanism == .standard, "no reference for \(kernel.name)")
            return perSlice(shape) { s in softmaxSlice(inputs(s), causal: kernel.isCausal, rescalings: 0) }
        }
    }
}
