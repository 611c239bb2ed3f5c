import Foundation
import Reporting
import Results

/// The figures of `attnbench profile`'s two CSVs: "where the time goes" (each phase's share of the
/// call, stacked, against n, one panel per mechanism) and the roofline (every point's achieved
/// GF/s against its arithmetic intensity, under the sgemm and memory roofs measured in the run).
public struct ProfileFigures {
    public let phases: [PhaseRow]
    public let roofline: [RooflineRow]
    /// Where the scripts write their PNG and SVG, and the source named in their headers.
    public var folder = "Plots/profile"
    public var source: String
    public var machine: String

    public init(phases: [PhaseRow], roofline: [RooflineRow], source: String, machine: String) {
        (self.phases, self.roofline, self.source, self.machine) = (phases, roofline, source, machine)
    }

    /// One panel: a series (a point without its n) at one level.
    struct Panel {
        var series: SweepPoint
        var level: String
        /// Phase names in call order, then `other`.
        var names: [String]
        /// n → phase → share of the instrumented call, and the plain call's median.
        var shares: [Int: [String: Double]]
        var calls: [Int: Double]
    }

    /// The panels of one pass, in the table's order: the layer level at layer scope (its parts), the
    /// core level otherwise.
    func panels(pass: String) -> [Panel] {
        var panels: [Panel] = []
        for row in phases where row.point.pass.rawValue == pass {
            let wanted = row.point.scope == .layer ? "layer" : "core"
            guard row.level == wanted else { continue }
            let series = row.point.series
            var index = panels.firstIndex { $0.series == series && $0.level == row.level }
            if index == nil {
                panels.append(Panel(series: series, level: row.level, names: [], shares: [:], calls: [:]))
                index = panels.count - 1
            }
            guard let i = index else { continue }
            if !panels[i].names.contains(row.phase) { panels[i].names.append(row.phase) }
            panels[i].shares[row.point.length, default: [:]][row.phase] = row.share
            panels[i].calls[row.point.length] = row.callMedian
        }
        for i in panels.indices {  // `other` last
            panels[i].names.removeAll { $0 == PhaseRow.other }
            panels[i].names.append(PhaseRow.other)
        }
        return panels
    }

