#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writing a whole file so that readers see the old file or the complete new one, never a part:
/// the text goes to a temporary file in the same folder (`.<name>.<pid>-<random>.tmp`, so the
/// rename stays within one file system), is `fsync`ed, and is then renamed over the destination.
public enum AtomicFile {
    /// Writes `text` to `path`, creating its folder when missing.
    ///
    /// With `overwrite` false an existing `path` is refused, both before writing and at the final
    /// step, which uses `link(2)` (it fails when the destination exists, so a file created in the
    /// meantime is not replaced either); on file systems without hard links it checks, then
    /// renames. Any failure removes the temporary file and leaves an existing destination as it
    /// was. The folder is `fsync`ed after the rename, best effort, so the new name is durable too.
    ///
    /// - Throws: ``UsageError`` "`path` exists; pass --overwrite to replace it"; ``FileError`` for
    ///   a failure of the file system (messages name `path`, not the temporary file).
    public static func write(_ text: String, to path: String, overwrite: Bool) throws {
        try write(bytes: Array(text.utf8), to: path, overwrite: overwrite)
    }

    /// Writes `bytes` to `path` (see ``write(_:to:overwrite:)``).
    public static func write(bytes: [UInt8], to path: String, overwrite: Bool) throws {
        if !overwrite && exists(path) { throw existsError(path) }
        try Folder.create(containing: path)
        let temporary = try createTemporary(for: path)
        do {
            defer { close(temporary.fd) }
            var code = FileDescriptorIO.writeAll(temporary.fd, bytes)
            if code != 0 { throw FileError(action: "write", path: path, errno: code) }
            code = FileDescriptorIO.sync(temporary.fd)
            if code != 0 { throw FileError(action: "sync", path: path, errno: code) }
        } catch {
            unlink(temporary.path)
            throw error
        }
        do {
            try place(temporary.path, at: path, overwrite: overwrite)
        } catch {
            unlink(temporary.path)
            throw error
        }
        syncFolder(Folder.parent(of: path))
    }

    private static func existsError(_ path: String) -> UsageError {
        UsageError("\(oneLine(path)) exists; pass --overwrite to replace it")
    }

    /// Whether anything (even a dangling symbolic link) has that name.
    private static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// Creates the temporary file with `O_EXCL`, trying other random names if one is taken.
    private static func createTemporary(for path: String) throws(FileError) -> (path: String, fd: Int32) {
        let folder = Folder.parent(of: path)
        let name = path.lastIndex(of: "/").map { String(path[path.index(after: $0)...]) } ?? path
        let prefix = (folder.isEmpty ? "" : folder == "/" ? "/" : folder + "/") + "." + name + ".\(getpid())-"
        for _ in 0..<16 {
            let candidate = prefix + String(UInt32.random(in: .min ... .max), radix: 16) + ".tmp"
            let fd = open(candidate, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if fd >= 0 { return (candidate, fd) }
            let code = errno
            if code != EEXIST { throw FileError(action: "create", path: path, errno: code) }
        }
        throw FileError("cannot create a temporary file beside \(oneLine(path)): 16 random names were all taken; remove the stale .tmp files in that folder")
    }

    /// Gives the written temporary file its final name.
    private static func place(_ temporary: String, at path: String, overwrite: Bool) throws {
        if overwrite {
            if rename(temporary, path) != 0 { throw FileError(action: "replace", path: path, errno: errno) }
            return
        }
        if link(temporary, path) == 0 {
            unlink(temporary)
            return
        }
        let code = errno
        if code == EEXIST { throw existsError(path) }
        guard code == EPERM || code == EOPNOTSUPP || code == ENOSYS || code == EMLINK else {
            throw FileError(action: "create", path: path, errno: code)
        }
        if exists(path) { throw existsError(path) }  // no hard links here: check, then rename
        if rename(temporary, path) != 0 { throw FileError(action: "create", path: path, errno: errno) }
    }

    private static func syncFolder(_ folder: String) {
        let fd = open(folder.isEmpty ? "." : folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = FileDescriptorIO.sync(fd)
        close(fd)
    }
}
