/// The backward pass of standard attention (causal and not): ``SoftmaxBackward`` on each
/// (batch, head) slice, with m = n columns.
///
/// What the forward keeps: the unnormalised softmax weights W = exp(S − rowmax) (`[b, h, n, n]`,
/// masked entries 0) and their row sums (`[b, h, 1, n]`), exactly the intermediates the forward
/// allocates anyway, so the training forward costs what the inference forward costs, but holds its
/// `b·h·(n² + n)·4` bytes until the backward has run: O(n²) memory, as PyTorch's unfused attention
/// keeps P. Recomputing W from row statistics instead would save that memory at the price of a
/// third n×n product (5 GEMMs in the backward instead of 4).
///
/// Backward cost: `8·b·h·n²·d` FLOPs (dV = Pᵀ dO, dP = dO Vᵀ, dQ = dS K/√d, dK = dSᵀ Q/√d), twice the
/// forward's; it allocates the three gradients (`3·b·h·n·d` floats) and a 64-row block of dS per
/// slice (`b·h·min(n, 64)·n` floats), never a whole `[n, n]` dS.
/// Non-finite inputs give non-finite gradients; which elements they reach is not specified.
extension SoftmaxAttention: DifferentiableAttention {
    public struct Saved: Sendable {
        /// exp(s_ij − max_i) for visible j, 0 for masked j: `[b, h, n, n]`.
        public let weights: Tensor
        /// Σ_j of each row of `weights`: `[b, h, 1, n]`.
        public let rowSums: Tensor
    }

    public func trainingForward(q: Tensor, k: Tensor, v: Tensor) -> (output: Tensor, saved: Saved) {
        let (output, weights, rowSums) = forward(q: q, k: k, v: v)
        return (output, Saved(weights: weights, rowSums: rowSums))
    }

    public func backward(
        q: Tensor, k: Tensor, v: Tensor, output: Tensor, saved: Saved, outputGradient: Tensor
    ) -> AttentionGradients {
        let shape = checkedBackwardShape(q: q, k: k, v: v, output: output, outputGradient: outputGradient)
        let (n, d) = (shape.length, shape.headDim)
        precondition(
            saved.weights.shape == [shape.batch, shape.heads, n, n],
            "\(name) backward: saved weights \(saved.weights.shape) do not match \(shape)")
        // [b, h, r, n]
        let blocks = Tensor(
            uninitialized: [shape.batch, shape.heads, SoftmaxBackward.rows(length: n), n], label: "dS block")
        let dq = Tensor(uninitialized: shape.dims, label: "dQ")  // [b, h, n, d]
        let dk = Tensor(uninitialized: shape.dims, label: "dK")  // [b, h, n, d]
        let dv = Tensor(uninitialized: shape.dims, label: "dV")  // [b, h, n, d]
        let scale = 1 / Float(d).squareRoot()
        let causal = isCausal
        ComputeThreads.forEachSlice(shape.slices, splitSlices: Self.splitsSlices(length: n)) { s, innerParallel in
            SoftmaxBackward.slice(
                q: q.matrix(s), keys: k.matrix(s), values: v.matrix(s),
                weights: saved.weights.matrix(s), rowSums: saved.rowSums.matrix(s).row(0),
                output: output.matrix(s), outputGradient: outputGradient.matrix(s), causal: causal, scale: scale,
                block: blocks.matrix(s), dq: dq.matrix(s), dKeys: dk.matrix(s), dValues: dv.matrix(s),
                innerParallel: innerParallel)
        }
        return AttentionGradients(q: dq, k: dk, v: dv)
    }

    /// `8·b·h·n²·d` FLOPs; intermediates `b·h·min(n, 64)·n` floats (the dS block); the gradients
    /// `3·b·h·n·d` floats.
    public func backwardCost(for shape: AttentionShape) -> AttentionCost {
        let (n, d) = (shape.length, shape.headDim)
        return AttentionCost(
            flops: Double(shape.batch) * Double(shape.heads) * 8 * Double(n) * Double(n) * Double(d),
            intermediateBytes: AttentionCost.floats(shape.slices, SoftmaxBackward.rows(length: n), n),
            outputBytes: AttentionCost.floats(3, shape.slices, n, d))
    }

    /// The weights and their row sums: `b·h·(n² + n)` floats, all of the forward's intermediates.
    public func savedBytes(for shape: AttentionShape) -> Int { cost(for: shape).intermediateBytes }
}
