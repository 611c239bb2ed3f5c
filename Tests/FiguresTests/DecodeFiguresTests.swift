import AttentionKernels
import Figures
import Foundation
import Harness
import Testing

/// Decode rows: softmax's generation time ∝ N², linear's ∝ N, so the speed-up is N/128; softmax's
/// per-token latency ∝ position, linear's constant.
func decodePlotter() -> Plotter {
    var rows: [MeasuredRow] = []
    var latency: [[String]: [TokenLatency.Sample]] = [:]
    for n in [256, 784, 3072] {
        for mechanism in [Mechanism.standard, .linear] {
            let point = SweepPoint(mechanism: mechanism, mode: .decode, causal: true, length: n, prompt: 1,
                                   batch: 1, heads: 8, headDim: 32, threads: 1)
            let seconds = mechanism == .standard ? 1e-6 * Double(n * n) / 128 : 1e-6 * Double(n)
            var r = ResultRow(point: point, status: .ok, seed: 42)
            (r.median, r.min, r.mean, r.stddev, r.ciLow, r.ciHigh) = (seconds, seconds, seconds, 0, seconds, seconds)
            r.tokensPerSecond = Double(n) / seconds
            r.peakHeapBytes = point.cost.callPeakBytes
            r.modelBytes = point.cost.callPeakBytes
            rows.append(MeasuredRow(r))
            latency[point.keyFields] = TokenLatency(length: n).windows.map { w in
                let c = Double(w.lowerBound + 1)
                let t = mechanism == .standard ? 1e-8 * c : 3e-6
                return TokenLatency.Sample(position: w.lowerBound + 1, median: t, min: t, count: 3)
            }
        }
    }
    let linformer = SweepPoint(mechanism: .linformer, mode: .decode, causal: true, length: 784, prompt: 1,
                               batch: 1, heads: 8, headDim: 32, threads: 1)
    rows.append(MeasuredRow(ResultRow(point: linformer, status: .skipped, reason: Generation.noLinformer.description, seed: 42)))
    var plotter = Plotter(table: ResultTable(rows: rows, path: "Results/rnn-generation.csv"),
                          source: "Results/rnn-generation.csv", machine: "Test CPU")
    plotter.tokenLatency = latency
    plotter.paperGeneration = [.init(dataset: "MNIST", tokens: 784, speedup: 317), .init(dataset: "CIFAR-10", tokens: 3072, speedup: 4462)]
    return plotter
}

@Suite struct DecodeFiguresTests {
    let plotter = decodePlotter()

    @Test func latencyLegendCarriesTheFittedSlopes() throws {
        let script = try #require(plotter.render().files["decode-latency.gp"])
        #expect(script.contains("title \"softmax, KV cache, N = 3072 ∝ position^{1.00 ± 0.00}\""))
        #expect(script.contains("title \"linear, RNN state, N = 3072 ∝ position^{0.00 ± 0.00}\""))
        #expect(script.contains("set logscale xy 2"))
    }

    /// The speed-up data: measured N/128 per N, the paper's points with their labels, and the
    /// measured values at the paper's sizes labelled.
    @Test func speedupDataHasMeasuredAndPaperPoints() throws {
        let out = plotter.render()
        let data = try #require(out.files["decode-speedup.dat"])
        #expect(data.contains("# linear ÷ softmax (N, speedup)\n256 2\n784 6.125\n3072 24\n"))
        #expect(data.contains("784 317 \"MNIST 317×\"\n3072 4462 \"CIFAR-10 4462×\""))
        #expect(data.contains("784 6.125 \"6.1×\"\n3072 24 \"24.0×\""))
        // The forward figures have no forward rows to draw.
        #expect(out.notes.contains { $0.hasPrefix("scaling: skipped") })
        #expect(Series.all(in: plotter.table).isEmpty)
    }

    @Test func reportHasTheDecodeTableAndSlopes() {
        let md = Report(plotter: plotter, metadata: nil).markdown()
        // tokens/s = 128e6/N for softmax, 1e6 for linear; peak heap = the model's (KV cache grows).
        #expect(md.contains("| 1 | 784 | 163265 | 1000000 | 6.1× | 317× (MNIST) | 1.561 MiB (1.561 MiB) | 0.040 MiB (0.040 MiB) |"))
        #expect(md.contains("| 1 | 3072 | 41667 | 1000000 | 24.0× | 4462× (CIFAR-10) | 6.100 MiB (6.100 MiB) |"))
        // Fitted from position N/64 = 48 on; a + b·position over 48…768: 0 µs + 10 ns per position.
        #expect(md.contains("| softmax, KV cache | 3072 | 1.00 ± 0.00 | 1.00 ± 0.00 | 0.00 | 10.00 | 29.0 |"))
        #expect(md.contains("| linear, RNN state | 3072 | 0.00 ± 0.00 | 0.00 ± 0.00 | 3.00 | 0.00 | 3.0 |"))
        #expect(!md.contains("## Scaling exponents"))  // a decode-only run has no forward sections
    }
}
