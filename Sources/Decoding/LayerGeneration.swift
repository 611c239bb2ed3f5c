import AttentionKernels
import EncoderLayer

/// Autoregressive generation through a whole causal encoder stack (``EncoderStack``), token by token,
/// as "Transformers are RNNs" §4.2 generates images with 8- and 16-layer models (its Tables 4–5 time
/// the three decoders of ``Decoder`` at this scope). For each sequence and position i = 0…N−1, with
/// x_i a D-vector:
///
///     y_i = Stack(x_0 … x_i)_i                     (the causal stack's row i: it sees tokens ≤ i only)
///     x_{i+1} = prompt token i+1 while i+1 < P, else (x_i + y_i) / rms(x_i + y_i)
///
/// which each decoder computes its own way:
/// - `kv-cache` (softmax) and `recurrent` (linear): the new token alone goes through every layer,
///   `[b, D]·[D, D]` and `[b, D]·[D, M]` products per layer; its attention is one step of the layer's
///   own ``KVCacheDecoder`` or ``RecurrentDecoder`` per (batch, head) (per-layer caches or d×d states).
///   Step i costs `b·L·(8·D² + 4·D·M)` FLOPs in the products plus the decoders' steps
///   (``KVCacheDecoder/stepFlops(position:headDim:)``: 4·(i+1)·d; ``RecurrentDecoder``: 4·d² + 3·d).
/// - `recompute` (softmax without a cache): step i re-runs the causal stack over the whole prefix,
///   `[b, i+1, D]`, and keeps its last row: the stack's forward cost at n = i + 1, so
///   `Σ_i (i+1)·b·L·(8·D² + 4·D·M) + Σ_i b·h·L·4·(i+1)²·d` FLOPs per generation.
///
/// The prompt (P ≥ 1 seeded N(0, 1) tokens) is ingested step by step; later tokens are the stack's
/// outputs fed back through ``DecodeProjections/feedback(_:adding:count:)``, so every step depends
/// on the one before. The weights are the stack's (seeded from `seed &+ 5`), its cores causal
/// softmax (standard) or causal linear attention.
///
/// Threads: tokens are generated on the calling thread, one step at a time (the heads of a layer
/// are mixed by its output projection, so slices cannot run whole sequences on their own as in
/// ``Generation``); the products use OpenBLAS's threads and each layer's decoder steps run across
/// ``ComputeThreads/forEachSlice(_:splitSlices:_:)``. Every buffer is allocated before the first step.
public struct LayerGeneration: Sendable {
    public let configuration: LayerConfiguration
    public let mechanism: Mechanism
    public let decoder: Decoder
    public let batch: Int
    /// N: tokens per sequence, prompt included.
    public let length: Int
    /// P: prompt tokens (at least 1, at most N).
    public let prompt: Int
    /// The core's settings (Reformer's rounds, buckets and chunk; the causal form always).
    public let settings: MechanismSettings
    /// The causal stack whose weights the generation runs (and which verification runs over the
    /// recorded inputs).
    public let stack: EncoderStack
    /// `[b, P, D]`: the prompt tokens.
    public let promptSources: Tensor

