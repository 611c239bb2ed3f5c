import AttentionKernels
import Foundation
import Profiling
import Results
import Testing

@testable import Harness

/// The memory timeline of one call (``MemoryProfile``): every tensor is labelled, and its peak is
/// the heap replay's and relates to jemalloc's `thread.peak`.
///
/// Each test runs its points in a child process (an exit test), as ``HeapReplayTests`` does: a
/// point sets OpenBLAS's process-wide thread count, which another test beside it would change.
@Suite struct MemoryProfileTests {
    /// Every mechanism × pass × scope at a small size (Reformer and Performer with few buckets and
    /// features, so n = 64 is enough), one thread.
    static func points() throws -> [SweepPoint] {
        var spec = SweepSpec()
        for (key, value) in [
            ("mechanism", Mechanism.allCases.map(\.rawValue).joined(separator: ",")), ("scope", "core,layer"),
            ("pass", "forward,backward,train"), ("n", "64"), ("k", "16"), ("batch", "1"), ("heads", "2"),
            ("head-dim", "16"), ("threads", "1"), ("buckets", "8"), ("chunk", "16"), ("features", "16"),
            ("seed", "5"),
        ] {
            try spec.apply(key, value)
        }
        return try spec.points().filter { $0.mode == .forward }
    }

    /// Every tensor a call allocates, in every mechanism, pass and scope, carries a label (the
    /// compiler requires one at each site; this checks none is empty and that the trace keeps them).
    @Test func everyTracedTensorHasALabel() async {
        let result = await #expect(processExitsWith: .success, observing: [\.standardErrorContent]) {
            HeapReplayTests.report {
                var failures: [String] = []
                let points = try MemoryProfileTests.points()
                let kinds = Set(points.map { "\($0.mechanism) \($0.pass) \($0.scope)" })
                if kinds.count != Mechanism.allCases.count * 3 * 2 {
                    failures.append(
                        "\(kinds.count) mechanism × pass × scope combinations, not \(Mechanism.allCases.count * 6)")
                }
                for point in points {
                    let t = try MemoryProfile.timeline(point, seed: 5)
                    if t.allocations.isEmpty { failures.append("\(point.label): no tensor traced") }
                    for (i, a) in t.allocations.enumerated() where a.label.isEmpty {
                        failures.append("\(point.label): tensor \(i) (\(a.requestedBytes) bytes) has no label")
                    }
                }
                return failures
            }
        }
        #expect(!HeapReplayTests.text(result).contains("FAILED"), "\(HeapReplayTests.text(result))")
    }

    /// The timeline's peak at batch 4 is what ``HeapReplay`` predicts at batch 4 from traces at
    /// batches 1-3 (both in size-class bytes); the tensors live at it sum to it; and jemalloc's
    /// thread.peak over the traced call is the tensors' peak plus what is not a tensor: at least the
    /// peak (less thread.peak's 64 KiB sampling), and at most the peak plus the replay's non-tensor
    /// part measured at batches 1-3 (plus the same 64 KiB).
    @Test func timelinePeakIsTheReplayedPeak() async {
        let result = await #expect(processExitsWith: .success, observing: [\.standardErrorContent]) {
            HeapReplayTests.report {
                var failures: [String] = []
                let wanted: Set<String> = [
                    "standard train core", "linformer train core", "linformer train layer", "flash forward core",
                    "performer train core", "reformer forward layer", "linear backward core",
                ]
                for template in try MemoryProfileTests.points()
                where wanted.contains("\(template.mechanism) \(template.pass) \(template.scope)") {
                    let runner = MaxBatch(budget: .max, seed: 5)
                    let probes = [1, 2, 3, 4].map { b -> SweepPoint in
                        var p = template
                        p.batch = b
                        return p
                    }
                    _ = try runner.pointPeak(probes[0])
                    var (traces, peaks) = ([HeapTrace](), [Int]())
                    for probe in probes.prefix(3) {
                        let (result, trace) = try HeapTrace.record { try runner.pointPeak(probe) }
                        traces.append(trace)
                        peaks.append(result.bytes)
                    }
                    let replay = try HeapReplay(
                        batches: (1, 2, 3), traces: (traces[0], traces[1], traces[2]),
                        measured: (peaks[0], peaks[1], peaks[2]))
                    let t = try MemoryProfile.timeline(probes[3], seed: 5)
                    let label = probes[3].label
                    guard let peak = t.peak, let measured = t.measuredPeakBytes else {
                        failures.append("\(label): no peak")
                        continue
                    }
                    if peak.bytes != replay.replay(batch: 4) {
                        failures.append(
                            "\(label): timeline peak \(peak.bytes), replay \(String(describing: replay.replay(batch: 4)))"
                        )
                    }
                    let live = t.liveAtPeak.reduce(0) { $0 + t.allocations[$1].classBytes }
                    let grouped = t.peakSummary.reduce(0) { $0 + $1.bytes }
                    if live != peak.bytes || grouped != peak.bytes {
                        failures.append("\(label): live tensors \(live), by label \(grouped), peak \(peak.bytes)")
                    }
                    if measured < peak.bytes - (64 << 10) || measured > peak.bytes + replay.other + (64 << 10) {
                        failures.append(
                            "\(label): thread.peak \(measured) against tensors \(peak.bytes) + other \(replay.other)")
                    }
                }
                return failures
            }
        }
        #expect(!HeapReplayTests.text(result).contains("FAILED"), "\(HeapReplayTests.text(result))")
    }

    /// A trace becomes a timeline allocation by allocation: labels kept, sizes in size classes.
    @Test func traceBecomesTimeline() throws {
        let trace = HeapTrace(
            events: [.allocate(index: 0, bytes: 100), .allocate(index: 1, bytes: (1 << 20) + 1), .release(index: 0)],
            sizes: [100, (1 << 20) + 1], labels: ["a", "b"])
        let t = try MemoryProfile.timeline(trace, name: "x")
        #expect(t.allocations.map(\.label) == ["a", "b"])
        #expect(t.allocations.map(\.requestedBytes) == [100, (1 << 20) + 1])
        #expect(t.allocations[1].classBytes == AllocatorProbe.sizeClass(of: (1 << 20) + 1, alignment: 64))
        #expect(t.events == [.allocate(0), .allocate(1), .release(0)])
    }
}
