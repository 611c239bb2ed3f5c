import ArgumentParser
import Figures
import Foundation
import Harness
import Reporting
import Results

/// `attnbench profile`: where each point's time goes, phase by phase, and where it sits on the
/// roofline (``PhaseProfiler``).
struct Profile: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Split each point's call into its phases and place it on the roofline.",
        discussion: """
            Plain calls of each point alternate with calls that mark every phase of its kernel (and, at \
            layer scope, every part of the layer) on a per-thread clock, by the preset's timing policy. The phase \
            CSV has one row per phase (level core or layer, and `other` for time in no phase) with its \
            median, interval, share of the call, modelled FLOPs and bytes, and the clock's overhead. \
            The roofline CSV has one row per point: modelled FLOPs and memory traffic, intensity, \
            achieved GF/s, and the two roofs measured in this run (sgemm 1024³, STREAM triad).
            """)

    @OptionGroup var grid: GridOptions
    @Option(help: "Phase CSV to write.") var output = "Results/profile.csv"
    @Option(help: "Roofline CSV to write.") var roofline = "Results/roofline.csv"
    @Flag(help: "Replace existing output files.") var overwrite = false
    @Flag(help: "Allow a debug build.") var allowDebug = false

    func run() throws {
        try reportingUsageErrors {
            if buildConfiguration == "debug" && !allowDebug {
                throw UsageError("this is a debug build; build with `swift build -c release`, or pass --allow-debug")
            }
            let spec = try grid.spec()
            let points = try spec.points().filter { $0.mode == .forward }
            guard !points.isEmpty else { throw UsageError("the grid has no forward-mode point to profile") }
            let inputs = try grid.presetFiles()
            let sidecar = ProfileMetadata.path(for: output)
            try OutputFile.checkDistinct([output, roofline, sidecar], inputs: inputs)
            for path in [output, roofline, sidecar] {
                try OutputFile.checkWritable(path, overwrite: overwrite, inputs: inputs)
            }
            // The tree as it was when measuring began (the run's own outputs make it dirty later).
            var metadata = ProfileMetadata(
                commandLine: CommandLine.arguments.joined(separator: " "), preset: grid.preset,
                machine: Machine.current(), openblasCore: OpenBLASCore.record.summary,
                buildConfiguration: buildConfiguration, git: RunMetadata.git(), timing: spec.policy, seed: spec.seed,
                start: RunMetadata.now())
            metadata.loadAverageStart = Machine.loadAverage()

            var ceilings: [Int: Double] = [:]
            var bandwidths: [Int: Double] = [:]
            for threads in Set(points.map(\.threads)).sorted() {
                ceilings[threads] = Calibration.sgemmGflops(threads: threads)
                bandwidths[threads] = Bandwidth.triadGBs(threads: threads)
                metadata.sgemmGflops[String(threads)] = ceilings[threads]
                metadata.triadGBs[String(threads)] = bandwidths[threads]
                FileHandle.standardError.write(
                    Data(
                        String(
                            format: "profile: %d thread(s): sgemm %.1f GF/s, triad %.1f GB/s\n", threads,
                            ceilings[threads] ?? 0, bandwidths[threads] ?? 0
                        ).utf8))
            }
            let profiler = PhaseProfiler(
                policy: spec.policy, seed: spec.seed, ceilings: ceilings, bandwidths: bandwidths)
            var (phaseRows, roofRows) = ([PhaseRow](), [RooflineRow]())
            for (i, point) in points.enumerated() {
                FileHandle.standardError.write(Data("profile: [\(i + 1)/\(points.count)] \(point.label)\n".utf8))
                let (phases, roof) = try profiler.profile(point)
                phaseRows += phases
                roofRows.append(roof)
            }
            try OutputFile.write(
                RowFile.text(phaseRows, PhaseRow.table), to: output, overwrite: overwrite, inputs: inputs)
            try OutputFile.write(
                RowFile.text(roofRows, RooflineRow.table), to: roofline, overwrite: overwrite, inputs: inputs)
            metadata.end = RunMetadata.now()
            metadata.loadAverageEnd = Machine.loadAverage()
            try OutputFile.write(try metadata.json(), to: sidecar, overwrite: overwrite, inputs: inputs)
            print("profile: wrote \(output), \(roofline) and \(sidecar) (\(points.count) points)")
        }
    }
}

/// `attnbench profile-report`: the figures and the Markdown of a profile's CSVs (``ProfileFigures``,
/// ``ProfileReport``), drawn apart from the measuring, as `plot` and `report` are for a run.
struct ProfileReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile-report",
        abstract: "Draw a profile's phase bars and roofline, and write its report.")

    @Option(help: "Phase CSV written by `attnbench profile`.") var input = "Results/profile.csv"
    @Option(help: "Roofline CSV written by `attnbench profile`.") var roofline = "Results/roofline.csv"
    @Option(help: "Folder for the gnuplot scripts and data.") var plots = "Plots/profile"
    @Option(help: "Markdown report to write.") var report = "Results/REPORT-profile.md"
    @Option(help: "Markdown sections to append (e.g. the memory timelines' report).") var append: [String] = []
    @Flag(help: "Replace existing outputs.") var overwrite = false

    func run() throws {
        try reportingUsageErrors {
            let phases = try RowFile.read(input, columns: PhaseRow.table, empty: .empty)
            let roofs = try RowFile.read(roofline, columns: RooflineRow.table, empty: .empty)
            guard !phases.isEmpty else { throw UsageError("\(input) has no phase rows; run `attnbench profile` first") }
            let metadata = try ProfileMetadata.read(from: ProfileMetadata.path(for: input))
            let machine = metadata?.summary ?? "machine not recorded"
            var figures = ProfileFigures(phases: phases, roofline: roofs, source: input, machine: machine)
            figures.folder = plots
            let inputs = [input, roofline] + append
            let files = figures.render().map { (plots + "/" + $0.key, $0.value) }
            for (path, _) in files { try OutputFile.checkWritable(path, overwrite: overwrite, inputs: inputs) }
            try OutputFile.checkWritable(report, overwrite: overwrite, inputs: inputs)
            for (path, text) in files { try OutputFile.write(text, to: path, overwrite: overwrite, inputs: inputs) }
            var markdown = ProfileReport(phases: phases, roofline: roofs, source: input, machine: machine)
            let reportFolder = (report as NSString).deletingLastPathComponent
            for (name, _) in files where name.hasSuffix(".gp") {
                let figure = String((name as NSString).lastPathComponent.dropLast(3))
                markdown.figures[figure] = ProfileMemoryCommand.relativePath(
                    String(name.dropLast(3)) + ".png", from: reportFolder.isEmpty ? "." : reportFolder)
            }
            // an appended report's own title would be a second one
            markdown.extraSections = try append.map { path in
                let text = try TextFile.read(path)
                return text.hasPrefix("# ") ? String(text.drop { $0 != "\n" }.dropFirst()) : text
            }
            try OutputFile.write(markdown.markdown(), to: report, overwrite: overwrite, inputs: inputs)
            print("profile-report: wrote \(files.count) files in \(plots) and \(report)")
        }
    }
}
