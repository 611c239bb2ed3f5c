import AttentionKernels

/// The backward pass of ``EncoderStack``: ∂L/∂X and every parameter's gradient for dY = ∂L/∂Y,
/// layer by layer from the last, each layer in four parts (the reverse of its forward):
///
///     LayerNorm 2:  dZ₂ = LN′(x̂₂, r₂, γ₂)ᵀ dY,  dγ₂ = Σ dY ∘ x̂₂,  dβ₂ = Σ dY
///     FFN:          G = GELU(U) (recomputed),  dW2 = Gᵀ dZ₂ [M, T]·[T, D],  db2 = Σ dZ₂,
///                   dU = (dZ₂ W2ᵀ) ∘ GELU′(U) [T, D]·[D, M],  dW1 = Hᵀ dU [D, T]·[T, M],  db1 = Σ dU,
///                   dH = dZ₂ + dU W1ᵀ [T, M]·[M, D]
///     LayerNorm 1:  dZ₁ = LN′(x̂₁, r₁, γ₁)ᵀ dH,  dγ₁, dβ₁;  dbo = Σ dZ₁
///     attention:    dA_{β,η} = dZ₁_β Wo_ηᵀ [n, D]·[D, d],  dWo_η = Σ_β A_{β,η}ᵀ dZ₁_β [d, n]·[n, D],
///                   dQ, dK, dV (dE, dF) = core backward from dA
///     projections:  dX_β = dZ₁_β + Σ_η (dQ Wq_ηᵀ + dK Wk_ηᵀ + dV Wv_ηᵀ) [n, d]·[d, D],
///                   dWq_η = Σ_β X_βᵀ dQ_{β,η} [D, n]·[n, d] (Wk, Wv likewise),  dbq = Σ dQ …
///
/// (Σ without a range: over the T = b·n rows.) dX of layer l is layer l−1's dY.
///
/// Cost: `16·T·D² + 8·T·D·M` FLOPs per layer (twice the forward's products) plus the cores'
/// backward. Memory, on top of the saved forward and dY (the caller's): each layer allocates its
/// parameter gradients (kept: returned), one `[b, n, D]` buffer that holds dZ₂, then dH, then dZ₁,
/// then dX in place (it becomes the next layer's dY), one `[b, n, M]` buffer for G and then dU
/// (freed after the FFN), dA (freed after the core's backward) and the core's backward (its dQ,
/// dK, dV freed after the projections; Linformer's dE, dF kept). So the peak is near the first
/// layer's core backward, and it grows with L only by the gradients returned.
///
/// The backward reads the saved forward and never changes it, so one saved forward can be
/// differentiated any number of times (the harness times the backward alone that way).
extension EncoderStack {
    /// ∂L/∂X and every parameter's gradient for `outputGradient` = dY `[b, n, D]`, given the input,
    /// the output and what ``trainingForward(x:)`` saved for them.
    public func backward(x: Tensor, output: Tensor, saved: Saved, outputGradient: Tensor) -> LayerGradients {
        backward(x: x, output: output, saved: saved, outputGradient: outputGradient, trace: nil)
    }

    package func backward(x: Tensor, output: Tensor, saved: Saved, outputGradient: Tensor, trace: BackwardTrace?)
        -> LayerGradients
    {
        _ = checkedShape(x)
        precondition(
            output.shape == x.shape && outputGradient.shape == x.shape,
            "encoder stack backward: the output \(output.shape) and its gradient \(outputGradient.shape) must have the input's shape \(x.shape)"
        )
        precondition(
            saved.layers.count == configuration.layers,
            "encoder stack backward: \(saved.layers.count) saved layers for a stack of \(configuration.layers)")
        var layerGradients = [EncoderWeights?](repeating: nil, count: configuration.layers)
        var projections = [(e: Tensor, f: Tensor)?](repeating: nil, count: configuration.layers)
        var gradient = outputGradient
        for l in (0..<configuration.layers).reversed() {
            let input = l == 0 ? x : saved.layers[l - 1].output
            let result = layerBackward(l, input: input, saved: saved.layers[l], gradient: gradient, trace: trace)
            layerGradients[l] = result.weights
            projections[l] = result.projections
            gradient = result.dX
        }
        return LayerGradients(dX: gradient, layers: layerGradients.compactMap { $0 }, projections: projections)
    }

