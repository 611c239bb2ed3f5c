import Analysis
import ArgumentParser
import Foundation
import Harness
import Reporting
import Results

/// `attnbench check`: compare a fresh run with the committed baseline; exit 1 on a regression.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare a run with a baseline and exit 1 on any regression.",
        discussion: """
            Rules (tolerances in the thresholds file, each explained there): peak_heap_bytes against the \
            baseline and against the cost model; efficiency against the in-run sgemm ceiling; speed-up over \
            standard attention at the same point; fitted exponents of time in n; absolute time only with \
            --absolute-time. A point failing a time rule is measured again before it counts. Exit codes: \
            0 no regression, 1 regression, 64 unusable input (missing file, wrong schema, points that do \
            not match), 70 a machine fault while re-measuring (jemalloc, OpenBLAS). \
            After an intended change, refresh the baseline with `make baseline`.
            """)

    @Option(help: "Baseline CSV.") var baseline = "Baselines/ci.csv"
    @Option(help: "CSV of the run to check.") var current: String
    @Option(help: "Thresholds file.") var thresholds = "Baselines/thresholds.txt"
    @Flag(help: "Also compare absolute median times (wide tolerance; off by default).") var absoluteTime = false
    @Flag(help: "Report failures without measuring failing points again.") var noRemeasure = false
    @Flag(
        help:
            "Skip efficiency, speed-up and exponents against the baseline: they hold only on the baseline's machine (make check judges time and scaling by `compare --interleave` instead)."
    )
    var skipTimeRatios = false
    /// For testing the checker: re-measure with the same deliberate regression the run had.
    @Option(help: .hidden) var injectRegression: String?

    func run() throws {
        var failed = false
        try reportingUsageErrors {
            var rules = try Thresholds.load(thresholds)
            if noRemeasure { rules.remeasure = 0 }
            let base = try ResultTable(path: baseline)
            let now = try ResultTable(path: current)
            let metadata = try RunMetadata.read(from: RunMetadata.path(forCSV: current))
            var runner = PointRunner(policy: metadata?.timing ?? .init(), seed: metadata?.seed ?? 42, ceilings: [:])
            runner.injection = try injectRegression.map { try RegressionInjection($0) }
            runner.memoryBudget = metadata?.memoryBudgetBytes
            var check = RegressionCheck(thresholds: rules, absoluteTime: absoluteTime)
            check.timeRatios = !skipTimeRatios
            let findings = try check.run(baseline: base, current: now) { point in
                try point.checkMeasurable()  // before its thread count is used for the calibration
                if runner.ceilings[point.threads] == nil {
                    runner.ceilings[point.threads] = Calibration.sgemmGflops(threads: point.threads)
                }
                FileHandle.standardError.write(Data("check: re-measuring \(point.label)\n".utf8))
                return try runner.measure(point)
            }
            print(RegressionCheck.table(findings), terminator: "")
            for finding in findings where finding.fails {  // last, where a CI log's tail shows them
                print(
                    "check: \(finding.verdict.rawValue): \(finding.metric) of \(finding.point): \(RegressionCheck.summary(finding))"
                )
            }
            let regressions = findings.filter(\.fails).count
            let improvements = findings.filter { $0.verdict == .improved }.count
            print(
                "check: \(findings.count) comparisons, \(regressions) regression(s), \(improvements) improvement(s) against \(baseline)"
            )
            if improvements > 0 && regressions == 0 {
                print(
                    "check: improvements beyond tolerance; if they are intended, refresh the baseline with `make baseline` and commit Baselines/"
                )
            }
            failed = regressions > 0
        }
        if failed { throw ExitCode.failure }
    }
}
