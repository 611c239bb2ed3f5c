import AttentionTypes
import Foundation
import Reporting
import Results

/// Compares a fresh run with a baseline, rule by rule, each rule suited to its metric's noise:
/// - memory (`peak_heap_bytes`) is deterministic: tight tolerance against the baseline, and against
///   the cost model in the same run (a drift either way means the model no longer describes the kernel);
/// - time is compared only through quantities that cancel the machine's speed, measured in one run:
///   efficiency (GF/s ÷ in-run sgemm ceiling), speed-up over standard attention at the same point, and
///   fitted log-log exponents; absolute time only on request.
/// A time rule uses the current point's most favourable plausible value (its median's 95% interval),
/// so one wide interval does not fail the build; a point that still fails is measured again
/// (``Thresholds/remeasure`` times, keeping its best median) before it counts.
public struct RegressionCheck {
    public var thresholds: Thresholds
    public var absoluteTime = false

    public init(thresholds: Thresholds, absoluteTime: Bool = false) {
        self.thresholds = thresholds
        self.absoluteTime = absoluteTime
    }

    public struct Finding {
        public enum Verdict: String { case ok, regression = "REGRESSION", improved, modelStale = "MODEL-STALE" }
        public var metric: String
        public var point: String
        public var baseline: String
        public var current: String
        public var change: String
        public var tolerance: String
        public var verdict: Verdict
        /// The point (or, for a series or exponent, the series) the finding is about.
        public var key: SweepPoint?
        /// Points whose timing this finding depends on (re-measured when it fails).
        public var timedKeys: [SweepPoint] = []
        /// For ratio rules: current ÷ baseline at the median, and at the plausible best.
        public var ratio: (median: Double, plausible: Double)?
        public var remeasured = false
        public var fails: Bool { verdict == .regression || verdict == .modelStale }
    }

    // MARK: - Rules

    public func compare(baseline: ResultTable, current: ResultTable) throws(UsageError) -> [Finding] {
        let base = baseline.byKey.filter { $0.value.isOK }
        let now = current.byKey
        let missing = base.keys.filter { now[$0]?.isOK != true }.map { $0.keyFields.joined(separator: ",") }.sorted()
        guard missing.isEmpty else {
            throw UsageError("points do not match: \(missing.count) baseline point(s) not measured in \(current.path) (first: \(missing[0])); run the same preset as the baseline")
        }
        var findings: [Finding] = []
        for key in base.keys.sorted(by: Self.keyOrder) {
            guard let b = base[key], let c = now[key] else { continue }
            try Self.checkJudgeable(b, c, baseline: baseline.path, current: current.path)
            findings += memory(b, c)
            if let f = efficiency(b, c) { findings.append(f) }
            if absoluteTime, let f = time(b, c) { findings.append(f) }
        }
        let perPointSpeedups = speedups(base, now)
        findings += perPointSpeedups
        findings += series(findings.filter { $0.metric == "efficiency" }, metric: "efficiency (series)", tolerance: thresholds.efficiencySeries)
        findings += series(perPointSpeedups, metric: "speed-up (series)", tolerance: thresholds.speedupSeries)
        findings += slopes(baseline.rows.filter(\.isOK), current.rows.filter(\.isOK))
        guard !findings.isEmpty else {
            throw UsageError("nothing to compare: \(baseline.path) has no measured point (\(baseline.rows.count) rows, none ok with a time and a heap); regenerate it with `make baseline`")
        }
        return findings
    }

    /// A point can be judged only when every metric the rules read is a finite, positive number in
    /// both files or absent from both: a `nan`, an `inf` or a value measured on one side only would
    /// make a rule pass (or "improve") without having compared anything.
    static func checkJudgeable(_ b: ResultRow, _ c: ResultRow, baseline: String, current: String) throws(UsageError) {
        let metrics: [(String, (ResultRow) -> Double?)] = [
            ("time_median_ms", \.median), ("time_ci95_low_ms", \.ciLow), ("time_ci95_high_ms", \.ciHigh),
            ("efficiency", \.efficiency), ("peak_heap_bytes", { $0.peakHeapBytes.map(Double.init) }),
            ("model_bytes", { $0.modelBytes.map(Double.init) }),
        ]
        for (name, value) in metrics {
            for (row, file) in [(b, baseline), (c, current)] {
                if let v = value(row), !(v.isFinite && v > 0) {
                    throw UsageError("\(file): \(name) of \(row.point.label) is \(v), which cannot be compared; re-measure it")
                }
            }
            if (value(b) == nil) != (value(c) == nil) {
                let (has, lacks) = value(b) == nil ? (current, baseline) : (baseline, current)
                throw UsageError("\(name) of \(b.point.label) is measured in \(has) but empty in \(lacks); re-measure, or refresh the baseline with `make baseline`")
            }
        }
        if b.median == nil || b.peakHeapBytes == nil {
            throw UsageError("\(baseline): \(b.point.label) is 'ok' but has no time or peak heap; regenerate it with `make baseline`")
        }
    }

