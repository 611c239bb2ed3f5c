import Foundation
import Reporting
import Results

/// The memory timeline of one call (``MemoryTimeline``) as a gnuplot figure, and the report's
/// "what fills the peak" sections: the memory counterpart of a phase breakdown.
public enum MemoryTimelineFigure {
    /// How many groups of live tensors the figure lists beside the curve; the rest are summed.
    static let listed = 12

    /// The script and data file of `timeline`'s figure `name` in `folder`: the live tensor heap
    /// (size classes, solid; requested bytes, dashed) after each allocation and release, the peak
    /// marked, and the tensors live at the peak listed on the right by label with their share.
    /// Every label reaches the script through ``Gnuplot/escape(_:)``, and the data file's comments
    /// through ``Gnuplot/comment(_:)``.
    public static func render(_ timeline: MemoryTimeline, name: String, folder: String, source: String) -> (
        script: String, data: String
    ) {
        let steps = timeline.steps
        let peakBytes = timeline.peak?.bytes ?? 0
        let (unit, scale) = peakBytes >= 1 << 20 ? ("MiB", 1_048_576.0) : ("KiB", 1024.0)
        func value(_ bytes: Int) -> String { String(format: "%.6g", Double(bytes) / scale) }
        var data =
            "# \(Gnuplot.comment(timeline.name)): event, live tensors (\(unit), size classes), (\(unit), requested)\n"
        data += "0 0 0\n"
        for (i, step) in steps.enumerated() {
            data += "\(i + 1) \(value(step.liveBytes)) \(value(step.liveRequestedBytes))\n"
        }
        data += "\n\n# peak: event, live tensors (\(unit))\n"
        if let peak = timeline.peak { data += "\(peak.event + 1) \(value(peak.bytes))\n" } else { data += "nan nan\n" }

        let summary = timeline.peakSummary
        var lines = ["Live at the peak (\(formatBytes(peakBytes))):"]
        for share in summary.prefix(listed) {
            let count = share.count > 1 ? " ×\(share.count)" : ""
            lines.append(
                "\(share.label)\(count): \(formatBytes(share.bytes)) (\(String(format: "%.1f", share.share * 100))%)")
        }
        if summary.count > listed {
            let rest = summary.dropFirst(listed)
            let bytes = rest.reduce(0) { $0 + $1.bytes }
            lines.append("\(rest.count) more: \(formatBytes(bytes))")
        }
        var body = """
            set title "\(Gnuplot.escape("Tensor heap over one call: \(timeline.name)"))"
            set xlabel "allocation events (allocations and releases, in order)"
            set ylabel "live tensors (\(unit))"
            set grid
            set key at screen 0.68, screen 0.2 left top Left reverse
            set rmargin at screen 0.66
            set xrange [0:\(max(steps.count, 1))]
            set yrange [0:*]
            set offsets 0, 0, graph 0.1, 0

            """
        if let peak = timeline.peak {
            let x = peak.event + 1
            body += """
                set arrow 1 from \(x), graph 0 to \(x), graph 1 nohead dt 3 lc rgb "#d62728"
                set label 1 "\(Gnuplot.escape("peak \(formatBytes(peak.bytes)), event \(x)"))" at \(x), \(value(peak.bytes)) offset 1,0.8 left tc rgb "#d62728"

                """
        }
        for (i, line) in lines.enumerated() {
            let font = i == 0 ? " font \",11\"" : " font \",10\""
            body +=
                "set label \(i + 2) \"\(Gnuplot.escape(line))\" at screen 0.68, screen \(String(format: "%.3f", 0.88 - 0.045 * Double(i))) left\(font)\n"
        }
        body += """
            plot DATA index 0 using 1:2 with steps lw 2 lc rgb "#1f77b4" title "live tensors (jemalloc size classes)", \\
                 DATA index 0 using 1:3 with steps lw 1 dt 2 lc rgb "#7f7f7f" title "live tensors (requested bytes)", \\
                 DATA index 1 using 1:2 with points pt 7 ps 1.6 lc rgb "#d62728" title "peak"
            """
        let script = Gnuplot.script(
            folder: folder, name: name, title: "tensor heap over one call: \(timeline.name)", source: source,
            generator: "attnbench profile-memory", width: 1300, height: 620, body: body)
        return (script, data)
    }

    /// A report section per mechanism: for each traced call of it, the tensors that make up its peak
    /// (by label: how many, size-class bytes, share of the peak) and how the peak relates to
    /// jemalloc's `thread.peak` over the same call. `figures` maps a timeline's name to its image
    /// (relative to the report), drawn under its table when given. Headings start at `level`.
    public static func section(_ timelines: [MemoryTimeline], figures: [String: String] = [:], level: Int = 2)
        -> String
    {
        guard !timelines.isEmpty else { return "" }
        let h = String(repeating: "#", count: level)
        var md = "\(h) What fills the peak\n\n"
        md +=
            "Each call's tensors (every `Tensor` allocated on the calling thread: inputs, parameters, intermediates, gradients, output; not OpenBLAS's buffers, Swift arrays or the allocator's caches), live at the call's peak, by the label of their allocation site. Bytes are jemalloc size classes at 64-byte alignment, the unit of `max-batch --predict`'s replay; the call is the whole point as `max-batch` measures it (its inputs and parameters included).\n"
        var mechanisms: [String] = []
        for t in timelines where !mechanisms.contains(t.mechanism) { mechanisms.append(t.mechanism) }
        for mechanism in mechanisms {
            md += "\n\(h)# \(markdown(mechanism))\n"
            for t in timelines where t.mechanism == mechanism {
                md += "\n" + callSection(t, figure: figures[t.name], level: level + 2)
            }
        }
        return md
    }

    /// A standalone Markdown report (`Results/REPORT-memory.md`): a title naming `source`, then ``section(_:figures:level:)``.
    public static func report(_ timelines: [MemoryTimeline], source: String, figures: [String: String] = [:]) -> String
    {
        "# attnbench memory report: `\(source)`\n\n" + section(timelines, figures: figures, level: 2)
    }

    static func callSection(_ t: MemoryTimeline, figure: String?, level: Int) -> String {
        let h = String(repeating: "#", count: level)
        var md = "\(h) \(markdown(t.name))\n\n"
        guard let peak = t.peak else { return md + "No tensor was allocated.\n" }
        let requested = t.steps[peak.event].liveRequestedBytes
        md +=
            "Peak \(formatBytes(peak.bytes)) of tensors (\(formatBytes(requested)) requested) after event \(peak.event + 1) of \(t.events.count) (\(t.allocations.count) allocations)"
        if let measured = t.measuredPeakBytes {
            let other = measured - peak.bytes
            md +=
                "; jemalloc's thread.peak over the call \(formatBytes(measured)), \(other >= 0 ? "+" : "−")\(formatBytes(abs(other))) from the tensors (what is not a tensor, within thread.peak's sampling of about 64 KiB)"
        }
        md += ".\n\n| tensor | count | bytes | share of peak |\n|---|---:|---:|---:|\n"
        for s in t.peakSummary {
            md +=
                "| \(markdown(s.label)) | \(s.count) | \(formatBytes(s.bytes)) | \(String(format: "%.1f", s.share * 100))% |\n"
        }
        if let figure { md += "\n![\(markdown(t.name))](\(figure))\n" }
        return md
    }

    /// Text for a Markdown table cell or heading: `|` and `\` escaped, line breaks as spaces.
    static func markdown(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "|", with: "\\|")
            .replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " ")
    }
}
