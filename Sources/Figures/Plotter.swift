import Analysis
import AttentionTypes
import Foundation
import Reporting
import Results

/// Writes the gnuplot scripts (`Plots/*.gp`) and the data files they read (`Plots/*.dat`) for an
/// analysed run. Each figure appears only when the table has the points it needs; otherwise a note
/// says why it was skipped.
public struct Plotter {
    public let analysis: Analysis
    /// Where the CSV came from, for the scripts' headers.
    public let source: String
    /// "AMD EPYC": for titles.
    public let machine: String
    /// The folder the scripts, data and images go in, relative to the repository root.
    public var folder = "Plots"

    public init(analysis: Analysis, source: String, machine: String) {
        self.analysis = analysis
        self.source = source
        self.machine = machine
    }

    var table: ResultTable { analysis.table }

    /// A written figure: script and data file names, or a note when it was skipped.
    public struct Output: Equatable {
        public var files: [String: String] = [:]  // file name → contents
        public var notes: [String] = []
        /// The figures not drawn this time (their files, left from an earlier run, are stale).
        public var skipped: [String] = []
    }

    public func render() -> Output {
        var out = Output()
        let builders: [(String, () -> (script: String, data: String)?)] = [
            ("scaling", scaling), ("efficiency", efficiency), ("batch-scaling", batchScaling),
            (figure1Name, rnnFigure1), ("training", training), ("table3", table3), ("decode-latency", decodeLatency),
            ("decode-speedup", decodeSpeedup),
        ]
        for (name, build) in builders {
            if let figure = build() {
                out.files["\(name).gp"] = figure.script
                out.files["\(name).dat"] = figure.data
            } else {
                out.notes.append("\(name): skipped, \(skipReason(name))")
                out.skipped.append(name)
            }
        }
        // The per-sample figure has one name per setup: the other name's files are stale.
        out.skipped.append(figure1Name == "rnn-figure1" ? "per-sample" : "rnn-figure1")
        return out
    }

    func skipReason(_ name: String) -> String {
        switch name {
        case "scaling", "efficiency": "no series with 2 or more lengths n"
        case "batch-scaling": "no n measured at 2 or more batch sizes for every mechanism"
        case "rnn-figure1", "per-sample":
            "needs softmax and linear attention at 2 or more n (the rnn-figure1 preset)"
        case "training": "needs a kernel's forward and training-step points at 2 or more n (the train preset)"
        case "decode-latency":
            "needs decode points of softmax and linear attention with latency samples (the rnn-generation preset)"
        case "decode-speedup": "needs softmax and linear decode points at 2 or more N (the rnn-generation preset)"
        default: "needs standard attention and Linformer at the same n for 2 or more k (the linformer-table3 preset)"
        }
    }

    // MARK: - Shared pieces

    /// The point type of a curve, the same in every figure: one per mechanism (circle, square,
    /// triangle, diamond, pentagon, by the registry's rank), so curves of similar colour (softmax and
    /// flash) stay apart where they overlap, and in a black-and-white print.
    /// Reformer's curves by hashing rounds (lsh-1, lsh-4, lsh-8) take filled, open and starred pentagons.
    package static func pointType(_ point: SweepPoint) -> Int {
        let types = [7, 5, 9, 13, 15, 11]
        if let rounds = point.hashRounds, let i = [4, 8].firstIndex(of: rounds) { return [14, 3][i] }
        return types[max(point.mechanism.descriptor.rank, 0) % types.count]
    }

    /// The colour of a curve, the same in every figure (``MechanismDescriptor/style``): one hue per
    /// mechanism, a second for its causal forward pass (decoding is causal by nature and keeps the
    /// first); a mechanism coloured by k (Linformer) takes its palette in the order of `linformerKs`.
    static func color(_ point: SweepPoint, linformerKs: [Int] = []) -> String {
        let style = point.mechanism.descriptor.style
        let palette = style.colors.isEmpty ? ["#000000"] : style.colors
        switch style.colorBy {
        case .projectedLength:
            let rank = point.projectedLength.flatMap { linformerKs.firstIndex(of: $0) } ?? 0
            return palette[rank % palette.count]
        case .hashRounds:
            let rank = point.hashRounds.map { [1, 4, 8].firstIndex(of: $0) ?? 0 } ?? 0
            return palette[rank % palette.count]
        case .causal:
            return palette[point.causal && point.mode == .forward && palette.count > 1 ? 1 : 0]
        }
    }

