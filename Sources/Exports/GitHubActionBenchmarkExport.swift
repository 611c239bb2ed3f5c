import Foundation
import Reporting
import Results

/// github-action-benchmark's `customSmallerIsBetter` input
/// (https://github.com/benchmark-action/github-action-benchmark#examples): an array of
/// `{name, unit, value, range?, extra?}`; `range` is read as `± x`, `extra` shows in the tooltip.
///
/// Per measured point: its median time in `ms` with `± ` half the 95% interval of the median, and
/// the interval, repetitions, GF/s and efficiency in `extra`; then, as its own series, its peak
/// heap in `bytes` (exact). Names are ``SweepPoint/benchmarkName`` (and ` (peak heap)`).
struct GitHubActionBenchmarkExport {
    let input: ExportInput
    init(_ input: ExportInput) { self.input = input }

    func document() -> JSON {
        var entries: [JSON] = []
        for row in input.exported {
            guard let median = row.median else { continue }
            let name = row.point.benchmarkName
            var time: [(key: String, value: JSON)] = [
                ("name", .string(name)), ("unit", .string("ms")), ("value", .number(median * 1e3)),
            ]
            var extra: [String] = []
            if let low = row.ciLow, let high = row.ciHigh {
                time.append(("range", .string("± " + String(format: "%.6g", (high - low) / 2 * 1e3))))
                extra.append(String(format: "95%% interval of the median: %.6g–%.6g ms", low * 1e3, high * 1e3))
            }
            if let reps = row.reps { extra.append("repetitions (fastest cycle): \(reps)") }
            if let g = row.gflops { extra.append(String(format: "GF/s: %.3f", g)) }
            if let e = row.efficiency { extra.append(String(format: "efficiency: %.4f", e)) }
            if let heap = row.peakHeapBytes { extra.append("peak heap: \(heap) bytes") }
            time.append(("extra", .string(extra.joined(separator: "\n"))))
            entries.append(.object(time))
            if let heap = row.peakHeapBytes {
                entries.append(
                    .object([
                        ("name", .string(name + " (peak heap)")), ("unit", .string("bytes")), ("value", .integer(heap)),
                    ]))
            }
        }
        return .array(entries)
    }
}
