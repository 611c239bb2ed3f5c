import Analysis
import AttentionKernels
import Foundation
import Harness
import Reporting
import Results
import Testing

func temporaryPath(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("attnbench-\(UUID().uuidString)-\(name)").path
}

/// A small, fast sweep for end-to-end tests (debug builds run these too).
func tinySpec() throws -> SweepSpec {
    var spec = SweepSpec()
    for (key, value) in [
        ("mechanism", "standard,linformer,linear"), ("n", "16,32"), ("k", "8,32"), ("batch", "1"),
        ("heads", "2"), ("head-dim", "8"), ("threads", "1"), ("warmups", "0"), ("min-reps", "2"),
        ("min-time", "0"), ("max-time", "1"),
    ] {
        try spec.apply(key, value)
    }
    return spec
}

/// A sweep with a fixed sgemm ceiling (100 GF/s) instead of timing a 1024³ sgemm per thread count.
func testSweep(_ spec: SweepSpec, output: String) -> Sweep {
    var sweep = Sweep(spec: spec, output: output, buildConfiguration: "test")
    sweep.ceiling = { _ in 100 }
    return sweep
}

@Suite(.serialized) struct SweepRunTests {
    @Test func aSweepWritesOneRowPerPointAndMetadata() throws {
        let path = temporaryPath("sweep.csv")
        defer { for p in [path] + ResultsFile.sidecars(of: path) { try? FileManager.default.removeItem(atPath: p) } }
        let spec = try tinySpec()
        let summary = try testSweep(spec, output: path).run()
        let rows = try CSV.parse(String(contentsOfFile: path, encoding: .utf8)).rows
        #expect(rows.first == ResultRow.columns)
        #expect(try rows.count - 1 == spec.points().count)
        // n = 16 with k = 32 and n = 32 with k = 32 are dashes; everything else ran.
        #expect(summary.skipped == 2 && summary.measured == rows.count - 3)
        let status = ResultRow.columns.firstIndex(of: "status")!
        let reason = ResultRow.columns.firstIndex(of: "reason")!
        #expect(rows.dropFirst().filter { $0[status] == "skipped" }.allSatisfy { $0[reason].contains("k >= n") })
        let heap = ResultRow.columns.firstIndex(of: "peak_heap_bytes")!
        let model = ResultRow.columns.firstIndex(of: "model_bytes")!
        for row in rows.dropFirst() where row[status] == "ok" {
            #expect(Int(row[heap])! >= Int(row[model])! - 100 * 1024)
        }
        let metadata = try #require(try RunMetadata.read(from: RunMetadata.path(forCSV: path)))
        #expect(metadata.sessions.count == 1 && metadata.sessions[0].completed)
        #expect(metadata.sgemmCeilingGflops["1"] == 100)
        #expect(metadata.libraries.jemallocVersion?.hasPrefix("5.") == true)
    }

