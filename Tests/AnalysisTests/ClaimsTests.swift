import Analysis
import AttentionTypes
import Foundation
import Results
import Testing

@Suite struct ClaimRulesTests {
    @Test func ratioVerdictsFollowTheBand() {
        #expect(ClaimRules.ratio(paper: 2, ours: 2.4, sameScope: true).0 == .reproduced)
        #expect(ClaimRules.ratio(paper: 2, ours: 1.61, sameScope: true).0 == .reproduced)  // 0.805 ≥ 0.8
        #expect(ClaimRules.ratio(paper: 2, ours: 1.59, sameScope: true).0 == .sameDirection)  // 0.795 < 0.8
        #expect(ClaimRules.ratio(paper: 2, ours: 2.6, sameScope: true).0 == .sameDirection)  // 1.3 > 1.25
        #expect(ClaimRules.ratio(paper: 2, ours: 2, sameScope: false).0 == .sameDirection)
        #expect(ClaimRules.ratio(paper: 1.3, ours: 0.96, sameScope: true).0 == .notReproduced)
        #expect(ClaimRules.ratio(paper: 0.6, ours: 1.2, sameScope: true).0 == .notReproduced)
        #expect(ClaimRules.ratio(paper: 2, ours: nil, sameScope: true).0 == .notMeasured)
        #expect(ClaimRules.ratio(paper: 2, ours: .nan, sameScope: true).0 == .notMeasured)
    }

    @Test func exponentVerdictsFollowTheTolerance() throws {
        func fit(_ exponent: Double) throws -> ScalingFit {
            let x = [512.0, 1024, 2048, 4096]
            return try #require(ScalingFit(x: x, y: x.map { pow($0, exponent) }))
        }
        #expect(ClaimRules.exponent(paper: 2, ours: try fit(1.8)).0 == .reproduced)
        #expect(ClaimRules.exponent(paper: 2, ours: try fit(1.6)).0 == .sameDirection)
        #expect(ClaimRules.exponent(paper: 2, ours: try fit(1.4)).0 == .notReproduced)
        #expect(ClaimRules.exponent(paper: 2, ours: nil).0 == .notMeasured)
    }

    /// A summary takes the worst measured verdict and counts every cell.
    @Test func aSummaryTakesTheWorstMeasuredCell() {
        let (verdict, why) = ClaimRules.summary([.reproduced, .sameDirection, .notMeasured])
        #expect(verdict == .sameDirection)
        #expect(why == "of 3 cells: 1 reproduced, 1 same direction only, 1 not measured")
        #expect(ClaimRules.summary([.notMeasured]).0 == .notMeasured)
        #expect(ClaimRules.summary([.reproduced, .notReproduced]).0 == .notReproduced)
    }

    @Test func numbersHaveTwoDecimalsAtMost() {
        #expect(ClaimRules.format(1.5) == "1.5")
        #expect(ClaimRules.format(1.256) == "1.26")
        #expect(ClaimRules.format(13.04) == "13")
        #expect(ClaimRules.format(4462) == "4462")
        #expect(ClaimRules.format(.nan) == "–")
    }
}

@Suite struct ClaimsLedgerTests {
    static func point(_ mechanism: Mechanism, n: Int, k: Int? = nil, batch: Int = 1, pass: Pass = .forward)
        -> SweepPoint
    {
        SweepPoint(
            mechanism: mechanism, pass: pass, sharing: k == nil ? nil : .keyValue, length: n, projectedLength: k,
            batch: batch, heads: 2, headDim: 8, threads: 1)
    }

