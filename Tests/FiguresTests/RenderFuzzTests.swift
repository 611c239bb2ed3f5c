import Analysis
import Figures
import Foundation
import Reporting
import Results
import Testing
import _SeededRandom

/// Plots and reports rendered from mutated copies of results frozen in `Tests/Fixtures` (not the
/// live `Results/`, which every `make bench` rewrites, so a seed means the same inputs every
/// time): a value at the edge of its type in any cell (n = 2^63 − 1 made the report's break-even
/// table trap) either makes the table unreadable (a thrown error) or renders, never traps.
/// Seeded; a few seconds.
@Suite struct RenderFuzzTests {
    typealias Generator = SplitMix64

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func text(_ path: String) -> String {
        (try? String(contentsOf: repository.appendingPathComponent(path), encoding: .utf8)) ?? ""
    }

    @Test func plotsAndReportsOfMutatedResultsNeverTrap() throws {
        let sources = ["default.csv", "rnn-figure1.csv", "rnn-generation.csv", "ci.csv"].map { "Tests/Fixtures/" + $0 }
        let tables = try sources.map { try CSV.parse(Self.text($0)).rows }
        #expect(tables.allSatisfy { $0.count > 5 }, "results not found under \(Self.repository.path)")
        let fixtures = Self.repository.appendingPathComponent("Tests/Fixtures")
        let tokens = try TokenLatencyRow.read(fixtures.appendingPathComponent("rnn-generation.tokens.csv").path)
        let metadata = try RunMetadata.read(from: fixtures.appendingPathComponent("default.meta.json").path)
        var rng = Generator(state: 11)
        var rendered = 0
        var refused = 0
        for i in 0..<400 {
            let rows = CellMutation.mutate(tables[i % tables.count], &rng)
            let table: ResultTable
            do {
                table = try ResultTable(
                    text: CSV.text(columns: rows[0], rows: Array(rows.dropFirst())), source: "fuzz.csv")
            } catch {
                refused += 1
                continue
            }
            var analysis = Analysis(table: table)
            analysis.tokenLatency = tokens
            _ = Plotter(analysis: analysis, source: "fuzz.csv", machine: "fuzz").render()
            _ = Report(analysis: analysis, source: "fuzz.csv", metadata: metadata).markdown()
            rendered += 1
        }
        #expect(rendered > 100 && refused > 20, "rendered \(rendered), refused \(refused)")
    }
}
