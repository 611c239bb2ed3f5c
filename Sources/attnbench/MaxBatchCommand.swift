import ArgumentParser
import AttentionKernels
import Foundation
import Harness
import Profiling
import Reporting

/// `attnbench max-batch`: the largest batch that fits a memory budget, per mechanism and (n, k).
struct MaxBatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "max-batch",
        abstract: "Find the largest batch whose heap fits a budget, per mechanism and (n, k).",
        discussion: """
            The Linformer paper's "memory saved" is the ratio of these batches. The per-sample heap is \
            measured at batch 1 and 2 (jemalloc thread.peak over inputs, parameters and one call), the \
            maximum is predicted from it and verified by one run at that batch, whose time per sample is \
            reported too. The grid comes from a preset or flags (batch and timing settings are ignored).
            """)

    @Option(help: "A preset supplying mechanism, n, k, heads, head-dim, threads, sharing.") var preset: String?
    @Option(help: "Mechanisms.") var mechanism: String?
    @Option(help: "Sequence lengths n.") var n: String?
    @Option(help: "Linformer projected lengths k.") var k: String?
    @Option(help: "Head counts.") var heads: String?
    @Option(help: "Head dimensions d.") var headDim: String?
    @Option(help: "Thread counts.") var threads: String?
    @Option(help: "Linformer projection sharing.") var sharing: String?
    @Option(help: "Seed.") var seed: String?
    @Option(help: "Heap budget per point, e.g. 16G (the paper's V100 had 16 GB; default: 60% of available memory).")
    var memoryBudget: String?
    @Option(help: "CSV to write.") var output = "Results/max-batch.csv"
    @Flag(help: "Allow a debug build.") var allowDebug = false

    func run() throws {
        try reportingUsageErrors {
            if buildConfiguration == "debug" && !allowDebug {
                throw UsageError("this is a debug build; build with `swift build -c release`, or pass --allow-debug")
            }
            var spec = try preset.map { try Preset.load($0) } ?? SweepSpec()
            let settings: [(String, String?)] = [
                ("mechanism", mechanism), ("n", n), ("k", k), ("heads", heads), ("head-dim", headDim),
                ("threads", threads), ("sharing", sharing), ("seed", seed), ("memory-budget", memoryBudget),
            ]
            for (key, value) in settings { if let value { try spec.apply(key, value) } }
            spec.tokens = nil
            spec.batches = [1]
            spec.causal = [false]
            let budget = spec.effectiveMemoryBudget()
            if let available = Machine.availableMemoryBytes(), budget > available * 9 / 10 {
                throw UsageError("--memory-budget \(formatBytes(budget)) is more than 90% of the \(formatBytes(available)) available; the verifying run could be OOM-killed. Lower it")
            }
            let finder = MaxBatch(budget: budget, seed: spec.seed)
            let file = try AppendingFile(path: output, truncate: true)
            var writer = CSVWriter(output: file, columns: MaxBatch.columns)
            for point in try spec.points() {
                FileHandle.standardError.write(Data("max-batch: \(point.label)\n".utf8))
                let row = try finder.find(point)
                writer.write(MaxBatch.fields(row, seed: spec.seed))
            }
            print("max-batch: wrote \(output) (budget \(formatBytes(budget)))")
        }
    }
}
