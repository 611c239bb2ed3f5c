import Foundation

/// A text stream that appends every `write` straight to a file (one `write(2)` each, no buffer), so
/// what was written survives Ctrl-C or a kill.
public struct AppendingFile: TextOutputStream {
    private let handle: FileHandle
    public let path: String

    /// Opens `path` for appending, creating it (and its folder) when missing; `truncate` empties it.
    public init(path: String, truncate: Bool) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        if truncate || !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw CSVError("cannot create \(path)")
            }
        }
        handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        self.path = path
    }

    public mutating func write(_ string: String) {
        handle.write(Data(string.utf8))
    }
}
