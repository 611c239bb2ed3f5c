import Exports
import Foundation
import Reporting
import Results
import Testing
import _SeededRandom

/// `export` on mutated copies of a frozen run (`Tests/Fixtures/ci.csv` with its metadata): every
/// format either refuses in one line or writes JSON that a JSON parser accepts, never a trap and
/// never `null`, `nan` or `inf` in place of a number. Seeded; about a second.
@Suite struct ExportFuzzTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    /// Whether a parsed JSON value holds no `null` and only finite numbers.
    static func allFinite(_ value: Any) -> Bool {
        switch value {
        case is NSNull: false
        case let n as NSNumber: n.doubleValue.isFinite
        case let a as [Any]: a.allSatisfy(allFinite)
        case let o as [String: Any]: o.values.allSatisfy(allFinite)
        default: true
        }
    }

    @Test func exportsOfMutatedRunsAreValidJSONOrRefused() throws {
        let text = try String(contentsOf: Self.fixtures.appendingPathComponent("ci.csv"), encoding: .utf8)
        let metadata = try RunMetadata.read(from: Self.fixtures.appendingPathComponent("ci.meta.json").path)
        let rows = try CSV.parse(text).rows
        var rng = SplitMix64(state: 6)
        var written = 0
        var refused = 0
        for _ in 0..<200 {
            let mutated = CellMutation.mutate(rows, &rng)
            guard
                let table = try? ResultTable(
                    text: CSV.text(columns: mutated[0], rows: Array(mutated.dropFirst())), source: "fuzz.csv")
            else { continue }
            for format in ExportFormat.allCases {
                do {
                    let json = try format.document(ExportInput(table: table, metadata: metadata, samples: [:])).text
                    let parsed = try JSONSerialization.jsonObject(with: Data(json.utf8))
                    #expect(parsed is [String: Any] || parsed is [Any])
                    #expect(Self.allFinite(parsed), "\(format): a null or a non-finite number")
                    written += 1
                } catch let error as UsageError {
                    #expect(!error.description.contains("\n"))
                    refused += 1
                }
            }
        }
        #expect(written > 50 && refused > 30, "written \(written), refused \(refused)")
    }
}
