#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The lock a writer of a whole file takes before replacing it: the same exclusive `flock(2)` lock
/// `run` holds on its results CSV for the whole run (``AppendingFile`` with ``LockMode/exclusive``),
/// so `merge`, `baseline`, `max-batch` or `export` never rename a file over a CSV (or a sidecar of
/// it) that a run is appending to, and a run started meanwhile is refused instead.
///
/// The locks are kept until the process exits: a command locks every output when it checks them,
/// before measuring, and writes them later. They are held in one table so that a second check of
/// the same file in this process does not take a second lock (a `flock` lock belongs to an open
/// file, so two opens in one process would refuse each other).
public enum WriterLock {
    /// Locks `path` when it names an existing regular file; a missing file (nothing to replace),
    /// a device or a pipe is left alone.
    /// - Throws: ``UsageError`` naming the PID of the process holding the lock; ``FileError``.
    public static func hold(_ path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return }
        let key = Key(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
        if held[key] != nil { return }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError(action: "open", path: path, errno: errno) }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            defer { close(fd) }
            guard code == EWOULDBLOCK else { throw FileError(action: "lock", path: path, errno: code) }
            let holder = LockHolder.pid(holding: fd).map { "PID \($0)" } ?? "its PID could not be found"
            throw UsageError(
                "\(oneLine(path)) is being written by another attnbench (\(holder)); wait for it to finish, or write to another file"
            )
        }
        held[key] = fd
    }

    private struct Key: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    /// The descriptors holding the locks, by file. The CLI is single-threaded; nothing else
    /// touches this table.
    nonisolated(unsafe) private static var held: [Key: Int32] = [:]
}
