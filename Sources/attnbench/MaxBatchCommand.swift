import ArgumentParser
import Foundation
import Harness
import Reporting
import Results

/// `attnbench max-batch`: the largest batch that fits a memory budget, per point of a grid.
struct MaxBatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "max-batch",
        abstract: "Find the largest batch whose heap fits a budget, per mechanism and (n, k).",
        discussion: """
            The Linformer paper's "memory saved" is the ratio of these batches. The heap of a whole \
            point (jemalloc thread.peak over inputs, parameters and one call; a decode point's whole \
            generation) is measured at batch 1 and 8 (2 when 8 cannot fit); the per-sample cost gives a \
            predicted maximum, which runs verify (a binary search below it when jemalloc's size classes \
            make it miss). The verified run's time per sample is reported too. No batch is run that the \
            cost model puts over the budget. The grid comes from a preset or flags (batch, tokens, causal \
            and timing settings are ignored).
            """)

    @OptionGroup var grid: GridOptions
    @Option(help: "CSV to write.") var output = "Results/max-batch.csv"
    @Flag(help: "Replace an existing output file.") var overwrite = false
    @Flag(help: "Allow a debug build.") var allowDebug = false

    func run() throws {
        try reportingUsageErrors {
            if buildConfiguration == "debug" && !allowDebug {
                throw UsageError("this is a debug build; build with `swift build -c release`, or pass --allow-debug")
            }
            var spec = try grid.spec()
            spec.tokens = nil
            spec.batches = [1]
            spec.causal = [false]
            let budget = spec.effectiveMemoryBudget()
            if let available = Machine.availableMemoryBytes(), budget > available / 10 * 9 {
                throw UsageError("--memory-budget \(formatBytes(budget)) is more than 90% of the \(formatBytes(available)) available; the verifying run could be OOM-killed. Lower it")
            }
            let points = try spec.points()
            try OutputFile.checkWritable(output, overwrite: overwrite)
            let finder = MaxBatch(budget: budget, seed: spec.seed)
            var rows: [MaxBatchRow] = []
            for point in points {
                FileHandle.standardError.write(Data("max-batch: \(point.label)\n".utf8))
                rows.append(try finder.find(point))
            }
            try OutputFile.write(RowFile.text(rows, MaxBatchRow.table), to: output, overwrite: overwrite)
            print("max-batch: wrote \(output) (budget \(formatBytes(budget)))")
        }
    }
}
