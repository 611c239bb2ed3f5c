import AttentionKernels

/// A stack of L post-LN Transformer encoder layers (BERT, RoBERTa: Vaswani et al. 2017 with the
/// LayerNorm after each residual sum) around any of the suite's attention cores, so that the cores
/// can be timed inside the model the papers time (Linformer Table 3: a RoBERTa; "Transformers are
/// RNNs" §4.2: 8- and 16-layer image models). Per layer, on X `[b, n, D]`, D = h·d:
///
///     Q, K, V = X Wq + bq, X Wk + bk, X Wv + bv          [T, D]·[D, D], viewed per head as [b, h, n, d]
///     A = core(Q, K, V)                                   [b, h, n, d]
///     H = LayerNorm1(X + A Wo + bo)                       [T, D]·[D, D] (A read per head)
///     Y = LayerNorm2(H + GELU(H W1 + b1) W2 + b2)         [T, D]·[D, M], [T, M]·[M, D]
///
/// with T = b·n rows, M = m·D, GELU in BERT's tanh form (``GELU``) and LayerNorm over D with
/// learned γ, β and ε = 1e-5 (``LayerNorm``). Layer l's output is layer l+1's input; each layer has
/// its own weights (``EncoderWeights``, seeded from `seed &+ l`) and its own core.
///
/// Layout: no transposes. Q, K and V are projected per (batch, head) slice straight into the
/// `[b, h, n, d]` tensors the cores take, X_b `[n, D]` times the column block Wq[:, h·d..<(h+1)·d]
/// (a `[D, d]` view with row stride D); the output projection accumulates A_{b,h} `[n, d]` times the
/// row block Wo[h·d..<(h+1)·d, :] into the `[n, D]` rows of H (BLAS `beta = 1`), which start as
/// X + bo, so the residual costs no pass of its own. Biases are written into the output rows
/// before the product (`beta = 1`), not added after it.
///
/// Cost of one forward call: `8·T·D² + 4·T·D·M` FLOPs in the layer's products (QKV 6·T·D², output
/// projection 2·T·D², FFN 4·T·D·M) per layer plus its core's; LayerNorm, GELU and the biases are
/// element-wise and not counted (as in ``AttentionCost``). Memory: see ``cost(batch:length:pass:)``.
///
/// Threads: the per-slice products run on ``ComputeThreads/forEachSlice(_:splitSlices:_:)`` (slices
/// split across threads, OpenBLAS single-threaded in each), the FFN's two `[T, ·]` products on
/// OpenBLAS's threads, the element-wise passes on ``ComputeThreads/parallelFor(_:_:)`` over rows.
/// Every sum the stack forms itself (bias and γ/β gradients, the batch sum of each weight gradient,
/// the heads accumulated into a row) runs in one fixed order; OpenBLAS, though, rounds a product
/// differently at different thread counts (and even for different row or column splits of it), so
/// results at 1 and 2 threads agree within the reference's bound, not bit for bit. Every allocation
/// happens on the calling thread.
public final class EncoderStack: @unchecked Sendable {
    public let configuration: LayerConfiguration
    /// One attention core per layer (layer l's `cores[l]`).
    public let cores: [any DifferentiableAttention]
    /// One set of weights per layer.
    public let weights: [EncoderWeights]

    /// Builds L layers around `cores` (one per layer, `cores.count == configuration.layers`) with
    /// weights seeded from `seed &+ l` for layer l (``EncoderWeights/seeded(modelDim:ffnDim:seed:)``).
    public convenience init(configuration: LayerConfiguration, cores: [any DifferentiableAttention], seed: UInt64) {
        let (dm, hidden) = (configuration.modelDim, configuration.ffnDim)
        precondition(
            configuration.layers >= 1, "an encoder stack needs at least one layer, got \(configuration.layers)")
        precondition(
            configuration.heads >= 1 && configuration.headDim >= 1 && configuration.ffnMultiplier >= 1,
            "an encoder layer needs h, d, m ≥ 1, got \(configuration)")
        let weights = (0..<configuration.layers).map { l in
            EncoderWeights.seeded(modelDim: dm, ffnDim: hidden, seed: seed &+ UInt64(l))
        }
        self.init(configuration: configuration, cores: cores, weights: weights)
    }

    /// Builds the stack from caller-made weights (one ``EncoderWeights`` per layer, D = h·d, M = m·D).
    public init(configuration: LayerConfiguration, cores: [any DifferentiableAttention], weights: [EncoderWeights]) {
        precondition(
            cores.count == configuration.layers,
            "an encoder stack of \(configuration.layers) layers needs \(configuration.layers) cores, got \(cores.count)"
        )
        precondition(
            weights.count == configuration.layers,
            "an encoder stack of \(configuration.layers) layers needs \(configuration.layers) weight sets, got \(weights.count)"
        )
        for w in weights {
            precondition(
                w.modelDim == configuration.modelDim && w.ffnDim == configuration.ffnDim,
                "encoder weights are for D = \(w.modelDim), M = \(w.ffnDim); the configuration has D = \(configuration.modelDim), M = \(configuration.ffnDim)"
            )
        }
        self.configuration = configuration
        self.cores = cores
        self.weights = weights
    }

