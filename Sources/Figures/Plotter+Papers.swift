import AttentionKernels
import Foundation
import Harness
import Reporting

extension Plotter {
    // MARK: - Figure 2: "Transformers are RNNs" Figure 1

    /// Per-sample time and peak heap against N, log-log, at each N's largest batch (the rnn-figure1
    /// preset scales the batch inversely with N), with reference slopes n and n². Softmax's curve
    /// ends where its points were skipped for memory, as the paper's does.
    func rnnFigure1() -> (script: String, data: String)? {
        let ok = table.rows.filter { $0.isOK && !$0.point.causal }
        let groups = Dictionary(grouping: ok) { r -> String in
            var label = r.point.mechanism == .standard ? "softmax" : r.point.mechanism.rawValue
            if let k = r.point.projectedLength { label += " k=\(k)" }
            return label
        }
        let perN = groups.mapValues { rows in
            Dictionary(grouping: rows, by: \.point.length).values.map { $0.max { $0.point.batch < $1.point.batch }! }
                .sorted { $0.point.length < $1.point.length }
        }
        guard let softmax = perN["softmax"], softmax.count >= 2, let linear = perN["linear"], linear.count >= 2 else { return nil }
        let labels = perN.keys.sorted { a, b in
            let rank = { (l: String) in l == "softmax" ? 0 : (l == "linear" ? 1 : 2) }
            return (rank(a), a.count, a) < (rank(b), b.count, b)
        }
        let batches = Set(linear.map(\.point.batch))
        let batchText = batches.count > 1 ? "batch ∝ 1/N" : "batch \(batches.first!)"
        let blocks = labels.map { label in
            (label + " (N, batch, time_per_sample_ms, peak_heap_per_sample_MiB)", perN[label]!.map { r in
                let b = Double(r.point.batch)
                return "\(r.point.length) \(r.point.batch) \(Self.number(r.median! * 1e3 / b)) \(Self.number(Double(r.peakHeapBytes ?? 0) / b / 1_048_576))"
            })
        }
        let skipped = table.rows.filter { $0.point.mechanism == .standard && !$0.point.causal && $0.reason.hasPrefix("memory") }
            .map(\.point.length).min()
        let (s0, l0) = (softmax[0], linear[0])
        let perSample = { (r: MeasuredRow) in (r.median! * 1e3 / Double(r.point.batch), Double(r.peakHeapBytes ?? 0) / Double(r.point.batch) / 1_048_576) }
        func plots(_ column: Int, _ anchor: (Double, Double)) -> String {
            let curves = labels.enumerated().map { i, label in
                "DATA index \(i) using 1:\(column) with linespoints pt 7 ps 0.9 lw 2 lc rgb \"\(Self.color(label: label, linformerLabels: labels.filter { $0.hasPrefix("linformer") }))\" title \"\(Gnuplot.escape(label))\""
            }
            let refs = [
                "[\(s0.point.length):\(softmax.last!.point.length)] \(Self.number(anchor.0))*(x/\(s0.point.length))**2 with lines dt 3 lc rgb \"#7f8c8d\" title \"∝ n^2\"",
                "\(Self.number(anchor.1))*(x/\(l0.point.length)) with lines dt 2 lc rgb \"#7f8c8d\" title \"∝ n\"",
            ]
            return (curves + refs).joined(separator: ", \\\n     ")
        }
        let note = skipped.map { "set label 1 \"softmax: N ≥ \($0) over the memory budget\" at graph 0.03, graph 0.94 font \",9\"" } ?? "unset label 1"
        let body = """
            set multiplot layout 1,2 title "\(title("\"Transformers are RNNs\" Figure 1: per sample, \(batchText)"))"
            set logscale xy 2
            set grid
            set key bottom right font ",9"
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
        let script = Gnuplot.script(folder: folder, name: "rnn-figure1", title: "per-sample time and memory against N", source: source, width: 1300, height: 580, body: body)
        return (script, Self.blocks(blocks))
    }

    // MARK: - Figure 1: Linformer Table 3

    /// The measured cells of Table 3: time saved (standard ÷ Linformer time at the same n and
    /// batch, the smallest batch measured) and memory saved (max-batch ratio when max-batch results
    /// are given, else the peak-heap ratio at that batch).
    public func table3Cells() -> (time: [Cell], memory: [Cell], memoryIsBatchRatio: Bool) {
        let ok = table.rows.filter { $0.isOK && !$0.point.causal }
        guard let batch = ok.map(\.point.batch).min() else { return ([], [], false) }
        var time: [Cell] = [], memory: [Cell] = []
        for lf in ok where lf.point.mechanism == .linformer && lf.point.batch == batch {
            guard let std = standardRow(for: lf, in: table), let k = lf.point.projectedLength else { continue }
            time.append(Cell(n: lf.point.length, k: k, value: std.median! / lf.median!))
            if maxBatch == nil, let sh = std.peakHeapBytes, let lh = lf.peakHeapBytes {
                memory.append(Cell(n: lf.point.length, k: k, value: Double(sh) / Double(lh)))
            }
        }
        if let maxBatch {
            // columns: mechanism, sharing, n, k, ..., max_batch (index 12)
            let std = Dictionary(maxBatch.filter { $0[0] == "standard" && !$0[12].isEmpty }.map { ($0[2], Double($0[12])!) }, uniquingKeysWith: max)
            for row in maxBatch where row[0] == "linformer" && !row[12].isEmpty {
                if let s = std[row[2]], let n = Int(row[2]), let k = Int(row[3]) {
                    memory.append(Cell(n: n, k: k, value: Double(row[12])! / s))
                }
            }
        }
        return (time, memory, maxBatch != nil)
    }

    public struct Cell: Equatable {
        public var n, k: Int
        public var value: Double
    }

    static let table3N = [512, 1024, 2048, 4096, 8192, 16384, 32768, 65536]
    static let table3K = [128, 256, 512, 1024, 2048]

    func table3() -> (script: String, data: String)? {
        let cells = table3Cells()
        let onGrid = cells.time.filter { Self.table3N.contains($0.n) && Self.table3K.contains($0.k) }
        guard onGrid.count >= 2 else { return nil }
        func lines(_ cells: [Cell]) -> [String] {
            cells.filter { Self.table3N.contains($0.n) && Self.table3K.contains($0.k) }.map { c in
                let text = c.value >= 10 ? String(format: "%.0fx", c.value) : String(format: "%.1fx", c.value)
                return "\(Self.table3K.firstIndex(of: c.k)!) \(Self.table3N.firstIndex(of: c.n)!) \(Self.number(c.value)) \"\(text)\""
            }
        }
        let paperTime = paperTable3.compactMap { p in p.timeSaved.map { Cell(n: p.n, k: p.k, value: $0) } }
        let paperMemory = paperTable3.compactMap { p in p.memorySaved.map { Cell(n: p.n, k: p.k, value: $0) } }
        var dashes: [String] = []
        for (y, n) in Self.table3N.enumerated() { for (x, k) in Self.table3K.enumerated() where k >= n { dashes.append("\(x) \(y)") } }
        let blocks: [(String, [String])] = [
            ("measured time saved (k_index, n_index, ratio, label)", lines(cells.time)),
            ("paper time saved", lines(paperTime)),
            ("measured memory saved", lines(cells.memory)),
            ("paper memory saved", lines(paperMemory)),
            ("k >= n: the paper's dashes (k_index, n_index)", dashes),
        ]
        let memoryTitle = cells.memoryIsBatchRatio ? "measured memory saved (max-batch ratio)" : "measured memory saved (peak-heap ratio, not max batch)"
        let xtics = Self.table3K.enumerated().map { "\"\($1)\" \($0)" }.joined(separator: ", ")
        let ytics = Self.table3N.enumerated().map { "\"\($1)\" \($0)" }.joined(separator: ", ")
        func panel(_ index: Int, _ name: String) -> String {
            """
            set title "\(Gnuplot.escape(name))"
            plot DATA index \(index) using 1:2:(0.5):(0.5):3 with boxxyerror fs solid 1.0 noborder lc palette notitle, \\
                 DATA index \(index) using 1:2:4 with labels font ",9" notitle, \\
                 DATA index 4 using 1:2:("–") with labels tc rgb "#7f8c8d" notitle
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
            \(panel(0, "measured time saved (batch \(table.rows.filter(\.isOK).map(\.point.batch).min() ?? 1), time ratio)"))
            \(panel(1, "paper: time saved (V100, whole model)"))
            \(panel(2, memoryTitle))
            \(panel(3, "paper: memory saved (max-batch ratio, 16 GB)"))
            unset multiplot
            """
        let script = Gnuplot.script(folder: folder, name: "table3", title: "Linformer Table 3 reproduction", source: source, width: 1200, height: 1000, body: body)
        return (script, Self.blocks(blocks))
    }

    /// Reads `Data/linformer_table3.csv` (n,k,time_saved,memory_saved; empty cells are dashes).
    public static func loadPaperTable3(_ path: String) -> [PaperCell] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8), let parsed = try? CSV.parse(text) else { return [] }
        return parsed.rows.dropFirst().compactMap { r in
            guard r.count == 4, let n = Int(r[0]), let k = Int(r[1]) else { return nil }
            return PaperCell(n: n, k: k, timeSaved: Double(r[2]), memorySaved: Double(r[3]))
        }
    }
}
