import AttentionKernels
import Decoding
import Reporting
import Results

/// What the harness builds and predicts for a point: its shape, the cost model, the kernel or
/// generation it times, and the heap it will need.
extension SweepPoint {
    public var shape: AttentionShape {
        AttentionShape(batch: batch, heads: heads, length: length, headDim: headDim)
    }

    /// The analytic cost of one call at this point (no allocation): a forward pass, a backward pass
    /// or a training step (``pass``), or a whole generation of n tokens. Byte counts saturate at
    /// `Int.max` for sizes beyond any machine.
    public var cost: AttentionCost { cost(of: pass) }

    /// The cost of `pass` at this point's shape (a decode point's generation has one pass).
    ///
    /// Sizes beyond any machine (``costModelFits`` false) get ``AttentionCost/beyondAnyMachine``
    /// without evaluating the kernels' models.
    public func cost(of pass: Pass) -> AttentionCost {
        guard costModelFits else { return .beyondAnyMachine }
        if mode == .forward && scope == .layer { return layerCost(of: pass) }
        if mode == .decode && scope == .layer {
            return LayerGeneration.cost(
                configuration: layerConfiguration, mechanism: mechanism, decoder: decoder,
                batch: batch, length: length, prompt: prompt ?? 1, settings: mechanismSettings)
        }
        if mode == .decode {
            return Generation.cost(
                mechanism: mechanism, decoder: decoder, batch: batch, heads: heads, headDim: headDim, length: length,
                prompt: prompt ?? 1)
        }
        return mechanism.kernels.cost(mechanismSettings, shape, pass, threads)
    }

    /// The point's causal setting and the values of its mechanism's axes, as its kernels take them.
    public var mechanismSettings: MechanismSettings {
        MechanismSettings(
            causal: causal, projectedLength: projectedLength, sharing: sharing, hashRounds: hashRounds,
            buckets: buckets, chunk: chunk, features: features)
    }

    /// Whether the kernels' cost model can be evaluated at this point without overflowing: sizes
    /// are at least 1, layers at most ``maximumLayers``, and no product it forms (slices·n², slices·n·d, slices·d², slices·n·k,
    /// slices·k·d, heads·k·n, heads·d², slices·prompt·d; at layer scope also b·n·D·m, L·m·D² and
    /// L·heads·k·n) exceeds 2^56, computed in `Double`.
    public var costModelFits: Bool {
        let sizes = [
            batch, heads, length, headDim, projectedLength ?? 1, prompt ?? 1, ffnMultiplier ?? 1, layers ?? 1,
            hashRounds ?? 1, buckets ?? 2, chunk ?? 1, features ?? 1,
        ]
        guard sizes.allSatisfy({ $0 >= 1 }), (layers ?? 1) <= Self.maximumLayers else { return false }
        let (b, h, n, d) = (Double(batch), Double(heads), Double(length), Double(headDim))
        let (k, p) = (Double(projectedLength ?? 1), Double(prompt ?? 1))
        let s = b * h
        let (r, nb, c, m) = (Double(hashRounds ?? 1), Double(buckets ?? 2), Double(chunk ?? 1), Double(features ?? 1))
        var products = [s * n * n, s * n * d, s * d * d, s * n * k, s * k * d, h * k * n, h * d * d, s * p * d, s * n]
        products += [s * r * n * c, s * r * n * nb, r * d * nb, s * n * m, s * m * d, m * d]
        if scope == .layer {
            let (m, l, dm) = (Double(ffnMultiplier ?? 4), Double(layers ?? 1), h * d)
            products += [b * n * dm * m, l * m * dm * dm, l * h * k * n, l * s * n * n]
        }
        return products.allSatisfy { $0 <= 0x1p56 }
    }

    /// The most heap the point needs at once: Q, K, V (and dO for a backward or training pass), the
    /// parameters, one call's intermediates and output, and OpenBLAS's 512 KiB job array. A backward
    /// point's call runs on a forward saved beforehand, so it holds as much as a training step.
    /// This is what the memory guard compares with the budget.
    /// A decode point has no q, k, v inputs (its parameters hold the projections and the prompt).
    /// Saturates at `Int.max`, so a size beyond any machine is refused, never a trap.
    public var predictedBytes: Int {
        let cost = self.cost(of: pass == .backward ? .train : pass)
        // Q, K, V (and dO) of the core, or X (and dO) `[b, n, h·d]` of a layer stack.
        let tensors = mode == .decode ? 0 : scope == .layer ? (pass == .forward ? 1 : 2) : (pass == .forward ? 3 : 4)
        let inputs = Int.saturatingProduct(tensors, AttentionCost.floats(batch, heads, length, headDim))
        return Int.saturatingSum(inputs, cost.parameterBytes, cost.callPeakBytes, 512 * 1024)
    }

