import Foundation

/// Least-squares fit of log y = a + s·log x: the scaling exponent s of y ∝ xˢ, with a 95%
/// confidence interval from the slope's standard error and Student's t with m − 2 degrees of freedom.
public struct ScalingFit: Equatable, Sendable {
    public let exponent: Double
    public let intercept: Double
    /// Half-width of the exponent's 95% interval (infinite with 2 points: no residual to estimate from).
    public let halfWidth: Double
    public let points: Int

    public init?(x: [Double], y: [Double]) {
        let pairs = zip(x, y).filter { $0 > 0 && $1 > 0 }
        guard pairs.count >= 2 else { return nil }
        let lx = pairs.map { log($0.0) }, ly = pairs.map { log($0.1) }
        let m = Double(pairs.count)
        let mx = lx.reduce(0, +) / m, my = ly.reduce(0, +) / m
        let sxx = lx.reduce(0) { $0 + ($1 - mx) * ($1 - mx) }
        guard sxx > 0 else { return nil }
        let sxy = zip(lx, ly).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) }
        let slope = sxy / sxx, offset = my - slope * mx
        exponent = slope
        intercept = offset
        points = pairs.count
        if pairs.count > 2 {
            let residuals = zip(lx, ly).reduce(0) { $0 + pow($1.1 - (offset + slope * $1.0), 2) }
            let standardError = (residuals / (m - 2) / sxx).squareRoot()
            halfWidth = Self.t975(degreesOfFreedom: pairs.count - 2) * standardError
        } else {
            halfWidth = .infinity
        }
    }

    /// The 97.5% quantile of Student's t (two-sided 95%).
    static func t975(degreesOfFreedom df: Int) -> Double {
        let table = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                     2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086]
        return df <= table.count ? table[df - 1] : (df <= 30 ? 2.042 : 1.96)
    }
}
