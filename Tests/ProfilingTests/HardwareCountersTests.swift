import Glibc
import Profiling
import Testing

/// perf_event_open counters. The path these machines take (no PMU: the open fails) is tested for
/// real; the counting path is tested against a fake kernel, since no test machine here has a PMU.
@Suite struct HardwareCountersTests {
    /// A kernel whose perf_event_open fails with `code` for every event, counting what was closed.
    static func failing(_ code: Int32) -> HardwareCounters.System {
        HardwareCounters.System(
            open: { _, _ in .failure(.init(code)) }, read: { _ in .failure(.init(EBADF)) }, close: { _ in })
    }

    /// Every refusal is ``HardwareCounters/Unavailable`` with the call, the errno's name and its
    /// meaning: one line, no trap.
    @Test func aFailedOpenIsUnavailableWithTheReason() {
        for (code, name, meaning) in [
            (ENOENT, "ENOENT", "no hardware PMU"), (EACCES, "EACCES", "perf_event_paranoid"),
            (ENOSYS, "ENOSYS", "no perf_event_open"), (EINVAL, "EINVAL", "perf_event_open(2)"),
        ] {
            guard case .failure(let why) = HardwareCounters.open(system: Self.failing(code), threads: [1]) else {
                Issue.record("errno \(code) opened counters")
                continue
            }
            #expect(
                why.description.hasPrefix(
                    "hardware counters unavailable: perf_event_open(cycles, thread 1) failed with \(name) ("))
            #expect(why.description.contains(meaning) && !why.description.contains("\n"))
        }
    }

    /// The real kernel: counters open and count (a machine with a PMU), or the open fails with a
    /// reason (these VMs: ENOENT). Either way nothing traps and what is read is never negative.
    @Test func theRealKernelCountsOrSaysWhyNot() throws {
        switch HardwareCounters.open() {
        case .failure(let why):
            #expect(why.description.hasPrefix("hardware counters unavailable: "))
        case .success(let counters):
            let start = try counters.read().get()
            var x = 1.0
            for i in 0..<1_000_000 { x = x * 1.000001 + Double(i & 7) }
            blackHole(x)
            let d = try counters.read().get().since(start)
            #expect(d.instructions > 1_000_000 && d.cycles > 0 && d.llcMisses >= 0)
        }
    }

    /// A thread that ended between listing and opening (ESRCH) is passed over; any other failure
    /// closes every counter already opened, so none leaks.
    @Test func aPartialOpenClosesWhatItOpened() {
        final class Log: @unchecked Sendable {
            var opened: [Int32] = []
            var closed: [Int32] = []
        }
        let log = Log()
        let system = HardwareCounters.System(
            open: { event, tid in
                if tid == 2 { return .failure(.init(ESRCH)) }
                if event == .llcMisses { return .failure(.init(EOPNOTSUPP)) }
                let fd = Int32(100 + log.opened.count)
                log.opened.append(fd)
                return .success(fd)
            }, read: { _ in .failure(.init(EBADF)) }, close: { log.closed.append($0) })
        guard case .failure(let why) = HardwareCounters.open(system: system, threads: [1, 2, 3]) else {
            Issue.record("opened although LLC misses failed")
            return
        }
        #expect(why.description.contains("perf_event_open(LLC misses, thread 1) failed with EOPNOTSUPP"))
        #expect(log.opened.count == 4 && log.closed.sorted() == log.opened)
    }

    /// The counting path, on a fake PMU: counts sum over threads, a multiplexed counter is scaled by
    /// enabled ÷ running, one that never ran is unavailable, and the counters are closed at the end.
    @Test func countsSumOverThreadsAndScaleMultiplexing() throws {
        final class Fake: @unchecked Sendable {
            var running: UInt64 = 50
            var closed = 0
        }
        let fake = Fake()
        let system = HardwareCounters.System(
            open: { event, tid in
                .success(Int32(10 * (HardwareCounters.Event.allCases.firstIndex(of: event) ?? 0)) + tid)
            },
            read: { fd in
                switch fd / 10 {
                case 0: .success((value: 1000, enabled: 100, running: 100))  // cycles, per thread
                case 1: .success((value: 3000, enabled: 100, running: 100))  // instructions
                default: .success((value: 10, enabled: 100, running: fake.running))  // LLC misses, multiplexed
                }
            }, close: { _ in fake.closed += 1 })
        do {
            let counters = try HardwareCounters.open(system: system, threads: [1, 2]).get()
            let counts = try counters.read().get()
            #expect(counts == HardwareCounters.Counts(cycles: 2000, instructions: 6000, llcMisses: 40))
            fake.running = 0
            guard case .failure(let why) = counters.read() else {
                Issue.record("a counter that never ran gave a count")
                return
            }
            #expect(why.description.contains("never scheduled"))
        }
        #expect(fake.closed == 6)
    }
}
