import Analysis
import AttentionTypes
import Foundation
import Reporting
import Results

extension Plotter {
    // MARK: - Decode: "Transformers are RNNs" §4.2, generation

    /// Per-token latency against position, log–log, for each mechanism's longest decoded sequence,
    /// with the fitted slope in the legend: ≈ 1 for the KV cache (each step reads every cached row),
    /// ≈ 0 for the RNN state.
    func decodeLatency() -> (script: String, data: String)? {
        let curves = analysis.decodeLatencyCurves()
        guard curves.contains(where: { $0.row.point.mechanism == .standard }),
            curves.contains(where: { $0.row.point.mechanism == .linear })
        else { return nil }
        let blocks = curves.map { c in
            (
                "\(c.label), N = \(c.row.point.length) (position, latency_median_us, latency_min_us)",
                c.samples.map { "\($0.position) \(Self.number($0.median * 1e6)) \(Self.number($0.min * 1e6))" }
            )
        }
        // Each decoder its colour and point type; its curves (scopes, layer counts) alternate filled
        // and open points and take their own dashes.
        let plots = curves.enumerated().map { i, c in
            let slope = Series.exponentLabel(c.fit, of: "position")
            let j = curves[..<i].filter { $0.row.point.decoder == c.row.point.decoder }.count
            let (color, pt) = Self.decoderStyle(c.row.point)
            return
                "DATA index \(i) using 1:2 with linespoints pt \(j % 2 == 0 ? pt : pt - 1) ps 0.6 lw 2 dt \(Self.decodeDashes[j % Self.decodeDashes.count]) lc rgb \"\(color)\" title \"\(Gnuplot.escape(c.label + ", N = \(c.row.point.length)"))\(slope)\""
        }
        let p = curves[0].row.point
        let body = """
            set title "\(Gnuplot.escape("Per-token decode latency against position — \(machine), b = \(p.batch), h = \(p.heads), d = \(p.headDim), \(analysis.decodeScopeText), fp32"))"
            set logscale xy 2
            set grid
            set key below left Left reverse font ",9" maxrows 3 height 1.5
            set xlabel "position (tokens generated so far, incl. this one)"
            set ylabel "latency of one step (µs, median over a window and all repetitions)"
            plot \(plots.joined(separator: ", \\\n     "))
            """
        let script = Gnuplot.script(
            folder: folder, name: "decode-latency", title: "per-token decode latency against position",
            source: source, width: 1100, height: 760, body: body)
        return (script, Self.blocks(blocks))
    }

