import Foundation
import Reporting

/// The two builds an interleaved comparison measures: the base (the old commit) and the head.
public enum ComparedSide: String, CaseIterable, Sendable, Codable {
    case base, head
}

/// One point measured by one side in one round of an interleaved comparison: the round's timed
/// repetitions (wall seconds) and the heap its memory call reached. Within a round both sides
/// measure each point back to back, in random order, in fresh processes.
public struct InterleavedMeasurement: Equatable, Sendable {
    public var point: SweepPoint
    public var side: ComparedSide
    /// 1, 2, … in the order the rounds ran.
    public var round: Int
    public var seconds: [Double]
    public var peakHeapBytes: Int?

    public init(point: SweepPoint, side: ComparedSide, round: Int, seconds: [Double], peakHeapBytes: Int?) {
        (self.point, self.side, self.round, self.seconds, self.peakHeapBytes) =
            (point, side, round, seconds, peakHeapBytes)
    }

    /// The median of the round's repetitions; nil when none was timed.
    public var median: Double? { SampleStatistics(seconds)?.median }

    /// The CSV the comparison writes (`--output`): one row per point, side and round. It is written
    /// for reading elsewhere (reps, median and minimum are summaries; the repetitions stay in memory).
    public static let columns: [Column<InterleavedMeasurement>] =
        SweepPoint.columns.map { $0.lifted(\InterleavedMeasurement.point) } + [
            .enumeration("side", \.side),
            .int("round", \.round),
            Column("reps", write: { String($0.seconds.count) }, read: { _, _ in true }),
            Column(
                "time_median_ms", write: { $0.median.map { String(format: "%.6f", $0 * 1e3) } ?? "" },
                read: { _, _ in true }),
            Column(
                "time_min_ms", write: { $0.seconds.min().map { String(format: "%.6f", $0 * 1e3) } ?? "" },
                read: { _, _ in true }),
            .optionalInt("peak_heap_bytes", \.peakHeapBytes),
        ]
}

/// What a `measure-worker` process answers for one point, as one JSON line.
public struct WorkerReply: Codable, Equatable, Sendable {
    /// The point's position in the worker's plan.
    public var index: Int
    /// The timed repetitions, wall seconds.
    public var seconds: [Double]?
    public var peakHeapBytes: Int?
    /// Why the point was not measured.
    public var error: String?

    public init(index: Int, seconds: [Double]? = nil, peakHeapBytes: Int? = nil, error: String? = nil) {
        (self.index, self.seconds, self.peakHeapBytes, self.error) = (index, seconds, peakHeapBytes, error)
    }
}
