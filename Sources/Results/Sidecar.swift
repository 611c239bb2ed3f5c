import Foundation

/// A file that goes with a results CSV: `Results/x.csv` → `Results/x<suffix>`. The rule is the
/// same for every sidecar (`.meta.json`, `.tokens.csv`), so a CSV path without `.csv` keeps its
/// whole name: `sc/gen` → `sc/gen.meta.json`.
public func sidecarPath(forCSV csv: String, suffix: String) -> String {
    (csv.hasSuffix(".csv") ? String(csv.dropLast(4)) : csv) + suffix
}
