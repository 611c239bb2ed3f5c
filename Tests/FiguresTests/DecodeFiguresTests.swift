import Analysis
import AttentionTypes
import Figures
import Foundation
import Reporting
import Results
import Testing

/// Decode rows: softmax's generation time ∝ N², linear's ∝ N, so the speed-up is N/128; softmax's
/// per-token latency ∝ position, linear's constant.
func decodePlotter() -> Plotter {
    var rows: [ResultRow] = []
    var latency: [SweepPoint: [LatencySample]] = [:]
    for n in [256, 784, 3072] {
        for mechanism in [Mechanism.standard, .linear] {
            let point = SweepPoint(
                mechanism: mechanism, mode: .decode, causal: true, length: n, prompt: 1,
                batch: 1, heads: 8, headDim: 32, threads: 1)
            let seconds = mechanism == .standard ? 1e-6 * Double(n * n) / 128 : 1e-6 * Double(n)
            var r = ResultRow(point: point, status: .ok, seed: 42)
            (r.median, r.min, r.mean, r.stddev, r.ciLow, r.ciHigh) = (seconds, seconds, seconds, 0, seconds, seconds)
            r.tokensPerSecond = Double(n) / seconds
            // A KV cache of 2·h·d·4 = 2 KiB per token plus 40 KiB; the RNN state 41 KiB.
            r.peakHeapBytes = mechanism == .standard ? 2048 * n + 40960 : 41984
            r.modelBytes = r.peakHeapBytes
            rows.append(r)
            // Windows at round(2^(j/4)), as the harness's TokenLatency places them.
            let positions = Array(Set((0...60).map { Int(pow(2, Double($0) / 4).rounded()) }.filter { $0 <= n }))
                .sorted()
            latency[point] = positions.map { c in
                let t = mechanism == .standard ? 1e-8 * Double(c) : 3e-6
                return LatencySample(position: c, median: t, min: t, count: 3)
            }
        }
    }
    let linformer = SweepPoint(
        mechanism: .linformer, mode: .decode, causal: true, length: 784, prompt: 1,
        batch: 1, heads: 8, headDim: 32, threads: 1)
    rows.append(
        ResultRow(
            point: linformer, status: .skipped, reason: "Linformer has no causal form, so it cannot decode", seed: 42))
    var analysis = Analysis(table: ResultTable(rows: rows, path: "Results/rnn-generation.csv"))
    analysis.tokenLatency = latency
    analysis.paperGeneration = [
        .init(dataset: "MNIST", tokens: 784, speedup: 317), .init(dataset: "CIFAR-10", tokens: 3072, speedup: 4462),
    ]
    return Plotter(analysis: analysis, source: "Results/rnn-generation.csv", machine: "Test CPU")
}

@Suite struct DecodeFiguresTests {
    let plotter = decodePlotter()

    @Test func latencyLegendCarriesTheFittedSlopes() throws {
        let script = try #require(plotter.render().files["decode-latency.gp"])
        #expect(script.contains("title \"softmax, KV cache, N = 3072 ∝ position^{1.00 ± 0.00}\""))
        #expect(script.contains("title \"linear, RNN state, N = 3072 ∝ position^{0.00 ± 0.00}\""))
        #expect(script.contains("set logscale xy 2"))
    }