    /// Geometric mean over a series (one mechanism at every n) of current ÷ baseline, taking each
    /// point's plausible best; a kernel regression moves every point, noise moves them independently.
    func series(_ perPoint: [Finding], metric: String, tolerance: Double) -> [Finding] {
        let groups = Dictionary(grouping: perPoint.compactMap { f in f.ratio.flatMap { r in f.key.map { ($0.series, f, r) } } }, by: \.0)
        return groups.map { (label: $0.key.label(withLength: false), key: $0.key, members: $0.value) }
            .sorted { $0.label < $1.label }.compactMap { label, key, group in
            guard group.count >= 2 else { return nil }
            let members = group.map(\.1)
            let plausible = exp(group.map { log($0.2.plausible) }.reduce(0, +) / Double(group.count))
            let typical = exp(group.map { log($0.2.median) }.reduce(0, +) / Double(group.count))
            let verdict: Finding.Verdict = plausible < 1 - tolerance ? .regression : (typical > 1 + tolerance ? .improved : .ok)
            return Finding(metric: metric, point: label + " (\(members.count) points)", baseline: "1 (each point)",
                           current: String(format: "%.3f (≤%.3f)", typical, plausible), change: Self.percent(typical - 1),
                           tolerance: "-\(Self.percent(tolerance))", verdict: verdict, key: key,
                           timedKeys: members.flatMap(\.timedKeys))
        }
    }

    func memory(_ b: ResultRow, _ c: ResultRow) -> [Finding] {
        guard let bh = b.peakHeapBytes, let ch = c.peakHeapBytes else { return [] }
        let t = thresholds
        var out: [Finding] = []
        let slack = Double(bh) * t.memoryRelative + Double(t.memoryAbsolute)
        let verdict: Finding.Verdict = Double(ch) > Double(bh) + slack ? .regression : (Double(ch) < Double(bh) - slack ? .improved : .ok)
        out.append(Finding(metric: "peak_heap_bytes", point: c.point.label, baseline: Self.mib(bh), current: Self.mib(ch),
                           change: Self.percent(Double(ch) / Double(bh) - 1),
                           tolerance: "±\(Self.percent(t.memoryRelative)) + \(Self.mib(t.memoryAbsolute))", verdict: verdict))
        if let model = c.modelBytes {
            let slack = Double(model) * t.modelRelative + Double(t.modelAbsolute)
            let stale = abs(Double(ch) - Double(model)) > slack
            out.append(Finding(metric: "peak_heap vs model", point: c.point.label, baseline: Self.mib(model) + " (model)",
                               current: Self.mib(ch), change: Self.percent(Double(ch) / Double(model) - 1),
                               tolerance: "±\(Self.percent(t.modelRelative)) + \(Self.mib(t.modelAbsolute))",
                               verdict: stale ? (ch > model ? .regression : .modelStale) : .ok))
        }
        return out
    }

    func efficiency(_ b: ResultRow, _ c: ResultRow) -> Finding? {
        guard let be = b.efficiency, let ce = c.efficiency, let median = c.median, let low = c.ciLow, low > 0 else { return nil }
        let plausible = ce * median / low  // efficiency at the fast end of the median's interval
        let verdict: Finding.Verdict = plausible < be * (1 - thresholds.efficiency) ? .regression
            : (ce > be * (1 + thresholds.efficiency) ? .improved : .ok)
        return Finding(metric: "efficiency", point: c.point.label, baseline: String(format: "%.3f", be),
                       current: String(format: "%.3f (≤%.3f)", ce, plausible), change: Self.percent(ce / be - 1),
                       tolerance: "-\(Self.percent(thresholds.efficiency))", verdict: verdict, key: c.point, timedKeys: [c.point],
                       ratio: (ce / be, plausible / be))
    }

    func time(_ b: ResultRow, _ c: ResultRow) -> Finding? {
        guard let bt = b.median, let ct = c.median, let low = c.ciLow else { return nil }
        let verdict: Finding.Verdict = low > bt * (1 + thresholds.time) ? .regression : (ct < bt * (1 - thresholds.time) ? .improved : .ok)
        return Finding(metric: "time_median_ms", point: c.point.label, baseline: String(format: "%.3f", bt * 1e3),
                       current: String(format: "%.3f", ct * 1e3), change: Self.percent(ct / bt - 1),
                       tolerance: "+\(Self.percent(thresholds.time))", verdict: verdict, key: c.point, timedKeys: [c.point])
    }

    /// Points in the order of their CSV key fields (a stable order for findings).
    static func keyOrder(_ a: SweepPoint, _ b: SweepPoint) -> Bool { a.keyFields.lexicographicallyPrecedes(b.keyFields) }

