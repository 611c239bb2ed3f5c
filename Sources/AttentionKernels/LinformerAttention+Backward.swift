/// The backward pass of Linformer in every sharing mode: ``SoftmaxBackward`` over the k projected
/// columns of each (batch, head) slice, then back through the projections K′ = E K, V′ = F V:
///
///     dK = Eᵀ dK′                [n, k]·[k, d] → [n, d]
///     dV = Fᵀ dV′                [n, k]·[k, d] → [n, d]
///     dE = Σ_slices dK′ Kᵀ       [k, d]·[d, n] → [k, n]
///     dF = Σ_slices dV′ Vᵀ       [k, d]·[d, n] → [k, n]
///
/// A projection's gradient sums over every slice that uses it: every batch element, and every head
/// when heads share it (`headwise`, `key-value`); under `key-value` sharing E = F and both paths add
/// into one gradient. The sums run over slices in order, after the per-slice work, so they are the
/// same at any thread count.
///
/// What the forward keeps: K′, V′ (`[b, h, k, d]`), the unnormalised weights (`[b, h, n, k]`) and
/// their row sums, all of the forward's intermediates: `b·h·(2kd + nk + n)·4` bytes, O(nk).
/// Backward cost: `16·b·h·n·k·d` FLOPs (the four of ``SoftmaxBackward`` and the four above, `2·n·k·d`
/// each), twice the forward's; it allocates dQ, dK, dV, dE and dF (the gradients: `3·b·h·n·d` floats
/// and the projections' size) and dK′, dV′ and a 64-row dS block per slice (`b·h·(2kd + min(n, 64)·k)`).
extension LinformerAttention: DifferentiableAttention {
    public struct Saved: Sendable {
        /// K′ = E K as the forward left it: `[k, d]` per slice, or K′ᵀ (`[d, k]`) when
        /// `keysTransposed` (the micro-kernel forward, ``LinformerAttention``); `[b, h, k, d]` floats.
        let projectedKeys: Tensor
        let keysTransposed: Bool
        /// V′ = F V: `[b, h, k, d]`.
        public let values: Tensor
        /// exp(s_ir − max_i): `[b, h, n, k]`.
        public let weights: Tensor
        /// Σ_r of each row of `weights`: `[b, h, 1, n]`.
        public let rowSums: Tensor

        /// K′ = E K: `[b, h, k, d]` (a transposed copy when the forward stored K′ᵀ; for checks, not
        /// for timed code).
        public var keys: Tensor {
            guard keysTransposed else { return projectedKeys }
            let (b, h, k, d) = (
                projectedKeys.shape[0], projectedKeys.shape[1], projectedKeys.shape[2], projectedKeys.shape[3]
            )
            let rows = Tensor(uninitialized: [b, h, k, d], label: "K′ (check copy)")
            for s in 0..<(b * h) {
                let (from, to) = (projectedKeys.matrix(s).base, rows.matrix(s))
                for r in 0..<k { for c in 0..<d { to.row(r)[c] = from[c * k + r] } }
            }
            return rows
        }
    }

    public func trainingForward(q: Tensor, k: Tensor, v: Tensor) -> (output: Tensor, saved: Saved) {
        forward(q: q, k: k, v: v)
    }

