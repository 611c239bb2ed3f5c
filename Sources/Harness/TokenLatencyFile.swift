import Foundation
import Reporting
import Results

/// Writes the per-token latency samples of a run's decode points: `<name>.tokens.csv` beside
/// `<name>.csv`, in the schema of ``TokenLatencyRow``. Rows are appended as each decode point
/// finishes; a resumed run appends, and the reader keeps the last row for a (point, position).
public struct TokenLatencyFile {
    public let path: String
    private var writer: CSVWriter<AppendingFile>?

    /// For a new run (`resume` false) an old file is removed now, so it never describes another run.
    public init(forCSV csv: String, resume: Bool) throws {
        path = TokenLatencyRow.path(forCSV: csv)
        if !resume && FileManager.default.fileExists(atPath: path) {
            do { try FileManager.default.removeItem(atPath: path) } catch {
                throw FileError("cannot replace \(path): \(describe(error))")
            }
        }
    }

    /// Appends the samples of one point (opening the file, with its header if new, on first use).
    public mutating func append(_ point: SweepPoint, _ samples: [LatencySample]) throws {
        if writer == nil {
            let exists = FileManager.default.fileExists(atPath: path)
            do {
                writer = CSVWriter(output: try AppendingFile(path: path, truncate: false), columns: TokenLatencyRow.columns,
                                   writeHeader: !exists)
            } catch { throw FileError("cannot write \(path): \(describe(error))") }
        }
        for s in samples {
            writer?.write(RowFile.fields(TokenLatencyRow(point: point, sample: s), TokenLatencyRow.table))
        }
    }
}
