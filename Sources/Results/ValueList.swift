import Foundation
import Reporting

/// Parses the values of one sweep axis, as given on the command line or in a preset:
/// - a list: `512,1024,2048`;
/// - a doubling range, both ends included: `512...16384`;
/// - `k`/`K` and `m`/`M` suffixes for ×1024 and ×1024²: `1k...64k`;
/// - any mix of the above: `64,128,1k...4k`.
/// Values must be positive integers; duplicates are rejected (they would measure a point twice).
public enum ValueList {
    public static func integers(_ text: String, axis: String) throws(UsageError) -> [Int] {
        var values: [Int] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let item = part.trimmingCharacters(in: .whitespaces)
            guard !item.isEmpty else { throw UsageError("--\(axis): empty value in '\(text)'") }
            if let dots = item.range(of: "...") {
                let low = try integer(String(item[..<dots.lowerBound]), axis: axis, in: text)
                let high = try integer(String(item[dots.upperBound...]), axis: axis, in: text)
                guard low <= high else { throw UsageError("--\(axis): range \(item) runs backwards") }
                var value = low
                while value <= high {
                    values.append(value)
                    let (next, overflow) = value.multipliedReportingOverflow(by: 2)
                    if overflow { break }
                    value = next
                }
                if values.last != high {
                    throw UsageError("--\(axis): \(item) is a doubling range, but \(high) is not \(low)·2^i")
                }
            } else {
                values.append(try integer(item, axis: axis, in: text))
            }
        }
        var seen = Set<Int>()
        for value in values where !seen.insert(value).inserted {
            throw UsageError("--\(axis): \(value) appears twice in '\(text)'")
        }
        return values
    }

    static func integer(_ item: String, axis: String, in text: String) throws(UsageError) -> Int {
        let trimmed = item.trimmingCharacters(in: .whitespaces)
        var digits = Substring(trimmed)
        var multiplier = 1
        if let last = digits.last, "kKmM".contains(last) {
            multiplier = "kK".contains(last) ? 1024 : 1024 * 1024
            digits = digits.dropLast()
        }
        guard let value = Int(digits) else {
            throw UsageError("--\(axis): '\(trimmed)' is not a whole number (in '\(text)')")
        }
        guard value > 0 else { throw UsageError("--\(axis): values must be at least 1, got \(trimmed)") }
        let (scaled, overflow) = value.multipliedReportingOverflow(by: multiplier)
        guard !overflow else { throw UsageError("--\(axis): '\(trimmed)' is too large") }
        return scaled
    }

    /// Comma-separated names parsed by `make`, e.g. mechanisms or sharing modes.
    public static func names<T>(_ text: String, axis: String, _ make: (String) -> T?) throws(UsageError) -> [T] {
        var values: [T] = []
        var seen = Set<String>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let item = part.trimmingCharacters(in: .whitespaces)
            guard let value = make(item) else { throw UsageError("--\(axis): unknown value '\(item)' in '\(text)'") }
            guard seen.insert(item).inserted else { throw UsageError("--\(axis): '\(item)' appears twice") }
            values.append(value)
        }
        return values
    }

    /// A byte size: `12G`, `512M`, `1.5G`, `4096` (bytes); suffixes are powers of 1024.
    public static func bytes(_ text: String, axis: String) throws(UsageError) -> Int {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        var number = Substring(trimmed)
        var multiplier = 1.0
        if let last = number.last?.uppercased(), let power = ["K": 1, "M": 2, "G": 3, "T": 4][last] {
            multiplier = Double(1 << (10 * power))
            number = number.dropLast()
        }
        guard let value = Double(number), value.isFinite, value > 0 else {
            throw UsageError("--\(axis): '\(text)' is not a size (examples: 12G, 512M)")
        }
        let bytes = (value * multiplier).rounded(.down)
        // 2^62 bytes (4 EiB) is far beyond any machine, and safely inside Int.
        guard bytes >= 1, bytes <= 0x1p62 else {
            throw UsageError("--\(axis): '\(text)' is out of range: a size is at least 1 byte and at most 4 EiB")
        }
        return Int(bytes)
    }
}
