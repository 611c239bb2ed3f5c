import ArgumentParser
import Figures
import Foundation
import Harness
import Reporting

/// Loads a results CSV and what goes with it (metadata, max-batch results, the paper's Table 3).
struct PlotInputs: ParsableArguments {
    @Option(help: "Results CSV.") var input = "Results/default.csv"
    @Option(help: "max-batch CSV for Table 3's memory column (used when it exists).") var maxBatch = "Results/max-batch.csv"
    @Option(help: "The paper's Table 3 (n,k,time_saved,memory_saved).") var paper = "Data/linformer_table3.csv"
    @Option(help: "The paper's generation throughput (dataset,method,images_per_second,speedup_vs_softmax).")
    var paperGeneration = "Data/rnn_generation.csv"

    func plotter() throws -> (Plotter, RunMetadata?) {
        let table = try ResultTable(path: input)
        let metadata = RunMetadata.read(from: RunMetadata.path(forCSV: input))
        let machine = metadata?.machine.cpuModel ?? "unknown machine"
        var plotter = Plotter(table: table, source: input, machine: machine)
        plotter.paperTable3 = Plotter.loadPaperTable3(paper)
        plotter.paperGeneration = Plotter.loadPaperGeneration(paperGeneration)
        plotter.tokenLatency = try TokenLatencyFile.read(TokenLatencyFile.path(forCSV: input))
        if let text = try? String(contentsOfFile: maxBatch, encoding: .utf8) {
            plotter.maxBatch = try CSV.parse(text).rows.dropFirst().map { $0 }
        }
        return (plotter, metadata)
    }
}

/// `attnbench plot`: gnuplot scripts and their data for a results CSV.
struct Plot: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write standalone gnuplot scripts (Plots/*.gp) and their data for a results CSV.",
        discussion: "Render them with `make plots` or `gnuplot Plots/<name>.gp` from the repository root; each writes a PNG and an SVG.")

    @OptionGroup var inputs: PlotInputs
    @Option(help: "Folder for the scripts and data.") var output = "Plots"

    func run() throws {
        try reportingUsageErrors {
            var (plotter, _) = try inputs.plotter()
            plotter.folder = output
            let rendered = plotter.render()
            try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
            for (name, text) in rendered.files.sorted(by: { $0.key < $1.key }) {
                try text.write(toFile: "\(output)/\(name)", atomically: true, encoding: .utf8)
            }
            for note in rendered.notes { print("plot: \(note)") }
            print("plot: wrote \(rendered.files.keys.filter { $0.hasSuffix(".gp") }.sorted().joined(separator: ", ")) to \(output)/")
        }
    }
}

/// `attnbench report`: Markdown comparing the run with the papers.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Write a Markdown report (Results/REPORT.md) for a results CSV.")

    @OptionGroup var inputs: PlotInputs
    @Option(help: "Report file.") var output = "Results/REPORT.md"
    @Option(help: "Folder of the rendered figures, to embed those that exist.") var plots = "Plots"

    func run() throws {
        try reportingUsageErrors {
            let (plotter, metadata) = try inputs.plotter()
            var report = Report(plotter: plotter, metadata: metadata)
            let folder = URL(fileURLWithPath: output).deletingLastPathComponent().standardizedFileURL
            let images = ((try? FileManager.default.contentsOfDirectory(atPath: plots)) ?? []).filter { $0.hasSuffix(".png") }.sorted()
            report.figures = images.map { relative(URL(fileURLWithPath: "\(plots)/\($0)").standardizedFileURL, from: folder) }
            try report.markdown().write(toFile: output, atomically: true, encoding: .utf8)
            print("report: wrote \(output)")
        }
    }

    /// `../Plots/x.png` for a file in a sibling folder.
    func relative(_ file: URL, from folder: URL) -> String {
        let a = folder.pathComponents, b = file.pathComponents
        let common = zip(a, b).prefix { $0 == $1 }.count
        return (Array(repeating: "..", count: a.count - common) + b[common...]).joined(separator: "/")
    }
}
