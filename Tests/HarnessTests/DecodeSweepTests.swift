import Analysis
import AttentionKernels
import Decoding
import Foundation
import Harness
import Reporting
import Results
import Testing

/// Decode points through the harness: the grid, the plan, the row text, the latency samples.
@Suite(.serialized) struct DecodeSweepTests {
    func spec(_ settings: [(String, String)]) throws -> SweepSpec {
        var spec = SweepSpec()
        for (key, value) in [
            ("heads", "2"), ("head-dim", "8"), ("threads", "1"), ("warmups", "0"), ("min-reps", "2"),
            ("min-time", "0"), ("max-time", "1"),
        ] + settings {
            try spec.apply(key, value)
        }
        return spec
    }

    /// Decode points are causal whatever the causal axis says, one per prompt, and Linformer's is
    /// planned as a skip that says why; a prompt as long as n is a skip too.
    @Test func decodePointsAreCausalAndLinformerIsSkippedWithItsReason() throws {
        let points = try spec([
            ("mechanism", "standard,linformer,linear"), ("mode", "forward,decode"), ("n", "64"),
            ("k", "16"), ("causal", "false"), ("prompt", "1,64"),
        ]).points()
        let decode = points.filter { $0.mode == .decode }
        #expect(points.filter { $0.mode == .forward }.count == 3)
        #expect(decode.count == 6 && decode.allSatisfy(\.causal))
        #expect(Set(decode.map(\.prompt)) == [1, 64])
        for p in decode {
            switch (p.mechanism, p.prompt, PointPlan(p, memoryBudget: 1 << 30)) {
            case (.linformer, _, .skip(let reason)): #expect(reason == Generation.unsupported(.linformer)?.description)
            case (_, 64, .skip(let reason)): #expect(reason.hasPrefix("prompt >= n"))
            case (_, 1, .run): break
            case let other: Issue.record("unexpected plan \(other)")
            }
        }
        #expect(throws: UsageError.self) { try spec([("mode", "sideways")]) }
    }

    /// A decode point's memory guard counts the cache, not Q, K, V: its predicted bytes are the
    /// generation's parameters and state.
    @Test func decodePredictedBytesAreTheKVCache() {
        let p = SweepPoint(
            mechanism: .standard, mode: .decode, causal: true, length: 1 << 16, prompt: 1,
            batch: 1, heads: 8, headDim: 32, threads: 1)
        let cache = 8 * (2 * 65536 * 32 + 65536) * 4
        let scratch = 8 * 5 * 32 * 4
        #expect(p.cost.intermediateBytes == cache + scratch)
        #expect(p.predictedBytes == p.cost.parameterBytes + p.cost.callPeakBytes + 512 * 1024)
    }

    @Test func decodeRowIsExactText() {
        let point = SweepPoint(
            mechanism: .linear, scope: .layer, mode: .decode, decoder: .recurrent, causal: true, length: 784,
            prompt: 1, batch: 1, heads: 8, headDim: 32, ffnMultiplier: 4, layers: 8, threads: 2)
        var row = ResultRow(point: point, status: .ok, seed: 42)
        row.reps = 3
        (row.median, row.min, row.mean, row.stddev, row.ciLow, row.ciHigh) = (
            0.004, 0.0039, 0.0041, 0.0001, 0.0039, 0.0043
        )
        row.noisy = true
        row.tokensPerSecond = 196000
        #expect(
            CSV.line(row.fields)
                == "linear,attnbench,layer,decode,recurrent,forward,true,,784,,,,,,1,1,8,32,4,8,2,ok,,3,4.000000,3.900000,4.100000,0.100000,3.900000,4.300000,true,196000,,,,,,,,,,,,,,,,,,,,42\n"
        )
    }

    /// Windows start at round(2^(j/4)), cover max(1, c/8) steps and never overlap; a sample is the
    /// median over window × repetitions.
    @Test func latencyWindowsAreLogSpacedAndSamplesAreMedians() {
        var latency = TokenLatency(length: 20)
        #expect(
            latency.windows == [
                0..<1, 1..<2, 2..<3, 3..<4, 4..<5, 5..<6, 6..<7, 7..<8, 9..<10, 10..<11, 12..<13, 15..<17, 18..<20,
            ])
        let times = StepTimes(length: 20, workers: 2)
        for rep in 0..<3 {
            for i in 0..<20 {
                times.nanoseconds[i] = UInt64(1000 * (i + 1) + rep)  // worker 0
                times.nanoseconds[20 + i] = UInt64(10 * i)  // worker 1, always faster
            }
            latency.add(times)
        }
        let samples = latency.samples
        #expect(samples.map(\.position) == [1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 13, 16, 19])
        func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-12 * abs(b) }
        #expect(samples[0].count == 3 && close(samples[0].median, 1001e-9) && close(samples[0].min, 1000e-9))
        // position 19: steps 18 and 19 (19000…19002 and 20000…20002 ns), median of 6 = (19002 + 20000) / 2.
        let last = samples.last!
        #expect(last.count == 6 && close(last.median, 19501e-9) && close(last.min, 19000e-9))
    }

    /// A real decode sweep: rows with tokens/s and the KV cache in peak heap, the samples file, and
    /// a resumed run that re-measures a point without doubling its samples.
    @Test func decodeSweepWritesRowsAndLatencySamples() throws {
        let path = temporaryPath("decode.csv")
        let samplesPath = TokenLatencyRow.path(forCSV: path)
        defer {
            for p in [path] + ResultsFile.sidecars(of: path) { try? FileManager.default.removeItem(atPath: p) }
        }
        let spec = try spec([("mechanism", "standard,linformer,linear"), ("mode", "decode"), ("n", "64,256")])
        let summary = try testSweep(spec, output: path).run()
        #expect(summary.measured == 4 && summary.skipped == 2)
        let table = try ResultTable(path: path)
        for row in table.rows where row.isOK {
            // 6 digits in the CSV
            #expect(abs(row.tokensPerSecond! / (Double(row.point.length) / row.median!) - 1) < 1e-5)
            #expect(row.peakHeapBytes! >= row.modelBytes! - 100 * 1024)
        }
        let samples = try TokenLatencyRow.read(samplesPath)
        #expect(samples.count == 4)
        let n256 = try #require(samples[table.rows.first { $0.isOK && $0.point.length == 256 }!.point])
        #expect(n256.first?.position == 1 && n256.last?.position == 256)
        #expect(n256.allSatisfy { $0.median > 0 && $0.min <= $0.median })

        // Drop the last row, as if the run died between its samples and its row; resume re-measures it.
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var lines = text.split(separator: "\n").map(String.init)
        lines.removeLast()
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        var resumed = testSweep(spec, output: path)
        resumed.resume = true
        #expect(try resumed.run().measured == 1)
        #expect(try TokenLatencyRow.read(samplesPath).mapValues(\.count) == samples.mapValues(\.count))
    }

    @Test func samplesFileWithAnotherSchemaIsRefused() throws {
        let path = temporaryPath("old.tokens.csv")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "mechanism,n,position,latency_us\nlinear,64,1,3.2\n".write(toFile: path, atomically: true, encoding: .utf8)
        let error = #expect(throws: UsageError.self) { try TokenLatencyRow.read(path) }
        #expect(error?.description.contains("different schema") == true)
    }
}