    public func backward(
        q: Tensor, k: Tensor, v: Tensor, output: Tensor, saved: Saved, outputGradient: Tensor
    ) -> AttentionGradients {
        let shape = checkedBackwardShape(q: q, k: k, v: v, output: output, outputGradient: outputGradient)
        let (n, d, kp) = (shape.length, shape.headDim, projectedLength)
        precondition(
            saved.weights.shape == [shape.batch, shape.heads, n, kp],
            "\(name) backward: saved weights \(saved.weights.shape) do not match \(shape)")
        // [b, h, r, k]
        let blocks = Tensor(
            uninitialized: [shape.batch, shape.heads, SoftmaxBackward.rows(length: n), kp], label: "dS block")
        let dKeys = Tensor(uninitialized: [shape.batch, shape.heads, kp, d], label: "dK′")  // dK′: [b, h, k, d]
        let dValues = Tensor(uninitialized: [shape.batch, shape.heads, kp, d], label: "dV′")  // dV′: [b, h, k, d]
        let dq = Tensor(uninitialized: shape.dims, label: "dQ")  // [b, h, n, d]
        let dk = Tensor(uninitialized: shape.dims, label: "dK")  // [b, h, n, d]
        let dv = Tensor(uninitialized: shape.dims, label: "dV")  // [b, h, n, d]
        let (e, f) = (projections.e, projections.f)
        let de = Tensor(zeros: e.shape, label: "dE")  // like E: [h, k, n], [1, k, n] or [k, n]
        let df = e === f ? de : Tensor(zeros: f.shape, label: "dF")  // like F; E's own gradient under key-value sharing
        let scale = 1 / Float(d).squareRoot()

        ComputeThreads.forEachSlice(shape.slices) { s, innerParallel in
            let head = s % shape.heads
            SoftmaxBackward.slice(
                q: q.matrix(s),
                keys: saved.keysTransposed
                    ? MatrixView(base: saved.projectedKeys.matrix(s).base, rows: d, cols: kp)
                    : saved.projectedKeys.matrix(s),
                keysTransposed: saved.keysTransposed, values: saved.values.matrix(s),
                weights: saved.weights.matrix(s), rowSums: saved.rowSums.matrix(s).row(0),
                output: output.matrix(s), outputGradient: outputGradient.matrix(s), causal: false, scale: scale,
                block: blocks.matrix(s), dq: dq.matrix(s), dKeys: dKeys.matrix(s), dValues: dValues.matrix(s),
                innerParallel: innerParallel)
            var clock = PhaseClock.start()
            // [n, k]·[k, d] → [n, d]
            BLAS.gemm(projections.e(head: head), transposeA: true, dKeys.matrix(s), into: dk.matrix(s))
            // [n, k]·[k, d] → [n, d]
            BLAS.gemm(projections.f(head: head), transposeA: true, dValues.matrix(s), into: dv.matrix(s))
            clock.lap(Self.backwardPhases.inputs)
        }
        var clock = PhaseClock.start()
        defer { clock.lap(Self.backwardPhases.projections) }
        // The projections' gradients, summed over the slices that use each matrix, in slice order.
        for s in 0..<shape.slices {
            let head = s % shape.heads
            // [k, d]·[d, n] → [k, n]
            BLAS.gemm(
                dKeys.matrix(s), k.matrix(s), transposeB: true,
                into: de.matrix(LinformerProjections.index(of: head, in: e)), beta: 1)
            // [k, d]·[d, n] → [k, n]
            BLAS.gemm(
                dValues.matrix(s), v.matrix(s), transposeB: true,
                into: df.matrix(LinformerProjections.index(of: head, in: f)), beta: 1)
        }
        return AttentionGradients(q: dq, k: dk, v: dv, e: de, f: df)
    }

    /// The backward's own passes, as `attnbench profile` names them (the softmax's are
    /// ``SoftmaxBackward``'s).
    static let backwardPhases = (
        inputs: Phase.named("dK = Eᵀ·dK′, dV = Fᵀ·dV′"), projections: Phase.named("dE, dF")
    )

    public func backwardCost(for shape: AttentionShape) -> AttentionCost {
        Self.backwardCost(for: shape, projectedLength: projectedLength, sharing: projections.sharing)
    }

    /// The backward's cost for a configuration, without building its projections (for sweep
    /// planning): `16·b·h·n·k·d` FLOPs; intermediates `b·h·(2kd + min(n, 64)·k)` floats; returned
    /// gradients `3·b·h·n·d` floats plus the projections' size.
    public static func backwardCost(
        for shape: AttentionShape, projectedLength kp: Int, sharing: ProjectionSharing
    ) -> AttentionCost {
        let (n, d) = (shape.length, shape.headDim)
        let perSlice = Int.saturatingSum(
            .saturatingProduct(2, kp, d), .saturatingProduct(SoftmaxBackward.rows(length: n), kp))
        let projections = LinformerProjections.byteCount(k: kp, length: n, heads: shape.heads, sharing: sharing)
        return AttentionCost(
            flops: Double(shape.batch) * Double(shape.heads) * 16 * Double(n) * Double(kp) * Double(d),
            intermediateBytes: AttentionCost.floats(shape.slices, perSlice),
            outputBytes: .saturatingSum(AttentionCost.floats(3, shape.slices, n, d), projections),
            parameterBytes: projections)
    }

    /// The cost of one pass for a configuration, without building its projections (for sweep planning).
    public static func cost(
        for shape: AttentionShape, projectedLength kp: Int, sharing: ProjectionSharing, pass: Pass
    ) -> AttentionCost {
        let forward = cost(for: shape, projectedLength: kp, sharing: sharing)
        return .of(
            pass, forward: forward, backward: backwardCost(for: shape, projectedLength: kp, sharing: sharing),
            savedBytes: forward.intermediateBytes)
    }

    /// K′, V′, the weights and their row sums: all of the forward's intermediates.
    public func savedBytes(for shape: AttentionShape) -> Int { cost(for: shape).intermediateBytes }
}
