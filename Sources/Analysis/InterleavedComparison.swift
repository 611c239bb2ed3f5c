import AttentionTypes
import Foundation
import Results

/// The verdicts of an interleaved comparison (`attnbench compare --interleave`): two builds, base
/// and head, measured point by point in the same rounds (``InterleavedMeasurement``).
///
/// Each round gives a point one paired observation: head's median ÷ base's median, measured
/// seconds apart in fresh processes, so the machine's drift over minutes and one process's memory
/// layout cancel within the pair and show up only as round-to-round scatter. Per point:
/// - the ratio is the median over rounds of those per-round ratios (a robust centre: one disturbed
///   round moves it little), shown with the lowest and highest round's ratio;
/// - the test is the Wilcoxon signed-rank test (``SignedRank``) of the per-round log ratios: do
///   the rounds agree on a direction?
/// - the verdict is `slower` only when p < α and ratio ≥ 1 + the minimum effect (`faster`: ratio
///   ≤ 1 ÷ (1 + effect)), since the test alone finds differences too small to matter, and the
///   ratio alone cannot tell a difference from a disturbed round.
///
/// Per series (a mechanism at every n, ``SweepPoint/series``), the same on the per-round geometric
/// mean of its points' ratios, with its own (smaller) minimum effect: a slower kernel moves every
/// point of its curve in every round, noise moves them partly independently. Peak heap is compared
/// too (its median over rounds per side), in bytes, as a change to look at, not a verdict.
///
/// Per series of at least three lengths, the exponent p of t ∝ nᵖ (``ExponentChange``): in each
/// round the least-squares slope of log(head/base) on log n, which is head's exponent minus base's
/// in that round, since log(h/b) = log h − log b. Judged like a point (median over rounds, the
/// signed-rank test, a minimum effect), so the scaling is compared on one machine in one session,
/// never against an exponent fitted on another machine, whose caches bend a short curve their own way.
public struct InterleavedComparison: Sendable {
    public enum Verdict: String, Sendable { case faster, slower, same = "no difference" }
    public enum Scaling: String, Sendable { case steeper, flatter, same = "no difference" }

    /// One point, or one series, judged over the rounds.
    public struct Finding: Sendable {
        public var label: String
        /// The point, or the series (length cleared).
        public var key: SweepPoint
        /// The points it covers (one for a point).
        public var points: [SweepPoint]
        public var isSeries: Bool
        /// Rounds with both sides measured.
        public var rounds: Int
        /// Median over rounds of each side's round median (points only).
        public var baseSeconds: Double?
        public var headSeconds: Double?
        /// Median over rounds of head ÷ base, and the lowest and highest round's.
        public var ratio: Double
        public var lowest: Double
        public var highest: Double
        public var test: SignedRank?
        public var minEffect: Double
        public var verdict: Verdict
        /// head − base peak heap (medians over rounds), bytes; nil when a side has none.
        public var heapChange: Int?
    }

    /// One series' change of exponent, judged over the rounds.
    public struct ExponentChange: Sendable {
        public var label: String
        /// The series (length cleared), and its points in order of n.
        public var key: SweepPoint
        public var points: [SweepPoint]
        /// Rounds in which every point of the series has both sides.
        public var rounds: Int
        /// Each side's exponent fitted to its points' medians over rounds (shown, not judged).
        public var baseExponent: Double?
        public var headExponent: Double?
        /// Median over rounds of that round's head − base exponent, and the lowest and highest round's.
        public var change: Double
        public var lowest: Double
        public var highest: Double
        public var test: SignedRank?
        public var minEffect: Double
        public var verdict: Scaling
    }

    public let alpha: Double
    public let pointEffect: Double
    public let seriesEffect: Double
    public let exponentEffect: Double
    public var points: [Finding] = []
    public var series: [Finding] = []
    public var exponents: [ExponentChange] = []

