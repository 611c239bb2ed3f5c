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
