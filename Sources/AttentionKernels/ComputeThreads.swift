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

    /// Sets the thread count for OpenBLAS and for ``parallelFor(_:_:)``.
    public static func set(_ count: Int) {
        precondition(count >= 1, "thread count must be at least 1, got \(count)")
        storage.store(count, ordering: .relaxed)
        BLAS.setThreads(count)
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
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                let lower = count * c / chunks
                let upper = count * (c + 1) / chunks
                box.value(lower..<upper)
            }
        }
    }
}

/// Carries a value across a `concurrentPerform` boundary that the compiler cannot prove safe:
/// the closures passed to ``ComputeThreads/parallelFor(_:_:)`` write disjoint rows only.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
