import AttentionTypes
import Foundation
import Reporting
import Results

/// Compares a fresh run with a baseline, rule by rule, each rule suited to its metric's noise:
/// - memory (`peak_heap_bytes`) is deterministic: tight tolerance against the baseline, and against
///   the cost model in the same run (a drift either way means the model no longer describes the kernel);
/// - time is compared only through quantities that cancel the machine's speed, measured in one run:
///   efficiency (GF/s ÷ in-run sgemm ceiling), speed-up over standard attention at the same point, and
///   fitted log-log exponents; absolute time only on request. All three hold only on the baseline's
///   own machine (``timeRatios``): make check judges time, exponents included, by the interleaved
///   comparison of two builds in one session (``InterleavedComparison``) instead.
/// A time rule uses the current point's most favourable plausible value (its median's 95% interval),
/// so one wide interval does not fail the build; a point that still fails is measured again
/// (``Thresholds/remeasure`` times, keeping its best median) before it counts.
public struct RegressionCheck {
    public var thresholds: Thresholds
    public var absoluteTime = false
    /// Efficiency, speed-up and exponents against the baseline: they cancel most of a machine's speed
    /// but not all of it, so they hold only against a baseline from the same machine. An exponent over
    /// n = 512…2048 bends with the caches: a fresh CI machine read linear's 1.28 and Linformer's 1.35
    /// against the baseline's 1.00 and 1.03 after three re-measurements, while the interleaved
    /// comparison of the same two builds on it found no point or series different.
    public var timeRatios = true

    public init(thresholds: Thresholds, absoluteTime: Bool = false) {
        self.thresholds = thresholds
        self.absoluteTime = absoluteTime
    }

    /// One rule applied to one point (or series): both sides as numbers with their units, formatted
    /// only by ``table(_:)``, as ``Comparison`` keeps its numbers.
    public struct Finding {
        public enum Verdict: String { case ok, regression = "REGRESSION", improved, modelStale = "MODEL-STALE" }

        /// A value with its unit.
        public enum Quantity: Equatable {
            /// Bytes (peak heap, cost model); shown in MiB, 2 decimals.
            case bytes(Int)
            /// Seconds of wall time; shown in ms, 3 decimals.
            case seconds(Double)
            /// A dimensionless ratio: efficiency (GF/s ÷ sgemm ceiling) or a series' current ÷ baseline; 3 decimals.
            case ratio(Double)
            /// A speed-up, t_standard ÷ t_mechanism at one point; 2 decimals and `x`.
            case factor(Double)
            /// The fitted exponent p of t ∝ n^p; 2 decimals.
            case exponent(Double)
        }

        /// One side of the comparison.
        public struct Reading: Equatable {
            public enum Source: Equatable {
                /// Measured (the baseline's or this run's row).
                case measured
                /// The cost model's prediction for the point (`model_bytes`).
                case model
                /// A series rule's baseline: current ÷ baseline is 1 at every point by definition.
                case eachPoint
            }
            public var value: Quantity
            /// The most favourable plausible value: the fast end of the median's 95% interval.
            public var plausible: Quantity?
            /// Half the width of a fitted exponent's 95% interval.
            public var halfWidth: Double?
            public var source: Source

            public init(
                _ value: Quantity, plausible: Quantity? = nil, halfWidth: Double? = nil, source: Source = .measured
            ) {
                (self.value, self.plausible, self.halfWidth, self.source) = (value, plausible, halfWidth, source)
            }
        }

        /// How far current moved from baseline.
        public enum Change: Equatable {
            /// current ÷ baseline − 1.
            case relative(Double)
            /// current − baseline (exponents, which are already logarithms).
            case difference(Double)
        }

        /// The change a rule allows before it gives a verdict other than `ok`.
        public struct Tolerance: Equatable {
            /// Which way the allowance is measured: a change past it that way is a regression.
            public enum Side: String { case either = "±", up = "+", down = "-" }
            public var side: Side
            /// The allowance: a fraction of the baseline (``Change/relative``) or a difference.
            public var allowance: Change
            /// Bytes allowed on top of the fraction (memory rules: jemalloc's sampling granularity).
            public var bytes: Int?

