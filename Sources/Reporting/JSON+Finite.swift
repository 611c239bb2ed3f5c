extension JSON {
    /// Where the first NaN or infinite number of the document is, as a path (`[3].latency.value`),
    /// or nil when every number is finite. ``text`` writes such a number as `null`, which readers of
    /// benchmark formats reject; a writer checks here first and refuses instead. A finite value can
    /// end up here as infinite when it is scaled (1e308 ms is infinite in nanoseconds).
    public var firstNonFinite: String? {
        switch self {
        case .object(let members):
            for member in members {
                if let path = member.value.firstNonFinite { return "." + member.key + path }
            }
            return nil
        case .array(let items):
            for (i, item) in items.enumerated() {
                if let path = item.firstNonFinite { return "[\(i)]" + path }
            }
            return nil
        case .number(let x): return x.isFinite ? nil : ""
        case .string, .integer, .bool, .null: return nil
        }
    }
}
