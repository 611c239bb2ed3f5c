import AttentionKernels
import Profiling
import Results

/// One call of a point, traced tensor by tensor (``HeapTrace``) into a ``MemoryTimeline``: what
/// `attnbench profile-memory` draws. The heap is the point's whole heap as `max-batch` measures it
/// (``MaxBatch/pointPeak(_:)``): its inputs (Q, K, V or X, and dO for a backward), parameters and one
/// call of its pass. Each allocation is costed in jemalloc's size class, as ``HeapReplay`` does, so
/// the timeline's peak is the replay's at the point's batch; jemalloc's `thread.peak` over the same
/// call is recorded beside it (the tensors plus what is not a tensor).
public enum MemoryProfile {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Traces one call of `point` (a forward-mode point: forward, backward or training step; core or
    /// layer scope), after one untraced call, so that what a thread allocates once (OpenBLAS's
    /// buffers, the runtime's caches) is not counted.
    public static func timeline(_ point: SweepPoint, seed: UInt64) throws -> MemoryTimeline {
        try point.checkMeasurable()
        guard point.mode == .forward else {
            throw Failure(description: "\(point.label): profile-memory traces forward-mode points (not decode)")
        }
        let runner = MaxBatch(budget: .max, seed: seed)
        _ = try runner.pointPeak(point)
        let (result, trace) = try HeapTrace.record { try runner.pointPeak(point) }
        var timeline = try timeline(trace, name: point.label)
        (timeline.mechanism, timeline.measuredPeakBytes) = (point.mechanismName, result.bytes)
        return timeline
    }

    /// A trace's timeline, each allocation costed in its jemalloc size class (64-byte aligned).
    static func timeline(_ trace: HeapTrace, name: String) throws -> MemoryTimeline {
        var allocations: [MemoryTimeline.Allocation] = []
        for (i, bytes) in trace.sizes.enumerated() {
            guard let size = AllocatorProbe.sizeClass(of: bytes, alignment: Tensor.alignment) else {
                throw Failure(description: "\(name): a tensor of \(bytes) bytes has no jemalloc size class")
            }
            let label = i < trace.labels.count ? trace.labels[i] : ""
            allocations.append(.init(label: label, requestedBytes: bytes, classBytes: size))
        }
        let events = trace.events.map { event -> MemoryTimeline.Event in
            switch event {
            case .allocate(let i, _): .allocate(i)
            case .release(let i): .release(i)
            }
        }
        return MemoryTimeline(name: name, allocations: allocations, events: events)
    }
}
