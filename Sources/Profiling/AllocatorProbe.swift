import CJemalloc
import JemallocConfig

/// Reads jemalloc's statistics through `mallctl`. The only file that imports jemalloc.
///
/// jemalloc 5.3 is built unprefixed, so linking this module makes it the whole process's malloc:
/// Swift's runtime, Foundation and the kernels' `posix_memalign` all go through it.
///
/// What ``threadPeakBytes()`` covers: bytes allocated minus bytes freed **by the calling thread**
/// since the last ``resetThreadPeak()``, at its highest point, to within about 100 KB (jemalloc
/// samples it on its slow paths). It does not see allocations made on other threads, nor OpenBLAS's
/// work buffers (mmap'd directly, outside malloc). The attention kernels allocate all their
/// intermediates on the calling thread, so for one call it is exactly "what the call needs on top
/// of its inputs".
public enum AllocatorProbe {
    /// The linked jemalloc's version string (`version`).
    public static var version: String? {
        var pointer: UnsafePointer<CChar>?
        var size = MemoryLayout<UnsafePointer<CChar>?>.size
        guard mallctl("version", &pointer, &size, nil, 0) == 0, let pointer else { return nil }
        return String(cString: pointer)
    }

    /// The options this process gives jemalloc (`malloc_conf`, see JemallocConfig/config.c).
    public static var options: String { String(cString: attnbench_malloc_conf()) }

    /// jemalloc's effective `opt.dirty_decay_ms` (-1: freed pages are never purged).
    public static var dirtyDecayMilliseconds: Int? { try? integer("opt.dirty_decay_ms", as: Int.self) }

    /// The integer `mallctl` value `name`, read as a `T` of the width jemalloc stores it in (a
    /// different width is `EINVAL`; an unknown name, `ENOENT`).
    public static func integer<T: FixedWidthInteger>(_ name: String, as _: T.Type) throws(JemallocError) -> T {
        var value: T = 0
        var size = MemoryLayout<T>.size
        try check(mallctl(name, &value, &size, nil, 0), name)
        return value
    }

    /// Whether jemalloc was built with statistics (`config.stats`); the peak counters need it.
    public static var statisticsEnabled: Bool {
        var enabled = false
        var size = MemoryLayout<Bool>.size
        return mallctl("config.stats", &enabled, &size, nil, 0) == 0 && enabled
    }

    /// Restarts the calling thread's high-water mark at its current allocation (`thread.peak.reset`).
    public static func resetThreadPeak() throws(JemallocError) {
        try check(mallctl("thread.peak.reset", nil, nil, nil, 0), "thread.peak.reset")
    }

    /// The calling thread's high-water mark in bytes since the last reset (`thread.peak.read`).
    public static func threadPeakBytes() throws(JemallocError) -> Int {
        Int(try integer("thread.peak.read", as: UInt64.self))
    }

    /// Bytes currently allocated by the application in the whole process (`stats.allocated`,
    /// refreshed through `epoch`; the calling thread's cache is flushed first so it is counted).
    public static func allocatedBytes() throws(JemallocError) -> Int {
        try check(mallctl("thread.tcache.flush", nil, nil, nil, 0), "thread.tcache.flush")
        var epoch: UInt64 = 1
        var newEpoch: UInt64 = 1
        var size = MemoryLayout<UInt64>.size
        try check(mallctl("epoch", &epoch, &size, &newEpoch, size), "epoch")
        return try integer("stats.allocated", as: Int.self)
    }

    /// Returns every arena's freed pages to the system now (`arena.<all>.purge`), which this process
    /// otherwise never does (JemallocConfig/config.c sets `dirty_decay_ms:-1`, `muzzy_decay_ms:-1`:
    /// freed pages are kept for reuse): a large call right after another would otherwise find the
    /// first one's pages still resident and need twice the memory (an OOM kill at a 16 GiB budget on
    /// a 24 GiB machine).
    public static func releaseFreedMemory() throws(JemallocError) {
        try check(mallctl("arena.4096.purge", nil, nil, nil, 0), "arena.4096.purge")  // 4096 = MALLCTL_ARENAS_ALL
    }

    /// Makes jemalloc return freed pages to the system at once (dirty and muzzy decay 0, in every
    /// arena and in arenas made later), so the process's resident memory follows its live heap.
    /// With this process's own setting (JemallocConfig: decay -1, freed pages never purged) a call
    /// that frees one large tensor and allocates another of a different size class holds both:
    /// measured, a Linformer layer at n = 512 was resident at 1.8× its jemalloc peak, which at a
    /// 16 GiB heap is an OOM kill on a 24 GiB machine. Freeing costs
    /// an `madvise` per large free from then on: for `max-batch`, not for timed runs.
    public static func returnFreedPagesAtOnce() throws(JemallocError) {
        var zero = 0  // ssize_t milliseconds
        let size = MemoryLayout<Int>.size
        for name in ["arenas.dirty_decay_ms", "arenas.muzzy_decay_ms"] {
            try check(mallctl(name, nil, nil, &zero, size), name)
        }
        // Arenas not created yet answer EFAULT (they will take the defaults just set); arena 0, the
        // main thread's, must take the setting.
        let arenas = try integer("arenas.narenas", as: UInt32.self)
        for i in 0..<arenas {
            for name in ["arena.\(i).dirty_decay_ms", "arena.\(i).muzzy_decay_ms"] {
                let status = mallctl(name, nil, nil, &zero, size)
                if i == 0 || status != 14 /* EFAULT */ { try check(status, name) }
            }
        }
    }

    /// The bytes jemalloc actually reserves (and counts in `thread.peak`) for a request of `bytes`
    /// aligned to `alignment` (a power of two): its size class, from `nallocx`. Large requests round
    /// up to one of 4 classes per doubling, so a request just past a class costs up to 25% more.
    /// Nil when jemalloc cannot serve the request at all.
    public static func sizeClass(of bytes: Int, alignment: Int) -> Int? {
        guard bytes >= 0, alignment > 0, alignment & (alignment - 1) == 0 else { return nil }
        let size = nallocx(max(bytes, 1), Int32(alignment.trailingZeroBitCount))  // MALLOCX_LG_ALIGN(lg alignment)
        return size == 0 ? nil : Int(size)
    }

    /// The peak of the calling thread's allocations while `body` runs, above what it held before.
    public static func measurePeak<T>(_ body: () throws -> T) throws -> (value: T, peakBytes: Int) {
        try resetThreadPeak()
        let value = try body()
        return (value, try threadPeakBytes())
    }

    private static func check(_ status: Int32, _ name: String) throws(JemallocError) {
        guard status == 0 else { throw JemallocError(rawValue: status, name: name) }
    }
}

/// A failed `mallctl`: its errno-style return code and the name that was asked for.
public struct JemallocError: Error, CustomStringConvertible, Equatable {
    public let rawValue: Int32
    public let name: String

    public init(rawValue: Int32, name: String) {
        self.rawValue = rawValue
        self.name = name
    }

    public var description: String {
        let reason =
            switch rawValue {
            case 2: "not found: this jemalloc lacks the statistic (built without --enable-stats, or older than 5.3)"
            case 22: "invalid argument"
            case 1: "not permitted"
            default: "error \(rawValue)"
            }
        return "mallctl(\"\(name)\") failed: \(reason)"
    }
}
