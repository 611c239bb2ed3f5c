import Foundation
import Results

extension Comparison {
    /// What the counters table says of itself: they are shown, not judged.
    public static let countersCaption =
        "counters per call, old → new (whole process, means over each row's timed calls; shown, not tested: "
        + "the samples keep no per-call counts, so no U test)"

    /// The counters of every compared point, old → new: page faults, context switches, user and
    /// system CPU time per call, and cycles, instructions and LLC misses when either side measured
    /// them. Nil when no point has counters on either side (runs made before them), so older runs
    /// compare exactly as before.
    func counterFields() -> (header: [String], rows: [[String]])? {
        var columns: [(String, (ResultRow) -> Double?)] = [
            ("minor faults", \.minorFaultsPerCall), ("major faults", \.majorFaultsPerCall),
            ("vol. ctx switches", \.voluntarySwitchesPerCall), ("invol. ctx switches", \.involuntarySwitchesPerCall),
            ("user ms", { $0.userCPUPerCall.map { $0 * 1e3 } }), ("sys ms", { $0.systemCPUPerCall.map { $0 * 1e3 } }),
        ]
        let rows = points.flatMap { [$0.old, $0.new] }
        guard rows.contains(where: { row in columns.contains { $0.1(row) != nil } }) else { return nil }
        if rows.contains(where: { $0.hardwareCounters == .measured }) {
            columns += [
                ("cycles", \.cyclesPerCall), ("instructions", \.instructionsPerCall),
                ("LLC misses", \.llcMissesPerCall),
            ]
        }
        let body = points.map { p in
            [p.key.benchmarkName] + columns.map { _, value in Self.change(value(p.old), value(p.new)) }
        }
        return (["point"] + columns.map(\.0), body)
    }

    /// `12.5 → 13` with 4 significant digits; `–` for a side without the figure.
    static func change(_ old: Double?, _ new: Double?) -> String {
        func text(_ x: Double?) -> String { x.map { String(format: "%.4g", $0) } ?? "–" }
        return old == nil && new == nil ? "–" : "\(text(old)) → \(text(new))"
    }
}
