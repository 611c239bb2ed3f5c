import AttentionKernels
import Foundation
import Reporting

/// A results CSV read back: one ``MeasuredRow`` per line, keyed by its point.
public struct ResultTable {
    public var rows: [MeasuredRow]
    public let path: String

    /// Reads `path`, checking its columns are this version's (the schema) and every row parses.
    public init(path: String) throws(SweepError) {
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else { throw SweepError("\(path) does not exist") }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw SweepError("cannot read \(path)") }
        let parsed: CSV.Parsed
        do { parsed = try CSV.parse(text) } catch { throw SweepError("\(path) is not valid CSV: \(error)") }
        guard let header = parsed.rows.first else { throw SweepError("\(path) is empty") }
        guard header == ResultRow.columns else {
            let missing = ResultRow.columns.filter { !header.contains($0) }
            throw SweepError("\(path) has a different schema (missing: \(missing.isEmpty ? "none, but the order differs" : missing.joined(separator: ", "))); regenerate it with this version")
        }
        rows = []
        for (i, fields) in parsed.rows.dropFirst().enumerated() {
            guard fields.count == header.count, let row = MeasuredRow(fields) else {
                throw SweepError("\(path): row \(i + 2) is malformed")
            }
            rows.append(row)
        }
    }

    public init(rows: [MeasuredRow], path: String = "") {
        self.rows = rows
        self.path = path
    }

    /// Rows by point key.
    public var byKey: [[String]: MeasuredRow] {
        Dictionary(rows.map { ($0.point.keyFields, $0) }, uniquingKeysWith: { _, last in last })
    }
}

/// The fields of a CSV row that the checker and the plots use.
public struct MeasuredRow: Equatable, Sendable {
    public var point: SweepPoint
    public var status: String
    public var reason: String
    public var reps: Int?
    /// Seconds.
    public var median, ciLow, ciHigh: Double?
    public var tokensPerSecond: Double?
    public var gflops, ceilingGflops, efficiency: Double?
    public var peakHeapBytes, modelBytes, peakRSSBytes: Int?
    public var approxRelError: Double?

    public var isOK: Bool { status == "ok" }

    public init?(_ fields: [String]) {
        let column = Dictionary(uniqueKeysWithValues: zip(ResultRow.columns, fields))
        func int(_ name: String) -> Int? { column[name].flatMap { Int($0) } }
        func double(_ name: String) -> Double? { column[name].flatMap { Double($0) } }
        guard let mechanism = column["mechanism"].flatMap(Mechanism.init(rawValue:)),
              let mode = column["mode"].flatMap(RunMode.init(rawValue:)),
              let causal = column["causal"].flatMap(Bool.init), let n = int("n"), let batch = int("batch"),
              let heads = int("heads"), let d = int("d"), let threads = int("threads") else { return nil }
        let sharing = column["sharing"].flatMap(ProjectionSharing.init(rawValue:))
        point = SweepPoint(mechanism: mechanism, mode: mode, causal: causal, sharing: sharing, length: n,
                           projectedLength: int("k"), prompt: int("prompt"), batch: batch, heads: heads, headDim: d, threads: threads)
        status = column["status"] ?? ""
        reason = column["reason"] ?? ""
        reps = int("reps")
        median = double("time_median_ms").map { $0 / 1e3 }
        ciLow = double("time_ci95_low_ms").map { $0 / 1e3 }
        ciHigh = double("time_ci95_high_ms").map { $0 / 1e3 }
        tokensPerSecond = double("tokens_per_s")
        gflops = double("gflops")
        ceilingGflops = double("ceiling_gflops")
        efficiency = double("efficiency")
        peakHeapBytes = int("peak_heap_bytes")
        modelBytes = int("model_bytes")
        peakRSSBytes = int("peak_rss_bytes")
        approxRelError = double("approx_rel_error")
    }

    /// A row from a fresh measurement (for re-measuring inside the checker).
    public init(_ row: ResultRow) {
        self.init(row.fields)!
    }
}
