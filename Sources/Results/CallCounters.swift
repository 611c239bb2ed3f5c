/// What the operating system and, where it can, the CPU counted over one timed call, beside its
/// time (``CallTime``). Both cover the whole process: every thread, OpenBLAS's workers included.
public struct CallCounters: Equatable, Sendable {
    /// `getrusage(RUSAGE_SELF)` after the call minus before (every thread, ended ones too).
    public struct System: Equatable, Sendable {
        /// Pages mapped without I/O (first touches of fresh memory); pages read from disk.
        public var minorFaults, majorFaults: Int
        /// A thread gave up the CPU (a worker waiting); the scheduler took it away.
        public var voluntarySwitches, involuntarySwitches: Int
        /// Seconds of user and of kernel CPU time, all threads (the split is sampled at the tick).
        public var userSeconds, systemSeconds: Double

        public init(
            minorFaults: Int, majorFaults: Int, voluntarySwitches: Int, involuntarySwitches: Int,
            userSeconds: Double, systemSeconds: Double
        ) {
            (self.minorFaults, self.majorFaults) = (minorFaults, majorFaults)
            (self.voluntarySwitches, self.involuntarySwitches) = (voluntarySwitches, involuntarySwitches)
            (self.userSeconds, self.systemSeconds) = (userSeconds, systemSeconds)
        }
    }

    /// `perf_event_open` counters after the call minus before, user space only, every thread.
    public struct Hardware: Equatable, Sendable {
        public var cycles, instructions, llcMisses: Double

        public init(cycles: Double, instructions: Double, llcMisses: Double) {
            (self.cycles, self.instructions, self.llcMisses) = (cycles, instructions, llcMisses)
        }
    }

    /// Nil when getrusage failed.
    public var system: System?
    /// Nil when the machine offers no hardware counters (or a read failed).
    public var hardware: Hardware?

    public init(system: System?, hardware: Hardware?) {
        (self.system, self.hardware) = (system, hardware)
    }
}
