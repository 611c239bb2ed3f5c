/// The backward pass of linear attention, O_i = num_i / den_i with num_i = Σ_j (φ(q_i)·φ(k_j)) v_j
/// and den_i = φ(q_i)·Σ_j φ(k_j) + ε (j ≤ i when causal). For dO = ∂L/∂O, per row i:
///
///     g_i = dO_i / den_i                      (∂L/∂num_i)
///     a_i = −(dO_i · O_i) / den_i             (∂L/∂den_i: the normaliser's term)
///     ∇φ(q_i) = S_i g_i + a_i z_i             S_i = Σ_j φ(k_j) v_jᵀ, z_i = Σ_j φ(k_j)
///     ∇φ(k_j) = R_j v_j + y_j                 R_j = Σ_i φ(q_i) g_iᵀ, y_j = Σ_i a_i φ(q_i)  (i ≥ j when causal)
///     ∇v_j    = R_jᵀ φ(k_j)
///     dQ = ∇φ(Q) ∘ φ′(Q),  dK = ∇φ(K) ∘ φ′(K),  φ′(x) = 1 for x > 0, eˣ for x ≤ 0
///
/// Non-causal, S, z, R and y are the same for every row: the GEMM form. Causal, they are the
/// "Transformers are RNNs" gradient of §3.3.1 (Eqs. 13–15) plus the normaliser's terms: S_i, z_i are
/// prefix sums, run forward over i (∇φ(Q)), and R_j, y_j suffix sums, run backward over j (∇φ(K),
/// ∇V). Each is one `[d, d]` matrix and one d-vector per slice, updated in place, so the backward
/// needs O(n·d) memory per slice (its gradients) and never the O(n·d²) of the stored S_i that
/// autograd through the forward recurrence would keep.
///
/// What the forward keeps: non-causal, its φ(Q), φ(K) (`[b, h, n, d]` each), the state S and z, all of
/// its intermediates (`b·h·(2nd + d² + d)` floats); causal, nothing but the output: like
/// fast-transformers' `causal_dot_product`, the backward recomputes φ and the prefix sums from Q, K, V.
///
/// Backward cost: non-causal `b·h·(8·n·d² + 9·n·d)` FLOPs (four `2·n·d²` products and the
/// normaliser's terms), intermediates `b·h·(d² + d + n)` floats (∂L/∂S, ∂L/∂z and a; g is staged in
/// dK's rows); causal `b·h·(10·n·d² + 10·n·d)` FLOPs (per step: the prefix update and S_i g_i,
/// then the suffix update, R_j v_j and R_jᵀ φ(k_j)), intermediates `b·h·(d² + 4d + n)` floats (one
/// `[d, d]` sum and one d-vector, reused by both passes; φ(q), φ(k) and an accumulator row; a; g is
/// staged in dV's rows and φ(k_i), computed in pass 1, in dK's rows for pass 2). Both return the
/// three gradients, `3·b·h·n·d` floats. So a causal training step peaks at the output, the three
/// gradients and O(d² + n) per slice: about 4× the forward's heap (output and state), where keeping
/// every S_i would be ~d× it.
/// Numerics: φ′ comes from φ's value, min(φ, 1) (``FeatureMap/derivative(fromValue:)``); den_i is
/// recomputed from z (non-causal: the saved z, in the forward's order; causal: the prefix sums again);
/// the causal loops over d run 16 lanes at a time (``Lanes``), with fused multiply-adds. Pass 1 keeps
/// S_i transposed, so both of its products run along rows (as the forward's do); pass 2 needs R_j
/// both ways, so one product (R_j v_j) is a dot product per row.
extension LinearAttention: DifferentiableAttention {
    public struct Saved: Sendable {
        /// The non-causal forward's intermediates.
        public struct Features: Sendable {
            /// φ(Q), φ(K): `[b, h, n, d]`.
            public let phiQ: Tensor
            public let phiK: Tensor
            /// S = Σ_j φ(k_j) v_jᵀ: `[b, h, d, d]`.
            public let state: Tensor
            /// z = Σ_j φ(k_j): `[b, h, 1, d]`.
            public let keySum: Tensor
        }

        /// The non-causal forward's intermediates; nil for the causal form, which keeps nothing.
        public let features: Features?
    }

    public func trainingForward(q: Tensor, k: Tensor, v: Tensor) -> (output: Tensor, saved: Saved) {
        let shape = checkedShape(q: q, k: k, v: v)
        precondition(shape.headDim >= 1, "\(name): head dimension must be at least 1")
        if isCausal { return (self(q: q, k: k, v: v), Saved(features: nil)) }  // the recurrence or the chunks
        let (output, features) = nonCausal(q: q, k: k, v: v, shape: shape)
        return (output, Saved(features: features))
    }

