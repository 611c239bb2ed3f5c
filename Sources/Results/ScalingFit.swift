import Foundation

/// Ordinary least squares y = intercept + slope·x, with what a confidence interval needs.
///
/// Cost O(m); sums are taken about the means (x − x̄), which keeps them accurate when x is large
/// and its spread small (positions 4096…16384, or log n).
public struct LineFit: Equatable, Sendable {
    public let slope: Double
    public let intercept: Double
    /// Σ (x − x̄)²
    public let sxx: Double
    /// Σ (y − intercept − slope·x)²
    public let residualSquares: Double
    public let count: Int

    /// Nil with fewer than 2 points or no spread in x.
    public init?(x: [Double], y: [Double]) {
        let m = Double(x.count)
        guard x.count >= 2, x.count == y.count else { return nil }
        let mx = x.reduce(0, +) / m
        let my = y.reduce(0, +) / m
        let sxx = x.reduce(0) { $0 + ($1 - mx) * ($1 - mx) }
        guard sxx > 0 else { return nil }
        let slope = zip(x, y).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) } / sxx
        let intercept = my - slope * mx
        self.slope = slope
        self.intercept = intercept
        self.sxx = sxx
        residualSquares = zip(x, y).reduce(0) { $0 + pow($1.1 - (intercept + slope * $1.0), 2) }
        count = x.count
    }
}

/// Least-squares fit of log y = a + s·log x: the scaling exponent s of y ∝ xˢ, with a 95%
/// confidence interval from the slope's standard error and Student's t with m − 2 degrees of freedom.
public struct ScalingFit: Equatable, Sendable {
    public let exponent: Double
    public let intercept: Double
    /// Half-width of the exponent's 95% interval (infinite with 2 points: no residual to estimate from).
    public let halfWidth: Double
    public let points: Int

    /// Fits the pairs with x > 0 and y > 0 (nil with fewer than 2 of them).
    public init?(x: [Double], y: [Double]) {
        let pairs = zip(x, y).filter { $0 > 0 && $1 > 0 }
        guard let line = LineFit(x: pairs.map { log($0.0) }, y: pairs.map { log($0.1) }) else { return nil }
        exponent = line.slope
        intercept = line.intercept
        points = line.count
        if line.count > 2 {
            let standardError = (line.residualSquares / Double(line.count - 2) / line.sxx).squareRoot()
            halfWidth = Self.t975(degreesOfFreedom: line.count - 2) * standardError
        } else {
            halfWidth = .infinity
        }
    }

    /// The 97.5% quantile of Student's t (two-sided 95%).
    static func t975(degreesOfFreedom df: Int) -> Double {
        let table = [
            12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
            2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
        ]
        return df <= table.count ? table[df - 1] : (df <= 30 ? 2.042 : 1.96)
    }
}
