import Reporting
import Results

/// Bencher Metric Format (https://bencher.dev/docs/reference/bencher-metric-format/):
/// `{benchmark: {measure: {value, lower_value, upper_value}}}`, one benchmark per measured point,
/// named by ``SweepPoint/benchmarkName``.
///
/// Measures: `latency`, Bencher's built-in one, in nanoseconds: the median time of one call with the
/// distribution-free 95% interval of the median as its bounds; `peak-heap`, created by Bencher on
/// first use, in bytes: jemalloc's peak over one call (exact, so no bounds).
struct BencherExport {
    let input: ExportInput
    init(_ input: ExportInput) { self.input = input }

    func document() -> JSON {
        .object(
            input.exported.compactMap { row -> (key: String, value: JSON)? in
                guard let median = row.median else { return nil }
                var latency: [(key: String, value: JSON)] = [("value", .number(median * 1e9))]
                if let low = row.ciLow, let high = row.ciHigh {
                    latency += [("lower_value", .number(low * 1e9)), ("upper_value", .number(high * 1e9))]
                }
                var measures: [(key: String, value: JSON)] = [("latency", .object(latency))]
                if let heap = row.peakHeapBytes { measures.append(("peak-heap", .object([("value", .integer(heap))]))) }
                return (row.point.benchmarkName, .object(measures))
            })
    }
}
