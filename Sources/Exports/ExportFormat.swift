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
    ///   per-repetition rows need the samples file).
    public func document(_ input: ExportInput) throws(UsageError) -> JSON {
        switch self {
        case .googleBenchmark: try GoogleBenchmarkExport(input).document()
        case .bencher: BencherExport(input).document()
        case .githubActionBenchmark: GitHubActionBenchmarkExport(input).document()
        }
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
}
