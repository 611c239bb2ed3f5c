import AttentionKernels
import Decoding
import Foundation
import Profiling
import Reporting
import Results

/// A sweep: the axes whose cartesian product gives the points, and how to measure each point.
///
/// Every setting has one key, used both as a preset line (`n = 512...8192`) and as a CLI flag
/// (`--n 512...8192`); ``apply(_:_:)`` parses either. `k` and `sharing` apply to the mechanisms with
/// those axes only (``MechanismDescriptor/axes``: Linformer); `causal` applies to the mechanisms with
/// a causal form (standard, linear and flash attention); a mechanism without one (Linformer) gets
/// skipped rows saying so for its causal points (a grid of nothing but those is refused).
/// `tokens` fixes the number of tokens per call instead of the batch: batch = tokens / n, as in
/// "Transformers are RNNs" Figure 1. `mode` = `decode` measures generating n tokens one at a time
/// (always causal, whatever `causal` says; a mechanism that does not decode gets a skipped row), with
/// `prompt` tokens given. `pass` = `backward` or `train` times the backward pass alone (given a saved
/// forward) or a whole training step (forward + backward) of forward-mode points; decode points are
/// timed once, as the forward generation they are, whatever `pass` says. Flash attention has no
/// decoder: its decode points are skipped rows too. `decoder` picks how decode points generate
/// (``Decoder``; empty: each mechanism's own, softmax's KV cache and linear's state); a mechanism
/// gets the listed decoders it supports, or a skipped row when it supports none of them. `scope` =
/// `layer` times encoder layers around the core (`layers` of them, FFN `ffn-mult`·d_model wide).
public struct SweepSpec: Equatable, Sendable {
    public var name = "custom"
    public var mechanisms: [Mechanism] = Mechanism.allCases
    public var lengths: [Int] = [512, 1024, 2048]
    public var projectedLengths: [Int] = [128]
    public var batches: [Int] = [1]
    public var tokens: Int?
    public var heads: [Int] = [8]
    public var headDims: [Int] = [64]
    public var threads: [Int] = [ProcessInfo.processInfo.activeProcessorCount]
    public var causal: [Bool] = [false]
    public var modes: [RunMode] = [.forward]
    /// Forward-mode points only: which passes of each call are timed.
    public var passes: [Pass] = [.forward]
    /// Decode only: tokens given before generation starts (at least 1, the start token).
    public var prompts: [Int] = [1]
    /// Linformer's projection sharing. Key-value sharing is the single-layer form of the layerwise
    /// sharing that the paper's Table 3 timed.
    public var sharing: [ProjectionSharing] = [.keyValue]
    /// Reformer's hashing rounds (the RNN paper's lsh-1, lsh-4, lsh-8), buckets per round (even;
    /// 64 in the RNN paper) and sorted tokens per chunk (32).
    public var hashRounds: [Int] = [1]
    public var buckets: [Int] = [64]
    public var chunks: [Int] = [32]
    /// Performer's random features m (256, LRA's setting).
    public var features: [Int] = [256]
    /// The core alone or encoder layers around it.
    public var scopes: [Scope] = [.core]
    /// Layer scope: layers stacked, and the FFN's width as a multiple of d_model.
    public var layers: [Int] = [1]
    public var ffnMultipliers: [Int] = [4]
    /// Decode: the decoders to run (empty: each mechanism's default).
    public var decoders: [Decoder] = []
    public var policy = TimingPolicy()
    public var seed: UInt64 = 42
    /// Heap bytes a point may need (``SweepPoint/predictedBytes``); nil means 60% of MemAvailable.
    public var memoryBudget: Int?
    /// Steps to sample when a layer-scope `recompute` generation is estimated (``StratifiedSteps``):
    /// one over max-time is estimated instead of skipped, and one measured in full is estimated too,
    /// beside it (`<name>.estimates.csv`), to check the estimator. Nil: no estimates.
    public var estimateSteps: Int?

    public init() {}

    /// The keys ``apply(_:_:)`` accepts, in the order `--help` and presets list them.
    public static let keys = [
        "mechanism", "scope", "n", "k", "batch", "tokens", "heads", "head-dim", "layers", "ffn-mult", "threads",
        "causal",
        "sharing", "hash-rounds", "buckets", "chunk", "features", "mode", "decoder", "pass", "prompt", "warmups",
        "min-reps", "min-time", "max-time", "cycles", "seed",
        "memory-budget",
        "estimate-steps",
    ]

