import AttentionTypes
import Results

/// One curve: a mechanism (and k, causality) at fixed batch, heads, d and threads, over n.
public struct Series: Equatable, Sendable {
    public var label: String
    /// The point shared by every row (``SweepPoint/series``: n cleared).
    public var key: SweepPoint
    /// The measured rows, by increasing n.
    public var rows: [ResultRow]

    public var mechanism: Mechanism { key.mechanism }
    public var projectedLength: Int? { key.projectedLength }
    public var causal: Bool { key.causal }
    public var batch: Int { key.batch }

    /// The exponent of median time in n, when at least 3 points were measured.
    public var timeFit: ScalingFit? { fit(\.median) }
    /// The exponent of peak heap bytes in n.
    public var memoryFit: ScalingFit? { fit { $0.peakHeapBytes.map(Double.init) } }

    func fit(_ value: (ResultRow) -> Double?) -> ScalingFit? {
        let pairs = rows.compactMap { r in value(r).map { (Double(r.point.length), $0) } }
        guard pairs.count >= 3 else { return nil }
        return ScalingFit(x: pairs.map(\.0), y: pairs.map(\.1))
    }

    /// Groups the measured forward-mode rows of a table into series (one per pass too), in a stable
    /// order (batch, non-causal first, then standard, flash, Linformer by k, linear, each kernel's
    /// passes in the order forward, backward, train). Decode rows have their own curves
    /// (``Analysis/decodeSeries()``).
    public static func all(in table: ResultTable) -> [Series] {
        let ok = table.measured.filter { $0.point.mode == .forward }
        return Dictionary(grouping: ok, by: \.point.series).map { key, rows in
            Series(label: key.seriesLabel, key: key, rows: rows.sorted { $0.point.length < $1.point.length })
        }.sorted { a, b in
            let (ra, rb) = (a.key.mechanismRank, b.key.mechanismRank)
            let (pa, pb) = (
                Pass.allCases.firstIndex(of: a.key.pass) ?? 0, Pass.allCases.firstIndex(of: b.key.pass) ?? 0
            )
            // The label last: peers share their mechanism's rank, and the order must not depend on hashing.
            return (a.batch, a.causal ? 1 : 0, ra.0, ra.1, pa, a.label) < (
                b.batch, b.causal ? 1 : 0, rb.0, rb.1, pb, b.label
            )
        }
    }
}

extension Analysis {
    /// The forward series of this run (``Series/all(in:)``).
    public var series: [Series] { Series.all(in: table) }

    /// Per-sample curves against n at each n's largest batch ("Transformers are RNNs" Figure 1 scales
    /// the batch inversely with n): one per mechanism (and k), non-causal forward-mode rows of
    /// ``figure1Pass``, by increasing n. In the paper's legend order: softmax, linear, then Linformer
    /// by k; flash (exact softmax attention without the n×n scores, which the paper did not have)
    /// after softmax (``MechanismDescriptor/paperRank``).
    public func perSampleCurves() -> [(label: String, key: SweepPoint, rows: [ResultRow])] {
        let pass = figure1Pass
        let ok = measured.filter { !$0.point.causal && $0.point.mode == .forward && $0.point.pass == pass }
        let groups = Dictionary(grouping: ok) { r in Self.mechanismKey(r.point) }
        return groups.map { key, rows in
            let perN = Dictionary(grouping: rows, by: \.point.length).values.compactMap {
                $0.max { $0.point.batch < $1.point.batch }
            }
            return (key.mechanismLabel, key, perN.sorted { $0.point.length < $1.point.length })
        }.sorted {
            let (a, b) = ($0.key, $1.key)
            let (ra, rb) = (a.mechanism.descriptor.paperRank, b.mechanism.descriptor.paperRank)
            return (ra, a.projectedLength ?? 0, a.hashRounds ?? 0, a.mechanismLabel)
                < (rb, b.projectedLength ?? 0, b.hashRounds ?? 0, b.mechanismLabel)
        }
    }

    /// Exponents of per-sample time and per-sample peak heap in n over one ``perSampleCurves()`` curve.
    public static func perSampleFits(_ rows: [ResultRow]) -> (time: ScalingFit?, memory: ScalingFit?) {
        let n = rows.map { Double($0.point.length) }
        let time = rows.map { ($0.median ?? .nan) / Double($0.point.batch) }
        let memory = rows.map { Double($0.peakHeapBytes ?? 0) / Double($0.point.batch) }
        return (ScalingFit(x: n, y: time), ScalingFit(x: n, y: memory))
    }

    /// The smallest n at which standard attention's ``figure1Pass`` was skipped for memory (where its
    /// Figure 1 curve ends).
    public func standardMemoryLimit() -> Int? {
        let pass = figure1Pass
        return table.rows.filter {
            $0.point.mechanism == .standard && !$0.point.causal && $0.point.pass == pass
                && $0.reason.hasPrefix("memory")
        }
        .map(\.point.length).min()
    }

    /// Time and memory against batch at one n: the largest n measured at 2 or more batch sizes for
    /// which standard attention has every batch too; one curve per mechanism (and k), by batch, of
    /// ``primaryPass``.
    public func batchCurves() -> (n: Int, curves: [(label: String, key: SweepPoint, rows: [ResultRow])])? {
        let pass = primaryPass
        let ok = measured.filter { !$0.point.causal && $0.point.mode == .forward && $0.point.pass == pass }
        let byN = Dictionary(grouping: ok, by: \.point.length)
        guard
            let n = byN.keys.sorted(by: >).first(where: { n in
                let rows = byN[n] ?? []
                let batches = Set(rows.map(\.point.batch))
                return batches.count >= 2
                    && Set(rows.filter { $0.point.mechanism == .standard }.map(\.point.batch)) == batches
            })
        else { return nil }
        let groups = Dictionary(grouping: byN[n] ?? []) { r in Self.mechanismKey(r.point) }
        let curves = groups.map { key, rows in
            (key.mechanismLabel, key, rows.sorted { $0.point.batch < $1.point.batch })
        }
        .sorted {
            ($0.1.mechanismRank.0, $0.1.mechanismRank.1, $0.0) < ($1.1.mechanismRank.0, $1.1.mechanismRank.1, $1.0)
        }
        return (n, curves)
    }

    /// What identifies a mechanism's curve regardless of shape: mechanism, peer and k.
    static func mechanismKey(_ p: SweepPoint) -> SweepPoint {
        SweepPoint(
            mechanism: p.mechanism, peer: p.peer, length: 0, projectedLength: p.projectedLength,
            hashRounds: p.hashRounds, buckets: p.buckets, chunk: p.chunk, features: p.features, batch: 0, heads: 0,
            headDim: 0, threads: 0)
    }
}
