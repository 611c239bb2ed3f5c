/// Products and sums of sizes that saturate at `Int.max` instead of trapping.
///
/// User-given sizes (n = 10⁹, b = 10⁹, …) reach the cost models, whose byte counts can exceed
/// `Int.max`. A saturated count is then `Int.max`, which is over any memory budget, so the harness's
/// guard refuses the point instead of the process trapping on overflow. For non-negative operands
/// the result is the true value clamped to `Int.max` (once saturated, a later factor 0 still gives
/// 0); each step costs one overflow-reporting operation.
extension Int {
    /// `Π factors`, or `Int.max` when it does not fit (`Int.min` when it is negative and does not fit).
    public static func saturatingProduct(_ factors: Int...) -> Int {
        var result = 1
        for factor in factors {
            let (product, overflow) = result.multipliedReportingOverflow(by: factor)
            result = overflow ? ((result < 0) == (factor < 0) ? .max : .min) : product
        }
        return result
    }

    /// `Σ terms`, or `Int.max` when it does not fit (`Int.min` when it is negative and does not fit).
    public static func saturatingSum(_ terms: Int...) -> Int {
        var result = 0
        for term in terms {
            let (sum, overflow) = result.addingReportingOverflow(term)
            result = overflow ? (term > 0 ? .max : .min) : sum
        }
        return result
    }
}
