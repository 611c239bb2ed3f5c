import AttentionKernels

/// What a point times: one forward pass over n tokens, or generating n tokens one at a time.
public enum RunMode: String, CaseIterable, Sendable, Codable {
    /// One call of the attention kernel on `[b, h, n, d]` inputs.
    case forward
    /// ``Generation``: n tokens decoded one by one (KV cache for softmax, RNN state for linear).
    case decode
}

/// One point of a sweep: a mechanism at one shape and thread count.
/// `projectedLength` and `sharing` are set for Linformer only; `prompt` for decode points only
/// (which are always causal).
public struct SweepPoint: Hashable, Sendable {
    public var mechanism: Mechanism
    public var mode: RunMode
    public var causal: Bool
    public var sharing: ProjectionSharing?
    public var length: Int
    public var projectedLength: Int?
    /// Decode: the first `prompt` tokens are given (teacher-forced), the rest fed back.
    public var prompt: Int?
    public var batch: Int
    public var heads: Int
    public var headDim: Int
    public var threads: Int

    public init(
        mechanism: Mechanism, mode: RunMode = .forward, causal: Bool = false, sharing: ProjectionSharing? = nil,
        length: Int, projectedLength: Int? = nil, prompt: Int? = nil, batch: Int, heads: Int, headDim: Int, threads: Int
    ) {
        self.mechanism = mechanism
        self.mode = mode
        self.causal = causal
        self.sharing = sharing
        self.length = length
        self.projectedLength = projectedLength
        self.prompt = prompt
        self.batch = batch
        self.heads = heads
        self.headDim = headDim
        self.threads = threads
    }

    public var shape: AttentionShape {
        AttentionShape(batch: batch, heads: heads, length: length, headDim: headDim)
    }

    /// The identifying fields as they appear in the CSV, in ``ResultRow/keyColumns`` order.
    public var keyFields: [String] {
        [mechanism.rawValue, mode.rawValue, String(causal), sharing?.rawValue ?? "", String(length),
         projectedLength.map(String.init) ?? "", prompt.map(String.init) ?? "",
         String(batch), String(heads), String(headDim), String(threads)]
    }

    /// A short human description for progress lines.
    public var label: String {
        var text = mechanism.rawValue + (mode == .decode ? " decode" : causal ? " causal" : "")
        if let k = projectedLength { text += " k=\(k)" }
        if let prompt, mode == .decode { text += " prompt=\(prompt)" }
        return text + " n=\(length) b=\(batch) h=\(heads) d=\(headDim) t=\(threads)"
    }

    /// The analytic cost of one call at this point (no allocation): a forward pass, or a whole
    /// generation of n tokens.
    public var cost: AttentionCost {
        if mode == .decode {
            return Generation.cost(
                mechanism: mechanism, batch: batch, heads: heads, headDim: headDim, length: length, prompt: prompt ?? 1)
        }
        return switch mechanism {
        case .standard: SoftmaxAttention(causal: causal).cost(for: shape)
        case .linear: LinearAttention(causal: causal).cost(for: shape)
        case .linformer: LinformerAttention.cost(for: shape, projectedLength: projectedLength!, sharing: sharing!)
        }
    }

    /// The most heap the point needs at once: Q, K, V, the parameters, one call's intermediates and
    /// output, and OpenBLAS's 512 KiB job array. This is what the memory guard compares with the budget.
    /// A decode point has no q, k, v inputs (its parameters hold the projections and the prompt).
    public var predictedBytes: Int {
        let inputs = mode == .decode ? 0 : 3 * AttentionCost.floats(batch * heads * length * headDim)
        return inputs + cost.parameterBytes + cost.callPeakBytes + 512 * 1024
    }

    /// Builds the generation of a decode point (its projections and prompt are seeded from `seed`).
    public func makeGeneration(seed: UInt64) throws(KernelConfigurationError) -> Generation {
        try Generation(mechanism: mechanism, batch: batch, heads: heads, headDim: headDim, length: length,
                       prompt: prompt ?? 1, seed: seed)
    }

    /// Builds the kernel of a forward point (Linformer's projections are seeded from `seed`).
    public func makeKernel(seed: UInt64) -> any AttentionKernel {
        switch mechanism {
        case .standard: return SoftmaxAttention(causal: causal)
        case .linear: return LinearAttention(causal: causal)
        case .linformer:
            let projections = LinformerProjections.seeded(
                k: projectedLength!, length: length, heads: heads, sharing: sharing!, seed: seed &+ 3)
            return try! LinformerAttention(projections: projections)
        }
    }
}