    /// Judges `measurements`; points (and series) are listed in the order of `order` (the grid's),
    /// then any others in the order they first appear.
    public init(
        _ measurements: [InterleavedMeasurement], order grid: [SweepPoint] = [], alpha: Double, pointEffect: Double,
        seriesEffect: Double, exponentEffect: Double = 0.15
    ) {
        (self.alpha, self.pointEffect, self.seriesEffect) = (alpha, pointEffect, seriesEffect)
        self.exponentEffect = exponentEffect
        var byPoint: [SweepPoint: [Int: [ComparedSide: InterleavedMeasurement]]] = [:]
        var appearance: [SweepPoint] = []
        for m in measurements {
            if byPoint[m.point] == nil { appearance.append(m.point) }
            byPoint[m.point, default: [:]][m.round, default: [:]][m.side] = m
        }
        let listed = Set(grid)
        let order = grid.filter { byPoint[$0] != nil } + appearance.filter { !listed.contains($0) }
        // Per point: the round → head ÷ base ratio.
        var roundRatios: [SweepPoint: [Int: Double]] = [:]
        for point in order {
            let rounds = byPoint[point] ?? [:]
            var ratios: [Int: Double] = [:]
            for (round, sides) in rounds {
                if let b = sides[.base]?.median, let h = sides[.head]?.median, b > 0, h > 0 { ratios[round] = h / b }
            }
            roundRatios[point] = ratios
            guard !ratios.isEmpty else { continue }
            func medianOf(_ side: ComparedSide) -> Double? {
                Self.median(rounds.values.compactMap { $0[side]?.median })
            }
            func heap(_ side: ComparedSide) -> Double? {
                Self.median(rounds.values.compactMap { $0[side]?.peakHeapBytes.map(Double.init) })
            }
            var finding = judge(
                label: point.label, key: point, points: [point], isSeries: false,
                ratios: ratios.sorted { $0.key < $1.key }.map(\.value), minEffect: pointEffect)
            finding.baseSeconds = medianOf(.base)
            finding.headSeconds = medianOf(.head)
            if let hb = heap(.base), let hh = heap(.head) { finding.heapChange = Int((hh - hb).rounded()) }
            points.append(finding)
        }
        // Per series of at least two points: the round → geometric mean of its points' ratios.
        var seriesOrder: [SweepPoint] = []
        var members: [SweepPoint: [SweepPoint]] = [:]
        for point in order where !(roundRatios[point] ?? [:]).isEmpty {
            if members[point.series] == nil { seriesOrder.append(point.series) }
            members[point.series, default: []].append(point)
        }
        let found = Dictionary(uniqueKeysWithValues: points.map { ($0.key, $0) })
        for key in seriesOrder {
            let group = (members[key] ?? []).sorted { $0.length < $1.length }
            guard group.count >= 2 else { continue }
            let roundSets = group.map { Set((roundRatios[$0] ?? [:]).keys) }
            let shared = roundSets.dropFirst().reduce(roundSets[0]) { $0.intersection($1) }
            let ratios = shared.sorted().map { round in
                exp(group.map { log(roundRatios[$0]?[round] ?? 1) }.reduce(0, +) / Double(group.count))
            }
            guard !ratios.isEmpty else { continue }
            let label = key.label(withLength: false) + " (\(group.count) points)"
            series.append(
                judge(label: label, key: key, points: group, isSeries: true, ratios: ratios, minEffect: seriesEffect))
            // Lengths must differ for a slope: a series has one point per n, so three points are three lengths.
            guard group.count >= 3 else { continue }
            let logN = group.map { log(Double($0.length)) }
            let changes = shared.sorted().compactMap { round in
                LineFit(x: logN, y: group.map { log(roundRatios[$0]?[round] ?? 1) })?.slope
            }
            guard !changes.isEmpty else { continue }
            func exponent(_ seconds: (Finding) -> Double?) -> Double? {
                let times = group.map { found[$0].flatMap(seconds) ?? 0 }
                return ScalingFit(x: group.map { Double($0.length) }, y: times).map(\.exponent)
            }
            exponents.append(
                judgeExponent(
                    label: label, key: key, points: group, changes: changes, base: exponent(\.baseSeconds),
                    head: exponent(\.headSeconds)))
        }
    }

    private func judgeExponent(
        label: String, key: SweepPoint, points: [SweepPoint], changes: [Double], base: Double?, head: Double?
    ) -> ExponentChange {
        let change = Self.median(changes) ?? 0
        let test = SignedRank(changes)
        let significant = (test?.pValue ?? 1) < alpha
        let verdict: Scaling =
            significant && change >= exponentEffect
            ? .steeper : (significant && change <= -exponentEffect ? .flatter : .same)
        return ExponentChange(
            label: label, key: key, points: points, rounds: changes.count, baseExponent: base, headExponent: head,
            change: change, lowest: changes.min() ?? change, highest: changes.max() ?? change, test: test,
            minEffect: exponentEffect, verdict: verdict)
    }

    private func judge(
        label: String, key: SweepPoint, points: [SweepPoint], isSeries: Bool, ratios: [Double], minEffect: Double
    ) -> Finding {
        let ratio = Self.median(ratios) ?? 1
        let test = SignedRank(ratios.map { log($0) })
        let significant = (test?.pValue ?? 1) < alpha
        let verdict: Verdict =
            significant && ratio >= 1 + minEffect
            ? .slower : (significant && ratio <= 1 / (1 + minEffect) ? .faster : .same)
        return Finding(
            label: label, key: key, points: points, isSeries: isSeries, rounds: ratios.count, ratio: ratio,
            lowest: ratios.min() ?? ratio, highest: ratios.max() ?? ratio, test: test, minEffect: minEffect,
            verdict: verdict)
    }

