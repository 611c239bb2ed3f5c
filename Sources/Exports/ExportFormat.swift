import Reporting
import Results

/// The formats `attnbench export` writes, each what a tool outside this suite reads.
public enum ExportFormat: String, CaseIterable, Sendable {
    /// Google Benchmark's `--benchmark_format=json` output: its `compare.py` and dashboards read it.
    case googleBenchmark = "google-benchmark"
    /// Bencher Metric Format, for `bencher run --adapter json`.
    case bencher
    /// github-action-benchmark's `customSmallerIsBetter` input.
    case githubActionBenchmark = "github-action-benchmark"

    /// The document for `input`.
    /// - Throws: ``UsageError`` when the run lacks what the format needs (Google Benchmark's
    ///   per-repetition rows need the samples file), or when a number of the document is not
    ///   finite (a finite time too large for the format's unit): valid JSON or none.
    public func document(_ input: ExportInput) throws(UsageError) -> JSON {
        try input.validate()
        let document =
            switch self {
            case .googleBenchmark: try GoogleBenchmarkExport(input).document()
            case .bencher: BencherExport(input).document()
            case .githubActionBenchmark: GitHubActionBenchmarkExport(input).document()
            }
        if let path = document.firstNonFinite {
            throw UsageError(
                "\(input.table.path): the \(rawValue) value at \(path) is out of JSON's range (a time too large for the format's unit); the file holds an impossible time: re-measure it"
            )
        }
        return document
    }
}

/// What an export reads: a results table, its metadata sidecar (nil when there is none) and its raw
/// samples (empty when there is no samples file).
public struct ExportInput: Sendable {
    public var table: ResultTable
    public var metadata: RunMetadata?
    public var samples: [SweepPoint: [RepetitionSample]]

    public init(table: ResultTable, metadata: RunMetadata?, samples: [SweepPoint: [RepetitionSample]]) {
        (self.table, self.metadata, self.samples) = (table, metadata, samples)
    }

    /// The rows that were measured, with a median: what every format exports (a skipped point has
    /// no number to give; the command says how many were left out).
    public var exported: [ResultRow] { table.rows.filter { $0.isOK && $0.median != nil } }

    /// Every time exported must be a finite, positive number of seconds (CPU time: finite, not
    /// negative): a `nan` or `inf` in a corrupt or hand-edited file is refused here, not written as
    /// the `null` that the tools reading these formats reject.
    /// - Throws: ``UsageError`` naming the point and the value.
    public func validate() throws(UsageError) {
        func refuse(_ row: ResultRow, _ what: String, _ value: Double) -> UsageError {
            UsageError(
                "\(table.path): \(what) of \(row.point.benchmarkName) is \(value), which cannot be exported; re-measure it"
            )
        }
        for row in exported {
            for (name, value) in [
                ("time_median_ms", row.median), ("time_ci95_low_ms", row.ciLow), ("time_ci95_high_ms", row.ciHigh),
            ] {
                if let value, !(value.isFinite && value > 0) { throw refuse(row, name, value * 1e3) }
            }
            for sample in samples[row.point] ?? [] {
                if !(sample.time.seconds.isFinite && sample.time.seconds > 0) {
                    throw refuse(row, "the seconds of repetition \(sample.repetition)", sample.time.seconds)
                }
                if let cpu = sample.time.cpuSeconds, !(cpu.isFinite && cpu >= 0) {
                    throw refuse(row, "the cpu_seconds of repetition \(sample.repetition)", cpu)
                }
            }
        }
    }
}
