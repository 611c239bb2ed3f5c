import AttentionTypes
import Foundation
import Results

/// Two runs compared point by point, benchstat-style (`attnbench compare OLD.csv NEW.csv`).
///
/// Per point measured in both: both medians with their 95% intervals (the CSV's, the fastest
/// cycle's), the change new ÷ old − 1, and a two-sided Mann–Whitney U test (``MannWhitneyU``) of
/// the two runs' raw samples (every repetition of every cycle, from the `.samples.csv` files). The
/// verdict is `faster` or `slower` only when both p < α and |change| ≥ the minimum effect, since
/// with many repetitions a test finds differences far too small to matter, and with few a large
/// change can be noise; `no difference` otherwise; `no samples` when a side has no samples file
/// (runs made before samples were kept). Peak heap is compared exactly, in bytes.
///
/// Then, per mechanism and overall, the geometric mean of new ÷ old median time (a ratio's fair
/// average: +10% and −10% do not cancel to 0 but ×1.1 and ×0.9 nearly do) and the verdict counts.
/// Points in one file only, or not measured on a side, are listed, never dropped in silence.
public struct Comparison: Sendable {
    public enum Verdict: String, Sendable { case faster, slower, same = "no difference", untested = "no samples" }

    /// One point measured in both runs.
    public struct Point: Sendable {
        public var key: SweepPoint
        public var old: ResultRow
        public var new: ResultRow
        /// new median ÷ old median − 1.
        public var change: Double
        public var test: MannWhitneyU?
        public var oldSamples: Int
        public var newSamples: Int
        public var verdict: Verdict
        /// new − old peak heap in bytes; nil when a side did not measure it (or the difference of two
        /// corrupt values does not fit an Int).
        public var heapChange: Int?
    }

    /// A point in both files that cannot be compared, and why.
    public struct Uncompared: Sendable {
        public var key: SweepPoint
        public var reason: String
    }

    /// Verdict counts and the geometric-mean time ratio over a group of points.
    public struct Summary: Sendable {
        public var label: String
        public var points: Int
        /// Geometric mean of new ÷ old median time.
        public var timeRatio: Double
        public var faster = 0, slower = 0, same = 0, untested = 0
        /// Points whose peak heap differs by at least one byte.
        public var heapChanged = 0
    }

    /// Fewer samples per side than this leave the U test with little power; Google Benchmark's
    /// `compare.py` asks for 9 repetitions too.
    public static let recommendedSamples = 9

    public let alpha: Double
    public let minEffect: Double
    public let oldSource: String
    public let newSource: String
    public var points: [Point] = []
    public var onlyInOld: [SweepPoint] = []
    public var onlyInNew: [SweepPoint] = []
    public var uncompared: [Uncompared] = []

    public init(
        old: ResultTable, new: ResultTable, oldSamples: [SweepPoint: [RepetitionSample]],
        newSamples: [SweepPoint: [RepetitionSample]], alpha: Double = 0.05, minEffect: Double = 0.05
    ) {
        (self.alpha, self.minEffect, oldSource, newSource) = (alpha, minEffect, old.path, new.path)
        let newRows = new.byKey
        let oldKeys = Set(old.rows.map(\.point))
        onlyInNew = new.rows.map(\.point).filter { !oldKeys.contains($0) }
        for o in old.rows {
            guard let n = newRows[o.point] else {
                onlyInOld.append(o.point)
                continue
            }
            guard o.isOK, n.isOK, let om = o.median, let nm = n.median, om > 0, nm > 0 else {
                let why: [String]
                if !o.isOK && !n.isOK && o.reason == n.reason {
                    why = ["skipped in both (\(o.reason))"]
                } else {
                    why = [(o, old.path), (n, new.path)].compactMap { row, file -> String? in
                        row.isOK
                            ? (row.median == nil ? "no time in \(file)" : nil) : "skipped in \(file) (\(row.reason))"
                    }
                }
                uncompared.append(
                    Uncompared(
                        key: o.point,
                        reason: why.isEmpty ? "a median that is not positive" : why.joined(separator: "; ")))
                continue
            }
            let (xs, ys) = (
                (oldSamples[o.point] ?? []).map(\.time.seconds), (newSamples[o.point] ?? []).map(\.time.seconds)
            )
            let test = MannWhitneyU(xs, ys)
            let change = nm / om - 1
            let verdict: Verdict =
                test.map { t in
                    t.pValue < alpha && abs(change) >= minEffect ? (change > 0 ? .slower : .faster) : .same
                } ?? .untested
            let heap = o.peakHeapBytes.flatMap { ob in
                n.peakHeapBytes.flatMap { nb in nb.subtractingReportingOverflow(ob).overflow ? nil : nb - ob }
            }
            points.append(
                Point(
                    key: o.point, old: o, new: n, change: change, test: test, oldSamples: xs.count,
                    newSamples: ys.count, verdict: verdict, heapChange: heap))
        }
    }