    /// The k values of some curves coloured by k (Linformer's), in their order (without repeats).
    static func linformerKs(_ points: [SweepPoint]) -> [Int] {
        var ks: [Int] = []
        for p in points where p.mechanism.descriptor.style.colorBy == .projectedLength {
            if let k = p.projectedLength, !ks.contains(k) { ks.append(k) }
        }
        return ks
    }

    func color(_ s: Series, among all: [Series]) -> String {
        Self.color(s.key, linformerKs: Self.linformerKs(all.map(\.key)))
    }

    var threadsLabel: String {
        let threads = Set(table.rows.map(\.point.threads)).sorted().map(String.init).joined(separator: ",")
        return "\(threads) thread\(threads == "1" ? "" : "s")"
    }

    /// A figure's title: what it shows, then the machine, threads and the pass it shows (by default
    /// ``Analysis/primaryPass``, the pass of the one-pass figures).
    func title(_ what: String, pass: Pass? = nil) -> String {
        Gnuplot.escape(
            "\(what) — \(machine), \(threadsLabel), \(analysis.scopeText), fp32 \(Self.passText(pass ?? analysis.primaryPass))"
        )
    }

    /// How a title names a pass: "forward", "backward", "forward + backward".
    static func passText(_ pass: Pass) -> String {
        switch pass {
        case .forward: "forward"
        case .backward: "backward"
        case .train: "forward + backward"
        }
    }

    /// Blocks of whitespace-separated columns, two blank lines apart (gnuplot's `index`).
    ///
    /// gnuplot counts only blocks that hold a data line: an empty block (no paper data, no
    /// measured N at the paper's sizes, no memory cells) would shift every later `index` onto the
    /// wrong curve, or past the end ("x range is invalid"). An empty block therefore holds one
    /// `nan` line: a record, but no point.
    static func blocks(_ blocks: [(comment: String, lines: [String])]) -> String {
        blocks.map { "# \($0.comment)\n" + ($0.lines.isEmpty ? "nan" : $0.lines.joined(separator: "\n")) }
            .joined(separator: "\n\n\n") + "\n"
    }

    static func number(_ x: Double) -> String { String(format: "%.6g", x) }

    /// `bytes` ÷ 2²⁰, or NaN when not measured: the data file then holds `nan`, which gnuplot reads
    /// as an invalid point (not drawn, and a gap in a line through it), never as 0.
    static func mib(_ bytes: Int?) -> Double { bytes.map { Double($0) / 1_048_576 } ?? .nan }

    /// `bytes` ÷ 2¹⁰, or NaN when not measured (see ``mib(_:)``).
    static func kib(_ bytes: Int?) -> Double { bytes.map { Double($0) / 1024 } ?? .nan }

    // MARK: - Figure 3: time and memory against n, one panel per k