    /// Sets one setting from its text form.
    public mutating func apply(_ key: String, _ value: String) throws(UsageError) {
        switch key {
        case "mechanism": mechanisms = try ValueList.names(value, axis: key) { Mechanism(rawValue: $0) }
        case "n": lengths = try ValueList.integers(value, axis: key)
        case "k": projectedLengths = try ValueList.integers(value, axis: key)
        case "batch":
            batches = try ValueList.integers(value, axis: key)
            tokens = nil
        case "tokens":
            let values = try ValueList.integers(value, axis: key)
            guard values.count == 1 else { throw UsageError("--tokens takes one value, got '\(value)'") }
            tokens = values[0]
        case "heads": heads = try ValueList.integers(value, axis: key)
        case "head-dim": headDims = try ValueList.integers(value, axis: key)
        case "threads":
            threads = try ValueList.integers(value, axis: key)
            if let t = threads.first(where: { $0 > SweepPoint.maximumThreads }) {
                throw UsageError("--threads: \(t) is more than \(SweepPoint.maximumThreads) threads")
            }
        case "causal":
            causal = try ValueList.names(value, axis: key) { ["true": true, "false": false][$0.lowercased()] }
        case "sharing": sharing = try ValueList.names(value, axis: key) { ProjectionSharing(rawValue: $0) }
        case "hash-rounds": hashRounds = try ValueList.integers(value, axis: key)
        case "buckets":
            buckets = try ValueList.integers(value, axis: key)
            if let odd = buckets.first(where: { $0 < 2 || $0 % 2 != 0 }) {
                throw UsageError(
                    "--buckets: \(odd) is not an even number ≥ 2 (a round's buckets are the argmax over [xR; −xR])")
            }
        case "chunk": chunks = try ValueList.integers(value, axis: key)
        case "features": features = try ValueList.integers(value, axis: key)
        case "mode": modes = try ValueList.names(value, axis: key) { RunMode(rawValue: $0) }
        case "scope": scopes = try ValueList.names(value, axis: key) { Scope(rawValue: $0) }
        case "layers":
            layers = try ValueList.integers(value, axis: key)
            if let l = layers.first(where: { $0 > SweepPoint.maximumLayers }) {
                throw UsageError("--layers: \(l) is more than \(SweepPoint.maximumLayers) layers")
            }
        case "ffn-mult": ffnMultipliers = try ValueList.integers(value, axis: key)
        case "decoder": decoders = try ValueList.names(value, axis: key) { Decoder(rawValue: $0) }
        case "pass": passes = try ValueList.names(value, axis: key) { Pass(rawValue: $0) }
        case "prompt": prompts = try ValueList.integers(value, axis: key)
        case "warmups": policy.warmups = try count(value, key, minimum: 0)
        case "min-reps": policy.minReps = try count(value, key, minimum: 1)
        case "min-time": policy.minSeconds = try seconds(value, key)
        case "max-time": policy.maxSeconds = try seconds(value, key)
        case "cycles": policy.cycles = try count(value, key, minimum: 1, maximum: 1000)
        case "seed":
            guard let s = UInt64(value.trimmingCharacters(in: .whitespaces)) else {
                throw UsageError("--seed: '\(value)' is not a non-negative whole number")
            }
            seed = s
        case "memory-budget": memoryBudget = try ValueList.bytes(value, axis: key)
        case "estimate-steps": estimateSteps = try count(value, key, minimum: 4, maximum: 1 << 20)
        default: throw UsageError("unknown setting '\(key)'; known: \(Self.keys.joined(separator: ", "))")
        }
    }

    /// A whole number ≥ `minimum` (and ≤ `maximum`: the grid is measured `cycles` times, and its
    /// schedule is held in memory).
    private func count(_ value: String, _ key: String, minimum: Int, maximum: Int = .max) throws(UsageError) -> Int {
        guard let n = Int(value.trimmingCharacters(in: .whitespaces)), n >= minimum else {
            throw UsageError("--\(key): '\(value)' is not a whole number ≥ \(minimum)")
        }
        guard n <= maximum else { throw UsageError("--\(key): \(n) is more than \(maximum)") }
        return n
    }

    private func seconds(_ value: String, _ key: String) throws(UsageError) -> Double {
        guard let s = Double(value.trimmingCharacters(in: .whitespaces)), s >= 0, s.isFinite else {
            throw UsageError("--\(key): '\(value)' is not a number of seconds")
        }
        return s
    }

