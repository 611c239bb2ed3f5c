import Exports
import Foundation
import Reporting
import Results
import Testing

/// The keys of a JSON object, in order, and a member by key.
extension JSON {
    var keys: [String] { if case .object(let m) = self { m.map(\.key) } else { [] } }
    subscript(_ key: String) -> JSON? {
        if case .object(let m) = self { m.first { $0.key == key }?.value } else { nil }
    }
    var items: [JSON] { if case .array(let a) = self { a } else { [] } }
    var double: Double? {
        switch self {
        case .number(let x): x
        case .integer(let i): Double(i)
        default: nil
        }
    }
    var string: String? { if case .string(let s) = self { s } else { nil } }
    var int: Int? { if case .integer(let i) = self { i } else { nil } }
}

/// A run of two measured points (one with 4 repetitions over 2 cycles) and one skipped point.
func exportInput() -> ExportInput {
    let a = SweepPoint(mechanism: .standard, length: 4096, batch: 1, heads: 8, headDim: 64, threads: 2)
    let b = SweepPoint(mechanism: .linear, length: 4096, batch: 1, heads: 8, headDim: 64, threads: 2)
    var ra = ResultRow(point: a, status: .ok, seed: 42)
    (ra.median, ra.ciLow, ra.ciHigh, ra.reps) = (0.02, 0.019, 0.022, 2)
    (ra.modelGflop, ra.gflops, ra.ceilingGflops, ra.efficiency, ra.peakHeapBytes) = (8.6, 430, 100, 4.3, 537_919_488)
    var rb = ResultRow(point: b, status: .ok, seed: 42)
    (rb.median, rb.ciLow, rb.ciHigh, rb.reps, rb.peakHeapBytes) = (0.001, 0.0009, 0.0011, 1, 17_825_792)
    let skipped = ResultRow(
        point: SweepPoint(mechanism: .standard, length: 65536, batch: 1, heads: 8, headDim: 64, threads: 2),
        status: .skipped, reason: "memory", seed: 42)
    let machine = Machine(
        cpuModel: "AMD EPYC", logicalCores: 2, memoryTotalBytes: 1 << 34, kernel: "6.1", governor: "performance",
        hostName: "node7", mhzPerCPU: 2445,
        caches: [
            .init(type: "Data", level: 1, sizeBytes: 32768, sharedBy: 1),
            .init(type: "Unified", level: 3, sizeBytes: 1 << 25, sharedBy: 2),
        ])
    let libraries = RunMetadata.Libraries(
        openblasConfig: "OpenBLAS 0.3.21", openblasCoreName: "Zen", openblasParallel: 1,
        jemallocVersion: "5.3.0", jemallocOptions: nil, swiftVersion: "Swift version 6.3.1")
    let metadata = RunMetadata(
        preset: "default", machine: machine, libraries: libraries, buildConfiguration: "release",
        gitCommit: "0123456789abcdef0123",
        gitDirty: false, seed: 42, timing: TimingPolicy(), memoryBudgetBytes: 1 << 30, sgemmCeilingGflops: ["2": 100],
        calibrationGemm: "sgemm",
        sessions: [
            .init(commandLine: "attnbench run", start: "2026-11-23T05:00:00Z", completed: true, pointsMeasured: 2)
        ])
    let calls = { (s: [Double]) in s.map { CallTime(seconds: $0, cpuSeconds: 2 * $0) } }
    return ExportInput(
        table: ResultTable(rows: [ra, skipped, rb], path: "Results/x.csv"), metadata: metadata,
        samples: [
            a: RepetitionSample.numbering([calls([0.021, 0.019]), calls([0.02, 0.024])]),
            b: RepetitionSample.numbering([calls([0.001])]),
        ])
}

func close(_ a: Double?, _ b: Double) -> Bool { a.map { abs($0 - b) <= 1e-9 * abs(b) } ?? false }

