import Foundation
import Reporting
import Results

/// The regression baseline: a preset measured several times, keeping per point the row of the run
/// with the median time, and that run's raw samples of the point.
///
/// One run can land 15% fast or slow as a whole on a shared machine; a baseline taken from one lucky
/// run makes every later check look like a regression. The median of `runs` runs (each already the
/// best of its preset's cycles) is typical instead.
public struct Baseline {
    public var spec: SweepSpec
    public var runs: Int
    public var buildConfiguration: String
    public var commandLine = CommandLine.arguments.joined(separator: " ")
    /// The sgemm ceiling at a thread count (see ``Sweep/ceiling``).
    public var ceiling: @Sendable (Int) -> Double = { Calibration.sgemmGflops(threads: $0) }

    public init(spec: SweepSpec, runs: Int, buildConfiguration: String) {
        self.spec = spec
        self.runs = runs
        self.buildConfiguration = buildConfiguration
    }

    /// Measures the preset `runs` times into a scratch folder and returns the per-point median rows
    /// (in the preset's point order), the samples behind each (from the run it came from), and the
    /// metadata of the middle run, whose sessions list every run's.
    public func measure(log: (String) -> Void = { _ in }) throws -> (
        rows: [ResultRow], samples: [SampleRow], metadata: RunMetadata?
    ) {
        guard runs >= 1 else { throw UsageError("--runs must be at least 1") }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
            "attnbench-baseline-\(getpid())-\(UUID().uuidString)")
        do { try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true) } catch {
            throw FileError("cannot create \(scratch.path): \(describe(error))")
        }
        defer { try? FileManager.default.removeItem(at: scratch) }
        var tables: [[SweepPoint: ResultRow]] = []
        var samples: [[SweepPoint: [RepetitionSample]]] = []
        var metadata: [RunMetadata] = []
        for i in 1...runs {
            var sweep = Sweep(
                spec: spec, output: scratch.appendingPathComponent("run\(i).csv").path,
                buildConfiguration: buildConfiguration)
            sweep.quiet = true
            sweep.ceiling = ceiling
            sweep.commandLine = "\(commandLine) (run \(i) of \(runs))"
            _ = try sweep.run { if $0.hasPrefix("warning: ") { log($0) } }  // a failed probe is said, not only recorded
            tables.append(try ResultTable(path: sweep.output).byKey)
            samples.append(try SampleRow.read(SampleRow.path(forCSV: sweep.output)))
            if let m = try RunMetadata.read(from: RunMetadata.path(forCSV: sweep.output)) { metadata.append(m) }
            log("baseline: run \(i) of \(runs) done")
        }
        let chosen = try spec.points().compactMap { point -> (row: ResultRow, run: Int)? in
            let candidates = tables.indices.compactMap { run in tables[run][point].map { ($0, run) } }
                .sorted { ($0.0.median ?? 0) < ($1.0.median ?? 0) }
            return candidates.isEmpty ? nil : candidates[candidates.count / 2]
        }
        var middle = metadata.isEmpty ? nil : metadata[metadata.count / 2]
        middle?.sessions = metadata.flatMap(\.sessions)
        let kept = chosen.flatMap { SampleRow.rows($0.row.point, samples[$0.run][$0.row.point] ?? []) }
        return (chosen.map(\.row), kept, middle)
    }
}
