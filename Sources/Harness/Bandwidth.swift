import AttentionKernels
import Profiling

/// The machine's memory bandwidth, measured in the run: the roofline's second roof, beside the
/// in-run sgemm ceiling (``Calibration``).
///
/// Method: STREAM's triad, `y ← s·x + y` over two buffers of ``elements`` floats each (256 MiB
/// apiece, far beyond any last-level cache), split into one contiguous block per thread (the run's
/// thread count; OpenBLAS on one thread inside each block, `cblas_saxpby`). Bytes are counted as
/// STREAM counts them: two streams read and one written, 12 bytes per element (a write-allocate
/// read of y, which the hardware may add, is not counted). The buffers are touched once before
/// timing, so no page fault is timed. Each of ``repetitions`` passes is timed; the best is kept,
/// as STREAM keeps its best (the roof is what the machine can do, not what a busy moment gives).
///
/// Cost: ~0.5 GiB allocated for the probe's duration and ``repetitions`` + 1 passes over it
/// (about a second at 10 GB/s).
public enum Bandwidth {
    /// Floats per buffer: 64 Mi (256 MiB).
    public static let elements = 64 << 20
    public static let repetitions = 5

    /// The best triad bandwidth in GB/s (1e9 bytes per second) at `threads` threads.
    public static func triadGBs(threads: Int, elements: Int = elements, repetitions: Int = repetitions) -> Double {
        measure(threads: threads, elements: elements, repetitions: repetitions, bytesPerElement: 12) { x, y, count in
            BLAS.axpby(count, alpha: 0.5, x, beta: 1, y)
        }
    }

    /// The same buffers copied (`y ← x`, 8 bytes per element): the known figure the triad is checked
    /// against (both stream through memory, so their bandwidths agree within a small factor).
    public static func copyGBs(threads: Int, elements: Int = elements, repetitions: Int = repetitions) -> Double {
        measure(threads: threads, elements: elements, repetitions: repetitions, bytesPerElement: 8) { x, y, count in
            BLAS.copy(count, x, into: y)
        }
    }

    /// Times `pass(x, y, count)` over `threads` blocks of the two buffers, best of `repetitions`.
    static func measure(
        threads: Int, elements: Int, repetitions: Int, bytesPerElement: Double,
        pass: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void
    ) -> Double {
        ComputeThreads.set(threads)
        let x = Tensor(uninitialized: [elements], label: "bandwidth probe: x")
        let y = Tensor(uninitialized: [elements], label: "bandwidth probe: y")
        let blocks = max(min(threads, elements), 1)
        func run(_ body: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) {
            ComputeThreads.forEachItem(blocks) { _, block in
                let start = block * elements / blocks
                let end = (block + 1) * elements / blocks
                body(x.data + start, y.data + start, end - start)
            }
        }
        // first touch, by the thread that will stream each block
        run { x, y, count in
            x.initialize(repeating: 1, count: count)
            y.initialize(repeating: 0, count: count)
        }
        var best = Double.infinity
        for _ in 0..<max(repetitions, 1) {
            let seconds = Stopwatch.seconds { run { x, y, count in pass(x, y, count) } }
            best = min(best, seconds)
        }
        return bytesPerElement * Double(elements) / best / 1e9
    }
}