    /// Bytes held across calls: every layer's weights, biases, γ and β, and the cores' own
    /// parameters (Linformer's E and F, their ``AttentionCost/parameterBytes``).
    public var parameterBytes: Int {
        let h = configuration.heads
        let d = configuration.headDim
        return zip(weights, cores).reduce(0) { total, layer in
            let length = (layer.1 as? LinformerAttention)?.projections.length ?? 1
            let core = layer.1.cost(for: AttentionShape(batch: 1, heads: h, length: length, headDim: d)).parameterBytes
            return .saturatingSum(total, layer.0.byteCount, core)
        }
    }

    // MARK: - Forward

    /// The stack's output Y `[b, n, D]` for X `[b, n, D]` (inference: nothing is kept).
    public func callAsFunction(x: Tensor) -> Tensor {
        _ = checkedShape(x)
        var current = x
        for l in 0..<configuration.layers { current = layer(l, current) }
        return current
    }

    /// The `[b, h, n, d]` shape of the cores' tensors for an input X `[b, n, D]`, after checking X.
    package func checkedShape(_ x: Tensor) -> AttentionShape {
        precondition(
            x.shape.count == 3 && x.shape[2] == configuration.modelDim,
            "encoder stack: the input must be [b, n, D = \(configuration.modelDim)], got \(x.shape)")
        return configuration.coreShape(batch: x.shape[0], length: x.shape[1])
    }

    /// One layer of inference. X stays alive until the layer returns (the caller holds it).
    private func layer(_ l: Int, _ x: Tensor) -> Tensor {
        let h = attentionBlock(l, x)
        return feedForward(l, h)
    }

    /// H = LayerNorm1(X + core(Q, K, V) Wo + bo): Q, K, V are freed with ``attend(_:_:)``'s return, A
    /// once H holds its projection.
    private func attentionBlock(_ l: Int, _ x: Tensor) -> Tensor {
        let a = attend(l, x)
        var clock = PhaseClock.start()
        let h = Tensor(uninitialized: x.shape, label: "layer: H (attention block)")  // [b, n, D]
        outputProjection(l, attention: a, residual: x, into: h)
        LayerNorm.forward(rows: rows(h), gamma: weights[l].gamma1, beta: weights[l].beta1)
        clock.lap(Self.phases.output)
        return h
    }

    /// core(Q, K, V) for layer l; Q, K, V live only inside this call.
    private func attend(_ l: Int, _ x: Tensor) -> Tensor {
        var clock = PhaseClock.start()
        let (q, k, v) = project(l, x)
        clock.lap(Self.phases.projections)
        let a = cores[l](q: q, k: k, v: v)
        clock.lap(Self.phases.core)
        return a
    }

    /// The parts of a layer, as `attnbench profile` names them (the core's own phases are a level
    /// below, inside "attention core"). The training step's backward parts are the same names
    /// with "(backward)".
    package static let phases = (
        projections: Phase.named("Q, K, V projections", level: .layer),
        core: Phase.named("attention core", level: .layer),
        output: Phase.named("output projection, residual, LayerNorm", level: .layer),
        feedForward: Phase.named("FFN, residual, LayerNorm", level: .layer),
        projectionsBackward: Phase.named("Q, K, V projections (backward)", level: .layer),
        coreBackward: Phase.named("attention core (backward)", level: .layer),
        outputBackward: Phase.named("output projection, residual, LayerNorm (backward)", level: .layer),
        feedForwardBackward: Phase.named("FFN, residual, LayerNorm (backward)", level: .layer)
    )

    /// Y = LayerNorm2(H + GELU(H W1 + b1) W2 + b2), GELU in place on the hidden rows.
    private func feedForward(_ l: Int, _ h: Tensor) -> Tensor {
        var clock = PhaseClock.start()
        defer { clock.lap(Self.phases.feedForward) }
        // [b, n, M]
        let u = Tensor(uninitialized: [h.shape[0], h.shape[1], configuration.ffnDim], label: "layer: FFN hidden")
        hiddenPreActivation(l, h, into: u)
        GELU.apply(rows(u), into: rows(u))
        let y = Tensor(uninitialized: h.shape, label: "layer: output Y")  // [b, n, D]
        ffnOutput(l, activation: u, residual: h, into: y)
        LayerNorm.forward(rows: rows(y), gamma: weights[l].gamma2, beta: weights[l].beta2)
        return y
    }

    // MARK: - The layer's products (shared by inference and the training forward)

