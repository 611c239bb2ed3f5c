import ArgumentParser
import AttentionTypes
import Harness
import Reporting

/// The sweep settings a command takes as flags, each named by its ``SweepSpec`` key: given next to
/// `--preset` they override its axes. Shared by `run` and `max-batch`, so the list of keys is
/// written once (``SweepSpec/keys``).
struct GridOptions: ParsableArguments {
    @Option(help: "A preset name (\(Preset.available().joined(separator: ", "))) or a .preset file.") var preset:
        String?
    @Option(help: "Mechanisms: \(Mechanism.allCases.map(\.rawValue).joined(separator: ",")).") var mechanism: String?
    @Option(help: "core (the attention mechanism alone) or layer (post-LN encoder layers around it), or core,layer.")
    var scope: String?
    @Option(help: "Sequence lengths n.") var n: String?
    @Option(help: "Linformer projected lengths k.") var k: String?
    @Option(help: "Batch sizes.") var batch: String?
    @Option(help: "Tokens per call instead of a batch axis: batch = tokens / n.") var tokens: String?
    @Option(help: "Head counts.") var heads: String?
    @Option(help: "Head dimensions d.") var headDim: String?
    @Option(help: "Layer scope: encoder layers stacked (default 1).") var layers: String?
    @Option(help: "Layer scope: the FFN's width as a multiple of d_model = heads × d (default 4).") var ffnMult: String?
    @Option(help: "Thread counts (OpenBLAS and the kernels' loops).") var threads: String?
    @Option(help: "Causal masking for standard, linear and flash: false, true or false,true.") var causal: String?
    @Option(help: "Linformer projection sharing: none, headwise, key-value.") var sharing: String?
    @Option(help: "Reformer's hashing rounds (the RNN paper's lsh-1, lsh-4, lsh-8; default 1).") var hashRounds: String?
    @Option(help: "Reformer's buckets per round, even (default 64, the RNN paper's).") var buckets: String?
    @Option(help: "Reformer's sorted tokens per chunk (default 32).") var chunk: String?
    @Option(help: "Performer's random features m (default 256, LRA's).") var features: String?
    @Option(help: "forward (one attention call), decode (generate n tokens one at a time), or forward,decode.")
    var mode: String?
    @Option(
        help:
            "forward (one attention call), backward (its backward pass, given a saved forward), train (forward + backward: a training step), or a list; decode points are timed once whatever it says."
    ) var pass: String?
    @Option(
        help:
            "Decode: kv-cache (softmax with a cache), recompute (softmax without one: each step re-runs the prefix), recurrent (linear's RNN state), or a list (default: each mechanism's own)."
    ) var decoder: String?
    @Option(help: "Decode: prompt tokens given before generating (at least 1).") var prompt: String?
    @Option(help: "Untimed runs before timing.") var warmups: String?
    @Option(help: "Minimum timed repetitions.") var minReps: String?
    @Option(help: "Minimum timed seconds per point.") var minTime: String?
    @Option(help: "Maximum seconds per point (wins over the minimums).") var maxTime: String?
    @Option(help: "Measure the grid this many times, interleaved, keeping each point's fastest median.") var cycles:
        String?
    @Option(help: "Seed for inputs and projections.") var seed: String?
    @Option(help: "Heap a point may need, e.g. 12G (default: 60% of available memory).") var memoryBudget: String?
    @Option(
        help:
            "Layer-scope recompute decoding: estimate a generation over max-time from this many sampled steps (a stratified sample) instead of skipping it, and check the estimator on those measured in full (<name>.estimates.csv)."
    )
    var estimateSteps: String?

    /// The flags given, by their ``SweepSpec`` key, in ``SweepSpec/keys`` order.
    var settings: [(key: String, value: String)] {
        let given: [String: String?] = [
            "mechanism": mechanism, "scope": scope, "layers": layers, "ffn-mult": ffnMult, "decoder": decoder, "n": n,
            "k": k, "batch": batch, "tokens": tokens, "heads": heads, "head-dim": headDim,
            "threads": threads, "causal": causal, "sharing": sharing, "hash-rounds": hashRounds, "buckets": buckets,
            "chunk": chunk,
            "features": features, "mode": mode, "pass": pass, "prompt": prompt,
            "warmups": warmups,
            "min-reps": minReps, "min-time": minTime, "max-time": maxTime, "cycles": cycles, "seed": seed,
            "memory-budget": memoryBudget, "estimate-steps": estimateSteps,
        ]
        return SweepSpec.keys.compactMap { key in given[key].flatMap { $0 }.map { (key, $0) } }
    }

    /// The preset file read, when one is given: an input no output may replace.
    func presetFiles() throws -> [String] {
        try preset.map { [try Preset.locate($0)] } ?? []
    }

    /// The preset (or the defaults) with the flags applied.
    func spec() throws -> SweepSpec {
        if batch != nil && tokens != nil { throw UsageError("give --batch or --tokens, not both") }
        var spec = try preset.map { try Preset.load($0) } ?? SweepSpec()
        for (key, value) in settings { try spec.apply(key, value) }
        return spec
    }
}
