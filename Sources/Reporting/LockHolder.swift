#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Finds which process holds the `flock` lock on a file, from Linux's `/proc/locks`.
///
/// Each held lock is one line, e.g. `1: FLOCK  ADVISORY  WRITE 7022 fe:00:16220238 0 EOF`: its
/// type, the PID of the process that took it, and the file as `major:minor:inode`, where the
/// device numbers are hexadecimal and the inode decimal. Processes waiting for the lock are
/// listed as `1: -> FLOCK …` and are skipped. A file is matched by device and inode; when no line
/// matches both (a file system whose `stat` device differs from its superblock's, e.g. btrfs
/// subvolumes or overlayfs), by inode alone, provided only one process holds locks on that inode.
enum LockHolder {
    /// The PID holding a `flock` lock on the file open as `fd`, or nil when it cannot be found
    /// (no `/proc/locks`, a PID from another namespace shown as 0 or -1, no matching line).
    static func pid(holding fd: Int32) -> Int32? {
        var info = stat()
        guard fstat(fd, &info) == 0, let table = readProcLocks() else { return nil }
        let device = UInt64(info.st_dev)
        return pid(in: table, major: major(device), minor: minor(device), inode: UInt64(info.st_ino))
    }

    /// The holder of the `flock` lock on the file `major:minor:inode`, according to `table`
    /// (the text of `/proc/locks`).
    static func pid(in table: String, major: UInt64, minor: UInt64, inode: UInt64) -> Int32? {
        var exact: Set<Int32> = []
        var sameInode: Set<Int32> = []
        for line in table.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 6, fields[1] == "FLOCK", let pid = Int32(fields[4]), pid > 0 else { continue }
            let id = fields[5].split(separator: ":", omittingEmptySubsequences: false)
            guard id.count == 3, let lineInode = UInt64(id[2]), lineInode == inode else { continue }
            sameInode.insert(pid)
            if UInt64(id[0], radix: 16) == major && UInt64(id[1], radix: 16) == minor { exact.insert(pid) }
        }
        if let pid = exact.first, exact.count == 1 { return pid }
        if exact.isEmpty, let pid = sameInode.first, sameInode.count == 1 { return pid }
        return nil
    }

    /// Linux's `dev_t` layout (glibc's `major()`): bits 8–19 and 44–63.
    static func major(_ device: UInt64) -> UInt64 { ((device >> 8) & 0xfff) | ((device >> 32) & 0xffff_f000) }
    /// Linux's `dev_t` layout (glibc's `minor()`): bits 0–7 and 20–43.
    static func minor(_ device: UInt64) -> UInt64 { (device & 0xff) | ((device >> 12) & 0xffff_ff00) }

    private static func readProcLocks() -> String? {
        let fd = open("/proc/locks", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return n == 0 ? String(decoding: bytes, as: UTF8.self) : nil }
            bytes += chunk[..<n]
        }
    }
}