    /// Backward and training points measure what their pass allocates: the heap jemalloc sees is the
    /// cost model's (within the check's 2% + 1 MiB), and the FLOPs are the pass's.
    @Test func backwardAndTrainingPointsMeasureTheirPass() throws {
        let path = temporaryPath("train.csv")
        defer {
            try? FileManager.default.removeItem(atPath: path)
            try? FileManager.default.removeItem(atPath: RunMetadata.path(forCSV: path))
        }
        var spec = try tinySpec()
        try spec.apply("n", "64")
        try spec.apply("k", "8")
        try spec.apply("causal", "false,true")
        try spec.apply("pass", "forward,backward,train")
        let summary = try testSweep(spec, output: path).run()
        let table = try ResultTable(path: path)
        #expect(summary.measured == 3 * 5 && table.measured.count == 15)
        for row in table.measured {
            let (heap, model) = (try #require(row.peakHeapBytes), try #require(row.modelBytes))
            #expect(abs(heap - model) <= model / 50 + (1 << 20), "\(row.point.label): heap \(heap), model \(model)")
            #expect(model == row.point.cost.callPeakBytes && row.modelGflop == row.point.cost.flops / 1e9)
        }
        // Per kernel: a training step costs a forward's and a backward's FLOPs.
        for row in table.measured where row.point.pass == .train {
            var forward = row.point
            var backward = row.point
            (forward.pass, backward.pass) = (.forward, .backward)
            let parts = [forward, backward].compactMap { table.byKey[$0]?.modelGflop }
            #expect(parts.count == 2 && abs(parts.reduce(0, +) - (row.modelGflop ?? 0)) < 1e-9)
        }
    }

    /// An interrupted file (some rows, then half a row) resumes to exactly one row per point.
    @Test func resumeCompletesWithoutDuplicatesOrLosses() throws {
        let path = temporaryPath("resume.csv")
        defer { for p in [path] + ResultsFile.sidecars(of: path) { try? FileManager.default.removeItem(atPath: p) } }
        let spec = try tinySpec()
        _ = try testSweep(spec, output: path).run()
        let full = try String(contentsOfFile: path, encoding: .utf8)
        let lines = full.split(separator: "\n", omittingEmptySubsequences: false)
        let cut = lines.prefix(4).joined(separator: "\n") + "\n" + lines[4].prefix(20)  // header, 3 rows, half a row
        try cut.write(toFile: path, atomically: true, encoding: .utf8)

        var sweep = testSweep(spec, output: path)
        sweep.resume = true
        let summary = try sweep.run()
        #expect(summary.alreadyDone == 3)
        let rows = try CSV.parse(String(contentsOfFile: path, encoding: .utf8))
        #expect(rows.unterminated == nil)
        let keys = rows.rows.dropFirst().map { Array($0.prefix(ResultRow.keyColumns.count)) }
        #expect(try keys.count == spec.points().count)
        #expect(Set(keys) == Set(try spec.points().map(\.keyFields)))
        let metadata = try #require(try RunMetadata.read(from: RunMetadata.path(forCSV: path)))
        #expect(metadata.sessions.count == 2)
    }

    @Test func existingFilesAreNeverSilentlyReplaced() throws {
        let path = temporaryPath("exists.csv")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "precious\n".write(toFile: path, atomically: true, encoding: .utf8)
        let error = #expect(throws: UsageError.self) { try ResultsFile(path: path, resume: false, overwrite: false) }
        #expect(error?.description.contains("--resume") == true)
        let schema = #expect(throws: UsageError.self) { try ResultsFile(path: path, resume: true, overwrite: false) }
        #expect(schema?.description.contains("different columns") == true)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "precious\n")
    }

    @Test func rowFieldsAreExactText() {
        let point = SweepPoint(
            mechanism: .linformer, sharing: .keyValue, length: 1024, projectedLength: 128, batch: 4, heads: 8,
            headDim: 64, threads: 2)
        var row = ResultRow(point: point, status: .ok, seed: 42)
        row.reps = 7
        (row.median, row.min, row.mean, row.stddev, row.ciLow, row.ciHigh) = (
            0.0125, 0.012, 0.0126, 0.0004, 0.0122, 0.013
        )
        row.noisy = false
        row.tokensPerSecond = 327680
        row.modelGflop = 0.268435456
        row.gflops = 21.4748
        row.ceilingGflops = 150
        row.efficiency = 0.143165
        (row.peakHeapBytes, row.modelBytes, row.peakRSSBytes, row.paramBytes) = (
            12_000_000, 11_534_336, 900_000_000, 1_048_576
        )
        row.approxRelError = 0.4321
        (row.minorFaultsPerCall, row.majorFaultsPerCall) = (3.5, 0)
        (row.voluntarySwitchesPerCall, row.involuntarySwitchesPerCall) = (2, 0.25)
        (row.userCPUPerCall, row.systemCPUPerCall, row.hardwareCounters) = (0.0125, 0.0001, .unavailable)
        #expect(
            CSV.line(row.fields)
                == "linformer,attnbench,core,forward,,forward,false,key-value,1024,128,,,,,,4,8,64,,,2,ok,,7,12.500000,12.000000,12.600000,0.400000,12.200000,13.000000,false,327680,0.268435,21.475,150.000,0.1432,12000000,11534336,1048576,900000000,0.4321,3.5,0,2,0.25,12.500000,0.100000,unavailable,,,,42\n"
        )
        let skipped = ResultRow(
            point: SweepPoint(mechanism: .standard, length: 65536, batch: 1, heads: 8, headDim: 64, threads: 2),
            status: .skipped, reason: "memory: needs 128.5 GiB > budget 12.0 GiB", seed: 42)
        #expect(
            CSV.line(skipped.fields)
                == "standard,attnbench,core,forward,,forward,false,,65536,,,,,,,1,8,64,,,2,skipped,memory: needs 128.5 GiB > budget 12.0 GiB,,,,,,,,,,,,,,,,,,,,,,,,,,,,,42\n"
        )
    }

    @Test func maxBatchFitsTheBudgetAndIsVerified() throws {
        let budget = 6 << 20
        let finder = MaxBatch(budget: budget, seed: 1)
        let point = SweepPoint(mechanism: .standard, length: 64, batch: 1, heads: 2, headDim: 16, threads: 1)
        let row = try finder.find(point)
        #expect(row.status == .ok)
        let (batch, peak, perSample) = (
            try #require(row.maxBatch), try #require(row.verifiedPeakBytes), try #require(row.perSampleBytes)
        )
        #expect(peak <= budget)
        // Per sample: inputs 3·h·n·d·4 + scores h·n²·4 + output h·n·d·4 = 64 KiB, within jemalloc's
        // size-class rounding (seen: +9% at these small sizes).
        let analytic = 3 * 2 * 64 * 16 * 4 + 2 * 64 * 64 * 4 + 2 * 64 * 16 * 4
        #expect(perSample >= analytic && perSample <= analytic * 115 / 100, "per sample \(perSample)")
        #expect(batch >= 70 && batch <= budget / perSample)
        // What bounds it from above: batch + 1 run over the budget, or a reason naming the batch that was refused.
        if let over = row.overPeakBytes {
            #expect(over > budget && row.isVerifiedExact == true)
        } else {
            #expect(
                row.reason.hasPrefix("batch ") && row.reason.hasSuffix("> budget") || row.reason.contains("within 1%"),
                "\(row.reason)")
        }
    }
}