    public func backward(
        q: Tensor, k: Tensor, v: Tensor, output: Tensor, saved: Saved, outputGradient: Tensor
    ) -> AttentionGradients {
        let shape = checkedBackwardShape(q: q, k: k, v: v, output: output, outputGradient: outputGradient)
        precondition(shape.headDim >= 1, "\(name): head dimension must be at least 1")
        if isCausal {
            return causalBackward(q: q, k: k, v: v, output: output, outputGradient: outputGradient, shape: shape)
        }
        guard let features = saved.features else {
            preconditionFailure("\(name) backward: the saved forward is a causal one")
        }
        return nonCausalBackward(
            q: q, v: v, output: output, features: features, outputGradient: outputGradient, shape: shape)
    }

    private func nonCausalBackward(
        q: Tensor, v: Tensor, output: Tensor, features: Saved.Features, outputGradient: Tensor, shape: AttentionShape
    ) -> AttentionGradients {
        let (n, d) = (shape.length, shape.headDim)
        // ∂L/∂S: [b, h, d, d]
        let stateGradient = Tensor(uninitialized: [shape.batch, shape.heads, d, d], label: "∂L/∂S")
        // ∂L/∂z: [b, h, 1, d]
        let sumGradient = Tensor(uninitialized: [shape.batch, shape.heads, 1, d], label: "∂L/∂z")
        // a_i: [b, h, 1, n]
        let normaliser = Tensor(uninitialized: [shape.batch, shape.heads, 1, n], label: "normaliser a")
        let dq = Tensor(uninitialized: shape.dims, label: "dQ")  // [b, h, n, d]
        let dk = Tensor(uninitialized: shape.dims, label: "dK")  // [b, h, n, d]
        // [b, h, n, d]; holds g until ∂L/∂S and ∇φ(Q) are formed
        let dv = Tensor(uninitialized: shape.dims, label: "dV (holds g)")
        let eps = epsilon

        ComputeThreads.forEachSlice(shape.slices) { s, _ in
            let (fq, fk) = (features.phiQ.matrix(s), features.phiK.matrix(s))
            Self.contractBackward(
                phiQ: fq, phiK: fk, state: features.state.matrix(s), keySum: features.keySum.matrix(s).row(0),
                v: v.matrix(s), output: output.matrix(s), outputGradient: outputGradient.matrix(s),
                scratch: (stateGradient.matrix(s), sumGradient.matrix(s).row(0), normaliser.matrix(s).row(0)),
                phiQGradient: dq.matrix(s), phiKGradient: dk.matrix(s), valueGradient: dv.matrix(s), epsilon: eps)
            var clock = PhaseClock.start()
            defer { clock.lap(Self.backwardPhases.featureMap) }
            // dQ = ∇φ(Q) ∘ φ′(Q), dK = ∇φ(K) ∘ φ′(K).
            for i in 0..<n {
                let (dqRow, dkRow, phiQRow, phiKRow) = (dq.matrix(s).row(i), dk.matrix(s).row(i), fq.row(i), fk.row(i))
                for l in 0..<d {
                    dqRow[l] *= FeatureMap.derivative(fromValue: phiQRow[l])
                    dkRow[l] *= FeatureMap.derivative(fromValue: phiKRow[l])
                }
            }
        }
        return AttentionGradients(q: dq, k: dk, v: dv)
    }

