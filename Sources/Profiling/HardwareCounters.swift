import CPerfEvents
import Foundation

/// Hardware counters of the whole process — core cycles, instructions retired and last-level cache
/// misses, user space only — through `perf_event_open(2)`, where the machine offers them.
///
/// What they cover: one counter per event for every thread alive when ``open(system:threads:)`` runs
/// (the threads listed in `/proc/self/task`: the caller, OpenBLAS's workers, any other), each
/// inherited by the threads it starts later; a reading sums them all. Kernel and hypervisor time are
/// excluded (`exclude_kernel`, `exclude_hv`), which is also what an unprivileged process may count
/// at `kernel.perf_event_paranoid` 2. A counter the kernel multiplexed (more events than the PMU has
/// registers) is scaled by time enabled ÷ time running, as `perf stat` does.
///
/// Where they are unavailable: VMs that expose no PMU (`perf_event_open` fails with ENOENT or
/// EOPNOTSUPP: the machines this suite's reference runs are made on), containers whose seccomp
/// filter refuses the call (EPERM), a paranoid level of 3 (EACCES). Then ``open(system:threads:)``
/// returns ``Unavailable`` with the reason, once, and nothing is counted.
public final class HardwareCounters {
    /// The events, in the order their counts are kept.
    public enum Event: CaseIterable, Sendable {
        case cycles, instructions, llcMisses

        var name: String {
            switch self {
            case .cycles: "cycles"
            case .instructions: "instructions"
            case .llcMisses: "LLC misses"
            }
        }

        var perfEvent: attnbench_perf_event {
            switch self {
            case .cycles: attnbench_perf_cycles
            case .instructions: attnbench_perf_instructions
            case .llcMisses: attnbench_perf_llc_misses
            }
        }
    }

    /// Counts since the counters were opened (a reading), or over a call (the difference of two).
    public struct Counts: Equatable, Sendable {
        public var cycles: Double
        public var instructions: Double
        public var llcMisses: Double

        public init(cycles: Double, instructions: Double, llcMisses: Double) {
            (self.cycles, self.instructions, self.llcMisses) = (cycles, instructions, llcMisses)
        }

        /// What was counted between `earlier` and this reading, each clamped at 0 (a scaled count
        /// of a multiplexed counter can step back slightly).
        public func since(_ earlier: Counts) -> Counts {
            Counts(
                cycles: max(0, cycles - earlier.cycles), instructions: max(0, instructions - earlier.instructions),
                llcMisses: max(0, llcMisses - earlier.llcMisses))
        }
    }

    /// Why there are no counts: one line naming the call, the errno and what it usually means here.
    public struct Unavailable: Error, CustomStringConvertible, Equatable {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    /// An errno from one of the system calls.
    public struct Errno: Error, Equatable, Sendable {
        public var code: Int32
        public init(_ code: Int32) { self.code = code }
    }

    /// The three system calls the counters use, replaceable so that tests can make them fail (the
    /// path every VM without a PMU takes) or fake a PMU (the path no test machine can take).
    public struct System: Sendable {
        /// A counter of the event for the thread: its file descriptor, or the errno.
        public var open: @Sendable (Event, Int32) -> Result<Int32, Errno>
        /// The counter's value, time enabled and time running (ns), or the errno.
        public var read: @Sendable (Int32) -> Result<(value: UInt64, enabled: UInt64, running: UInt64), Errno>
        public var close: @Sendable (Int32) -> Void

        public init(
            open: @escaping @Sendable (Event, Int32) -> Result<Int32, Errno>,
            read: @escaping @Sendable (Int32) -> Result<(value: UInt64, enabled: UInt64, running: UInt64), Errno>,
            close: @escaping @Sendable (Int32) -> Void
        ) {
            (self.open, self.read, self.close) = (open, read, close)
        }

        /// The kernel's: `perf_event_open(2)`, `read(2)`, `close(2)` (CPerfEvents's shim).
        public static let kernel = System(
            open: { event, tid in
                var error: Int32 = 0
                let fd = attnbench_perf_open(event.perfEvent, tid, &error)
                return fd >= 0 ? .success(fd) : .failure(Errno(error))
            },
            read: { fd in
                var reading = attnbench_perf_reading()
                var error: Int32 = 0
                guard attnbench_perf_read(fd, &reading, &error) == 0 else {
                    return .failure(Errno(error))
                }
                return .success((reading.value, reading.time_enabled, reading.time_running))
            },
            close: { fd in _ = Glibc.close(fd) })
    }

    private let system: System
    /// `descriptors[e]`: event e's counters, one per thread.
    private let descriptors: [[Int32]]

