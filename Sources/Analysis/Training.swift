import AttentionTypes
import Results

/// One kernel at one point, its passes side by side: the forward pass, the backward pass alone (given
/// a saved forward) and the training step (forward + backward), as measured in one run.
public struct TrainingComparison: Sendable {
    /// The forward pass's point (the others differ only in `pass`).
    public var point: SweepPoint
    public var forward: ResultRow?
    public var backward: ResultRow?
    public var train: ResultRow?

    /// Backward time ÷ forward time (medians).
    public var backwardRatio: Double? { Self.ratio(backward?.median, forward?.median) }
    /// Training-step time ÷ forward time.
    public var trainRatio: Double? { Self.ratio(train?.median, forward?.median) }
    /// Training-step peak heap ÷ forward peak heap.
    public var trainHeapRatio: Double? {
        Self.ratio(train?.peakHeapBytes.map(Double.init), forward?.peakHeapBytes.map(Double.init))
    }

    static func ratio(_ a: Double?, _ b: Double?) -> Double? {
        guard let a, let b, b > 0 else { return nil }
        return a / b
    }
}

extension Analysis {
    /// Every forward-mode point measured with a backward or training pass, with its passes, in series
    /// order (batch, non-causal first, standard, Linformer by k, linear) and by increasing n.
    public func trainingComparisons() -> [TrainingComparison] {
        let ok = measured.filter { $0.point.mode == .forward }
        let byPoint = Dictionary(grouping: ok) { row -> SweepPoint in
            var p = row.point
            p.pass = .forward
            return p
        }
        return byPoint.compactMap { point, rows -> TrainingComparison? in
            let pass = { (p: Pass) in rows.first { $0.point.pass == p } }
            guard pass(.backward) != nil || pass(.train) != nil else { return nil }
            return TrainingComparison(
                point: point, forward: pass(.forward), backward: pass(.backward), train: pass(.train))
        }.sorted { a, b in
            let (p, q) = (a.point, b.point)
            let (ra, rb) = (p.mechanismRank, q.mechanismRank)
            return (p.batch, p.causal ? 1 : 0, ra.0, ra.1, p.series.keyFields.joined(), p.length)
                < (q.batch, q.causal ? 1 : 0, rb.0, rb.1, q.series.keyFields.joined(), q.length)
        }
    }

    /// The comparisons as curves over n: one per kernel (everything but n), in the same order.
    public func trainingCurves() -> [(label: String, key: SweepPoint, points: [TrainingComparison])] {
        var curves: [(label: String, key: SweepPoint, points: [TrainingComparison])] = []
        for comparison in trainingComparisons() {
            let key = comparison.point.series
            if let last = curves.indices.last, curves[last].key == key {
                curves[last].points.append(comparison)
            } else {
                curves.append((key.kernelLabel, key, [comparison]))
            }
        }
        return curves
    }
}