    /// Checks settings that are fine alone but contradict each other.
    public func validate() throws(UsageError) {
        if modes == [.forward], mechanisms.count == 1, let only = mechanisms.first, !only.descriptor.supports.causal,
            !causal.contains(false)
        {
            let title = only.descriptor.title
            throw UsageError(
                "\(title) has no causal form: with --mechanism \(only.rawValue), --causal must include false")
        }
        if policy.minSeconds > policy.maxSeconds {
            throw UsageError("--min-time \(policy.minSeconds) is longer than --max-time \(policy.maxSeconds)")
        }
        if let tokens, let n = lengths.first(where: { $0 > tokens }) {
            throw UsageError("--tokens \(tokens) is fewer than n=\(n): every point needs a batch of at least 1")
        }
    }

    /// The points in run order: small n first (so an interrupted run has complete small sizes), and
    /// the mechanisms interleaved at each size so they meet the same machine conditions.
    public func points() throws(UsageError) -> [SweepPoint] {
        try validate()
        var points: [SweepPoint] = []
        for t in threads {
            for h in heads {
                for d in headDims {
                    for n in lengths {
                        for b in tokens.map({ [max($0 / n, 1)] }) ?? batches {
                            for mode in modes {
                                for scope in layerSettings {
                                    for mechanism in mechanisms {
                                        points += self.points(
                                            mechanism, mode, n: n, batch: b, heads: h, headDim: d, threads: t
                                        )
                                        .map {
                                            var p = $0
                                            (p.scope, p.layers, p.ffnMultiplier) = scope
                                            return p
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return points
    }

    /// The scopes with their layer settings: core once, layer once per (layers, ffn-mult).
    private var layerSettings: [(Scope, Int?, Int?)] {
        scopes.flatMap { scope -> [(Scope, Int?, Int?)] in
            scope == .core ? [(.core, nil, nil)] : layers.flatMap { l in ffnMultipliers.map { (.layer, l, $0) } }
        }
    }

    /// The decoders a decode point of `mechanism` runs: the listed ones it supports (its default when
    /// none are listed); when it supports none of the listed ones, the first of them, which
    /// ``PointPlan`` skips with the reason. Nil for mechanisms that do not decode (skipped too).
    func decoders(for mechanism: Mechanism) -> [Decoder?] {
        guard !decoders.isEmpty else { return [Decoder.default(for: mechanism)] }
        guard Generation.unsupported(mechanism) == nil else { return [nil] }
        let supported = decoders.filter { Decoder.supported(by: mechanism).contains($0) }
        return supported.isEmpty ? [decoders[0]] : supported
    }

    /// The points of one mechanism and mode at one shape: in forward mode, one per causal setting
    /// it supports (non-causal only without a causal form), times one per value of each of its
    /// axes (Linformer: sharing, then k), each once per pass; one per prompt length for decoding.
    private func points(
        _ mechanism: Mechanism, _ mode: RunMode, n: Int, batch b: Int, heads h: Int, headDim d: Int, threads t: Int
    ) -> [SweepPoint] {
        switch mode {
        case .decode:
            let hashing = hashingValues(for: mechanism)
            return decoders(for: mechanism).flatMap { decoder in
                hashing.flatMap { hash in
                    prompts.map {
                        SweepPoint(
                            mechanism: mechanism, mode: .decode, decoder: decoder, causal: true, length: n,
                            hashRounds: hash.rounds, buckets: hash.buckets, chunk: hash.chunk, prompt: $0,
                            batch: b, heads: h, headDim: d, threads: t)
                    }
                }
            }
        case .forward:
            let descriptor = mechanism.descriptor
            let shares: [ProjectionSharing?] = descriptor.axes.contains(.sharing) ? sharing : [nil]
            let ks: [Int?] = descriptor.axes.contains(.projectedLength) ? projectedLengths : [nil]
            let hashing = hashingValues(for: mechanism)
            let ms: [Int?] = descriptor.axes.contains(.features) ? features : [nil]
            // Causal points of a mechanism without a causal form too: ``PointPlan`` skips them with the reason.
            return causal.flatMap { causal in
                shares.flatMap { share in
                    ks.flatMap { k in
                        hashing.flatMap { hash in
                            ms.flatMap { m in
                                passes.map {
                                    SweepPoint(
                                        mechanism: mechanism, pass: $0, causal: causal, sharing: share, length: n,
                                        projectedLength: k, hashRounds: hash.rounds, buckets: hash.buckets,
                                        chunk: hash.chunk, features: m, batch: b, heads: h, headDim: d, threads: t)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Reformer's (rounds, buckets, chunk) combinations for a mechanism with those axes; one of nils otherwise.
    private func hashingValues(for mechanism: Mechanism) -> [(rounds: Int?, buckets: Int?, chunk: Int?)] {
        guard mechanism.descriptor.axes.contains(.hashRounds) else { return [(nil, nil, nil)] }
        return hashRounds.flatMap { r in buckets.flatMap { b in chunks.map { (r, b, $0) } } }
    }

    /// The budget in force: the given one, or 60% of the memory available now.
    public func effectiveMemoryBudget() -> Int {
        memoryBudget ?? Int(Double(Machine.availableMemoryBytes() ?? 8 << 30) * 0.6)
    }
}

/// Why a point will not be measured, decided before anything runs.
public enum PointPlan: Equatable, Sendable {
    case run
    case skip(reason: String)
    /// A layer-scope `recompute` generation over the time limit, timed from `steps` sampled steps.
    case estimate(steps: Int)

    /// With a `timeLimit` (seconds, the policy's max-time) and the sgemm `ceiling` (GFLOP/s at the
    /// point's threads), a point whose one call would take longer than the limit even at the
    /// ceiling (its cost model's FLOPs ÷ ceiling: a lower bound on its time) is skipped too: the
    /// policy always completes at least one call, which max-time cannot stop. With `estimateSteps`,
    /// such a point that is a layer-scope `recompute` generation is estimated instead.
    public init(_ point: SweepPoint, memoryBudget: Int, timeLimit: Double, ceiling: Double?, estimateSteps: Int? = nil)
    {
        self.init(point, memoryBudget: memoryBudget)
        guard self == .run, let ceiling, ceiling > 0 else { return }
        let seconds = point.cost.flops / (ceiling * 1e9)
        if seconds > timeLimit, let steps = estimateSteps, point.isEstimable {
            self = .estimate(steps: steps)
        } else if seconds > timeLimit {
            self = .skip(
                reason: String(
                    format:
                        "time: one call is %.3g GFLOP, at least %.0f s at the sgemm ceiling (%.1f GF/s), over max-time %.0f s",
                    point.cost.flops / 1e9, seconds, ceiling, timeLimit))
        }
    }

    public init(_ point: SweepPoint, memoryBudget: Int) {
        if let peer = point.peer {
            self = .skip(
                reason: "\(peer.rawValue) rows are measured by Tests/peers (make bench-peers), not by attnbench")
        } else if point.mode == .forward, point.causal, !point.mechanism.descriptor.supports.causal {
            let support = point.mechanism.descriptor.supports
            self = .skip(
                reason: "causal: \(point.mechanism.descriptor.title) has no causal form"
                    + (support.noCausalReason.map { " (\($0))" } ?? ""))
        } else if point.mode == .decode, let reason = Generation.unsupported(point.mechanism) {
            self = .skip(reason: reason.description)
        } else if point.mode == .decode, point.scope == .core, let reason = Generation.notAlone(point.mechanism) {
            self = .skip(reason: reason.description)
        } else if point.mode == .decode, let decoder = point.decoder,
            !Decoder.supported(by: point.mechanism).contains(decoder)
        {
            self = .skip(
                reason:
                    "\(point.mechanism.rawValue) has no \(decoder.rawValue) decoder (it has \(Decoder.supported(by: point.mechanism).map(\.rawValue).joined(separator: ", ")))"
            )
        } else if point.mode == .forward, point.pass != .forward || point.scope == .layer,
            !point.mechanism.descriptor.supports.backward
        {
            let what = point.pass == .forward ? "sit inside an encoder layer" : "run a \(point.pass.rawValue) pass"
            self = .skip(reason: "\(point.mechanism.descriptor.title) has no backward pass, so it cannot \(what)")
        } else if let prompt = point.prompt, prompt >= point.length {
            self = .skip(
                reason: "prompt >= n: a prompt of \(prompt) tokens leaves nothing of n=\(point.length) to generate")
        } else if let k = point.projectedLength, k >= point.length {
            self = .skip(reason: "k >= n: projecting n=\(point.length) to k=\(k) saves nothing (the paper's dash)")
        } else if !point.costModelFits {
            self = .skip(
                reason:
                    "memory: beyond any machine (products of its sizes exceed 2^56 elements) > budget \(formatBytes(memoryBudget))"
            )
        } else if point.predictedBytes > memoryBudget {
            self = .skip(
                reason: "memory: needs \(formatBytes(point.predictedBytes)) > budget \(formatBytes(memoryBudget))")
        } else {
            self = .run
        }
    }
}
