#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A file opened for appending, through one POSIX descriptor: every ``write(_:)`` is one
/// `write(2)` straight to the file (no buffer), so what was written survives Ctrl-C or a kill,
/// and every failure (a full disk, an I/O error) is a thrown ``FileError`` instead of a trap.
///
/// The descriptor is opened `O_RDWR | O_APPEND | O_CLOEXEC`: writes always go to the end, and the
/// same descriptor serves ``readAll()`` (by `pread`), so a locked file is read, repaired with
/// ``truncate(toLength:)`` and continued without opening it a second time. The descriptor, and
/// with it the lock, is closed when the object is released.
public final class AppendingFile: Sendable {
    public let path: String
    private let fd: Int32
    /// The folders opening created for the file, which ``removeIfStillNamed()`` removes with it.
    private let createdFolders: [String]

    /// Opens `path` for appending, creating its folder (and missing parents) and the file (mode
    /// 0644 less the umask) when missing.
    ///
    /// The order makes a second writer harmless: open without `O_TRUNC`, then lock (``LockMode``),
    /// then, only with the lock held, check that the path still names the file that was locked
    /// (a waiting writer whose predecessor removed the file reopens instead of writing into the
    /// removed one), and only then empty it when `truncate`. So a writer that is refused the lock
    /// never truncates the file of the writer holding it.
    ///
    /// - Throws: ``UsageError`` when the lock is held by another process (`.exclusive`), naming its
    ///   PID when `/proc/locks` shows it; ``FileError`` for any file-system failure (a folder that
    ///   cannot be created, `EACCES`, `EISDIR`, `ENOSPC`…). On a throw the descriptor is closed,
    ///   and a file this call created is removed again unless another process holds it.
    public init(path: String, truncate: Bool, lock: LockMode = .none) throws {
        try Folder.checkNamesFile(path)
        let folders = try Folder.create(containing: path)
        for _ in 0..<100 {
            let fd: Int32
            let created: Bool
            do { (fd, created) = try Self.openOrCreate(path) } catch {
                Folder.remove(folders)
                throw error
            }
            do {
                if lock != .none {
                    try Self.lock(fd, path: path, wait: lock == .exclusiveWaiting)
                    guard FileDescriptorIO.pathNames(path, fd) else {
                        close(fd)
                        continue
                    }
                }
                if truncate && !created {
                    let code = FileDescriptorIO.truncate(fd, 0)
                    if code != 0 { throw FileError(action: "empty", path: path, errno: code) }
                }
            } catch let error as UsageError {
                close(fd)  // another process holds the file: it is theirs, left as it is
                throw error
            } catch {
                if created && FileDescriptorIO.pathNames(path, fd) { unlink(path) }
                close(fd)
                Folder.remove(folders)
                throw error
            }
            self.fd = fd
            self.path = path
            self.createdFolders = created ? folders : []
            return
        }
        throw FileError(
            "cannot lock \(oneLine(path)): it was removed or replaced 100 times while this process waited for it; run again"
        )
    }

    deinit { close(fd) }

    /// Appends `text` with `write(2)` calls until all of it is written (a write may take only part
    /// of it, or be interrupted by a signal). On `ENOSPC`, `EIO`… some of `text` may already be in
    /// the file; ``CSVWriter`` cuts such a partial row off again.
    public func write(_ text: String) throws(FileError) {
        let code = FileDescriptorIO.writeAll(fd, text)
        if code != 0 { throw FileError(action: "write to", path: path, errno: code) }
    }

    /// The whole file, read through this descriptor from offset 0 (`pread`), so it works while
    /// this object holds the lock, and leaves the append position alone. A file past
    /// ``InputLimit/bytes`` is refused (``UsageError``) before reading.
    public func readAll() throws -> [UInt8] {
        let size = try length()
        if size > InputLimit.bytes { throw InputLimit.tooLarge(path, size: size) }
        let (bytes, code) = FileDescriptorIO.readAll(fd)
        if code != 0 { throw FileError(action: "read", path: path, errno: code) }
        return bytes
    }

    /// ``readAll()`` as UTF-8 text; its `utf8.count` is the file's length in bytes, so offsets
    /// computed in the text (``CSV/Parsed/completeLength``) are offsets in the file.
    ///
    /// - Throws: ``FileError`` when reading fails; ``UsageError`` when the file is not UTF-8.
    public func readText() throws -> String {
        guard let text = String(validating: try readAll(), as: UTF8.self) else {
            throw UsageError("\(oneLine(path)) is not UTF-8 text; move it aside, or pass --overwrite to replace it")
        }
        return text
    }

    /// The file's current length in bytes (`fstat`).
    public func length() throws(FileError) -> Int {
        let (size, code) = FileDescriptorIO.size(fd)
        if code != 0 { throw FileError(action: "read the size of", path: path, errno: code) }
        return size
    }

    /// Cuts the file to its first `length` bytes in place (`ftruncate`): same inode, lock kept,
    /// and the next write appends right after them. Used to drop a half-written last line.
    public func truncate(toLength length: Int) throws(FileError) {
        let code = FileDescriptorIO.truncate(fd, length)
        if code != 0 { throw FileError(action: "cut", path: path, errno: code) }
    }

    /// `fsync`: returns once everything written so far is on the disk.
    public func sync() throws(FileError) {
        let code = FileDescriptorIO.sync(fd)
        if code != 0 { throw FileError(action: "sync", path: path, errno: code) }
    }

    /// Removes the path when it still names this file and that is a regular file (never a device
    /// like `/dev/full`), best effort, for a writer that must not leave an empty file behind, and
    /// the folders opening created for it when they are empty. This object stays open on the
    /// removed file: discard it.
    func removeIfStillNamed() {
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, FileDescriptorIO.pathNames(path, fd) else {
            return
        }
        unlink(path)
        Folder.remove(createdFolders)
    }

    /// Opens `path`, creating it with `O_EXCL` first so the caller knows whether it made the file.
    private static func openOrCreate(_ path: String) throws(FileError) -> (fd: Int32, created: Bool) {
        let flags = O_RDWR | O_APPEND | O_CLOEXEC
        var fd = open(path, flags | O_CREAT | O_EXCL, 0o644)
        if fd >= 0 { return (fd, true) }
        if errno == EEXIST {
            fd = open(path, flags)
            if fd >= 0 { return (fd, false) }
            if errno == ENOENT {  // removed meanwhile, or a dangling symbolic link: create as open(2) does
                fd = open(path, flags | O_CREAT, 0o644)
                if fd >= 0 { return (fd, false) }
            }
        }
        throw FileError(action: "open", path: path, errno: errno)
    }

    /// `flock(LOCK_EX)`, non-blocking unless `wait`; a lock held elsewhere is a ``UsageError``.
    private static func lock(_ fd: Int32, path: String, wait: Bool) throws {
        while flock(fd, wait ? LOCK_EX : LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            guard code == EWOULDBLOCK else { throw FileError(action: "lock", path: path, errno: code) }
            let holder = LockHolder.pid(holding: fd).map { "PID \($0)" } ?? "its PID could not be found"
            throw UsageError(
                "\(oneLine(path)) is being written by another attnbench (\(holder)); wait for it to finish, or pass --wait-lock"
            )
        }
    }
}
