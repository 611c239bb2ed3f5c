import AttentionTypes
import Foundation
import Reporting
import Results

/// One cell of the Linformer paper's Table 3 as published (`Data/linformer_table3.csv`).
public struct PaperTable3Cell: Equatable, Sendable {
    public var n, k: Int
    public var timeSaved, memorySaved: Double?

    public init(n: Int, k: Int, timeSaved: Double?, memorySaved: Double?) {
        (self.n, self.k, self.timeSaved, self.memorySaved) = (n, k, timeSaved, memorySaved)
    }

    /// Reads `n,k,time_saved,memory_saved` (empty cells are the paper's dashes). A missing file is
    /// an empty table.
    /// - Throws: ``UsageError`` when the file exists but a line does not parse.
    public static func load(_ path: String) throws -> [PaperTable3Cell] {
        try PaperData.rows(path, header: ["n", "k", "time_saved", "memory_saved"]).map { r in
            guard let n = Int(r[0]), let k = Int(r[1]) else {
                throw UsageError("\(path): '\(r[0])', '\(r[1])' are not n and k")
            }
            return PaperTable3Cell(n: n, k: k, timeSaved: Double(r[2]), memorySaved: Double(r[3]))
        }
    }
}

/// One measured cell of Table 3: a ratio over standard attention at (n, k).
public struct Table3Cell: Equatable, Sendable {
    public var n, k: Int
    public var value: Double
    /// A 95% interval of the ratio when both sides have one (time: standard's interval low ÷
    /// Linformer's high, and high ÷ low); nil for memory, which is deterministic.
    public var low, high: Double?
    /// Calls behind the side with fewer (time cells): with fewer than 6 the median has no 95%
    /// interval (``SampleStatistics/minimumCountFor95``) and `low`, `high` are the ratio of the
    /// calls' ranges.
    public var samples: Int?

    public init(n: Int, k: Int, value: Double, low: Double? = nil, high: Double? = nil, samples: Int? = nil) {
        (self.n, self.k, self.value, self.low, self.high, self.samples) = (n, k, value, low, high, samples)
    }

    /// Whether `low`, `high` is a 95% interval (both sides from at least 6 calls), not a range.
    public var intervalIs95: Bool { samples.map { $0 >= SampleStatistics.minimumCountFor95 } ?? false }

    /// Whether this cell's interval and `other`'s overlap (false when either has none).
    public func overlaps(_ other: Table3Cell) -> Bool {
        guard let a = low, let b = high, let c = other.low, let d = other.high else { return false }
        return a <= d && c <= b
    }
}

/// Two neighbouring cells whose order contradicts the paper's monotone table (time saved grows with
/// n at fixed k, and falls as k grows at fixed n): `first` should be below `second`.
public struct Table3Inversion: Equatable, Sendable {
    public var first, second: Table3Cell
    public var overlapping: Bool { first.overlaps(second) }
}

extension Analysis {
    /// The measured cells of Table 3, an inference table (forward passes only): time saved (standard ÷
    /// Linformer time at the same n and batch, the smallest batch measured) and memory saved
    /// (max-batch ratio when max-batch results are given, else the peak-heap ratio at that batch).
    public func table3Cells() -> (time: [Table3Cell], memory: [Table3Cell], memoryIsBatchRatio: Bool) {
        // attnbench's own rows: a peer's Linformer over its own softmax is not the table's ratio
        let ok = measured.filter {
            $0.point.peer == nil && !$0.point.causal && $0.point.mode == .forward && $0.point.pass == .forward
        }
        guard let batch = ok.map(\.point.batch).min() else { return ([], [], false) }
        var time: [Table3Cell] = []
        var memory: [Table3Cell] = []
        for lf in ok where lf.point.mechanism == .linformer && lf.point.batch == batch {
            guard let std = standardRow(for: lf), let k = lf.point.projectedLength,
                let stdTime = std.median, let lfTime = lf.median
            else { continue }
            var cell = Table3Cell(n: lf.point.length, k: k, value: stdTime / lfTime)
            if let a = std.reps, let b = lf.reps { cell.samples = min(a, b) }
            if let sLow = std.ciLow, let sHigh = std.ciHigh, let lLow = lf.ciLow, let lHigh = lf.ciHigh, lLow > 0,
                lHigh > 0
            {
                (cell.low, cell.high) = (sLow / lHigh, sHigh / lLow)
            }
            time.append(cell)
            if maxBatch == nil, let sh = std.peakHeapBytes, let lh = lf.peakHeapBytes {
                memory.append(Table3Cell(n: lf.point.length, k: k, value: Double(sh) / Double(lh)))
            }
        }
        if let maxBatch {
            let found = maxBatch.filter { $0.isOK && $0.point.mode == .forward && $0.point.pass == .forward }
            let standard = Dictionary(
                found.filter { $0.point.mechanism == .standard }.compactMap { r in
                    r.maxBatch.map { (r.point.length, Double($0)) }
                }, uniquingKeysWith: max)
            for row in found where row.point.mechanism == .linformer {
                if let s = standard[row.point.length], let m = row.maxBatch, let k = row.point.projectedLength {
                    memory.append(Table3Cell(n: row.point.length, k: k, value: Double(m) / s))
                }
            }
        }
        return (time, memory, maxBatch != nil)
    }