    /// All `[b, ·, c]` rows of a `[b, n, c]` tensor as one `[T, c]` matrix (T = b·n).
    package func rows(_ t: Tensor) -> MatrixView {
        MatrixView(base: t.data, rows: t.shape[0] * t.shape[1], cols: t.shape[2])
    }

    /// Columns `block·width..<(block+1)·width` of a `[rows, cols]` weight: a `[rows, width]` view.
    static func columns(_ w: Tensor, block: Int, width: Int) -> MatrixView {
        MatrixView(base: w.data + block * width, rows: w.shape[0], cols: width, rowStride: w.shape[1])
    }

    /// Rows `block·height..<(block+1)·height` of a `[rows, cols]` weight: a `[height, cols]` view.
    static func rowBlock(_ w: Tensor, block: Int, height: Int) -> MatrixView {
        MatrixView(base: w.data + block * height * w.shape[1], rows: height, cols: w.shape[1])
    }

    /// Every row of `m` set to `bias` (`m.cols` floats), rows split across threads.
    package static func fill(_ m: MatrixView, with bias: UnsafePointer<Float>) {
        ComputeThreads.parallelFor(m.rows) { range in
            for i in range { m.row(i).update(from: bias, count: m.cols) }
        }
    }

    /// Q, K, V `[b, h, n, d]` of layer l: per slice (batch β, head η), X_β W_η + b_η, with W_η the
    /// η-th `[D, d]` column block of Wq (Wk, Wv): 6·T·D² FLOPs.
    func project(_ l: Int, _ x: Tensor) -> (q: Tensor, k: Tensor, v: Tensor) {
        let shape = checkedShape(x)
        let (heads, d) = (shape.heads, shape.headDim)
        let w = weights[l]
        let q = Tensor(uninitialized: shape.dims, label: "layer: Q")  // [b, h, n, d]
        let k = Tensor(uninitialized: shape.dims, label: "layer: K")  // [b, h, n, d]
        let v = Tensor(uninitialized: shape.dims, label: "layer: V")  // [b, h, n, d]
        ComputeThreads.forEachSlice(shape.slices) { s, _ in
            let (batch, head) = (s / heads, s % heads)
            func one(_ out: Tensor, _ weight: Tensor, _ bias: Tensor) {
                let o = out.matrix(s)
                for i in 0..<o.rows { o.row(i).update(from: bias.data + head * d, count: d) }
                // [n, D]·[D, d] → [n, d]
                BLAS.gemm(x.matrix(batch), Self.columns(weight, block: head, width: d), into: o, beta: 1)
            }
            one(q, w.wq, w.bq)
            one(k, w.wk, w.bk)
            one(v, w.wv, w.bv)
        }
        return (q, k, v)
    }

    /// `h ← X + bo + Σ_η A_{β,η} Wo_η` per batch element β (Wo_η the η-th `[d, D]` row block of Wo,
    /// heads accumulated in order): 2·T·D² FLOPs.
    func outputProjection(_ l: Int, attention a: Tensor, residual x: Tensor, into h: Tensor) {
        let (batch, n, dm) = (x.shape[0], x.shape[1], x.shape[2])
        let (heads, d) = (configuration.heads, configuration.headDim)
        let w = weights[l]
        ComputeThreads.forEachSlice(batch) { b, _ in
            let (out, residual) = (h.matrix(b), x.matrix(b))
            for i in 0..<n {
                let (o, r) = (out.row(i), residual.row(i))
                for c in 0..<dm { o[c] = r[c] + w.bo.data[c] }
            }
            for head in 0..<heads {
                // [n, d]·[d, D] → [n, D]
                BLAS.gemm(a.matrix(b * heads + head), Self.rowBlock(w.wo, block: head, height: d), into: out, beta: 1)
            }
        }
    }

    /// U = H W1 + b1 (before GELU): `[T, D]·[D, M] → [T, M]`, 2·T·D·M FLOPs.
    package func hiddenPreActivation(_ l: Int, _ h: Tensor, into u: Tensor) {
        let w = weights[l]
        Self.fill(rows(u), with: w.b1.data)
        // [T, D]·[D, M] → [T, M]
        BLAS.gemm(rows(h), w.w1.matrix(0), into: rows(u), beta: 1)
    }

    /// `y ← H + b2 + G W2` for G = GELU(U): `[T, M]·[M, D] → [T, D]`, 2·T·D·M FLOPs.
    package func ffnOutput(_ l: Int, activation g: Tensor, residual h: Tensor, into y: Tensor) {
        let w = weights[l]
        let (out, residual) = (rows(y), rows(h))
        ComputeThreads.parallelFor(out.rows) { range in
            for i in range {
                let (o, r) = (out.row(i), residual.row(i))
                for c in 0..<out.cols { o[c] = r[c] + w.b2.data[c] }
            }
        }
        // [T, M]·[M, D] → [T, D]
        BLAS.gemm(rows(g), w.w2.matrix(0), into: out, beta: 1)
    }
}
