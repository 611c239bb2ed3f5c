import ArgumentParser
import Figures
import Foundation
import Harness
import Profiling
import Reporting
import Results

/// `attnbench profile-memory`: the tensor heap over one call of each point, allocation by
/// allocation, with what fills its peak.
struct ProfileMemoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile-memory",
        abstract: "Trace one call per point, tensor by tensor: the live heap over the call and what fills its peak.",
        discussion: """
            For each forward-mode point of the grid (a preset or flags; --pass defaults to forward,train), \
            one call is run untraced, then one traced (the heap max-batch measures: the point's inputs, \
            parameters and one call of its pass). Every Tensor allocated and released on the calling \
            thread is recorded with the label of its allocation site; OpenBLAS's buffers, Swift arrays \
            and the allocator's caches are not tensors and are not in it (jemalloc's thread.peak over \
            the same call is reported beside the tensors' peak). Bytes are jemalloc size classes (the \
            unit of max-batch --predict's replay), with the requested bytes beside them.

            Writes, per point, <output>/<point>.csv (event, kind, tensor, label, requested and \
            size-class bytes, live bytes after the event), <output>/<point>.peak.csv (the tensors live \
            at the peak by label, their bytes and share), and <plots>/<point>.gp with its .dat (render \
            with gnuplot from the repository root); with --report, a Markdown report of what fills each \
            peak. Memory is deterministic: the machine's load does not change these numbers.
            """)

    @OptionGroup var grid: GridOptions
    @Option(help: "Folder for the timeline and peak CSVs.") var output = "Results/memory"
    @Option(help: "Folder for the gnuplot scripts and data.") var plots = "Plots/memory"
    @Option(help: "Also write a Markdown report of what fills each peak (e.g. Results/REPORT-memory.md).")
    var report: String?
    @Flag(help: "Replace files that already exist.") var overwrite = false

    func run() throws {
        try reportingUsageErrors {
            var spec = try grid.spec()
            if grid.pass == nil { try spec.apply("pass", "forward,train") }
            let budget = spec.effectiveMemoryBudget()
            let points = try spec.points().filter { $0.mode == .forward }
            guard !points.isEmpty else { throw UsageError("the grid has no forward-mode point to trace") }
            let inputs = try grid.presetFiles()
            var names = Set<String>()
            var files: [(point: SweepPoint, name: String)] = []
            for point in points {
                let name = Self.fileName(point)
                guard names.insert(name).inserted else {
                    throw UsageError("two points of the grid share the file name \(name); narrow the grid")
                }
                files.append((point, name))
            }
            let paths =
                files.flatMap { f in
                    [
                        "\(output)/\(f.name).csv", "\(output)/\(f.name).peak.csv", "\(plots)/\(f.name).gp",
                        "\(plots)/\(f.name).dat",
                    ]
                } + (report.map { [$0] } ?? [])
            try OutputFile.checkDistinct(paths, inputs: inputs)
            for folder in [output, plots] {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            }
            for path in paths { try OutputFile.checkWritable(path, overwrite: overwrite, inputs: inputs) }
            try AllocatorProbe.returnFreedPagesAtOnce()
            var timelines: [MemoryTimeline] = []
            var figures: [String: String] = [:]
            for (point, name) in files {
                if case .skip(let reason) = PointPlan(point, memoryBudget: budget) {
                    print("profile-memory: \(point.label): skipped, \(reason)")
                    continue
                }
                FileHandle.standardError.write(Data("profile-memory: \(point.label)\n".utf8))
                let timeline = try MemoryProfile.timeline(point, seed: spec.seed)
                let figure = MemoryTimelineFigure.render(
                    timeline, name: name, folder: plots, source: "attnbench profile-memory")
                try OutputFile.write(timeline.csv(), to: "\(output)/\(name).csv", overwrite: overwrite, inputs: inputs)
                try OutputFile.write(
                    timeline.summaryCSV(), to: "\(output)/\(name).peak.csv", overwrite: overwrite, inputs: inputs)
                try OutputFile.write(figure.script, to: "\(plots)/\(name).gp", overwrite: overwrite, inputs: inputs)
                try OutputFile.write(figure.data, to: "\(plots)/\(name).dat", overwrite: overwrite, inputs: inputs)
                timelines.append(timeline)
                figures[timeline.name] = "\(plots)/\(name).png"
                let peak = timeline.peak?.bytes ?? 0
                let top = timeline.peakSummary.first.map { " (\($0.label) \(String(format: "%.0f", $0.share * 100))%)" }
                print("profile-memory: \(point.label): tensor peak \(formatBytes(peak))\(top ?? "")")
            }
            if let report {
                // Image paths relative to the report's folder.
                let base = URL(fileURLWithPath: report).deletingLastPathComponent().standardizedFileURL.path
                let relative = figures.mapValues { Self.relativePath($0, from: base) }
                let text = MemoryTimelineFigure.report(
                    timelines, source: grid.preset.map { "preset \($0)" } ?? "flags", figures: relative)
                try OutputFile.write(text, to: report, overwrite: overwrite, inputs: inputs)
                print("profile-memory: wrote \(report)")
            }
            print("profile-memory: wrote \(timelines.count) timeline(s) to \(output)/ and \(plots)/")
        }
    }

    /// `standard-train-layer-n-512-b-1-h-8-d-64-t-1`: the point's label as a file name.
    static func fileName(_ point: SweepPoint) -> String {
        var out = ""
        for scalar in point.label.lowercased().unicodeScalars {
            if ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) {
                out.unicodeScalars.append(scalar)
            } else if !out.hasSuffix("-") && !out.isEmpty {
                out += "-"
            }
        }
        return out.hasSuffix("-") ? String(out.dropLast()) : out
    }

    /// `path` relative to the folder `base` (both made absolute), with `../` where it leaves it.
    static func relativePath(_ path: String, from base: String) -> String {
        let target = URL(fileURLWithPath: path).standardizedFileURL.pathComponents
        let from = URL(fileURLWithPath: base).standardizedFileURL.pathComponents
        var common = 0
        while common < min(target.count, from.count) && target[common] == from[common] { common += 1 }
        return (Array(repeating: "..", count: from.count - common) + target[common...]).joined(separator: "/")
    }
}