    /// The sequence lengths of the grid where Table 3 has Linformer points but no cell, with why:
    /// standard attention's skipped row at that n (its reason, e.g. the memory it would need). `time`
    /// reads the sweep, `memory` the max-batch results (empty without them).
    public func table3BlankRows() -> (time: [(n: Int, reason: String)], memory: [(n: Int, reason: String)]) {
        let forward = { (p: SweepPoint) in !p.causal && p.mode == .forward && p.pass == .forward }
        let cells = table3Cells()
        let linformerN = Set(
            table.rows.filter { $0.point.mechanism == .linformer && forward($0.point) }.map(\.point.length))
        func blanks(_ filled: [Table3Cell], _ skipped: [(Int, String)]) -> [(n: Int, reason: String)] {
            let withCells = Set(filled.map(\.n))
            var seen = Set<Int>()
            return skipped.sorted { $0.0 < $1.0 }.compactMap { n, reason in
                guard linformerN.contains(n), !withCells.contains(n), seen.insert(n).inserted else { return nil }
                return (n, reason)
            }
        }
        let sweep = table.rows.filter { $0.point.mechanism == .standard && !$0.isOK && forward($0.point) }
        let searched = (maxBatch ?? []).filter { $0.point.mechanism == .standard && !$0.isOK && forward($0.point) }
        return (
            blanks(cells.time, sweep.map { ($0.point.length, $0.reason) }),
            blanks(cells.memory, searched.map { ($0.point.length, $0.reason) })
        )
    }

    /// Where the measured time-saved table is not monotone as the paper's is: each pair of
    /// neighbours (n to 2n at one k; k to 2k at one n, which should fall) in the wrong order.
    public func table3Inversions() -> [Table3Inversion] {
        let cells = table3Cells().time
        let byKey = Dictionary(cells.map { ("\($0.n),\($0.k)", $0) }, uniquingKeysWith: { a, _ in a })
        var inversions: [Table3Inversion] = []
        for c in cells.sorted(by: { ($0.n, $0.k) < ($1.n, $1.k) }) {
            let (n2, nOverflow) = c.n.multipliedReportingOverflow(by: 2)
            let (k2, kOverflow) = c.k.multipliedReportingOverflow(by: 2)
            if !nOverflow, let longer = byKey["\(n2),\(c.k)"], longer.value < c.value {
                inversions.append(Table3Inversion(first: c, second: longer))  // should grow with n
            }
            if !kOverflow, let wider = byKey["\(c.n),\(k2)"], wider.value > c.value {
                inversions.append(Table3Inversion(first: wider, second: c))  // should fall with k
            }
        }
        return inversions
    }
}

/// The papers' small CSV files under `Data/`.
enum PaperData {
    /// The rows of `path` after its header, which must be `header`; a missing file has none.
    static func rows(_ path: String, header: [String]) throws -> [[String]] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        let text = try TextFile.read(path)
        let parsed: CSV.Parsed
        do { parsed = try CSV.parse(text) } catch { throw UsageError("\(path) is not valid CSV (\(error))") }
        guard parsed.rows.first == header else {
            throw UsageError("\(path): expected the columns \(header.joined(separator: ",")); restore it from git")
        }
        for (i, row) in parsed.rows.enumerated() where row.count != header.count {
            throw UsageError("\(path): line \(i + 1) has \(row.count) fields, expected \(header.count)")
        }
        return Array(parsed.rows.dropFirst())
    }
}