    /// The non-causal backward of one slice given its features (the feature-map seam, as
    /// ``LinearAttention/contract(phiQ:phiK:v:state:keySum:into:epsilon:)`` is for the forward):
    /// from Φq, Φk `[n, m]`, the saved S `[m, d]` and z, V, O and dO `[n, d]`, writes ∇φ(Q) and
    /// ∇φ(K) (`[n, m]`, before the feature map's own chain rule) and ∇V (`[n, d]`):
    ///
    ///     g_i = dO_i / den_i,  a_i = −(dO_i·O_i) / den_i
    ///     ∂L/∂S = Φqᵀ g,  ∂L/∂z = Σ_i a_i φ(q_i)
    ///     ∇φ(Q) = g Sᵀ + a zᵀ,  ∇V = Φk ∂L/∂S,  ∇φ(K) = V ∂L/∂Sᵀ + 1 (∂L/∂z)ᵀ
    ///
    /// `8·n·m·d + 9·n·m` FLOPs (four products of `2·n·m·d`). `scratch` holds ∂L/∂S (`[m, d]`),
    /// ∂L/∂z (m floats) and a (n floats); g is staged in `valueGradient`'s rows until ∂L/∂S and
    /// ∇φ(Q) are formed, so it needs no buffer of its own.
    @inline(__always)
    package static func contractBackward(
        phiQ fq: MatrixView, phiK fk: MatrixView, state S: MatrixView, keySum z: UnsafeMutablePointer<Float>,
        v: MatrixView, output o: MatrixView, outputGradient dO: MatrixView,
        scratch: (
            stateGradient: MatrixView, sumGradient: UnsafeMutablePointer<Float>, normaliser: UnsafeMutablePointer<Float>
        ),
        phiQGradient dPhiQ: MatrixView, phiKGradient dPhiK: MatrixView, valueGradient dv: MatrixView, epsilon eps: Float
    ) {
        let (n, m, d) = (fq.rows, fq.cols, v.cols)
        let (dS, dz, a, g) = (scratch.stateGradient, scratch.sumGradient, scratch.normaliser, dv)
        var clock = PhaseClock.start()
        // pass 1: g_i = dO_i / den_i and a_i = −(dO_i·O_i) / den_i per row; ∂L/∂z = Σ_i a_i φ(q_i).
        for c in 0..<m { dz[c] = 0 }
        for i in 0..<n {
            let (phiRow, dORow, gRow) = (fq.row(i), dO.row(i), g.row(i))
            var denominator: Float = 0
            for c in 0..<m { denominator += phiRow[c] * z[c] }
            let inverse = 1 / (denominator + eps)
            a[i] = -Lanes.dot(dORow, o.row(i), count: d) * inverse
            for c in 0..<d { gRow[c] = dORow[c] * inverse }
            for c in 0..<m { dz[c] += a[i] * phiRow[c] }
        }
        clock.lap(backwardPhases.normaliser)
        // pass 2: the state's gradient, then ∇φ(Q) = g Sᵀ + a zᵀ.
        // [m, n]·[n, d] → [m, d]
        BLAS.gemm(fq, transposeA: true, g, into: dS)
        // [n, d]·[m, d]ᵀ → [n, m]
        BLAS.gemm(g, S, transposeB: true, into: dPhiQ)
        for i in 0..<n {
            let row = dPhiQ.row(i)
            for l in 0..<m { row[l] += a[i] * z[l] }
        }
        clock.lap(backwardPhases.queries)
        // pass 3: ∇V = Φk ∂L/∂S (over g, no longer needed), then ∇φ(K) = V ∂L/∂Sᵀ + ∂L/∂z.
        // [n, m]·[m, d] → [n, d]
        BLAS.gemm(fk, dS, into: dv)
        // [n, d]·[m, d]ᵀ → [n, m]
        BLAS.gemm(v, dS, transposeB: true, into: dPhiK)
        for j in 0..<n {
            let row = dPhiK.row(j)
            for l in 0..<m { row[l] += dz[l] }
        }
        clock.lap(backwardPhases.keysValues)
    }

    /// The backward's passes, as `attnbench profile` names them (Performer's non-causal backward
    /// shares the contraction's).
    static let backwardPhases = (
        normaliser: Phase.named("g, a, ∂L/∂z"), queries: Phase.named("∂L/∂S, ∇φ(Q)"),
        keysValues: Phase.named("∇V, ∇φ(K)"), featureMap: Phase.named("φ′ (backward)"),
        recurrence: Phase.named("prefix and suffix sums (backward)")
    )

