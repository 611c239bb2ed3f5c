import AttentionKernels
import Foundation
import Harness
import Reporting

extension Plotter {
    // MARK: - Decode: "Transformers are RNNs" §4.2, generation

    /// The paper's generation speed-ups (`Data/rnn_generation.csv`): linear ÷ softmax images per
    /// second, placed at the number of tokens an image is generated in.
    public struct PaperGeneration: Equatable {
        public var dataset: String
        /// Tokens per image: MNIST 28×28 = 784 pixels, CIFAR-10 32×32×3 = 3072 sub-pixels.
        public var tokens: Int
        public var speedup: Double

        public init(dataset: String, tokens: Int, speedup: Double) {
            (self.dataset, self.tokens, self.speedup) = (dataset, tokens, speedup)
        }
    }

    public static func loadPaperGeneration(_ path: String) -> [PaperGeneration] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8), let parsed = try? CSV.parse(text) else { return [] }
        let tokens = ["MNIST": 784, "CIFAR-10": 3072]
        return parsed.rows.dropFirst().compactMap { r in
            guard r.count == 4, r[1] == "Linear", let n = tokens[r[0]], let speedup = Double(r[3]) else { return nil }
            return PaperGeneration(dataset: r[0], tokens: n, speedup: speedup)
        }
    }

    /// The decode rows measured, grouped into curves over N: one per mechanism at each (batch, heads,
    /// d, threads, prompt), by increasing N.
    func decodeSeries() -> [(label: String, rows: [MeasuredRow])] {
        let ok = table.rows.filter { $0.isOK && $0.point.mode == .decode }
        let groups = Dictionary(grouping: ok) { r -> [String] in
            var p = r.point
            p.length = 0
            return p.keyFields
        }
        let threadCounts = Set(ok.map(\.point.threads)).count
        return groups.values.map { rows in
            (Self.decodeLabel(rows[0].point, withThreads: threadCounts > 1), rows.sorted { $0.point.length < $1.point.length })
        }.sorted { $0.label < $1.label }
    }

    /// "softmax, KV cache" / "linear, RNN state", with the thread count when a run has several.
    static func decodeLabel(_ p: SweepPoint, withThreads: Bool) -> String {
        (p.mechanism == .standard ? "softmax, KV cache" : "linear, RNN state") + (withThreads ? threadsSuffix(p) : "")
    }

    /// ", 2 threads".
    static func threadsSuffix(_ p: SweepPoint) -> String { ", \(p.threads) thread\(p.threads == 1 ? "" : "s")" }

    /// Speed-up of linear over softmax decoding at each N: softmax time ÷ linear time for the same
    /// batch, heads, d, threads and prompt, with the thread count in the label when it varies.
    public func decodeSpeedups() -> [(label: String, points: [(n: Int, speedup: Double, softmax: MeasuredRow, linear: MeasuredRow)])] {
        let ok = table.rows.filter { $0.isOK && $0.point.mode == .decode }
        let softmax = Dictionary(ok.filter { $0.point.mechanism == .standard }.map { r -> ([String], MeasuredRow) in
            var p = r.point
            p.mechanism = .linear
            return (p.keyFields, r)
        }, uniquingKeysWith: { a, _ in a })
        let pairs = ok.filter { $0.point.mechanism == .linear }.compactMap { l in softmax[l.point.keyFields].map { (s: $0, l: l) } }
        let threadCounts = Set(pairs.map(\.l.point.threads)).count
        let groups = Dictionary(grouping: pairs) { pair -> [String] in
            var p = pair.l.point
            p.length = 0
            return p.keyFields
        }
        return groups.values.map { group in
            let p = group[0].l.point
            let label = "linear ÷ softmax" + (threadCounts > 1 ? Self.threadsSuffix(p) : "")
            return (label, group.map { (n: $0.l.point.length, speedup: $0.s.median! / $0.l.median!, softmax: $0.s, linear: $0.l) }
                .sorted { $0.n < $1.n })
        }.sorted { $0.label < $1.label }
    }

    /// One curve of per-token latency against position: a mechanism's longest decoded sequence.
    public struct LatencyCurve {
        public var label: String
        public var row: MeasuredRow
        public var samples: [TokenLatency.Sample]
        /// Samples from position N/64 (at least 16) on: where a step's cost is dominated by what
        /// grows with position, if anything.
        public var fitted: [TokenLatency.Sample]
        /// The first 4 octaves of `fitted` (N/64…N/4).
        public var lower: [TokenLatency.Sample]
        /// The log–log slope over `fitted` (the last 6 octaves).
        public var fit: ScalingFit?
        /// The same over `lower` only: a smaller KV cache, which may still be in a cache level that the
        /// end of a long sequence has left.
        public var lowerFit: ScalingFit?
    }

    public func decodeLatencyCurves() -> [LatencyCurve] {
        decodeSeries().compactMap { label, rows in
            guard let row = rows.last(where: { tokenLatency[$0.point.keyFields]?.isEmpty == false }) else { return nil }
            let samples = tokenLatency[row.point.keyFields]!
            let n = row.point.length
            let fitted = samples.filter { $0.position >= max(n / 64, 16) }
            let lower = fitted.filter { $0.position <= n / 4 }
            func fit(_ s: [TokenLatency.Sample]) -> ScalingFit? { ScalingFit(x: s.map { Double($0.position) }, y: s.map(\.median)) }
            return LatencyCurve(label: label, row: row, samples: samples, fitted: fitted, lower: lower, fit: fit(fitted),
                                lowerFit: fit(lower))
        }
    }

    /// Per-token latency against position, log–log, for each mechanism's longest decoded sequence,
    /// with the fitted slope in the legend: ≈ 1 for the KV cache (each step reads every cached row),
    /// ≈ 0 for the RNN state.
    func decodeLatency() -> (script: String, data: String)? {
        let curves = decodeLatencyCurves()
        guard curves.contains(where: { $0.row.point.mechanism == .standard }),
              curves.contains(where: { $0.row.point.mechanism == .linear }) else { return nil }
        let blocks = curves.map { c in
            ("\(c.label), N = \(c.row.point.length) (position, latency_median_us, latency_min_us)",
             c.samples.map { "\($0.position) \(Self.number($0.median * 1e6)) \(Self.number($0.min * 1e6))" })
        }
        let labels = curves.map(\.label)
        let plots = curves.enumerated().map { i, c in
            let slope = Series.exponentLabel(c.fit, of: "position")
            return "DATA index \(i) using 1:2 with linespoints pt 7 ps 0.6 lw 2 lc rgb \"\(Self.color(label: c.label, linformerLabels: labels))\" title \"\(Gnuplot.escape(c.label + ", N = \(c.row.point.length)"))\(slope)\""
        }
        let p = curves[0].row.point
        let body = """
            set title "\(Gnuplot.escape("Per-token decode latency against position — \(machine), b = \(p.batch), h = \(p.heads), d = \(p.headDim), one layer, fp32"))"
            set logscale xy 2
            set grid
            set key top left
            set xlabel "position (tokens generated so far, incl. this one)"
            set ylabel "latency of one step (µs, median over a window and all repetitions)"
            plot \(plots.joined(separator: ", \\\n     "))
            """
        let script = Gnuplot.script(folder: folder, name: "decode-latency", title: "per-token decode latency against position",
                                    source: source, width: 1100, height: 650, body: body)
        return (script, Self.blocks(blocks))
    }

    /// Left: speed-up of linear over softmax decoding against N (whole sequences), log–log, with the
    /// paper's MNIST and CIFAR-10 image-generation speed-ups marked at 784 and 3072 tokens. Right: the
    /// peak heap of one generation against N (the KV cache grows with N, the RNN state does not).
    func decodeSpeedup() -> (script: String, data: String)? {
        let speedups = decodeSpeedups().filter { $0.points.count >= 2 }
        guard !speedups.isEmpty else { return nil }
        let series = decodeSeries()
        var blocks: [(String, [String])] = speedups.map { s in
            (s.label + " (N, speedup)", s.points.map { "\($0.n) \(Self.number($0.speedup))" })
        }
        blocks.append(("paper: linear ÷ softmax images/s (tokens per image, speedup, label)", paperGeneration.map {
            "\($0.tokens) \(Self.number($0.speedup)) \"\($0.dataset) \(String(format: "%.0f", $0.speedup))×\""
        }))
        // Measured values at the paper's sizes, labelled.
        let marks = speedups[0].points.filter { p in paperGeneration.contains { $0.tokens == p.n } }
        blocks.append(("measured at the paper's sizes (N, speedup, label)", marks.map {
            "\($0.n) \(Self.number($0.speedup)) \"\(String(format: "%.1f", $0.speedup))×\""
        }))
        let memoryStart = blocks.count
        // Memory does not depend on the thread count: one thread count's curves.
        let fewestThreads = series.map { $0.rows[0].point.threads }.min()
        let memorySeries = series.filter { $0.rows[0].point.threads == fewestThreads }
        for s in memorySeries {
            blocks.append((s.label + " (N, peak_heap_KiB, model_KiB)", s.rows.map {
                "\($0.point.length) \(Self.number(Double($0.peakHeapBytes ?? 0) / 1024)) \(Self.number(Double($0.modelBytes ?? 0) / 1024))"
            }))
        }
        let labels = series.map(\.label)
        let speedupPlots = speedups.enumerated().map { i, s in
            "DATA index \(i) using 1:2 with linespoints pt 7 ps 0.8 lw 2 lc rgb \"#27ae60\" \(i > 0 ? "dt \(i + 1) " : "")title \"\(Gnuplot.escape(s.label + " (measured)"))\""
        } + [
            "DATA index \(speedups.count) using 1:2 with points pt 5 ps 1.6 lc rgb \"#7f8c8d\" title \"paper, whole models on a GPU (Tables 1–2)\"",
            "DATA index \(speedups.count) using 1:2:3 with labels offset char 0,1.2 font \",9\" notitle",
            "DATA index \(speedups.count + 1) using 1:2:3 with labels offset char 0,1.2 font \",9\" notitle",
        ]
        let memoryPlots = memorySeries.enumerated().flatMap { i, s in
            let color = Self.color(label: s.label, linformerLabels: labels)
            return [
                "DATA index \(memoryStart + i) using 1:2 with points pt 7 ps 1.0 lc rgb \"\(color)\" title \"\(Gnuplot.escape(s.label)), measured\"",
                "DATA index \(memoryStart + i) using 1:3 with lines dt 2 lw 2 lc rgb \"\(color)\" title \"\(Gnuplot.escape(s.label)), cost model\"",
            ]
        }
        let p = speedups[0].points[0].linear.point
        let body = """
            set multiplot layout 1,2 title "\(Gnuplot.escape("Decoding N tokens one at a time — \(machine), b = \(p.batch), h = \(p.heads), d = \(p.headDim), one layer, fp32"))"
            set logscale xy 2
            set grid
            set key bottom right font ",9"
            set xlabel "sequence length N (tokens generated)"
            set title "speed-up of linear over softmax (whole sequence)"
            set ylabel "softmax time ÷ linear time"
            set yrange [1:*]
            plot \(speedupPlots.joined(separator: ", \\\n     "))
            set key top left font ",9"
            set title "peak heap of one generation (measured to about 100 KB)"
            set ylabel "peak heap (KiB)"
            set yrange [*:*]
            plot \(memoryPlots.joined(separator: ", \\\n     "))
            unset multiplot
            """
        let script = Gnuplot.script(folder: folder, name: "decode-speedup", title: "decode speed-up and memory against N",
                                    source: source, width: 1300, height: 600, body: body)
        return (script, Self.blocks(blocks))
    }
}
