import Analysis
import AttentionKernels
import Foundation
import Harness
import Reporting
import Results
import Testing

/// A synthetic measured row: time follows `seconds`, efficiency follows from it, heap as given.
func row(_ mechanism: Mechanism, n: Int, seconds: Double, heap: Int? = nil, spread: Double = 0.01) -> ResultRow {
    let point = SweepPoint(
        mechanism: mechanism, sharing: mechanism == .linformer ? .keyValue : nil, length: n,
        projectedLength: mechanism == .linformer ? 64 : nil, batch: 1, heads: 4, headDim: 64, threads: 1)
    var r = ResultRow(point: point, status: .ok, seed: 42)
    let flops = point.cost.flops
    (r.median, r.min, r.mean, r.stddev) = (seconds, seconds, seconds, 0)
    (r.ciLow, r.ciHigh) = (seconds * (1 - spread), seconds * (1 + spread))
    r.reps = 10
    r.noisy = false
    r.modelGflop = flops / 1e9
    r.gflops = flops / seconds / 1e9
    r.ceilingGflops = 100
    r.efficiency = r.gflops! / 100
    r.modelBytes = point.cost.callPeakBytes
    r.peakHeapBytes = heap ?? point.cost.callPeakBytes + 524_288
    return r
}

/// Standard ∝ n², Linformer and linear ∝ n, at n = 512, 1024, 2048; `scale` multiplies one mechanism's times.
func table(scaling: [Mechanism: Double] = [:], linearExponent: Double = 1, heapScale: [Mechanism: Double] = [:])
    -> ResultTable
{
    var rows: [ResultRow] = []
    for n in [512, 1024, 2048] {
        let x = Double(n) / 512
        for (mechanism, base) in [
            (Mechanism.standard, 0.01 * x * x), (.linformer, 0.002 * x), (.linear, 0.001 * pow(x, linearExponent)),
        ] {
            let model = SweepPoint(
                mechanism: mechanism, sharing: mechanism == .linformer ? .keyValue : nil, length: n,
                projectedLength: mechanism == .linformer ? 64 : nil, batch: 1, heads: 4, headDim: 64, threads: 1
            ).cost.callPeakBytes
            let heap = Int(Double(model) * (heapScale[mechanism] ?? 1)) + 524_288
            rows.append(row(mechanism, n: n, seconds: base * (scaling[mechanism] ?? 1), heap: heap))
        }
    }
    return ResultTable(rows: rows, path: "synthetic.csv")
}

@Suite struct RegressionCheckTests {
    let check = RegressionCheck(thresholds: Thresholds())

    func failures(_ current: ResultTable) throws -> [RegressionCheck.Finding] {
        try check.compare(baseline: table(), current: current).filter(\.fails)
    }

    @Test func unchangedCodePasses() throws {
        #expect(try failures(table()).isEmpty)
    }

    @Test func valuesWithinToleranceStillPass() throws {
        #expect(try failures(table(scaling: [.linear: 1.05, .standard: 0.97], heapScale: [.standard: 1.01])).isEmpty)
    }

    /// A 25% slower linear attention: its efficiency series and its speed-up series both fail.
    @Test func aQuarterSlowerKernelIsCaught() throws {
        let failed = try failures(table(scaling: [.linear: 1.25]))
        #expect(failed.contains { $0.metric == "efficiency (series)" && $0.point.hasPrefix("linear") })
        #expect(failed.contains { $0.metric == "speed-up (series)" && $0.point.hasPrefix("linear") })
        #expect(!failed.contains { $0.point.hasPrefix("standard") || $0.point.hasPrefix("linformer") })
    }

    /// A 25% slower standard attention: its efficiency fails, and nobody's speed-up "regresses".
    @Test func aSlowerBaselineMechanismIsCaughtByEfficiency() throws {
        let failed = try failures(table(scaling: [.standard: 1.25]))
        #expect(failed.contains { $0.metric == "efficiency (series)" && $0.point.hasPrefix("standard") })
        #expect(!failed.contains { $0.metric.hasPrefix("speed-up") })
    }

    @Test func tenPercentMoreMemoryIsCaught() throws {
        let failed = try failures(table(heapScale: [.linformer: 1.10]))
        #expect(failed.filter { $0.metric == "peak_heap_bytes" }.count == 3)
        #expect(failed.allSatisfy { $0.point.hasPrefix("linformer") })
    }

    /// Linear attention turning quadratic: its exponent of time in n moves from 1 to 2.
    @Test func aSlopeChangeIsCaught() throws {
        let failed = try failures(table(linearExponent: 2))
        #expect(failed.contains { $0.metric == "exponent of time in n" && $0.point.hasPrefix("linear") })
    }

    /// Without the time ratios (make check: another machine than the baseline's) exponents are not
    /// judged against the baseline either; the interleaved comparison judges them.
    @Test func exponentsAgainstTheBaselineAreTimeRatios() throws {
        var other = check
        other.timeRatios = false
        let findings = try other.compare(baseline: table(), current: table(linearExponent: 2))
        #expect(!findings.contains { $0.metric.hasPrefix("exponent") })
        #expect(findings.allSatisfy { $0.metric.hasPrefix("peak_heap") || $0.metric.hasPrefix("model") })
    }

