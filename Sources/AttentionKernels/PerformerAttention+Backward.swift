/// The backward pass of FAVOR+: linear attention's backward over the m features, then the feature
/// map's chain rule (``RandomFeatures/backward(featureGradient:features:input:query:into:)``):
///
///     ∇φ(Q), ∇φ(K), ∇V   from the contraction (non-causal: ``LinearAttention/contractBackward``;
///                        causal: prefix sums over i for ∇φ(Q), suffix sums over j for ∇φ(K), ∇V)
///     dQ = (∇φ(Q) ∘ Φq) W,   dK = (∇φ(K) ∘ Φk) W − rowsum(∇φ(K) ∘ Φk) · K/√d
///
/// The causal sums are "Transformers are RNNs" §3.3.1 with the normaliser's terms, as in
/// ``LinearAttention``'s causal backward, over feature rows computed once by the forward (that
/// backward recomputes its element-wise φ inside the loops; FAVOR+'s φ is a product, so it is
/// kept): S_i (`[m, d]`, stored transposed) and z_i run forward, R_j and y_j backward, each one
/// `[m, d]` matrix and one m-vector per slice.
///
/// Saved: the forward's Φq, Φk, S and z (all its intermediates). Backward cost: non-causal
/// `b·h·(12·n·m·d + 13·n·m + 3·n·d)` FLOPs (the contraction's four products, the two chain-rule
/// products), causal `b·h·(14·n·m·d + 14·n·m + 3·n·d)`; intermediates `b·h·(2·n·m + m·d + m + n)`
/// floats (∇φ(Q), ∇φ(K), ∂L/∂S or R, ∂L/∂z or y, a) plus, causal, d floats; gradients `3·b·h·n·d`.
extension PerformerAttention: DifferentiableAttention {
    public func trainingForward(q: Tensor, k: Tensor, v: Tensor) -> (output: Tensor, saved: Saved) {
        forward(q: q, k: k, v: v)
    }

    public func backward(
        q: Tensor, k: Tensor, v: Tensor, output: Tensor, saved: Saved, outputGradient: Tensor
    ) -> AttentionGradients {
        let shape = checkedBackwardShape(q: q, k: k, v: v, output: output, outputGradient: outputGradient)
        let (n, d, m) = (shape.length, shape.headDim, features.count)
        // ∂L/∂S or R: [b, h, m, d]
        let stateGradient = Tensor(uninitialized: [shape.batch, shape.heads, m, d], label: "∂L/∂S")
        // ∂L/∂z or y: [b, h, 1, m]
        let sumGradient = Tensor(uninitialized: [shape.batch, shape.heads, 1, m], label: "∂L/∂z")
        // a_i: [b, h, 1, n]
        let normaliser = Tensor(uninitialized: [shape.batch, shape.heads, 1, n], label: "normaliser a")
        let phiQGradient = Tensor(uninitialized: [shape.batch, shape.heads, n, m], label: "∇φ(Q)")  // [b, h, n, m]
        let phiKGradient = Tensor(uninitialized: [shape.batch, shape.heads, n, m], label: "∇φ(K)")  // [b, h, n, m]
        // [b, h, 1, d]
        let accumulators =
            isCausal ? Tensor(uninitialized: [shape.batch, shape.heads, 1, d], label: "causal accumulators") : nil
        let dq = Tensor(uninitialized: shape.dims, label: "dQ")  // [b, h, n, d]
        let dk = Tensor(uninitialized: shape.dims, label: "dK")  // [b, h, n, d]
        // [b, h, n, d]; holds g until the contraction's backward ends
        let dv = Tensor(uninitialized: shape.dims, label: "dV (holds g)")
        let (eps, map) = (epsilon, features)

        ComputeThreads.forEachSlice(shape.slices) { s, _ in
            let (fq, fk) = (saved.phiQ.matrix(s), saved.phiK.matrix(s))
            let scratch = (stateGradient.matrix(s), sumGradient.matrix(s).row(0), normaliser.matrix(s).row(0))
            let (dPhiQ, dPhiK) = (phiQGradient.matrix(s), phiKGradient.matrix(s))
            var clock = PhaseClock.start()
            if let accumulators {
                Self.causalContractBackward(
                    phiQ: fq, phiK: fk, v: v.matrix(s), output: output.matrix(s),
                    outputGradient: outputGradient.matrix(s),
                    scratch: scratch, accumulator: accumulators.matrix(s).row(0), phiQGradient: dPhiQ,
                    phiKGradient: dPhiK, valueGradient: dv.matrix(s), epsilon: eps)
                clock.lap(LinearAttention.backwardPhases.recurrence)
            } else {
                LinearAttention.contractBackward(
                    phiQ: fq, phiK: fk, state: saved.state.matrix(s), keySum: saved.keySum.matrix(s).row(0),
                    v: v.matrix(s), output: output.matrix(s), outputGradient: outputGradient.matrix(s),
                    scratch: scratch, phiQGradient: dPhiQ, phiKGradient: dPhiK, valueGradient: dv.matrix(s),
                    epsilon: eps)
                clock.skip()  // the contraction marks its own passes
            }
            map.backward(featureGradient: dPhiQ, features: fq, input: q.matrix(s), query: true, into: dq.matrix(s))
            map.backward(featureGradient: dPhiK, features: fk, input: k.matrix(s), query: false, into: dk.matrix(s))
            clock.lap(Self.featureBackward)
        }
        return AttentionGradients(q: dq, k: dk, v: dv)
    }

