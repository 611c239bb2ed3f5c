/// One row of a max-batch CSV (`attnbench max-batch`): the largest batch of a point whose heap fits
/// a budget, how it was found, and the time per sample of the verifying run.
///
/// Columns: the key columns of ``SweepPoint`` (its `batch` is the maximum found, or 1 when nothing
/// fits), `status`, `reason`, `method` (`measured`: runs searched it; `predicted`: a replay of the
/// call's tensor allocations through jemalloc's size classes found it), `budget_bytes`, `fixed_bytes`
/// and `per_sample_bytes` (the heap's fit over small batches), `max_batch`, `predicted_peak_bytes`
/// (the replay's peak at `max_batch`), `verified_peak_bytes` (jemalloc's measured peak of a run at
/// `max_batch`), `over_peak_bytes` (measured at `max_batch` + 1: over the budget when the maximum is
/// exact), `time_per_sample_ms` (of the run at `max_batch`), `seed`.
public struct MaxBatchRow: Equatable, Sendable {
    public enum Method: String, Sendable { case measured, predicted }

    public var point: SweepPoint
    public var status: ResultRow.Status
    public var reason = ""
    public var method: Method = .measured
    public var budgetBytes: Int
    public var fixedBytes, perSampleBytes, maxBatch, predictedPeakBytes, verifiedPeakBytes, overPeakBytes: Int?
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

    /// Whether runs confirmed the maximum exactly: the run at `max_batch` within the budget, the run
    /// at `max_batch` + 1 over it (nil when either was not run).
    public var isVerifiedExact: Bool? {
        guard let fits = verifiedPeakBytes, let over = overPeakBytes else { return nil }
        return fits <= budgetBytes && over > budgetBytes
    }

    public static let table: [Column<MaxBatchRow>] =
        SweepPoint.columns.map { $0.lifted(\.point) } + [
            .enumeration("status", \.status),
            .string("reason", \.reason),
            .enumeration("method", \.method),
            .int("budget_bytes", \.budgetBytes),
            .optionalInt("fixed_bytes", \.fixedBytes),
            .optionalInt("per_sample_bytes", \.perSampleBytes),
            .optionalInt("max_batch", \.maxBatch),
            .optionalInt("predicted_peak_bytes", \.predictedPeakBytes),
            .optionalInt("verified_peak_bytes", \.verifiedPeakBytes),
            .optionalInt("over_peak_bytes", \.overPeakBytes),
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