    func speedups(_ base: [SweepPoint: ResultRow], _ now: [SweepPoint: ResultRow]) -> [Finding] {
        var out: [Finding] = []
        for (key, b) in base.sorted(by: { Self.keyOrder($0.key, $1.key) }) where b.point.mechanism != .standard {
            let sKey = b.point.standardCounterpart
            guard let bs = base[sKey], let cs = now[sKey], let c = now[key],
                  let bsm = bs.median, let bm = b.median, let csm = cs.median, let cm = c.median,
                  let csHigh = cs.ciHigh, let cLow = c.ciLow, cLow > 0 else { continue }
            let (before, after) = (bsm / bm, csm / cm)
            let plausible = csHigh / cLow
            let verdict: Finding.Verdict = plausible < before * (1 - thresholds.speedup) ? .regression
                : (after > before * (1 + thresholds.speedup) ? .improved : .ok)
            out.append(Finding(metric: "speed-up vs standard", point: c.point.label, baseline: String(format: "%.2fx", before),
                               current: String(format: "%.2fx (≤%.2fx)", after, plausible), change: Self.percent(after / before - 1),
                               tolerance: "-\(Self.percent(thresholds.speedup))", verdict: verdict, key: key,
                               timedKeys: [key, sKey], ratio: (after / before, plausible / before)))
        }
        return out
    }

    /// A series is one mechanism at everything but n (``SweepPoint/series``); its exponent is the
    /// fit of log time on log n.
    func slopes(_ base: [ResultRow], _ now: [ResultRow]) -> [Finding] {
        let baseSeries = Dictionary(grouping: base, by: \.point.series)
        let nowSeries = Dictionary(grouping: now, by: \.point.series)
        var out: [Finding] = []
        for (key, bRows) in baseSeries.sorted(by: { Self.keyOrder($0.key, $1.key) }) {
            guard let cRows = nowSeries[key], bRows.count >= 3,
                  let bFit = Self.fit(bRows), let cFit = Self.fit(cRows.filter { r in bRows.contains { $0.point == r.point } }) else { continue }
            let change = cFit.exponent - bFit.exponent
            let verdict: Finding.Verdict = change > thresholds.slope ? .regression : (change < -thresholds.slope ? .improved : .ok)
            out.append(Finding(metric: "exponent of time in n", point: key.label(withLength: false),
                               baseline: String(format: "%.2f", bFit.exponent),
                               current: String(format: "%.2f ± %.2f", cFit.exponent, cFit.halfWidth),
                               change: String(format: "%+.2f", change), tolerance: String(format: "±%.2f", thresholds.slope),
                               verdict: verdict, key: key, timedKeys: cRows.map(\.point)))
        }
        return out
    }

    static func fit(_ rows: [ResultRow]) -> ScalingFit? {
        let sorted = rows.compactMap { r in r.median.map { (Double(r.point.length), $0) } }.sorted { $0.0 < $1.0 }
        return ScalingFit(x: sorted.map(\.0), y: sorted.map(\.1))
    }

    // MARK: - Re-measuring

    /// Runs the rules; while time-based findings fail, measures their points again (keeping each
    /// point's fastest median) up to ``Thresholds/remeasure`` times, then reports the final findings.
    public func run(
        baseline: ResultTable, current: ResultTable, remeasure: (SweepPoint) throws -> ResultRow
    ) throws -> [Finding] {
        var current = current
        var remeasured = Set<SweepPoint>()
        var findings = try compare(baseline: baseline, current: current)
        for _ in 0..<thresholds.remeasure {
            let keys = Set(findings.filter { $0.verdict == .regression }.flatMap(\.timedKeys))
            guard !keys.isEmpty else { break }
            for (i, row) in current.rows.enumerated() where keys.contains(row.point) {
                let fresh = try remeasure(row.point)
                if let fm = fresh.median, fm < row.median ?? .infinity {
                    current.rows[i].median = fresh.median
                    current.rows[i].ciLow = fresh.ciLow
                    current.rows[i].ciHigh = fresh.ciHigh
                    current.rows[i].gflops = fresh.gflops
                    current.rows[i].efficiency = fresh.efficiency
                    current.rows[i].ceilingGflops = fresh.ceilingGflops
                }
                remeasured.insert(row.point)
            }
            findings = try compare(baseline: baseline, current: current)
        }
        for i in findings.indices where !findings[i].timedKeys.isEmpty {
            findings[i].remeasured = findings[i].timedKeys.contains(where: remeasured.contains)
        }
        return findings
    }

    // MARK: - Formatting

    static func mib(_ bytes: Int) -> String { formatMiB(bytes, decimals: 2) }
    static func percent(_ x: Double) -> String { String(format: "%+.1f%%", x * 100).replacingOccurrences(of: "+-", with: "-") }

    /// The findings as an aligned text table.
    public static func table(_ findings: [Finding]) -> String {
        let header = ["metric", "point", "baseline", "current", "change", "tolerance", "verdict"]
        let rows = findings.map { f in
            [f.metric, f.point, f.baseline, f.current, f.change, f.tolerance.replacingOccurrences(of: "+-", with: "-"),
             f.verdict.rawValue + (f.remeasured ? " (re-measured)" : "")]
        }
        let widths = header.indices.map { i in ([header] + rows).map { $0[i].count }.max() ?? 0 }
        return ([header] + rows).map { row in
            row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n") + "\n"
    }
}
