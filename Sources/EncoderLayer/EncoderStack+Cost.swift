import AttentionKernels

/// The cost model of ``EncoderStack``: FLOPs of every product and the heap of one call, replayed
/// allocation by allocation (``HeapTrace``) in the order the stack's code allocates and frees, so
/// that it predicts jemalloc's per-thread peak of one call (`thread.peak`).
extension EncoderStack {
    /// What a layer's core costs (``AttentionKernels/CoreCost``), under the name the stack's model uses.
    public typealias CoreCost = AttentionKernels.CoreCost

    /// The cost of one call of `pass` on `batch` sequences of `length` tokens, from this stack's cores
    /// (flash attention's at the current thread count). See
    /// ``cost(configuration:batch:length:pass:core:)``.
    public func cost(batch: Int, length: Int, pass: Pass) -> AttentionCost {
        let shape = configuration.coreShape(batch: batch, length: length)
        return Self.cost(configuration: configuration, batch: batch, length: length, pass: pass) { l in
            CoreCost(cores[l], shape: shape)
        }
    }

    /// The cost of one call of `pass` for a configuration, without any weights: `core(l)` gives layer
    /// l's core costs on the `[b, h, n, d]` shape (``CoreCost/of(_:causal:shape:projectedLength:sharing:threads:)``
    /// builds them from a mechanism's name). Nothing is allocated (the harness plans sweeps and
    /// max-batch searches with it); sizes saturate at `Int.max`.
    ///
    /// With T = b·n rows, D = h·d, M = m·D, a `[b, n, D]` buffer of F = 4·T·D bytes and a `[b, n, M]`
    /// one of 4·T·M:
    /// - FLOPs: per layer `8·T·D² + 4·T·D·M` forward, `16·T·D² + 8·T·D·M` backward, plus the core's;
    ///   `train` adds both.
    /// - `forward`: Q, K, V (3F) and the core's call; then H, with A until H holds its projection;
    ///   then U (GELU in place) and Y. A layer's input stays until the layer returns, so layer
    ///   l ≥ 1 peaks at max(5F + the core's intermediates, 3F + 4·T·M) (layer 0 at one F less,
    ///   its input being the caller's); returns Y.
    /// - `backward` (given a saved forward; the saved tensors and dY are the caller's): per layer its
    ///   parameter gradients (kept), the `[b, n, D]` buffer, the FFN's `[b, n, M]` buffer (freed), dA
    ///   and the core's backward (its dQ, dK, dV freed after the projections); returns dX, every
    ///   parameter's gradient and the cores' dE, dF.
    /// - `train`: the training forward (``EncoderStack/LayerActivations``: `8F + 4·T·M + 8·T` bytes
    ///   per layer plus the core's saved forward, and a `[b, n, M]` GELU(U) while Y is formed), then
    ///   the backward on top of all it saved; returns Y and the gradients.
    /// `parameterBytes`: every layer's weights and its core's parameters (Linformer's E, F).
    public static func cost(
        configuration: LayerConfiguration, batch: Int, length: Int, pass: Pass,
        core: (_ layer: Int) -> CoreCost
    ) -> AttentionCost {
        let layers = max(configuration.layers, 0)
        let (dm, hidden) = (configuration.modelDim, configuration.ffnDim)
        let model = AttentionCost.floats(batch, length, dm)  // F: one [b, n, D] buffer
        let wide = AttentionCost.floats(batch, length, hidden)  // one [b, n, M] buffer
        let stats = AttentionCost.floats(batch, length)  // one [b, n] row statistic
        let layerParameters = EncoderWeights.byteCount(modelDim: dm, ffnDim: hidden)
        let (t, d, m) = (Double(batch) * Double(length), Double(dm), Double(hidden))
        let forwardProducts = 8 * t * d * d + 4 * t * d * m
        let backwardProducts = 16 * t * d * d + 8 * t * d * m

        var parameters = Int.saturatingProduct(layers, layerParameters)
        for l in 0..<layers { parameters = .saturatingSum(parameters, core(l).forward.parameterBytes) }

        var heap = HeapTrace()
        var flops = 0.0
        var returned = model  // the output Y, or dX for the backward
        func inference() {
            for l in 0..<layers {
                let c = core(l)
                flops += forwardProducts + c.forward.flops
                heap.allocate(Int.saturatingProduct(3, model))  // Q, K, V
                heap.call(c.forward)  // A
                heap.release(Int.saturatingProduct(3, model))
                heap.allocate(model)  // H
                heap.release(c.forward.outputBytes)  // A
                heap.allocate(wide)  // U, then GELU(U) in place
                heap.allocate(model)  // Y
                heap.release(wide)
                heap.release(model)  // H
                if l > 0 { heap.release(model) }  // the layer's input, the previous Y
            }
        }
        func trainingForward() {
            for l in 0..<layers {
                let c = core(l)
                flops += forwardProducts + c.forward.flops
                heap.allocate(Int.saturatingProduct(3, model))  // Q, K, V
                heap.allocate(c.trainingForwardPeak)  // the core's training forward
                heap.release(
                    c.trainingForwardPeak
                        - min(c.trainingForwardPeak, Int.saturatingSum(c.forward.outputBytes, c.savedBytes)))
                heap.allocate(model)  // H
                heap.allocate(Int.saturatingSum(model, stats))  // x̂₁, r₁
                heap.allocate(wide)  // U
                heap.allocate(wide)  // G = GELU(U)
                heap.allocate(model)  // Y
                heap.release(wide)  // G
                heap.allocate(Int.saturatingSum(model, stats))  // x̂₂, r₂
            }
        }
        func backward() {
            var gradients = model  // dX
            for l in (0..<layers).reversed() {
                let c = core(l)
                flops += backwardProducts + c.backward.flops
                heap.allocate(layerParameters)  // the layer's parameter gradients, kept
                heap.allocate(model)  // dZ₂ → dH → dZ₁ → dX
                heap.allocate(wide)  // G, then dU
                heap.release(wide)
                heap.allocate(model)  // dA
                heap.call(c.backward)  // dQ, dK, dV (dE, dF)
                heap.release(model)  // dA
                let inputGradients = AttentionCost.floats(3, batch, length, dm)
                heap.release(inputGradients)  // dQ, dK, dV
                if l < layers - 1 { heap.release(model) }  // the layer's dY, the next layer's dX
                let projections = c.backward.outputBytes - min(c.backward.outputBytes, inputGradients)
                gradients = .saturatingSum(gradients, layerParameters, projections)
            }
            returned = pass == .train ? .saturatingSum(model, gradients) : gradients
        }
        switch pass {
        case .forward: inference()
        case .backward: backward()
        case .train:
            trainingForward()
            backward()
        }
        return AttentionCost(
            flops: flops,
            intermediateBytes: heap.peak == .max ? .max : heap.peak - min(heap.peak, returned),
            outputBytes: returned, parameterBytes: parameters)
    }
}

/// The heap of one call, replayed: bytes allocated and freed in the order the code does, with the
/// running total's highest point (what jemalloc's `thread.peak` measures). Saturating: once a count
/// reaches `Int.max` it stays there (a size beyond any machine is refused, never wrapped).
struct HeapTrace {
    private(set) var current = 0
    private(set) var peak = 0

    mutating func allocate(_ bytes: Int) {
        current = .saturatingSum(current, bytes)
        peak = max(peak, current)
    }

    mutating func release(_ bytes: Int) {
        guard current != .max else { return }
        current -= min(bytes, current)
    }

    /// A kernel call: its intermediates and output at once, then the intermediates freed.
    mutating func call(_ cost: AttentionCost) {
        allocate(cost.callPeakBytes)
        release(cost.intermediateBytes)
    }
}
