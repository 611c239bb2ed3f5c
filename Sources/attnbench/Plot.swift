import Analysis
import ArgumentParser
import Figures
import Foundation
import Reporting
import Results

/// Loads a results CSV and what goes with it (metadata, max-batch results, the paper's Table 3).
struct PlotInputs: ParsableArguments {
    @Option(help: "Results CSV.") var input = "Results/default.csv"
    @Option(
        help:
            "max-batch CSV for Table 3's memory column, used when it exists (default: <input>-max-batch.csv beside the input)."
    )
    var maxBatch: String?

    /// The max-batch results read: `--max-batch`, or `Results/x-max-batch.csv` for `Results/x.csv`.
    var maxBatchPath: String {
        maxBatch ?? (input.hasSuffix(".csv") ? String(input.dropLast(4)) : input) + "-max-batch.csv"
    }
    @Option(help: "The paper's Table 3 (n,k,time_saved,memory_saved).") var paper = "Data/linformer_table3.csv"
    @Option(help: "Long Range Arena's Table 2 (model,n,steps_per_second,memory_gb).") var paperLRA =
        "Data/lra_table2.csv"
    @Option(help: "The paper's generation throughput (dataset,method,images_per_second,speedup_vs_softmax).")
    var paperGeneration = "Data/rnn_generation.csv"
    @Option(help: "The paper's appendix Tables 4-5 (table,dataset,device,method,value,unit,multiple_of_linear).")
    var paperDecoders = "Data/rnn_generation_appendix.csv"
    @Option(
        help:
            "PyTorch's rows and attnbench's from one session (make bench-peers), compared in the report when the file exists."
    )
    var peers = "Results/peers.csv"

    /// The files read: the results CSV, its sidecars, the max-batch results, the peers and the paper data.
    var paths: [String] {
        [
            input, RunMetadata.path(forCSV: input), TokenLatencyRow.path(forCSV: input),
            EstimateCheckRow.path(forCSV: input),
            maxBatchPath, paper, paperLRA, paperGeneration, paperDecoders, peers, RunMetadata.path(forCSV: peers),
        ]
    }

    func analysis() throws -> (Analysis, RunMetadata?) {
        var analysis = Analysis(table: try ResultTable(path: input))
        let metadata = try RunMetadata.read(from: RunMetadata.path(forCSV: input))
        analysis.paperTable3 = try PaperTable3Cell.load(paper)
        analysis.paperLRA = try PaperLRACell.load(paperLRA)
        analysis.paperGeneration = try PaperGeneration.load(paperGeneration)
        analysis.paperDecoderTimes = try PaperDecoderTime.load(paperDecoders)
        analysis.paperLSHTimes = try PaperLSHTime.load(paperDecoders)
        analysis.tokenLatency = try TokenLatencyRow.read(TokenLatencyRow.path(forCSV: input))
        analysis.estimateChecks = try EstimateCheckRow.read(EstimateCheckRow.path(forCSV: input))
        if FileManager.default.fileExists(atPath: maxBatchPath) {
            analysis.maxBatch = try MaxBatchRow.read(maxBatchPath)
        }
        // The peers' session is compared only in the report of the preset it measured (the default
        // preset's core-scope forward passes): another preset's report is another experiment.
        if FileManager.default.fileExists(atPath: peers) && !OutputFile.sameFile(peers, input) {
            let peersMetadata = try RunMetadata.read(from: RunMetadata.path(forCSV: peers))
            var samePreset = true  // without both sidecars there is nothing to tell them apart
            if let preset = metadata?.preset, let measured = peersMetadata?.preset {
                // "peers (default, 3 interleaved rounds)"
                samePreset = measured == preset || measured.hasPrefix("peers (\(preset),")
            }
            if samePreset {
                analysis.peers = try ResultTable(path: peers)
                analysis.peersMachine = peersMetadata?.machine.cpuModel
            }
        }
        return (analysis, metadata)
    }
}

/// `attnbench plot`: gnuplot scripts and their data for a results CSV.
struct Plot: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write standalone gnuplot scripts (Plots/*.gp) and their data for a results CSV.",
        discussion:
            "Render them with `make plots` or `gnuplot Plots/<name>.gp` from the repository root; each writes a PNG and an SVG."
    )

    @OptionGroup var inputs: PlotInputs
    @Option(help: "Folder for the scripts and data.") var output = "Plots"
    @Flag(help: "Replace scripts and data files that already exist.") var overwrite = false

    func run() throws {
        try reportingUsageErrors {
            let (analysis, metadata) = try inputs.analysis()
            var plotter = Plotter(
                analysis: analysis, source: inputs.input, machine: metadata?.machine.cpuModel ?? "unknown machine")
            plotter.folder = output
            let rendered = plotter.render()
            let files = rendered.files.sorted(by: { $0.key < $1.key }).map { ("\(output)/\($0.key)", $0.value) }
            for (path, _) in files { try OutputFile.checkWritable(path, overwrite: overwrite, inputs: inputs.paths) }
            for (path, text) in files {
                try OutputFile.write(text, to: path, overwrite: overwrite, inputs: inputs.paths)
            }
            for note in rendered.notes { print("plot: \(note)") }
            // A figure this run does not draw must not survive from an earlier one (with --overwrite,
            // which already allows replacing this folder's figures): its script, data and images go.
            if overwrite {
                for name in rendered.skipped {
                    for ext in ["gp", "dat", "png", "svg"]
                    where FileManager.default.fileExists(atPath: "\(output)/\(name).\(ext)") {
                        try FileManager.default.removeItem(atPath: "\(output)/\(name).\(ext)")
                        print("plot: removed \(output)/\(name).\(ext), a figure this run does not draw")
                    }
                }
            }
            print(
                "plot: wrote \(rendered.files.keys.filter { $0.hasSuffix(".gp") }.sorted().joined(separator: ", ")) to \(output)/"
            )
        }
    }
}

/// `attnbench report`: Markdown comparing the run with the papers.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Write a Markdown report (Results/REPORT.md) for a results CSV.")

    @OptionGroup var inputs: PlotInputs
    @Option(help: "Report file.") var output = "Results/REPORT.md"
    @Flag(help: "Replace the report when it exists.") var overwrite = false
    @Option(help: "Folder of the rendered figures, to embed those that exist.") var plots = "Plots"

    func run() throws {
        try reportingUsageErrors {
            let (analysis, metadata) = try inputs.analysis()
            var report = Report(analysis: analysis, source: inputs.input, metadata: metadata)
            let folder = URL(fileURLWithPath: output).deletingLastPathComponent().standardizedFileURL
            let images = ((try? FileManager.default.contentsOfDirectory(atPath: plots)) ?? []).filter {
                $0.hasSuffix(".png")
            }.sorted()
            report.figures = images.map {
                relative(URL(fileURLWithPath: "\(plots)/\($0)").standardizedFileURL, from: folder)
            }
            try OutputFile.checkWritable(output, overwrite: overwrite, inputs: inputs.paths)
            try OutputFile.write(report.markdown(), to: output, overwrite: overwrite, inputs: inputs.paths)
            print("report: wrote \(output)")
        }
    }

    /// `../Plots/x.png` for a file in a sibling folder.
    func relative(_ file: URL, from folder: URL) -> String {
        let a = folder.pathComponents
        let b = file.pathComponents
        let common = zip(a, b).prefix { $0 == $1 }.count
        return (Array(repeating: "..", count: a.count - common) + b[common...]).joined(separator: "/")
    }
}
