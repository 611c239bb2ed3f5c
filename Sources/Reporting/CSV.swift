/// RFC 4180 CSV: fields separated by commas, rows ended by `\n`; a field holding a comma, a quote
/// or a line break is wrapped in quotes, with quotes doubled.
public enum CSV {
    /// One field, quoted only when it has to be.
    public static func escape(_ field: String) -> String {
        guard field.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else {
            return field
        }
        var out = "\""
        for scalar in field.unicodeScalars {
            if scalar == "\"" { out += "\"\"" } else { out.unicodeScalars.append(scalar) }
        }
        return out + "\""
    }

    /// One row of fields, with its line ending.
    public static func line(_ fields: [String]) -> String {
        fields.map(escape).joined(separator: ",") + "\n"
    }

    /// A whole CSV text: the header line, then one line per row (what ``CSVWriter`` writes).
    public static func text(columns: [String], rows: [[String]]) -> String {
        line(columns) + rows.map(line).joined()
    }

    /// Splits CSV text into rows of fields. `\r` outside quoted fields is dropped, so CRLF line
    /// endings read like LF ones.
    ///
    /// A text that does not end with a line ending had its last write interrupted: that last line
    /// is returned in ``Parsed/unterminated`` instead of ``Parsed/rows`` — also when it stops inside
    /// a quoted field (`a,b\n1,"par`) — and ``Parsed/completeLength`` says where it starts, so the
    /// rows before it are intact and the file can be cut back to them.
    ///
    /// - Throws: ``CSVError`` for a quote inside an unquoted field (`a,b"c`), which no writer
    ///   produces. ``Parsed/unterminated`` is nil exactly when `completeLength == text.utf8.count`.
    public static func parse(_ text: String) throws(CSVError) -> Parsed {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var atFieldStart = true
        var line = 1
        var offset = 0
        var completeLength = 0  // UTF-8 bytes: read so far, and up to the last row's `\n`
        var scalars = text.unicodeScalars.makeIterator()
        while let c = scalars.next() {
            offset += UTF8.width(c)
            if quoted {
                if c == "\"" {
                    var lookahead = scalars
                    if lookahead.next() == "\"" {
                        field.unicodeScalars.append("\"")
                        scalars = lookahead
                        offset += 1
                    } else {
                        quoted = false
                    }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case "\"" where atFieldStart:
                quoted = true
                atFieldStart = false
            case "\"": throw CSVError("line \(line): a quote inside an unquoted field")
            case ",":
                row.append(field)
                field = ""
                atFieldStart = true
            case "\r": continue
            case "\n":
                row.append(field)
                rows.append(row)
                row = []
                field = ""
                atFieldStart = true
                line += 1
                completeLength = offset
            default:
                field.unicodeScalars.append(c)
                atFieldStart = false
            }
        }
        let unterminated = completeLength == offset ? nil : row + [field]
        return Parsed(
            rows: rows, unterminated: unterminated, completeLength: completeLength,
            unterminatedInQuotes: unterminated != nil && quoted)
    }

    public struct Parsed: Equatable, Sendable {
        /// The rows ended by a line break, the header first.
        public var rows: [[String]]
        /// The fields of a last line without a line ending (an interrupted write), or nil.
        public var unterminated: [String]?
        /// The length in UTF-8 bytes of the text holding `rows`: everything before `unterminated`.
        /// `AppendingFile.truncate(toLength: completeLength)` cuts an interrupted last line off.
        public var completeLength: Int
        /// Whether the text ends inside a quoted field: `unterminated` was surely cut by an
        /// interrupted write, since no writer leaves a quote open.
        public var unterminatedInQuotes = false

        /// The rows, with the last line when it ends without a line break but is otherwise whole:
        /// not inside a quoted field and with `fieldCount` fields (a file saved by an editor or
        /// another tool without a final newline). A shorter last line is left out as cut.
        public func rows(completingLastWith fieldCount: Int) -> [[String]] {
            guard let last = unterminated, !unterminatedInQuotes, last.count == fieldCount else { return rows }
            return rows + [last]
        }
    }
}