    private init(system: System, descriptors: [[Int32]]) {
        (self.system, self.descriptors) = (system, descriptors)
    }

    deinit { descriptors.joined().forEach(system.close) }

    /// The thread ids of this process, from `/proc/self/task`; nil when it cannot be listed.
    public static func processThreads() -> [Int32]? {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") else { return nil }
        let tids = names.compactMap { Int32($0) }.sorted()
        return tids.isEmpty ? nil : tids
    }

    /// Opens every event for every thread of `threads` (default: the process's threads now). A thread
    /// that ended since it was listed (ESRCH) is passed over; any other failure closes what was
    /// opened and returns why, so that counts are whole or absent, never partial.
    public static func open(system: System = .kernel, threads: [Int32]? = nil) -> Result<
        HardwareCounters, Unavailable
    > {
        guard let tids = threads ?? processThreads() else {
            return .failure(Unavailable("hardware counters unavailable: cannot list the threads in /proc/self/task"))
        }
        var descriptors: [[Int32]] = []
        for event in Event.allCases {
            var fds: [Int32] = []
            for tid in tids {
                switch system.open(event, tid) {
                case .success(let fd): fds.append(fd)
                case .failure(let error) where error.code == ESRCH: continue
                case .failure(let code):
                    (descriptors + [fds]).joined().forEach(system.close)
                    return .failure(
                        Unavailable(
                            "hardware counters unavailable: perf_event_open(\(event.name), thread \(tid)) failed with "
                                + "\(errnoName(code.code)) (\(String(cString: strerror(code.code)))): \(meaning(code.code))"
                        ))
                }
            }
            guard !fds.isEmpty else {
                (descriptors + [fds]).joined().forEach(system.close)
                return .failure(Unavailable("hardware counters unavailable: every listed thread had ended"))
            }
            descriptors.append(fds)
        }
        return .success(HardwareCounters(system: system, descriptors: descriptors))
    }

    /// Counts so far, summed over the threads, each counter scaled by enabled ÷ running time.
    /// A counter that was enabled but never ran (the PMU was busy with others all along) has no
    /// estimate: that is ``Unavailable``, as is a failed read.
    public func read() -> Result<Counts, Unavailable> {
        var totals: [Double] = []
        for (event, fds) in zip(Event.allCases, descriptors) {
            var total = 0.0
            for fd in fds {
                switch system.read(fd) {
                case .failure(let code):
                    return .failure(
                        Unavailable(
                            "hardware counters unavailable: reading \(event.name) failed with \(Self.errnoName(code.code)) (\(String(cString: strerror(code.code))))"
                        ))
                case .success(let r):
                    if r.running == r.enabled {
                        total += Double(r.value)
                    } else if r.running > 0 {
                        total += Double(r.value) * (Double(r.enabled) / Double(r.running))
                    } else {
                        return .failure(
                            Unavailable(
                                "hardware counters unavailable: the \(event.name) counter was never scheduled on the PMU"
                            ))
                    }
                }
            }
            totals.append(total)
        }
        return .success(Counts(cycles: totals[0], instructions: totals[1], llcMisses: totals[2]))
    }

    /// What an errno from perf_event_open usually means (perf_event_open(2), ERRORS).
    static func meaning(_ code: Int32) -> String {
        switch code {
        case ENOENT, EOPNOTSUPP, ENODEV:
            "this machine exposes no hardware PMU to the process (usual in VMs without a virtual PMU)"
        case EACCES, EPERM:
            "not permitted (kernel.perf_event_paranoid above 2, or a container's seccomp filter)"
        case ENOSYS: "this kernel has no perf_event_open"
        case EMFILE, ENFILE: "too many open files for one counter per thread and event"
        default: "see perf_event_open(2)"
        }
    }

    /// `ENOENT` for ENOENT: the symbolic name, which the error message of strerror does not give.
    static func errnoName(_ code: Int32) -> String {
        let names: [(Int32, String)] = [
            (ENOENT, "ENOENT"), (EOPNOTSUPP, "EOPNOTSUPP"), (ENODEV, "ENODEV"), (EACCES, "EACCES"), (EPERM, "EPERM"),
            (ENOSYS, "ENOSYS"), (EMFILE, "EMFILE"), (ENFILE, "ENFILE"), (EINVAL, "EINVAL"), (EBUSY, "EBUSY"),
            (E2BIG, "E2BIG"), (EIO, "EIO"), (ESRCH, "ESRCH"),
        ]
        return names.first { $0.0 == code }?.1 ?? "errno \(code)"
    }
}