    static func median(_ values: [Double]) -> Double? {
        let s = values.sorted()
        guard !s.isEmpty else { return nil }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// Every point and series judged slower.
    public var slower: [Finding] { (points + series).filter { $0.verdict == .slower } }

    /// Every series whose exponent grew beyond the minimum effect.
    public var steeper: [ExponentChange] { exponents.filter { $0.verdict == .steeper } }

    // MARK: - Text

    /// The points, then the series, as aligned tables, then the counts and the overall geometric mean.
    public func text(base: String, head: String) -> String {
        func ms(_ seconds: Double?) -> String { seconds.map { String(format: "%.3f", $0 * 1e3) } ?? "" }
        func heap(_ change: Int?) -> String {
            guard let change else { return "" }
            return change == 0 ? "0" : String(format: "%+d B", change)
        }
        func row(_ f: Finding, withTimes: Bool) -> [String] {
            var fields = [f.label]
            if withTimes { fields += [ms(f.baseSeconds), ms(f.headSeconds)] }
            fields.append(String(f.rounds))
            fields.append(String(format: "%.3f", f.ratio))
            fields.append(String(format: "%.3f–%.3f", f.lowest, f.highest))
            fields.append(f.test.map { String(format: "%.4f", $0.pValue) } ?? "-")
            fields.append(f.verdict.rawValue)
            if withTimes { fields.append(heap(f.heapChange)) }
            return fields
        }
        var out = "base: \(base)\nhead: \(head)\n"
        out += String(
            format:
                "verdicts: slower or faster when the signed-rank p < %.2f and head/base is beyond %.0f%% (a point) or %.0f%% (a series); steeper or flatter when head − base exponent is beyond ±%.2f\n\n",
            alpha, pointEffect * 100, seriesEffect * 100, exponentEffect)
        out += Self.aligned(
            header: [
                "point", "base ms", "head ms", "rounds", "head/base", "round range", "p", "verdict", "heap change",
            ],
            points.map { row($0, withTimes: true) })
        if !series.isEmpty {
            out +=
                "\n"
                + Self.aligned(
                    header: ["series", "rounds", "head/base", "round range", "p", "verdict"],
                    series.map { row($0, withTimes: false) })
        }
        if !exponents.isEmpty {
            func exponent(_ p: Double?) -> String { p.map { String(format: "%.2f", $0) } ?? "" }
            out +=
                "\n"
                + Self.aligned(
                    header: [
                        "series", "rounds", "base exponent", "head exponent", "head − base", "round range", "p",
                        "verdict",
                    ],
                    exponents.map { e in
                        [
                            e.label, String(e.rounds), exponent(e.baseExponent), exponent(e.headExponent),
                            String(format: "%+.3f", e.change), String(format: "%+.3f…%+.3f", e.lowest, e.highest),
                            e.test.map { String(format: "%.4f", $0.pValue) } ?? "-", e.verdict.rawValue,
                        ]
                    })
        }
        let all = points.map(\.ratio).filter { $0 > 0 }
        let geomean = all.isEmpty ? 1 : exp(all.map { log($0) }.reduce(0, +) / Double(all.count))
        func counts(_ f: [Finding]) -> String {
            "\(f.filter { $0.verdict == .slower }.count) slower, \(f.filter { $0.verdict == .faster }.count) faster, "
                + "\(f.filter { $0.verdict == .same }.count) no difference"
        }
        out += "\n\(points.count) points: \(counts(points)); \(series.count) series: \(counts(series)); "
        if !exponents.isEmpty {
            let steeper = exponents.filter { $0.verdict == .steeper }.count
            let flatter = exponents.filter { $0.verdict == .flatter }.count
            out += "\(exponents.count) exponents: \(steeper) steeper, \(flatter) flatter, "
            out += "\(exponents.count - steeper - flatter) no difference; "
        }
        out += String(format: "geometric mean of head/base over the points: %.3f\n", geomean)
        return out
    }

    /// Rows under a header, each column padded to its widest cell, two spaces apart.
    static func aligned(header: [String], _ rows: [[String]]) -> String {
        let widths = header.indices.map { i in ([header] + rows).map { $0[i].count }.max() ?? 0 }
        let lines = ([header] + rows).map { fields in
            fields.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