    /// Table 3: one summary row per n of the paper, its cells compared with ours at that (n, k).
    @Test func table3RowsSummariseTheirCells() throws {
        let rows = [
            measured(Self.point(.standard, n: 512), seconds: 3),
            measured(Self.point(.linformer, n: 512, k: 128), seconds: 2),
            measured(Self.point(.linformer, n: 512, k: 256), seconds: 4),
        ]
        var analysis = Analysis(table: ResultTable(rows: rows))
        analysis.paperTable3 = [
            PaperTable3Cell(n: 512, k: 128, timeSaved: 1.5, memorySaved: 1.7),
            PaperTable3Cell(n: 512, k: 256, timeSaved: 1.3, memorySaved: 1.5),
            PaperTable3Cell(n: 512, k: 512, timeSaved: nil, memorySaved: nil),
        ]
        let claims = ClaimsLedger(table3: analysis, figure1: nil, generation: nil).claims()
        let time = try #require(claims.first { $0.claim.hasPrefix("time saved, n = 512") })
        #expect(time.claim == "time saved, n = 512 (k = 128, 256)")
        #expect(time.paper == "1.5×, 1.3×")
        #expect(time.ours == "1.5×, 0.75×")
        #expect(time.verdict == .notReproduced)  // k = 256: 0.75× against the paper's 1.3×
        // the core is not the paper's scope
        #expect(time.why.hasPrefix("of 2 cells: 1 same direction only, 1 not reproduced"))
        let memory = try #require(claims.first { $0.claim.hasPrefix("memory saved") })
        #expect(memory.verdict == .notMeasured)  // no max-batch table: a heap ratio is not the paper's measure
        #expect(memory.why.contains("no max-batch table"))
        // The presets that were not run: their claims are there, not measured.
        #expect(
            claims.filter { $0.source.hasPrefix("Transformers are RNNs") }.allSatisfy { $0.verdict == .notMeasured })
    }

    /// Figure 1: exponents per sample, and "linear is faster and smaller at every N".
    @Test func figure1ExponentsAndEveryN() throws {
        var rows: [ResultRow] = []
        for n in [512, 1024, 2048, 4096] {
            let batch = 65536 / n
            var s = measured(
                Self.point(.standard, n: n, batch: batch, pass: .train), seconds: 1e-9 * Double(n * n * batch))
            s.peakHeapBytes = n * n * batch
            rows.append(s)
        }
        for n in [512, 1024, 2048, 4096, 8192] {
            let batch = 65536 / n
            var l = measured(Self.point(.linear, n: n, batch: batch, pass: .train), seconds: 1e-8 * Double(n * batch))
            l.peakHeapBytes = 64 * n * batch
            rows.append(l)
        }
        rows.append(
            ResultRow(
                point: Self.point(.standard, n: 8192, batch: 8, pass: .train), status: .skipped,
                reason: "memory: needs 40 GiB", seed: 42))
        var ledger = ClaimsLedger(table3: nil, figure1: Analysis(table: ResultTable(rows: rows)), generation: nil)
        ledger.figure1Limits = [PaperFigure1Limit(method: "softmax", largestN: 4096, memoryGB: 11)]
        let claims = ledger.claims().filter { $0.source == "Transformers are RNNs Figure 1" }
        #expect(claims.filter { $0.claim.contains("∝ N^") }.map(\.verdict) == Array(repeating: .reproduced, count: 4))
        let everyN = try #require(
            claims.first { $0.claim.hasPrefix("linear is faster and uses less memory than softmax") })
        #expect(everyN.verdict == .reproduced)
        #expect(everyN.ours == "4 of 4 N")
        let stop = try #require(claims.first { $0.claim == "where softmax's curve stops" })
        #expect(stop.verdict == .sameDirection)
        #expect(stop.paper == "softmax stops at N = 4096 (11 GB)")
        #expect(claims.contains { $0.claim.contains("Reformer") && $0.verdict == .notMeasured })
    }

    /// Generation: the multiples of linear at the paper's model scope are reproducible; another
    /// scope is same direction at best; a skipped decoder gives its reason.
    @Test func generationMultiplesNameTheirScope() throws {
        func decode(_ mechanism: Mechanism, _ decoder: Decoder, layers: Int, seconds: Double?) -> ResultRow {
            let p = SweepPoint(
                mechanism: mechanism, scope: .layer, mode: .decode, decoder: decoder, causal: true,
                length: 784, batch: 1, heads: 8, headDim: 32, ffnMultiplier: 4, layers: layers, threads: 1)
            guard let seconds else { return ResultRow(point: p, status: .skipped, reason: "time: too long", seed: 42) }
            return measured(p, seconds: seconds)
        }
        let rows = [
            decode(.linear, .recurrent, layers: 8, seconds: 1), decode(.standard, .kvCache, layers: 8, seconds: 1.3),
            decode(.standard, .recompute, layers: 8, seconds: nil),
        ]
        var analysis = Analysis(table: ResultTable(rows: rows))
        analysis.paperDecoderTimes = [
            PaperDecoderTime(
                dataset: "MNIST", tokens: 784, device: "CPU", decoder: .kvCache, secondsPerImage: 7.4,
                multipleOfLinear: 1.3),
            PaperDecoderTime(
                dataset: "MNIST", tokens: 784, device: "CPU", decoder: .recompute, secondsPerImage: 72.6,
                multipleOfLinear: 13.2),
        ]
        let claims = ClaimsLedger(table3: nil, figure1: nil, generation: analysis).claims()
        let cached = try #require(claims.first { $0.claim.hasPrefix("stateful softmax (KV cache): seconds per image") })
        #expect(cached.verdict == .reproduced)
        #expect(cached.ourSetting.hasPrefix("8 encoder layers, batch 1"))
        let recompute = try #require(claims.first { $0.claim.hasPrefix("softmax without a cache: seconds per image") })
        #expect(recompute.verdict == .notMeasured)
        #expect(recompute.why == "time: too long")
    }
}
