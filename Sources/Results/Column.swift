import Foundation
import Reporting

/// One CSV column of a row type: its header name, how a value is written, and how it is read back.
/// Every file the tool makes (results, per-token latencies, max-batch, baselines) is a list of
/// these, so the writer and the reader of a file cannot disagree.
///
/// Conventions: a value that was not measured is an empty field, never 0; an optional column reads
/// an empty field as nil; a required column refuses an empty or malformed field.
public struct Column<Row>: Sendable {
    public let name: String
    private let write: @Sendable (Row) -> String
    private let read: @Sendable (inout Row, String) -> Bool

    public init(
        _ name: String, write: @escaping @Sendable (Row) -> String,
        read: @escaping @Sendable (inout Row, String) -> Bool
    ) {
        self.name = name
        self.write = write
        self.read = read
    }

    /// The field of `row` in this column.
    public func text(of row: Row) -> String { write(row) }

    /// Sets this column's value in `row` from `field`; false when the field does not parse.
    public func parse(_ field: String, into row: inout Row) -> Bool { read(&row, field) }

    /// The same column on a larger row that holds this row at `path` (the key columns of a point,
    /// lifted into a results row).
    public func lifted<Outer>(_ path: WritableKeyPath<Outer, Row> & Sendable) -> Column<Outer> {
        let (write, read) = (self.write, self.read)
        return Column<Outer>(
            name, write: { write($0[keyPath: path]) }, read: { outer, field in read(&outer[keyPath: path], field) })
    }
}

// MARK: - Typed columns

extension Column {
    /// A column of a value written as its `description` and read back by its `init?(_:)` (Int,
    /// UInt64, Bool: `String(value)` and `T(field)`).
    static func described<T: LosslessStringConvertible & Sendable>(
        _ name: String, _ path: WritableKeyPath<Row, T> & Sendable
    ) -> Column {
        Column(
            name, write: { String($0[keyPath: path]) },
            read: { row, field in
                guard let value = T(field) else { return false }
                row[keyPath: path] = value
                return true
            })
    }

    /// ``described(_:_:)`` for an optional value: nil is the empty field.
    static func optionalDescribed<T: LosslessStringConvertible & Sendable>(
        _ name: String, _ path: WritableKeyPath<Row, T?> & Sendable
    ) -> Column {
        Column(
            name, write: { $0[keyPath: path].map { String($0) } ?? "" },
            read: { row, field in
                if field.isEmpty {
                    row[keyPath: path] = nil
                    return true
                }
                guard let value = T(field) else { return false }
                row[keyPath: path] = value
                return true
            })
    }

    public static func int(_ name: String, _ path: WritableKeyPath<Row, Int> & Sendable) -> Column {
        described(name, path)
    }

    public static func optionalInt(_ name: String, _ path: WritableKeyPath<Row, Int?> & Sendable) -> Column {
        optionalDescribed(name, path)
    }

    public static func uint64(_ name: String, _ path: WritableKeyPath<Row, UInt64> & Sendable) -> Column {
        described(name, path)
    }

    public static func bool(_ name: String, _ path: WritableKeyPath<Row, Bool> & Sendable) -> Column {
        described(name, path)
    }

    public static func optionalBool(_ name: String, _ path: WritableKeyPath<Row, Bool?> & Sendable) -> Column {
        optionalDescribed(name, path)
    }

    public static func string(_ name: String, _ path: WritableKeyPath<Row, String> & Sendable) -> Column {
        Column(
            name, write: { $0[keyPath: path] },
            read: { row, field in
                row[keyPath: path] = field
                return true
            })
    }

    public static func enumeration<E: RawRepresentable<String> & Sendable>(
        _ name: String, _ path: WritableKeyPath<Row, E> & Sendable
    ) -> Column {
        Column(
            name, write: { $0[keyPath: path].rawValue },
            read: { row, field in
                guard let value = E(rawValue: field) else { return false }
                row[keyPath: path] = value
                return true
            })
    }

    public static func optionalEnumeration<E: RawRepresentable<String> & Sendable>(
        _ name: String, _ path: WritableKeyPath<Row, E?> & Sendable
    ) -> Column {
        Column(
            name, write: { $0[keyPath: path]?.rawValue ?? "" },
            read: { row, field in
                if field.isEmpty {
                    row[keyPath: path] = nil
                    return true
                }
                guard let value = E(rawValue: field) else { return false }
                row[keyPath: path] = value
                return true
            })
    }

    /// A real number written with `format` after multiplying by `scale` (seconds → ms: 1e3), and
    /// divided by it when read. Empty is nil; `nan` and `inf` read as themselves (a checker decides
    /// whether it can judge them).
    public static func double(
        _ name: String, _ path: WritableKeyPath<Row, Double?> & Sendable, format: String, scale: Double = 1
    ) -> Column {
        Column(
            name, write: { row in row[keyPath: path].map { String(format: format, $0 * scale) } ?? "" },
            read: { row, field in
                if field.isEmpty {
                    row[keyPath: path] = nil
                    return true
                }
                guard let value = Double(field) else { return false }
                row[keyPath: path] = value / scale
                return true
            })
    }
}