    /// One layer's backward, in the order the cost model replays: the parameter gradients, the
    /// `[b, n, D]` buffer (dZ₂ → dH → dZ₁ → dX), the FFN's `[b, n, M]` buffer, dA and the core's backward.
    private func layerBackward(
        _ l: Int, input x: Tensor, saved s: LayerActivations, gradient g: Tensor, trace: BackwardTrace?
    ) -> (dX: Tensor, weights: EncoderWeights, projections: (e: Tensor, f: Tensor)?) {
        let w = weights[l]
        var clock = PhaseClock.start()
        let grads = EncoderWeights.zeros(modelDim: configuration.modelDim, ffnDim: configuration.ffnDim)
        let dz = Tensor(uninitialized: x.shape, label: "layer: dZ buffer")  // [b, n, D]
        let (buffer, gradient) = (rows(dz), rows(g))
        // part 1: LayerNorm 2.
        LayerNorm.parameterGradients(
            gradient: gradient, normalized: rows(s.normalized2), dGamma: grads.gamma2, dBeta: grads.beta2)
        LayerNorm.backward(
            rows: gradient, normalized: rows(s.normalized2), inverseStd: s.inverseStd2.data, gamma: w.gamma2,
            into: buffer)
        // part 2: the FFN; the buffer becomes dH.
        feedForwardBackward(l, saved: s, gradient: dz, grads: grads)
        clock.lap(Self.phases.feedForwardBackward)
        let hiddenGradient = trace.map { _ in copy(dz) }
        clock.skip()
        // part 3: LayerNorm 1; the buffer becomes dZ₁.
        LayerNorm.parameterGradients(
            gradient: buffer, normalized: rows(s.normalized1), dGamma: grads.gamma1, dBeta: grads.beta1)
        LayerNorm.backward(
            rows: buffer, normalized: rows(s.normalized1), inverseStd: s.inverseStd1.data, gamma: w.gamma1, into: buffer
        )
        let residualGradient = trace.map { _ in copy(dz) }
        // part 4: the output projection and the core.
        let (attentionGradient, core) = attentionBackward(l, saved: s, gradient: dz, grads: grads, clock: &clock)
        clock.lap(Self.phases.coreBackward)
        // part 5: the Q, K, V projections; the buffer becomes dX.
        projectionBackward(l, input: x, core: core, gradient: dz, grads: grads)
        clock.lap(Self.phases.projectionsBackward)
        if let trace, let hiddenGradient, let residualGradient {
            trace.layers[l] = BackwardTrace.Layer(
                incoming: g, hidden: hiddenGradient, residual: residualGradient, attention: attentionGradient,
                core: core, input: dz)
        }
        let projections = core.e.flatMap { e in core.f.map { (e: e, f: $0) } }
        return (dz, grads, projections)
    }

    /// The FFN's backward on the `[b, n, D]` buffer `dz` (dZ₂ in, dH out), with one `[b, n, M]`
    /// buffer that holds G = GELU(U), then dG, then dU.
    private func feedForwardBackward(_ l: Int, saved s: LayerActivations, gradient dz: Tensor, grads: EncoderWeights) {
        let w = weights[l]
        let buffer = Tensor(uninitialized: s.preActivation.shape, label: "layer: FFN buffer")  // [b, n, M]
        let (b, u, dZ, h) = (rows(buffer), rows(s.preActivation), rows(dz), rows(s.hidden))
        GELU.apply(u, into: b)
        // dW2 = Gᵀ dZ₂: [M, T]·[T, D] → [M, D]
        BLAS.gemm(b, transposeA: true, dZ, into: grads.w2.matrix(0))
        FeatureMap.columnSums(dZ, into: grads.b2.data)
        // dG = dZ₂ W2ᵀ: [T, D]·[D, M] → [T, M]
        BLAS.gemm(dZ, w.w2.matrix(0), transposeB: true, into: b)
        GELU.multiplyByDerivative(b, at: u)
        FeatureMap.columnSums(b, into: grads.b1.data)
        // dW1 = Hᵀ dU: [D, T]·[T, M] → [D, M]
        BLAS.gemm(h, transposeA: true, b, into: grads.w1.matrix(0))
        // dH = dZ₂ + dU W1ᵀ: [T, M]·[M, D] → [T, D]
        BLAS.gemm(b, w.w1.matrix(0), transposeB: true, into: dZ, beta: 1)
    }

