import ArgumentParser
import Exports
import Foundation
import Harness
import Reporting
import Results

/// `attnbench export`: a results CSV in another tool's format.
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Write a results CSV as Google Benchmark JSON, Bencher Metric Format or github-action-benchmark input.",
        discussion: """
            google-benchmark: context (host, CPUs, caches, date) and, per point, one iteration entry per \
            repetition plus mean, median, stddev and cv aggregates, with gflops, efficiency and \
            peak_heap_bytes counters (needs <name>.samples.csv). bencher: latency (ns, median with its \
            95% interval) and peak-heap (bytes) per point. github-action-benchmark: the \
            customSmallerIsBetter array, median ms and peak heap bytes per point. Names look like \
            standard/n=4096/b=1/h=8/d=64/t=2. Skipped points are left out.
            """)

    @Option(help: "Results CSV.") var input: String
    @Option(help: "google-benchmark, bencher or github-action-benchmark.") var format: ExportFormat
    @Option(help: "JSON file to write.") var output: String
    @Flag(help: "Replace the output when it exists.") var overwrite = false

    func run() throws {
        try reportingUsageErrors {
            let inputs = [input] + ResultsFile.sidecars(of: input)
            try OutputFile.checkWritable(output, overwrite: overwrite, inputs: inputs)
            let data = ExportInput(
                table: try ResultTable(path: input),
                metadata: try RunMetadata.read(from: RunMetadata.path(forCSV: input)),
                samples: try SampleRow.read(SampleRow.path(forCSV: input)))
            let document = try format.document(data)
            try OutputFile.write(document.text, to: output, overwrite: overwrite, inputs: inputs)
            let left = data.table.rows.count - data.exported.count
            print(
                "export: wrote \(output) (\(format.rawValue), \(data.exported.count) point(s)\(left > 0 ? ", \(left) skipped point(s) left out" : ""))"
            )
        }
    }
}

extension ExportFormat: ExpressibleByArgument {}
