import AttentionKernels

/// Autoregressive generation through one causal attention layer, token by token, as a model
/// generates an image pixel by pixel ("Transformers are RNNs" §4.2).
///
/// For each (batch, head) slice and position i = 0…N−1:
///
///     [q_i | k_i | v_i] = x_i · W_h                 (DecodeProjections, 6·d² FLOPs)
///     y_i = decoder.step(q_i, k_i, v_i)             (KV cache: 4·(i+1)·d FLOPs; RNN state: 4·d² + 3·d;
///                                                    recompute: 4·(i+1)²·d, the whole causal prefix again)
///     x_{i+1} = prompt token i+1 while i+1 < P, else (x_i + y_i) / rms(x_i + y_i)
///
/// The first P tokens (the prompt, P ≥ 1) have seeded N(0, 1) sources and are ingested step by step,
/// as an RNN ingests them; every later token's source is the previous output fed back, so each step
/// depends on the one before and nothing can be skipped. Softmax decoding therefore costs O(N²·d) per
/// sequence with its cache (``KVCacheDecoder``), O(N³·d) without one (``RecomputeDecoder``), and
/// linear decoding O(N·d²) (``RecurrentDecoder``).
///
/// Threads: the slices are independent (each head feeds back its own output), so they are split
/// across ``ComputeThreads`` workers, each generating whole sequences for its slices on one thread.
public struct Generation: Sendable {
    public let mechanism: Mechanism
    /// How tokens are generated: ``Decoder/default(for:)`` unless another supported one is named.
    public let decoder: Decoder
    public let batch: Int
    public let heads: Int
    public let headDim: Int
    /// N: tokens per sequence, prompt included.
    public let length: Int
    /// P: prompt tokens (at least 1, at most N).
    public let prompt: Int
    public let projections: DecodeProjections
    /// `[b, h, P, d]`: the prompt tokens' sources.
    public let promptSources: Tensor

    /// - Throws: ``KernelConfigurationError`` for a mechanism that does not decode (``unsupported(_:)``:
    /// Linformer, which has no causal form to decode with, and flash attention, whose tiles have
    /// nothing to stream one token at a time), and for a decoder the mechanism does not run
    /// (``unsupported(_:decoder:)``).
    public init(
        mechanism: Mechanism, decoder: Decoder? = nil, batch: Int, heads: Int, headDim: Int, length: Int,
        prompt: Int = 1,
        seed: UInt64
    ) throws(KernelConfigurationError) {
        if let reason = Self.unsupported(mechanism, decoder: decoder) ?? Self.notAlone(mechanism) { throw reason }
        guard let decoder = decoder ?? Decoder.default(for: mechanism) else { throw Self.noDecoder(mechanism) }
        self.decoder = decoder
        precondition(batch >= 1 && heads >= 1 && headDim >= 1, "decode: batch, heads and head dimension must be ≥ 1")
        precondition(prompt >= 1 && prompt <= length, "decode: the prompt (\(prompt)) must be 1…N (\(length)) tokens")
        self.mechanism = mechanism
        (self.batch, self.heads, self.headDim, self.length, self.prompt) = (batch, heads, headDim, length, prompt)
        projections = DecodeProjections.seeded(heads: heads, headDim: headDim, seed: seed &+ 5)
        promptSources = Tensor.normal([batch, heads, prompt, headDim], seed: seed &+ 6, label: "decode: prompt")
    }

    /// Why `mechanism` cannot decode with `decoder` (nil: its default), or nil when it can: the
    /// mechanism's own reason (``unsupported(_:)``), or a decoder it does not run
    /// (``Decoder/supported(by:)``: softmax's cache or recomputation, linear attention's state).
    public static func unsupported(_ mechanism: Mechanism, decoder: Decoder?) -> KernelConfigurationError? {
        if let reason = unsupported(mechanism) { return reason }
        guard let decoder, !Decoder.supported(by: mechanism).contains(decoder) else { return nil }
        return noDecoder(mechanism, decoder)
    }

