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
    ///
    /// A destination that exists but is not a regular file is never renamed over: a folder is a
    /// ``FileError`` (`EISDIR`); a device or a pipe (`/dev/stdout`, `/dev/full`), with `overwrite`,
    /// is written into in place, since replacing it would put a plain file where the device was.
    public static func write(bytes: [UInt8], to path: String, overwrite: Bool) throws {
        try Folder.checkNamesFile(path)
        if !overwrite && exists(path) { throw existsError(path) }
        switch kind(path) {
        case S_IFDIR: throw FileError(action: "write", path: path, errno: EISDIR)
        case S_IFCHR, S_IFIFO, S_IFSOCK, S_IFBLK: return try writeInPlace(bytes, to: path)
        default: break
        }
        let folders = try Folder.create(containing: path)
        let temporary: (path: String, fd: Int32)
        do { temporary = try createTemporary(for: path) } catch {
            Folder.remove(folders)
            throw error
        }
        do {
            defer { close(temporary.fd) }
            var code = FileDescriptorIO.writeAll(temporary.fd, bytes)
            if code != 0 { throw FileError(action: "write", path: path, errno: code) }
            code = FileDescriptorIO.sync(temporary.fd)
            if code != 0 { throw FileError(action: "sync", path: path, errno: code) }
            try place(temporary.path, at: path, overwrite: overwrite)
        } catch {
            unlink(temporary.path)
            Folder.remove(folders)
            throw error
        }
        syncFolder(Folder.parent(of: path))
    }

    /// Refuses early, before a long computation, a path that ``write(bytes:to:overwrite:)`` could
    /// not create: a folder, or a destination whose nearest existing folder is not a folder or
    /// does not take a new file (`/proc`, a read-only file system, no permission). It creates and
    /// removes an empty probe file there, and creates no folder.
    /// - Throws: ``UsageError`` for a path spelled as a folder (`out/`); ``FileError``.
    public static func checkCreatable(_ path: String) throws {
        try Folder.checkNamesFile(path)
        switch kind(path) {
        case S_IFDIR: throw FileError(action: "write", path: path, errno: EISDIR)
        case S_IFCHR, S_IFIFO, S_IFSOCK, S_IFBLK, S_IFREG: return  // exists: writing it is decided then
        default: break
        }
        var folder = Folder.parent(of: path)
        while !folder.isEmpty && folder != "/" && kind(folder) == nil { folder = Folder.parent(of: folder) }
        if let found = kind(folder.isEmpty ? "." : folder), found != S_IFDIR {
            throw FileError(action: "create", path: path, errno: ENOTDIR)
        }
        let probe =
            (folder.isEmpty ? "" : folder == "/" ? "/" : folder + "/") + ".attnbench-probe.\(getpid())-"
            + String(UInt32.random(in: .min ... .max), radix: 16) + ".tmp"
        let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileError(action: "create", path: path, errno: errno) }
        close(fd)
        unlink(probe)
    }

    /// The file type (`S_IFREG`, `S_IFDIR`…) of what `path` names, following links; nil when nothing does.
    private static func kind(_ path: String) -> mode_t? {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_mode & S_IFMT : nil
    }

    /// Writes into an existing device or pipe as it is (no temporary file, no truncation).
    private static func writeInPlace(_ bytes: [UInt8], to path: String) throws(FileError) {
        let fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else { throw FileError(action: "open", path: path, errno: errno) }
        defer { close(fd) }
        let code = FileDescriptorIO.writeAll(fd, bytes)
        if code != 0 { throw FileError(action: "write to", path: path, errno: code) }
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
        throw FileError(
            "cannot create a temporary file beside \(oneLine(path)): 16 random names were all taken; remove the stale .tmp files in that folder"
        )
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
