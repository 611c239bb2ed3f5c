import Reporting
import Testing
import _SeededRandom

/// `CSV.parse` on thousands of damaged texts, from a fixed seed: it either returns or throws
/// `CSVError` (its typed `throws` allows nothing else), never traps, and what it returns is
/// consistent: the text up to `completeLength` parses to the same rows with nothing unterminated.
@Suite struct CSVFuzzTests {

    static let alphabet: [Unicode.Scalar] = ["a", "7", " ", ",", "\"", "\n", "\r", "µ", "—", "\u{0}", "\u{FFFD}"]

    static func randomField(_ rng: inout SplitMix64) -> String {
        var field = String.UnicodeScalarView()
        for _ in 0..<Int.random(in: 0...5, using: &rng) { field.append(alphabet.randomElement(using: &rng) ?? "a") }
        return String(field)
    }

    /// Rows with the same number of fields, as a CSV file has.
    static func randomRows(_ rng: inout SplitMix64) -> [[String]] {
        let columns = Int.random(in: 1...4, using: &rng)
        return (0..<Int.random(in: 0...6, using: &rng)).map { _ in (0..<columns).map { _ in randomField(&rng) } }
    }

    static func mutate(_ scalars: inout [Unicode.Scalar], _ rng: inout SplitMix64) {
        let at = Int.random(in: 0...scalars.count, using: &rng)
        switch Int.random(in: 0..<5, using: &rng) {
        case 0: scalars.insert(alphabet.randomElement(using: &rng) ?? "\"", at: at)
        case 1: if at < scalars.count { scalars.remove(at: at) }
        case 2: scalars.removeSubrange(at...)  // truncation
        case 3: scalars.insert(contentsOf: scalars[at...].prefix(8), at: at)
        default:  // random bytes, decoded as UTF-8 (invalid sequences become U+FFFD)
            let bytes = (0..<Int.random(in: 1...6, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            scalars.insert(contentsOf: String(decoding: bytes, as: UTF8.self).unicodeScalars, at: at)
        }
    }

    @Test func damagedTextsParseConsistentlyOrThrowCSVError() {
        var rng = SplitMix64(state: 20_240_601)
        var parsed = 0
        var rejected = 0
        var inconsistent: [String] = []
        for _ in 0..<5_000 {
            var scalars = Array(CSV.text(columns: ["n", "x"], rows: Self.randomRows(&rng)).unicodeScalars)
            for _ in 0..<Int.random(in: 1...4, using: &rng) { Self.mutate(&scalars, &rng) }
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars)
            let text = String(view)
            do {
                let result = try CSV.parse(text)
                parsed += 1
                let head = String(decoding: text.utf8.prefix(result.completeLength), as: UTF8.self)
                let again = try CSV.parse(head)
                if (result.unterminated == nil) != (result.completeLength == text.utf8.count)
                    || again.rows != result.rows || again.unterminated != nil
                {
                    inconsistent.append(text)
                }
            } catch {
                rejected += 1  // error is a CSVError: parse's typed throws says so
            }
        }
        #expect(inconsistent.isEmpty, "first inconsistent text: \(String(reflecting: inconsistent.first))")
        #expect(parsed > 1_000)
        #expect(rejected > 500)
    }

    /// Every prefix of a valid file (an interrupted append) parses: the complete rows are the
    /// file's first rows, and the unterminated line is the start of the next one.
    @Test func everyTruncationOfAValidFileParses() throws {
        var rng = SplitMix64(state: 7)
        var failures: [String] = []
        for _ in 0..<200 {
            let rows = Self.randomRows(&rng).filter { !$0.isEmpty }
            let scalars = Array(rows.map(CSV.line).joined().unicodeScalars)
            for cut in 0...scalars.count {
                var view = String.UnicodeScalarView()
                view.append(contentsOf: scalars[..<cut])
                let text = String(view)
                let result = try CSV.parse(text)
                guard result.rows == Array(rows.prefix(result.rows.count)) else {
                    failures.append(text)
                    continue
                }
                if let partial = result.unterminated {
                    let next = rows[result.rows.count]
                    let whole = partial.dropLast() == next.prefix(partial.count - 1)
                    // By scalars: as Characters, "a\r" is not a prefix of "a\r\n" (CRLF is one Character).
                    let last =
                        partial.count <= next.count
                        && next[partial.count - 1].unicodeScalars.starts(
                            with: partial[partial.count - 1].unicodeScalars)
                    if !(whole && last) { failures.append(text) }
                } else if result.rows.count < rows.count && cut == scalars.count {
                    failures.append(text)
                }
            }
        }
        #expect(failures.isEmpty, "first failure: \(String(reflecting: failures.first))")
    }
}