            public init(_ side: Side, _ allowance: Change, plusBytes bytes: Int? = nil) {
                (self.side, self.allowance, self.bytes) = (side, allowance, bytes)
            }
        }

        public var metric: String
        public var point: String
        public var baseline: Reading
        public var current: Reading
        public var change: Change
        public var tolerance: Tolerance
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
            throw UsageError(
                "points do not match: \(missing.count) baseline point(s) not measured in \(current.path) (first: \(missing[0])); run the same preset as the baseline"
            )
        }
        var findings: [Finding] = []
        for key in base.keys.sorted(by: Self.keyOrder) {
            guard let b = base[key], let c = now[key] else { continue }
            try Self.checkJudgeable(b, c, baseline: baseline.path, current: current.path)
            findings += memory(b, c)
            if timeRatios, let f = efficiency(b, c) { findings.append(f) }
            if absoluteTime, let f = time(b, c) { findings.append(f) }
        }
        let perPointSpeedups = timeRatios ? speedups(base, now) : []
        findings += perPointSpeedups
        findings += series(
            findings.filter { $0.metric == "efficiency" }, metric: "efficiency (series)",
            tolerance: thresholds.efficiencySeries)
        findings += series(perPointSpeedups, metric: "speed-up (series)", tolerance: thresholds.speedupSeries)
        if timeRatios { findings += slopes(baseline.rows.filter(\.isOK), current.rows.filter(\.isOK)) }
        guard !findings.isEmpty else {
            throw UsageError(
                "nothing to compare: \(baseline.path) has no measured point (\(baseline.rows.count) rows, none ok with a time and a heap); regenerate it with `make baseline`"
            )
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
                    throw UsageError(
                        "\(file): \(name) of \(row.point.label) is \(v), which cannot be compared; re-measure it")
                }
            }
            if (value(b) == nil) != (value(c) == nil) {
                let (has, lacks) = value(b) == nil ? (current, baseline) : (baseline, current)
                throw UsageError(
                    "\(name) of \(b.point.label) is measured in \(has) but empty in \(lacks); re-measure, or refresh the baseline with `make baseline`"
                )
            }
        }
        if b.median == nil || b.peakHeapBytes == nil {
            throw UsageError(
                "\(baseline): \(b.point.label) is 'ok' but has no time or peak heap; regenerate it with `make baseline`"
            )
        }
    }

    /// Geometric mean over a series (one mechanism at every n) of current ÷ baseline, taking each
    /// point's plausible best; a kernel regression moves every point, noise moves them independently.
    func series(_ perPoint: [Finding], metric: String, tolerance: Double) -> [Finding] {
        let groups = Dictionary(
            grouping: perPoint.compactMap { f in f.ratio.flatMap { r in f.key.map { ($0.series, f, r) } } }, by: \.0)
        return groups.map { (label: $0.key.label(withLength: false), key: $0.key, members: $0.value) }
            .sorted { $0.label < $1.label }.compactMap { label, key, group in
                guard group.count >= 2 else { return nil }
                let members = group.map(\.1)
                let plausible = exp(group.map { log($0.2.plausible) }.reduce(0, +) / Double(group.count))
                let typical = exp(group.map { log($0.2.median) }.reduce(0, +) / Double(group.count))
                let verdict: Finding.Verdict =
                    plausible < 1 - tolerance ? .regression : (typical > 1 + tolerance ? .improved : .ok)
                return Finding(
                    metric: metric, point: label + " (\(members.count) points)",
                    baseline: .init(.ratio(1), source: .eachPoint),
                    current: .init(.ratio(typical), plausible: .ratio(plausible)),
                    change: .relative(typical - 1),
                    tolerance: .init(.down, .relative(tolerance)), verdict: verdict, key: key,
                    timedKeys: members.flatMap(\.timedKeys))
            }
    }

    func memory(_ b: ResultRow, _ c: ResultRow) -> [Finding] {
        guard let bh = b.peakHeapBytes, let ch = c.peakHeapBytes else { return [] }
        let t = thresholds
        var out: [Finding] = []
        let slack = Double(bh) * t.memoryRelative + Double(t.memoryAbsolute)
        let verdict: Finding.Verdict =
            Double(ch) > Double(bh) + slack ? .regression : (Double(ch) < Double(bh) - slack ? .improved : .ok)
        out.append(
            Finding(
                metric: "peak_heap_bytes", point: c.point.label, baseline: .init(.bytes(bh)),
                current: .init(.bytes(ch)), change: .relative(Double(ch) / Double(bh) - 1),
                tolerance: .init(.either, .relative(t.memoryRelative), plusBytes: t.memoryAbsolute),
                verdict: verdict))
        if let model = c.modelBytes {
            let slack = Double(model) * t.modelRelative + Double(t.modelAbsolute)
            let stale = abs(Double(ch) - Double(model)) > slack
            out.append(
                Finding(
                    metric: "peak_heap vs model", point: c.point.label,
                    baseline: .init(.bytes(model), source: .model), current: .init(.bytes(ch)),
                    change: .relative(Double(ch) / Double(model) - 1),
                    tolerance: .init(.either, .relative(t.modelRelative), plusBytes: t.modelAbsolute),
                    verdict: stale ? (ch > model ? .regression : .modelStale) : .ok))
        }
        return out
    }

    func efficiency(_ b: ResultRow, _ c: ResultRow) -> Finding? {
        guard let be = b.efficiency, let ce = c.efficiency, let median = c.median, let low = c.ciLow, low > 0 else {
            return nil
        }
        let plausible = ce * median / low  // efficiency at the fast end of the median's interval
        let verdict: Finding.Verdict =
            plausible < be * (1 - thresholds.efficiency)
            ? .regression
            : (ce > be * (1 + thresholds.efficiency) ? .improved : .ok)
        return Finding(
            metric: "efficiency", point: c.point.label, baseline: .init(.ratio(be)),
            current: .init(.ratio(ce), plausible: .ratio(plausible)), change: .relative(ce / be - 1),
            tolerance: .init(.down, .relative(thresholds.efficiency)), verdict: verdict, key: c.point,
            timedKeys: [c.point], ratio: (ce / be, plausible / be))
    }

    func time(_ b: ResultRow, _ c: ResultRow) -> Finding? {
        guard let bt = b.median, let ct = c.median, let low = c.ciLow else { return nil }
        let verdict: Finding.Verdict =
            low > bt * (1 + thresholds.time) ? .regression : (ct < bt * (1 - thresholds.time) ? .improved : .ok)
        return Finding(
            metric: "time_median_ms", point: c.point.label, baseline: .init(.seconds(bt)),
            current: .init(.seconds(ct)), change: .relative(ct / bt - 1),
            tolerance: .init(.up, .relative(thresholds.time)), verdict: verdict, key: c.point,
            timedKeys: [c.point])
    }

    /// Points in the order of their CSV key fields (a stable order for findings).
    static func keyOrder(_ a: SweepPoint, _ b: SweepPoint) -> Bool {
        a.keyFields.lexicographicallyPrecedes(b.keyFields)
    }

    func speedups(_ base: [SweepPoint: ResultRow], _ now: [SweepPoint: ResultRow]) -> [Finding] {
        var out: [Finding] = []
        for (key, b) in base.sorted(by: { Self.keyOrder($0.key, $1.key) }) where b.point.mechanism != .standard {
            let sKey = b.point.standardCounterpart
            guard let bs = base[sKey], let cs = now[sKey], let c = now[key],
                let bsm = bs.median, let bm = b.median, let csm = cs.median, let cm = c.median,
                let csHigh = cs.ciHigh, let cLow = c.ciLow, cLow > 0
            else { continue }
            let (before, after) = (bsm / bm, csm / cm)
            let plausible = csHigh / cLow
            let verdict: Finding.Verdict =
                plausible < before * (1 - thresholds.speedup)
                ? .regression
                : (after > before * (1 + thresholds.speedup) ? .improved : .ok)
            out.append(
                Finding(
                    metric: "speed-up vs standard", point: c.point.label, baseline: .init(.factor(before)),
                    current: .init(.factor(after), plausible: .factor(plausible)),
                    change: .relative(after / before - 1),
                    tolerance: .init(.down, .relative(thresholds.speedup)), verdict: verdict, key: key,
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
                let bFit = Self.fit(bRows),
                let cFit = Self.fit(cRows.filter { r in bRows.contains { $0.point == r.point } })
            else { continue }
            let change = cFit.exponent - bFit.exponent
            let verdict: Finding.Verdict =
                change > thresholds.slope ? .regression : (change < -thresholds.slope ? .improved : .ok)
            out.append(
                Finding(
                    metric: "exponent of time in n", point: key.label(withLength: false),
                    baseline: .init(.exponent(bFit.exponent)),
                    current: .init(.exponent(cFit.exponent), halfWidth: cFit.halfWidth),
                    change: .difference(change), tolerance: .init(.either, .difference(thresholds.slope)),
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
    /// `x` as a signed percentage, one decimal: 0.052 → "+5.2%", −0.1 → "-10.0%".
    static func percent(_ x: Double) -> String { String(format: "%+.1f%%", x * 100) }

    /// A quantity in its display unit: "12.50 MiB", "3.142" (ms), "0.412", "5.31x", "1.98".
    static func text(_ q: Finding.Quantity) -> String {
        switch q {
        case .bytes(let b): mib(b)
        case .seconds(let s): String(format: "%.3f", s * 1e3)
        case .ratio(let r): String(format: "%.3f", r)
        case .factor(let f): String(format: "%.2fx", f)
        case .exponent(let p): String(format: "%.2f", p)
        }
    }

    /// "0.412 (≤0.431)", "1.98 ± 0.05", "12.50 MiB (model)", "1 (each point)".
    static func text(_ r: Finding.Reading) -> String {
        if r.source == .eachPoint { return "1 (each point)" }
        var out = text(r.value)
        if let p = r.plausible { out += " (≤\(text(p)))" }
        if let h = r.halfWidth { out += String(format: " ± %.2f", h) }
        return r.source == .model ? out + " (model)" : out
    }

    /// "+5.2%" for a relative change, "+0.13" for a difference.
    static func text(_ c: Finding.Change) -> String {
        switch c {
        case .relative(let x): percent(x)
        case .difference(let x): String(format: "%+.2f", x)
        }
    }

    /// "±2.0% + 0.06 MiB", "-10.0%", "+50.0%", "±0.25".
    static func text(_ t: Finding.Tolerance) -> String {
        let amount =
            switch t.allowance {
            case .relative(let x): String(format: "%.1f%%", abs(x) * 100)
            case .difference(let x): String(format: "%.2f", abs(x))
            }
        return t.side.rawValue + amount + (t.bytes.map { " + " + mib($0) } ?? "")
    }

    /// One finding in a line: "baseline 0.412, current 0.250 (≤0.262), change -39.3%, tolerance -35.0%".
    public static func summary(_ f: Finding) -> String {
        "baseline \(text(f.baseline)), current \(text(f.current)), change \(text(f.change)), tolerance \(text(f.tolerance))"
    }

    /// The findings as an aligned text table.
    public static func table(_ findings: [Finding]) -> String {
        let header = ["metric", "point", "baseline", "current", "change", "tolerance", "verdict"]
        let rows = findings.map { f in
            [
                f.metric, f.point, text(f.baseline), text(f.current), text(f.change), text(f.tolerance),
                f.verdict.rawValue + (f.remeasured ? " (re-measured)" : ""),
            ]
        }
        let widths = header.indices.map { i in ([header] + rows).map { $0[i].count }.max() ?? 0 }
        return ([header] + rows).map { row in
            row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(
                separator: "  "
            )
            .trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n") + "\n"
    }
}
