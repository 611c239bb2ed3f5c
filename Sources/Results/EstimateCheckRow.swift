import Foundation
import Reporting

/// One check of the step-sampling estimator (`<name>.estimates.csv` beside a results CSV): a
/// layer-scope `recompute` generation measured in full and also estimated from sampled steps.
public struct EstimateCheckRow: Equatable, Sendable {
    public static let columns = [
        "point", "n", "layers", "full_median_s", "estimate_s", "estimate_low_s",
        "estimate_high_s", "steps_sampled",
    ]

    /// The point's label (``SweepPoint/label``).
    public var point: String
    public var length: Int
    public var layers: Int
    /// The whole generation's median time, measured.
    public var fullMedian: Double
    /// The estimate and its 95% interval (the upper end infinite with one step per stratum).
    public var estimate, low, high: Double
    public var stepsSampled: Int

    public init(
        point: String, length: Int, layers: Int, fullMedian: Double, estimate: Double, low: Double, high: Double,
        stepsSampled: Int
    ) {
        (self.point, self.length, self.layers, self.fullMedian) = (point, length, layers, fullMedian)
        (self.estimate, self.low, self.high, self.stepsSampled) = (estimate, low, high, stepsSampled)
    }

    /// estimate ÷ measured.
    public var ratio: Double { estimate / fullMedian }
    /// Whether the measured time lies inside the estimate's interval.
    public var covered: Bool { low <= fullMedian && fullMedian <= high }

    /// `Results/x.estimates.csv` for `Results/x.csv`.
    public static func path(forCSV csv: String) -> String { sidecarPath(forCSV: csv, suffix: ".estimates.csv") }

    public var fields: [String] {
        [
            point, String(length), String(layers), String(fullMedian), String(estimate), String(low), String(high),
            String(stepsSampled),
        ]
    }

    /// The rows of an estimates file; none when it does not exist.
    /// - Throws: ``UsageError`` when it exists but is not one (a line that does not parse).
    public static func read(_ path: String) throws -> [EstimateCheckRow] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        let parsed: CSV.Parsed
        do { parsed = try CSV.parse(try TextFile.read(path)) } catch let error as FileError { throw error } catch {
            throw UsageError("\(path) is not valid CSV (\(error)); regenerate it with the run")
        }
        guard parsed.rows.first == columns else {
            throw UsageError("\(path): expected the columns \(columns.joined(separator: ","))")
        }
        return try parsed.rows.dropFirst().enumerated().map { i, r in
            guard r.count == columns.count, let n = Int(r[1]), let l = Int(r[2]), let full = Double(r[3]),
                let e = Double(r[4]), let low = Double(r[5]), let high = Double(r[6]), let s = Int(r[7])
            else {
                throw UsageError("\(path): line \(i + 2) is not a \(columns.joined(separator: ",")) row")
            }
            return EstimateCheckRow(
                point: r[0], length: n, layers: l, fullMedian: full, estimate: e, low: low, high: high,
                stepsSampled: s)
        }
    }
}