    /// - Throws: ``KernelConfigurationError`` when the mechanism cannot decode with `decoder` (nil: its
    ///   default): Linformer and flash do not decode, softmax decodes with `kv-cache` or `recompute`,
    ///   linear attention with `recurrent` (``Generation/unsupported(_:decoder:)``).
    public init(
        configuration: LayerConfiguration, mechanism: Mechanism, decoder: Decoder? = nil, batch: Int, length: Int,
        prompt: Int = 1, settings: MechanismSettings = MechanismSettings(), seed: UInt64
    ) throws(KernelConfigurationError) {
        if let reason = Generation.unsupported(mechanism, decoder: decoder) { throw reason }
        guard let decoder = decoder ?? Decoder.default(for: mechanism),
            let makeCore = mechanism.kernels.decodeCore
        else { throw Generation.noDecoder(mechanism) }
        precondition(batch >= 1 && configuration.layers >= 1, "layer decode: batch and layers must be ≥ 1")
        precondition(
            prompt >= 1 && prompt <= length, "layer decode: the prompt (\(prompt)) must be 1…N (\(length)) tokens")
        var causal = settings
        causal.causal = true
        let core = makeCore(causal, seed &+ 9, configuration.headDim)
        self.settings = causal
        self.configuration = configuration
        (self.mechanism, self.decoder, self.batch, self.length, self.prompt) = (
            mechanism, decoder, batch, length, prompt
        )
        stack = EncoderStack(
            configuration: configuration, cores: Array(repeating: core, count: configuration.layers), seed: seed &+ 5)
        promptSources = Tensor.normal(
            [batch, prompt, configuration.modelDim], seed: seed &+ 6, label: "decode: prompt")
    }

    /// Generates all N tokens of every sequence and returns the final sources x_N (`[b, 1, D]`).
    /// `observer` (optional) is told when each step starts and finishes (one worker, the calling
    /// thread); `record` (optional) receives every input token, every layer's part boundaries and
    /// every output (for verification; it slows the loop, and `recompute` then runs the stack's
    /// training forward, which computes the same output, to see its boundaries).
    @discardableResult
    public func callAsFunction(observer: (any StepObserver)? = nil, record: LayerDecodeRecord? = nil) -> Tensor {
        switch decoder {
        case .kvCache: incremental(KVCacheDecoder.self, observer: observer, record: record)
        case .recurrent: incremental(RecurrentDecoder.self, observer: observer, record: record)
        case .recompute: recompute(observer: observer, record: record)
        }
    }

    // MARK: - One token through every layer

    /// The per-token buffers of the incremental decoders: `[b, ·]` rows (Q, K, V and A `[b, h, 1, d]`,
    /// which is `[b, D]` with the heads side by side).
    private struct Rows {
        let q, k, v, a, hidden, wide, even, odd: Tensor

        init(_ b: Int, _ c: LayerConfiguration) {
            let (h, d, dm) = (c.heads, c.headDim, c.modelDim)
            (q, k, v, a) = (
                Tensor(uninitialized: [b, h, 1, d], label: "decode layer: q row"),
                Tensor(uninitialized: [b, h, 1, d], label: "decode layer: k row"),
                Tensor(uninitialized: [b, h, 1, d], label: "decode layer: v row"),
                Tensor(uninitialized: [b, h, 1, d], label: "decode layer: attention row")
            )
            hidden = Tensor(uninitialized: [b, 1, dm], label: "decode layer: hidden row")
            wide = Tensor(uninitialized: [b, 1, c.ffnDim], label: "decode layer: FFN hidden row")
            (even, odd) = (
                Tensor(uninitialized: [b, 1, dm], label: "decode layer: LayerNorm row"),
                Tensor(uninitialized: [b, 1, dm], label: "decode layer: LayerNorm row")
            )
        }

        /// Floats of the buffers: 4·b·D (Q, K, V, A) + 3·b·D (H and the two layer outputs) + b·M.
        static func floats(_ b: Int, _ c: LayerConfiguration) -> Int {
            .saturatingProduct(b, .saturatingSum(.saturatingProduct(7, c.modelDim), c.ffnDim))
        }
    }

