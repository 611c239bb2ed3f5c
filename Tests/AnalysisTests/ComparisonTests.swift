import Analysis
import AttentionTypes
import Foundation
import Results
import Testing

/// Quantiles (i + ½)/n of 1 ms × (1 + 0.05·Exp(1)), times `shift`: timing-like samples of a known distribution.
func quantiles(_ n: Int, shift: Double = 1) -> [Double] {
    (0..<n).map { i -> Double in
        let exponential: Double = -log(1 - (Double(i) + 0.5) / Double(n))
        return 1e-3 * (1 + 0.05 * exponential) * shift
    }
}

/// A measured row whose timing columns are those of `seconds`, and the samples behind it.
func run(_ p: SweepPoint, _ seconds: [Double], heap: Int? = 1 << 20) -> (ResultRow, [RepetitionSample]) {
    var r = ResultRow(point: p, status: .ok, seed: 42)
    if let s = SampleStatistics(seconds) {
        (r.median, r.ciLow, r.ciHigh, r.reps) = (s.median, s.ciLow, s.ciHigh, s.count)
    }
    r.peakHeapBytes = heap
    return (r, RepetitionSample.numbering([seconds.map { CallTime(seconds: $0, cpuSeconds: $0) }]))
}

func point(_ m: Mechanism, n: Int) -> SweepPoint {
    SweepPoint(
        mechanism: m, sharing: m == .linformer ? .keyValue : nil, length: n,
        projectedLength: m == .linformer ? 64 : nil,
        batch: 1, heads: 2, headDim: 16, threads: 1)
}

/// Two runs built from (point, old samples, new samples, old heap, new heap).
func comparison(_ cases: [(SweepPoint, [Double], [Double], Int?, Int?)], minEffect: Double = 0.05) -> Comparison {
    var (oldRows, newRows) = ([ResultRow](), [ResultRow]())
    var (oldSamples, newSamples) = ([SweepPoint: [RepetitionSample]](), [SweepPoint: [RepetitionSample]]())
    for (p, o, n, oh, nh) in cases {
        let (or, os) = run(p, o, heap: oh)
        let (nr, ns) = run(p, n, heap: nh)
        oldRows.append(or)
        newRows.append(nr)
        if !o.isEmpty { oldSamples[p] = os }
        if !n.isEmpty { newSamples[p] = ns }
    }
    return Comparison(
        old: ResultTable(rows: oldRows, path: "old.csv"), new: ResultTable(rows: newRows, path: "new.csv"),
        oldSamples: oldSamples, newSamples: newSamples, minEffect: minEffect)
}

