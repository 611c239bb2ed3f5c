import Foundation
// TEMPORARY until the reporting branch lands AtomicFile.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String, overwrite: Bool) throws {
        if !overwrite && FileManager.default.fileExists(atPath: path) { throw UsageError("\(path) exists; pass --overwrite to replace it") }
        let url = URL(fileURLWithPath: path)
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: url, options: .atomic)
        } catch { throw FileError("cannot write \(path): \(error.localizedDescription)") }
    }
}
