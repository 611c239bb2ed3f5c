import Foundation
import Reporting

/// The CSV of a run, opened for appending rows. With `resume`, it reads what is already there and
/// reports which points are done; without it, an existing file is replaced only when `overwrite`.
public struct ResultsFile {
    public let path: String
    /// Key fields of points already in the file (any status), so a resumed run skips them.
    public let finished: Set<[String]>
    private var writer: CSVWriter<AppendingFile>

    public init(path: String, resume: Bool, overwrite: Bool) throws(SweepError) {
        self.path = path
        let exists = FileManager.default.fileExists(atPath: path)
        var finished = Set<[String]>()
        var writeHeader = true
        if exists && resume {
            finished = try Self.finishedPoints(path)
            writeHeader = false
        } else if exists && !overwrite {
            throw SweepError("\(path) already exists; pass --resume to continue it or --overwrite to replace it")
        }
        do {
            let file = try AppendingFile(path: path, truncate: !resume)
            writer = CSVWriter(output: file, columns: ResultRow.columns, writeHeader: writeHeader)
        } catch {
            throw SweepError("cannot write \(path): \(error)")
        }
        self.finished = finished
    }

    /// Writes one row and makes it durable before returning.
    public mutating func append(_ row: ResultRow) { writer.write(row.fields) }

    /// Reads an existing results file: checks its header is this version's, drops a last line that
    /// an interrupted write left unterminated, and returns the key fields of every row.
    static func finishedPoints(_ path: String) throws(SweepError) -> Set<[String]> {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw SweepError("cannot read \(path) to resume it")
        }
        if text.isEmpty { return [] }
        let parsed: CSV.Parsed
        do { parsed = try CSV.parse(text) } catch { throw SweepError("\(path) is not valid CSV (\(error)); move it aside or use --overwrite") }
        guard let header = parsed.rows.first else {
            throw SweepError("\(path) has no complete header line; move it aside or use --overwrite")
        }
        guard header == ResultRow.columns else {
            throw SweepError("\(path) has different columns from this version's; move it aside or use --overwrite")
        }
        if parsed.unterminated != nil {  // an interrupted row: cut it off so the file stays valid CSV
            let keep = text[..<(text.lastIndex(of: "\n").map { text.index(after: $0) } ?? text.startIndex)]
            do { try String(keep).write(toFile: path, atomically: true, encoding: .utf8) } catch {
                throw SweepError("cannot repair the interrupted last line of \(path): \(error)")
            }
        }
        let keyCount = ResultRow.keyColumns.count
        var keys = Set<[String]>()
        for (i, row) in parsed.rows.dropFirst().enumerated() {
            guard row.count == header.count else {
                throw SweepError("\(path): row \(i + 2) has \(row.count) fields, the header \(header.count)")
            }
            keys.insert(Array(row.prefix(keyCount)))
        }
        return keys
    }
}
