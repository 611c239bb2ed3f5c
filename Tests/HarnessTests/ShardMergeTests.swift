import Foundation
import Harness
import Reporting
import Results
import Testing

/// A scratch folder, removed by the caller.
func scratchFolder() throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("attnbench-merge-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// A small grid with forward and decode points (decode gives the per-token sidecar something to hold).
func shardSpec() throws -> SweepSpec {
    var spec = try tinySpec()
    try spec.apply("mode", "forward,decode")
    try spec.apply("cycles", "2")
    return spec
}

/// Runs shard i/N of `spec` into `folder/s<i>.csv`.
@discardableResult
func runShard(_ spec: SweepSpec, _ index: Int, of count: Int, in folder: String, name: String? = nil) throws -> String {
    let path = "\(folder)/\(name ?? "s\(index)").csv"
    var sweep = testSweep(spec, output: path)
    sweep.shard = try Shard(index: index, count: count)
    _ = try sweep.run()
    return path
}

@Suite(.serialized) struct ShardMergeTests {
    /// Three shards merged: the unsharded plan's points in grid order, the sidecars joined, each
    /// shard's sessions and machine kept.
    @Test func mergedShardsAreTheWholeGrid() throws {
        let dir = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let spec = try shardSpec()
        let paths = try (1...3).map { try runShard(spec, $0, of: 3, in: dir) }
        let merge = try ShardMerge(paths: paths.reversed())
        #expect(merge.rows.map(\.point) == (try spec.points()))
        #expect(merge.missingShards.isEmpty && merge.missingPoints.isEmpty)
        #expect(merge.grid == GridIdentity(try spec.points()))
        // Sidecars: every measured point's samples (2 cycles each) and every decode point's latencies.
        let samples = SampleRow.lastMeasurements(merge.sampleRows)
        let measured = merge.rows.filter(\.isOK)
        #expect(Set(samples.keys) == Set(measured.map(\.point)))
        #expect(
            samples.values.allSatisfy { Set($0.map(\.cycle)) == [1, 2] && $0.map(\.repetition) == Array(1...$0.count) })
        #expect(Set(merge.tokenRows.map(\.point)) == Set(measured.filter { $0.point.mode == .decode }.map(\.point)))
        let metadata = merge.metadata
        #expect(metadata.mergedShards?.map(\.index) == [1, 2, 3] && metadata.shard == nil)
        #expect(
            metadata.sessions.count == 3 && metadata.mergedShards?.map(\.rowsMerged).reduce(0, +) == merge.rows.count)
        #expect(metadata.mergedShards?.allSatisfy { $0.machine.hostName != nil } == true)
    }

    /// Files that do not belong together are refused, naming what differs.
    @Test func shardsThatDoNotBelongTogetherAreRefused() throws {
        let dir = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let spec = try shardSpec()
        let s1 = try runShard(spec, 1, of: 2, in: dir)
        let s2 = try runShard(spec, 2, of: 2, in: dir)
        func refusal(_ paths: [String]) -> String {
            (#expect(throws: UsageError.self) { try ShardMerge(paths: paths) })?.description ?? ""
        }
        #expect(refusal([s1, s1]).contains("shard 1/2 is given twice"))
        var seeded = spec
        seeded.seed = 7
        #expect(refusal([s1, try runShard(seeded, 2, of: 2, in: dir, name: "seed")]).contains("seed 42"))
        var grown = spec
        try grown.apply("n", "16,32,64")
        #expect(refusal([s1, try runShard(grown, 2, of: 2, in: dir, name: "grid")]).contains("has grid"))
        #expect(refusal([s1, try runShard(spec, 2, of: 3, in: dir, name: "count")]).contains("has grid") == false)
        // A different commit, or a different schema, recorded in a shard's metadata.
        for (field, value, message) in [
            ("gitCommit", "\"feedface\"", "has commit"), ("csvSchemaColumns", "[\"mechanism\"]", "has CSV schema"),
        ] {
            let copy = "\(dir)/edited.csv"
            try? FileManager.default.removeItem(atPath: copy)
            try FileManager.default.copyItem(atPath: s2, toPath: copy)
            let meta = try String(contentsOfFile: RunMetadata.path(forCSV: s2), encoding: .utf8)
            var object = try #require(try JSONSerialization.jsonObject(with: Data(meta.utf8)) as? [String: Any])
            object[field] = try JSONSerialization.jsonObject(with: Data(value.utf8), options: .fragmentsAllowed)
            try JSONSerialization.data(withJSONObject: object).write(
                to: URL(fileURLWithPath: RunMetadata.path(forCSV: copy)))
            #expect(refusal([s1, copy]).contains(message), "\(field)")
        }
        // An unsharded run is not a shard.
        let plain = "\(dir)/plain.csv"
        _ = try testSweep(spec, output: plain).run()
        #expect(refusal([s1, plain]).contains("was not measured as a shard"))
    }

    /// A missing shard and a missing row are listed, not refused.
    @Test func missingShardsAndPointsAreListed() throws {
        let dir = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let spec = try shardSpec()
        let s1 = try runShard(spec, 1, of: 3, in: dir)
        var lines = try String(contentsOfFile: s1, encoding: .utf8).split(separator: "\n").map(String.init)
        let dropped = try #require(ResultRow(fields: try CSV.parse(lines.removeLast() + "\n").rows[0]))
        try (lines.joined(separator: "\n") + "\n").write(toFile: s1, atomically: true, encoding: .utf8)
        let merge = try ShardMerge(paths: [s1])
        #expect(merge.missingShards == [2, 3])
        #expect(merge.missingPoints.map(\.point.key) == [dropped.point.keyFields])
        #expect(merge.missingPoints.first?.shard == 1)
    }

    /// A shard resumes only as the same shard of the same grid.
    @Test func aShardResumesOnlyAsItself() throws {
        let dir = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let spec = try shardSpec()
        let s1 = try runShard(spec, 1, of: 2, in: dir)
        var other = testSweep(spec, output: s1)
        other.shard = try Shard(index: 2, count: 2)
        other.resume = true
        let error = #expect(throws: UsageError.self) { try other.run() }
        #expect(error?.description.contains("shard 1/2") == true && error?.description.contains("shard 2/2") == true)
        other.shard = try Shard(index: 1, count: 2)
        #expect(try other.run().alreadyDone == (try other.plan().points.count))
    }
}
