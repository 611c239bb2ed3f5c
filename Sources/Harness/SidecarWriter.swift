import Foundation
import Reporting
import Results

/// A CSV file beside a results CSV that rows are appended to as points finish (`.tokens.csv`,
/// `.samples.csv`). The results file's lock covers it: only the run holding `<name>.csv` writes here.
///
/// - New run (`resume` false): an old file is removed when the writer is made, so it never describes
///   another run (``ResultsFile`` has already refused it without `--overwrite`).
/// - Resumed run: rows are appended; a last line cut by an interrupted write is cut off first, and a
///   file with other columns is refused. Readers keep the last rows of a point measured twice.
struct SidecarWriter {
    let path: String
    let columns: [String]
    private var writer: CSVWriter?

    init(path: String, columns: [String], resume: Bool) throws {
        (self.path, self.columns) = (path, columns)
        if !resume && FileManager.default.fileExists(atPath: path) {
            do { try FileManager.default.removeItem(atPath: path) } catch {
                throw FileError("cannot replace \(path): \(describe(error))")
            }
        }
    }

    /// Appends rows (opening the file, with its header if new or empty, on first use). Each row is
    /// one write; the file is synced before returning.
    mutating func append(_ rows: [[String]]) throws {
        if writer == nil {
            let file = try AppendingFile(path: path, truncate: false)
            let text = try file.readText()
            if !text.isEmpty {
                let parsed: CSV.Parsed
                do { parsed = try CSV.parse(text) } catch {
                    throw UsageError("\(path) is not valid CSV (\(error)); move it aside")
                }
                guard parsed.rows.first == columns else {
                    throw UsageError(
                        "\(path) has different columns from this version's; move it aside or use --overwrite")
                }
                if parsed.unterminated != nil { try file.truncate(toLength: parsed.completeLength) }
            }
            writer = try CSVWriter(file: file, columns: columns, writeHeader: text.isEmpty)
        }
        for fields in rows { try writer?.write(fields) }
        try writer?.file.sync()
    }
}
