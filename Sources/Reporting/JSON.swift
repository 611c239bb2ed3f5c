/// A JSON document written with its object keys in the order given (formats like Google Benchmark's
/// list `name` first; a dictionary would shuffle them), two spaces of indentation per level.
///
/// Numbers: an `integer` is written as is; a `number` in Swift's shortest form that reads back to the
/// same Double (`0.00125`, `1e-05`, `2.5e+20`, all valid JSON), and as `null` when it is NaN or
/// infinite, which JSON cannot hold (exporters leave such values out before they get here).
/// Strings escape `"`, `\` and every control character (RFC 8259 §7); other text is UTF-8 as is.
public indirect enum JSON: Sendable {
    case object([(key: String, value: JSON)])
    case array([JSON])
    case string(String)
    case number(Double)
    case integer(Int)
    case bool(Bool)
    case null

    /// The document, ending with a newline.
    public var text: String {
        var out = ""
        write(into: &out, indent: 0)
        return out + "\n"
    }

    private func write(into out: inout String, indent: Int) {
        let pad = String(repeating: " ", count: indent + 2)
        let close = String(repeating: " ", count: indent)
        switch self {
        case .object(let members):
            guard !members.isEmpty else {
                out += "{}"
                return
            }
            out += "{\n"
            for (i, member) in members.enumerated() {
                out += pad + Self.quoted(member.key) + ": "
                member.value.write(into: &out, indent: indent + 2)
                out += i == members.count - 1 ? "\n" : ",\n"
            }
            out += close + "}"
        case .array(let items):
            guard !items.isEmpty else {
                out += "[]"
                return
            }
            out += "[\n"
            for (i, item) in items.enumerated() {
                out += pad
                item.write(into: &out, indent: indent + 2)
                out += i == items.count - 1 ? "\n" : ",\n"
            }
            out += close + "]"
        case .string(let s): out += Self.quoted(s)
        case .number(let x): out += x.isFinite ? "\(x)" : "null"
        case .integer(let i): out += String(i)
        case .bool(let b): out += b ? "true" : "false"
        case .null: out += "null"
        }
    }

    /// `text` as a JSON string literal.
    public static func quoted(_ text: String) -> String {
        "\""
            + replacingScalars(of: text) { scalar in
                if let escaped = cEscape(scalar) { return escaped }
                guard scalar.value < 0x20 else { return nil }
                let hex = String(scalar.value, radix: 16)
                return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } + "\""
    }
}
