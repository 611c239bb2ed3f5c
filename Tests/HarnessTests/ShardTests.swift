import Foundation
import Harness
import Reporting
import Results
import Testing

@Suite struct ShardTests {
    /// Every preset's grid, cut into 1 to 7 shards: each point in exactly one shard, each shard in
    /// grid order, and the partition the same whenever it is computed.
    @Test(arguments: ["default", "ci", "rnn-generation", "linformer-table3"])
    func shardsCoverTheGridOnce(_ preset: String) throws {
        let spec = try Preset.load(preset)
        let grid = try spec.points()
        for count in 1...7 {
            var seen: [Int] = []
            for index in 1...count {
                let mine = try Shard(index: index, count: count).select(grid, policy: spec.policy)
                #expect(mine.map(\.position) == mine.map(\.position).sorted())
                #expect(mine.allSatisfy { grid[$0.position] == $0.point })
                seen += mine.map(\.position)
            }
            #expect(seen.sorted() == Array(grid.indices), "\(preset), \(count) shards")
            #expect(
                Shard.partition(grid, count: count, policy: spec.policy)
                    == Shard.partition(grid, count: count, policy: spec.policy))
        }
    }

    /// Balanced by predicted time: the "longest first" rule leaves no shard above the average load
    /// plus the largest single point, and, on the default preset, none above 10% over the average
    /// unless it holds the largest point alone (a point cannot be split).
    @Test(arguments: [2, 3, 4, 8])
    func shardsAreBalancedByPredictedTime(_ count: Int) throws {
        let spec = try Preset.load("default")
        let grid = try spec.points()
        let seconds = grid.map { Shard.predictedSeconds($0, policy: spec.policy) }
        let shardOf = Shard.partition(grid, count: count, policy: spec.policy)
        let loads = (0..<count).map { s in grid.indices.filter { shardOf[$0] == s }.reduce(0) { $0 + seconds[$1] } }
        let average = seconds.reduce(0, +) / Double(count)
        #expect(loads.max()! <= average + seconds.max()! + 1e-9)
        #expect(loads.max()! <= max(average * 1.10, seconds.max()!), "loads \(loads), largest point \(seconds.max()!)")
    }

    /// The prediction: structural skips cost nothing, min-time is a floor, cycles multiply, and a
    /// point that will not fit this machine's memory still counts (the partition must not depend on it).
    @Test func predictedSecondsFollowThePolicy() {
        let p = SweepPoint(mechanism: .standard, length: 512, batch: 1, heads: 2, headDim: 16, threads: 1)
        let policy = TimingPolicy(warmups: 1, minReps: 5, minSeconds: 1, maxSeconds: 30, cycles: 1)
        var three = policy
        three.cycles = 3
        #expect(Shard.predictedSeconds(p, policy: policy) > 1)  // the timed part is at least min-time
        #expect(abs(Shard.predictedSeconds(p, policy: three) - 3 * Shard.predictedSeconds(p, policy: policy)) < 1e-12)
        let dash = SweepPoint(
            mechanism: .linformer, sharing: .keyValue, length: 64, projectedLength: 128, batch: 1, heads: 2,
            headDim: 16, threads: 1)
        #expect(Shard.predictedSeconds(dash, policy: policy) == 0)
        var huge = p
        huge.length = 1 << 20
        #expect(Shard.predictedSeconds(huge, policy: policy) > Shard.predictedSeconds(p, policy: policy))
        // A call slower than max-time is made three times: for memory, one warm-up, one timed.
        #expect(
            abs(
                Shard.predictedSeconds(huge, policy: policy) - 3 * huge.cost.flops
                    / (Shard.nominalGflopsPerThread * 1e9)) < 1e-6)
    }

    @Test(arguments: ["0/4", "5/4", "1/0", "a/b", "3", "1/2/3", "", "1/1000001", "1/99999999999999"])
    func badShardsAreRefused(_ text: String) {
        let error = #expect(throws: UsageError.self) { try Shard(text) }
        #expect(error?.description.contains("--shard") == true)
    }

    /// More shards than points: each point that costs time alone in a shard, the last shards empty
    /// (the points skipped whatever the machine cost nothing and share one).
    @Test func moreShardsThanPoints() throws {
        let spec = try tinySpec()
        let grid = try spec.points()
        let count = grid.count + 5
        let shardOf = Shard.partition(grid, count: count, policy: spec.policy)
        let timed = grid.indices.filter { Shard.predictedSeconds(grid[$0], policy: spec.policy) > 0 }
        #expect(timed.count < grid.count)  // the grid has k ≥ n dashes
        #expect(Set(timed.map { shardOf[$0] }).count == timed.count)
        #expect(shardOf.allSatisfy { $0 < grid.count })
        #expect(try Shard(index: count, count: count).select(grid, policy: spec.policy).isEmpty)
    }

    @Test func shardsParse() throws {
        let s = try Shard(" 3/8 ")
        #expect(s.index == 3 && s.count == 8 && s.description == "3/8")
    }
}
