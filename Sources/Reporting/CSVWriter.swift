/// Writes a header once and then rows to an ``AppendingFile``, each row as a single `write`, so
/// the file never holds a half-written row in a buffer.
///
/// A failed write is rolled back: the file is cut to its length before that write, so a full
/// disk leaves whole rows only. This assumes nobody else appends to the file meanwhile: open it
/// with `lock: .exclusive` when another process might.
public struct CSVWriter: Sendable {
    public let file: AppendingFile
    public let columns: [String]

    /// Starts a CSV in `file`, writing the header line when `writeHeader` (for a new or emptied
    /// file; pass false to continue a file that has one).
    ///
    /// When the header write fails on a file that was empty (one just created or truncated for
    /// this writer), the file is removed, so a failed start never leaves a 0-byte or header-less
    /// CSV behind; `file` then refers to the removed file and must be discarded. A non-empty file
    /// is cut back to its previous length instead.
    public init(file: AppendingFile, columns: [String], writeHeader: Bool = true) throws(FileError) {
        self.file = file
        self.columns = columns
        guard writeHeader else { return }
        let before = try file.length()
        do {
            try file.write(CSV.line(columns))
        } catch {
            try? file.truncate(toLength: before)
            if before == 0 { file.removeIfStillNamed() }
            throw error
        }
    }

    /// Appends one row (as many fields as `columns`) in one write; on failure, cuts off whatever
    /// part of it reached the file (best effort) and throws.
    public func write(_ fields: [String]) throws(FileError) {
        precondition(fields.count == columns.count, "row has \(fields.count) fields for \(columns.count) columns")
        let before = try file.length()
        do {
            try file.write(CSV.line(fields))
        } catch {
            try? file.truncate(toLength: before)
            throw error
        }
    }
}
