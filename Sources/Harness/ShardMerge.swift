import Foundation
import Reporting
import Results

/// Joins the files of one sweep's shards (`attnbench run --shard i/N`) into one results file and its
/// sidecars, after checking they belong together (`attnbench merge`).
///
/// Refused, with one line saying which files differ: a file without shard metadata; shards of other
/// commits, CSV schemas, seeds, timing policies, build configurations, grids (``GridIdentity``) or
/// shard counts; a shard given twice; a point in two files or outside its shard. Not refused, but
/// listed: shards that are absent, and points a shard planned but has no row for (an interrupted
/// task: `run --resume` completes it).
///
/// The merged rows are in grid order (each shard records its points' positions). The metadata is
/// the first shard's, with every shard's sessions in `sessions` and, in `mergedShards`, each shard's
/// machine, sessions, sgemm ceilings and memory budget (rows keep the efficiency measured against
/// their own machine's ceiling). Per-token latencies and raw samples are joined the same way.
public struct ShardMerge {
    /// One shard's files, read.
    public struct Input {
        public var path: String
        public var table: ResultTable
        public var metadata: RunMetadata
        public var assignment: ShardAssignment
        public var tokens: [SweepPoint: [LatencySample]]
        public var samples: [SweepPoint: [RepetitionSample]]
    }

    public let inputs: [Input]

    /// Reads and checks the shards' files.
    /// - Throws: ``UsageError`` for files that do not belong together or cannot be read as results.
    public init(paths: [String]) throws {
        guard !paths.isEmpty else { throw UsageError("merge needs the shards' CSV files") }
        var inputs: [Input] = []
        for path in paths {
            let table = try ResultTable(path: path)
            let metaPath = RunMetadata.path(forCSV: path)
            guard let metadata = try RunMetadata.read(from: metaPath) else {
                throw UsageError(
                    "\(path) has no metadata (\(metaPath)); merge needs each shard's to check they belong together")
            }
            guard let assignment = metadata.shard else {
                throw UsageError(
                    "\(path) was not measured as a shard (its metadata has no shard); merge joins the files of `run --shard i/N`"
                )
            }
            inputs.append(
                Input(
                    path: path, table: table, metadata: metadata, assignment: assignment,
                    tokens: try TokenLatencyRow.read(TokenLatencyRow.path(forCSV: path)),
                    samples: try SampleRow.read(SampleRow.path(forCSV: path))))
        }
        try Self.checkTogether(inputs)
        self.inputs = inputs.sorted { $0.assignment.index < $1.assignment.index }
    }

    static func checkTogether(_ inputs: [Input]) throws(UsageError) {
        let first = inputs[0]
        func same<T: Equatable>(_ what: String, _ value: (Input) -> T, _ show: (T) -> String) throws(UsageError) {
            let reference = value(first)
            if let other = inputs.first(where: { value($0) != reference }) {
                throw UsageError(
                    "the shards do not belong together: \(first.path) has \(what) \(show(reference)), \(other.path) has \(show(value(other))); merge shards of one sweep"
                )
            }
        }
        try same("commit", { $0.metadata.gitCommit }) { $0 ?? "unknown" }
        try same("CSV schema", { $0.metadata.csvSchemaColumns }) {
            "(\($0.count) columns: \($0.joined(separator: ",")))"
        }
        try same("seed", { $0.metadata.seed }) { String($0) }
        try same("timing policy", { $0.metadata.timing }) {
            "(warmups \($0.warmups), min-reps \($0.minReps), min-time \($0.minSeconds), max-time \($0.maxSeconds), cycles \($0.cycles))"
        }
        try same("build", { $0.metadata.buildConfiguration }) { $0 }
        try same("grid", { $0.metadata.grid }) { $0.map { "\($0.digest) (\($0.points) points)" } ?? "unknown" }
        try same("shard count", { $0.assignment.count }) { "N = \($0)" }
        for input in inputs {
            do { _ = try Shard(index: input.assignment.index, count: input.assignment.count) } catch {
                throw UsageError(
                    "\(input.path): its metadata names shard \(input.assignment.label), which is not a shard this tool makes; regenerate it"
                )
            }
        }
        var byIndex: [Int: String] = [:]
        var pointFile: [SweepPoint: String] = [:]
        for input in inputs {
            if let other = byIndex[input.assignment.index] {
                throw UsageError(
                    "shard \(input.assignment.label) is given twice: \(other) and \(input.path); give each shard once")
            }
            byIndex[input.assignment.index] = input.path
            let planned = Set(input.assignment.planned.map(\.key))
            for row in input.table.rows {
                if let other = pointFile[row.point] {
                    throw UsageError(
                        "\(row.point.label) is in both \(other) and \(input.path); merge shards of one sweep, each once"
                    )
                }
                pointFile[row.point] = input.path
                guard planned.contains(row.point.keyFields) else {
                    throw UsageError(
                        "\(input.path) has \(row.point.label), which is not in its shard \(input.assignment.label); was it resumed with another grid?"
                    )
                }
            }
        }
    }

