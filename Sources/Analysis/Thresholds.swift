import Foundation
import Reporting
import Results

/// The regression check's tolerances, read from a human-readable file of `key = value` lines
/// (the committed one explains each value in a comment beside it).
public struct Thresholds: Equatable, Sendable {
    /// peak_heap_bytes against the baseline: relative and absolute slack (both allowed).
    public var memoryRelative = 0.02
    public var memoryAbsolute = 64 * 1024
    /// peak_heap_bytes against the cost model's model_bytes in the same run.
    public var modelRelative = 0.02
    public var modelAbsolute = 1 << 20
    /// Largest allowed relative drop in efficiency (GF/s ÷ in-run sgemm ceiling) at one point.
    public var efficiency = 0.35
    /// Largest allowed drop of the geometric mean of efficiency ratios over a series (a mechanism
    /// at every n): a slower kernel moves all its points, noise moves them independently.
    public var efficiencySeries = 0.18
    /// Largest allowed relative drop in speed-up over standard attention at one point.
    public var speedup = 0.35
    /// Largest allowed drop of the geometric mean of speed-up ratios over a series.
    public var speedupSeries = 0.18
    /// Largest allowed change of a fitted log-log exponent.
    public var slope = 0.25
    /// Largest allowed relative increase of the median time; checked only with --absolute-time.
    public var time = 0.5
    /// How often a point that fails a time rule is measured again before it counts (at most 100).
    public var remeasure = 3
    /// The interleaved comparison of base and head (`compare --interleave`, make check's time side):
    /// the smallest slowdown of one point, and of a series' geometric mean, that fails (with p < 0.05).
    public var interleavedPoint = 0.20
    public var interleavedSeries = 0.10
    /// The smallest change of a series' exponent of time in n (head − base, per round) that fails.
    public var interleavedExponent = 0.15
    /// Its rounds (each a paired observation per point); a slower verdict is confirmed by as many again.
    public var interleavedRounds = 8

    public init() {}

    public static let keys = [
        "memory-relative", "memory-absolute", "model-relative", "model-absolute",
        "efficiency", "efficiency-series", "speedup", "speedup-series", "slope", "time", "remeasure",
        "interleaved-point", "interleaved-series", "interleaved-exponent", "interleaved-rounds",
    ]

    public static func load(_ path: String) throws -> Thresholds {
        guard FileManager.default.fileExists(atPath: path) else {
            throw UsageError("thresholds file \(path) does not exist")
        }
        return try parse(try TextFile.read(path), source: path)
    }

    public static func parse(_ text: String, source: String = "thresholds") throws(UsageError) -> Thresholds {
        var t = Thresholds()
        var seen = Set<String>()
        for (number, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = (raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
                .trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty else { continue }
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            let location = "\(source):\(number + 1)"
            guard parts.count == 2 else { throw UsageError("\(location): expected 'key = value'") }
            guard seen.insert(parts[0]).inserted else { throw UsageError("\(location): '\(parts[0])' is set twice") }
            func bytes() throws(UsageError) -> Int {
                do { return try ValueList.bytes(parts[1], axis: parts[0]) } catch {
                    throw UsageError(
                        "\(location): \(parts[0]) needs a size like 64K or 1M, at most 4 EiB, got '\(parts[1])'")
                }
            }
            func fraction() throws(UsageError) -> Double {
                guard let v = Double(parts[1]), v >= 0, v < 10 else {
                    throw UsageError("\(location): \(parts[0]) needs a number like 0.15")
                }
                return v
            }
            switch parts[0] {
            case "memory-relative": t.memoryRelative = try fraction()
            case "memory-absolute": t.memoryAbsolute = try bytes()
            case "model-relative": t.modelRelative = try fraction()
            case "model-absolute": t.modelAbsolute = try bytes()
            case "efficiency": t.efficiency = try fraction()
            case "speedup": t.speedup = try fraction()
            case "efficiency-series": t.efficiencySeries = try fraction()
            case "speedup-series": t.speedupSeries = try fraction()
            case "slope": t.slope = try fraction()
            case "time": t.time = try fraction()
            case "remeasure":
                // Each round measures the failing points again: a huge count would never end.
                guard let n = Int(parts[1]), (0...100).contains(n) else {
                    throw UsageError("\(location): remeasure needs a whole number from 0 to 100")
                }
                t.remeasure = n
            case "interleaved-point": t.interleavedPoint = try fraction()
            case "interleaved-series": t.interleavedSeries = try fraction()
            case "interleaved-exponent": t.interleavedExponent = try fraction()
            case "interleaved-rounds":
                // The signed-rank test needs 6 rounds to reach p < 0.05; every round measures the whole grid twice.
                guard let n = Int(parts[1]), (6...50).contains(n) else {
                    throw UsageError("\(location): interleaved-rounds needs a whole number from 6 to 50")
                }
                t.interleavedRounds = n
            default:
                throw UsageError("\(location): unknown threshold '\(parts[0])'; known: \(keys.joined(separator: ", "))")
            }
        }
        return t
    }
}
