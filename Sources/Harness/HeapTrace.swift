import AttentionKernels
import EncoderLayer
import Profiling
import Reporting

/// Every tensor allocation and release of one piece of code, in order (``Tensor/allocationObserver``):
/// the sizes requested, which ``HeapReplay`` turns into jemalloc's peak at any batch.
struct HeapTrace {
    enum Event: Equatable {
        /// A tensor of `bytes` requested bytes, the `index`-th allocation of the trace.
        case allocate(index: Int, bytes: Int)
        /// The release of allocation `index`.
        case release(index: Int)
    }

    var events: [Event] = []
    /// Requested bytes of each allocation, by index.
    var sizes: [Int] = []
    /// What each allocation is, by index: the label given at its allocation site (``Tensor/init(uninitialized:label:)``).
    var labels: [String] = []

    /// Runs `body` with the observer set and returns its trace. Releases of tensors allocated before
    /// `body` started are not events (they only lower the heap below where the trace began).
    static func record<T>(_ body: () throws -> T) rethrows -> (value: T, trace: HeapTrace) {
        // Only this thread's tensors are reported (``Tensor/allocationObserver``), so no lock.
        var trace = HeapTrace()
        var live: [UInt: Int] = [:]  // address → allocation index
        Tensor.allocationObserver = { address, allocation in
            if let (bytes, label) = allocation {
                let index = trace.sizes.count
                trace.sizes.append(bytes)
                trace.labels.append(label.description)
                trace.events.append(.allocate(index: index, bytes: bytes))
                live[address] = index
            } else if let index = live.removeValue(forKey: address) {
                trace.events.append(.release(index: index))
            }
        }
        defer { Tensor.allocationObserver = nil }
        return (try body(), trace)
    }
}

/// Predicts the heap high-water mark (jemalloc's `thread.peak`) of a point at any batch from traces
/// of it at three small batches, without allocating: the Linformer paper's "largest batch that fits"
/// found by search instead of by running ever larger batches.
///
/// Method: every tensor a call allocates has a size linear in the batch (b·h·n·d, b·h·n·n, …, or
/// constant: weights, per-worker tiles), and the order of allocations and releases does not depend
/// on it. So from traces at batches b₁ < b₂ < b₃ with the same events, allocation i has
/// size_i(B) = size_i(b₁) + (size_i(b₂) − size_i(b₁))·(B − b₁)/(b₂ − b₁), checked exactly at b₃. The
/// replay walks the events at batch B, each allocation costing its jemalloc size class
/// (``AllocatorProbe/sizeClass(of:alignment:)``: up to 25% above the request for large tensors, the
/// staircase a linear fit misses), and keeps the largest live total. What is not a tensor (OpenBLAS's
/// job array, Swift arrays, tcache) is the measured peak minus the replayed one at the traced
/// batches, whose largest value is added as a constant.
///
/// Cost: three small calls, then O(events) per batch tried.
struct HeapReplay {
    let batches: (Int, Int, Int)
    let events: [HeapTrace.Event]
    /// size_i(b₁) and the slope per batch of each allocation.
    let base: [Int]
    let slope: [Int]
    /// Measured peak minus replayed peak, the largest over the traced batches.
    let other: Int

    struct NotLinear: Error, CustomStringConvertible {
        var description: String
    }

