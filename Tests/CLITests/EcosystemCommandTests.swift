import Foundation
import Reporting
import Results
import Testing

/// `compare`, `export`, `run --shard`/`--plan` and `merge` through the real binary.
@Suite(.serialized) struct EcosystemCommandTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func folder() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("attnbench-eco-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Writes a results CSV whose one point has `seconds` as its samples.
    func writeRun(_ path: String, _ seconds: [Double], samples: Bool = true) throws {
        let point = SweepPoint(mechanism: .linear, length: 1024, batch: 1, heads: 4, headDim: 32, threads: 1)
        var row = ResultRow(point: point, status: .ok, seed: 42)
        if let s = SampleStatistics(seconds) {
            (row.median, row.ciLow, row.ciHigh, row.reps) = (s.median, s.ciLow, s.ciHigh, s.count)
        }
        row.peakHeapBytes = 4096
        try RowFile.text([row], ResultRow.table).write(toFile: path, atomically: true, encoding: .utf8)
        if samples {
            let rows = SampleRow.rows(
                point, RepetitionSample.numbering([seconds.map { CallTime(seconds: $0, cpuSeconds: $0) }]))
            try RowFile.text(rows, SampleRow.table).write(
                toFile: SampleRow.path(forCSV: path), atomically: true, encoding: .utf8)
        }
    }

    @Test func compareExitsOneOnlyWhenAskedAndSlower() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (old, new) = ("\(dir)/old.csv", "\(dir)/new.csv")
        try writeRun(old, (1...12).map { 0.010 + Double($0) * 1e-5 })
        try writeRun(new, (1...12).map { 0.012 + Double($0) * 1e-5 })
        let plain = try attnbench(["compare", old, new])
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect(
            plain.stdout.contains("slower") && plain.stdout.contains("+19.")
                && plain.stdout.contains("4096 → 4096 (+0)"))
        #expect(try attnbench(["compare", old, new, "--fail-on-slower"]).status == 1)
        #expect(try attnbench(["compare", new, old, "--fail-on-slower"]).status == 0)  // faster is not a failure
        #expect(try attnbench(["compare", old, new, "--min-effect", "0.5", "--fail-on-slower"]).status == 0)
        let markdown = try attnbench(["compare", old, new, "--format", "markdown"])
        #expect(markdown.stdout.hasPrefix("## Comparison\n") && markdown.stdout.contains("| --- |"))
        for bad in [["compare", old, "\(dir)/none.csv"], ["compare", old, new, "--alpha", "2"]] {
            let result = try attnbench(bad)
            #expect(result.status == 64, "\(bad): \(result.stderr)")
        }
    }

    @Test func exportWritesEachFormatAndFollowsTheOutputRules() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let input = "\(dir)/r.csv"
        try writeRun(input, [0.01, 0.011, 0.012])
        for format in ["google-benchmark", "bencher", "github-action-benchmark"] {
            let out = "\(dir)/\(format).json"
            let result = try attnbench(["export", "--input", input, "--format", format, "--output", out])
            #expect(result.status == 0, "\(format): \(result.stderr)")
            #expect(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) is NSObject)
            let again = try attnbench(["export", "--input", input, "--format", format, "--output", out])
            #expect(again.status == 64 && again.stderr.contains("already exists"))
        }
        let onto = try attnbench([
            "export", "--input", input, "--format", "bencher", "--output", SampleRow.path(forCSV: input), "--overwrite",
        ])
        #expect(onto.status == 64 && onto.stderr.contains("is also an input"))
        try writeRun("\(dir)/old.csv", [0.01], samples: false)
        let noSamples = try attnbench([
            "export", "--input", "\(dir)/old.csv", "--format", "google-benchmark", "--output", "\(dir)/g.json",
        ])
        #expect(noSamples.status == 64 && noSamples.stderr.contains("have no samples"))
        #expect(noSamples.stderr.split(separator: "\n").count == 1)
    }

    /// Two shards through the CLI, merged: the unsharded plan's keys, in order; then plot, report,
    /// check, compare and export read the merged file like any other. (Forward points only: `check`
    /// refuses the 0-byte peaks that decode points this small record; ShardMergeTests joins decode
    /// points' latencies.)
    @Test func shardsMergeIntoTheUnshardedPlan() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let grid = [
            "--allow-debug", "--quiet", "--mechanism", "standard,linformer,linear", "--n", "32...128", "--k", "16",
            "--batch", "1",
            "--heads", "2", "--head-dim", "8", "--threads", "1", "--causal", "false,true", "--warmups", "0",
            "--min-reps", "3",
            "--min-time", "0", "--max-time", "0.5",
        ]
        let plan = try attnbench(["run", "--plan"] + grid)
        // 3 n × (standard ×2, linear ×2, Linformer, causal Linformer: a skipped row saying why)
        #expect(plan.status == 0 && plan.stderr.contains("plan: 18 of 18 points"), "\(plan.stderr)")
        var shardKeys: [String] = []
        for i in 1...2 {
            let part = try attnbench(["run", "--plan", "--shard", "\(i)/2"] + grid)
            shardKeys += part.stdout.split(separator: "\n").dropFirst().map(String.init)
            let run = try attnbench(["run", "--shard", "\(i)/2", "--output", "\(dir)/s\(i).csv"] + grid)
            #expect(run.status == 0, "\(run.stderr)")
        }
        #expect(shardKeys.sorted() == plan.stdout.split(separator: "\n").dropFirst().map(String.init).sorted())
        let all = "\(dir)/all.csv"
        let merge = try attnbench(["merge", "--output", all, "--require-complete", "\(dir)/s2.csv", "\(dir)/s1.csv"])
        #expect(
            merge.status == 0 && merge.stdout.contains("18 of 18 points from 2 of 2 shard(s)"),
            "\(merge.stdout)\(merge.stderr)")
        let keys = try CSV.parse(String(contentsOfFile: all, encoding: .utf8)).rows.map {
            $0.prefix(ResultRow.keyColumns.count).joined(separator: ",")
        }
        #expect(keys == plan.stdout.split(separator: "\n").map(String.init))
        #expect(FileManager.default.fileExists(atPath: SampleRow.path(forCSV: all)))
        // no decode points, no latencies
        #expect(!FileManager.default.fileExists(atPath: TokenLatencyRow.path(forCSV: all)))

        let again = try attnbench(["merge", "--output", all, "\(dir)/s1.csv", "\(dir)/s2.csv"])
        #expect(again.status == 64 && again.stderr.contains("already exists"))
        let onto = try attnbench([
            "merge", "--output", "\(dir)/s1.csv", "--overwrite", "\(dir)/s1.csv", "\(dir)/s2.csv",
        ])
        #expect(onto.status == 64 && onto.stderr.contains("is also an input"))
        let partial = try attnbench(["merge", "--output", "\(dir)/part.csv", "--require-complete", "\(dir)/s1.csv"])
        #expect(partial.status == 1 && partial.stdout.contains("missing shard 2/2"))

        let data = Self.repository.appendingPathComponent("Data").path
        let inputs = [
            "--input", all, "--paper", "\(data)/linformer_table3.csv", "--paper-generation",
            "\(data)/rnn_generation.csv",
            "--max-batch", "\(dir)/none.csv",
        ]
        let plot = try attnbench(["plot", "--output", "\(dir)/plots"] + inputs)
        #expect(plot.status == 0, "\(plot.stderr)")
        // A figure this run does not draw (no decode points) left from an earlier run is removed by
        // --overwrite; files that are not a figure's stay.
        for stale in ["decode-speedup.gp", "decode-speedup.png", "notes.txt"] {
            try "old\n".write(toFile: "\(dir)/plots/\(stale)", atomically: true, encoding: .utf8)
        }
        let replot = try attnbench(["plot", "--output", "\(dir)/plots", "--overwrite"] + inputs)
        #expect(replot.status == 0, "\(replot.stderr)")
        #expect(
            replot.stdout.contains("plot: removed \(dir)/plots/decode-speedup.png, a figure this run does not draw"))
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/plots/decode-speedup.gp"))
        #expect(FileManager.default.fileExists(atPath: "\(dir)/plots/notes.txt"))
        #expect(FileManager.default.fileExists(atPath: "\(dir)/plots/scaling.gp"))
        let report = try attnbench(["report", "--output", "\(dir)/report.md", "--plots", "\(dir)/plots"] + inputs)
        #expect(report.status == 0, "\(report.stderr)")
        #expect(try String(contentsOfFile: "\(dir)/report.md", encoding: .utf8).contains("| sessions |"))
        let check = try attnbench([
            "check", "--baseline", all, "--current", all, "--no-remeasure",
            "--thresholds", Self.repository.appendingPathComponent("Baselines/thresholds.txt").path,
        ])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        let compare = try attnbench(["compare", "\(dir)/s1.csv", all])
        #expect(compare.status == 0 && compare.stdout.contains("only in \(all)"))
        let export = try attnbench([
            "export", "--input", all, "--format", "google-benchmark", "--output", "\(dir)/gb.json",
        ])
        #expect(export.status == 0, "\(export.stderr)")
    }
}
