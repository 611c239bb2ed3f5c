import ArgumentParser
import Foundation
import Harness
import Profiling
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

            With --predict, each point runs at batches 1, 2 and 3 only, with every tensor allocation \
            traced; replaying the trace through jemalloc's size classes predicts the peak at any batch, \
            and a search over the replay gives the maximum in seconds. --verify-n then confirms the \
            cells at those n by measurement: the run at the maximum within the budget, the run at the \
            maximum + 1 over it (made only when it stays under 90% of the available memory).
            """)

    @OptionGroup var grid: GridOptions
    @Option(help: "CSV to write.") var output = "Results/max-batch.csv"
    @Flag(help: "Replace an existing output file.") var overwrite = false
    @Flag(help: "Allow a debug build.") var allowDebug = false
    @Flag(help: "Predict each maximum from traced allocations at batches 1-3 instead of searching by runs.")
    var predict = false
    @Option(
        help:
            "With --predict: confirm the cells at these n by runs at the maximum and the maximum + 1 (e.g. 512,65536).")
    var verifyN: String?
    @Option(help: "With --verify-n: confirm Linformer's cells at these k only (default: every k).") var verifyK: String?

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
                throw UsageError(
                    "--memory-budget \(formatBytes(budget)) is more than 90% of the \(formatBytes(available)) available; the verifying run could be OOM-killed. Lower it"
                )
            }
            let points = try spec.points()
            try OutputFile.checkWritable(output, overwrite: overwrite, inputs: try grid.presetFiles())
            let verified = try verifyN.map { try Set(ValueList.integers($0, axis: "verify-n")) } ?? []
            let verifiedK = try verifyK.map { try Set(ValueList.integers($0, axis: "verify-k")) }
            if !verified.isEmpty && !predict {
                throw UsageError("--verify-n confirms predicted maxima: give --predict too")
            }
            try Self.checkInGrid(verified, Set(points.map(\.length)), flag: "--verify-n", axis: "n")
            try Self.checkInGrid(
                verifiedK ?? [], Set(points.compactMap(\.projectedLength)), flag: "--verify-k", axis: "k")
            // Resident memory must follow the heap: runs near the budget (and past it, verifying) must
            // not also hold the pages earlier runs freed.
            try AllocatorProbe.returnFreedPagesAtOnce()
            let finder = MaxBatch(budget: budget, seed: spec.seed)
            var rows: [MaxBatchRow] = []
            for point in points {
                FileHandle.standardError.write(Data("max-batch: \(point.label)\n".utf8))
                var row = try predict ? finder.predict(point) : finder.find(point)
                if verified.contains(point.length),
                    verifiedK.map({ k in point.projectedLength.map(k.contains) ?? true }) ?? true
                {
                    FileHandle.standardError.write(
                        Data("max-batch: verifying batch \(row.maxBatch ?? 0) and \((row.maxBatch ?? 0) + 1)\n".utf8))
                    try finder.verify(&row) { (Machine.availableMemoryBytes() ?? 0) / 10 * 9 }
                }
                rows.append(row)
            }
            try OutputFile.write(
                RowFile.text(rows, MaxBatchRow.table), to: output, overwrite: overwrite, inputs: try grid.presetFiles())
            print("max-batch: wrote \(output) (budget \(formatBytes(budget)))")
        }
    }

    /// Refuses values of `flag` that select no point of the grid: a verification of nothing is
    /// not a success.
    private static func checkInGrid(_ values: Set<Int>, _ grid: Set<Int>, flag: String, axis: String) throws {
        let absent = values.subtracting(grid).sorted()
        guard absent.isEmpty else {
            throw UsageError(
                "\(flag) \(absent.map(String.init).joined(separator: ",")) is not among the grid's \(axis) values (\(grid.sorted().map(String.init).joined(separator: ","))); give values the grid measures"
            )
        }
    }
}
