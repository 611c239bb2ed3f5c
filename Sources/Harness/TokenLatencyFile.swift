import Foundation
import Reporting
import Results

/// Writes the per-token latency samples of a run's decode points: `<name>.tokens.csv` beside
/// `<name>.csv`, in the schema of ``TokenLatencyRow``. Rows are appended as each decode point
/// finishes; a resumed run appends, and the reader keeps the last row for a (point, position).
/// (The file rules are ``SidecarWriter``'s.)
public struct TokenLatencyFile {
    public var path: String { writer.path }
    private var writer: SidecarWriter

    /// For a new run (`resume` false) an old file is removed now.
    public init(forCSV csv: String, resume: Bool) throws {
        writer = try SidecarWriter(
            path: TokenLatencyRow.path(forCSV: csv), columns: TokenLatencyRow.columns, resume: resume)
    }

    /// Appends the samples of one point.
    public mutating func append(_ point: SweepPoint, _ samples: [LatencySample]) throws {
        try writer.append(
            samples.map { RowFile.fields(TokenLatencyRow(point: point, sample: $0), TokenLatencyRow.table) })
    }
}