    /// Whether any point got slower (what `--fail-on-slower` exits 1 on).
    public var anySlower: Bool { points.contains { $0.verdict == .slower } }

    /// Points with samples on both sides but fewer than ``recommendedSamples`` on one.
    public var underSampled: [Point] {
        points.filter { $0.test != nil && min($0.oldSamples, $0.newSamples) < Self.recommendedSamples }
    }

    /// One summary per mechanism (in ``Mechanism`` order), then one over every point.
    public var summaries: [Summary] {
        let groups = Mechanism.allCases.compactMap { m -> Summary? in
            let members = points.filter { $0.key.mechanism == m }
            return members.isEmpty ? nil : Self.summary(m.rawValue, members)
        }
        return groups + (points.isEmpty ? [] : [Self.summary("all", points)])
    }

    static func summary(_ label: String, _ members: [Point]) -> Summary {
        let logMean = members.map { log1p($0.change) }.reduce(0, +) / Double(members.count)
        var s = Summary(label: label, points: members.count, timeRatio: exp(logMean))
        for p in members {
            switch p.verdict {
            case .faster: s.faster += 1
            case .slower: s.slower += 1
            case .same: s.same += 1
            case .untested: s.untested += 1
            }
            if let h = p.heapChange, h != 0 { s.heapChanged += 1 }
        }
        return s
    }

    // MARK: - Text

    /// The point table's header and rows, as plain fields.
    func pointFields() -> (header: [String], rows: [[String]]) {
        let header = [
            "point", "old ms [95% CI]", "new ms [95% CI]", "change", "p", "samples", "verdict",
            "peak heap old → new (Δ bytes)",
        ]
        let rows = points.map { p -> [String] in
            let heap: String
            if let ob = p.old.peakHeapBytes, let nb = p.new.peakHeapBytes, let change = p.heapChange {
                heap = "\(ob) → \(nb) (\(change >= 0 ? "+" : "")\(change))"
            } else {
                heap = "–"
            }
            let few = p.test != nil && min(p.oldSamples, p.newSamples) < Self.recommendedSamples ? " (few)" : ""
            return [
                p.key.benchmarkName, Self.interval(p.old), Self.interval(p.new), Self.percent(p.change),
                p.test.map { Self.pValue($0.pValue) } ?? "–", "\(p.oldSamples)/\(p.newSamples)\(few)",
                p.verdict.rawValue, heap,
            ]
        }
        return (header, rows)
    }

    func summaryFields() -> (header: [String], rows: [[String]]) {
        let header = [
            "mechanism", "points", "time (geometric mean)", "faster", "slower", "no difference", "no samples",
            "heap changed",
        ]
        let rows = summaries.map { s in
            [
                s.label, "\(s.points)", Self.percent(s.timeRatio - 1), "\(s.faster)", "\(s.slower)", "\(s.same)",
                "\(s.untested)", "\(s.heapChanged)",
            ]
        }
        return (header, rows)
    }

