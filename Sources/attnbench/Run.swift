import ArgumentParser
import Foundation
import Harness

/// `attnbench run`: sweep a grid and write one CSV row per point.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sweep a grid of points and write one CSV row per point, plus a JSON metadata sidecar.",
        discussion: """
            Axes take lists (512,1024), doubling ranges (512...16384) and k/M suffixes (1k...64k). \
            A preset (Presets/<name>.preset) sets every axis; flags given next to it override its axes. \
            Points that cannot run (k >= n, predicted memory over --memory-budget) get a row with \
            status 'skipped' and the reason. Rows are flushed as points finish; --resume continues an \
            interrupted file, skipping the points it already has.
            """)

    @Option(help: "A preset name (\(Preset.available().joined(separator: ", "))) or a .preset file.") var preset: String?
    @Option(help: "Mechanisms: standard,linformer,linear.") var mechanism: String?
    @Option(help: "Sequence lengths n.") var n: String?
    @Option(help: "Linformer projected lengths k.") var k: String?
    @Option(help: "Batch sizes.") var batch: String?
    @Option(help: "Tokens per call instead of a batch axis: batch = tokens / n.") var tokens: String?
    @Option(help: "Head counts.") var heads: String?
    @Option(help: "Head dimensions d.") var headDim: String?
    @Option(help: "Thread counts (OpenBLAS and the kernels' loops).") var threads: String?
    @Option(help: "Causal masking for standard and linear: false, true or false,true.") var causal: String?
    @Option(help: "Linformer projection sharing: none, headwise, key-value.") var sharing: String?
    @Option(help: "forward (one attention call), decode (generate n tokens one at a time), or forward,decode.") var mode: String?
    @Option(help: "Decode: prompt tokens given before generating (at least 1).") var prompt: String?
    @Option(help: "Untimed runs before timing.") var warmups: String?
    @Option(help: "Minimum timed repetitions.") var minReps: String?
    @Option(help: "Minimum timed seconds per point.") var minTime: String?
    @Option(help: "Maximum seconds per point (wins over the minimums).") var maxTime: String?
    @Option(help: "Measure the grid this many times, interleaved, keeping each point's fastest median.") var cycles: String?
    @Option(help: "Seed for inputs and projections.") var seed: String?
    @Option(help: "Heap a point may need, e.g. 12G (default: 60% of available memory).") var memoryBudget: String?
    @Option(help: "CSV to write (default: Results/<preset or custom>.csv).") var output: String?
    @Flag(help: "Continue an existing CSV, skipping points it already has.") var resume = false
    @Flag(help: "Replace an existing CSV.") var overwrite = false
    @Flag(help: "No progress line on stderr.") var quiet = false
    @Flag(help: "Allow timing a debug build (numbers will be meaningless).") var allowDebug = false
    @Option(help: .hidden) var injectRegression: String?

    /// The flags that set a sweep setting, by their ``SweepSpec`` key.
    var settings: [(key: String, value: String?)] {
        [("mechanism", mechanism), ("n", n), ("k", k), ("batch", batch), ("tokens", tokens), ("heads", heads),
         ("head-dim", headDim), ("threads", threads), ("causal", causal), ("sharing", sharing),
         ("mode", mode), ("prompt", prompt),
         ("warmups", warmups), ("min-reps", minReps), ("min-time", minTime), ("max-time", maxTime), ("cycles", cycles),
         ("seed", seed), ("memory-budget", memoryBudget)]
    }

    func run() throws {
        try reportingUsageErrors {
            if buildConfiguration == "debug" && !allowDebug {
                throw UsageError("this is a debug build, whose timings mean nothing; build with `swift build -c release` (or `make build`), or pass --allow-debug")
            }
            if resume && overwrite { throw UsageError("--resume and --overwrite contradict each other; choose one") }
            if batch != nil && tokens != nil { throw UsageError("give --batch or --tokens, not both") }
            var spec = try preset.map { try Preset.load($0) } ?? SweepSpec()
            for (key, value) in settings { if let value { try spec.apply(key, value) } }
            var sweep = Sweep(spec: spec, output: output ?? "Results/\(spec.name).csv", buildConfiguration: buildConfiguration)
            sweep.resume = resume
            sweep.overwrite = overwrite
            sweep.quiet = quiet
            sweep.injection = try injectRegression.map { try RegressionInjection($0) }
            let summary = try sweep.run { message in
                if !quiet { FileHandle.standardError.write(Data("run: \(message)\n".utf8)) }
            }
            print("run: \(summary.measured) measured, \(summary.skipped) skipped, \(summary.alreadyDone) already in \(sweep.output)")
        }
    }
}
