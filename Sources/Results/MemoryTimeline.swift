import Foundation
import Reporting

/// The live tensor heap over one traced call, allocation by allocation: what `profile-memory` draws
/// ("what fills the peak"). Built from a heap trace (every ``Tensor`` allocated and released on the
/// calling thread, in order, each with the label given at its allocation site).
///
/// Bytes are counted two ways: as requested (`count × 4`) and in jemalloc's size classes (what
/// the allocator hands out, up to 25% more for large tensors; `HeapReplay`'s and `thread.peak`'s
/// unit). The live heap and the peak are in size-class bytes. Only tensors are counted: OpenBLAS's
/// buffers, Swift arrays and the allocator's caches are not tensors and are not in the trace.
public struct MemoryTimeline: Equatable, Sendable {
    /// One tensor of the trace.
    public struct Allocation: Equatable, Sendable {
        /// What it is, as named at its allocation site ("scores QKᵀ", "layer: FFN hidden").
        public var label: String
        public var requestedBytes: Int
        /// `requestedBytes` rounded up to jemalloc's size class at 64-byte alignment.
        public var classBytes: Int

        public init(label: String, requestedBytes: Int, classBytes: Int) {
            (self.label, self.requestedBytes, self.classBytes) = (label, requestedBytes, classBytes)
        }
    }

    public enum Event: Equatable, Sendable {
        /// Allocation `i` (an index into ``allocations``).
        case allocate(Int)
        /// The release of allocation `i`.
        case release(Int)
    }

    /// "standard n=1024 train core": the figure's and the report's name for the call.
    public var name: String
    /// The mechanism it calls ("standard", "linformer"): the report's section.
    public var mechanism: String
    public var allocations: [Allocation]
    public var events: [Event]
    /// jemalloc's `thread.peak` over the same call when it was measured: the tensors' peak plus what
    /// is not a tensor (OpenBLAS's job array, Swift arrays, the tcache), within its ~100 KB sampling.
    public var measuredPeakBytes: Int?

    public init(
        name: String, mechanism: String? = nil, allocations: [Allocation], events: [Event],
        measuredPeakBytes: Int? = nil
    ) {
        (self.name, self.allocations, self.events) = (name, allocations, events)
        self.mechanism = mechanism ?? name
        self.measuredPeakBytes = measuredPeakBytes
    }

    /// The state after each event: live size-class and requested bytes.
    public struct Step: Equatable, Sendable {
        public var event: Event
        public var liveBytes: Int
        public var liveRequestedBytes: Int
    }

    public var steps: [Step] {
        var (live, requested) = (0, 0)
        return events.map { event in
            switch event {
            case .allocate(let i):
                live += allocations[i].classBytes
                requested += allocations[i].requestedBytes
            case .release(let i):
                live -= allocations[i].classBytes
                requested -= allocations[i].requestedBytes
            }
            return Step(event: event, liveBytes: live, liveRequestedBytes: requested)
        }
    }

    /// The first event after which the live heap is largest (an index into ``events``, from 0: the
    /// CSV, the figure and the report number it from 1), and that heap (size-class bytes); nil for
    /// a trace without events.
    public var peak: (event: Int, bytes: Int)? {
        var best: (event: Int, bytes: Int)?
        for (i, step) in steps.enumerated() where step.liveBytes > (best?.bytes ?? -1) {
            best = (i, step.liveBytes)
        }
        return best
    }

    /// The allocations live just after the peak event, in allocation order.
    public var liveAtPeak: [Int] {
        guard let peak else { return [] }
        var live = Set<Int>()
        for event in events[...peak.event] {
            switch event {
            case .allocate(let i): live.insert(i)
            case .release(let i): live.remove(i)
            }
        }
        return live.sorted()
    }

    /// The tensors that make up the peak, grouped by label: how many, their size-class bytes and
    /// their share of the peak. Largest first (then by label); the bytes sum to the peak.
    public struct Share: Equatable, Sendable {
        public var label: String
        public var count: Int
        public var bytes: Int
        /// `bytes` over the peak, 0…1.
        public var share: Double
    }

