import Foundation
import TensorIO
import Testing
import _SeededRandom

/// Thousands of damaged `.npy` files, reproducible from one seed: each must parse or throw a
/// one-line ``NPYError``, never trap, and the whole run must take no more than a couple of seconds.
@Suite struct NPYFuzzTests {
    typealias Generator = SplitMix64

    /// A `.npy` file with this header text (padded to 64 bytes, version 1.0, or 2.0 when long) and data.
    static func file(header: String, data: [UInt8], version: UInt8? = nil) -> Data {
        let version = version ?? (header.utf8.count > 60_000 ? 2 : 1)
        let prefix = version == 1 ? 10 : 12
        var text = Array(header.utf8)
        text += [UInt8](repeating: 0x20, count: (64 - (prefix + text.count + 1) % 64) % 64) + [0x0A]
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [version, 0]
        let length = text.count
        bytes +=
            version == 1
            ? [UInt8(length & 0xFF), UInt8(length >> 8 & 0xFF)]
            : (0..<4).map { UInt8(length >> (8 * $0) & 0xFF) }
        return Data(bytes + text + data)
    }

    /// A shape tuple as Python would print it, with dimensions drawn from small, huge, negative and
    /// malformed values.
    static func shapeText(_ g: inout Generator) -> String {
        let dims = (0..<g.below(6)).map { _ -> String in
            switch g.below(4) {
            case 0, 1: String(g.below(6))
            case 2:
                g.pick([
                    "2305843009213693952", "4611686018427387904", "9223372036854775807", "9223372036854775808",
                    "99999999999999999999999", "4294967296", "1073741824",
                ])
            default: g.pick(["-1", "-4611686018427387904", "1e3", "0x10", "", " ", "None", "2.0", "(3", "3)", "+2"])
            }
        }
        let joined = dims.joined(separator: g.pick([", ", ",", " , "]))
        return g.pick(["(\(joined))", "(\(joined),)", joined, "[\(joined)]", "(\(joined)"])
    }

    static func header(_ g: inout Generator) -> String {
        var entries = [
            "'descr': "
                + g.pick([
                    "'<f4'", "'<f4'", "'|f4'", "'<f8'", "'>f4'", "'<i4'", "'|u1'", "'<f4", "<f4", "'float32'", "''",
                ]),
            "'fortran_order': " + g.pick(["False", "False", "True", "false", "0", ""]),
            "'shape': " + shapeText(&g),
        ]
        if g.below(8) == 0 { entries.remove(at: g.below(entries.count)) }  // a missing key
        if g.below(2) == 0 { entries.shuffle(using: &g) }
        return "{" + entries.joined(separator: ", ") + g.pick([", }", "}", ", ", ""])
    }

    static let valid: [Data] = [[], [0], [1], [7], [2, 3], [3, 1, 5], [2, 2, 2, 2]].map { shape in
        let count = shape.reduce(1, *)
        return NPY.encode(NPYArray(shape: shape, scalars: (0..<count).map { Float($0) - 1.5 }))
    }

    /// A well-formed variant NumPy could have written: keys in any order, any float32 spelling,
    /// spacing, version 1.0 to 3.0, and data of exactly the shape's size.
    static func variant(_ g: inout Generator) -> Data {
        let shape = (0..<g.below(4)).map { _ in g.below(5) }
        let dims = shape.map(String.init).joined(separator: g.pick([", ", ","]))
        var entries = [
            "'descr': " + g.pick(["'<f4'", "'|f4'", "'f4'", "'float32'"]), "'fortran_order': False",
            "'shape': " + (shape.count == 1 ? "(\(dims),)" : "(\(dims))"),
        ]
        entries.shuffle(using: &g)
        let data = (0..<(4 * shape.reduce(1, *))).map { _ in UInt8(g.below(256)) }
        return file(
            header: "{" + entries.joined(separator: g.pick([", ", ",", " ,  "])) + g.pick([", }", "}"]),
            data: data, version: UInt8(1 + g.below(3)))
    }

    /// One damaged file: bit flips, truncation, extension, a random header, a random length field or
    /// version, plain garbage; or a well-formed variant.
    static func mutant(_ g: inout Generator) -> Data {
        var bytes = [UInt8](g.pick(valid))
        switch g.below(9) {
        case 0:  // bit flips, mostly in the header
            for _ in 0..<(1 + g.below(4)) {
                let i = g.below(2) == 0 ? g.below(min(bytes.count, 80)) : g.below(bytes.count)
                bytes[i] ^= 1 << UInt8(g.below(8))
            }
        case 1: bytes = Array(bytes.prefix(g.below(bytes.count + 1)))
        case 2: bytes += (0..<(1 + g.below(12))).map { _ in UInt8(g.below(256)) }
        case 3, 4:  // a new header, with data of a plausible or random size
            let text = header(&g)
            let data = (0..<(4 * g.below(40) + (g.below(4) == 0 ? g.below(4) : 0))).map { _ in UInt8(g.below(256)) }
            return file(header: text, data: data, version: g.below(6) == 0 ? UInt8(g.below(5)) : nil)
        case 5:  // a random header length
            for i in 8..<10 { bytes[i] = UInt8(g.below(256)) }
        case 6: bytes[6] = UInt8(g.below(256))
        case 7: return variant(&g)
        default:
            bytes = (0..<g.below(200)).map { _ in UInt8(g.below(256)) }
            if g.below(2) == 0 { bytes = [0x93] + Array("NUMPY".utf8) + bytes }
        }
        return Data(bytes)
    }

    @Test func damagedFilesParseOrThrowOneLine() throws {
        var g = Generator(state: 20_240_611)
        var (parsed, refused) = (0, 0)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("attnbench-fuzz-\(getpid()).npy")
        defer { try? FileManager.default.removeItem(at: url) }
        let start = ContinuousClock.now
        for i in 0..<5000 {
            let data = Self.mutant(&g)
            do {
                let array: NPYArray
                if i % 100 == 0 {  // the file path too: read wraps the same parser's errors
                    try data.write(to: url)
                    array = try NPY.read(contentsOf: url)
                } else {
                    array = try NPY.decode(data)
                }
                parsed += 1
                #expect(array.shape.allSatisfy { $0 >= 0 } && array.scalars.count * 4 < data.count)
                #expect(array.scalars.count == array.shape.reduce(1, *))
            } catch {
                refused += 1
                let message = String(describing: error)
                #expect(
                    error is NPYError && !message.isEmpty && !message.contains("\n"),
                    "case \(i): \(message.debugDescription)")
            }
        }
        let elapsed = ContinuousClock.now - start
        // Both outcomes occur often, so the mutations reach every check rather than one early exit.
        #expect(parsed >= 500 && refused >= 2500, "parsed \(parsed), refused \(refused)")
        #expect(elapsed < .seconds(2), "took \(elapsed)")
    }
}

extension SplitMix64 {
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func pick<T>(_ values: [T]) -> T { values[below(values.count)] }
}
