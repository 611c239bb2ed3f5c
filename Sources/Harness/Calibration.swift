import AttentionKernels
import Profiling
import Results

/// The in-run sgemm ceiling: GFLOP/s of one fixed square GEMM at a thread count, so that every
/// point's `efficiency` is relative to what OpenBLAS reaches on this machine, in this run.
public enum Calibration {
    /// The GEMM timed: `[size, size]·[size, size]`, large enough to reach OpenBLAS's best rate,
    /// small enough to time in well under a second.
    public static let size = 1024
    public static let policy = TimingPolicy(warmups: 2, minReps: 10, minSeconds: 0.3, maxSeconds: 3)

    /// GFLOP/s of `2·size³` FLOPs at `threads`: the best of three medians, because a ceiling is
    /// what the machine can do, and a shared machine's noise only ever makes a block slower.
    public static func sgemmGflops(threads: Int) -> Double {
        (0..<3).map { _ in sgemmMedianGflops(threads: threads) }.max() ?? 0
    }

    static func sgemmMedianGflops(threads: Int) -> Double {
        ComputeThreads.set(threads)
        let a = Tensor.normal([size, size], seed: 1, label: "calibration: A")
        let b = Tensor.normal([size, size], seed: 2, label: "calibration: B")
        let c = Tensor(zeros: [size, size], label: "calibration: C")
        // [size, size]·[size, size] → [size, size]
        let samples = policy.measure { BLAS.gemm(a.matrix(0), b.matrix(0), into: c.matrix(0)) }
        blackHole(c)
        let median = SampleStatistics(samples)?.median ?? .nan
        return 2 * Double(size * size * size) / median / 1e9
    }
}