    private func incremental<D: TokenDecoder>(_: D.Type, observer: (any StepObserver)?, record: LayerDecodeRecord?)
        -> Tensor
    {
        let c = configuration
        let (n, dm, slices) = (length, c.modelDim, batch * c.heads)
        observer?.willGenerate(workers: 1, steps: n)
        let decoders = (0..<c.layers).map { _ in D(slices: slices, capacity: n, headDim: c.headDim) }
        let x = Tensor(uninitialized: [batch, 1, dm], label: "decode layer: x_i")  // x_i, then x_N (returned)
        let rows = Rows(batch, c)
        for b in 0..<batch { x.matrix(b).row(0).update(from: promptSources.matrix(b).row(0), count: dm) }
        for i in 0..<n {
            observer?.stepStarted(worker: 0, step: i)
            var input = x
            for l in 0..<c.layers {
                let output = l % 2 == 0 ? rows.even : rows.odd
                layer(l, position: i, decoder: decoders[l], input: input, rows: rows, into: output)
                record?.store(
                    layer: l, position: i, q: rows.q, k: rows.k, v: rows.v, attention: rows.a, hidden: rows.hidden,
                    output: output)
                input = output
            }
            record?.store(position: i, input: x, output: input)
            next(x, after: i, output: input)
            observer?.stepFinished(worker: 0, step: i)
        }
        return x
    }

    /// Layer l on one token per sequence: the products on `[b, ·]` rows, the attention one step of the
    /// layer's decoder per (batch, head).
    private func layer<D: TokenDecoder>(
        _ l: Int, position i: Int, decoder: D, input x: Tensor, rows r: Rows, into y: Tensor
    ) {
        let w = stack.weights[l]
        let (dm, heads, batch) = (configuration.modelDim, configuration.heads, batch)
        func tokens(_ t: Tensor) -> MatrixView { MatrixView(base: t.data, rows: batch, cols: dm) }
        func project(_ out: Tensor, _ weight: Tensor, _ bias: Tensor) {
            EncoderStack.fill(tokens(out), with: bias.data)
            // [b, D]·[D, D] → [b, D]
            BLAS.gemm(tokens(x), weight.matrix(0), into: tokens(out), beta: 1)
        }
        project(r.q, w.wq, w.bq)
        project(r.k, w.wk, w.bk)
        project(r.v, w.wv, w.bv)
        ComputeThreads.forEachSlice(batch * heads) { s, _ in
            decoder.step(
                slice: s, position: i, q: r.q.matrix(s).row(0), k: r.k.matrix(s).row(0), v: r.v.matrix(s).row(0),
                out: r.a.matrix(s).row(0))
        }
        let (h, input) = (tokens(r.hidden), tokens(x))
        for b in 0..<batch { for c in 0..<dm { h[b, c] = input[b, c] + w.bo.data[c] } }
        // [b, D]·[D, D] → [b, D]
        BLAS.gemm(tokens(r.a), w.wo.matrix(0), into: h, beta: 1)
        LayerNorm.forward(rows: h, gamma: w.gamma1, beta: w.beta1)
        stack.hiddenPreActivation(l, r.hidden, into: r.wide)
        GELU.apply(stack.rows(r.wide), into: stack.rows(r.wide))
        stack.ffnOutput(l, activation: r.wide, residual: r.hidden, into: y)
        LayerNorm.forward(rows: tokens(y), gamma: w.gamma2, beta: w.beta2)
    }

    /// x_{i+1}: the next prompt token, or x_i + y_i renormalised.
    private func next(_ x: Tensor, after i: Int, output y: Tensor) {
        let dm = configuration.modelDim
        for b in 0..<batch {
            if i + 1 < prompt {
                x.matrix(b).row(0).update(from: promptSources.matrix(b).row(i + 1), count: dm)
            } else {
                DecodeProjections.feedback(x.matrix(b).row(0), adding: y.matrix(b).row(0), count: dm)
            }
        }
    }

    // MARK: - Recomputation over the prefix

