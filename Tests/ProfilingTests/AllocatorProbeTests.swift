import Foundation
import Profiling
import Testing

/// `malloc` as resolved by the dynamic linker.
let mallocFunction = unsafeBitCast(
    dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc")!,
    to: (@convention(c) (Int) -> UnsafeMutableRawPointer?).self)

@Suite struct AllocatorProbeTests {
    /// jemalloc is the process's malloc and has statistics.
    @Test func jemallocIsLinkedWithStatistics() {
        #expect(AllocatorProbe.version?.hasPrefix("5.") == true)
        #expect(AllocatorProbe.statisticsEnabled)
    }

    /// Our malloc_conf reached jemalloc: freed pages are kept, so buffers come back warm.
    @Test func optionsAreInEffect() {
        #expect(AllocatorProbe.options.contains("dirty_decay_ms:-1"))
        #expect(AllocatorProbe.dirtyDecayMilliseconds == -1)
    }

    /// A known 64 MiB malloc on this thread moves thread.peak by at least 64 MiB, and freeing it
    /// does not lower the high-water mark.
    @Test func aKnownAllocationMovesTheThreadPeak() throws {
        let bytes = 64 << 20
        try AllocatorProbe.resetThreadPeak()
        let before = try AllocatorProbe.threadPeakBytes()
        // Through a pointer looked up at run time, so the optimiser cannot elide the pair; the
        // symbol it finds is jemalloc's, which is the point of linking it unprefixed.
        let block = mallocFunction(bytes)!
        memset(block, 1, bytes)
        free(block)
        let after = try AllocatorProbe.threadPeakBytes()
        #expect(before < 1 << 20)
        // thread.peak is accurate to about 100 KB (jemalloc docs); seen here: 64 bytes under.
        #expect(after >= bytes - 100 * 1024 && after < bytes + (1 << 20), "before \(before), after \(after)")
        // A fresh reset forgets it.
        try AllocatorProbe.resetThreadPeak()
        let afterReset = try AllocatorProbe.threadPeakBytes()
        #expect(afterReset < 1 << 20)
    }

    /// A 16 MiB Swift array made inside the closure. It goes through ``blackHole(_:)``: an array
    /// whose only use is its `count` may be folded away by a release build, leaving nothing to see.
    @Test func measurePeakSeesSwiftArrays() throws {
        let (array, peak) = try AllocatorProbe.measurePeak { () -> [Float] in
            let array = [Float](repeating: 1, count: 4 << 20)
            blackHole(array)
            return array
        }
        #expect(array.count == 4 << 20)
        #expect(peak >= 16 << 20)
    }

    /// A live 32 MiB block counts in `stats.allocated`. The block is handed to ``blackHole(_:)``
    /// before the second reading, so the optimiser can neither drop the malloc/free pair nor move
    /// the malloc past the reading.
    /// `stats.allocated` is process-wide, and tests running beside this one free memory between the
    /// two readings (once by 10 KiB in CI), so the reading is taken up to five times: a probe that
    /// missed the block would fail all five.
    @Test func allocatedBytesGrowsWithALiveAllocation() throws {
        var growths: [Int] = []
        for _ in 0..<5 {
            let before = try AllocatorProbe.allocatedBytes()
            let block = mallocFunction(32 << 20)!
            blackHole(block)
            let during = try AllocatorProbe.allocatedBytes()
            free(block)
            growths.append(during - before)
            if during - before >= 32 << 20 { break }
        }
        #expect(growths.contains { $0 >= 32 << 20 }, "growths: \(growths)")
    }

    /// A real mallctl call with a name jemalloc does not have: ENOENT, and the message names it.
    @Test func unknownNamesAreClearErrors() {
        let error = #expect(throws: JemallocError.self) {
            try AllocatorProbe.integer("thread.peak.nonexistent", as: UInt64.self)
        }
        #expect(error == JemallocError(rawValue: 2, name: "thread.peak.nonexistent"))
        #expect(
            error?.description
                == #"mallctl("thread.peak.nonexistent") failed: not found: this jemalloc lacks the statistic (built without --enable-stats, or older than 5.3)"#
        )
    }

    /// A known name read at the wrong width: jemalloc refuses with EINVAL rather than filling half a value.
    @Test func aWrongWidthIsAnInvalidArgument() throws {
        #expect(try AllocatorProbe.integer("opt.dirty_decay_ms", as: Int.self) == -1)
        let error = #expect(throws: JemallocError.self) {
            try AllocatorProbe.integer("opt.dirty_decay_ms", as: Int32.self)
        }
        #expect(error?.description == #"mallctl("opt.dirty_decay_ms") failed: invalid argument"#)
    }
}