    /// Noise is cleared by re-measuring; a real regression is not.
    @Test func remeasuringClearsNoiseButNotRegressions() throws {
        let noisy = table(scaling: [.linear: 1.6])
        let healthy = table().byKey
        let cleared = try check.run(baseline: table(), current: noisy) { healthy[$0]! }
        #expect(!cleared.contains { $0.fails })
        #expect(cleared.contains { $0.remeasured })
        let slow = noisy.byKey
        let kept = try check.run(baseline: table(), current: noisy) { slow[$0]! }
        #expect(kept.contains { $0.fails })
    }

    /// Findings hold numbers; the table formats them at the edge: each metric in its unit, the
    /// plausible best in "(≤…)", an exponent's interval as "± …", tolerances with one sign.
    @Test func theTableFormatsEachKindOfFinding() throws {
        let t = Thresholds()
        let findings = try RegressionCheck(thresholds: t, absoluteTime: true)
            .compare(baseline: table(), current: table(scaling: [.linear: 1.25]))
        let text = RegressionCheck.table(findings)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines[0].hasPrefix("metric") && lines[0].hasSuffix("verdict"))
        let memory = try #require(lines.first { $0.hasPrefix("peak_heap_bytes ") })
        let slack = Double(t.memoryAbsolute) / 1_048_576
        #expect(memory.contains(String(format: "±%.1f%% + %.2f MiB", t.memoryRelative * 100, slack)), "\(memory)")
        #expect(lines.contains { $0.hasPrefix("peak_heap vs model") && $0.contains(" MiB (model)") })
        let efficiency = try #require(lines.first { $0.hasPrefix("efficiency ") && $0.contains("linear") })
        #expect(efficiency.contains(String(format: "-%.1f%%", t.efficiency * 100)) && efficiency.contains("(≤"))
        let time = try #require(lines.first { $0.hasPrefix("time_median_ms") && $0.contains("linear") })
        #expect(time.contains(String(format: "+%.1f%%", t.time * 100)) && time.contains("+25.0%"), "\(time)")
        #expect(lines.contains { $0.hasPrefix("speed-up vs standard") && $0.contains("x (≤") })
        let slope = String(format: "±%.2f", t.slope)
        #expect(lines.contains { $0.hasPrefix("exponent of time in n") && $0.contains(" ± ") && $0.contains(slope) })
        #expect(lines.contains { $0.contains("1 (each point)") })
        for doubled in ["-+", "++", "±+", "+-"] { #expect(!text.contains(doubled), "\(doubled) in\n\(text)") }
    }

    @Test func mismatchedPointsAreUnusable() {
        var current = table()
        current.rows.removeLast()
        let error = #expect(throws: UsageError.self) { try check.compare(baseline: table(), current: current) }
        #expect(error?.description.contains("points do not match") == true)
    }

    @Test func aDifferentSchemaIsAClearError() throws {
        let path = temporaryPath("schema.csv")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "mechanism,n,time_ms\nstandard,512,1.0\n".write(toFile: path, atomically: true, encoding: .utf8)
        let error = #expect(throws: UsageError.self) { try ResultTable(path: path) }
        #expect(error?.description.contains("different schema") == true)
        let missing = #expect(throws: UsageError.self) { try ResultTable(path: path + ".absent") }
        #expect(missing?.description.contains("does not exist") == true)
    }

    @Test func thresholdsParseWithErrorsByLine() throws {
        let t = try Thresholds.parse("efficiency = 0.2  # why\nmemory-absolute = 1M\nremeasure = 0\n")
        #expect(t.efficiency == 0.2 && t.memoryAbsolute == 1 << 20 && t.remeasure == 0)
        let error = #expect(throws: UsageError.self) { try Thresholds.parse("speedup = lots\n", source: "t.txt") }
        #expect(error?.description.hasPrefix("t.txt:1:") == true)
        #expect(throws: UsageError.self) { try Thresholds.parse("unknown = 1\n") }
        let rounds = try Thresholds.parse(
            "interleaved-rounds = 12\ninterleaved-series = 0.08\ninterleaved-exponent = 0.3\n")
        #expect(rounds.interleavedRounds == 12 && rounds.interleavedSeries == 0.08 && rounds.interleavedExponent == 0.3)
        for few in ["interleaved-rounds = 5", "interleaved-rounds = 51", "interleaved-rounds = 6.5"] {
            let error = #expect(throws: UsageError.self) { try Thresholds.parse(few + "\n") }
            #expect(error?.description.contains("from 6 to 50") == true, "\(few)")
        }
        // The committed file parses, and says what the code's defaults say.
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        #expect(try Thresholds.load(repo.path + "/Baselines/thresholds.txt") == Thresholds())
    }
}