    /// The speed-up data: measured N/128 per N over softmax's KV cache, and the paper's points (over
    /// softmax without a cache) with their labels; with no no-cache rows, nothing is labelled beside them.
    @Test func speedupDataHasMeasuredAndPaperPoints() throws {
        let out = plotter.render()
        let data = try #require(out.files["decode-speedup.dat"])
        #expect(data.contains("# linear ÷ softmax (KV cache) (N, speedup)\n256 2\n784 6.125\n3072 24\n"))
        #expect(data.contains("784 317 \"MNIST 317×\"\n3072 4462 \"CIFAR-10 4462×\""))
        #expect(
            data.contains("# measured at the paper's sizes, over softmax without a cache (N, speedup, label)\nnan\n"))
        // The forward figures have no forward rows to draw.
        #expect(out.notes.contains { $0.hasPrefix("scaling: skipped") })
        #expect(plotter.analysis.series.isEmpty)
    }

    /// Rates below 10 tok/s keep two significant figures, so 0.6 and 1.4 tok/s no longer both print as 1.
    @Test func slowGenerationRatesKeepTwoFigures() {
        #expect(
            [0.0123, 0.6, 1.44, 9.96, 10.4, 3860.2].map(Report.tokensPerSecond) == [
                "0.012", "0.6", "1.4", "10", "10", "3860",
            ])
    }

    @Test func reportHasTheDecodeTableAndSlopes() {
        let md = Report(analysis: plotter.analysis, source: "Results/rnn-generation.csv", metadata: nil).markdown()
        // tokens/s = 128e6/N for softmax, 1e6 for linear; peak heap (the KV cache grows): 2 KiB·N + 40 KiB.
        #expect(
            md.contains(
                "| 1 | 784 | 163265 | 1000000 | 6.1× | 1.570 MiB (1.570 MiB) | 0.040 MiB (0.040 MiB) |"))
        // The paper's 317× and 4462× are against softmax without a cache: not set beside the KV-cache ratio.
        #expect(md.contains("| 1 | 3072 | 41667 | 1000000 | 24.0× | 6.039 MiB (6.039 MiB) |"))
        #expect(!md.contains("317× (MNIST)"))
        // Fitted from position N/64 = 48 on; a + b·position over 48…768: 0 µs + 10 ns per position.
        #expect(md.contains("| softmax, KV cache | 3072 | 1.00 ± 0.00 | 1.00 ± 0.00 | 0.00 | 10.00 | 29.0 |"))
        #expect(md.contains("| linear, RNN state | 3072 | 0.00 ± 0.00 | 0.00 ± 0.00 | 3.00 | 0.00 | 3.0 |"))
        #expect(!md.contains("## Scaling exponents"))  // a decode-only run has no forward sections
    }
}

/// The paper's Tables 1–2 compare linear with softmax without a cache: that curve is drawn and
/// labelled at the paper's sizes, beside the KV-cache curve, each in its own colour and dash.
@Test func theNoCacheCurveCarriesThePapersComparison() throws {
    var rows: [ResultRow] = []
    for n in [784, 3072] {
        for (mechanism, decoder, seconds) in [
            (Mechanism.standard, Decoder.recompute, 1e-9 * Double(n * n * n)),
            (.standard, .kvCache, 1e-6 * Double(n * n) / 128),
            (.linear, .recurrent, 1e-6 * Double(n)),
        ] {
            let point = SweepPoint(
                mechanism: mechanism, mode: .decode, decoder: decoder, causal: true, length: n, prompt: 1, batch: 1,
                heads: 8, headDim: 32, threads: 1)
            var r = ResultRow(point: point, status: .ok, seed: 42)
            (r.median, r.ciLow, r.ciHigh) = (seconds, seconds, seconds)
            rows.append(r)
        }
    }
    var analysis = Analysis(table: ResultTable(rows: rows, path: "g.csv"))
    analysis.paperGeneration = [.init(dataset: "MNIST", tokens: 784, speedup: 317)]
    let out = Plotter(analysis: analysis, source: "g.csv", machine: "Test CPU").render()
    let data = try #require(out.files["decode-speedup.dat"])
    let script = try #require(out.files["decode-speedup.gp"])
    #expect(data.contains("# linear ÷ softmax (no cache) (N, speedup)\n784 614.656\n3072 9437.18\n"))
    #expect(data.contains("over softmax without a cache (N, speedup, label)\n784 614.656 \"614.7×\"\n"))
    #expect(script.contains("lc rgb \"#7b241c\" dt 1 title \"linear ÷ softmax (no cache)\""))
    #expect(script.contains("lc rgb \"#27ae60\" dt 1 title \"linear ÷ softmax (KV cache)\""))
    #expect(script.contains("set key below"))

}

@Suite struct EstimateCheckReportTests {
    /// The estimator's checks against full runs: how many full times fall inside the estimate's
    /// interval, and the worst relative miss, read from the checks (here 1.1% high and 0.7% low).
    @Test func theEstimatorsChecksGiveTheirSpread() {
        var analysis = decodePlotter().analysis
        analysis.estimateChecks = [
            EstimateCheckRow(
                point: "a", length: 784, layers: 8, fullMedian: 100, estimate: 101.1, low: 100.5, high: 101.7,
                stepsSampled: 64),
            EstimateCheckRow(
                point: "b", length: 3072, layers: 1, fullMedian: 300, estimate: 297.9, low: 296, high: 301,
                stepsSampled: 64),
        ]
        let md = Report(analysis: analysis, source: "Results/rnn-generation.csv", metadata: nil).markdown()
        #expect(
            md.contains(
                "1 of 2 measured times lie inside the estimate's interval; every estimate came within 1.1% of its full run (estimate ÷ measured 0.993–1.011)."
            ))
    }
}
