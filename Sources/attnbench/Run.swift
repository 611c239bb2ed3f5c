import ArgumentParser
import Foundation
import Harness
import Reporting
import Results

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

    @OptionGroup var grid: GridOptions
    @Option(help: "CSV to write (default: Results/<preset or custom>.csv).") var output: String?
    @Flag(help: "Continue an existing CSV, skipping points it already has.") var resume = false
    @Flag(help: "Replace an existing CSV.") var overwrite = false
    @Flag(help: "If another run is writing the same CSV, wait for it to finish instead of refusing.") var waitLock =
        false
    @Flag(help: "No progress line on stderr (warnings are still printed).") var quiet = false
    @Flag(help: "Allow timing a debug build (numbers will be meaningless).") var allowDebug = false
    @Option(
        help:
            "Measure only part i of N of the grid (1 ≤ i ≤ N), balanced by the cost model's predicted time; `merge` joins the parts."
    )
    var shard: String?
    @Flag(
        help:
            "Print the key columns of the points this run would measure (CSV, in run order) and exit; nothing is measured or written."
    )
    var plan = false
    @Option(help: .hidden) var injectRegression: String?

    func run() throws {
        try reportingUsageErrors {
            let shard = try self.shard.map { try Shard($0) }
            if plan { return try printPlan(try grid.spec(), shard: shard) }
            if buildConfiguration == "debug" && !allowDebug {
                throw UsageError(
                    "this is a debug build, whose timings mean nothing; build with `swift build -c release` (or `make build`), or pass --allow-debug"
                )
            }
            if resume && overwrite { throw UsageError("--resume and --overwrite contradict each other; choose one") }
            let spec = try grid.spec()
            let defaultOutput =
                "Results/\(spec.name)" + (shard.map { "-shard-\($0.index)-of-\($0.count)" } ?? "") + ".csv"
            let csv = output ?? defaultOutput
            try OutputFile.checkDistinct([csv] + ResultsFile.sidecars(of: csv), inputs: try grid.presetFiles())
            var sweep = Sweep(spec: spec, output: csv, buildConfiguration: buildConfiguration)
            sweep.shard = shard
            sweep.resume = resume
            sweep.overwrite = overwrite
            sweep.quiet = quiet
            sweep.waitForLock = waitLock
            sweep.injection = try injectRegression.map { try RegressionInjection($0) }
            // --quiet silences progress, never a warning (a probe that failed, oversubscribed cores).
            let summary = try sweep.run { message in
                if !quiet || message.hasPrefix("warning: ") {
                    FileHandle.standardError.write(Data("run: \(message)\n".utf8))
                }
            }
            print(
                "run: \(summary.measured) measured, \(summary.skipped) skipped, \(summary.alreadyDone) already in \(sweep.output)"
            )
        }
    }

    /// `--plan`: the points as CSV key fields on stdout, a summary on stderr.
    private func printPlan(_ spec: SweepSpec, shard: Shard?) throws {
        var sweep = Sweep(spec: spec, output: "", buildConfiguration: buildConfiguration)
        sweep.shard = shard
        let (grid, points) = try sweep.plan()
        print(CSV.line(ResultRow.keyColumns) + points.map { CSV.line($0.point.keyFields) }.joined(), terminator: "")
        let seconds = points.reduce(0) { $0 + Shard.predictedSeconds($1.point, policy: spec.policy) }
        FileHandle.standardError.write(
            Data(
                ("run: plan: \(points.count) of \(grid.count) points" + (shard.map { " (shard \($0))" } ?? "")
                    + String(format: ", about %.0f s at %.0f GF/s per thread\n", seconds, Shard.nominalGflopsPerThread))
                    .utf8))
    }
}
