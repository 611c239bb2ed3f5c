import AttentionKernels
import Foundation
import Testing
import _TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The phase clock: marks are recorded only inside a measurement, on its thread and the workers it
/// starts, as thread-time per phase, in the order the call reached them.
@Suite struct PhaseClockTests {
    static let first = Phase.named("test: first")
    static let second = Phase.named("test: second")
    static let parallel = Phase.named("test: parallel")

    /// Spins for `seconds` of wall time (a sleep would do, but a spin is what kernels do).
    static func spin(_ seconds: Double) {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {}
    }

    @Test func marksOutsideAMeasurementAreNotRecorded() {
        var clock = PhaseClock.start()
        Self.spin(0.002)
        clock.lap(Self.first)
        let (_, nanoseconds, order) = PhaseClock.measure { () }
        #expect(nanoseconds.isEmpty && order.isEmpty)
        #expect(PhaseClock.current() == 0)
    }

    @Test func phasesGetTheTimeBetweenTheirMarksInCallOrder() {
        let (_, nanoseconds, order) = PhaseClock.measure {
            var clock = PhaseClock.start()
            Self.spin(0.030)
            clock.lap(Self.second)  // reached first, although registered second
            Self.spin(0.010)
            clock.lap(Self.first)
        }
        #expect(order == [Self.second, Self.first])
        let (a, b) = (Double(nanoseconds[Self.second] ?? 0) * 1e-9, Double(nanoseconds[Self.first] ?? 0) * 1e-9)
        // each at least its spin, and at most its spin plus scheduling noise
        #expect(a >= 0.030 && a < 0.030 + 0.25)
        #expect(b >= 0.010 && b < 0.010 + 0.25)
    }

    /// Workers that ComputeThreads starts take part; their times add up (thread-time).
    @Test func workersStartedInsideTheMeasurementAddTheirThreadTime() {
        let (_, nanoseconds, _) = withComputeThreads(2) {
            PhaseClock.measure {
                ComputeThreads.forEachItem(2) { _, _ in
                    var clock = PhaseClock.start()
                    Self.spin(0.020)
                    clock.lap(Self.parallel)
                }
            }
        }
        // two items of 20 ms each, on however many threads: 40 ms of thread-time
        let total = Double(nanoseconds[Self.parallel] ?? 0) * 1e-9
        #expect(total >= 0.040 && total < 0.040 + 0.25)
    }

    /// A kernel another thread runs while this one measures is not counted.
    @Test func anotherThreadsMarksAreNotCounted() async {
        let other = Task.detached {
            for _ in 0..<20 {
                var clock = PhaseClock.start()
                Self.spin(0.002)
                clock.lap(Self.parallel)
            }
        }
        let (_, nanoseconds, _) = PhaseClock.measure {
            var clock = PhaseClock.start()
            Self.spin(0.020)
            clock.lap(Self.first)
        }
        await other.value
        #expect(nanoseconds[Self.parallel] == nil)
        #expect(nanoseconds[Self.first] != nil)
    }
}