    /// Step i copies the prefix x_0 … x_i into a `[b, i+1, D]` input and runs the causal stack over
    /// it; y_i is its last row.
    private func recompute(observer: (any StepObserver)?, record: LayerDecodeRecord?) -> Tensor {
        let (n, dm) = (length, configuration.modelDim)
        observer?.willGenerate(workers: 1, steps: n)
        let x = Tensor(uninitialized: [batch, 1, dm], label: "decode layer: x_i")  // x_i, then x_N (returned)
        // x_0 … x_{N−1}: what a decoder without a cache keeps
        let prefix = Tensor(uninitialized: [batch, n, dm], label: "decode layer: prefix x_0…x_N−1")
        for b in 0..<batch { x.matrix(b).row(0).update(from: promptSources.matrix(b).row(0), count: dm) }
        for i in 0..<n {
            observer?.stepStarted(worker: 0, step: i)
            for b in 0..<batch { prefix.matrix(b).row(i).update(from: x.matrix(b).row(0), count: dm) }
            let y = rerun(through: i, prefix: prefix, record: record)
            let last = Tensor(uninitialized: [batch, 1, dm], label: "decode layer: last row")
            for b in 0..<batch { last.matrix(b).row(0).update(from: y.matrix(b).row(i), count: dm) }
            record?.store(position: i, input: x, output: last)
            next(x, after: i, output: last)
            observer?.stepFinished(worker: 0, step: i)
        }
        return x
    }

    /// Step i of the `recompute` decoder on its own: the causal stack over rows 0…i of `prefix`
    /// (`[b, N, D]`), returning row i of its output (`[b, 1, D]`). It does what step i of a whole
    /// generation does given that prefix, and its cost depends on i alone (the stack's forward at
    /// n = i + 1), so a sample of such steps estimates a generation's time (the harness's
    /// `StratifiedSteps`).
    public func recomputeStep(position i: Int, prefix: Tensor) -> Tensor {
        precondition(
            i >= 0 && i < length && prefix.shape == [batch, length, configuration.modelDim],
            "recomputeStep: position \(i) of \(length), prefix \(prefix.shape)")
        let dm = configuration.modelDim
        let y = rerun(through: i, prefix: prefix, record: nil)
        let last = Tensor(uninitialized: [batch, 1, dm], label: "decode layer: last row")
        for b in 0..<batch { last.matrix(b).row(0).update(from: y.matrix(b).row(i), count: dm) }
        return last
    }

    /// The causal stack's output over x_0 … x_i (`[b, i+1, D]`); with a record, through the training
    /// forward, whose row i of every boundary it stores.
    private func rerun(through i: Int, prefix: Tensor, record: LayerDecodeRecord?) -> Tensor {
        let dm = configuration.modelDim
        let input = Tensor(uninitialized: [batch, i + 1, dm], label: "decode layer: recomputed input")
        for b in 0..<batch { input.matrix(b).base.update(from: prefix.matrix(b).base, count: (i + 1) * dm) }
        guard let record else { return stack(x: input) }
        let (output, saved) = stack.trainingForward(x: input)
        for (l, s) in saved.layers.enumerated() { record.store(layer: l, row: i, of: s) }
        return output
    }

    // MARK: - Cost

    /// The analytic cost of one generation: FLOPs of all N steps of every sequence; `intermediateBytes`
    /// = the decoders' state (every layer's caches or d×d states; for `recompute`, the prefix and the
    /// largest re-run, the stack's forward at n = N) and the per-token buffers; `outputBytes` = x_N;
    /// `parameterBytes` = the stack's weights and the prompt (allocated before the call).
    public var cost: AttentionCost {
        Self.cost(
            configuration: configuration, mechanism: mechanism, decoder: decoder, batch: batch, length: length,
            prompt: prompt, settings: settings)
    }

