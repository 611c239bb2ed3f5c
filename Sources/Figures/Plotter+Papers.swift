import Analysis
import AttentionTypes
import Foundation
import Reporting
import Results

extension Plotter {
    // MARK: - Figure 2: "Transformers are RNNs" Figure 1

    /// Per-sample time and peak heap against N, log-log, at each N's largest batch (the rnn-figure1
    /// preset scales the batch inversely with N), with reference slopes n and n² and each curve's
    /// fitted exponent in its legend. It shows training steps (forward + backward) when the run has
    /// them, as the paper's does (``Analysis/figure1Pass``), else forward passes. Softmax's curve
    /// ends where its points were skipped for memory, as the paper's does.
    /// The per-sample figure's file name: `rnn-figure1` for the paper's experiment, else `per-sample`.
    var figure1Name: String { analysis.isFigure1Setup ? "rnn-figure1" : "per-sample" }

    func rnnFigure1() -> (script: String, data: String)? {
        let curves = analysis.perSampleCurves()
        let pass = analysis.figure1Pass
        guard let softmax = curves.first(where: { $0.key.mechanism == .standard })?.rows, softmax.count >= 2,
            let linear = curves.first(where: { $0.key.mechanism == .linear })?.rows, linear.count >= 2
        else { return nil }
        let (s0, sLast, l0) = (softmax[0], softmax[softmax.count - 1], linear[0])
        let ks = Self.linformerKs(curves.map(\.key))
        let batches = Set(linear.map(\.point.batch))
        let batchText = batches.count > 1 ? "batch ∝ 1/N" : "batch \(linear[0].point.batch)"
        let perSample = { (r: ResultRow) in
            ((r.median ?? .nan) * 1e3 / Double(r.point.batch), Self.mib(r.peakHeapBytes) / Double(r.point.batch))
        }
        let blocks = curves.map { c in
            (
                c.label + " (N, batch, time_per_sample_ms, peak_heap_per_sample_MiB)",
                c.rows.map { r in
                    "\(r.point.length) \(r.point.batch) \(Self.number(perSample(r).0)) \(Self.number(perSample(r).1))"
                }
            )
        }
        // Named after the paper's figure only when it is the paper's experiment (``Analysis/isFigure1Setup``).
        let heading =
            analysis.isFigure1Setup
            ? "\"Transformers are RNNs\" Figure 1: per sample, \(batchText)"
            : "Per sample against N, \(batchText) (not Figure 1's setup: a training step at batch ∝ 1/N)"
        let skipped = analysis.standardMemoryLimit()
        func plots(_ column: Int, _ anchor: (Double, Double)) -> String {
            let lines = curves.enumerated().map { i, c in
                let fits = Analysis.perSampleFits(c.rows)
                let fit = Series.exponentLabel(column == 3 ? fits.time : fits.memory, of: "N")
                return
                    "DATA index \(i) using 1:\(column) with linespoints pt \(Self.pointType(c.key)) ps 0.9 lw 2 lc rgb \"\(Self.color(c.key, linformerKs: ks))\" title \"\(Gnuplot.escape(c.label) + fit)\""
            }
            // A guide anchored on a value not measured (a peer's heap) is left out, never drawn from NaN.
            let refs = [
                anchor.0.isFinite
                    ? "[\(s0.point.length):\(sLast.point.length)] \(Self.number(anchor.0))*(x/\(s0.point.length))**2 with lines dt 3 lc rgb \"#7f8c8d\" title \"∝ n^2\""
                    : nil,
                anchor.1.isFinite
                    ? "\(Self.number(anchor.1))*(x/\(l0.point.length)) with lines dt 2 lc rgb \"#7f8c8d\" title \"∝ n\""
                    : nil,
            ].compactMap { $0 }
            return (lines + refs).joined(separator: ", \\\n     ")
        }
        let note =
            skipped.map {
                "set label 1 \"softmax: N ≥ \($0) over the memory budget\" at graph 0.03, graph 0.94 font \",9\""
            } ?? "unset label 1"
        let body = """
            set multiplot layout 1,2 title "\(title(heading, pass: pass))"
            set logscale xy 2
            set grid
            set key below left Left reverse font ",9" maxrows 4 height 1.5
            set xlabel "sequence length N"
            \(note)
            set title "time"
            set ylabel "time per sample (ms)"
            plot \(plots(3, (perSample(s0).0, perSample(l0).0)))
            set title "memory"
            set ylabel "peak heap per sample (MiB)"
            plot \(plots(4, (perSample(s0).1, perSample(l0).1)))
            unset multiplot
            """
        let script = Gnuplot.script(
            folder: folder, name: figure1Name, title: "per-sample time and memory against N", source: source,
            width: 1300, height: 680, body: body)
        return (script, Self.blocks(blocks))
    }