@Suite struct ExportsTests {
    /// Google Benchmark's JSON, field by field, in the order of its `src/json_reporter.cc`.
    @Test func googleBenchmarkJSONHasGoogleBenchmarksFields() throws {
        let doc = try ExportFormat.googleBenchmark.document(exportInput())
        #expect(doc.keys == ["context", "benchmarks"])
        let context = try #require(doc["context"])
        #expect(
            Array(context.keys.prefix(10)) == [
                "date", "host_name", "executable", "num_cpus", "mhz_per_cpu", "cpu_scaling_enabled",
                "caches", "library_version", "library_build_type", "json_schema_version",
            ])
        #expect(context["date"]?.string == "2026-11-23T05:00:00+00:00")
        #expect(
            context["host_name"]?.string == "node7" && context["num_cpus"]?.int == 2
                && context["mhz_per_cpu"]?.int == 2445)
        #expect(context["json_schema_version"]?.int == 1 && context["library_build_type"]?.string == "release")
        let caches = try #require(context["caches"]).items
        #expect(caches.map(\.keys) == Array(repeating: ["type", "level", "size", "num_sharing"], count: 2))
        #expect(
            caches[1]["type"]?.string == "Unified" && caches[1]["size"]?.int == 1 << 25
                && caches[1]["num_sharing"]?.int == 2)
        #expect(context["git_commit"]?.string == "0123456789abcdef0123" && context["preset"]?.string == "default")

        let entries = try #require(doc["benchmarks"]).items
        // Point a: 4 repetitions and mean, median, stddev, cv; point b: 1 repetition, no aggregates; skipped: none.
        #expect(
            entries.compactMap { $0["name"]?.string } == Array(repeating: "standard/n=4096/b=1/h=8/d=64/t=2", count: 4)
                + [
                    "standard/n=4096/b=1/h=8/d=64/t=2_mean", "standard/n=4096/b=1/h=8/d=64/t=2_median",
                    "standard/n=4096/b=1/h=8/d=64/t=2_stddev", "standard/n=4096/b=1/h=8/d=64/t=2_cv",
                    "linear/n=4096/b=1/h=8/d=64/t=2",
                ])
        let iteration = [
            "name", "family_index", "per_family_instance_index", "run_name", "run_type", "repetitions",
            "repetition_index",
            "threads", "iterations", "real_time", "cpu_time", "time_unit",
        ]
        let aggregate = [
            "name", "family_index", "per_family_instance_index", "run_name", "run_type", "repetitions", "threads",
            "aggregate_name", "aggregate_unit", "iterations", "real_time", "cpu_time", "time_unit",
        ]
        let counters = ["gflops", "efficiency", "peak_heap_bytes"]
        for (i, e) in entries.prefix(4).enumerated() {
            #expect(e.keys == iteration + counters)
            #expect(
                e["run_type"]?.string == "iteration" && e["repetition_index"]?.int == i && e["repetitions"]?.int == 4)
            #expect(e["iterations"]?.int == 1 && e["threads"]?.int == 1 && e["time_unit"]?.string == "ns")
            #expect(e["run_name"]?.string == "standard/n=4096/b=1/h=8/d=64/t=2")
        }
        #expect(entries.prefix(4).map { $0["real_time"]?.double ?? 0 } == [21e6, 19e6, 20e6, 24e6])
        #expect(close(entries[1]["cpu_time"]?.double, 38e6))
        #expect(
            close(entries[0]["gflops"]?.double, 8.6 / 0.021)
                && close(entries[0]["efficiency"]?.double, 8.6 / 0.021 / 100))
        #expect(entries[0]["peak_heap_bytes"]?.double == 537_919_488)
        for (e, name) in zip(entries[4..<8], ["mean", "median", "stddev", "cv"]) {
            #expect(e.keys == aggregate + counters)
            #expect(
                e["run_type"]?.string == "aggregate" && e["aggregate_name"]?.string == name && e["iterations"]?.int == 4
            )
            #expect(e["aggregate_unit"]?.string == (name == "cv" ? "percentage" : "time"))
        }
        // Over 21, 19, 20, 24 ms: mean 21, median 20.5, sample stddev √(14/3), cv = stddev/mean.
        let sd = (14.0 / 3).squareRoot()
        #expect(close(entries[4]["real_time"]?.double, 21e6) && close(entries[5]["real_time"]?.double, 20.5e6))
        #expect(close(entries[6]["real_time"]?.double, sd * 1e6) && close(entries[7]["real_time"]?.double, sd / 21))
        #expect(close(entries[5]["cpu_time"]?.double, 41e6) && entries[6]["peak_heap_bytes"]?.double == 0)
        #expect(entries[8]["family_index"]?.int == 1 && entries[8]["repetitions"]?.int == 1)
        // It is JSON.
        #expect(try JSONSerialization.jsonObject(with: Data(doc.text.utf8)) is [String: Any])
    }

    /// The per-call counters are counters of every entry under their CSV names (the row's means, so
    /// the same for every repetition and a `_stddev` of 0); hardware counts only where measured.
    @Test func googleBenchmarkCarriesTheCounters() throws {
        var input = exportInput()
        var rows = input.table.rows
        (rows[0].minorFaultsPerCall, rows[0].majorFaultsPerCall) = (12.5, 0)
        (rows[0].voluntarySwitchesPerCall, rows[0].involuntarySwitchesPerCall) = (3, 0.5)
        (rows[0].userCPUPerCall, rows[0].systemCPUPerCall, rows[0].hardwareCounters) = (0.035, 0.001, .unavailable)
        rows[2].setCounters([
            CallCounters(
                system: .init(
                    minorFaults: 2, majorFaults: 0, voluntarySwitches: 1, involuntarySwitches: 0, userSeconds: 0.002,
                    systemSeconds: 0),
                hardware: .init(cycles: 4e6, instructions: 8e6, llcMisses: 1500))
        ])
        input.table = ResultTable(rows: rows, path: "Results/x.csv")
        let entries = try #require(try ExportFormat.googleBenchmark.document(input)["benchmarks"]).items
        let os = [
            "minor_faults_per_call", "major_faults_per_call", "vol_ctx_switches_per_call",
            "invol_ctx_switches_per_call", "user_cpu_ms_per_call", "sys_cpu_ms_per_call",
        ]
        let hardware = ["cycles_per_call", "instructions_per_call", "llc_misses_per_call"]
        for e in entries.prefix(8) {
            #expect(Array(e.keys.suffix(os.count + 3)) == ["gflops", "efficiency", "peak_heap_bytes"] + os)
        }
        #expect(
            entries[0]["minor_faults_per_call"]?.double == 12.5 && entries[3]["minor_faults_per_call"]?.double == 12.5)
        #expect(close(entries[0]["user_cpu_ms_per_call"]?.double, 35) && entries[0]["cycles_per_call"] == nil)
        #expect(entries[6]["aggregate_name"]?.string == "stddev" && entries[6]["minor_faults_per_call"]?.double == 0)
        #expect(close(entries[4]["invol_ctx_switches_per_call"]?.double, 0.5))
        #expect(Array(entries[8].keys.suffix(hardware.count)) == hardware)
        #expect(entries[8]["cycles_per_call"]?.double == 4e6 && entries[8]["llc_misses_per_call"]?.double == 1500)
        #expect(close(entries[8]["user_cpu_ms_per_call"]?.double, 2))
        // Rows without counters (runs made before them) export as before: exportInput's test above.
    }

    @Test func googleBenchmarkNeedsTheSamples() {
        var input = exportInput()
        input.samples = [:]
        let error = #expect(throws: UsageError.self) { try ExportFormat.googleBenchmark.document(input) }
        #expect(error?.description.contains("2 measured point(s) of Results/x.csv have no samples") == true)
    }

    /// A NaN or infinite time (a corrupt file) is refused, never written as null.
    @Test func nonFiniteTimesAreRefused() throws {
        var input = exportInput()
        input.table.rows[0].median = .nan
        for format in ExportFormat.allCases {
            let error = #expect(throws: UsageError.self) { try format.document(input) }
            #expect(
                error?.description
                    == "Results/x.csv: time_median_ms of standard/n=4096/b=1/h=8/d=64/t=2 is nan, which cannot be exported; re-measure it"
            )
        }
        input = exportInput()
        let b = input.table.rows[2].point
        input.samples[b]?[0].time.seconds = .infinity
        let error = #expect(throws: UsageError.self) { try ExportFormat.googleBenchmark.document(input) }
        #expect(
            error?.description.contains("the seconds of repetition 1 of linear/n=4096/b=1/h=8/d=64/t=2 is inf") == true)
    }

    /// Bencher Metric Format: benchmark → measure → {value, lower_value, upper_value}, as its JSON schema
    /// (https://bencher.dev/bmf.json: every measure an object with a required number `value`).
    @Test func bencherMetricFormat() throws {
        let doc = try ExportFormat.bencher.document(exportInput())
        #expect(doc.keys == ["standard/n=4096/b=1/h=8/d=64/t=2", "linear/n=4096/b=1/h=8/d=64/t=2"])
        let a = try #require(doc["standard/n=4096/b=1/h=8/d=64/t=2"])
        #expect(a.keys == ["latency", "peak-heap"])
        let latency = try #require(a["latency"])
        #expect(latency.keys == ["value", "lower_value", "upper_value"])
        #expect(
            close(latency["value"]?.double, 20e6) && close(latency["lower_value"]?.double, 19e6)
                && close(latency["upper_value"]?.double, 22e6))
        #expect(a["peak-heap"]?.keys == ["value"] && a["peak-heap"]?["value"]?.int == 537_919_488)
        let parsed = try #require(
            try JSONSerialization.jsonObject(with: Data(doc.text.utf8)) as? [String: [String: [String: Double]]])
        #expect(parsed.values.allSatisfy { $0.values.allSatisfy { $0["value"] != nil } })
    }

    /// github-action-benchmark's customSmallerIsBetter: {name, unit, value, range?, extra?}, `range`
    /// in the `± x` form its extractRangeInfo reads.
    @Test func githubActionBenchmarkCustomSmallerIsBetter() throws {
        let entries = try ExportFormat.githubActionBenchmark.document(exportInput()).items
        #expect(
            entries.map { $0["name"]?.string ?? "" } == [
                "standard/n=4096/b=1/h=8/d=64/t=2", "standard/n=4096/b=1/h=8/d=64/t=2 (peak heap)",
                "linear/n=4096/b=1/h=8/d=64/t=2", "linear/n=4096/b=1/h=8/d=64/t=2 (peak heap)",
            ])
        #expect(entries[0].keys == ["name", "unit", "value", "range", "extra"])
        #expect(
            entries[0]["unit"]?.string == "ms" && close(entries[0]["value"]?.double, 20)
                && entries[0]["range"]?.string == "± 1.5")
        #expect(entries[0]["extra"]?.string?.contains("peak heap: 537919488 bytes") == true)
        #expect(
            entries[1].keys == ["name", "unit", "value"] && entries[1]["unit"]?.string == "bytes"
                && entries[1]["value"]?.int == 537_919_488)
        let range = try Regex(#"(\+-|±)\s*\d.*"#)
        #expect(entries.compactMap { $0["range"]?.string }.allSatisfy { $0.firstMatch(of: range) != nil })
        #expect(
            try JSONSerialization.jsonObject(
                with: Data(ExportFormat.githubActionBenchmark.document(exportInput()).text.utf8)) is [Any])
    }
}
