import Profiling
import Results

extension TimingPolicy {
    /// Runs `body` by this policy and returns the timed repetitions, in seconds.
    /// Warm-ups also stop once `maxSeconds` is spent, so a very slow call is timed at least once.
    /// `afterEach` runs after every timed repetition, outside its time (to collect what it recorded).
    public func measure(_ body: () -> Void, afterEach: () -> Void = {}) -> [Double] {
        repeatTimed(body, afterEach: afterEach) { Stopwatch.seconds(body) }
    }

    /// ``measure(_:afterEach:)`` with the process's CPU time and counters of each timed call beside its
    /// wall time. The CPU clock is a system call, so it is read just outside the wall-clock window: the
    /// wall times are those ``measure(_:afterEach:)`` would give, and the CPU time covers the call plus
    /// two monotonic-clock reads (~40 ns). Around that, `getrusage` (``ResourceUsage``: faults,
    /// context switches, user and system time of the call plus the two CPU-clock reads), and around
    /// that the hardware counters when `hardware` is given (user space only, so the system calls
    /// inside add a few hundred instructions at most). Nothing is read inside the wall-clock window.
    public func measureCalls(
        _ body: () -> Void, hardware: HardwareCounters? = nil, afterEach: () -> Void = {}
    ) -> [CallTime] {
        repeatTimed(body, afterEach: afterEach) {
            let hardwareStart = hardware.flatMap { try? $0.read().get() }
            let usageStart = ResourceUsage.now()
            let cpuStart = Stopwatch.processCPUTime()
            let seconds = Stopwatch.seconds(body)
            let cpu = Stopwatch.processCPUTime() &- cpuStart
            let usageEnd = ResourceUsage.now()
            let hardwareEnd = hardware.flatMap { try? $0.read().get() }
            let system = usageStart.flatMap { start in usageEnd.map { CallCounters.System($0.since(start)) } }
            let counts = hardwareStart.flatMap { start in hardwareEnd.map { CallCounters.Hardware($0.since(start)) } }
            return CallTime(
                seconds: seconds, cpuSeconds: Double(cpu) * 1e-9,
                counters: CallCounters(system: system, hardware: counts))
        }
    }

    /// The policy's loop: warm-ups of `body`, then `time()` (one timed call of it) until the minimums
    /// are met or the maximum is spent.
    private func repeatTimed<T>(_ body: () -> Void, afterEach: () -> Void, time: () -> T) -> [T] {
        let start = Stopwatch.now()
        let elapsed = { Double(Stopwatch.now() - start) * 1e-9 }
        for _ in 0..<warmups where elapsed() < maxSeconds / 2 { body() }
        let timedStart = Stopwatch.now()
        var samples: [T] = []
        repeat {
            samples.append(time())
            afterEach()
            let timed = Double(Stopwatch.now() - timedStart) * 1e-9
            if samples.count >= minReps && timed >= minSeconds { break }
            if elapsed() >= maxSeconds { break }
        } while true
        return samples
    }
}

extension CallCounters.System {
    init(_ usage: ResourceUsage) {
        self.init(
            minorFaults: usage.minorFaults, majorFaults: usage.majorFaults, voluntarySwitches: usage.voluntarySwitches,
            involuntarySwitches: usage.involuntarySwitches, userSeconds: usage.userSeconds,
            systemSeconds: usage.systemSeconds)
    }
}

extension CallCounters.Hardware {
    init(_ counts: HardwareCounters.Counts) {
        self.init(cycles: counts.cycles, instructions: counts.instructions, llcMisses: counts.llcMisses)
    }
}