    private func causalBackward(
        q: Tensor, k: Tensor, v: Tensor, output: Tensor, outputGradient: Tensor, shape: AttentionShape
    ) -> AttentionGradients {
        let (n, d) = (shape.length, shape.headDim)
        // S_iᵀ, then R_j: [b, h, d, d]
        let sums = Tensor(uninitialized: [shape.batch, shape.heads, d, d], label: "S_iᵀ, then R_j")
        // z_i, then y_j: [b, h, 1, d]
        let vectors = Tensor(uninitialized: [shape.batch, shape.heads, 1, d], label: "z_i, then y_j")
        // φ(q), φ(k), an accumulator row
        let rows = Tensor(uninitialized: [shape.batch, shape.heads, 3, d], label: "φ(q), φ(k) rows")
        // a_i: [b, h, 1, n]
        let normaliser = Tensor(uninitialized: [shape.batch, shape.heads, 1, n], label: "normaliser a")
        let dq = Tensor(uninitialized: shape.dims, label: "dQ")  // [b, h, n, d]
        // [b, h, n, d]; holds φ(k_i) until step i of pass 2
        let dk = Tensor(uninitialized: shape.dims, label: "dK (holds φ(k))")
        // [b, h, n, d]; holds g_i until step i of pass 2
        let dv = Tensor(uninitialized: shape.dims, label: "dV (holds g)")
        let eps = epsilon

        ComputeThreads.parallelFor(shape.slices) { slices in
            var clock = PhaseClock.start()
            defer { clock.lap(Self.backwardPhases.recurrence) }
            for s in slices {
                let (qs, ks, vs, os, dO) = (
                    q.matrix(s), k.matrix(s), v.matrix(s), output.matrix(s), outputGradient.matrix(s)
                )
                let (sum, vector, a) = (sums.matrix(s), vectors.matrix(s).row(0), normaliser.matrix(s).row(0))
                let (phiQ, phiK, accumulator) = (rows.matrix(s).row(0), rows.matrix(s).row(1), rows.matrix(s).row(2))
                sum.base.update(repeating: 0, count: d * d)
                vector.update(repeating: 0, count: d)
                // pass 1, forward over i: S_i (stored transposed: row c is S_i[:, c]) and z_i as prefix
                // sums, and ∇φ(q_i) = S_i g_i + a_i z_i. Both products run along rows of Sᵀ, as the forward's.
                for i in 0..<n {
                    FeatureMap.apply(ks.row(i), into: phiK, count: d)
                    FeatureMap.apply(qs.row(i), into: phiQ, count: d)
                    dk.matrix(s).row(i).update(from: phiK, count: d)  // φ(k_i) waits in dK's row i for pass 2
                    for l in 0..<d { vector[l] += phiK[l] }
                    let inverse = 1 / (Lanes.dot(phiQ, vector, count: d) + eps)
                    let (dORow, vRow, g, dqRow) = (dO.row(i), vs.row(i), dv.matrix(s).row(i), dq.matrix(s).row(i))
                    for c in 0..<d { g[c] = dORow[c] * inverse }
                    a[i] = -Lanes.dot(dORow, os.row(i), count: d) * inverse
                    accumulator.update(repeating: 0, count: d)
                    for c in 0..<d {
                        // [d]⊗[d] → row c of S_iᵀ, fused with S_i g_i += g_ic S_i[:, c]
                        Lanes.accumulate(into: sum.row(c), vRow[c], phiK, count: d, andAdd: g[c], into: accumulator)
                    }
                    for l in 0..<d {
                        dqRow[l] = (accumulator[l] + a[i] * vector[l]) * FeatureMap.derivative(fromValue: phiQ[l])
                    }
                }
                // pass 2, backward over j: R_j, y_j as suffix sums, ∇φ(k_j) = R_j v_j + y_j, ∇v_j = R_jᵀ φ(k_j).
                sum.base.update(repeating: 0, count: d * d)
                vector.update(repeating: 0, count: d)
                for j in stride(from: n - 1, through: 0, by: -1) {
                    let (g, vRow, dkRow) = (dv.matrix(s).row(j), vs.row(j), dk.matrix(s).row(j))
                    phiK.update(from: dkRow, count: d)
                    FeatureMap.apply(qs.row(j), into: phiQ, count: d)
                    for l in 0..<d { vector[l] += a[j] * phiQ[l] }
                    accumulator.update(repeating: 0, count: d)
                    for l in 0..<d {
                        // [d]⊗[d] → row l of R_j, fused with (R_j v_j)_l and ∇v_j += φ(k_j)_l R_j[l, :]
                        dkRow[l] = Lanes.accumulate(
                            into: sum.row(l), phiQ[l], g, dot: vRow, count: d,
                            andAdd: phiK[l], into: accumulator)
                    }
                    for l in 0..<d { dkRow[l] = (dkRow[l] + vector[l]) * FeatureMap.derivative(fromValue: phiK[l]) }
                    g.update(from: accumulator, count: d)  // ∇v_j replaces g_j, which R_j now holds
                }
            }
        }
        return AttentionGradients(q: dq, k: dk, v: dv)
    }

    /// Non-causal `b·h·(8·n·d² + 9·n·d)` FLOPs, intermediates `b·h·(d² + d + n)` floats; causal
    /// `b·h·(10·n·d² + 10·n·d)`, intermediates `b·h·(d² + 4d + n)`; gradients `3·b·h·n·d` floats.
    public func backwardCost(for shape: AttentionShape) -> AttentionCost {
        let (n, d) = (shape.length, shape.headDim)
        let (nd, dd) = (Double(n), Double(d))
        let perSlice =
            isCausal
            ? Int.saturatingSum(.saturatingProduct(d, d), .saturatingProduct(4, d), n)  // R|S, y|z, 3 rows, a
            : Int.saturatingSum(.saturatingProduct(d, d), d, n)  // ∂L/∂S, ∂L/∂z, a
        let flops = isCausal ? 10 * nd * dd * dd + 10 * nd * dd : 8 * nd * dd * dd + 9 * nd * dd
        return AttentionCost(
            flops: Double(shape.batch) * Double(shape.heads) * flops,
            intermediateBytes: AttentionCost.floats(shape.slices, perSlice),
            outputBytes: AttentionCost.floats(3, shape.slices, n, d))
    }

    /// Non-causal: φ(Q), φ(K), S and z, all of the forward's intermediates; causal: nothing.
    public func savedBytes(for shape: AttentionShape) -> Int { isCausal ? 0 : cost(for: shape).intermediateBytes }
}