    /// Left: speed-up of linear over softmax decoding against N (whole sequences), log–log: over softmax
    /// without a cache (the paper's Tables 1–2 baseline, whose MNIST and CIFAR-10 image-generation
    /// speed-ups are marked at 784 and 3072 tokens, with ours beside them) and over softmax with its
    /// KV cache. Right: the peak heap of one generation against N (the KV cache grows with N, the RNN
    /// state does not). Legends sit below the panels, off the data.
    func decodeSpeedup() -> (script: String, data: String)? {
        let noCache = analysis.decodeSpeedups(over: .recompute).filter { $0.points.count >= 2 }
        let cached = analysis.decodeSpeedups().filter { $0.points.count >= 2 }
        let speedups = noCache + cached
        guard !speedups.isEmpty else { return nil }
        let series = analysis.decodeSeries()
        var blocks: [(String, [String])] = speedups.map { s in
            (s.label + " (N, speedup)", s.points.map { "\($0.n) \(Self.number($0.speedup))" })
        }
        blocks.append(
            (
                "paper: linear ÷ softmax without a cache, images/s (tokens per image, speedup, label)",
                analysis.paperGeneration.map {
                    "\($0.tokens) \(Self.number($0.speedup)) \"\($0.dataset) \(String(format: "%.0f", $0.speedup))×\""
                }
            ))
        // Ours at the paper's sizes, labelled: over softmax without a cache, as the paper compares.
        // Each mark from the curve of the paper's own model at that N (8 layers for MNIST, 16 for
        // CIFAR-10) when the run has it, else from the first curve.
        let marks = analysis.paperGeneration.compactMap { paper in
            let curve =
                noCache.first { c in
                    c.points.first?.linear.point.layers == ClaimsLedger.paperLayers[paper.tokens]
                        && c.points.contains { $0.n == paper.tokens }
                } ?? noCache.first
            return curve?.points.first { $0.n == paper.tokens }
        }
        blocks.append(
            (
                "measured at the paper's sizes, over softmax without a cache (N, speedup, label)",
                marks.map {
                    "\($0.n) \(Self.number($0.speedup)) \"\(String(format: "%.1f", $0.speedup))×\""
                }
            ))
        let memoryStart = blocks.count
        // Memory does not depend on the thread count: one thread count's curves.
        let fewestThreads = series.map { $0.rows[0].point.threads }.min()
        let memorySeries = series.filter { $0.rows[0].point.threads == fewestThreads }
        // A peak under thread.peak's resolution is not drawn on the log axis (NaN), it is named.
        let resolved = { (bytes: Int?) in bytes.flatMap { $0 >= HeapResolution.bytes ? $0 : nil } }
        var underResolution: [String] = []
        for s in memorySeries {
            if s.rows.contains(where: { ($0.peakHeapBytes ?? Int.max) < HeapResolution.bytes }) {
                underResolution.append(s.label)
            }
            blocks.append(
                (
                    s.label + " (N, peak_heap_KiB or NaN under the probe's resolution, model_KiB)",
                    s.rows.map {
                        "\($0.point.length) \(Self.number(Self.kib(resolved($0.peakHeapBytes)))) \(Self.number(Self.kib($0.modelBytes)))"
                    }
                ))
        }
        // No cache in softmax's dark red, KV cache in linear's green; each scope (or thread count) its
        // own dash and point type.
        let speedupPlots =
            speedups.enumerated().map { i, s in
                let isNoCache = i < noCache.count
                let j = isNoCache ? i : i - noCache.count
                let style = "pt \(7 + 2 * j) ps 0.8 lw 2 lc rgb \"\(isNoCache ? "#7b241c" : "#27ae60")\" dt \(j + 1)"
                return "DATA index \(i) using 1:2 with linespoints \(style) title \"\(Gnuplot.escape(s.label))\""
            } + [
                "DATA index \(speedups.count) using 1:2 with points pt 5 ps 1.6 lc rgb \"#7f8c8d\" title \"paper: linear ÷ softmax without a cache, whole models on a GPU (Tables 1–2)\"",
                "DATA index \(speedups.count) using 1:2:3 with labels offset char 0,1.2 font \",9\" notitle",
                "DATA index \(speedups.count + 1) using 1:2:3 with labels offset char 0,1.2 font \",9\" notitle",
            ]
        // Each decoder its colour and point type; its curves (scopes, layer counts) alternate filled
        // and open points and take their own dashes.
        let memoryPlots = memorySeries.enumerated().flatMap { i, s in
            let point = s.rows[0].point
            let (color, pt) = Self.decoderStyle(point)
            let j = memorySeries[..<i].filter { $0.rows[0].point.decoder == point.decoder }.count
            // Filled, open, then triangles: three layer counts of one decoder never share a marker.
            let markers = [pt, pt - 1, 9, 8, 11, 10]
            let measured = markers[j % markers.count]
            return [
                "DATA index \(memoryStart + i) using 1:2 with points pt \(measured) ps 1.0 lc rgb \"\(color)\" title \"\(Gnuplot.escape(s.label)), measured\"",
                "DATA index \(memoryStart + i) using 1:3 with lines dt \(Self.decodeDashes[j % Self.decodeDashes.count]) lw 2 lc rgb \"\(color)\" title \"\(Gnuplot.escape(s.label)), cost model\"",
            ]
        }
        let resolutionNote =
            underResolution.isEmpty
            ? "set xlabel \"sequence length N (tokens generated)\""
            : "set xlabel \"sequence length N (tokens generated)\\n\(Gnuplot.escape(underResolution.joined(separator: "; "))): peaks under the probe's resolution (about 100 KB), not drawn\" font \",9\""
        let p = speedups[0].points[0].linear.point
        let body = """
            set multiplot layout 1,2 title "\(Gnuplot.escape("Decoding N tokens one at a time — \(machine), b = \(p.batch), h = \(p.heads), d = \(p.headDim), \(analysis.decodeScopeText), fp32"))"
            set logscale xy 2
            set grid
            set key below left Left reverse font ",9" height 1.5
            set xlabel "sequence length N (tokens generated)"
            set title "speed-up of linear over softmax (whole sequence)"
            set ylabel "softmax time ÷ linear time"
            set yrange [1:*]
            plot \(speedupPlots.joined(separator: ", \\\n     "))
            set key below left Left reverse font ",9" maxrows 6 height 1.5
            set title "peak heap of one generation (measured to about 100 KB)"
            \(resolutionNote)
            set ylabel "peak heap (KiB)"
            set yrange [*:*]
            plot \(memoryPlots.joined(separator: ", \\\n     "))
            unset multiplot
            """
        let script = Gnuplot.script(
            folder: folder, name: "decode-speedup", title: "decode speed-up and memory against N",
            source: source, width: 1300, height: 760, body: body)
        return (script, Self.blocks(blocks))
    }

    /// A decoder's colour and (filled) point type in the decode figures: no cache dark red, the KV
    /// cache softmax's red, the RNN state linear's green.
    /// Another mechanism (Reformer's, which recomputes) takes its own colour and point.
    static func decoderStyle(_ point: SweepPoint) -> (color: String, pointType: Int) {
        switch (point.mechanism, point.decoder) {
        case (.standard, .recompute?): ("#7b241c", 5)
        case (.linear, _): ("#27ae60", 13)
        case (.standard, _): (color(point), 7)
        default: (color(point), pointType(point))
        }
    }

    /// The dashes that tell one decoder's curves (scopes, layer counts) apart.
    static let decodeDashes = [1, 2, 4, 5, 3]
}
