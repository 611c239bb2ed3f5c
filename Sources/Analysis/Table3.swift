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
            guard let n = Int(r[0]), let k = Int(r[1]) else { throw UsageError("\(path): '\(r[0])', '\(r[1])' are not n and k") }
            return PaperTable3Cell(n: n, k: k, timeSaved: Double(r[2]), memorySaved: Double(r[3]))
        }
    }
}

/// One measured cell of Table 3: a ratio over standard attention at (n, k).
public struct Table3Cell: Equatable, Sendable {
    public var n, k: Int
    public var value: Double

    public init(n: Int, k: Int, value: Double) {
        (self.n, self.k, self.value) = (n, k, value)
    }
}

extension Analysis {
    /// The measured cells of Table 3, an inference table (forward passes only): time saved (standard ÷
    /// Linformer time at the same n and batch, the smallest batch measured) and memory saved
    /// (max-batch ratio when max-batch results are given, else the peak-heap ratio at that batch).
    public func table3Cells() -> (time: [Table3Cell], memory: [Table3Cell], memoryIsBatchRatio: Bool) {
        let ok = measured.filter { !$0.point.causal && $0.point.mode == .forward && $0.point.pass == .forward }
        guard let batch = ok.map(\.point.batch).min() else { return ([], [], false) }
        var time: [Table3Cell] = [], memory: [Table3Cell] = []
        for lf in ok where lf.point.mechanism == .linformer && lf.point.batch == batch {
            guard let std = standardRow(for: lf), let k = lf.point.projectedLength,
                  let stdTime = std.median, let lfTime = lf.median else { continue }
            time.append(Table3Cell(n: lf.point.length, k: k, value: stdTime / lfTime))
            if maxBatch == nil, let sh = std.peakHeapBytes, let lh = lf.peakHeapBytes {
                memory.append(Table3Cell(n: lf.point.length, k: k, value: Double(sh) / Double(lh)))
            }
        }
        if let maxBatch {
            let found = maxBatch.filter { $0.isOK && $0.point.mode == .forward && $0.point.pass == .forward }
            let standard = Dictionary(found.filter { $0.point.mechanism == .standard }.compactMap { r in
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
