import Analysis
import AttentionTypes
import Foundation
import Reporting
import Results

extension Plotter {
    // MARK: - Training steps against forward passes

    /// Time and peak heap per call against n (log-log) for each kernel measured with both passes: the
    /// training step (forward + backward) solid, with its fitted exponent in the legend, and the
    /// forward pass dashed in the same colour, at the smallest batch. The gap between the two memory
    /// curves is what a step holds for its backward: n² for softmax, a few n·d for causal linear.
    func training() -> (script: String, data: String)? {
        let all = analysis.trainingCurves().map { c in
            (
                label: c.label, key: c.key,
                points: c.points.filter { $0.forward?.median != nil && $0.train?.median != nil }
            )
        }.filter { $0.points.count >= 2 }
        guard let batch = all.map(\.key.batch).min() else { return nil }
        let curves = all.filter { $0.key.batch == batch }
        let ks = Self.linformerKs(curves.map(\.key))
        let ms = { (r: ResultRow?) in Self.number((r?.median ?? .nan) * 1e3) }
        let mib = { (r: ResultRow?) in Self.number(r?.peakHeapBytes.map { Double($0) / 1_048_576 } ?? .nan) }
        let blocks = curves.map { c in
            (
                c.label + " (n, forward_ms, train_ms, backward_ms, forward_heap_MiB, train_heap_MiB)",
                c.points.map { p in
                    "\(p.point.length) \(ms(p.forward)) \(ms(p.train)) \(ms(p.backward)) \(mib(p.forward)) \(mib(p.train))"
                }
            )
        }
        func plots(forward: Int, train: Int, fit: (ResultRow) -> Double?) -> String {
            curves.enumerated().flatMap { i, c -> [String] in
                let color = Self.color(c.key, linformerKs: ks)
                let rows = c.points.compactMap(\.train)
                let exponent = ScalingFit(x: rows.map { Double($0.point.length) }, y: rows.map { fit($0) ?? .nan })
                return [
                    "DATA index \(i) using 1:\(train) with linespoints pt \(Self.pointType(c.key)) ps 0.8 lw 2 lc rgb \"\(color)\" title \"\(Gnuplot.escape(c.label) + Series.exponentLabel(exponent))\"",
                    "DATA index \(i) using 1:\(forward) with linespoints pt 6 ps 0.6 lw 1 dt 2 lc rgb \"\(color)\" notitle",
                ]
            }.joined(separator: ", \\\n     ")
        }
        let body = """
            set multiplot layout 1,2 title "\(title("Training step (solid) against the forward pass (dashed), batch \(batch)", pass: .train))"
            set logscale xy 2
            set grid
            set key below left Left reverse font ",9" maxrows 4 height 1.5
            set xlabel "sequence length n"
            set title "time"
            set ylabel "time per call (ms)"
            plot \(plots(forward: 2, train: 3, fit: { $0.median }))
            set title "peak heap"
            set ylabel "peak heap per call (MiB)"
            plot \(plots(forward: 5, train: 6, fit: { $0.peakHeapBytes.map(Double.init) }))
            unset multiplot
            """
        let script = Gnuplot.script(
            folder: folder, name: "training", title: "training steps against forward passes", source: source,
            width: 1300, height: 720, body: body)
        return (script, Self.blocks(blocks))
    }
}
