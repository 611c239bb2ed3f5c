import Analysis
import ArgumentParser
import Figures
import Foundation
import Reporting
import Results

/// `attnbench claims`: the claims ledger, `Results/CLAIMS.md`, from the committed runs.
struct ClaimsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "claims",
        abstract:
            "Write the claims ledger (Results/CLAIMS.md): each published claim beside our number, with a verdict.",
        discussion: """
            Reads <results>/linformer-table3.csv (with its -max-batch.csv), rnn-figure1.csv, rnn-generation.csv and \
            rnn-generation-models.csv, \
            with their sidecars, and the papers' tables in <data>/. A run that is missing makes its claims \
            "not measured".
            """)

    @Option(help: "Folder of the committed results CSVs.") var results = "Results"
    @Option(help: "Folder of the papers' tables.") var data = "Data"
    @Option(help: "The ledger to write.") var output = "Results/CLAIMS.md"
    @Flag(help: "Replace the ledger when it exists.") var overwrite = false

    func run() throws {
        try reportingUsageErrors {
            var read: [String] = []
            var inputs: [String] = []
            var machines: [String: String] = [:]
            func load(_ preset: String) throws -> Analysis? {
                let csv = "\(results)/\(preset).csv"
                guard FileManager.default.fileExists(atPath: csv) else { return nil }
                let plotInputs = try PlotInputs.parse([
                    "--input", csv, "--paper", "\(data)/linformer_table3.csv",
                    "--paper-generation", "\(data)/rnn_generation.csv",
                    "--paper-decoders", "\(data)/rnn_generation_appendix.csv",
                ])
                let (analysis, metadata) = try plotInputs.analysis()
                inputs += plotInputs.paths
                if let m = metadata {
                    machines[preset] = m.machine.cpuModel
                    let commit = m.gitCommit.map { "commit \($0.prefix(10))" } ?? "commit unknown"
                    read.append(
                        "`\(csv)` (\(m.machine.cpuModel); \(commit)\(m.gitDirty == true ? ", uncommitted changes" : ""))"
                    )
                } else {
                    read.append("`\(csv)` (no sidecar)")
                }
                return analysis
            }
            var ledger = ClaimsLedger(
                table3: try load("linformer-table3"), figure1: try load("rnn-figure1"),
                generation: try load("rnn-generation"))
            ledger.models = try load("rnn-generation-models")
            ledger.figure1Limits = try PaperFigure1Limit.load("\(data)/rnn_figure1.csv")
            ledger.statefulSpeedups = try PaperStatefulSpeedup.load(
                appendix: "\(data)/rnn_generation_appendix.csv", generation: "\(data)/rnn_generation.csv")
            ledger.machines = machines
            read.append("`\(data)/` (the papers' tables; sources in `\(data)/SOURCES.md`)")
            let text = ClaimsReport(claims: ledger.claims(), sources: read).markdown()
            try OutputFile.checkWritable(output, overwrite: overwrite, inputs: inputs)
            try OutputFile.write(text, to: output, overwrite: overwrite, inputs: inputs)
            print("claims: wrote \(output)")
        }
    }
}
