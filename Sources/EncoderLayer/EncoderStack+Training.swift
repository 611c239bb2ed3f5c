import AttentionKernels

/// The training forward of ``EncoderStack``: the same output as inference, bit for bit (the same
/// products and element-wise passes), and what the backward reads.
///
/// What each layer keeps (``LayerActivations``): Q, K, V and A = core(Q, K, V) (`[b, h, n, d]`),
/// the core's own saved forward (``DifferentiableAttention/savedBytes(for:)``), H (the FFN's input
/// and residual), x̂₁ and r₁ = 1/√(σ² + ε) of LayerNorm 1, U = H W1 + b1 (GELU's input; GELU(U)
/// is recomputed in the backward, into the buffer that then becomes dU), x̂₂ and r₂ of LayerNorm 2,
/// and the layer's output Y (the next layer's input, or the stack's output): per layer
/// `8·T·D + T·M + 2·T` floats plus the core's, the last layer's Y being the returned output.
/// GELU(U) (`T·M` floats) is a temporary of the forward only.
extension EncoderStack {
    /// What one layer's training forward keeps for its backward.
    public struct LayerActivations: Sendable {
        /// Q, K, V: `[b, h, n, d]`.
        public let q, k, v: Tensor
        /// A = core(Q, K, V): `[b, h, n, d]`.
        public let attention: Tensor
        /// The core's ``DifferentiableAttention/Saved``, type-erased.
        let core: any Sendable
        /// H = LayerNorm1(X + A Wo + bo): `[b, n, D]`.
        public let hidden: Tensor
        /// x̂₁, and r₁ = 1/√(σ² + ε) per row: `[b, n, D]`, `[b, n]`.
        public let normalized1, inverseStd1: Tensor
        /// U = H W1 + b1: `[b, n, M]`.
        public let preActivation: Tensor
        /// x̂₂ and r₂ of LayerNorm 2: `[b, n, D]`, `[b, n]`.
        public let normalized2, inverseStd2: Tensor
        /// Y = LayerNorm2(H + GELU(U) W2 + b2): `[b, n, D]`.
        public let output: Tensor

        /// Linformer's K′ = E K and V′ = F V as its forward computed them (for its reference gradients).
        public var projected: (keys: Tensor, values: Tensor)? {
            (core as? LinformerAttention.Saved).map { ($0.keys, $0.values) }
        }
    }

    /// What ``trainingForward(x:)`` keeps: one ``LayerActivations`` per layer.
    public struct Saved: Sendable {
        public let layers: [LayerActivations]
    }

    /// The forward pass of a training step: Y (the same as ``callAsFunction(x:)``) and every layer's
    /// activations.
    public func trainingForward(x: Tensor) -> (output: Tensor, saved: Saved) {
        _ = checkedShape(x)
        var layers = [LayerActivations]()
        layers.reserveCapacity(configuration.layers)
        var current = x
        for l in 0..<configuration.layers {
            let activations = trainingLayer(l, current)
            layers.append(activations)
            current = activations.output
        }
        return (current, Saved(layers: layers))
    }

    /// One training step: the forward pass, then the backward from `outputGradient` = ∂L/∂Y. What is
    /// saved lives only inside the step, as in a training loop.
    public func trainingStep(x: Tensor, outputGradient: Tensor) -> (output: Tensor, gradients: LayerGradients) {
        let (output, saved) = trainingForward(x: x)
        let gradients = backward(x: x, output: output, saved: saved, outputGradient: outputGradient)
        return (output, gradients)
    }

    /// One layer's training forward, in the order the cost model replays: Q, K, V; the core's training
    /// forward; H; x̂₁, r₁; U; then G = GELU(U) and Y (G freed with ``trainingFeedForward(_:_:_:)``);
    /// x̂₂, r₂.
    private func trainingLayer(_ l: Int, _ x: Tensor) -> LayerActivations {
        let w = weights[l]
        var clock = PhaseClock.start()
        let (q, k, v) = project(l, x)
        clock.lap(Self.phases.projections)
        let (a, coreSaved) = CoreCall.trainingForward(cores[l], q: q, k: k, v: v)
        clock.lap(Self.phases.core)
        let h = Tensor(uninitialized: x.shape, label: "layer: H (attention block)")  // [b, n, D]
        outputProjection(l, attention: a, residual: x, into: h)
        let normalized1 = Tensor(uninitialized: x.shape, label: "layer: x̂₁")  // x̂₁: [b, n, D]
        let inverseStd1 = Tensor(uninitialized: [x.shape[0], x.shape[1]], label: "layer: r₁")  // r₁: [b, n]
        LayerNorm.forward(
            rows: rows(h), gamma: w.gamma1, beta: w.beta1, normalized: rows(normalized1),
            inverseStd: inverseStd1.data)
        clock.lap(Self.phases.output)
        // U: [b, n, M]
        let u = Tensor(
            uninitialized: [x.shape[0], x.shape[1], configuration.ffnDim], label: "layer: FFN pre-activation U")
        hiddenPreActivation(l, h, into: u)
        let y = trainingFeedForward(l, h, u)
        let normalized2 = Tensor(uninitialized: x.shape, label: "layer: x̂₂")  // x̂₂: [b, n, D]
        let inverseStd2 = Tensor(uninitialized: [x.shape[0], x.shape[1]], label: "layer: r₂")  // r₂: [b, n]
        LayerNorm.forward(
            rows: rows(y), gamma: w.gamma2, beta: w.beta2, normalized: rows(normalized2),
            inverseStd: inverseStd2.data)
        clock.lap(Self.phases.feedForward)
        return LayerActivations(
            q: q, k: k, v: v, attention: a, core: coreSaved, hidden: h,
            normalized1: normalized1, inverseStd1: inverseStd1, preActivation: u,
            normalized2: normalized2, inverseStd2: inverseStd2, output: y)
    }

    /// H + GELU(U) W2 + b2, before LayerNorm 2; G = GELU(U) lives only inside this call.
    private func trainingFeedForward(_ l: Int, _ h: Tensor, _ u: Tensor) -> Tensor {
        let g = Tensor(uninitialized: u.shape, label: "layer: FFN hidden G")  // G: [b, n, M]
        GELU.apply(rows(u), into: rows(g))
        let y = Tensor(uninitialized: h.shape, label: "layer: output Y")  // [b, n, D]
        ffnOutput(l, activation: g, residual: h, into: y)
        return y
    }
}

/// A core's training forward and backward with its `Saved` type erased: `any DifferentiableAttention`
/// cannot take its own `Saved` back, so each call opens the existential in a generic function.
enum CoreCall {
    static func trainingForward<K: DifferentiableAttention>(_ kernel: K, q: Tensor, k: Tensor, v: Tensor) -> (
        output: Tensor, saved: any Sendable
    ) {
        let (output, saved) = kernel.trainingForward(q: q, k: k, v: v)
        return (output, saved)
    }

    static func backward<K: DifferentiableAttention>(
        _ kernel: K, q: Tensor, k: Tensor, v: Tensor, output: Tensor, saved: any Sendable, outputGradient: Tensor
    ) -> AttentionGradients {
        guard let saved = saved as? K.Saved else {
            preconditionFailure("\(kernel.name) backward: the saved forward was made by another kind of core")
        }
        return kernel.backward(q: q, k: k, v: v, output: output, saved: saved, outputGradient: outputGradient)
    }
}
