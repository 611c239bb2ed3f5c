import Analysis
import AttentionKernels
import Foundation
import Reporting
import Results
import Testing
import _SeededRandom

@testable import Harness

/// Seeded, deterministic mutation of text: the inputs every parser of outside text gets here.
struct Fuzzer {
    typealias Generator = _SeededRandom.SplitMix64

    var rng: Generator

    init(seed: UInt64) { rng = Generator(state: seed) }

    /// Single characters that matter to some parser: separators, quotes, digits, suffixes, line
    /// endings, comment marks, control and non-ASCII characters.
    static let alphabet: [Unicode.Scalar] = [
        "0", "1", "9", "-", "+", ".", "e", "k", "M", "T", ",", "=", "#", ":", "\"", "\\", " ", "\t", "\n", "\r",
        "{", "}", "[", "]", "\u{0}", "\u{7F}", "µ", "\u{FFFD}", "\u{1F600}",
    ]

    /// Whole values at the edges of what the parsers accept: they replace one token of the text.
    static let extremes = [
        "", "0", "-1", "1", "0.5", "-0", "nan", "NaN", "inf", "-inf", "1e308", "1e-320", "1e400",
        "9223372036854775807", "-9223372036854775808", "9223372036854775808", "18446744073709551615",
        "4611686018427387904", "1...4611686018427387904", "1...9223372036854775807", "1k...64M", "1M...1k",
        "99999999T", "9223372036854775807k", "0x10", "true", "false", "null", "\"", "\"\"", "\"a,b\"",
        "standard", "linformer", "linear", "decode", "forward", "key-value", "none", "skipped", "ok",
        "memory: needs 1 GiB", "é", "\r\n", "\n", "\u{0}", "#", "=", ",,", "[]", "{}", "{\"a\":1}",
    ]

    /// Characters that end a token (for ``replaceToken``).
    static let delimiters: Set<Unicode.Scalar> = [",", "\n", "\r", "=", ":", "\"", " ", "\t", "[", "]", "{", "}"]

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }

    /// `text` after 1–4 random mutations.
    mutating func mutate(_ text: String) -> String {
        var scalars = Array(text.unicodeScalars)
        for _ in 0..<int(1...4) { mutate(&scalars) }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }

    mutating func mutate(_ scalars: inout [Unicode.Scalar]) {
        let at = int(0...scalars.count)
        switch int(0...7) {
        case 0: scalars.insert(Self.alphabet.randomElement(using: &rng) ?? "0", at: at)
        case 1: if at < scalars.count { scalars.remove(at: at) }
        case 2: if at < scalars.count && int(0...3) == 0 { scalars.removeSubrange(at...) }  // truncation, now and then
        // a repeated span (a line twice)
        case 3: scalars.insert(contentsOf: scalars[at...].prefix(int(1...40)), at: at)
        case 4:  // random bytes, decoded as UTF-8 (invalid sequences become U+FFFD)
            let bytes = (0..<int(1...6)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            scalars.insert(contentsOf: String(decoding: bytes, as: UTF8.self).unicodeScalars, at: at)
        case 5: if at < scalars.count, scalars[at] == "\n" { scalars.insert("\r", at: at) }  // CRLF
        default: replaceToken(&scalars, at: at)
        }
    }

    /// Replaces the token around `at` (a field, a value, a number) with one of ``extremes``.
    mutating func replaceToken(_ scalars: inout [Unicode.Scalar], at: Int) {
        var start = min(at, scalars.count)
        var end = start
        while start > 0 && !Self.delimiters.contains(scalars[start - 1]) { start -= 1 }
        while end < scalars.count && !Self.delimiters.contains(scalars[end]) { end += 1 }
        let value = Self.extremes.randomElement(using: &rng) ?? ""
        scalars.replaceSubrange(start..<end, with: value.unicodeScalars)
    }
}

/// Where the repository's files are (the seeds): `<repo>/Tests/HarnessTests/ParserFuzzTests.swift`.
let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

func repositoryText(_ path: String) -> String {
    (try? String(contentsOf: repository.appendingPathComponent(path), encoding: .utf8)) ?? ""
}

/// The header and a few rows of a CSV file: a small, real seed.
func head(_ text: String, rows: Int) -> String {
    text.split(separator: "\n", omittingEmptySubsequences: false).prefix(rows + 1).joined(separator: "\n") + "\n"
}

/// Every parser that reads outside input, on thousands of seeded mutations of real inputs: each
/// input is parsed or refused with a thrown error (the typed `throws` of these parsers allow
/// only ``UsageError``), never a trap. What parses is also used the way the tool uses it (a
/// preset's points through the memory guard, a results table through the analysis and the
/// regression check), since that is where a parsed extreme value would trap.
///
/// A trap stops the test process: set `ATTNBENCH_FUZZ_TRACE=1` to print every input first.
@Suite struct ParserFuzzTests {
    static let trace = ProcessInfo.processInfo.environment["ATTNBENCH_FUZZ_TRACE"] != nil

