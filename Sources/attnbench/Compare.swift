import Analysis
import ArgumentParser
import Foundation
import Reporting
import Results

/// `attnbench compare`: two runs point by point, with a significance test on their raw samples.
struct Compare: ParsableCommand {
    enum Format: String, ExpressibleByArgument, CaseIterable { case text, markdown }

    static let configuration = CommandConfiguration(
        abstract: "Compare two results CSVs point by point: medians, change, Mann–Whitney U p-value, verdict.",
        discussion: """
            Per point measured in both: the medians with their 95% intervals, the change, a two-sided \
            Mann–Whitney U test over the raw samples (<name>.samples.csv: every repetition of every \
            cycle; exact for small counts without ties, else the normal approximation with tie and \
            continuity corrections, as SciPy and Google Benchmark's compare.py compute it) and a verdict: \
            faster or slower only when p < --alpha and |change| >= --min-effect. Peak heap is compared \
            exactly, in bytes. Then the geometric mean of the time ratios per mechanism and overall. \
            Points in one file only are listed. Exit 0, or 1 with --fail-on-slower when a point is slower.
            """)

    @Argument(help: "The old (base) results CSV.") var old: String
    @Argument(help: "The new results CSV.") var new: String
    @Option(help: "Significance level of the U test.") var alpha = 0.05
    @Option(help: "Smallest |change| of the median that counts (0.05 = 5%).") var minEffect = 0.05
    @Option(help: "text or markdown.") var format: Format = .text
    @Flag(help: "Exit 1 when any point is slower.") var failOnSlower = false

    func validate() throws {
        guard alpha > 0 && alpha < 1 else { throw ValidationError("--alpha must be between 0 and 1, got \(alpha)") }
        guard minEffect >= 0 && minEffect.isFinite else {
            throw ValidationError("--min-effect must be 0 or more, got \(minEffect)")
        }
    }

    func run() throws {
        var slower = false
        try reportingUsageErrors {
            let oldTable = try ResultTable(path: old)
            let newTable = try ResultTable(path: new)
            let comparison = Comparison(
                old: oldTable, new: newTable, oldSamples: try SampleRow.read(SampleRow.path(forCSV: old)),
                newSamples: try SampleRow.read(SampleRow.path(forCSV: new)), alpha: alpha, minEffect: minEffect)
            guard
                !comparison.points.isEmpty || !comparison.onlyInOld.isEmpty || !comparison.onlyInNew.isEmpty
                    || !comparison.uncompared.isEmpty
            else {
                throw UsageError("\(old) and \(new) have no rows; nothing to compare")
            }
            print(format == .text ? comparison.text() : comparison.markdown(), terminator: "")
            slower = comparison.anySlower
        }
        if slower && failOnSlower { throw ExitCode.failure }
    }
}