    /// The shard count N and the whole grid's identity (equal in every input).
    public var count: Int { inputs[0].assignment.count }
    public var grid: GridIdentity? { inputs[0].metadata.grid }

    /// Shard numbers (1-based) not among the inputs.
    public var missingShards: [Int] {
        // Completeness is about points: when the shards given plan every point of the grid, the
        // absent ones plan none (a grid smaller than N), so nothing is missing.
        let planned = inputs.reduce(0) { $0 + $1.assignment.planned.count }
        if let grid, planned == grid.points { return [] }
        let present = Set(inputs.map(\.assignment.index))
        return (1...count).filter { !present.contains($0) }
    }

    /// Points a present shard planned but has no row for, with their shard and grid position.
    public var missingPoints: [(shard: Int, point: PlannedPoint)] {
        inputs.flatMap { input in
            let measured = Set(input.table.rows.map(\.point.keyFields))
            return input.assignment.planned.filter { !measured.contains($0.key) }.map { (input.assignment.index, $0) }
        }
    }

    /// Every shard's rows, in grid order.
    public var rows: [ResultRow] {
        inputs.flatMap { input in
            let position = Dictionary(
                input.assignment.planned.map { ($0.key, $0.position) }, uniquingKeysWith: { a, _ in a })
            return input.table.rows.map { (position[$0.point.keyFields] ?? Int.max, $0) }
        }.sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// The merged per-token latency rows and raw samples, in the merged rows' order.
    public var tokenRows: [TokenLatencyRow] {
        let all = inputs.reduce(into: [SweepPoint: [LatencySample]]()) { $0.merge($1.tokens) { a, _ in a } }
        return rows.flatMap { row in (all[row.point] ?? []).map { TokenLatencyRow(point: row.point, sample: $0) } }
    }

    public var sampleRows: [SampleRow] {
        let all = inputs.reduce(into: [SweepPoint: [RepetitionSample]]()) { $0.merge($1.samples) { a, _ in a } }
        return rows.flatMap { row in SampleRow.rows(row.point, all[row.point] ?? []) }
    }

    /// The first shard's metadata with every shard's sessions, and one record per shard.
    public var metadata: RunMetadata {
        var m = inputs[0].metadata
        m.sessions = inputs.flatMap(\.metadata.sessions)
        m.gitDirty = inputs.contains { $0.metadata.gitDirty == true } ? true : m.gitDirty
        m.shard = nil
        m.mergedShards = inputs.map { input in
            let md = input.metadata
            return MergedShard(
                index: input.assignment.index, count: input.assignment.count, source: input.path, machine: md.machine,
                sessions: md.sessions, sgemmCeilingGflops: md.sgemmCeilingGflops,
                memoryBudgetBytes: md.memoryBudgetBytes,
                gitDirty: md.gitDirty, pointsPlanned: input.assignment.planned.count, rowsMerged: input.table.rows.count
            )
        }
        return m
    }
}