    /// Runs `parse` on `count` mutations of the seeds; returns (parsed, refused).
    static func fuzz(
        _ name: String, seeds: [String], count: Int, seed: UInt64,
        _ parse: (String) throws -> Void
    ) -> (parsed: Int, refused: Int) {
        var fuzzer = Fuzzer(seed: seed)
        var parsed = 0
        var refused = 0
        for i in 0..<count {
            let text = fuzzer.mutate(seeds[i % seeds.count])
            if trace { print("fuzz \(name) #\(i): \(String(reflecting: text))") }
            do {
                try parse(text)
                parsed += 1
            } catch {
                refused += 1
            }
        }
        return (parsed, refused)
    }

    @Test func valueLists() {
        let seeds = ["512", "512,1024,2048", "512...16384", "1k...64k", "64,128,1k...4k", "1M", " 16 , 32 "]
        let integers = Self.fuzz("integers", seeds: seeds, count: 3_000, seed: 1) { text in
            let values = try ValueList.integers(text, axis: "n")
            #expect(values.allSatisfy { $0 >= 1 } && Set(values).count == values.count, "\(text) → \(values)")
        }
        let bytes = Self.fuzz(
            "bytes", seeds: ["12G", "512M", "1.5G", "4096", "64K", "1T", "0.75k"], count: 3_000, seed: 2
        ) { text in
            let value = try ValueList.bytes(text, axis: "memory-budget")
            #expect(value >= 1 && value <= 1 << 62, "\(text) → \(value)")
            _ = formatBytes(value)
        }
        let names = Self.fuzz(
            "names", seeds: ["standard,linformer,linear", "linear", "none, headwise"], count: 2_000, seed: 3
        ) { text in
            _ = try ValueList.names(text, axis: "mechanism") { name -> Int? in
                Mechanism(rawValue: name).map { _ in 0 } ?? ProjectionSharing(rawValue: name).map { _ in 1 }
                    ?? ["true": 2, "false": 3][name.lowercased()]
            }
        }
        for (name, result) in [("integers", integers), ("bytes", bytes), ("names", names)] {
            #expect(result.parsed > 50 && result.refused > 50, "\(name): \(result)")
        }
    }

    @Test func presets() {
        let seeds = ["ci", "default", "linformer-table3", "rnn-figure1", "rnn-generation"].map {
            repositoryText("Presets/\($0).preset")
        }
        #expect(seeds.allSatisfy { !$0.isEmpty }, "presets not found under \(repository.path)")
        let result = Self.fuzz("preset", seeds: seeds, count: 2_500, seed: 4) { text in
            let spec = try Preset.parse(text, source: "fuzz.preset")
            // The grid, when it is small enough to list, through the checks a run makes first.
            let axes = [
                spec.mechanisms.count, spec.lengths.count, spec.projectedLengths.count, spec.batches.count,
                spec.heads.count, spec.headDims.count, spec.threads.count, spec.causal.count, spec.modes.count,
                spec.prompts.count, spec.sharing.count,
            ]
            guard axes.reduce(1, { $0.multipliedReportingOverflow(by: $1).partialValue }) <= 2_000 else { return }
            let budget = spec.memoryBudget ?? 8 << 30
            for point in try spec.points().prefix(300) {
                _ = PointPlan(point, memoryBudget: budget)
                _ = (point.predictedBytes, point.cost.flops, point.label, point.keyFields)
                _ = try? point.checkMeasurable()
            }
        }
        #expect(result.parsed > 200 && result.refused > 200, "\(result)")
    }

    @Test func thresholds() {
        let seeds = [
            repositoryText("Tests/Fixtures/thresholds.txt"),
            "slope = 0.25\r\nmemory-absolute = 64K\r\nremeasure = 2\r\n",
        ]
        let table = ResultTable(rows: Self.checkRows(), path: "fuzz.csv")
        var compared = 0
        let result = Self.fuzz("thresholds", seeds: seeds, count: 2_000, seed: 5) { text in
            let thresholds = try Thresholds.parse(text, source: "fuzz.txt")
            compared += 1
            if compared % 10 == 0 {
                _ = try? RegressionCheck(thresholds: thresholds).compare(baseline: table, current: table)
            }
        }
        #expect(result.parsed > 200 && result.refused > 200, "\(result)")
    }

    /// Results CSVs: frozen copies of a baseline and reference runs (`Tests/Fixtures`, a few rows each), mutated.
    @Test func resultsTables() {
        let seeds = [
            head(repositoryText("Tests/Fixtures/ci.csv"), rows: 8),
            head(repositoryText("Tests/Fixtures/default.csv"), rows: 6),
            head(repositoryText("Tests/Fixtures/rnn-generation.csv"), rows: 6),
            RowFile.text(Self.checkRows(), ResultRow.table),
        ]
        #expect(seeds.allSatisfy { $0.count > 400 }, "results files not found under \(repository.path)")
        let baseline = ResultTable(rows: Self.checkRows(), path: "baseline.csv")
        let result = Self.fuzz("results", seeds: seeds, count: 1_500, seed: 6) { text in
            let table = try ResultTable(text: text, source: "fuzz.csv")
            // What it writes back reads back.
            let again = try ResultTable(text: table.text, source: "again.csv")
            #expect(again.rows.count == table.rows.count)
            Self.analyse(table)
            _ = try? RegressionCheck(thresholds: Thresholds()).compare(baseline: baseline, current: table)
            _ = try? RegressionCheck(thresholds: Thresholds()).compare(baseline: table, current: table)
            for row in table.rows.prefix(20) {
                _ = try? row.point.checkMeasurable()
                _ = row.point.predictedBytes
            }
        }
        #expect(result.parsed > 150 && result.refused > 150, "\(result)")
    }