    // MARK: - Figure 1: Linformer Table 3

    static let table3N = [512, 1024, 2048, 4096, 8192, 16384, 32768, 65536]
    static let table3K = [128, 256, 512, 1024, 2048]

    func table3() -> (script: String, data: String)? {
        let cells = analysis.table3Cells()
        let onGrid = cells.time.filter { Self.table3N.contains($0.n) && Self.table3K.contains($0.k) }
        guard onGrid.count >= 2 else { return nil }
        func lines(_ cells: [Table3Cell]) -> [String] {
            cells.filter { Self.table3N.contains($0.n) && Self.table3K.contains($0.k) }.map { c in
                let text = c.value >= 10 ? String(format: "%.0fx", c.value) : String(format: "%.1fx", c.value)
                return
                    "\(Self.table3K.firstIndex(of: c.k) ?? 0) \(Self.table3N.firstIndex(of: c.n) ?? 0) \(Self.number(c.value)) \"\(text)\""
            }
        }
        let paperTime = analysis.paperTable3.compactMap { p in p.timeSaved.map { Table3Cell(n: p.n, k: p.k, value: $0) }
        }
        let paperMemory = analysis.paperTable3.compactMap { p in
            p.memorySaved.map { Table3Cell(n: p.n, k: p.k, value: $0) }
        }
        var dashes: [String] = []
        for (y, n) in Self.table3N.enumerated() {
            for (x, k) in Self.table3K.enumerated() where k >= n { dashes.append("\(x) \(y)") }
        }
        // A row without cells says why across its width (standard attention's skipped row).
        let blank = analysis.table3BlankRows()
        func reasons(_ rows: [(n: Int, reason: String)]) -> [String] {
            rows.compactMap { r in
                Self.table3N.firstIndex(of: r.n).map {
                    "2 \($0) \"\(Gnuplot.escape("no standard point: " + r.reason))\""
                }
            }
        }
        let blocks: [(String, [String])] = [
            ("measured time saved (k_index, n_index, ratio, label)", lines(cells.time)),
            ("paper time saved", lines(paperTime)),
            ("measured memory saved", lines(cells.memory)),
            ("paper memory saved", lines(paperMemory)),
            ("k >= n: the paper's dashes (k_index, n_index)", dashes),
            ("measured time saved: rows without cells (k_index, n_index, why)", reasons(blank.time)),
            ("measured memory saved: rows without cells (k_index, n_index, why)", reasons(blank.memory)),
        ]
        let memoryTitle =
            cells.memoryIsBatchRatio
            ? "measured memory saved (max-batch ratio)" : "measured memory saved (peak-heap ratio, not max batch)"
        let xtics = Self.table3K.enumerated().map { "\"\($1)\" \($0)" }.joined(separator: ", ")
        let ytics = Self.table3N.enumerated().map { "\"\($1)\" \($0)" }.joined(separator: ", ")
        func panel(_ index: Int, _ name: String, blanks: Int? = nil, count: Int = 0) -> String {
            let why =
                blanks.map { b in
                    count == 0
                        ? ""
                        : ", \\\n     DATA index \(b) using 1:2:3 with labels font \",8\" tc rgb \"#7f8c8d\" notitle"
                } ?? ""
            return """
                set title "\(Gnuplot.escape(name))"
                plot DATA index \(index) using 1:2:(0.5):(0.5):3 with boxxyerror fs solid 1.0 noborder lc palette notitle, \\
                     DATA index \(index) using 1:2:4 with labels font ",9" notitle, \\
                     DATA index 4 using 1:2:("–") with labels tc rgb "#7f8c8d" notitle\(why)
                """
        }
        let body = """
            set multiplot layout 2,2 title "\(title("Linformer Table 3: ratios over standard attention"))"
            set xrange [-0.5:4.5]
            set yrange [-0.5:7.5]
            set xtics (\(xtics))
            set ytics (\(ytics))
            set xlabel "projected length k"
            set ylabel "sequence length n"
            set logscale cb
            set cbrange [1:64]
            set palette defined (0 "#f7fbff", 1 "#6baed6", 2 "#08306b")
            set style fill solid
            unset key
            \(panel(0, "measured time saved (batch \(table.measured.map(\.point.batch).min() ?? 1), time ratio)", blanks: 5, count: blank.time.count))
            \(panel(1, "paper: time saved (V100, whole model)"))
            \(panel(2, memoryTitle, blanks: 6, count: blank.memory.count))
            \(panel(3, "paper: memory saved (max-batch ratio, 16 GB)"))
            unset multiplot
            """
        let script = Gnuplot.script(
            folder: folder, name: "table3", title: "Linformer Table 3 reproduction", source: source, width: 1200,
            height: 1000, body: body)
        return (script, Self.blocks(blocks))
    }
}
