import ArgumentParser
import Foundation
import Harness
import Reporting
import Results

/// `attnbench baseline`: the regression baseline, as the per-point median of several runs.
struct BaselineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baseline",
        abstract: "Measure a preset several times and keep, per point, the run with the median time.",
        discussion: """
            One run can land 15% fast or slow as a whole on a shared machine; a baseline taken from \
            one lucky run makes every later check look like a regression. The median of --runs runs \
            (each already the best of its preset's cycles) is typical instead. Writes the CSV, the \
            samples behind each kept row (so `compare` can test a run against it) and the metadata: \
            the middle run's, with every run's session (command line, start, end).
            """)

    @Option(help: "Preset to measure.") var preset = "ci"
    @Option(help: "Independent runs to take the median of.") var runs = 3
    @Option(help: "Baseline CSV to write (replaced: it is a regenerated file).") var output = "Baselines/ci.csv"

    func run() throws {
        try reportingUsageErrors {
            if buildConfiguration == "debug" { throw UsageError("a baseline needs a release build (`make build`)") }
            try OutputFile.checkWritable(output, overwrite: true)  // before minutes of measuring
            let baseline = Baseline(spec: try Preset.load(preset), runs: runs, buildConfiguration: buildConfiguration)
            let (rows, samples, metadata) = try baseline.measure {
                FileHandle.standardError.write(Data("\($0)\n".utf8))
            }
            try OutputFile.write(
                RowFile.text(samples, SampleRow.table), to: SampleRow.path(forCSV: output), overwrite: true)
            try OutputFile.write(RowFile.text(rows, ResultRow.table), to: output, overwrite: true)
            if let metadata { try metadata.write(to: RunMetadata.path(forCSV: output)) }
            print("baseline: wrote \(output), the per-point median of \(runs) runs of '\(preset)'")
        }
    }
}
