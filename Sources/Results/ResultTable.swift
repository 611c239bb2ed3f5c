import AttentionTypes
import Reporting

/// A results CSV read back: its rows, each keyed by its point.
public struct ResultTable: Sendable {
    public var rows: [ResultRow]
    public let path: String

    /// Reads `path`, checking its columns are this version's (the schema) and every row parses.
    /// A point written twice (a resumed run re-measuring a point skipped for memory, or one cut
    /// short) counts once: its last row, in the place of its first.
    public init(path: String) throws {
        self.path = path
        rows = Self.lastPerPoint(try RowFile.read(path, columns: ResultRow.table, empty: ResultRow.empty))
    }

    /// Parses results CSV text (`source` names it in errors), as ``init(path:)``.
    public init(text: String, source: String) throws(UsageError) {
        path = source
        rows = Self.lastPerPoint(
            try RowFile.parse(text, source: source, columns: ResultRow.table, empty: ResultRow.empty))
    }

    public static func lastPerPoint(_ rows: [ResultRow]) -> [ResultRow] {
        var index: [SweepPoint: Int] = [:]
        var kept: [ResultRow] = []
        for row in rows {
            if let i = index[row.point] {
                kept[i] = row
            } else {
                index[row.point] = kept.count
                kept.append(row)
            }
        }
        return kept
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
