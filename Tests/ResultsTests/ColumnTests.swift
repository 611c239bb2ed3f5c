import AttentionTypes
import Foundation
import Reporting
import Results
import Testing

/// A row with every column set, to values its column formats write exactly.
func fullRow() -> ResultRow {
    let point = SweepPoint(
        mechanism: .linformer, sharing: .keyValue, length: 1024, projectedLength: 128, batch: 2,
        heads: 8, headDim: 64, threads: 2)
    var r = ResultRow(point: point, status: .ok, reason: "a, \"quoted\" reason", seed: 7)
    r.reps = 9
    (r.median, r.min, r.mean, r.stddev, r.ciLow, r.ciHigh) = (0.0125, 0.0120, 0.013, 0.0005, 0.01225, 0.01275)
    r.noisy = false
    r.tokensPerSecond = 163840
    r.modelGflop = 0.5
    (r.gflops, r.ceilingGflops, r.efficiency) = (40, 100, 0.4)
    (r.peakHeapBytes, r.modelBytes, r.peakRSSBytes) = (1 << 20, 1 << 20, 1 << 30)
    r.approxRelError = 1.5
    (r.minorFaultsPerCall, r.majorFaultsPerCall) = (12.5, 0)
    (r.voluntarySwitchesPerCall, r.involuntarySwitchesPerCall) = (3, 0.25)
    (r.userCPUPerCall, r.systemCPUPerCall) = (0.0245, 0.0005)
    r.hardwareCounters = .measured
    (r.cyclesPerCall, r.instructionsPerCall, r.llcMissesPerCall) = (4.5e7, 9e7, 12345)
    return r
}

