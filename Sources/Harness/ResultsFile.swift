import Foundation
import Reporting
import Results

/// The CSV of a run, opened for appending rows. With `resume`, it reads what is already there and
/// reports which points are done; without it, an existing file is replaced only when `overwrite`.
public struct ResultsFile {
    public let path: String
    /// Key fields of points already in the file (any status), so a resumed run skips them.
    public let finished: Set<SweepPoint>
    private var writer: CSVWriter<AppendingFile>

    public init(path: String, resume: Bool, overwrite: Bool) throws(UsageError) {
        self.path = path
        let exists = FileManager.default.fileExists(atPath: path)
        var finished = Set<SweepPoint>()
        var writeHeader = true
        if exists && resume {
            finished = try Self.finishedPoints(path)
            writeHeader = false
        } else if exists && !overwrite {
            throw UsageError("\(path) already exists; pass --resume to continue it or --overwrite to replace it")
        }
        do {
            let file = try AppendingFile(path: path, truncate: !resume)
            writer = CSVWriter(output: file, columns: ResultRow.columns, writeHeader: writeHeader)
        } catch {
            throw UsageError("cannot write \(path): \(error)")
        }
        self.finished = finished
    }

    /// Writes one row and makes it durable before returning.
    public mutating func append(_ row: ResultRow) { writer.write(row.fields) }

    /// Reads an existing results file: checks its header is this version's, drops a last line that
    /// an interrupted write left unterminated, and returns the key fields of every row.
    static func finishedPoints(_ path: String) throws(UsageError) -> Set<SweepPoint> {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw UsageError("cannot read \(path) to resume it")
        }
        if text.isEmpty { return [] }
        let parsed: CSV.Parsed
        do { parsed = try CSV.parse(text) } catch { throw UsageError("\(path) is not valid CSV (\(error)); move it aside or use --overwrite") }
        guard let header = parsed.rows.first else {
            throw UsageError("\(path) has no complete header line; move it aside or use --overwrite")
        }
        guard header == ResultRow.columns else {
            throw UsageError("\(path) has different columns from this version's; move it aside or use --overwrite")
        }
        if parsed.unterminated != nil {  // an interrupted row: cut it off so the file stays valid CSV
            let keep = text[..<(text.lastIndex(of: "\n").map { text.index(after: $0) } ?? text.startIndex)]
            do { try String(keep).write(toFile: path, atomically: true, encoding: .utf8) } catch {
                throw UsageError("cannot repair the interrupted last line of \(path): \(error)")
            }
        }
        var keys = Set<SweepPoint>()
        for (i, fields) in parsed.rows.dropFirst().enumerated() {
            guard let row = ResultRow(fields: fields) else {
                throw UsageError("\(path): row \(i + 2) is malformed; move the file aside or use --overwrite")
            }
            keys.insert(row.point)
        }
        return keys
    }
}