    /// ``cost`` without building the generation (no allocation); unsupported pairs cost nothing (never run).
    public static func cost(
        configuration c: LayerConfiguration, mechanism: Mechanism, decoder: Decoder? = nil, batch: Int, length n: Int,
        prompt: Int, settings: MechanismSettings = MechanismSettings()
    ) -> AttentionCost {
        guard Generation.unsupported(mechanism, decoder: decoder) == nil,
            let decoder = decoder ?? Decoder.default(for: mechanism)
        else {
            return AttentionCost(flops: 0, intermediateBytes: 0, outputBytes: 0)
        }
        let (layers, dm, slices) = (max(c.layers, 0), c.modelDim, Int.saturatingProduct(batch, c.heads))
        let parameters = Int.saturatingSum(
            .saturatingProduct(layers, EncoderWeights.byteCount(modelDim: dm, ffnDim: c.ffnDim)),
            AttentionCost.floats(batch, prompt, dm))
        let output = AttentionCost.floats(batch, dm)
        let (b, d, nd) = (Double(batch), Double(dm), Double(n))
        let products = b * Double(layers) * (8 * d * d + 4 * d * Double(c.ffnDim))  // per token, every layer
        var causal = settings
        causal.causal = true
        let core = { [causal] (m: Int) in
            EncoderStack.CoreCost.of(mechanism, settings: causal, shape: c.coreShape(batch: batch, length: m))
        }
        switch decoder {
        case .kvCache, .recurrent:
            let state =
                decoder == .kvCache
                ? KVCacheDecoder.stateBytes(slices: slices, capacity: n, headDim: c.headDim)
                : RecurrentDecoder.stateBytes(slices: slices, capacity: n, headDim: c.headDim)
            let attention =
                decoder == .kvCache
                ? 4 * Double(c.headDim) * nd * (nd + 1) / 2  // Σ_{i<N} 4·(i+1)·d
                : nd * RecurrentDecoder.stepFlops(position: 0, headDim: c.headDim)
            return AttentionCost(
                flops: nd * products + Double(slices) * Double(layers) * attention,
                intermediateBytes: .saturatingSum(
                    .saturatingProduct(layers, state), AttentionCost.floats(Rows.floats(batch, c))),
                outputBytes: output, parameterBytes: parameters)
        case .recompute:
            // Step m re-runs the stack over m tokens: F(m) = α·m² + β·m (the GEMMs linear in m, the
            // m×m core quadratic), so Σ_{m=1}^{N} F(m) comes from F(1), F(2), F(3) in O(1), not N calls.
            let f = { (m: Int) in
                EncoderStack.cost(configuration: c, batch: batch, length: m, pass: .forward, core: { _ in core(m) })
                    .flops
            }
            // Softmax's core is quadratic in m; another's (Reformer's chunks) is summed step by step.
            let flops =
                mechanism == .standard
                ? sumOfQuadratic(f(1), f(2), f(3), upTo: max(n, 1)) : (1...max(n, 1)).reduce(0.0) { $0 + f($1) }
            // The prefix, then at the last step its copy and the stack's forward over it.
            let rerun = EncoderStack.cost(
                configuration: c, batch: batch, length: n, pass: .forward, core: { _ in core(n) })
            let prefix = AttentionCost.floats(batch, n, dm)
            return AttentionCost(
                flops: flops,
                intermediateBytes: .saturatingSum(prefix, prefix, rerun.callPeakBytes),
                outputBytes: output, parameterBytes: parameters)
        }
    }
}

/// Σ_{m=1}^{N} F(m) for a quadratic F(m) = a·m² + b·m + c given F(1), F(2), F(3):
/// a = (F₃ − 2F₂ + F₁)/2, b = F₂ − F₁ − 3a, c = F₁ − a − b, and
/// Σ = a·N(N+1)(2N+1)/6 + b·N(N+1)/2 + c·N. Exact in `Double` while the terms stay below 2⁵³.
func sumOfQuadratic(_ f1: Double, _ f2: Double, _ f3: Double, upTo n: Int) -> Double {
    let a = (f3 - 2 * f2 + f1) / 2
    let b = f2 - f1 - 3 * a
    let c = f1 - a - b
    let m = Double(n)
    return a * m * (m + 1) * (2 * m + 1) / 6 + b * m * (m + 1) / 2 + c * m
}

/// Every input token, output and part boundary of a ``LayerGeneration`` (`[b, N, ·]` each; per
/// layer Q, K, V and A as `[b, h, N, d]`, H and the layer's output as `[b, N, D]`), to verify the
/// generation against the causal stack run over the recorded inputs.
public final class LayerDecodeRecord: @unchecked Sendable {
    /// x_0 … x_{N−1} and y_0 … y_{N−1}: `[b, N, D]`.
    public let inputs, outputs: Tensor
    public let layers: [LayerBoundaries]