    /// `traces` at `batches` (increasing), with the measured `thread.peak` of each.
    init(batches: (Int, Int, Int), traces: (HeapTrace, HeapTrace, HeapTrace), measured: (Int, Int, Int))
        throws(NotLinear)
    {
        let (b1, b2, b3) = batches
        let (t1, t2, t3) = traces
        guard b1 < b2, b2 < b3 else {
            throw NotLinear(description: "heap replay: batches \(batches) are not increasing")
        }
        guard t1.sizes.count == t2.sizes.count, t2.sizes.count == t3.sizes.count,
            t1.events.count == t2.events.count, t2.events.count == t3.events.count
        else {
            throw NotLinear(
                description:
                    "the call allocates \(t1.sizes.count), \(t2.sizes.count) and \(t3.sizes.count) tensors at batches \(b1), \(b2), \(b3): its allocations depend on the batch"
            )
        }
        var (base, slope) = ([Int](), [Int]())
        for i in t1.sizes.indices {
            let step = t2.sizes[i] - t1.sizes[i]
            guard step % (b2 - b1) == 0, t3.sizes[i] == t1.sizes[i] + step / (b2 - b1) * (b3 - b1) else {
                throw NotLinear(
                    description:
                        "tensor \(i) has \(t1.sizes[i]), \(t2.sizes[i]), \(t3.sizes[i]) bytes at batches \(b1), \(b2), \(b3): not linear in the batch"
                )
            }
            base.append(t1.sizes[i])
            slope.append(step / (b2 - b1))
        }
        for (e1, e3) in zip(t1.events, t3.events) {
            switch (e1, e3) {
            case (.allocate(let i, _), .allocate(let j, _)) where i == j: continue
            case (.release(let i), .release(let j)) where i == j: continue
            default: throw NotLinear(description: "the order of allocations and releases changes with the batch")
            }
        }
        guard slope.allSatisfy({ $0 >= 0 }) else { throw NotLinear(description: "a tensor shrinks as the batch grows") }
        let tensorsOnly = HeapReplay(batches: batches, events: t1.events, base: base, slope: slope, other: 0)
        var other = 0
        for (batch, peak) in [(b1, measured.0), (b2, measured.1), (b3, measured.2)] {
            guard let replayed = tensorsOnly.replay(batch: batch) else {
                throw NotLinear(description: "heap replay: a traced size has no jemalloc size class")
            }
            other = max(other, peak - replayed)
        }
        self.init(batches: batches, events: t1.events, base: base, slope: slope, other: other)
    }

    init(batches: (Int, Int, Int), events: [HeapTrace.Event], base: [Int], slope: [Int], other: Int) {
        (self.batches, self.events, self.base, self.slope, self.other) = (batches, events, base, slope, other)
    }

    /// Requested bytes of allocation i at `batch`, saturating.
    func size(_ i: Int, batch: Int) -> Int {
        Int.saturatingSum(base[i], .saturatingProduct(slope[i], batch - batches.0))
    }

    /// The tensors' high-water mark at `batch`, in size-class bytes (nil when a size has no class).
    func replay(batch: Int) -> Int? {
        var (live, peak) = (0, 0)
        var held = [Int](repeating: 0, count: base.count)
        for event in events {
            switch event {
            case .allocate(let i, _):
                guard let bytes = AllocatorProbe.sizeClass(of: size(i, batch: batch), alignment: Tensor.alignment)
                else { return nil }
                held[i] = bytes
                live = Int.saturatingSum(live, bytes)
                peak = max(peak, live)
            case .release(let i):
                live -= held[i]
            }
        }
        return peak
    }

    /// The predicted `thread.peak` at `batch`: the replay plus what is not a tensor.
    func peak(batch: Int) -> Int? { replay(batch: batch).map { Int.saturatingSum($0, other) } }

    /// The largest batch whose predicted peak is at most `budget` (0 when batch 1 is over it), by
    /// doubling then bisection: the peak never falls as the batch grows (no slope is negative).
    func largestBatch(within budget: Int) -> Int {
        func fits(_ b: Int) -> Bool { peak(batch: b).map { $0 <= budget } ?? false }
        guard fits(1) else { return 0 }
        var (low, high) = (1, 2)
        while fits(high) {
            low = high
            let (next, overflow) = high.multipliedReportingOverflow(by: 2)
            if overflow || next > 1 << 40 { return low }
            high = next
        }
        while high - low > 1 {
            let mid = low + (high - low) / 2
            if fits(mid) { low = mid } else { high = mid }
        }
        return low
    }
}
