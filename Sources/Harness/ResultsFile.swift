import Foundation
import Reporting
import Results

/// The CSV of a run, opened for appending rows, and held under an exclusive lock for the whole run
/// (a second writer gets one line naming the holder's PID, or waits with `waitForLock`).
///
/// - New run: an existing CSV, or an existing sidecar (`.meta.json`, `.tokens.csv`, `.samples.csv`, `.estimates.csv`), is replaced
///   only with `overwrite`; otherwise nothing is touched.
/// - `resume`: the rows already there are kept; a last line cut by an interrupted write (even
///   inside a quoted field) is cut off in place; an empty file gets its header.
public final class ResultsFile {
    public let path: String
    /// The rows already in the file when resuming (the last one per point), else none.
    public let existing: [ResultRow]
    private let writer: CSVWriter

    public init(path: String, resume: Bool, overwrite: Bool, waitForLock: Bool = false) throws {
        self.path = path
        if !resume && !overwrite {
            for file in [path] + Self.sidecars(of: path)
            where FileManager.default.fileExists(atPath: file) {
                throw UsageError(
                    "\(file) already exists; pass --resume to continue the run or --overwrite to replace it")
            }
        }
        let file = try AppendingFile(path: path, truncate: !resume, lock: waitForLock ? .exclusiveWaiting : .exclusive)
        existing =
            resume ? ResultTable.lastPerPoint(try RowFile.resume(file, columns: ResultRow.table, empty: .empty)) : []
        writer = try CSVWriter(file: file, columns: ResultRow.columns, writeHeader: try file.length() == 0)
    }

    /// The files that go with a results CSV: its metadata, per-token latencies and raw samples.
    public static func sidecars(of csv: String) -> [String] {
        [
            RunMetadata.path(forCSV: csv), TokenLatencyRow.path(forCSV: csv), SampleRow.path(forCSV: csv),
            EstimateCheckRow.path(forCSV: csv),
        ]
    }

    /// Writes one row and makes it durable before returning.
    public func append(_ row: ResultRow) throws(FileError) {
        try writer.write(row.fields)
        try writer.file.sync()
    }
}
