#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

#if canImport(Glibc)
    private let systemRead = Glibc.read
#elseif canImport(Darwin)
    private let systemRead = Darwin.read
#endif

/// Reading a whole input file (a results CSV, a thresholds file, a preset, metadata) with the
/// file system's own reason when it fails (`Is a directory`, `Permission denied`), in one line,
/// instead of Foundation's "The operation could not be completed (NSCocoaErrorDomain error 256)".
public enum TextFile {
    /// The bytes of `path`, read with `read(2)` until the end (so a pipe works too), at most
    /// ``InputLimit/bytes`` of them: a larger regular file is refused before anything is read, a
    /// pipe once it has sent more.
    /// - Throws: ``FileError`` naming `path` and the OS reason (a missing file is `ENOENT`: callers
    ///   that treat it as bad input check for it first); ``UsageError`` for a file past the limit.
    public static func bytes(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError(action: "read", path: path, errno: errno) }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR {
            throw FileError(action: "read", path: path, errno: EISDIR)
        }
        if Int(info.st_size) > InputLimit.bytes { throw InputLimit.tooLarge(path, size: Int(info.st_size)) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = chunk.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw FileError(action: "read", path: path, errno: errno) }
            if n == 0 { return bytes }
            if bytes.count + n > InputLimit.bytes { throw InputLimit.tooLarge(path, size: bytes.count + n) }
            bytes += chunk[..<n]
        }
    }

    /// The text of `path`, which must be UTF-8.
    /// - Throws: ``FileError`` when it cannot be read; ``UsageError`` when it is not UTF-8 text.
    public static func read(_ path: String) throws -> String {
        guard let text = String(validating: try bytes(path), as: UTF8.self) else {
            throw UsageError("\(oneLine(path)) is not UTF-8 text; regenerate it or move it aside")
        }
        return text
    }
}