    /// Why `mechanism` does not decode on the core alone (it decodes through the whole model only), or nil.
    public static func notAlone(_ mechanism: Mechanism) -> KernelConfigurationError? {
        guard !mechanism.descriptor.supports.decodesAtCoreScope else { return nil }
        return KernelConfigurationError(
            "\(mechanism.rawValue) decodes only through the whole model (--scope layer): its recompute decoder re-runs the encoder stack over the prefix"
        )
    }

    /// The one-line reason a mechanism does not run a decoder.
    static func noDecoder(_ mechanism: Mechanism, _ decoder: Decoder? = nil) -> KernelConfigurationError {
        let supported = Decoder.supported(by: mechanism).map(\.rawValue).joined(separator: " or ")
        return KernelConfigurationError(
            "\(mechanism.rawValue) attention cannot decode with \(decoder?.rawValue ?? "no decoder"): it decodes with \(supported.isEmpty ? "none" : supported)"
        )
    }

    /// Why `mechanism` cannot decode (its descriptor's reason: the text of its skipped rows and of
    /// the error), or nil when it can.
    public static func unsupported(_ mechanism: Mechanism) -> KernelConfigurationError? {
        guard case .unsupported(let reason) = mechanism.descriptor.supports.decoding else { return nil }
        return KernelConfigurationError(reason)
    }

    /// Independent sequences: b·h.
    public var slices: Int { .saturatingProduct(batch, heads) }

    /// Generates all N tokens of every sequence and returns the final sources x_N (`[b, h, 1, d]`).
    /// `observer` (optional) is told when each worker starts and finishes each step (the harness
    /// times steps with it, see ``StepObserver``); `record` (optional) receives every q_i, k_i, v_i
    /// and y_i (for verification; it slows the loop).
    @discardableResult
    public func callAsFunction(observer: (any StepObserver)? = nil, record: DecodeRecord? = nil) -> Tensor {
        switch decoder {
        case .kvCache: run(KVCacheDecoder.self, observer: observer, record: record)
        case .recurrent: run(RecurrentDecoder.self, observer: observer, record: record)
        case .recompute: run(RecomputeDecoder.self, observer: observer, record: record)
        }
    }

    private func run<D: TokenDecoder>(_: D.Type, observer: (any StepObserver)?, record: DecodeRecord?) -> Tensor {
        let (n, d, p) = (length, headDim, prompt)
        observer?.willGenerate(workers: ComputeThreads.workerCount(slices), steps: n)
        let decoder = D(slices: slices, capacity: n, headDim: d)
        // per slice: x (d), y (d), q|k|v (3d)
        let scratch = Tensor(uninitialized: [slices, 1, 5 * d], label: "decode: step scratch")
        let sources = Tensor(uninitialized: [batch, heads, 1, d], label: "decode: sources x_N")  // x_N, returned

        ComputeThreads.forEachWorker(slices) { worker, mySlices in
            for s in mySlices { scratch.matrix(s).row(0).update(from: promptSources.matrix(s).row(0), count: d) }
            for i in 0..<n {
                observer?.stepStarted(worker: worker, step: i)
                for s in mySlices {
                    let x = scratch.matrix(s).row(0)
                    let (y, q) = (x + d, x + 2 * d)
                    let (k, v) = (q + d, q + 2 * d)
                    // [1, d]·[d, 3d] → [1, 3d]
                    projections.project(x, head: s % heads, into: q)
                    decoder.step(slice: s, position: i, q: q, k: k, v: v, out: y)
                    record?.store(slice: s, position: i, q: q, k: k, v: v, out: y)
                    if i + 1 < p {
                        x.update(from: promptSources.matrix(s).row(i + 1), count: d)
                    } else {
                        DecodeProjections.feedback(x, adding: y, count: d)
                    }
                }
                observer?.stepFinished(worker: worker, step: i)
            }
            for s in mySlices { sources.matrix(s).row(0).update(from: scratch.matrix(s).row(0), count: d) }
        }
        return sources
    }

