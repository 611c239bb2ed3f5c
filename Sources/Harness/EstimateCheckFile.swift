import Foundation
import Results

/// Writes the estimator's checks of a run (`<name>.estimates.csv`, ``EstimateCheckRow``) as points
/// finish; the file rules are ``SidecarWriter``'s.
struct EstimateCheckFile {
    private var writer: SidecarWriter

    init(forCSV csv: String, resume: Bool) throws {
        writer = try SidecarWriter(
            path: EstimateCheckRow.path(forCSV: csv), columns: EstimateCheckRow.columns, resume: resume)
    }

    mutating func append(_ row: EstimateCheckRow) throws { try writer.append([row.fields]) }
}