    /// The causal backward of one slice over its feature rows: pass 1 runs forward over i with the
    /// prefix sums S_i (kept transposed, `[d, m]`: row c is S_i[:, c]) and z_i, giving
    /// ∇φ(q_i) = S_i g_i + a_i z_i; pass 2 runs backward over j with the suffix sums R_j
    /// (`[m, d]`) and y_j, giving ∇φ(k_j) = R_j v_j + y_j and ∇v_j = R_jᵀ φ(k_j). g_i waits in
    /// ∇V's row i until step i of pass 2 replaces it. `10·n·m·d + 10·n·m` FLOPs.
    static func causalContractBackward(
        phiQ fq: MatrixView, phiK fk: MatrixView, v: MatrixView, output o: MatrixView, outputGradient dO: MatrixView,
        scratch: (MatrixView, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>),
        accumulator: UnsafeMutablePointer<Float>, phiQGradient dPhiQ: MatrixView, phiKGradient dPhiK: MatrixView,
        valueGradient dv: MatrixView, epsilon eps: Float
    ) {
        let (n, m, d) = (fq.rows, fq.cols, v.cols)
        let (sums, vector, a) = scratch
        // S_iᵀ viewed as [d, m] over the same m·d floats.
        let transposed = MatrixView(base: sums.base, rows: d, cols: m)
        transposed.base.update(repeating: 0, count: m * d)
        vector.update(repeating: 0, count: m)
        for i in 0..<n {
            let (phiQ, phiK, vRow, g, gradient) = (fq.row(i), fk.row(i), v.row(i), dv.row(i), dPhiQ.row(i))
            for l in 0..<m { vector[l] += phiK[l] }
            let inverse = 1 / (Lanes.dot(phiQ, vector, count: m) + eps)
            let dORow = dO.row(i)
            for c in 0..<d { g[c] = dORow[c] * inverse }
            a[i] = -Lanes.dot(dORow, o.row(i), count: d) * inverse
            gradient.update(repeating: 0, count: m)
            for c in 0..<d {
                // [m]⊗[d] → row c of S_iᵀ, fused with S_i g_i += g_ic S_i[:, c]
                Lanes.accumulate(into: transposed.row(c), vRow[c], phiK, count: m, andAdd: g[c], into: gradient)
            }
            for l in 0..<m { gradient[l] += a[i] * vector[l] }
        }
        sums.base.update(repeating: 0, count: m * d)
        vector.update(repeating: 0, count: m)
        for j in stride(from: n - 1, through: 0, by: -1) {
            let (phiQ, phiK, vRow, g, gradient) = (fq.row(j), fk.row(j), v.row(j), dv.row(j), dPhiK.row(j))
            for l in 0..<m { vector[l] += a[j] * phiQ[l] }
            accumulator.update(repeating: 0, count: d)
            for l in 0..<m {
                // [m]⊗[d] → row l of R_j, fused with (R_j v_j)_l and ∇v_j += φ(k_j)_l R_j[l, :]
                gradient[l] =
                    Lanes.accumulate(
                        into: sums.row(l), phiQ[l], g, dot: vRow, count: d, andAdd: phiK[l], into: accumulator)
                    + vector[l]
            }
            g.update(from: accumulator, count: d)  // ∇v_j replaces g_j, which R_j now holds
        }
    }

    /// The random features' chain rule, as `attnbench profile` names it.
    static let featureBackward = Phase.named("random features (backward)")

    public func backwardCost(for shape: AttentionShape) -> AttentionCost {
        Self.backwardCost(for: shape, features: features.count, causal: isCausal)
    }

    /// The backward's cost without building the features (see the extension's comment).
    public static func backwardCost(for shape: AttentionShape, features m: Int, causal: Bool) -> AttentionCost {
        let (n, d) = (shape.length, shape.headDim)
        let perSlice = Int.saturatingSum(
            .saturatingProduct(2, n, m), .saturatingProduct(m, d), m, n, causal ? d : 0)
        let (nd, dd, md) = (Double(n), Double(d), Double(m))
        let flops = causal ? 14 * nd * md * dd + 14 * nd * md : 12 * nd * md * dd + 13 * nd * md
        return AttentionCost(
            flops: Double(shape.batch) * Double(shape.heads) * (flops + 3 * nd * dd),
            intermediateBytes: AttentionCost.floats(shape.slices, perSlice),
            outputBytes: AttentionCost.floats(3, shape.slices, n, d))
    }

    /// All of the forward's intermediates: Φq, Φk, S and z.
    public func savedBytes(for shape: AttentionShape) -> Int { cost(for: shape).intermediateBytes }
}
