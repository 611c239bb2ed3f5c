/// Which grid a run measured, so shards of one sweep can be told from shards of another: the number
/// of points and a digest of their keys (FNV-1a, 64 bits, over the key columns' header line and every
/// point's key line, in grid order: another grid, another order or another schema gives another digest).
public struct GridIdentity: Codable, Equatable, Sendable {
    public var points: Int
    /// 16 hexadecimal digits.
    public var digest: String

    public init(points: Int, digest: String) {
        (self.points, self.digest) = (points, digest)
    }

    /// The identity of `points`, in this order.
    public init(_ points: [SweepPoint]) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for line in [RowFile.header(SweepPoint.columns)] + points.map(\.keyFields) {
            for byte in (line.joined(separator: ",") + "\n").utf8 {
                hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
            }
        }
        let hex = String(hash, radix: 16)
        self.init(points: points.count, digest: String(repeating: "0", count: 16 - hex.count) + hex)
    }
}

/// The part of a grid one shard measures (`attnbench run --shard i/N`), recorded in the shard's
/// metadata so `merge` can check the shards belong together and list what is missing.
public struct ShardAssignment: Codable, Equatable, Sendable {
    /// 1-based.
    public var index: Int
    public var count: Int
    /// This shard's points: their position in the whole grid (0-based) and key fields.
    public var planned: [PlannedPoint]

    public init(index: Int, count: Int, planned: [PlannedPoint]) {
        (self.index, self.count, self.planned) = (index, count, planned)
    }

    /// `3/8`.
    public var label: String { "\(index)/\(count)" }
}

/// A point of a grid: where it is in the grid and its key fields (``SweepPoint/keyFields``).
public struct PlannedPoint: Codable, Equatable, Sendable {
    public var position: Int
    public var key: [String]

    public init(position: Int, key: [String]) {
        (self.position, self.key) = (position, key)
    }
}

/// What a merged file keeps of each shard: where and how it was measured.
public struct MergedShard: Codable, Equatable, Sendable {
    public var index: Int
    public var count: Int
    /// The shard's CSV, as given to `merge`.
    public var source: String
    public var machine: Machine
    public var sessions: [RunMetadata.Session]
    public var sgemmCeilingGflops: [String: Double]
    public var memoryBudgetBytes: Int
    public var gitDirty: Bool?
    public var pointsPlanned: Int
    public var rowsMerged: Int

    public init(
        index: Int, count: Int, source: String, machine: Machine, sessions: [RunMetadata.Session],
        sgemmCeilingGflops: [String: Double], memoryBudgetBytes: Int, gitDirty: Bool?, pointsPlanned: Int,
        rowsMerged: Int
    ) {
        (self.index, self.count, self.source, self.machine, self.sessions) = (index, count, source, machine, sessions)
        (self.sgemmCeilingGflops, self.memoryBudgetBytes, self.gitDirty) = (
            sgemmCeilingGflops, memoryBudgetBytes, gitDirty
        )
        (self.pointsPlanned, self.rowsMerged) = (pointsPlanned, rowsMerged)
    }
}
