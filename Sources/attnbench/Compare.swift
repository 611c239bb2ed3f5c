import Analysis
import ArgumentParser
import Foundation
import Harness
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
            exactly, in bytes. Then the geometric mean of the time ratios per mechanism and overall, \
            and, when the runs have them, the counters per call old → new (page faults, context \
            switches, user and system CPU time; cycles, instructions and LLC misses where measured), \
            shown but not tested. Points in one file only are listed. Exit 0, or 1 with --fail-on-slower when a point is slower.

            With --interleave, OLD and NEW are two attnbench binaries (base and head, e.g. the base \
            commit's build and this one) and compare measures them itself: in each of --rounds rounds, \
            both start afresh and measure every point of the grid (--preset and the grid flags; --cycles \
            is replaced by the rounds), the points in random order and each point's two sides back to \
            back in random order. Per point, head ÷ base is the median over rounds of the rounds' \
            ratios, tested with the Wilcoxon signed-rank test of the per-round log ratios; per series (a \
            mechanism at every n) the same on the per-round geometric mean. Slower or faster when p < \
            --alpha and the ratio is beyond --min-effect (a point) or --series-min-effect (a series). \
            Per series of three or more lengths, the exponent of time in n: each round's slope of \
            log(head/base) on log n is head's exponent minus base's, judged the same way (steeper or \
            flatter beyond --exponent-min-effect). --thresholds takes those and the rounds from a \
            thresholds file. With --fail-on-slower, the points of a slower or steeper finding are \
            measured for as many rounds again, and the verdict on all rounds decides (exit 1). This is make check's time side: one session, no committed \
            times, so it judges the same on any CPU.
            """)

    @Argument(help: "The old (base) results CSV; with --interleave, the base binary.") var old: String
    @Argument(help: "The new results CSV; with --interleave, the head binary.") var new: String
    @Option(help: "Significance level of the test.") var alpha = 0.05
    @Option(help: "Smallest |change| of the median that counts (0.05 = 5%; default 0.05).") var minEffect: Double?
    @Option(help: "text or markdown.") var format: Format = .text
    @Flag(
        help: "Exit 1 when any point (or, interleaved, series) is slower, or, interleaved, a series' exponent steeper.")
    var failOnSlower = false

    @Flag(help: "Measure OLD and NEW (two binaries) interleaved in this session instead of reading two CSVs.")
    var interleave = false
    @OptionGroup(title: "Interleaved grid (with --interleave)") var grid: GridOptions
    @Option(help: "Interleaved: rounds (default 8, or the thresholds file's interleaved-rounds).") var rounds: Int?
    @Option(help: "Interleaved: smallest change of a series' geometric mean that counts (default: --min-effect).")
    var seriesMinEffect: Double?
    @Option(
        help:
            "Interleaved: smallest change of a series' exponent of time in n, head − base, that counts (default 0.15)."
    )
    var exponentMinEffect: Double?
    @Option(
        help:
            "Interleaved: take interleaved-point, interleaved-series, interleaved-exponent and interleaved-rounds from this file."
    )
    var thresholds: String?
    @Option(help: "Interleaved: CSV of every point, side and round measured.") var output: String?
    @Flag(help: "Interleaved: replace an existing --output.") var overwrite = false
    @Option(help: "Interleaved: seed of the random order (default: from the clock, printed).") var orderSeed: UInt64?
    @Flag(help: "Interleaved: allow debug builds (timings mean nothing; for tests).") var allowDebug = false
    /// For testing the check end to end: the head side gets this deliberate regression.
    @Option(help: .hidden) var injectRegression: String?

    func validate() throws {
        guard alpha > 0 && alpha < 1 else { throw ValidationError("--alpha must be between 0 and 1, got \(alpha)") }
        for (name, value) in [
            ("--min-effect", minEffect), ("--series-min-effect", seriesMinEffect),
            ("--exponent-min-effect", exponentMinEffect),
        ] {
            if let value, !(value >= 0 && value.isFinite) {
                throw ValidationError("\(name) must be 0 or more, got \(value)")
            }
        }
        if let rounds, !(6...50).contains(rounds) {
            throw ValidationError(
                "--rounds must be from 6 to 50 (the signed-rank test needs 6 to reach p < 0.05), got \(rounds)")
        }
        if !interleave {
            let given =
                grid.settings.map { "--" + $0.key } + (grid.preset == nil ? [] : ["--preset"])
                + [
                    ("--rounds", rounds != nil), ("--series-min-effect", seriesMinEffect != nil),
                    ("--exponent-min-effect", exponentMinEffect != nil),
                    ("--thresholds", thresholds != nil), ("--output", output != nil), ("--overwrite", overwrite),
                    ("--order-seed", orderSeed != nil), ("--allow-debug", allowDebug),
                    ("--inject-regression", injectRegression != nil),
                ].filter(\.1).map(\.0)
            if let first = given.first {
                throw ValidationError(
                    "\(first) is for --interleave (measuring two binaries); comparing two CSVs takes none")
            }
        }
    }

    func run() throws {
        if interleave { return try runInterleaved() }
        let minEffect = self.minEffect ?? 0.05
        var slower = false
        try reportingUsageErrors {
            let oldTable = try ResultTable(path: old)
            let newTable = try ResultTable(path: new)
            let (oldSamples, newSamples) = (
                try Self.samples(of: oldTable, csv: old), try Self.samples(of: newTable, csv: new)
            )
            let comparison = Comparison(
                old: oldTable, new: newTable, oldSamples: oldSamples, newSamples: newSamples, alpha: alpha,
                minEffect: minEffect)
            guard
                !comparison.points.isEmpty || !comparison.onlyInOld.isEmpty || !comparison.onlyInNew.isEmpty
                    || !comparison.uncompared.isEmpty
            else {
                throw UsageError("\(old) and \(new) have no rows; nothing to compare")
            }
            print(format == .text ? comparison.text() : comparison.markdown(), terminator: "")
            slower = comparison.anySlower
            if failOnSlower && !comparison.points.contains(where: { $0.test != nil }) {
                throw UsageError(
                    "--fail-on-slower: no point of \(old) and \(new) could be tested (no point measured in both with samples on both sides), so nothing shows it is not slower; compare runs of one grid that kept their .samples.csv"
                )
            }
        }
        if slower && failOnSlower { throw ExitCode.failure }
    }

    /// The samples beside `csv`, refused when they disagree with its rows (``SampleAgreement``):
    /// p-values are taken from them, so they must be this run's.
    private static func samples(of table: ResultTable, csv: String) throws -> [SweepPoint: [RepetitionSample]] {
        let path = SampleRow.path(forCSV: csv)
        let samples = try SampleRow.read(path)
        if let mismatch = SampleAgreement.firstMismatch(table.rows, samples) {
            throw UsageError(
                "\(path) disagrees with \(csv): \(mismatch); it is not this run's samples: regenerate the run or move the file aside"
            )
        }
        return samples
    }
}
