/// A point's name for tools outside this suite (Google Benchmark JSON, Bencher, github-action-benchmark):
/// stable and readable, made from the key columns alone, so a new key column names itself.
extension SweepPoint {
    /// Short names for the key columns that appear in every name.
    static let shortNames = ["batch": "b", "heads": "h", "threads": "t"]

    /// `standard/n=4096/b=1/h=8/d=64/t=2`, `linformer/sharing=key-value/n=4096/k=128/b=1/h=8/d=64/t=2`,
    /// `linear/mode=decode/causal/n=784/prompt=1/b=1/h=8/d=32/t=2`: the first key column's value, then
    /// `name=value` for each other key column, in ``columns`` order, except a column whose value is
    /// empty or its default in the initialiser (forward, non-causal; sizes have no default, so they are
    /// always named); a `true` flag is its name alone.
    public var benchmarkName: String {
        let columns = Self.columns
        guard let first = columns.first else { return "" }
        var parts = [first.text(of: self)]
        for column in columns.dropFirst() {
            let value = column.text(of: self)
            if value.isEmpty || value == column.text(of: .empty) { continue }
            let name = Self.shortNames[column.name] ?? column.name
            parts.append(value == "true" ? name : "\(name)=\(value)")
        }
        return parts.joined(separator: "/")
    }
}
