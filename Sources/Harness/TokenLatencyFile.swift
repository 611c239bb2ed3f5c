import Foundation
import Reporting
import Results

/// Writes the per-token latency samples of a run's decode points: `<name>.tokens.csv` beside
/// `<name>.csv`, in the schema of ``TokenLatencyRow``. Rows are appended as each decode point
/// finishes; a resumed run appends, and the reader keeps the last row for a (point, position).
/// The results file's lock covers it: only the run holding `<name>.csv` writes here.
public struct TokenLatencyFile {
    public let path: String
    private var writer: CSVWriter?

    /// For a new run (`resume` false) an old file is removed now, so it never describes another run
    /// (``ResultsFile`` has already refused it without `--overwrite`).
    public init(forCSV csv: String, resume: Bool) throws {
        path = TokenLatencyRow.path(forCSV: csv)
        if !resume && FileManager.default.fileExists(atPath: path) {
            do { try FileManager.default.removeItem(atPath: path) } catch {
                throw FileError("cannot replace \(path): \(describe(error))")
            }
        }
    }

    /// Appends the samples of one point (opening the file, with its header if new or empty, on first use).
    public mutating func append(_ point: SweepPoint, _ samples: [LatencySample]) throws {
        if writer == nil {
            let file = try AppendingFile(path: path, truncate: false)
            _ = try RowFile.resume(file, columns: TokenLatencyRow.table, empty: .empty)
            writer = try CSVWriter(file: file, columns: TokenLatencyRow.columns, writeHeader: try file.length() == 0)
        }
        for s in samples {
            try writer?.write(RowFile.fields(TokenLatencyRow(point: point, sample: s), TokenLatencyRow.table))
        }
    }
}
