import ArgumentParser
import Foundation
import Harness
import Reporting

/// `attnbench baseline`: the regression baseline, as the per-point median of several runs.
struct BaselineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baseline",
        abstract: "Measure a preset several times and keep, per point, the run with the median time.",
        discussion: """
            One run can land 15% fast or slow as a whole on a shared machine; a baseline taken from \
            one lucky run makes every later check look like a regression. The median of --runs runs \
            (each already the best of its preset's cycles) is typical instead. Writes the CSV and \
            its metadata (that of the median run's session, with every run's command line).
            """)

    @Option(help: "Preset to measure.") var preset = "ci"
    @Option(help: "Independent runs to take the median of.") var runs = 3
    @Option(help: "Baseline CSV to write.") var output = "Baselines/ci.csv"

    func run() throws {
        try reportingUsageErrors {
            guard runs >= 1 else { throw UsageError("--runs must be at least 1") }
            if buildConfiguration == "debug" { throw UsageError("a baseline needs a release build (`make build`)") }
            let spec = try Preset.load(preset)
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("attnbench-baseline-\(getpid())")
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: scratch) }
            var tables: [(path: String, rows: [[String]: [String]])] = []
            for i in 1...runs {
                var sweep = Sweep(spec: spec, output: scratch.appendingPathComponent("run\(i).csv").path, buildConfiguration: buildConfiguration)
                sweep.quiet = true
                _ = try sweep.run()
                let parsed = try CSV.parse(String(contentsOfFile: sweep.output, encoding: .utf8)).rows.dropFirst()
                tables.append((sweep.output, Dictionary(uniqueKeysWithValues: parsed.map { (Array($0.prefix(ResultRow.keyColumns.count)), $0) })))
                FileHandle.standardError.write(Data("baseline: run \(i) of \(runs) done\n".utf8))
            }
            let median = ResultRow.columns.firstIndex(of: "time_median_ms")!
            let file = try AppendingFile(path: output, truncate: true)
            var writer = CSVWriter(output: file, columns: ResultRow.columns)
            for point in try spec.points() {
                let candidates = tables.compactMap { $0.rows[point.keyFields] }
                let ordered = candidates.sorted { (Double($0[median]) ?? 0) < (Double($1[median]) ?? 0) }
                writer.write(ordered[ordered.count / 2])
            }
            if var metadata = RunMetadata.read(from: RunMetadata.path(forCSV: tables[tables.count / 2].path)) {
                metadata.sessions[0].commandLine = CommandLine.arguments.joined(separator: " ") + " (median of \(runs) runs)"
                try metadata.write(to: RunMetadata.path(forCSV: output))
            }
            print("baseline: wrote \(output), the per-point median of \(runs) runs of '\(preset)'")
        }
    }
}
