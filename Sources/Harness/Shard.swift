import AttentionKernels
import Reporting
import Results

/// One of N parts of a grid (`attnbench run --shard i/N`), so that N machines (a Slurm job array,
/// say) measure one sweep together and finish at about the same time; `attnbench merge` joins their
/// files.
///
/// The partition depends only on the grid and the timing policy, never on the machine (its memory
/// budget or speed), so every task of an array computes the same one: points are taken in
/// decreasing order of ``predictedSeconds(_:policy:)`` (grid order among equals) and each goes to
/// the shard with the least predicted time so far (the lowest index among equals), the "longest
/// processing time first" rule, whose largest shard is within 4/3 of the best possible. Each shard
/// then measures its points in grid order.
public struct Shard: Equatable, Sendable, CustomStringConvertible {
    /// 1-based.
    public let index: Int
    public let count: Int

    /// More shards than any job array has tasks (Slurm's default MaxArraySize is 1001).
    public static let maximumCount = 1_000_000

    public init(index: Int, count: Int) throws(UsageError) {
        guard count >= 1, count <= Self.maximumCount, index >= 1, index <= count else {
            throw UsageError("--shard \(index)/\(count): expected i/N with 1 ≤ i ≤ N ≤ \(Self.maximumCount)")
        }
        (self.index, self.count) = (index, count)
    }

    /// Parses `i/N`.
    public init(_ text: String) throws(UsageError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else {
            throw UsageError("--shard: expected i/N (this task's number from 1 to N, and N), got '\(text)'")
        }
        try self.init(index: i, count: n)
    }

    public var description: String { "\(index)/\(count)" }

    /// A nominal speed for turning the cost model's FLOPs into seconds. Only ratios between points
    /// matter for the balance, except against the timing policy's fixed seconds (min-time). The
    /// committed reference runs reached 37–73 GF/s per thread in the forward kernels and 10–25 in
    /// decoding (Results/default.csv, rnn-generation.csv); 40 is between.
    public static let nominalGflopsPerThread = 40.0

    /// The seconds a point is expected to take under `policy`, from the cost model's time per call t,
    /// as ``TimingPolicy/measure(_:afterEach:)`` spends them in every cycle: one call for memory; the
    /// warm-ups, which start only while less than max-time/2 has passed (at most ⌈max-time/2 ÷ t⌉
    /// of them); the timed calls, until both min-reps and min-time are met or max-time has passed
    /// since the warm-ups began, at least one. A point that is skipped whatever the machine (k ≥ n, a
    /// prompt as long as n, Linformer decoding) takes 0. Only IEEE arithmetic, minima, maxima and
    /// rounding: the same on every machine.
    public static func predictedSeconds(_ point: SweepPoint, policy: TimingPolicy) -> Double {
        guard PointPlan(point, memoryBudget: .max) == .run else { return 0 }
        let call = point.cost.flops / (nominalGflopsPerThread * 1e9 * Double(max(point.threads, 1)))
        guard call > 0 else { return 0 }
        let warmups = min(Double(policy.warmups), (policy.maxSeconds / 2 / call).rounded(.up)) * call
        let wanted = max(Double(policy.minReps) * call, policy.minSeconds)
        let timed = max(call, min(wanted, max(policy.maxSeconds - warmups, 0) + call))
        return Double(max(policy.cycles, 1)) * (call + warmups + timed)
    }

    /// The shard (0-based) of each point of `grid`, for `count` shards. With more shards than
    /// points, each point gets a shard of its own and the rest get none.
    public static func partition(_ grid: [SweepPoint], count: Int, policy: TimingPolicy) -> [Int] {
        let seconds = grid.map { predictedSeconds($0, policy: policy) }
        let order = grid.indices.sorted { seconds[$0] != seconds[$1] ? seconds[$0] > seconds[$1] : $0 < $1 }
        var load = [Double](repeating: 0, count: max(min(count, grid.count), 1))
        var shardOf = [Int](repeating: 0, count: grid.count)
        for i in order {
            var least = 0
            for s in load.indices where load[s] < load[least] { least = s }
            shardOf[i] = least
            load[least] += seconds[i]
        }
        return shardOf
    }

    /// This shard's points with their positions in `grid`, in grid order.
    public func select(_ grid: [SweepPoint], policy: TimingPolicy) -> [(position: Int, point: SweepPoint)] {
        let shardOf = Self.partition(grid, count: count, policy: policy)
        return grid.indices.filter { shardOf[$0] == index - 1 }.map { ($0, grid[$0]) }
    }
}
