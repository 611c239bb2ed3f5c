import Foundation

/// NumPy's `.npy` format (versions 1.0, 2.0 and 3.0) for little-endian float32 arrays in C order.
///
/// Layout: the magic `\x93NUMPY`, a major and minor version byte, the header length (2 bytes in
/// 1.0, 4 bytes in 2.0/3.0, little-endian), an ASCII Python dict
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }` padded with spaces and a newline
/// so the data starts at a multiple of 64 bytes, then the raw data.
public struct NPYArray: Equatable, Sendable {
    public var shape: [Int]
    public var scalars: [Float]

    public init(shape: [Int], scalars: [Float]) {
        precondition(NPY.elementCount(shape) == scalars.count, "shape \(shape) does not hold \(scalars.count) values")
        self.shape = shape
        self.scalars = scalars
    }
}

/// A `.npy` file that cannot be read as float32; the message says what is wrong.
public struct NPYError: Error, CustomStringConvertible, Equatable {
    public let description: String
    init(_ description: String) { self.description = description }
}

public enum NPY {
    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    /// Reads a float32 array from a `.npy` file.
    public static func read(contentsOf url: URL) throws -> NPYArray {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw NPYError("\(url.path): cannot read (\(error.localizedDescription))")
        }
        do { return try decode(data) } catch {
            throw NPYError("\(url.path): \(error.description)")
        }
    }

    /// Writes `array` as a version 1.0 `.npy` file.
    public static func write(_ array: NPYArray, to url: URL) throws {
        try encode(array).write(to: url, options: .atomic)
    }

    /// Parses the bytes of a `.npy` file.
    public static func decode(_ data: Data) throws(NPYError) -> NPYArray {
        let bytes = [UInt8](data)
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw NPYError("not a .npy file (no \\x93NUMPY magic)")
        }
        let major = bytes[6]
        let (lengthSize, headerStart): (Int, Int) =
            switch major {
            case 1: (2, 10)
            case 2, 3: (4, 12)
            default: (0, 0)
            }
        guard lengthSize > 0 else { throw NPYError("unsupported .npy version \(major).\(bytes[7])") }
        guard bytes.count >= headerStart else { throw NPYError("truncated header") }
        var headerLength = 0
        for i in 0..<lengthSize { headerLength |= Int(bytes[8 + i]) << (8 * i) }
        guard bytes.count >= headerStart + headerLength else { throw NPYError("truncated header") }
        guard let header = String(bytes: bytes[headerStart..<(headerStart + headerLength)], encoding: .utf8) else {
            throw NPYError("header is not text")
        }
        let descr = try field("descr", in: header)
        guard ["'<f4'", "'|f4'", "'f4'", "'float32'"].contains(descr) else {
            throw NPYError(
                "dtype is \(printable(descr)), expected float32 ('<f4'); convert with arr.astype(np.float32)")
        }
        guard try field("fortran_order", in: header) == "False" else {
            throw NPYError("Fortran-ordered arrays are not supported; save np.ascontiguousarray(arr)")
        }
        let shape = try parseShape(try field("shape", in: header))
        let dataStart = headerStart + headerLength
        let available = bytes.count - dataStart
        // Checked products: a shape such as (2**61, 4) must not wrap around to a small byte count.
        guard let count = elementCount(shape), case (let needed, false) = count.multipliedReportingOverflow(by: 4)
        else {
            throw NPYError(
                "shape \(shape) is too large: its size in bytes overflows a 64-bit integer (file has \(available) bytes of data)"
            )
        }
        guard available >= needed else {
            throw NPYError("truncated data: shape \(shape) needs \(needed) bytes, file has \(available)")
        }
        guard available == needed else {
            throw NPYError("\(available - needed) unexpected bytes after the data of shape \(shape)")
        }
        var scalars = [Float](repeating: 0, count: count)
        scalars.withUnsafeMutableBytes { out in
            bytes.withUnsafeBytes { raw in
                out.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[dataStart..<(dataStart + needed)]))
            }
        }
        return NPYArray(shape: shape, scalars: scalars.map { Float(bitPattern: UInt32(littleEndian: $0.bitPattern)) })
    }

    /// The bytes of a version 1.0 `.npy` file holding `array`.
    public static func encode(_ array: NPYArray) -> Data {
        let shapeText =
            array.shape.count == 1
            ? "(\(array.shape[0]),)" : "(" + array.shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data(magic + [1, 0])
        let length = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: Array(header.utf8))
        array.scalars.withUnsafeBufferPointer { buffer in
            let littleEndian = buffer.map { $0.bitPattern.littleEndian }
            littleEndian.withUnsafeBytes { data.append(contentsOf: $0) }
        }
        return data
    }

    /// The text of `'key': value` in a header dict, up to the next top-level comma.
    static func field(_ key: String, in header: String) throws(NPYError) -> String {
        guard let keyRange = header.range(of: "'\(key)':") else { throw NPYError("header has no '\(key)'") }
        var depth = 0
        var value = ""
        for ch in header[keyRange.upperBound...] {
            if ch == "(" { depth += 1 }
            if ch == ")" { depth -= 1 }
            if (ch == "," && depth == 0) || ch == "}" { break }
            value.append(ch)
        }
        return value.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `text` with control characters (newlines, tabs, bytes of a damaged header) escaped, so an
    /// error that quotes it stays on one line.
    static func printable(_ text: String) -> String {
        text.unicodeScalars.map { $0.properties.generalCategory == .control ? $0.escaped(asASCII: true) : String($0) }
            .joined()
    }

    /// The number of elements of `shape` (1 for `()`), or nil when the product overflows `Int`.
    static func elementCount(_ shape: [Int]) -> Int? {
        var count = 1
        for dim in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dim)
            if overflow { return nil }
            count = product
        }
        return count
    }

    static func parseShape(_ text: String) throws(NPYError) -> [Int] {
        guard text.hasPrefix("("), text.hasSuffix(")") else { throw NPYError("malformed shape \(printable(text))") }
        let inner = text.dropFirst().dropLast()
        var shape: [Int] = []
        for part in inner.split(separator: ",") {
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            guard let dim = Int(trimmed), dim >= 0 else { throw NPYError("malformed shape \(printable(text))") }
            shape.append(dim)
        }
        return shape
    }
}