    /// dbo, dWo and dA from dZ₁ (`dz`), then the core's backward from dA; dA lives only inside this
    /// call (and in the trace).
    private func attentionBackward(
        _ l: Int, saved s: LayerActivations, gradient dz: Tensor, grads: EncoderWeights, clock: inout PhaseClock.Lap
    ) -> (attention: Tensor, core: AttentionGradients) {
        let w = weights[l]
        let shape = AttentionShape(of: s.q)
        let (batch, heads, d) = (shape.batch, shape.heads, shape.headDim)
        FeatureMap.columnSums(rows(dz), into: grads.bo.data)
        let da = Tensor(uninitialized: shape.dims, label: "layer: dA")  // dA: [b, h, n, d]
        ComputeThreads.forEachSlice(shape.slices) { slice, _ in
            // dA = dZ₁_β Wo_ηᵀ: [n, D]·[D, d] → [n, d]
            BLAS.gemm(
                dz.matrix(slice / heads), Self.rowBlock(w.wo, block: slice % heads, height: d), transposeB: true,
                into: da.matrix(slice))
        }
        ComputeThreads.forEachSlice(heads) { head, _ in
            for b in 0..<batch {
                // dWo_η += A_{β,η}ᵀ dZ₁_β: [d, n]·[n, D] → [d, D]
                BLAS.gemm(
                    s.attention.matrix(b * heads + head), transposeA: true, dz.matrix(b),
                    into: Self.rowBlock(grads.wo, block: head, height: d), beta: b == 0 ? 0 : 1)
            }
        }
        clock.lap(Self.phases.outputBackward)
        let core = CoreCall.backward(
            cores[l], q: s.q, k: s.k, v: s.v, output: s.attention, saved: s.core, outputGradient: da)
        return (da, core)
    }

    /// dX = dZ₁ + Σ_η (dQ Wq_ηᵀ + dK Wk_ηᵀ + dV Wv_ηᵀ) in place in `dz`, and the projections' weight
    /// and bias gradients (batch elements summed in order).
    private func projectionBackward(
        _ l: Int, input x: Tensor, core: AttentionGradients, gradient dz: Tensor, grads: EncoderWeights
    ) {
        let w = weights[l]
        let shape = AttentionShape(of: core.q)
        let (batch, heads, n, d) = (shape.batch, shape.heads, shape.length, shape.headDim)
        ComputeThreads.forEachSlice(batch) { b, _ in
            let out = dz.matrix(b)
            for head in 0..<heads {
                let s = b * heads + head
                // dX_β += dQ Wq_ηᵀ, dK Wk_ηᵀ, dV Wv_ηᵀ: [n, d]·[d, D] → [n, D] each
                BLAS.gemm(
                    core.q.matrix(s), Self.columns(w.wq, block: head, width: d), transposeB: true, into: out, beta: 1)
                BLAS.gemm(
                    core.k.matrix(s), Self.columns(w.wk, block: head, width: d), transposeB: true, into: out, beta: 1)
                BLAS.gemm(
                    core.v.matrix(s), Self.columns(w.wv, block: head, width: d), transposeB: true, into: out, beta: 1)
            }
        }
        ComputeThreads.forEachSlice(heads) { head, _ in
            func one(_ gradient: Tensor, _ dw: Tensor, _ db: Tensor) {
                let (block, bias) = (Self.columns(dw, block: head, width: d), db.data + head * d)
                for b in 0..<batch {
                    let g = gradient.matrix(b * heads + head)
                    // dW_η += X_βᵀ dP_{β,η}: [D, n]·[n, d] → [D, d]
                    BLAS.gemm(x.matrix(b), transposeA: true, g, into: block, beta: b == 0 ? 0 : 1)
                    for i in 0..<n {
                        let row = g.row(i)
                        for c in 0..<d { bias[c] += row[c] }
                    }
                }
            }
            one(core.q, grads.wq, grads.bq)
            one(core.k, grads.wk, grads.bk)
            one(core.v, grads.wv, grads.bv)
        }
    }

    /// A copy of `t` (for the trace).
    private func copy(_ t: Tensor) -> Tensor {
        let c = Tensor(uninitialized: t.shape, label: "layer: trace copy")
        c.data.update(from: t.data, count: t.count)
        return c
    }
}

/// What one backward pass hands from part to part, kept for verification (``Verification``): the
/// parts' inputs as the kernel computed them, copied where the kernel overwrites a buffer in place.
package final class BackwardTrace: @unchecked Sendable {
    package struct Layer {
        /// dY of this layer (the caller's, or the next layer's dX).
        package let incoming: Tensor
        /// dH (a copy), dZ₁ (a copy), dA.
        package let hidden, residual, attention: Tensor
        /// The core's backward: dQ, dK, dV (dE, dF).
        package let core: AttentionGradients
        /// dX of this layer.
        package let input: Tensor
    }

    package var layers: [Layer?]

    package init(layers: Int) { self.layers = [Layer?](repeating: nil, count: layers) }
}
