import Dispatch
import Synchronization

/// The one `threads` setting: it drives both OpenBLAS and the Swift-side parallel loops.
///
/// Parallel loops only write into buffers that were allocated before they start, so every
/// allocation a kernel makes happens on the calling thread (and shows in its jemalloc peak).
public enum ComputeThreads {
    /// Starts at OpenBLAS's own default (nproc, or `OPENBLAS_NUM_THREADS`), so the two agree
    /// before the first ``set(_:)``.
    private static let storage = Atomic<Int>(max(BLAS.threads, 1))

    /// The current setting (at least 1).
    public static var current: Int { storage.load(ordering: .relaxed) }

    /// Held while the count changes, and by ``holding(_:)``.
    private static let settingLock = RecursiveLock()

    /// Sets the thread count for OpenBLAS and for ``parallelFor(_:_:)``; waits while another
    /// thread is ``holding(_:)`` the count.
    public static func set(_ count: Int) {
        precondition(count >= 1, "thread count must be at least 1, got \(count)")
        settingLock.withLock {
            storage.store(count, ordering: .relaxed)
            BLAS.setThreads(count)
        }
    }

    /// Runs `body` while no other thread can change the count (this one still can): for code that
    /// reads ``current`` more than once and needs one answer, such as a kernel call and the cost
    /// model of its heap, measured in a test process where other tests set the count meanwhile.
    public static func holding<T>(_ body: () throws -> T) rethrows -> T {
        try settingLock.withLock(body)
    }

    /// Runs `body(range)` over `0..<count` split into at most ``current`` contiguous chunks,
    /// one per thread; runs inline when one thread is set or there is a single item.
    public static func parallelFor(_ count: Int, _ body: (Range<Int>) -> Void) {
        let chunks = min(current, count)
        guard chunks > 1 else {
            if count > 0 { body(0..<count) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let box = UncheckedSendable(body)
            let session = PhaseClock.current()
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                let lower = count * c / chunks
                let upper = count * (c + 1) / chunks
                PhaseClock.adopting(session) { box.value(lower..<upper) }
            }
        }
    }
}

extension ComputeThreads {
    /// Runs `body(slice, innerParallel)` for every (batch, head) slice in `0..<count`.
    ///
    /// With more than one thread and at least two slices, the slices are split across the threads
    /// and OpenBLAS is set to one thread meanwhile, so each worker runs whole slices (its GEMMs and
    /// its element-wise work, on data still in its cache) and `innerParallel` is false: OpenBLAS
    /// threads small attention GEMMs poorly while independent slices scale (measurements in
    /// `Results/NOTES-kernels.md`). Otherwise slices run in order with OpenBLAS threading each
    /// product, and `innerParallel` is true so element-wise loops may use ``parallelFor(_:_:)``.
    /// `splitSlices: false` keeps the slices in order (OpenBLAS threads each product).
    public static func forEachSlice(
        _ count: Int, splitSlices: Bool = true, _ body: (_ slice: Int, _ innerParallel: Bool) -> Void
    ) {
        guard splitSlices else {
            for s in 0..<count { body(s, true) }
            return
        }
        let innerParallel = workerCount(count) == 1
        forEachWorker(count) { _, slices in
            for s in slices { body(s, innerParallel) }
        }
    }

    /// Splits slices `0..<count` across `min(current, count)` workers and runs `body(worker, slices)`
    /// once per worker (worker w gets the w-th contiguous block of slices, so no two workers write
    /// neighbouring per-slice state), with OpenBLAS on one thread
    /// meanwhile. With one worker it runs inline, on all slices, with OpenBLAS threading as set.
    /// Use it when each slice is a long independent loop (a decode) that should stay on one thread.
    public static func forEachWorker(_ count: Int, _ body: (_ worker: Int, _ slices: StrideTo<Int>) -> Void) {
        let threads = current
        let workers = workerCount(count)
        guard workers > 1 else {
            body(0, stride(from: 0, to: count, by: 1))
            return
        }
        BLAS.setThreads(1)
        defer { BLAS.setThreads(threads) }
        withoutActuallyEscaping(body) { body in
            let box = UncheckedSendable(body)
            let session = PhaseClock.current()
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                PhaseClock.adopting(session) {
                    box.value(w, stride(from: count * w / workers, to: count * (w + 1) / workers, by: 1))
                }
            }
        }
    }

    /// How many workers ``forEachWorker(_:_:)`` uses for `count` slices.
    public static func workerCount(_ count: Int) -> Int { max(min(current, count), 1) }
}

/// Carries a value across a `concurrentPerform` boundary that the compiler cannot prove safe:
/// the closures passed to ``ComputeThreads/parallelFor(_:_:)`` write disjoint rows only.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

extension ComputeThreads {
    /// Runs `body(worker, item)` for every item in `0..<count` on `min(current, count)` workers that
    /// take the next untaken item whenever they finish one (dynamic scheduling: items of unequal
    /// cost, such as causal query blocks, and a core that another process slows, still end
    /// together). OpenBLAS runs on one thread meanwhile; with one worker everything runs inline, in
    /// order, with OpenBLAS threading as set. Items are taken in increasing order, so put the most
    /// expensive first.
    public static func forEachItem(_ count: Int, _ body: (_ worker: Int, _ item: Int) -> Void) {
        let threads = current
        let workers = workerCount(count)
        guard workers > 1 else {
            for item in 0..<count { body(0, item) }
            return
        }
        BLAS.setThreads(1)
        defer { BLAS.setThreads(threads) }
        let next = ItemCounter()
        withoutActuallyEscaping(body) { body in
            let box = UncheckedSendable(body)
            let session = PhaseClock.current()
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                PhaseClock.adopting(session) {
                    while true {
                        let item = next.take()
                        guard item < count else { return }
                        box.value(w, item)
                    }
                }
            }
        }
    }
}

/// The shared "next item" of ``ComputeThreads/forEachItem(_:_:)``.
final class ItemCounter: Sendable {
    private let value = Atomic<Int>(0)
    /// The next untaken item (increasing from 0).
    func take() -> Int { value.wrappingAdd(1, ordering: .relaxed).oldValue }
}
