import Foundation
import Reporting
import Testing
import _SeededRandom

/// `merge` on shards whose CSV or metadata was mutated: a value at the edge of its type in any cell,
/// or a metadata file cut short, is merged or refused in one line (exit 0, 1 for an incomplete set,
/// 64 or 74), never a trap. Two real shards of a tiny grid, then 40 seeded mutations.
@Suite struct MergeFuzzTests {
    @Test func mergesOfMutatedShardsNeverTrap() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("attnbench-mfuzz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let grid = [
            "--allow-debug", "--quiet", "--mechanism", "standard,linear", "--n", "32,64", "--heads", "1",
            "--head-dim", "8", "--threads", "1", "--warmups", "0", "--min-reps", "1", "--min-time", "0",
        ]
        for i in 1...2 {
            let shard = try attnbench(["run", "--shard", "\(i)/2", "--output", "\(dir.path)/s\(i).csv"] + grid)
            #expect(shard.status == 0, "\(shard.stderr)")
        }
        let csv = try TextFile.read("\(dir.path)/s2.csv")
        let meta = try TextFile.read("\(dir.path)/s2.meta.json")
        let rows = try CSV.parse(csv).rows
        var rng = SplitMix64(state: 40)
        var outcomes: [Int32: Int] = [:]
        for i in 0..<40 {
            if i % 4 == 3 {  // the metadata cut at a random byte
                let cut = Int.random(in: 0..<meta.utf8.count, using: &rng)
                try String(decoding: Array(meta.utf8.prefix(cut)), as: UTF8.self).write(
                    toFile: "\(dir.path)/s2.meta.json", atomically: true, encoding: .utf8)
                try csv.write(toFile: "\(dir.path)/s2.csv", atomically: true, encoding: .utf8)
            } else {
                let mutated = CellMutation.mutate(rows, &rng)
                try CSV.text(columns: mutated[0], rows: Array(mutated.dropFirst())).write(
                    toFile: "\(dir.path)/s2.csv", atomically: true, encoding: .utf8)
                try meta.write(toFile: "\(dir.path)/s2.meta.json", atomically: true, encoding: .utf8)
            }
            let merged = try attnbench([
                "merge", "--overwrite", "--output", "\(dir.path)/all.csv", "\(dir.path)/s1.csv", "\(dir.path)/s2.csv",
            ])
            #expect([0, 1, 64, 74].contains(merged.status), "exit \(merged.status): \(merged.stderr)")
            #expect(merged.stderr.split(separator: "\n").filter { $0.hasPrefix("attnbench: error:") }.count <= 1)
            outcomes[merged.status, default: 0] += 1
        }
        #expect((outcomes[64] ?? 0) > 5, "\(outcomes)")
    }
}
