import Analysis
import AttentionTypes
import Figures
import Results
import Testing

/// Issue 14's analysis: Table 3's monotonicity against the paper's, and the three decoders side by side.
@Suite struct PaperScopeTests {
    static func layer(_ mechanism: Mechanism, n: Int, k: Int? = nil) -> SweepPoint {
        SweepPoint(
            mechanism: mechanism, scope: .layer, sharing: k == nil ? nil : .keyValue, length: n, projectedLength: k,
            batch: 1, heads: 12, headDim: 64, ffnMultiplier: 4, layers: 1, threads: 2)
    }

    static func row(_ p: SweepPoint, _ seconds: Double, spread: Double) -> ResultRow {
        var r = ResultRow(point: p, status: .ok, seed: 42)
        (r.median, r.ciLow, r.ciHigh) = (seconds, seconds * (1 - spread), seconds * (1 + spread))
        return r
    }

    /// Time saved should grow with n and fall with k: a pair in the wrong order is reported, with
    /// whether the two cells' intervals overlap; a monotone table reports nothing.
    @Test func inversionsOfThePapersOrderAreFoundWithTheirIntervals() {
        func analysis(standard2048: Double, spread: Double) -> Analysis {
            Analysis(
                table: ResultTable(rows: [
                    Self.row(Self.layer(.standard, n: 1024), 2.0, spread: spread),
                    Self.row(Self.layer(.standard, n: 2048), standard2048, spread: spread),
                    Self.row(Self.layer(.linformer, n: 1024, k: 128), 1.0, spread: spread),
                    Self.row(Self.layer(.linformer, n: 1024, k: 256), 1.5, spread: spread),
                    Self.row(Self.layer(.linformer, n: 2048, k: 128), 2.0, spread: spread),
                ]))
        }
        #expect(analysis(standard2048: 6.0, spread: 0.01).table3Inversions().isEmpty)  // 2.0× → 3.0× with n
        let tight = analysis(standard2048: 3.6, spread: 0.01).table3Inversions()  // 2.0× → 1.8×: falls with n
        #expect(tight.count == 1 && tight[0].first.n == 1024 && tight[0].second.n == 2048 && !tight[0].overlapping)
        let loose = analysis(standard2048: 3.6, spread: 0.2).table3Inversions()
        #expect(loose.count == 1 && loose[0].overlapping)
    }

    /// The three decoders of one setting are grouped with the time multiples of linear's, and the
    /// report puts each beside the paper's Table 5 CPU row for that N.
    @Test func decodersAreComparedWithThePapersRows() {
        func decode(_ mechanism: Mechanism, _ decoder: Decoder, _ seconds: Double?) -> ResultRow {
            let p = SweepPoint(
                mechanism: mechanism, scope: .layer, mode: .decode, decoder: decoder, causal: true, length: 784,
                prompt: 1, batch: 1, heads: 8, headDim: 32, ffnMultiplier: 4, layers: 1, threads: 1)
            guard let seconds else { return ResultRow(point: p, status: .skipped, reason: "time: too long", seed: 42) }
            var r = Self.row(p, seconds, spread: 0)
            r.tokensPerSecond = 784 / seconds
            return r
        }
        var analysis = Analysis(
            table: ResultTable(rows: [
                decode(.standard, .kvCache, 0.3), decode(.standard, .recompute, 6.0), decode(.linear, .recurrent, 0.2),
            ]))
        analysis.paperDecoderTimes = [
            PaperDecoderTime(
                dataset: "MNIST", tokens: 784, device: "CPU", decoder: .recompute, secondsPerImage: 72.6,
                multipleOfLinear: 13.2),
            PaperDecoderTime(
                dataset: "MNIST", tokens: 784, device: "CPU", decoder: .kvCache, secondsPerImage: 7.4,
                multipleOfLinear: 1.3),
            PaperDecoderTime(
                dataset: "MNIST", tokens: 784, device: "CPU", decoder: .recurrent, secondsPerImage: 5.5,
                multipleOfLinear: 1),
        ]
        let comparisons = analysis.decoderComparisons()
        #expect(comparisons.count == 1)
        #expect(comparisons.first?.multipleOfLinear(.recompute).map { abs($0 - 30) < 1e-9 } == true)
        #expect(comparisons.first?.multipleOfLinear(.kvCache).map { abs($0 - 1.5) < 1e-9 } == true)
        let md = Report(analysis: analysis, source: "gen.csv", metadata: nil).markdown()
        #expect(
            md.contains(
                "| layer ×1, FFN 4× | 1 | 784 (MNIST) | 131 | 2613 | 3920 | 30.0× | 13.2× | 1.5× | 1.3× | 20.0× | 9.8× |"
            ), "\(md)")
        // a skipped recompute row is shown as skipped, with its reason below the table
        var withSkip = Analysis(
            table: ResultTable(rows: [
                decode(.standard, .kvCache, 0.3), decode(.standard, .recompute, nil), decode(.linear, .recurrent, 0.2),
            ]))
        withSkip.paperDecoderTimes = analysis.paperDecoderTimes
        let skipped = Report(analysis: withSkip, source: "gen.csv", metadata: nil).markdown()
        #expect(skipped.contains("| skipped | 2613 | 3920 | – | 13.2× |") && skipped.contains(": time: too long."))
    }
}
