import Glibc
import Profiling
import Testing

/// getrusage(RUSAGE_SELF) deltas: never negative, and they move when the process does what they count.
@Suite(.serialized) struct ResourceUsageTests {
    /// Two readings in a row give a difference with every count and time at 0 or more.
    @Test func deltasAreNonNegative() throws {
        let start = try #require(ResourceUsage.now())
        let end = try #require(ResourceUsage.now())
        let d = end.since(start)
        #expect(d.minorFaults >= 0 && d.majorFaults >= 0)
        #expect(d.voluntarySwitches >= 0 && d.involuntarySwitches >= 0)
        #expect(d.userSeconds >= 0 && d.systemSeconds >= 0)
        // Out of order, each difference is clamped at 0, never negative.
        let backwards = start.since(end)
        #expect(backwards.minorFaults >= 0 && backwards.userSeconds >= 0 && backwards.systemSeconds >= 0)
    }

    /// A busy loop of ≥ 50 ms of CPU raises user time (the split is tick-sampled, so by at least a
    /// tenth of what the loop spent, on a machine shared with other builds).
    @Test func aBusyLoopAddsUserTime() throws {
        let start = try #require(ResourceUsage.now())
        let cpuStart = Stopwatch.processCPUTime()
        var x: UInt64 = 1
        while Stopwatch.processCPUTime() - cpuStart < 50_000_000 {
            for i in 0..<10_000 { x = x &* 6_364_136_223_846_793_005 &+ UInt64(i) }
        }
        blackHole(x)
        let d = try #require(ResourceUsage.now()).since(start)
        #expect(d.userSeconds >= 0.005, "user time \(d.userSeconds) s over a 50 ms busy loop")
        #expect(d.userSeconds + d.systemSeconds >= 0.04)
    }

    /// Touching 1,024 fresh anonymous pages (mmap'd here, so no allocator can hand back warm ones)
    /// faults each of them in: at least that many minor faults (transparent huge pages could map
    /// them in fewer, so the mapping asks for small pages), and no major one is needed.
    @Test func touchingFreshPagesAddsMinorFaults() throws {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let pages = 1024
        let bytes = pages * page
        let memory = try #require(
            mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0).flatMap {
                $0 == MAP_FAILED ? nil : $0
            })
        defer { munmap(memory, bytes) }
        _ = madvise(memory, bytes, MADV_NOHUGEPAGE)
        let start = try #require(ResourceUsage.now())
        let base = memory.assumingMemoryBound(to: UInt8.self)
        for p in 0..<pages { base[p * page] = 1 }
        let d = try #require(ResourceUsage.now()).since(start)
        #expect(d.minorFaults >= pages / 2, "\(d.minorFaults) minor faults for \(pages) fresh pages")
    }
}