    /// Lines about points not in the tables, and warnings.
    func notes() -> [String] {
        var lines: [String] = []
        if !onlyInOld.isEmpty {
            lines.append("only in \(oldSource): " + onlyInOld.map(\.benchmarkName).joined(separator: ", "))
        }
        if !onlyInNew.isEmpty {
            lines.append("only in \(newSource): " + onlyInNew.map(\.benchmarkName).joined(separator: ", "))
        }
        for u in uncompared { lines.append("not compared: \(u.key.benchmarkName): \(u.reason)") }
        let few = underSampled
        if !few.isEmpty {
            lines.append(
                "warning: \(few.count) point(s) have fewer than \(Self.recommendedSamples) samples on a side (marked \"few\"): "
                    + "the U test has little power there; raise --min-reps or --cycles")
        }
        let untested = points.filter { $0.verdict == .untested }.count
        if untested > 0 {
            lines.append(
                "warning: \(untested) point(s) have no samples on a side (no .samples.csv beside the CSV, or the point is missing from it): no test, no verdict"
            )
        }
        return lines
    }

    var title: String {
        "\(oldSource) → \(newSource): α = \(Self.number(alpha)), minimum effect \(Self.percent(minEffect).dropFirst()); "
            + "two-sided Mann–Whitney U over every repetition of every cycle"
    }

    /// Aligned plain text: the title, the point table, the summary table, the counters (when the
    /// runs have them), then the notes.
    public func text() -> String {
        let (ph, pr) = pointFields()
        let (sh, sr) = summaryFields()
        let counters = counterFields().map { "\n\(Self.countersCaption)\n" + Self.aligned([$0.header] + $0.rows) } ?? ""
        return "compare: \(title)\n\n" + Self.aligned([ph] + pr) + "\n" + Self.aligned([sh] + sr) + counters
            + notes().map { "compare: \($0)\n" }.joined()
    }

    /// The same as Markdown tables (for a pull-request comment or a CI summary).
    public func markdown() -> String {
        let (ph, pr) = pointFields()
        let (sh, sr) = summaryFields()
        func table(_ header: [String], _ rows: [[String]]) -> String {
            func line(_ fields: [String]) -> String {
                "| " + fields.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |\n"
            }
            return line(header) + line(header.map { _ in "---" }) + rows.map(line).joined()
        }
        let notes = notes()
        let counters =
            counterFields().map { "\n### Counters\n\n\(Self.countersCaption)\n\n" + table($0.header, $0.rows) } ?? ""
        return "## Comparison\n\n\(title)\n\n" + table(ph, pr) + "\n### Summary\n\n" + table(sh, sr) + counters
            + (notes.isEmpty ? "" : "\n" + notes.map { "- \($0)\n" }.joined())
    }

    // MARK: - Formatting

    static func aligned(_ rows: [[String]]) -> String {
        guard let first = rows.first else { return "" }
        let widths = first.indices.map { i in rows.map { $0[i].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(
                separator: "  "
            )
            .trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n") + "\n"
    }

    /// `1.234 [1.200, 1.250]`, milliseconds with 4 significant digits.
    static func interval(_ r: ResultRow) -> String {
        guard let m = r.median else { return "–" }
        let ms = { String(format: "%.4g", $0 * 1e3) }
        return ms(m) + (r.ciLow.flatMap { lo in r.ciHigh.map { " [\(ms(lo)), \(ms($0))]" } } ?? "")
    }

    static func percent(_ x: Double) -> String { String(format: "%+.1f%%", x * 100) }
    static func pValue(_ p: Double) -> String { p < 1e-4 ? String(format: "%.1e", p) : String(format: "%.4f", p) }
    static func number(_ x: Double) -> String { String(format: "%g", x) }
}
