import AttentionKernels
import Foundation
import Harness

/// One curve: a mechanism (and k, causality) at fixed batch, heads, d and threads, over n.
public struct Series: Equatable {
    public var label: String
    public var mechanism: Mechanism
    public var projectedLength: Int?
    public var causal: Bool
    public var batch: Int
    /// The measured rows, by increasing n.
    public var rows: [MeasuredRow]

    /// The exponent of median time in n, when at least 3 points were measured.
    public var timeFit: ScalingFit? { fit(\.median) }
    /// The exponent of peak heap bytes in n.
    public var memoryFit: ScalingFit? { fit { $0.peakHeapBytes.map(Double.init) } }

    func fit(_ value: (MeasuredRow) -> Double?) -> ScalingFit? {
        let pairs = rows.compactMap { r in value(r).map { (Double(r.point.length), $0) } }
        guard pairs.count >= 3 else { return nil }
        return ScalingFit(x: pairs.map(\.0), y: pairs.map(\.1))
    }

    /// ` ∝ n^{2.01 ± 0.03}` (gnuplot enhanced text) for a legend; `variable` replaces n.
    public static func exponentLabel(_ fit: ScalingFit?, of variable: String = "n") -> String {
        guard let fit else { return "" }
        return " ∝ \(variable)^{" + Report.fit(fit) + "}"
    }

    /// Groups the measured forward-pass rows of a table into series, in a stable order (standard,
    /// Linformer by k, linear). Decode rows have their own figures (``Plotter/decodeSeries()``).
    public static func all(in table: ResultTable) -> [Series] {
        let ok = table.rows.filter { $0.isOK && $0.point.mode == .forward }
        let groups = Dictionary(grouping: ok) { r -> [String] in
            var p = r.point
            p.length = 0
            return p.keyFields
        }
        let order: [Mechanism: Int] = [.standard: 0, .linformer: 1, .linear: 2]
        return groups.values.map { rows in
            let p = rows[0].point
            var label = p.mechanism == .standard ? "softmax" : p.mechanism.rawValue
            if let k = p.projectedLength { label += " k=\(k)" }
            if p.causal { label += " causal" }
            return Series(label: label, mechanism: p.mechanism, projectedLength: p.projectedLength, causal: p.causal,
                          batch: p.batch, rows: rows.sorted { $0.point.length < $1.point.length })
        }.sorted {
            ($0.batch, $0.causal ? 1 : 0, order[$0.mechanism]!, $0.projectedLength ?? 0)
                < ($1.batch, $1.causal ? 1 : 0, order[$1.mechanism]!, $1.projectedLength ?? 0)
        }
    }
}

/// The standard-attention row at the same point as `row` (same n, batch, heads, d, threads, causal).
func standardRow(for row: MeasuredRow, in table: ResultTable) -> MeasuredRow? {
    var p = row.point
    p.mechanism = .standard
    p.projectedLength = nil
    p.sharing = nil
    return table.byKey[p.keyFields].flatMap { $0.isOK ? $0 : nil }
}
