import AttentionTypes
import Reporting

/// A results CSV read back: its rows, each keyed by its point.
public struct ResultTable: Sendable {
    public var rows: [ResultRow]
    public let path: String

    /// Reads `path`, checking its columns are this version's (the schema) and every row parses.
    public init(path: String) throws {
        self.path = path
        rows = try RowFile.read(path, columns: ResultRow.table, empty: ResultRow.empty)
    }

    /// Parses results CSV text (`source` names it in errors).
    public init(text: String, source: String) throws(UsageError) {
        path = source
        rows = try RowFile.parse(text, source: source, columns: ResultRow.table, empty: ResultRow.empty)
    }

    public init(rows: [ResultRow], path: String = "") {
        self.rows = rows
        self.path = path
    }

    /// Rows by point (the last one wins when a point appears twice).
    public var byKey: [SweepPoint: ResultRow] {
        Dictionary(rows.map { ($0.point, $0) }, uniquingKeysWith: { _, last in last })
    }

    /// The measured rows.
    public var measured: [ResultRow] { rows.filter(\.isOK) }

    /// The whole table as CSV text.
    public var text: String { RowFile.text(rows, ResultRow.table) }
}
