#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The system calls behind ``AppendingFile`` and ``AtomicFile``, each retried on `EINTR` and
/// returning `errno` (0 for success) so callers turn it into a ``FileError`` naming their path.
enum FileDescriptorIO {
    /// `write(2)` until every byte is written: a write may take only part of the buffer (a
    /// signal, a pipe, a nearly full disk), so it loops on the rest; a write that takes nothing
    /// is reported as `EIO` rather than looping forever.
    static func writeAll(_ fd: Int32, _ text: String) -> Int32 {
        var text = text
        return text.withUTF8 { writeAll(fd, UnsafeRawBufferPointer($0)) }
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Int32 {
        bytes.withUnsafeBytes { writeAll(fd, $0) }
    }

    static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) -> Int32 {
        guard let base = buffer.baseAddress else { return 0 }
        var done = 0
        while done < buffer.count {
            let n = write(fd, base + done, buffer.count - done)
            if n > 0 { done += n } else if n < 0 && errno == EINTR { continue } else { return n == 0 ? EIO : errno }
        }
        return 0
    }

    /// The whole file, by `pread(2)` from offset 0 until it returns 0, so the descriptor's own
    /// offset (and an `O_APPEND` writer) is untouched.
    static func readAll(_ fd: Int32) -> (bytes: [UInt8], errno: Int32) {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(bytes.count)) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return ([], errno) }
            if n == 0 { return (bytes, 0) }
            bytes += chunk[..<n]
        }
    }

    /// `fsync(2)`: the file's data and size reach the disk.
    static func sync(_ fd: Int32) -> Int32 {
        while true {
            if fsync(fd) == 0 { return 0 }
            if errno != EINTR { return errno }
        }
    }

    /// `ftruncate(2)`: cuts (or zero-extends) the file to `length` bytes.
    static func truncate(_ fd: Int32, _ length: Int) -> Int32 {
        while true {
            if ftruncate(fd, off_t(length)) == 0 { return 0 }
            if errno != EINTR { return errno }
        }
    }

    /// The file's size in bytes, by `fstat(2)`.
    static func size(_ fd: Int32) -> (size: Int, errno: Int32) {
        var info = stat()
        return fstat(fd, &info) == 0 ? (Int(info.st_size), 0) : (0, errno)
    }

    /// Whether `path` names the file open as `fd` (same device and inode): false once the file
    /// was removed or replaced by another one.
    static func pathNames(_ path: String, _ fd: Int32) -> Bool {
        var open = stat()
        var named = stat()
        return fstat(fd, &open) == 0 && stat(path, &named) == 0 && open.st_dev == named.st_dev
            && open.st_ino == named.st_ino
    }
}
