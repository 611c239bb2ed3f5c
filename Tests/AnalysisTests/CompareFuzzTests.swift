import Analysis
import Foundation
import Reporting
import Results
import Testing
import _SeededRandom

/// `compare` on mutated copies of a frozen run (`Tests/Fixtures/ci.csv`): a value at the edge of its
/// type in any cell either makes the file unreadable (a thrown error, one line) or is compared and
/// printed, never a trap, both as the old side and as the new. The interleaved comparison's verdicts
/// on extreme times never trap either. Seeded; well under a second.
@Suite struct CompareFuzzTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/ci.csv")

    @Test func comparisonsOfMutatedRunsNeverTrap() throws {
        let text = try String(contentsOf: Self.fixture, encoding: .utf8)
        let original = try ResultTable(text: text, source: "ci.csv")
        let rows = try CSV.parse(text).rows
        var rng = SplitMix64(state: 24)
        var compared = 0
        var refused = 0
        for _ in 0..<300 {
            let mutated = CellMutation.mutate(rows, &rng)
            let table: ResultTable
            do {
                table = try ResultTable(
                    text: CSV.text(columns: mutated[0], rows: Array(mutated.dropFirst())), source: "fuzz.csv")
            } catch {
                #expect(!"\(error)".contains("\n"))
                refused += 1
                continue
            }
            for (old, new) in [(original, table), (table, original)] {
                let c = Comparison(old: old, new: new, oldSamples: [:], newSamples: [:])
                #expect(!c.text().isEmpty && !c.markdown().isEmpty)
            }
            compared += 1
        }
        #expect(compared > 50 && refused > 50, "compared \(compared), refused \(refused)")
    }

    @Test func interleavedVerdictsOnExtremeTimesNeverTrap() {
        var rng = SplitMix64(state: 7)
        let point = SweepPoint(mechanism: .linear, length: 64, batch: 1, heads: 1, headDim: 8, threads: 1)
        let values = [0, 1e-320, 1e-9, 1, 1e308, .infinity, .nan, -1]
        for _ in 0..<200 {
            var measurements: [InterleavedMeasurement] = []
            for round in 1...6 {
                for side in ComparedSide.allCases {
                    let seconds = (0..<Int.random(in: 0...3, using: &rng)).map { _ in
                        values.randomElement(using: &rng) ?? 1
                    }
                    measurements.append(
                        .init(point: point, side: side, round: round, seconds: seconds, peakHeapBytes: Int.max))
                }
            }
            let c = InterleavedComparison(measurements, alpha: 0.05, pointEffect: 0.2, seriesEffect: 0.1)
            #expect(!c.text(base: "a", head: "b").isEmpty)
        }
    }
}