// MARK: - Files of rows

/// Reading and writing a CSV file of `Row`s through its column table.
public enum RowFile {
    /// The header line's names.
    public static func header<Row>(_ columns: [Column<Row>]) -> [String] { columns.map(\.name) }

    /// The fields of one row, in column order.
    public static func fields<Row>(_ row: Row, _ columns: [Column<Row>]) -> [String] {
        columns.map { $0.text(of: row) }
    }

    /// Parses CSV text whose header is `columns`' names, or an older version's: the same names in
    /// the same order without some optional columns added since (a column that reads an empty field,
    /// such as Reformer's `hash_rounds`), which read as empty. A last line without a final line break
    /// is a row when it is whole (every field, no open quote); one cut by an interrupted write is
    /// left out (the rows before it are whole).
    /// - Throws: ``UsageError`` naming `source` and the first line that does not parse.
    public static func parse<Row>(_ text: String, source: String, columns: [Column<Row>], empty: Row) throws(UsageError)
        -> [Row]
    {
        let parsed: CSV.Parsed
        do { parsed = try CSV.parse(text) } catch {
            throw UsageError("\(source) is not valid CSV (\(error)); regenerate it or move it aside")
        }
        let firstLine = parsed.rows.first ?? parsed.unterminated ?? []
        let lines = parsed.rows(completingLastWith: firstLine.count)
        guard let header = lines.first else { throw UsageError("\(source) has no header line; regenerate it") }
        let names = Self.header(columns)
        guard let positions = Self.positions(of: columns, in: header, empty: empty) else {
            let missing = names.filter { !header.contains($0) }
            throw UsageError(
                "\(source) has a different schema (missing: \(missing.isEmpty ? "none, but the columns differ" : missing.joined(separator: ", "))); regenerate it with this version"
            )
        }
        var rows: [Row] = []
        for (i, fields) in lines.dropFirst().enumerated() {
            guard fields.count == header.count else {
                throw UsageError("\(source): line \(i + 2) has \(fields.count) fields, the header \(header.count)")
            }
            var row = empty
            for (column, position) in zip(columns, positions) {
                let field = position.map { fields[$0] } ?? ""
                guard column.parse(field, into: &row) else {
                    throw UsageError("\(source): line \(i + 2), column \(column.name): '\(field)' does not parse")
                }
            }
            rows.append(row)
        }
        return rows
    }

    /// Where each column sits in `header` (nil: absent, read as empty), when `header` is the
    /// columns' names, or those names in order without some columns that read an empty field;
    /// nil for any other header.
    static func positions<Row>(of columns: [Column<Row>], in header: [String], empty: Row) -> [Int?]? {
        var positions: [Int?] = []
        var next = 0
        for column in columns {
            if next < header.count, header[next] == column.name {
                positions.append(next)
                next += 1
            } else {
                var probe = empty
                guard column.parse("", into: &probe) else { return nil }
                positions.append(nil)
            }
        }
        return next == header.count ? positions : nil
    }

    /// Reads `path` (see ``parse(_:source:columns:empty:)``).
    /// - Throws: ``UsageError`` when it is missing or malformed, ``FileError`` when it cannot be read.
    public static func read<Row>(_ path: String, columns: [Column<Row>], empty: Row) throws -> [Row] {
        guard FileManager.default.fileExists(atPath: path) else { throw UsageError("\(path) does not exist") }
        return try parse(try TextFile.read(path), source: path, columns: columns, empty: empty)
    }

    /// Reads a file being continued through its open, locked descriptor: checks the header, cuts
    /// a last line left by an interrupted write (even inside a quoted field) in place, and returns
    /// the rows. An empty file has none (the caller writes the header).
    /// - Throws: ``UsageError`` for another schema or a malformed row; ``FileError``.
    public static func resume<Row>(_ file: AppendingFile, columns: [Column<Row>], empty: Row) throws -> [Row] {
        let text = try file.readText()
        if text.isEmpty { return [] }
        let parsed: CSV.Parsed
        do { parsed = try CSV.parse(text) } catch {
            throw UsageError("\(file.path) is not valid CSV (\(error)); move it aside or use --overwrite")
        }
        guard parsed.rows.first == header(columns) else {
            throw UsageError("\(file.path) has different columns from this version's; move it aside or use --overwrite")
        }
        if parsed.unterminated != nil { try file.truncate(toLength: parsed.completeLength) }
        let whole = String(decoding: text.utf8.prefix(parsed.completeLength), as: UTF8.self)
        do { return try Self.parse(whole, source: file.path, columns: columns, empty: empty) } catch {
            throw UsageError("\(error.description); move it aside or use --overwrite")
        }
    }

    /// The whole file as text: header and rows (for files written in one go).
    public static func text<Row>(_ rows: [Row], _ columns: [Column<Row>]) -> String {
        CSV.line(header(columns)) + rows.map { CSV.line(fields($0, columns)) }.joined()
    }
}