    /// Script and data files by name: `phases-<pass>.gp` with one `.dat` per panel, and
    /// `roofline.gp` / `roofline.dat`.
    public func render() -> [String: String] {
        var files: [String: String] = [:]
        for pass in ["forward", "backward", "train"] {
            let panels = panels(pass: pass)
            guard !panels.isEmpty else { continue }
            let name = "phases-\(pass)"
            let columns = min(panels.count, 3)
            let rows = (panels.count + columns - 1) / columns
            var body = [
                "set multiplot layout \(rows),\(columns) title \"\(Gnuplot.escape("Where the time goes: \(pass), each phase's share of one call (\(shape(panels[0].series)))"))\\n\(Gnuplot.escape(machine))\"",
                "set style data histograms",
                "set style histogram rowstacked",
                "set style fill solid 0.85 border -1",
                "set boxwidth 0.75",
                "set yrange [0:112]",
                "set ytics 0,20,100",
                "set ylabel \"% of the call\"",
                "set xlabel \"n (call median above the bar)\"",
                "set key outside below maxrows 3 font \",8\" noenhanced",
                "set grid ytics",
            ]
            for (p, panel) in panels.enumerated() {
                let lengths = panel.shares.keys.sorted()
                var data =
                    "n\t"
                    + panel.names.map { "\"\($0.replacingOccurrences(of: "\"", with: "'"))\"" }.joined(
                        separator: "\t") + "\n"
                var calls = ""  // bar index, call median in ms: the labels above the bars
                for (i, n) in lengths.enumerated() {
                    let shares = panel.names.map { String(format: "%.3f", 100 * (panel.shares[n]?[$0] ?? 0)) }
                    data += "\(n)\t" + shares.joined(separator: "\t") + "\n"
                    calls += "\(i)\t" + (panel.calls[n].map { String(format: "%.4g", $0 * 1e3) } ?? "NaN") + "\n"
                }
                files["\(name)-\(p + 1).dat"] = data
                files["\(name)-\(p + 1)-calls.dat"] = calls
                let title =
                    ProfileFigures.shortLabel(panel.series)
                    + (panel.series.scope == .layer ? " (the layer's parts)" : "")
                let last = panel.names.count + 1
                body += [
                    "set title \"\(Gnuplot.escape(title))\" font \",10\"",
                    "PANEL = FOLDER.\"/\".NAME.\"-\(p + 1).dat\"",
                    "CALLS = FOLDER.\"/\".NAME.\"-\(p + 1)-calls.dat\"",
                    "COLORS = \"\(Self.phaseColors(panel.names).joined(separator: " "))\"",
                    "plot for [i=2:\(last)] PANEL using i:xtic(1) title columnheader(i) lc rgb word(COLORS, i - 1), \\",
                    "     CALLS using 1:(106):(sprintf(\"%.3g ms\", $2)) with labels font \",7\" notitle",
                ]
            }
            body.append("unset multiplot")
            files[name + ".gp"] = Gnuplot.script(
                folder: folder, name: name, title: "where the time goes (\(pass))", source: source,
                width: 420 * columns, height: 360 * rows + 80, body: body.joined(separator: "\n"))
        }
        if let (script, data) = rooflineFigure() {
            files["roofline.gp"] = script
            files["roofline.dat"] = data
        }
        return files
    }

    /// Twelve colours a reader tells apart, in a panel's phase order (gnuplot's default eight
    /// repeated from the ninth phase on: Linformer's training step has ten), and `other` grey.
    static let phasePalette = [
        "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#edc948",
        "#76b7b2", "#ff9da7", "#9c755f", "#17becf", "#bcbd22", "#1f2f6b",
    ]

    static func phaseColors(_ names: [String]) -> [String] {
        var phase = 0
        return names.map { name in
            guard name != PhaseRow.other else { return "#bab0ac" }
            defer { phase += 1 }
            return phasePalette[phase % phasePalette.count]
        }
    }

    /// "b=1 h=8 d=64 t=1": the shape and threads a figure's panels share.
    func shape(_ series: SweepPoint) -> String {
        "b=\(series.batch) h=\(series.heads) d=\(series.headDim) t=\(series.threads)"
    }

    /// A series' label without the shape and threads every point of a roofline shares.
    static func shortLabel(_ series: SweepPoint) -> String {
        let label = series.label(withLength: false)
        guard let cut = label.range(of: " b=\(series.batch) h=") else { return label }
        return String(label[..<cut.lowerBound])
    }

    /// Achieved GF/s against FLOP per byte, log-log, one colour per mechanism and one point type per
    /// pass; the roofs are min(ceiling, intensity × bandwidth) at the run's (first) thread count.
    func rooflineFigure() -> (script: String, data: String)? {
        let rows = roofline.filter { $0.intensity != nil && $0.gflops != nil }
        guard let first = rows.first, let ceiling = first.ceilingGflops, let bandwidth = first.bandwidthGBs else {
            return nil
        }
        var groups: [(key: SweepPoint, rows: [RooflineRow])] = []
        for row in rows {
            if let i = groups.firstIndex(where: { $0.key == row.point.series }) {
                groups[i].rows.append(row)
            } else {
                groups.append((row.point.series, [row]))
            }
        }
        var data = ""
        for (g, group) in groups.enumerated() {
            if g > 0 { data += "\n\n" }
            data += "# \(Gnuplot.comment(group.key.label(withLength: false)))\n"
            for row in group.rows.sorted(by: { $0.point.length < $1.point.length }) {
                data += String(format: "%.6g\t%.6g\t%d\n", row.intensity ?? 0, row.gflops ?? 0, row.point.length)
            }
        }
        let intensities = rows.compactMap(\.intensity)
        let low = (intensities.min() ?? 0.1) / 4
        let high = max((intensities.max() ?? 100) * 4, ceiling / bandwidth * 4)
        var body = [
            "set logscale xy 10",
            String(format: "set xrange [%.4g:%.4g]", low, high),
            String(
                format: "set yrange [%.4g:%.4g]", max((rows.compactMap(\.gflops).min() ?? 0.1) / 4, 1e-3), ceiling * 2),
            "set xlabel \"arithmetic intensity (FLOP per byte of modelled memory traffic)\"",
            "set ylabel \"achieved GFLOP/s\"",
            "set title \"\(Gnuplot.escape(String(format: "Roofline: sgemm %.1f GF/s, STREAM triad %.1f GB/s, %d thread(s), b=%d h=%d d=%d", ceiling, bandwidth, first.point.threads, first.point.batch, first.point.heads, first.point.headDim)))\\n\(Gnuplot.escape(machine))\"",
            "set key inside bottom right font \",8\" box opaque",
            "set grid",
            String(format: "CEILING = %.6g", ceiling),
            String(format: "BANDWIDTH = %.6g", bandwidth),
            "roof(x) = x * BANDWIDTH < CEILING ? x * BANDWIDTH : CEILING",
            "set samples 400",
        ]
        var plots = ["roof(x) with lines lw 3 lc rgb \"black\" title \"roof: min(sgemm, intensity × triad)\""]
        for (g, group) in groups.enumerated() {
            let style = group.key.mechanism.descriptor.style
            let color = style.colors.first ?? "black"
            let pointType = [7, 5, 9, 11, 13][min(group.key.pass == .forward ? 0 : 1, 4)]
            plots.append(
                "DATA index \(g) using 1:2 with linespoints pt \(pointType) ps 1.2 lc rgb \"\(color)\" title \"\(Gnuplot.escape(Self.shortLabel(group.key)))\""
            )
        }
        body.append("plot " + plots.joined(separator: ", \\\n     "))
        let script = Gnuplot.script(
            folder: folder, name: "roofline", title: "roofline", source: source, width: 1100, height: 650,
            body: body.joined(separator: "\n"))
        return (script, data)
    }
}
