import Foundation
import Reporting

/// The per-token latency samples of a run's decode points: `<name>.tokens.csv` beside `<name>.csv`,
/// one row per (point, position), the point's key columns first.
///
/// Columns: the key columns of ``ResultRow``, then `position` (1-based token), `latency_median_us`
/// and `latency_min_us` (one step, all sequences of the batch), `steps` (step times in the sample).
/// Rows are appended as each decode point finishes; a resumed run appends, and a reader keeps the
/// last row for a (point, position), so a point re-measured after an interruption is not counted twice.
public struct TokenLatencyFile {
    public static let columns = ResultRow.keyColumns + ["position", "latency_median_us", "latency_min_us", "steps"]

    public let path: String
    private var writer: CSVWriter<AppendingFile>?

    public static func path(forCSV csv: String) -> String { sidecarPath(forCSV: csv, suffix: ".tokens.csv") }

    /// For a new run (`resume` false) an old file is removed now, so it never describes another run.
    public init(forCSV csv: String, resume: Bool) throws(SweepError) {
        path = Self.path(forCSV: csv)
        if !resume && FileManager.default.fileExists(atPath: path) {
            do { try FileManager.default.removeItem(atPath: path) } catch { throw SweepError("cannot replace \(path): \(error)") }
        }
    }

    /// Appends the samples of one point (opening the file, with its header if new, on first use).
    public mutating func append(_ point: SweepPoint, _ samples: [TokenLatency.Sample]) throws(SweepError) {
        if writer == nil {
            let exists = FileManager.default.fileExists(atPath: path)
            do {
                writer = CSVWriter(output: try AppendingFile(path: path, truncate: false), columns: Self.columns,
                                   writeHeader: !exists)
            } catch { throw SweepError("cannot write \(path): \(error)") }
        }
        for s in samples {
            writer!.write(point.keyFields + [
                String(s.position), String(format: "%.4f", s.median * 1e6), String(format: "%.4f", s.min * 1e6), String(s.count),
            ])
        }
    }

    /// Reads a samples file: point key fields → samples by increasing position. A missing file is
    /// an empty result (a run without decode points has none).
    public static func read(_ path: String) throws(SweepError) -> [[String]: [TokenLatency.Sample]] {
        guard FileManager.default.fileExists(atPath: path) else { return [:] }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw SweepError("cannot read \(path)") }
        let parsed: CSV.Parsed
        do { parsed = try CSV.parse(text) } catch { throw SweepError("\(path) is not valid CSV: \(error)") }
        guard let header = parsed.rows.first else { return [:] }
        guard header == columns else { throw SweepError("\(path) has a different schema; regenerate it with this version") }
        let keyCount = ResultRow.keyColumns.count
        var byPoint: [[String]: [Int: TokenLatency.Sample]] = [:]
        for (i, row) in parsed.rows.dropFirst().enumerated() {
            guard row.count == columns.count, let position = Int(row[keyCount]), let median = Double(row[keyCount + 1]),
                  let min = Double(row[keyCount + 2]), let count = Int(row[keyCount + 3]) else {
                throw SweepError("\(path): row \(i + 2) is malformed")
            }
            byPoint[Array(row.prefix(keyCount)), default: [:]][position] =
                TokenLatency.Sample(position: position, median: median * 1e-6, min: min * 1e-6, count: count)
        }
        return byPoint.mapValues { $0.values.sorted { $0.position < $1.position } }
    }
}
