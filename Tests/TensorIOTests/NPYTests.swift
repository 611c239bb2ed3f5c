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

    @Test func wrongDtypeIsAClearError() throws {
        var data = NPY.encode(NPYArray(shape: [2], scalars: [1, 2]))
        let text = String(decoding: data, as: UTF8.self)
        let range = text.range(of: "<f4")!
        let offset = text.utf8.distance(from: text.startIndex, to: range.lowerBound)
        data.replaceSubrange(offset..<(offset + 3), with: Array("<f8".utf8))
        let error = #expect(throws: NPYError.self) { try NPY.decode(data) }
        #expect(error?.description.contains("float32") == true)
    }

    @Test func fortranOrderAndBadMagicAreRejected() {
        let fortran = NPY.encode(NPYArray(shape: [2], scalars: [1, 2]))
        let patched = Data(String(decoding: fortran, as: UTF8.self).replacingOccurrences(of: "False", with: "True ").utf8)
        #expect(throws: NPYError.self) { try NPY.decode(patched) }
        #expect(throws: NPYError.self) { try NPY.decode(Data("hello, not numpy".utf8)) }
    }

    @Test func readNamesTheFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("attnbench-missing-\(getpid()).npy")
        let error = #expect(throws: NPYError.self) { try NPY.read(contentsOf: url) }
        #expect(error?.description.hasPrefix(url.path) == true)
    }
}
