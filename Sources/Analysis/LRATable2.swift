import AttentionTypes
import Reporting
import Results

/// One row of Long Range Arena's Table 2 (`Data/lra_table2.csv`): a model's training steps per
/// second and per-device memory at one length, batch 32 on TPU V3.
public struct PaperLRACell: Equatable, Sendable {
    public var mechanism: String
    public var n: Int
    public var stepsPerSecond, memoryGB: Double

    public init(mechanism: String, n: Int, stepsPerSecond: Double, memoryGB: Double) {
        (self.mechanism, self.n, self.stepsPerSecond, self.memoryGB) = (mechanism, n, stepsPerSecond, memoryGB)
    }

    /// Reads `model,n,steps_per_second,memory_gb`; a missing file is an empty table.
    /// - Throws: ``UsageError`` when the file exists but a line does not parse.
    public static func load(_ path: String) throws -> [PaperLRACell] {
        try PaperData.rows(path, header: ["model", "n", "steps_per_second", "memory_gb"]).map { r in
            guard let n = Int(r[1]), let steps = Double(r[2]), let memory = Double(r[3]) else {
                throw UsageError("\(path): '\(r.joined(separator: ","))' is not model, n, steps/s and GB")
            }
            return PaperLRACell(mechanism: r[0], n: n, stepsPerSecond: steps, memoryGB: memory)
        }
    }
}

/// One measured cell of LRA's Table 2: a mechanism's training step at one n, beside the Transformer's
/// (standard attention's) at the same n and batch.
public struct LRACell: Equatable, Sendable {
    public var mechanism: Mechanism
    public var label: String
    public var n: Int
    public var batch: Int
    /// Training steps per second at `batch` (1 / median step time).
    public var stepsPerSecond: Double
    /// Steps per second over the Transformer's (the paper's bracketed speed-up).
    public var speedup: Double?
    /// jemalloc's peak heap of one step at `batch`, and the Transformer's over it.
    public var peakHeapBytes: Int?
    public var memoryRatio: Double?
    /// The heap at the paper's batch of 32 from the allocation replay (fixed + 32 · per sample), and
    /// the Transformer's over it.
    public var batch32Bytes: Double?
    public var batch32Ratio: Double?
}

extension Analysis {
    /// The paper's batch.
    public static let lraBatch = 32

    /// Whether the run is LRA Table 2's experiment: training steps of encoder stacks (layer scope,
    /// pass `train`), which no other preset times.
    public var isLRASetup: Bool {
        measured.contains { $0.point.scope == .layer && $0.point.pass == .train && $0.point.mode == .forward }
    }

    /// LRA Table 2's cells: every layer-scope training row, with its ratios over the standard row of
    /// the same shape, and batch 32's heap from the max-batch rows of the same point.
    public func lraTable2() -> [LRACell] {
        let rows = measured.filter { $0.point.scope == .layer && $0.point.pass == .train && $0.point.peer == nil }
        let byPoint = Dictionary(rows.map { ($0.point, $0) }, uniquingKeysWith: { a, _ in a })
        func batch32(_ point: SweepPoint) -> Double? {
            var single = point
            single.batch = 1
            guard
                let replay = (maxBatch ?? []).first(where: {
                    var p = $0.point
                    p.batch = 1
                    return $0.isOK && p == single
                }), let fixed = replay.fixedBytes, let perSample = replay.perSampleBytes
            else { return nil }
            return Double(fixed) + Double(Self.lraBatch) * Double(perSample)
        }
        return rows.compactMap { r -> LRACell? in
            guard let median = r.median, median > 0 else { return nil }
            let base = byPoint[r.point.standardCounterpart]
            var cell = LRACell(
                mechanism: r.point.mechanism, label: r.point.mechanismLabel, n: r.point.length, batch: r.point.batch,
                stepsPerSecond: 1 / median)
            if let b = base?.median, b > 0 { cell.speedup = b / median }
            cell.peakHeapBytes = r.peakHeapBytes
            if let own = r.peakHeapBytes, let b = base?.peakHeapBytes, own > 0 {
                cell.memoryRatio = Double(b) / Double(own)
            }
            cell.batch32Bytes = batch32(r.point)
            if let own = cell.batch32Bytes, let b = base.flatMap({ batch32($0.point) }), own > 0 {
                cell.batch32Ratio = b / own
            }
            return cell
        }.sorted { ($0.mechanism.descriptor.rank, $0.n) < ($1.mechanism.descriptor.rank, $1.n) }
    }
}