@Suite struct ColumnTests {
    /// One column table writes and reads every file: a row survives the round trip field for field.
    @Test func resultRowsRoundTrip() throws {
        let rows = [
            fullRow(),
            ResultRow(
                point: SweepPoint(
                    mechanism: .standard, mode: .decode, causal: true, length: 512, prompt: 1,
                    batch: 1, heads: 4, headDim: 32, threads: 1), status: .skipped, reason: "memory", seed: 42),
        ]
        let text = RowFile.text(rows, ResultRow.table)
        #expect(text.hasPrefix(ResultRow.columns.joined(separator: ",") + "\n"))
        #expect(try ResultTable(text: text, source: "t.csv").rows == rows)
        // Not measured is empty, never 0.
        #expect(rows[1].fields[ResultRow.columns.firstIndex(of: "time_median_ms") ?? 0] == "")
        #expect(
            rows[0].fields.prefix(ResultRow.keyColumns.count) == [
                "linformer", "attnbench", "core", "forward", "", "forward", "false", "key-value", "1024", "128", "", "",
                "", "", "", "2", "8", "64", "", "", "2",
            ])
    }

    /// A results file written before Reformer's and Performer's columns (`hash_rounds`, `buckets`,
    /// `chunk`, `features`) reads as before, those columns empty; a file missing a required column
    /// does not.
    @Test func aFileWithoutLaterOptionalColumnsStillReads() throws {
        let row = fullRow()
        let added: Set = ["hash_rounds", "buckets", "chunk", "features"]
        let keep = ResultRow.columns.enumerated().filter { !added.contains($0.element) }.map(\.offset)
        let old = CSV.line(keep.map { ResultRow.columns[$0] }) + CSV.line(keep.map { row.fields[$0] })
        #expect(try ResultTable(text: old, source: "old.csv").rows == [row])
        let reordered = ["n", "mechanism"] + ResultRow.columns.filter { $0 != "n" && $0 != "mechanism" }
        #expect(throws: UsageError.self) {
            try ResultTable(text: reordered.joined(separator: ",") + "\n", source: "x.csv")
        }
    }

    /// A results file written before the counters (the committed results, such as the `ci` fixture)
    /// reads with every counter column empty; the rest of the row is as written.
    @Test func aFileWithoutTheCountersStillReads() throws {
        var row = fullRow()
        let counters: Set = [
            "minor_faults_per_call", "major_faults_per_call", "vol_ctx_switches_per_call",
            "invol_ctx_switches_per_call", "user_cpu_ms_per_call", "sys_cpu_ms_per_call", "hw_counters",
            "cycles_per_call", "instructions_per_call", "llc_misses_per_call",
        ]
        #expect(counters.isSubset(of: ResultRow.columns))
        let keep = ResultRow.columns.enumerated().filter { !counters.contains($0.element) }.map(\.offset)
        let old = CSV.line(keep.map { ResultRow.columns[$0] }) + CSV.line(keep.map { row.fields[$0] })
        (row.minorFaultsPerCall, row.majorFaultsPerCall, row.hardwareCounters) = (nil, nil, nil)
        (row.voluntarySwitchesPerCall, row.involuntarySwitchesPerCall) = (nil, nil)
        (row.userCPUPerCall, row.systemCPUPerCall) = (nil, nil)
        (row.cyclesPerCall, row.instructionsPerCall, row.llcMissesPerCall) = (nil, nil, nil)
        #expect(try ResultTable(text: old, source: "old.csv").rows == [row])
        let fixture = try ResultTable(
            path: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("Fixtures/ci.csv").path)
        #expect(!fixture.measured.isEmpty)
        #expect(fixture.rows.allSatisfy { $0.minorFaultsPerCall == nil && $0.hardwareCounters == nil })
    }

    /// The per-call columns are the means over the timed calls; `hw_counters` is `measured` only when
    /// every call has hardware counts, else `unavailable` with those columns empty.
    @Test func countersAreMeansOverTheCalls() {
        func call(_ faults: Int, _ user: Double, cycles: Double?) -> CallCounters {
            CallCounters(
                system: .init(
                    minorFaults: faults, majorFaults: 0, voluntarySwitches: 2 * faults, involuntarySwitches: 1,
                    userSeconds: user, systemSeconds: user / 10),
                hardware: cycles.map { .init(cycles: $0, instructions: 2 * $0, llcMisses: 1) })
        }
        var row = fullRow()
        row.setCounters([call(1, 0.01, cycles: 100), call(4, 0.03, cycles: 300)])
        #expect(row.minorFaultsPerCall == 2.5 && row.voluntarySwitchesPerCall == 5 && row.majorFaultsPerCall == 0)
        #expect(abs((row.userCPUPerCall ?? 0) - 0.02) < 1e-15 && abs((row.systemCPUPerCall ?? 0) - 0.002) < 1e-15)
        #expect(row.hardwareCounters == .measured && row.cyclesPerCall == 200 && row.instructionsPerCall == 400)
        row.setCounters([call(1, 0.01, cycles: 100), call(4, 0.03, cycles: nil)])
        #expect(row.hardwareCounters == .unavailable && row.cyclesPerCall == nil && row.llcMissesPerCall == nil)
        #expect(row.minorFaultsPerCall == 2.5)
        let fields = row.fields
        #expect(fields[ResultRow.columns.firstIndex(of: "hw_counters") ?? 0] == "unavailable")
        #expect(fields[ResultRow.columns.firstIndex(of: "cycles_per_call") ?? 0] == "")
        #expect(fields[ResultRow.columns.firstIndex(of: "user_cpu_ms_per_call") ?? 0] == "20.000000")
        row.setCounters([nil, call(1, 0, cycles: 1)])
        #expect(row.minorFaultsPerCall == nil && row.hardwareCounters == .unavailable)
    }

    /// A results file written before the `pass` column is refused with the column named, not misread.
    @Test func aFileWithoutThePassColumnNamesIt() {
        let old = ResultRow.columns.filter { $0 != "pass" }
        let error = #expect(throws: UsageError.self) {
            try ResultTable(text: old.joined(separator: ",") + "\n", source: "old.csv")
        }
        #expect(error?.description == "old.csv has a different schema (missing: pass); regenerate it with this version")
    }

    /// A peer's rows share the schema: the `framework` column right after the mechanism names who
    /// measured the row (`attnbench` for the suite's own), the mechanism is bare, and both round-trip;
    /// an unknown framework or mechanism does not parse.
    @Test func peerRowsNameTheirFramework() throws {
        var own = fullRow()
        own.point = SweepPoint(
            mechanism: .flash, causal: true, length: 4096, batch: 1, heads: 8, headDim: 64, threads: 2)
        var peers: [ResultRow] = []
        for peer in Peer.allCases {
            var row = own
            row.point.peer = peer
            row.peakHeapBytes = nil
            peers.append(row)
        }
        let text = RowFile.text([own] + peers, ResultRow.table)
        #expect(ResultRow.columns.prefix(3) == ["mechanism", "framework", "scope"])
        #expect(own.fields.prefix(2) == ["flash", "attnbench"])
        #expect(peers.map { $0.fields[1] } == ["pytorch", "onnxruntime", "openvino", "jax", "fast-transformers"])
        #expect(
            peers[0].fields.prefix(ResultRow.keyColumns.count) == [
                "flash", "pytorch", "core", "forward", "", "forward", "true", "", "4096", "", "", "", "", "", "", "1",
                "8", "64", "", "", "2",
            ])
        let read = try ResultTable(text: text, source: "p.csv").rows
        #expect(
            read == [own] + peers && read[1].point.ownCounterpart == own.point
                && read[1].point.label == "torch-flash causal n=4096 b=1 h=8 d=64 t=2")
        for (column, bad) in [
            ("mechanism", "jax-flash"), ("mechanism", "torch-"), ("mechanism", "torch-softmax"),
            ("mechanism", "-flash"), ("mechanism", "torch-torch-flash"), ("framework", "tensorflow"),
            ("framework", "torch"),
        ] {
            let line = "flash,pytorch,"
            let replaced = column == "mechanism" ? "\(bad),pytorch," : "flash,\(bad),"
            let error = #expect(throws: UsageError.self) {
                try ResultTable(text: text.replacingOccurrences(of: line, with: replaced), source: "p.csv")
            }
            #expect(error?.description == "p.csv: line 3, column \(column): '\(bad)' does not parse")
        }
    }

    /// A file written before the framework column (no such column; PyTorch's rows prefixed `torch-`)
    /// still reads: bare mechanisms as attnbench's, `torch-` ones as PyTorch's; a new file whose
    /// framework contradicts a `torch-` prefix does not parse.
    @Test func filesBeforeTheFrameworkColumnStillRead() throws {
        var own = fullRow()
        own.point = SweepPoint(mechanism: .standard, length: 1024, batch: 1, heads: 8, headDim: 64, threads: 2)
        var torch = own
        torch.point.peer = .pytorch
        let old = ResultRow.table.filter { $0.name != "framework" }
        // Without the framework column both rows are written alike; the second (PyTorch's) gets its prefix.
        var oldText = RowFile.text([own, torch], old)
        let second = try #require(oldText.range(of: "\nstandard,core,", options: .backwards))
        oldText.replaceSubrange(second, with: "\ntorch-standard,core,")
        #expect(!oldText.contains("framework") && oldText.contains("\ntorch-standard,core,"))
        let read = try ResultTable(text: oldText, source: "old.csv").rows
        #expect(read.map(\.point.peer) == [nil, .pytorch] && read == [own, torch])
        let contradiction = RowFile.text([torch], ResultRow.table).replacingOccurrences(
            of: "\nstandard,pytorch,", with: "\ntorch-standard,jax,")
        let error = #expect(throws: UsageError.self) { try ResultTable(text: contradiction, source: "p.csv") }
        #expect(error?.description == "p.csv: line 2, column framework: 'jax' does not parse")
    }

    @Test func maxBatchAndTokenRowsRoundTrip() throws {
        var m = MaxBatchRow(point: fullRow().point, status: .ok, budgetBytes: 16 << 30, seed: 3)
        (m.fixedBytes, m.perSampleBytes, m.maxBatch, m.verifiedPeakBytes, m.timePerSample) = (
            1000, 2000, 42, 85000, 0.25
        )
        #expect(
            try RowFile.parse(
                RowFile.text([m], MaxBatchRow.table), source: "m.csv", columns: MaxBatchRow.table,
                empty: MaxBatchRow(point: m.point, status: .skipped, budgetBytes: 0, seed: 0)) == [m])
        let t = TokenLatencyRow(
            point: fullRow().point, sample: LatencySample(position: 16, median: 2.5e-6, min: 2e-6, count: 30))
        let text = RowFile.text([t], TokenLatencyRow.table)
        #expect(text.hasSuffix(",16,2.5000,2.0000,30\n"))
        let read = try RowFile.parse(text, source: "t.csv", columns: TokenLatencyRow.table, empty: t)
        #expect(RowFile.text(read, TokenLatencyRow.table) == text)
        #expect(read.map(\.point) == [t.point] && abs(read[0].sample.median - 2.5e-6) < 1e-18)
    }

    @Test func badFilesAreOneLineErrors() throws {
        let good = RowFile.text([fullRow()], ResultRow.table)
        let schema = #expect(throws: UsageError.self) {
            try ResultTable(text: "mechanism,n\nstandard,512\n", source: "s.csv")
        }
        #expect(schema?.description.contains("different schema") == true)
        let bad = good.replacingOccurrences(of: ",1024,", with: ",many,")
        let field = #expect(throws: UsageError.self) { try ResultTable(text: bad, source: "b.csv") }
        #expect(field?.description == "b.csv: line 2, column n: 'many' does not parse")
        // A last line cut by an interrupted write is left out; the rows before it are whole.
        #expect(try ResultTable(text: good + "standard,forw", source: "cut.csv").rows.count == 1)
        #expect(throws: UsageError.self) { try ResultTable(text: "", source: "empty.csv") }
    }

    @Test func sidecarsFollowOneRule() {
        #expect(RunMetadata.path(forCSV: "Results/x.csv") == "Results/x.meta.json")
        #expect(TokenLatencyRow.path(forCSV: "sc/gen") == "sc/gen.tokens.csv")
    }
}