    /// The most threads a point, or any command, may use: far above any machine's cores (more
    /// than the cores is allowed, with a warning), and inside OpenBLAS's `Int32` thread count.
    public static let maximumThreads = 4096

    /// The deepest stack a point may build: far beyond the papers' 16 layers, and small enough that
    /// the cost model's per-layer walk stays instant.
    public static let maximumLayers = 4096

    /// Refuses a point that cannot be built at all, before anything is allocated or any thread
    /// count is set: a size below 1, a thread count outside 1...``maximumThreads``, a Linformer
    /// point without k or sharing. Points from the command line always pass; points read back
    /// from a CSV (the check's re-measure) can hold anything.
    public func checkMeasurable() throws(UsageError) {
        let sizes: [(String, Int?)] = [
            ("n", length), ("batch", batch), ("heads", heads), ("d", headDim),
            ("k", projectedLength), ("hash_rounds", hashRounds), ("buckets", buckets), ("chunk", chunk),
            ("features", features), ("prompt", prompt), ("ffn_mult", ffnMultiplier), ("layers", layers),
        ]
        for case (let name, let value?) in sizes where value < 1 {
            throw UsageError("\(label) cannot be measured: \(name) = \(value), it must be at least 1")
        }
        if let buckets, buckets % 2 != 0 {
            throw UsageError("\(label) cannot be measured: buckets = \(buckets), it must be even")
        }
        if let layers, layers > Self.maximumLayers {
            throw UsageError(
                "\(label) cannot be measured: layers = \(layers), it must be at most \(Self.maximumLayers)")
        }
        guard (1...Self.maximumThreads).contains(threads) else {
            throw UsageError(
                "\(label) cannot be measured: threads = \(threads), it must be between 1 and \(Self.maximumThreads)")
        }
        let axes = MechanismAxis.allCases.filter(mechanism.descriptor.axes.contains)
        if mode == .forward, let missing = axes.first(where: { !has($0) }) {
            let needed = axes.map(\.rawValue).joined(separator: " and ")
            throw UsageError(
                "\(label) cannot be measured: a \(mechanism.descriptor.title) point needs \(needed), and this one has no \(missing.rawValue)"
            )
        }
    }

    /// Whether the point holds a value for `axis`.
    func has(_ axis: MechanismAxis) -> Bool {
        switch axis {
        case .projectedLength: projectedLength != nil
        case .sharing: sharing != nil
        case .hashRounds: hashRounds != nil
        case .buckets: buckets != nil
        case .chunk: chunk != nil
        case .features: features != nil
        }
    }

    /// Builds the generation of a decode point (its projections and prompt are seeded from `seed`).
    public func makeGeneration(seed: UInt64) throws(KernelConfigurationError) -> Generation {
        try Generation(
            mechanism: mechanism, decoder: decoder, batch: batch, heads: heads, headDim: headDim, length: length,
            prompt: prompt ?? 1, seed: seed)
    }

    /// Builds the kernel of a forward point (Linformer's projections are seeded from `seed`: a
    /// mechanism with a k axis gets E and F `[k, n]`, shared as the point says).
    public func makeKernel(seed: UInt64) throws(KernelConfigurationError) -> any AttentionKernel {
        var projections: LinformerProjections?
        if mechanism.descriptor.axes.contains(.projectedLength) {
            guard let k = projectedLength, let sharing else {
                throw KernelConfigurationError("a \(mechanism.descriptor.title) point needs k and sharing")
            }
            projections = LinformerProjections.seeded(
                k: k, length: length, heads: heads, sharing: sharing, seed: seed &+ 3)
        }
        return try makeAttentionKernel(
            mechanism, settings: mechanismSettings, projections: projections, seed: seed &+ 5, headDim: headDim)
    }
}

extension AttentionCost {
    /// The cost of a point too large for the cost model's `Int` arithmetic: bytes saturated at
    /// `Int.max` (so any budget refuses it) and infinite FLOPs.
    public static let beyondAnyMachine = AttentionCost(
        flops: .infinity, intermediateBytes: Int.max, outputBytes: 0, parameterBytes: Int.max)
}
