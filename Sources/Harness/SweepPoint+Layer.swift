import AttentionKernels
import AttentionReference
import EncoderLayer
import Profiling
import Reporting
import Results

/// What the harness builds and predicts for a layer-scope point: the encoder stack around the
/// point's core (``EncoderStack``), its input and its cost.
extension SweepPoint {
    /// The stack of a layer-scope point: its heads, d, FFN multiple (4) and layers (1).
    public var layerConfiguration: LayerConfiguration {
        LayerConfiguration(heads: heads, headDim: headDim, ffnMultiplier: ffnMultiplier ?? 4, layers: layers ?? 1)
    }

    /// d_model = h·d: the width of a layer-scope point's input `[b, n, d_model]`.
    public var modelDim: Int { .saturatingProduct(heads, headDim) }

    /// The cost of one call of `pass` at layer scope, from the stack's model (nothing allocated).
    func layerCost(of pass: Pass) -> AttentionCost {
        let core = EncoderStack.CoreCost.of(mechanism, settings: mechanismSettings, shape: shape, threads: threads)
        return EncoderStack.cost(configuration: layerConfiguration, batch: batch, length: length, pass: pass) { _ in
            core
        }
    }

    /// Builds the stack of a layer-scope point: layer l's core as ``makeKernel(seed:)`` builds it
    /// from `seed &+ 16·l` (so each layer's Linformer projections differ), its weights from `seed &+ 7`.
    public func makeStack(seed: UInt64) throws(KernelConfigurationError) -> EncoderStack {
        var cores: [any DifferentiableAttention] = []
        for l in 0..<max(layers ?? 1, 1) {
            let kernel = try makeKernel(seed: seed &+ UInt64(l) &* 16)
            guard let core = kernel as? any DifferentiableAttention else {
                throw KernelConfigurationError(
                    "\(kernel.name) has no backward pass, so it cannot sit inside an encoder layer")
            }
            cores.append(core)
        }
        return EncoderStack(configuration: layerConfiguration, cores: cores, seed: seed &+ 7)
    }

    /// The seeded input of a layer-scope point: X `[b, n, d_model]`, N(0, 1) from `seed`.
    public func layerInput(seed: UInt64) -> Tensor {
        Tensor.normal([batch, length, modelDim], seed: seed, label: "input X")
    }

    /// The call a forward-mode point times, and its cost: the core on seeded Q, K, V, or (layer
    /// scope) the encoder stack on a seeded X, for the point's pass. Everything is built here,
    /// before any probe or clock.
    public func makeCall(seed: UInt64) throws -> (call: PassCall, inputs: (q: Tensor, k: Tensor, v: Tensor)?) {
        switch scope {
        case .core:
            let kernel = try makeKernel(seed: seed)
            let (q, k, v) = Verification.inputs(shape, seed: seed)
            return (try PassCall(pass, kernel: kernel, q: q, k: k, v: v, seed: seed), (q, k, v))
        case .layer:
            let stack = try makeStack(seed: seed)
            return (PassCall(pass, stack: stack, x: layerInput(seed: seed), seed: seed), nil)
        }
    }
}

extension PassCall {
    /// The call of `pass` through an encoder stack on input `x`: the forward, the backward alone
    /// on a forward saved here (before any probe), or a training step; dO is seeded like the
    /// core's (`seed + 4`).
    public init(_ pass: Pass, stack: EncoderStack, x: Tensor, seed: UInt64) {
        let (batch, length) = (x.shape[0], x.shape[1])
        let cost = stack.cost(batch: batch, length: length, pass: pass)
        switch pass {
        case .forward:
            self.init(run: { stack(x: x) }, cost: cost)
        case .train:
            let dO = Tensor.normal(x.shape, seed: seed &+ 4, label: "input dO")
            self.init(
                run: {
                    let (output, gradients) = stack.trainingStep(x: x, outputGradient: dO)
                    blackHole(gradients)
                    return output
                }, cost: cost)
        case .backward:
            let dO = Tensor.normal(x.shape, seed: seed &+ 4, label: "input dO")
            let (output, saved) = stack.trainingForward(x: x)
            self.init(
                run: {
                    blackHole(stack.backward(x: x, output: output, saved: saved, outputGradient: dO))
                    return nil
                }, cost: cost)
        }
    }
}
