#if canImport(Glibc)
    import Glibc
#endif

/// What the operating system counts for the whole process: page faults, context switches and CPU
/// time, from `getrusage(RUSAGE_SELF)` — every thread, OpenBLAS's workers included, and threads
/// that have ended. Take one before and one after a call and subtract (``since(_:)``).
///
/// - Minor faults: pages mapped without I/O (first touch of fresh anonymous memory, a page in the
///   page cache); major faults: pages read from disk.
/// - Voluntary context switches: a thread gave up the CPU (waited on a lock, a condition, I/O: an
///   OpenBLAS worker going to sleep); involuntary: the scheduler took it away (time slice over,
///   another process woke up) — on a shared machine, the count of interruptions.
/// - User and system CPU seconds: the kernel's split of the process's CPU time (`ru_utime`,
///   `ru_stime`). Their sum is exact (scheduler accounting); the split between them is sampled at
///   the timer tick, so below a few ticks (~4 ms each) it is a proportion, not a measurement.
///
/// The corresponding C function is `getrusage(2)`, a system call (~0.3 µs): read it outside a
/// timed region.
public struct ResourceUsage: Equatable, Sendable {
    public var minorFaults: Int
    public var majorFaults: Int
    public var voluntarySwitches: Int
    public var involuntarySwitches: Int
    /// Seconds.
    public var userSeconds: Double
    /// Seconds.
    public var systemSeconds: Double

    public init(
        minorFaults: Int, majorFaults: Int, voluntarySwitches: Int, involuntarySwitches: Int, userSeconds: Double,
        systemSeconds: Double
    ) {
        (self.minorFaults, self.majorFaults) = (minorFaults, majorFaults)
        (self.voluntarySwitches, self.involuntarySwitches) = (voluntarySwitches, involuntarySwitches)
        (self.userSeconds, self.systemSeconds) = (userSeconds, systemSeconds)
    }

    /// The process's counts so far; nil when `getrusage` fails (it does not for RUSAGE_SELF with a
    /// valid buffer, but a failure must leave the columns empty, not fill them with garbage).
    public static func now() -> ResourceUsage? {
        var usage = rusage()
        guard getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage) == 0 else { return nil }
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) * 1e-6 }
        return ResourceUsage(
            minorFaults: usage.ru_minflt, majorFaults: usage.ru_majflt, voluntarySwitches: usage.ru_nvcsw,
            involuntarySwitches: usage.ru_nivcsw, userSeconds: seconds(usage.ru_utime),
            systemSeconds: seconds(usage.ru_stime))
    }

    /// What happened between `earlier` and this reading. The counts only grow, but each difference is
    /// clamped at 0 so that a reading taken out of order can never give a negative count.
    public func since(_ earlier: ResourceUsage) -> ResourceUsage {
        ResourceUsage(
            minorFaults: max(0, minorFaults &- earlier.minorFaults),
            majorFaults: max(0, majorFaults &- earlier.majorFaults),
            voluntarySwitches: max(0, voluntarySwitches &- earlier.voluntarySwitches),
            involuntarySwitches: max(0, involuntarySwitches &- earlier.involuntarySwitches),
            userSeconds: max(0, userSeconds - earlier.userSeconds),
            systemSeconds: max(0, systemSeconds - earlier.systemSeconds))
    }
}