    /// The analytic cost of one generation: FLOPs of all N steps of every slice (projections
    /// included); `intermediateBytes` = the decoder's state plus the scratch rows; `outputBytes` = x_N;
    /// `parameterBytes` = the projections and the prompt's sources (allocated before the call).
    public var cost: AttentionCost {
        Self.cost(
            mechanism: mechanism, decoder: decoder, batch: batch, heads: heads, headDim: headDim, length: length,
            prompt: prompt)
    }

    /// ``cost`` without building the generation (no allocation); `decoder` nil is the mechanism's
    /// default; Linformer, flash and unsupported decoders cost nothing (never run).
    public static func cost(
        mechanism: Mechanism, decoder: Decoder? = nil, batch: Int, heads: Int, headDim: Int, length n: Int, prompt: Int
    ) -> AttentionCost {
        let (slices, d) = (Int.saturatingProduct(batch, heads), Double(headDim))
        let state: Int
        let attention: Double
        guard unsupported(mechanism, decoder: decoder) == nil, notAlone(mechanism) == nil,
            let decoder = decoder ?? Decoder.default(for: mechanism)
        else {
            return AttentionCost(flops: 0, intermediateBytes: 0, outputBytes: 0)
        }
        switch decoder {
        case .kvCache:
            state = KVCacheDecoder.stateBytes(slices: slices, capacity: n, headDim: headDim)
            attention = 4 * d * Double(n) * (Double(n) + 1) / 2  // Σ_{i<N} 4·(i+1)·d
        case .recurrent:
            state = RecurrentDecoder.stateBytes(slices: slices, capacity: n, headDim: headDim)
            attention = Double(n) * RecurrentDecoder.stepFlops(position: 0, headDim: headDim)
        case .recompute:
            state = RecomputeDecoder.stateBytes(slices: slices, capacity: n, headDim: headDim)
            attention = 4 * d * Double(n) * (Double(n) + 1) * (2 * Double(n) + 1) / 6  // Σ_{i<N} 4·(i+1)²·d
        }
        let projection = Double(n) * 6 * d * d
        return AttentionCost(
            flops: Double(batch) * Double(heads) * (attention + projection),
            intermediateBytes: .saturatingSum(state, AttentionCost.floats(slices, 5, headDim)),
            outputBytes: AttentionCost.floats(slices, headDim),
            parameterBytes: .saturatingSum(
                AttentionCost.floats(heads, headDim, 3, headDim),
                AttentionCost.floats(slices, prompt, headDim)))
    }
}

/// Every q_i, k_i, v_i and y_i of a generation (`[b, h, N, d]` each), to verify decoding against the
/// causal forward kernels on the same sequence.
public final class DecodeRecord: @unchecked Sendable {
    public let q, k, v, out: Tensor

    public init(batch: Int, heads: Int, length: Int, headDim: Int) {
        let dims = [batch, heads, length, headDim]
        (q, k, v, out) = (
            Tensor(zeros: dims, label: "boundaries: q"), Tensor(zeros: dims, label: "boundaries: k"),
            Tensor(zeros: dims, label: "boundaries: v"), Tensor(zeros: dims, label: "boundaries: output")
        )
    }

    @inline(__always)
    func store(
        slice s: Int, position i: Int, q qi: UnsafePointer<Float>, k ki: UnsafePointer<Float>,
        v vi: UnsafePointer<Float>, out yi: UnsafePointer<Float>
    ) {
        let d = q.shape[3]
        q.matrix(s).row(i).update(from: qi, count: d)
        k.matrix(s).row(i).update(from: ki, count: d)
        v.matrix(s).row(i).update(from: vi, count: d)
        out.matrix(s).row(i).update(from: yi, count: d)
    }
}