    @Test func maxBatchAndTokenTables() {
        let points = Self.checkRows().map(\.point)
        let maxBatch = RowFile.text(
            points.map { p -> MaxBatchRow in
                var row = MaxBatchRow(point: p, status: .ok, budgetBytes: 1 << 30, seed: 42)
                (row.fixedBytes, row.perSampleBytes, row.maxBatch, row.verifiedPeakBytes, row.timePerSample) = (
                    1_000, 20_000, 50_000, 1 << 29, 1e-4
                )
                return row
            }, MaxBatchRow.table)
        let empty = MaxBatchRow(point: points[0], status: .ok, budgetBytes: 0, seed: 0)
        let table = ResultTable(rows: Self.checkRows(), path: "r.csv")
        let batches = Self.fuzz("max-batch", seeds: [maxBatch], count: 1_500, seed: 7) { text in
            var analysis = Analysis(table: table)
            analysis.maxBatch = try RowFile.parse(text, source: "mb.csv", columns: MaxBatchRow.table, empty: empty)
            _ = analysis.table3Cells()
        }
        let tokens = head(repositoryText("Tests/Fixtures/rnn-generation.tokens.csv"), rows: 24)
        #expect(tokens.count > 400, "tokens file not found under \(repository.path)")
        let emptyToken = TokenLatencyRow(
            point: points[0], sample: LatencySample(position: 0, median: 0, min: 0, count: 0))
        let latencies = Self.fuzz("tokens", seeds: [tokens], count: 1_500, seed: 8) { text in
            let rows = try RowFile.parse(text, source: "t.csv", columns: TokenLatencyRow.table, empty: emptyToken)
            var analysis = Analysis(
                table: ResultTable(rows: rows.map { ResultRow(point: $0.point, status: .ok, seed: 1) }))
            analysis.tokenLatency = Dictionary(grouping: rows, by: \.point).mapValues { $0.map(\.sample) }
            _ = analysis.decodeLatencyCurves()
        }
        #expect(batches.parsed > 150 && batches.refused > 150, "max-batch: \(batches)")
        #expect(latencies.parsed > 150 && latencies.refused > 150, "tokens: \(latencies)")
    }

    /// Run metadata (`<name>.meta.json`), as `RunMetadata.read` decodes it, then written back.
    @Test func runMetadata() {
        let seeds = [
            repositoryText("Tests/Fixtures/ci.meta.json"),
            repositoryText("Tests/Fixtures/rnn-generation.meta.json"),
        ]
        #expect(seeds.allSatisfy { $0.count > 400 }, "metadata not found under \(repository.path)")
        let result = Self.fuzz("metadata", seeds: seeds, count: 2_000, seed: 9) { text in
            let metadata = try JSONDecoder().decode(RunMetadata.self, from: Data(text.utf8))
            _ = try? metadata.json()
            var spec = SweepSpec()
            _ = try? Sweep.checkResumable(&spec, previous: metadata, csv: "fuzz.csv")
        }
        #expect(result.parsed > 100 && result.refused > 100, "\(result)")
    }

    // MARK: - Helpers

    /// A small table the check can judge: standard and linear at n = 64, 128, 256.
    static func checkRows() -> [ResultRow] {
        var rows: [ResultRow] = []
        for (mechanism, scale) in [(Mechanism.standard, 1e-8), (.linear, 1e-6)] {
            for n in [64, 128, 256] {
                let x = Double(n)
                let seconds = mechanism == .standard ? scale * x * x : scale * x
                var row = ResultRow(
                    point: SweepPoint(mechanism: mechanism, length: n, batch: 1, heads: 1, headDim: 4, threads: 1),
                    status: .ok, seed: 42)
                row.reps = 10
                (row.median, row.min, row.mean, row.stddev, row.ciLow, row.ciHigh) = (
                    seconds, seconds, seconds, 0, seconds * 0.98, seconds * 1.02
                )
                (row.efficiency, row.ceilingGflops, row.gflops) = (0.5, 50, 25)
                (row.peakHeapBytes, row.modelBytes) = (64 * n, 64 * n)
                rows.append(row)
            }
        }
        return rows
    }

    /// Everything the analysis derives from a table (what plots and reports are made of).
    static func analyse(_ table: ResultTable) {
        let analysis = Analysis(table: table)
        for series in analysis.series { _ = (series.timeFit, series.memoryFit) }
        _ = analysis.perSampleCurves()
        _ = analysis.standardMemoryLimit()
        _ = analysis.batchCurves()
        _ = analysis.table3Cells()
        _ = analysis.decodeSeries()
        _ = analysis.decodeSpeedups()
        _ = analysis.decodeLatencyCurves()
    }

}
