import Foundation
import Reporting
import Results

/// Writes every timed repetition of a run's points: `<name>.samples.csv` beside `<name>.csv`, in the
/// schema of ``SampleRow``. A point's repetitions (all its cycles) are appended just before its
/// results row; a resumed run appends, and the reader keeps each point's last measurement.
/// (The file rules are ``SidecarWriter``'s.)
public struct SampleFile {
    public var path: String { writer.path }
    private var writer: SidecarWriter

    /// For a new run (`resume` false) an old file is removed now.
    public init(forCSV csv: String, resume: Bool) throws {
        writer = try SidecarWriter(path: SampleRow.path(forCSV: csv), columns: SampleRow.columns, resume: resume)
    }

    /// Appends one point's repetitions: `cycles[c]` holds the calls timed in cycle c + 1.
    public mutating func append(_ point: SweepPoint, cycles: [[CallTime]]) throws {
        let rows = SampleRow.rows(point, RepetitionSample.numbering(cycles))
        try writer.append(rows.map { RowFile.fields($0, SampleRow.table) })
    }
}