    public init(configuration c: LayerConfiguration, batch: Int, length n: Int) {
        inputs = Tensor(zeros: [batch, n, c.modelDim], label: "boundaries: inputs")
        outputs = Tensor(zeros: [batch, n, c.modelDim], label: "boundaries: outputs")
        layers = (0..<c.layers).map { _ in
            let heads = [batch, c.heads, n, c.headDim]
            return LayerBoundaries(
                q: Tensor(zeros: heads, label: "boundaries: q"), k: Tensor(zeros: heads, label: "boundaries: k"),
                v: Tensor(zeros: heads, label: "boundaries: v"),
                attention: Tensor(zeros: heads, label: "boundaries: attention"),
                hidden: Tensor(zeros: [batch, n, c.modelDim], label: "boundaries: hidden"),
                output: Tensor(zeros: [batch, n, c.modelDim], label: "boundaries: output"))
        }
    }

    /// Position i's input x_i and output y_i (`[b, 1, D]` each).
    func store(position i: Int, input x: Tensor, output y: Tensor) {
        for b in 0..<inputs.shape[0] {
            inputs.matrix(b).row(i).update(from: x.matrix(b).row(0), count: inputs.shape[2])
            outputs.matrix(b).row(i).update(from: y.matrix(b).row(0), count: outputs.shape[2])
        }
    }

    /// Layer l's boundaries for one token per sequence (Q, K, V, A `[b, h, 1, d]`; H, Y `[b, 1, D]`).
    func store(
        layer l: Int, position i: Int, q: Tensor, k: Tensor, v: Tensor, attention a: Tensor, hidden: Tensor,
        output: Tensor
    ) {
        let r = layers[l]
        for (to, from) in [(r.q, q), (r.k, k), (r.v, v), (r.attention, a)] {
            for s in 0..<(to.shape[0] * to.shape[1]) {
                to.matrix(s).row(i).update(from: from.matrix(s).row(0), count: to.shape[3])
            }
        }
        for (to, from) in [(r.hidden, hidden), (r.output, output)] {
            for b in 0..<to.shape[0] { to.matrix(b).row(i).update(from: from.matrix(b).row(0), count: to.shape[2]) }
        }
    }

    /// Row i of every boundary of layer l from a training forward over x_0 … x_i.
    func store(layer l: Int, row i: Int, of s: EncoderStack.LayerActivations) {
        let r = layers[l]
        for (to, from) in [(r.q, s.q), (r.k, s.k), (r.v, s.v), (r.attention, s.attention)] {
            for slice in 0..<(to.shape[0] * to.shape[1]) {
                to.matrix(slice).row(i).update(from: from.matrix(slice).row(i), count: to.shape[3])
            }
        }
        for (to, from) in [(r.hidden, s.hidden), (r.output, s.output)] {
            for b in 0..<to.shape[0] { to.matrix(b).row(i).update(from: from.matrix(b).row(i), count: to.shape[2]) }
        }
    }
}

/// One layer's part boundaries over a sequence: Q, K, V and A (`[b, h, n, d]`), H and the layer's
/// output Y (`[b, n, D]`). What ``Verification`` compares with the Float64 stack end to end.
public struct LayerBoundaries: Sendable {
    public let q, k, v, attention, hidden, output: Tensor

    public init(q: Tensor, k: Tensor, v: Tensor, attention: Tensor, hidden: Tensor, output: Tensor) {
        (self.q, self.k, self.v, self.attention, self.hidden, self.output) = (q, k, v, attention, hidden, output)
    }

    /// A training forward's boundaries for one layer (the same tensors, not copies).
    public init(_ s: EncoderStack.LayerActivations) {
        self.init(q: s.q, k: s.k, v: s.v, attention: s.attention, hidden: s.hidden, output: s.output)
    }
}