    /// A peer's series in the table itself (plotting `Results/peers.csv`, one session) are drawn
    /// in their mechanism's colour with their framework's dash and point (``lineStyle(_:pointType:)``);
    /// a peers file beside another run is never drawn.
    func scaling() -> (script: String, data: String)? {
        let pass = analysis.primaryPass
        let series = Series.all(in: table).filter {
            $0.rows.count >= 2 && !$0.causal && $0.key.pass == pass
        }
        guard let batch = series.map(\.batch).min() else { return nil }
        let atBatch = series.filter { $0.batch == batch }
        let ks = Set(atBatch.compactMap(\.projectedLength)).sorted()
        let panels: [Int?] = ks.isEmpty ? [nil] : ks.map { $0 }
        var blocks: [(String, [String])] = []
        var index: [String: Int] = [:]
        for s in atBatch {
            index[s.label] = blocks.count
            blocks.append(
                (
                    s.label + " (n, time_ms, peak_heap_MiB)",
                    s.rows.map {
                        let (ms, mib) = (($0.median ?? .nan) * 1e3, Self.mib($0.peakHeapBytes))
                        return "\($0.point.length) \(Self.number(ms)) \(Self.number(mib))"
                    }
                ))
        }
        // More than 6 lengths in a panel of a 3-or-more grid do not fit side by side: slanted labels.
        let lengths = Set(atBatch.flatMap { $0.rows.map(\.point.length) }).count
        let slanted = lengths > 6 && panels.count >= 3
        var body = """
            set multiplot layout 2,\(panels.count) title "\(title("Time and peak heap against n, batch \(batch)"))"
            set logscale xy 2
            set grid
            set key below left Left reverse font ",9" maxrows 4 height 1.5
            """
        if slanted { body += "\nset xtics rotate by 45 right font \",9\"" }
        for (row, (column, ylabel)) in [(2, "time per call (ms)"), (3, "peak heap per call (MiB)")].enumerated() {
            // One y-range for every panel of the row, so the panels compare at a glance.
            let values = atBatch.flatMap { s in
                s.rows.map { row == 0 ? ($0.median ?? .nan) * 1e3 : Self.mib($0.peakHeapBytes) }
            }
            body += "\nset yrange \(Self.logRange(values))"
            for k in panels {
                let members = atBatch.filter { s in
                    let inPanel = !s.mechanism.descriptor.axes.contains(.projectedLength) || s.projectedLength == k
                    return inPanel && (row == 0 || s.rows.allSatisfy { $0.peakHeapBytes != nil })
                }
                let fitLabel = { (s: Series) in
                    Gnuplot.escape(s.label)
                        + (row == 0 ? Series.exponentLabel(s.timeFit) : Series.exponentLabel(s.memoryFit))
                }
                let plots = members.map { s in
                    let pt = Self.pointType(s.key)
                    let style = Self.lineStyle(s.key.peer, pointType: pt)
                    return
                        "DATA index \(index[s.label] ?? 0) using 1:\(column) with linespoints \(style) lc rgb \"\(color(s, among: atBatch))\" title \"\(fitLabel(s))\""
                }
                body += """

                    set title "\(k.map { "Linformer k = \($0)" } ?? "all mechanisms")"
                    set xlabel "sequence length n"
                    set ylabel "\(ylabel)"
                    plot \(plots.joined(separator: ", \\\n     "))
                    """
            }
        }
        body += "\nunset multiplot"
        let script = Gnuplot.script(
            folder: folder, name: "scaling", title: "time and peak heap against n", source: source,
            width: max(420 * panels.count + 120, 960), height: 1040, body: body)
        return (script, Self.blocks(blocks))
    }

    /// How each framework's curves are drawn: gnuplot's dash type and point type (nil: the
    /// mechanism's own point type less one, its open form). attnbench's are solid with the
    /// mechanism's point; PyTorch's keep the dashes they had before other peers were measured.
    static let peerStyles: [Peer: (dashType: Int, pointType: Int?)] = [
        .pytorch: (2, nil), .onnxruntime: (3, 12), .openvino: (4, 10), .jax: (5, 14), .fastTransformers: (6, 8),
    ]

    /// The gnuplot style of a curve of `peer` (nil: attnbench's own) whose mechanism's point type is `pt`.
    static func lineStyle(_ peer: Peer?, pointType pt: Int) -> String {
        guard let peer, let style = peerStyles[peer] else { return "pt \(pt) ps 0.8 lw 2" }
        return "pt \(style.pointType ?? pt - 1) ps 0.8 lw 2 dt \(style.dashType)"
    }

    /// `[lo:hi]` for a base-2 log axis holding every positive finite value (powers of two around
    /// them), or `[*:*]` when there is none: panels of one grid set it alike.
    public static func logRange(_ values: [Double]) -> String {
        let positive = values.filter { $0.isFinite && $0 > 0 }
        guard let low = positive.min(), let high = positive.max() else { return "[*:*]" }
        let (a, b) = (log2(low).rounded(.down), log2(high).rounded(.up))
        return "[\(number(exp2(a))):\(number(exp2(b == a ? a + 1 : b)))]"
    }

    // MARK: - Figure 4: efficiency against n

