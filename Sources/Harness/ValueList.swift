/// Parses the values of one sweep axis, as given on the command line or in a preset:
/// - a list: `512,1024,2048`;
/// - a doubling range, both ends included: `512...16384`;
/// - `k`/`K` and `m`/`M` suffixes for ×1024 and ×1024²: `1k...64k`;
/// - any mix of the above: `64,128,1k...4k`.
/// Values must be positive integers; duplicates are rejected (they would measure a point twice).
public enum ValueList {
    public static func integers(_ text: String, axis: String) throws(SweepError) -> [Int] {
        var values: [Int] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let item = part.trimmingCharacters(in: .whitespaces)
            guard !item.isEmpty else { throw SweepError("--\(axis): empty value in '\(text)'") }
            if let dots = item.range(of: "...") {
                let low = try integer(String(item[..<dots.lowerBound]), axis: axis, in: text)
                let high = try integer(String(item[dots.upperBound...]), axis: axis, in: text)
                guard low <= high else { throw SweepError("--\(axis): range \(item) runs backwards") }
                var value = low
                while value <= high { values.append(value); value *= 2 }
                if values.last != high { throw SweepError("--\(axis): \(item) is a doubling range, but \(high) is not \(low)·2^i") }
            } else {
                values.append(try integer(item, axis: axis, in: text))
            }
        }
        var seen = Set<Int>()
        for value in values where !seen.insert(value).inserted {
            throw SweepError("--\(axis): \(value) appears twice in '\(text)'")
        }
        return values
    }

    static func integer(_ item: String, axis: String, in text: String) throws(SweepError) -> Int {
        let trimmed = item.trimmingCharacters(in: .whitespaces)
        var digits = Substring(trimmed)
        var multiplier = 1
        if let last = digits.last, "kKmM".contains(last) {
            multiplier = "kK".contains(last) ? 1024 : 1024 * 1024
            digits = digits.dropLast()
        }
        guard let value = Int(digits), value.multipliedReportingOverflow(by: multiplier).overflow == false else {
            throw SweepError("--\(axis): '\(trimmed)' is not a whole number (in '\(text)')")
        }
        guard value > 0 else { throw SweepError("--\(axis): values must be at least 1, got \(trimmed)") }
        return value * multiplier
    }

    /// Comma-separated names parsed by `make`, e.g. mechanisms or sharing modes.
    public static func names<T>(_ text: String, axis: String, _ make: (String) -> T?) throws(SweepError) -> [T] {
        var values: [T] = []
        var seen = Set<String>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let item = part.trimmingCharacters(in: .whitespaces)
            guard let value = make(item) else { throw SweepError("--\(axis): unknown value '\(item)' in '\(text)'") }
            guard seen.insert(item).inserted else { throw SweepError("--\(axis): '\(item)' appears twice") }
            values.append(value)
        }
        return values
    }

    /// A byte size: `12G`, `512M`, `1.5G`, `4096` (bytes); suffixes are powers of 1024.
    public static func bytes(_ text: String, axis: String) throws(SweepError) -> Int {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        var number = Substring(trimmed)
        var multiplier = 1.0
        if let last = number.last?.uppercased(), let power = ["K": 1, "M": 2, "G": 3, "T": 4][last] {
            multiplier = Double(1 << (10 * power))
            number = number.dropLast()
        }
        guard let value = Double(number), value > 0, value.isFinite else {
            throw SweepError("--\(axis): '\(text)' is not a size (examples: 12G, 512M)")
        }
        return Int(value * multiplier)
    }
}

/// Bad sweep input: what is wrong and what to do, in one line. The CLI exits 64 on it.
public struct SweepError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