@Suite struct ComparisonTests {
    /// A verdict needs both a significant test and an effect of at least the minimum.
    @Test func verdictsNeedSignificanceAndEffect() throws {
        let c = comparison([
            (point(.standard, n: 512), quantiles(20), quantiles(20, shift: 1.10), 1000, 1500),  // 10% slower, clear
            (point(.standard, n: 1024), quantiles(20), quantiles(20, shift: 0.90), 1000, 1000),  // 10% faster
            (point(.linear, n: 512), quantiles(20), quantiles(20), 1000, 1000),  // the same
            // significant, but 1%
            (point(.linear, n: 1024), quantiles(2000), quantiles(2000, shift: 1.01), 1000, 1000),
            (point(.linformer, n: 512), quantiles(3), quantiles(3, shift: 1.10), 1000, 1000),  // 10%, but p = 0.1
        ])
        #expect(c.points.map(\.verdict) == [.slower, .faster, .same, .same, .same])
        #expect(c.points[3].test.map { $0.pValue < 1e-6 } == true)  // the test alone would call 1% a difference
        #expect(c.points[4].test?.pValue == 0.1)  // 3 against 3, separated: 2/C(6, 3)
        #expect(abs(c.points[0].change - 0.10) < 1e-12 && abs(c.points[1].change + 0.10) < 1e-12)
        #expect(c.points[0].heapChange == 500 && c.points[1].heapChange == 0)
        #expect(c.anySlower)
        #expect(c.underSampled.map(\.key) == [point(.linformer, n: 512)])
        // Lower the minimum effect and the 1% point counts as slower.
        #expect(
            comparison(
                [(point(.linear, n: 1024), quantiles(2000), quantiles(2000, shift: 1.01), nil, nil)], minEffect: 0.005
            )
            .points.map(\.verdict) == [.slower])
    }

    /// The summary's time change is the geometric mean of the ratios, per mechanism and overall.
    @Test func summariesAreGeometricMeans() throws {
        let c = comparison([
            (point(.standard, n: 512), quantiles(20), quantiles(20, shift: 1.25), 1000, 1000),
            (point(.standard, n: 1024), quantiles(20), quantiles(20, shift: 0.80), 1000, 1001),
            (point(.linear, n: 512), quantiles(20), quantiles(20, shift: 1.5), 1000, 1000),
        ])
        let s = Dictionary(uniqueKeysWithValues: c.summaries.map { ($0.label, $0) })
        #expect(c.summaries.map(\.label) == ["standard", "linear", "all"])
        #expect(try abs(#require(s["standard"]).timeRatio - 1) < 1e-12)  // ×1.25 and ×0.8 cancel
        #expect(try abs(#require(s["linear"]).timeRatio - 1.5) < 1e-12)
        #expect(try abs(#require(s["all"]).timeRatio - pow(1.5, 1.0 / 3)) < 1e-12)
        #expect(s["standard"]?.slower == 1 && s["standard"]?.faster == 1 && s["standard"]?.heapChanged == 1)
        #expect(s["all"]?.points == 3 && s["all"]?.slower == 2)
    }

    /// Points in one file only, skipped on a side, or without samples are listed, not dropped.
    @Test func nothingIsDroppedInSilence() {
        let shared = point(.standard, n: 512)
        let (o1, os1) = run(shared, quantiles(10))
        let (n1, ns1) = run(shared, quantiles(10))
        let (gone, _) = run(point(.standard, n: 2048), quantiles(10))
        let (added, _) = run(point(.linear, n: 2048), quantiles(10))
        let (unsampledOld, _) = run(point(.linear, n: 512), quantiles(10))
        let (unsampledNew, _) = run(point(.linear, n: 512), quantiles(10))
        let skipped = ResultRow(
            point: point(.standard, n: 4096), status: .skipped, reason: "memory: needs 9 GiB", seed: 42)
        let (measured, _) = run(point(.standard, n: 4096), quantiles(10))
        let c = Comparison(
            old: ResultTable(rows: [o1, gone, unsampledOld, measured], path: "old.csv"),
            new: ResultTable(rows: [n1, added, unsampledNew, skipped], path: "new.csv"),
            oldSamples: [shared: os1], newSamples: [shared: ns1])
        #expect(c.points.map(\.key) == [shared, point(.linear, n: 512)])
        #expect(c.points.map(\.verdict) == [.same, .untested])
        #expect(c.onlyInOld == [point(.standard, n: 2048)] && c.onlyInNew == [point(.linear, n: 2048)])
        #expect(c.uncompared.map(\.reason) == ["skipped in new.csv (memory: needs 9 GiB)"])
        let text = c.text()
        #expect(text.contains("compare: only in old.csv: standard/n=2048/b=1/h=2/d=16/t=1\n"))
        #expect(text.contains("compare: only in new.csv: linear/n=2048/b=1/h=2/d=16/t=1\n"))
        #expect(
            text.contains(
                "compare: not compared: standard/n=4096/b=1/h=2/d=16/t=1: skipped in new.csv (memory: needs 9 GiB)\n"))
        #expect(text.contains("compare: warning: 1 point(s) have no samples on a side"))
    }

    /// The whole text of a small comparison.
    @Test func textIsExact() {
        let c = comparison([(point(.standard, n: 512), [0.001, 0.002, 0.003], [0.004, 0.005, 0.006], 1024, 2048)])
        #expect(
            c.text() == """
                compare: old.csv → new.csv: α = 0.05, minimum effect 5.0%; two-sided Mann–Whitney U over every repetition of every cycle

                point                            old ms [95% CI]  new ms [95% CI]  change   p       samples    verdict        peak heap old → new (Δ bytes)
                standard/n=512/b=1/h=2/d=16/t=1  2 [1, 3]         5 [4, 6]         +150.0%  0.1000  3/3 (few)  no difference  1024 → 2048 (+1024)

                mechanism  points  time (geometric mean)  faster  slower  no difference  no samples  heap changed
                standard   1       +150.0%                0       0       1              0           1
                all        1       +150.0%                0       0       1              0           1
                compare: warning: 1 point(s) have fewer than 9 samples on a side (marked "few"): the U test has little power there; raise --min-reps or --cycles

                """)
        #expect(
            c.markdown().contains(
                "| standard/n=512/b=1/h=2/d=16/t=1 | 2 [1, 3] | 5 [4, 6] | +150.0% | 0.1000 | 3/3 (few) | no difference | 1024 → 2048 (+1024) |\n"
            ))
    }

    /// With counters on a side, a counters table follows the summary: old → new per point, `–` where
    /// a side has none, hardware columns only when a side measured them, and the caption says they
    /// are not tested. Without any (textIsExact), nothing is added.
    @Test func countersAreShownNotTested() {
        var c = comparison([
            (point(.standard, n: 512), [0.001, 0.002, 0.003], [0.004, 0.005, 0.006], 1024, 2048),
            (point(.linear, n: 512), [0.001, 0.002, 0.003], [0.001, 0.002, 0.003], 1024, 1024),
        ])
        (c.points[0].old.minorFaultsPerCall, c.points[0].new.minorFaultsPerCall) = (12.5, 20)
        (c.points[0].old.involuntarySwitchesPerCall, c.points[0].new.involuntarySwitchesPerCall) = (0, 1.25)
        (c.points[0].old.userCPUPerCall, c.points[0].new.userCPUPerCall) = (0.002, 0.0051)
        c.points[0].new.hardwareCounters = .unavailable
        let text = c.text()
        #expect(text.contains("\n\n" + Comparison.countersCaption + "\n"))
        #expect(Comparison.countersCaption.contains("not tested"))
        let lines = text.split(separator: "\n")
        let header = lines.first { $0.hasPrefix("point") && $0.contains("minor faults") }
        #expect(
            header?.split(separator: "  ").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } == [
                "point", "minor faults", "major faults", "vol. ctx switches", "invol. ctx switches", "user ms",
                "sys ms",
            ])
        let standard = lines.first { $0.hasPrefix("standard/n=512") && $0.contains("→") && $0.contains("12.5") }
        #expect(standard?.contains("12.5 → 20") == true && standard?.contains("0 → 1.25") == true)
        #expect(standard?.contains("2 → 5.1") == true)
        let linear = lines.first { $0.hasPrefix("linear/n=512") && !$0.contains("%") }
        #expect(linear?.split(separator: " ").filter { $0 == "–" }.count == 6)
        #expect(!text.contains("instructions"))
        c.points[1].old.hardwareCounters = .measured
        (c.points[1].old.cyclesPerCall, c.points[1].new.cyclesPerCall) = (4e6, nil)
        #expect(c.text().contains("instructions") && c.text().contains("4e+06 → –"))
        #expect(c.markdown().contains("### Counters\n\n" + Comparison.countersCaption + "\n\n| point | minor faults |"))
    }
}