    /// One panel, or two when there are causal curves (full attention, then causal): a peers file's
    /// 36 curves in one panel hid one another and pushed the legend over the title. A peer's curves
    /// take their framework's dash and point (``lineStyle(_:pointType:)``), as in the scaling figure.
    func efficiency() -> (script: String, data: String)? {
        let pass = analysis.primaryPass
        let series = Series.all(in: table).filter {
            $0.rows.count >= 2 && $0.key.pass == pass && $0.rows.allSatisfy { $0.efficiency != nil }
        }
        guard let batch = series.map(\.batch).min() else { return nil }
        let atBatch = series.filter { $0.batch == batch }
        let blocks = atBatch.map { s in
            (s.label + " (n, efficiency)", s.rows.map { "\($0.point.length) \(Self.number($0.efficiency ?? .nan))" })
        }
        let ceiling = table.rows.compactMap(\.ceilingGflops).first.map { String(format: "%.0f", $0) } ?? "?"
        let panels = [false, true].filter { causal in atBatch.contains { $0.causal == causal } }
        let split = panels.count > 1
        let heading = title("Efficiency: GFLOP/s ÷ in-run sgemm ceiling (\(ceiling) GF/s), batch \(batch)")
        // Both panels on one scale, up to the next tenth above the highest point.
        let top = atBatch.flatMap { $0.rows.compactMap(\.efficiency) }.filter(\.isFinite).max()
        let yrange = split ? top.map { "[0:\(Self.number(($0 * 10).rounded(.down) / 10 + 0.1))]" } : nil
        var body = split ? "set multiplot layout 1,\(panels.count) title \"\(heading)\"\n" : ""
        body += """
            set logscale x 2
            set yrange \(yrange ?? "[0:*]")
            set grid
            set key below left Left reverse font ",9" maxrows \(split ? 10 : 4) height 1.5
            set xlabel "sequence length n"
            set ylabel "fraction of the sgemm ceiling"
            """
        for causal in panels {
            let plots = atBatch.enumerated().filter { $0.element.causal == causal }.map { i, s in
                let style = Self.lineStyle(s.key.peer, pointType: Self.pointType(s.key))
                return
                    "DATA index \(i) using 1:2 with linespoints \(style) lc rgb \"\(color(s, among: atBatch))\" title \"\(Gnuplot.escape(s.label))\""
            }
            let panelTitle = split ? (causal ? "causal" : "full (not causal)") : heading
            body += "\nset title \"\(panelTitle)\"\nplot \(plots.joined(separator: ", \\\n     "))"
        }
        if split { body += "\nunset multiplot" }
        let script = Gnuplot.script(
            folder: folder, name: "efficiency", title: "efficiency against n", source: source,
            width: split ? 1300 : 1100, height: split ? 900 : 640, body: body)
        return (script, Self.blocks(blocks))
    }

    // MARK: - Figure 5: batch scaling at fixed n

    func batchScaling() -> (script: String, data: String)? {
        guard let (n, curves) = analysis.batchCurves() else { return nil }
        let ks = Self.linformerKs(curves.map(\.key))
        let blocks = curves.map { c in
            (
                c.label + " (batch, time_ms, peak_heap_MiB)",
                c.rows.map {
                    "\($0.point.batch) \(Self.number(($0.median ?? .nan) * 1e3)) \(Self.number(Self.mib($0.peakHeapBytes)))"
                }
            )
        }
        func plots(_ column: Int) -> String {
            curves.enumerated().map { i, c in
                "DATA index \(i) using 1:\(column) with linespoints pt \(Self.pointType(c.key)) ps 0.8 lw 2 lc rgb \"\(Self.color(c.key, linformerKs: ks))\" title \"\(Gnuplot.escape(c.label))\""
            }.joined(separator: ", \\\n     ")
        }
        let body = """
            set multiplot layout 1,2 title "\(title("Batch scaling at n = \(n)"))"
            set logscale xy 2
            set grid
            set key below left Left reverse font ",9" maxcols 2 maxrows \((curves.count + 1) / 2) height 1.5
            set xlabel "batch"
            set ylabel "time per call (ms)"
            set title "time"
            plot \(plots(2))
            set ylabel "peak heap per call (MiB)"
            set title "peak heap"
            plot \(plots(3))
            unset multiplot
            """
        let script = Gnuplot.script(
            folder: folder, name: "batch-scaling", title: "time and memory against batch", source: source, width: 1200,
            height: 640 + 16 * ((curves.count + 1) / 2), body: body)
        return (script, Self.blocks(blocks))
    }
}

extension Series {
    /// ` ∝ n^{2.01 ± 0.03}` (gnuplot enhanced text) for a legend; `variable` replaces n.
    static func exponentLabel(_ fit: ScalingFit?, of variable: String = "n") -> String {
        guard let fit else { return "" }
        return " ∝ \(variable)^{" + Report.fit(fit) + "}"
    }
}