    public var peakSummary: [Share] {
        guard let peak, peak.bytes > 0 else { return [] }
        var order: [String] = []
        var groups: [String: (count: Int, bytes: Int)] = [:]
        for i in liveAtPeak {
            let a = allocations[i]
            if groups[a.label] == nil { order.append(a.label) }
            groups[a.label, default: (0, 0)].count += 1
            groups[a.label, default: (0, 0)].bytes += a.classBytes
        }
        return order.map { label in
            let g = groups[label]!
            return Share(label: label, count: g.count, bytes: g.bytes, share: Double(g.bytes) / Double(peak.bytes))
        }.sorted { ($0.bytes, $1.label) > ($1.bytes, $0.label) }
    }

    /// Columns of ``csv()``.
    public static let columns = [
        "event", "kind", "tensor", "label", "requested_bytes", "class_bytes", "live_class_bytes",
        "live_requested_bytes",
    ]

    /// One row per event: its number (from 1, as in the figure, whose event 0 is the empty heap
    /// before the call), `alloc` or `release`, the tensor's index (from 0) and label, its requested
    /// and size-class bytes, then the live heap after it in size-class and requested bytes.
    public func csv() -> String {
        CSV.text(
            columns: Self.columns,
            rows: zip(events.indices, steps).map { index, step in
                let (kind, i) =
                    switch step.event {
                    case .allocate(let i): ("alloc", i)
                    case .release(let i): ("release", i)
                    }
                let a = allocations[i]
                return [
                    String(index + 1), kind, String(i), a.label, String(a.requestedBytes), String(a.classBytes),
                    String(step.liveBytes), String(step.liveRequestedBytes),
                ]
            })
    }

    /// Reads a timeline back from its ``csv()`` (a report generator's input: `Results/memory/*.csv`),
    /// named `name` in `mechanism`'s section. The measured `thread.peak` is not in the CSV.
    ///
    /// - Throws: ``CSVError`` for a text that is not such a CSV (other columns, a row that does not
    ///   parse, a release of a tensor not allocated, live bytes that do not follow from the rows).
    public init(csv text: String, name: String, mechanism: String) throws(CSVError) {
        let parsed = try CSV.parse(text)
        guard parsed.unterminated == nil, let header = parsed.rows.first, header == Self.columns else {
            throw CSVError("not a memory timeline: the header is not \(Self.columns.joined(separator: ","))")
        }
        var allocations: [Allocation] = []
        var events: [Event] = []
        for (line, row) in parsed.rows.dropFirst().enumerated() {
            guard row.count == Self.columns.count else {
                throw CSVError("memory timeline: row \(line + 2) has \(row.count) fields, not \(Self.columns.count)")
            }
            let values = ([row[0], row[2]] + row[4...]).compactMap { Int($0) }
            guard values.count == 6, values[0] == line + 1 else {
                throw CSVError("memory timeline: row \(line + 2) does not parse")
            }
            let (tensor, requested, size) = (values[1], values[2], values[3])
            switch row[1] {
            case "alloc" where tensor == allocations.count:
                allocations.append(Allocation(label: row[3], requestedBytes: requested, classBytes: size))
                events.append(.allocate(tensor))
            case "release" where tensor < allocations.count:
                events.append(.release(tensor))
            default: throw CSVError("memory timeline: row \(line + 2) is not an allocation or release in order")
            }
        }
        self.init(name: name, mechanism: mechanism, allocations: allocations, events: events)
        guard csv() == text else { throw CSVError("memory timeline: its live bytes do not follow from its rows") }
    }

    /// Columns of ``summaryCSV()``.
    public static let summaryColumns = ["label", "tensors", "class_bytes", "share_of_peak"]

    /// The tensors live at the peak by label (``peakSummary``), share to four decimals.
    public func summaryCSV() -> String {
        CSV.text(
            columns: Self.summaryColumns,
            rows: peakSummary.map {
                [$0.label, String($0.count), String($0.bytes), String(format: "%.4f", $0.share)]
            })
    }
}
