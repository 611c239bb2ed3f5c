import Analysis
import ArgumentParser
import Figures
import Foundation
import Reporting
import Results

/// `attnbench readme`: the README's performance table, regenerated from the peers' session.
struct ReadmeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "readme",
        abstract: "Rewrite the README's generated peers block from a peers CSV (make readme-peers).",
        discussion: """
            Replaces the lines between the README's `peers` marker comments with the report's peer table \
            (attnbench against the fastest peer of each form, every peer's time, the CPU from the CSV's sidecar); \
            the rest of the README is kept byte for byte.
            """)

    @Option(help: "The peers' session (make bench-peers).") var peers = "Results/peers.csv"
    @Option(help: "The README holding the marker comments.") var readme = "README.md"
    @Flag(help: "Rewrite the README's block (the README is changed in place).") var overwrite = false

    func run() throws {
        try reportingUsageErrors {
            guard overwrite else {
                throw UsageError("\(readme) would be rewritten in place; pass --overwrite to rewrite its peers block")
            }
            guard FileManager.default.fileExists(atPath: readme) else { throw UsageError("\(readme) does not exist") }
            var analysis = Analysis(table: try ResultTable(path: peers))
            analysis.peersMachine = try RunMetadata.read(from: RunMetadata.path(forCSV: peers))?.machine.cpuModel
            let body = Report(analysis: analysis, source: peers, metadata: nil).peersBody()
            let content = body.isEmpty ? "No peer was measured in `\(peers)`; run `make bench-peers`.\n" : body
            let text = try TextFile.read(readme)
            let rewritten = try ReadmeBlock.rewrite(text, block: "peers", with: content, source: readme)
            guard rewritten != text else {
                print("readme: \(readme)'s peers block is up to date")
                return
            }
            try OutputFile.write(rewritten, to: readme, overwrite: true, inputs: [peers])
            print("readme: rewrote \(readme)'s peers block from \(peers)")
        }
    }
}
