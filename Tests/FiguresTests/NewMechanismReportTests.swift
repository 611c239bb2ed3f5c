import Analysis
import AttentionTypes
import Figures
import Foundation
import Results
import Testing

/// The report sections Reformer and Performer brought: LRA's Table 2, Table 5's LSH rows, the
/// ledger's every-N claim against each lsh curve and Performer's approximation error.
@Suite struct NewMechanismReportTests {
    static func row(_ point: SweepPoint, seconds: Double, heap: Int? = nil) -> ResultRow {
        var r = ResultRow(point: point, status: .ok, seed: 42)
        (r.median, r.min, r.mean, r.stddev, r.ciLow, r.ciHigh) = (seconds, seconds, seconds, 0, seconds, seconds)
        r.reps = 6
        r.peakHeapBytes = heap
        return r
    }

    static func layerTrain(_ m: Mechanism, n: Int, features: Int? = nil) -> SweepPoint {
        SweepPoint(
            mechanism: m, scope: .layer, pass: .train, length: n, features: features, batch: 1, heads: 8,
            headDim: 64, ffnMultiplier: 4, layers: 6, threads: 2)
    }

    /// Speed-up and memory ratios over the Transformer at the same n, batch 32's heap from the
    /// replay's fixed and per-sample bytes, the paper's ratios beside them.
    @Test func lraSectionGivesRatiosToTheTransformerBesideThePapers() {
        let (standard, performer) = (
            Self.layerTrain(.standard, n: 4096), Self.layerTrain(.performer, n: 4096, features: 256)
        )
        var analysis = Analysis(
            table: ResultTable(rows: [
                Self.row(standard, seconds: 8, heap: 8 << 30), Self.row(performer, seconds: 2, heap: 1 << 30),
            ]))
        analysis.paperLRA = [
            PaperLRACell(mechanism: "standard", n: 4096, stepsPerSecond: 1.4, memoryGB: 9.48),
            PaperLRACell(mechanism: "performer", n: 4096, stepsPerSecond: 8.0, memoryGB: 1.06),
        ]
        var replayed: [MaxBatchRow] = []
        for (point, fixed, perSample) in [(standard, 1 << 28, 1 << 30), (performer, 1 << 28, 1 << 26)] {
            var r = MaxBatchRow(point: point, status: .ok, budgetBytes: 16 << 30, seed: 42)
            (r.fixedBytes, r.perSampleBytes) = (fixed, perSample)
            replayed.append(r)
        }
        analysis.maxBatch = replayed
        let cells = analysis.lraTable2()
        #expect(cells.count == 2)
        let cell = cells.first { $0.mechanism == .performer }
        #expect(cell?.speedup == 4 && cell?.memoryRatio == 8)
        // (2^28 + 32·2^30) / (2^28 + 32·2^26) = 33 / 2.5... in units of 2^28: (1 + 128) / (1 + 8)
        #expect(cell.flatMap(\.batch32Ratio).map { abs($0 - 129.0 / 9.0) < 1e-12 } == true)
        let md = Report(analysis: analysis, source: "Results/lra-table2.csv", metadata: nil).markdown()
        #expect(md.contains("## LRA Table 2: training steps relative to the Transformer"))
        #expect(
            md.contains(
                "| performer m=256 | 4096 | 0.5 | 4.00× (5.71×) | 1.00 GiB | 8.00× | 2.25 GiB | 14.33× (8.94×) |"))
    }

    /// Table 5's LSH rows: a Reformer generation's time over linear's at the same model, beside the paper's.
    @Test func lshRowsSitBesideTable5() {
        func decode(_ m: Mechanism, _ decoder: Decoder, rounds: Int? = nil) -> SweepPoint {
            SweepPoint(
                mechanism: m, scope: .layer, mode: .decode, decoder: decoder, causal: true, length: 784,
                hashRounds: rounds, buckets: rounds.map { _ in 64 }, chunk: rounds.map { _ in 32 }, prompt: 1,
                batch: 1, heads: 8, headDim: 32, ffnMultiplier: 4, layers: 8, threads: 1)
        }
        var linear = Self.row(decode(.linear, .recurrent), seconds: 2)
        linear.tokensPerSecond = 392
        var lsh = Self.row(decode(.reformer, .recompute, rounds: 4), seconds: 80)
        lsh.tokensPerSecond = 9.8
        var analysis = Analysis(table: ResultTable(rows: [linear, lsh]))
        analysis.paperLSHTimes = [
            PaperLSHTime(
                dataset: "MNIST", tokens: 784, device: "CPU", rounds: 4, secondsPerImage: 112, multipleOfLinear: 20)
        ]
        let comparisons = analysis.decoderComparisons()
        #expect(comparisons.count == 1 && comparisons.first?.lshMultipleOfLinear(4) == 40)
        let md = Report(analysis: analysis, source: "Results/rnn-generation-models.csv", metadata: nil).markdown()
        #expect(md.contains("### Reformer's LSH rows (Table 5)"))
        #expect(md.contains("| 784 (MNIST) | 9.8 | 40.0× | 20.0× |"))
    }

    /// The Table 5 file's LSH rows are read as rounds; the decoders' reader still leaves them out.
    @Test func paperLSHRowsAreReadByRounds() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("appendix-\(UUID()).csv").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try """
        table,dataset,device,method,value,unit,multiple_of_linear
        5,MNIST,CPU,LSH-1,46.0,seconds_per_image,8.3
        5,MNIST,CPU,Linear,5.5,seconds_per_image,1
        5,CIFAR-10,CPU,LSH-4,5263.7,seconds_per_image,116.7

        """.write(toFile: path, atomically: true, encoding: .utf8)
        let lsh = try PaperLSHTime.load(path)
        #expect(lsh.map(\.rounds) == [1, 4] && lsh.map(\.tokens) == [784, 3072] && lsh[1].multipleOfLinear == 116.7)
        #expect(try PaperDecoderTime.load(path).map(\.decoder) == [.recurrent])
    }
}
