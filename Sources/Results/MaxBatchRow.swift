/// One row of a max-batch CSV (`attnbench max-batch`): the largest batch of a point whose heap fits
/// a budget, how it was found, and the time per sample of the verifying run.
///
/// Columns: the key columns of ``SweepPoint`` (its `batch` is the verified maximum, or 1 when
/// nothing fits), `status`, `reason`, `budget_bytes`, `fixed_bytes` and `per_sample_bytes` (the
/// heap's fit at batch 1 and 8), `max_batch`, `verified_peak_bytes`, `time_per_sample_ms`, `seed`.
public struct MaxBatchRow: Equatable, Sendable {
    public var point: SweepPoint
    public var status: ResultRow.Status
    public var reason = ""
    public var budgetBytes: Int
    public var fixedBytes, perSampleBytes, maxBatch, verifiedPeakBytes: Int?
    /// Seconds.
    public var timePerSample: Double?
    public var seed: UInt64

    public init(point: SweepPoint, status: ResultRow.Status, reason: String = "", budgetBytes: Int, seed: UInt64) {
        self.point = point
        self.status = status
        self.reason = reason
        self.budgetBytes = budgetBytes
        self.seed = seed
    }

    public var isOK: Bool { status == .ok }

    public static let table: [Column<MaxBatchRow>] = SweepPoint.columns.map { $0.lifted(\.point) } + [
        .enumeration("status", \.status),
        .string("reason", \.reason),
        .int("budget_bytes", \.budgetBytes),
        .optionalInt("fixed_bytes", \.fixedBytes),
        .optionalInt("per_sample_bytes", \.perSampleBytes),
        .optionalInt("max_batch", \.maxBatch),
        .optionalInt("verified_peak_bytes", \.verifiedPeakBytes),
        .double("time_per_sample_ms", \.timePerSample, format: "%.6f", scale: 1e3),
        .uint64("seed", \.seed),
    ]

    public static let columns = RowFile.header(table)
    static let empty = MaxBatchRow(point: .empty, status: .ok, budgetBytes: 0, seed: 0)

    /// Reads a max-batch CSV.
    public static func read(_ path: String) throws -> [MaxBatchRow] {
        try RowFile.read(path, columns: table, empty: empty)
    }
}
