/// RFC 4180 CSV: fields separated by commas, rows ended by `\n`; a field holding a comma, a quote
/// or a line break is wrapped in quotes, with quotes doubled.
public enum CSV {
    /// One field, quoted only when it has to be.
    public static func escape(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// One row of fields, with its line ending.
    public static func line(_ fields: [String]) -> String {
        fields.map(escape).joined(separator: ",") + "\n"
    }

    /// Splits CSV text into rows of fields. A final line without a line ending is returned in
    /// ``Parsed/unterminated`` instead (an interrupted write), so callers can tell it apart.
    public static func parse(_ text: String) throws(CSVError) -> Parsed {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var atFieldStart = true
        var iterator = text.unicodeScalars.makeIterator()
        var line = 1
        while let c = iterator.next() {
            if quoted {
                if c == "\"" {
                    var lookahead = iterator
                    if lookahead.next() == "\"" { field.unicodeScalars.append("\""); iterator = lookahead } else { quoted = false }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case "\"" where atFieldStart: quoted = true; atFieldStart = false
            case "\"": throw CSVError("line \(line): a quote inside an unquoted field")
            case ",": row.append(field); field = ""; atFieldStart = true
            case "\r": continue
            case "\n":
                row.append(field); rows.append(row)
                row = []; field = ""; atFieldStart = true; line += 1
            default: field.unicodeScalars.append(c); atFieldStart = false
            }
        }
        if quoted { throw CSVError("line \(line): a quoted field is never closed") }
        let unterminated = row.isEmpty && field.isEmpty && atFieldStart ? nil : row + [field]
        return Parsed(rows: rows, unterminated: unterminated)
    }

    public struct Parsed: Equatable {
        public var rows: [[String]]
        public var unterminated: [String]?
    }
}

public struct CSVError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Writes a header once and then rows, each as a single `write` to the stream, so a stream that
/// writes through to a file (``AppendingFile``) never holds a half-written row in a buffer.
public struct CSVWriter<Output: TextOutputStream> {
    public private(set) var output: Output
    public let columns: [String]

    public init(output: Output, columns: [String], writeHeader: Bool = true) {
        self.output = output
        self.columns = columns
        if writeHeader { self.output.write(CSV.line(columns)) }
    }

    public mutating func write(_ fields: [String]) {
        precondition(fields.count == columns.count, "row has \(fields.count) fields for \(columns.count) columns")
        output.write(CSV.line(fields))
    }
}
