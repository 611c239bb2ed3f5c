import AttentionKernels
import Decoding
import Profiling

/// Wall time of every decode step, per worker: the ``StepObserver`` the harness gives a
/// ``Generation``. Allocated by the caller, outside the measured call.
///
/// Each step costs two reads of the monotonic clock (``Stopwatch/now()``, ~20 ns each against steps
/// of ≥ 1 µs) and two stores into the worker's own row: the start time goes into the step's slot and
/// is replaced by the duration when the step finishes, so workers never write the same cache line
/// (except at the ends of their rows) and nothing is allocated or locked.
public final class StepTimes: StepObserver, @unchecked Sendable {
    public let length: Int
    public let workers: Int
    /// `[workers, length]`: worker w's wall time of step i (over all its slices) at `w·length + i`.
    public let nanoseconds: UnsafeMutablePointer<UInt64>

    public init(length: Int, workers: Int) {
        (self.length, self.workers) = (length, workers)
        nanoseconds = .allocate(capacity: length * workers)
        nanoseconds.initialize(repeating: 0, count: length * workers)
    }

    deinit { nanoseconds.deallocate() }

    public func willGenerate(workers: Int, steps: Int) {
        precondition(
            steps == length && workers <= self.workers,
            "step times hold \(length) steps of \(self.workers) workers; the generation runs \(steps) steps on \(workers)"
        )
    }

    public func stepStarted(worker: Int, step: Int) {
        nanoseconds[worker * length + step] = Stopwatch.now()
    }

    public func stepFinished(worker: Int, step: Int) {
        let slot = nanoseconds + worker * length + step
        slot.pointee = Stopwatch.now() - slot.pointee
    }

    /// The latency of token `position`: the slowest worker's step (a batch's token is ready when
    /// every slice has it).
    public func latency(at position: Int) -> UInt64 {
        var slowest: UInt64 = 0
        for w in 0..<workers { slowest = max(slowest, nanoseconds[w * length + position]) }
        return slowest
    }
}
