/// Mutations of a CSV's cells for the fuzz tests: a value at the edge of its type (or of another
/// column's type) put into 1–3 random data cells, seeded so a seed means the same inputs every time.
public enum CellMutation {
    public static let extremes = [
        "", "0", "-1", "1", "nan", "inf", "-inf", "1e308", "-1e308", "1e-320", "9223372036854775807",
        "-9223372036854775808",
        "4611686018427387904", "true", "false", "decode", "forward", "standard", "linformer", "linear", "key-value",
        "skipped",
        "memory: needs 1 GiB", "\"a,b\"",
    ]

    public static let numbers = [
        "0", "-1", "1", "nan", "inf", "-inf", "1e308", "-1e308", "9223372036854775807", "-9223372036854775808",
    ]

    /// Replaces 1–3 random cells of the data rows (not the header, row 0) with extreme values,
    /// mostly numbers (most cells are numeric, and a number in them parses).
    public static func mutate(_ rows: [[String]], _ rng: inout SplitMix64) -> [[String]] {
        var rows = rows
        guard rows.count > 1 else { return rows }
        for _ in 0..<Int.random(in: 1...3, using: &rng) {
            let r = Int.random(in: 1..<rows.count, using: &rng)
            guard !rows[r].isEmpty else { continue }
            let c = Int.random(in: 0..<rows[r].count, using: &rng)
            let pool = Int.random(in: 0...2, using: &rng) == 0 ? extremes : numbers
            rows[r][c] = pool.randomElement(using: &rng) ?? ""
        }
        return rows
    }
}
