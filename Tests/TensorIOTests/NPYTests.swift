import Foundation
import TensorIO
import Testing

@Suite struct NPYTests {
    @Test(arguments: [[5], [2, 3], [2, 3, 4, 5], [0, 4]])
    func roundTrip(shape: [Int]) throws {
        let count = shape.reduce(1, *)
        let array = NPYArray(shape: shape, scalars: (0..<count).map { Float($0) * 0.5 - 3 })
        #expect(try NPY.decode(NPY.encode(array)) == array)
    }

    /// The exact bytes NumPy 2.4 writes for `np.save(f, np.array([[1, 2]], dtype=np.float32))`:
    /// a 1.0 header (length 0x76) padded with spaces to 128 bytes, then little-endian floats.
    @Test func bytesAreWhatNumPyWrites() {
        let data = NPY.encode(NPYArray(shape: [1, 2], scalars: [1, 2]))
        #expect(data.count == 136)
        #expect(Array(data[0..<10]) == [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, 0x76, 0])
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }"
        #expect(String(decoding: data[10..<128], as: UTF8.self) == header + String(repeating: " ", count: 58) + "\n")
        #expect(Array(data[128..<136]) == [0, 0, 0x80, 0x3F, 0, 0, 0, 0x40])
    }

    @Test func truncatedDataIsAClearError() throws {
        let data = NPY.encode(NPYArray(shape: [4, 4], scalars: [Float](repeating: 1, count: 16)))
        let error = #expect(throws: NPYError.self) { try NPY.decode(data.prefix(data.count - 5)) }
        #expect(error?.description.contains("truncated data") == true)
        let header = #expect(throws: NPYError.self) { try NPY.decode(data.prefix(30)) }
        #expect(header?.description.contains("truncated header") == true)
    }

    /// `data` with the first occurrence of `old` replaced by `new` (same length), byte for byte: the
    /// file is binary (its magic starts with 0x93), so it must never pass through a String.
    static func patching(_ data: Data, _ old: String, _ new: String) -> Data {
        let (bytes, target, replacement) = ([UInt8](data), Array(old.utf8), Array(new.utf8))
        precondition(target.count == replacement.count, "a patch keeps the header length")
        guard
            let offset = (0...(bytes.count - target.count)).first(where: {
                Array(bytes[$0..<($0 + target.count)]) == target
            })
        else {
            preconditionFailure("\(old) is not in the file")
        }
        var patched = bytes
        patched.replaceSubrange(offset..<(offset + target.count), with: replacement)
        return Data(patched)
    }

    @Test func wrongDtypeIsAClearError() throws {
        let data = Self.patching(NPY.encode(NPYArray(shape: [2], scalars: [1, 2])), "'<f4'", "'<f8'")
        let error = #expect(throws: NPYError.self) { try NPY.decode(data) }
        #expect(error?.description == "dtype is '<f8', expected float32 ('<f4'); convert with arr.astype(np.float32)")
    }

    /// The magic byte 0x93 survives the patch, so this reaches the Fortran check (through a String it
    /// became U+FFFD and the file failed on its magic instead).
    @Test func fortranOrderIsRejected() {
        let fortran = Self.patching(
            NPY.encode(NPYArray(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])), "False", "True ")
        #expect(fortran.first == 0x93)
        let error = #expect(throws: NPYError.self) { try NPY.decode(fortran) }
        #expect(error?.description == "Fortran-ordered arrays are not supported; save np.ascontiguousarray(arr)")
    }

    @Test func badMagicIsRejected() {
        let error = #expect(throws: NPYError.self) { try NPY.decode(Data("hello, not numpy".utf8)) }
        #expect(error?.description == "not a .npy file (no \\x93NUMPY magic)")
    }

    /// Shapes whose element or byte count overflows Int are refused before any arithmetic wraps.
    @Test(arguments: [
        (
            "(2305843009213693952, 1)",
            "shape [2305843009213693952, 1] is too large: its size in bytes overflows a 64-bit integer (file has 8 bytes of data)"
        ),
        (
            "(4611686018427387904, 4)",
            "shape [4611686018427387904, 4] is too large: its size in bytes overflows a 64-bit integer (file has 8 bytes of data)"
        ),
        (
            "(9223372036854775807,)",
            "shape [9223372036854775807] is too large: its size in bytes overflows a 64-bit integer (file has 8 bytes of data)"
        ),
        ("(1000000, 1000000, 1)", "truncated data: shape [1000000, 1000000, 1] needs 4000000000000 bytes, file has 8"),
    ])
    func hugeShapesAreClearErrors(shape: String, message: String) {
        let data = NPYFuzzTests.file(
            header: "{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }",
            data: [UInt8](repeating: 0, count: 8))
        let error = #expect(throws: NPYError.self) { try NPY.decode(data) }
        #expect(error?.description == message)
    }

    @Test func readNamesTheFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("attnbench-missing-\(getpid()).npy")
        let error = #expect(throws: NPYError.self) { try NPY.read(contentsOf: url) }
        #expect(error?.description.hasPrefix(url.path) == true)
    }
}
