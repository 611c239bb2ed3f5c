import Analysis
import AttentionTypes
import Results
import Testing

func measured(_ p: SweepPoint, seconds: Double) -> ResultRow {
    var r = ResultRow(point: p, status: .ok, seed: 42)
    (r.median, r.ciLow, r.ciHigh) = (seconds, seconds, seconds)
    return r
}

@Suite struct AnalysisTests {
    /// Series are grouped by typed keys: two sharing modes with one k are two curves, not one.
    @Test func seriesAreGroupedByEveryKeyButN() {
        var rows: [ResultRow] = []
        for n in [512, 1024] {
            for sharing in [ProjectionSharing.none, .keyValue] {
                rows.append(
                    measured(
                        SweepPoint(
                            mechanism: .linformer, sharing: sharing, length: n, projectedLength: 64, batch: 1,
                            heads: 2, headDim: 8, threads: 1), seconds: 1e-3))
            }
            rows.append(
                measured(
                    SweepPoint(mechanism: .standard, length: n, batch: 1, heads: 2, headDim: 8, threads: 1),
                    seconds: 4e-3))
        }
        let series = Analysis(table: ResultTable(rows: rows)).series
        #expect(series.map(\.label) == ["softmax", "linformer k=64", "linformer k=64"])
        #expect(series.allSatisfy { $0.rows.map(\.point.length) == [512, 1024] })
    }

    /// Each Linformer point is compared with the standard point of its shape, threads and causality.
    @Test func theMatchingStandardPointIsTheSameShape() throws {
        let lf = SweepPoint(
            mechanism: .linformer, sharing: .headwise, length: 512, projectedLength: 64, batch: 2, heads: 2, headDim: 8,
            threads: 2)
        let standard = SweepPoint(mechanism: .standard, length: 512, batch: 2, heads: 2, headDim: 8, threads: 2)
        #expect(lf.standardCounterpart == standard)
        var other = standard
        other.threads = 1
        let analysis = Analysis(
            table: ResultTable(rows: [
                measured(lf, seconds: 1), measured(other, seconds: 8), measured(standard, seconds: 4),
            ]))
        let cells = analysis.table3Cells()
        #expect(cells.time == [Table3Cell(n: 512, k: 64, value: 4, low: 4, high: 4)])
    }

    /// A kernel's passes are separate series (labelled with the pass), paired point by point in the
    /// training comparisons; one-pass figures show the forward pass and Figure 1 the training step.
    @Test func passesAreSeriesAndComparedWithTheForward() throws {
        var rows: [ResultRow] = []
        for n in [512, 1024] {
            for (pass, factor) in [(Pass.forward, 1.0), (.backward, 2.0), (.train, 3.0)] {
                var r = measured(
                    SweepPoint(
                        mechanism: .linear, pass: pass, causal: true, length: n, batch: 1, heads: 2, headDim: 8,
                        threads: 1),
                    seconds: factor * Double(n) * 1e-6)
                r.peakHeapBytes = Int(factor) * 1000 * n
                rows.append(r)
            }
        }
        let analysis = Analysis(table: ResultTable(rows: rows))
        #expect(analysis.series.map(\.label) == ["linear causal", "linear causal backward", "linear causal train"])
        #expect(analysis.primaryPass == .forward && analysis.figure1Pass == .train)
        let comparisons = analysis.trainingComparisons()
        #expect(comparisons.map(\.point.length) == [512, 1024])
        #expect(
            comparisons.allSatisfy {
                $0.point.pass == .forward && $0.backwardRatio == 2 && $0.trainRatio == 3 && $0.trainHeapRatio == 3
            })
        #expect(analysis.trainingCurves().map(\.label) == ["linear causal"])
        // Without forward rows, the one-pass figures fall back to the training step.
        let trainOnly = Analysis(table: ResultTable(rows: rows.filter { $0.point.pass == .train }))
        #expect(
            trainOnly.primaryPass == .train
                && trainOnly.trainingComparisons().allSatisfy { $0.forward == nil && $0.trainRatio == nil })
    }

    @Test func decodeSpeedupsPairSoftmaxWithLinear() throws {
        let rows = [256, 512].flatMap { n in
            [Mechanism.standard, .linear].map { m in
                measured(
                    SweepPoint(
                        mechanism: m, mode: .decode, causal: true, length: n, prompt: 1, batch: 1, heads: 8,
                        headDim: 32, threads: 1),
                    seconds: m == .standard ? Double(n) : 16)
            }
        }
        let speedups = Analysis(table: ResultTable(rows: rows)).decodeSpeedups()
        #expect(speedups.count == 1 && speedups[0].label == "linear ÷ softmax (KV cache)")
        #expect(speedups[0].points.map(\.speedup) == [16, 32])
    }

    /// Decode curves are named by mechanism and decoder: Reformer's (which recomputes, like softmax
    /// without a cache) by its rounds, never as a second "softmax, no cache" curve.
    @Test func decodeLabelsNameTheMechanism() {
        func point(_ m: Mechanism, _ decoder: Decoder, rounds: Int? = nil) -> SweepPoint {
            SweepPoint(
                mechanism: m, scope: .layer, mode: .decode, decoder: decoder, causal: true, length: 784,
                hashRounds: rounds, prompt: 1, batch: 1, heads: 8, headDim: 32, layers: 8, threads: 1)
        }
        let labels = [
            point(.standard, .kvCache), point(.standard, .recompute), point(.linear, .recurrent),
            point(.reformer, .recompute, rounds: 4),
        ].map { Analysis.decodeLabel($0, withThreads: false) }
        #expect(
            labels == [
                "softmax, KV cache, 8 layers", "softmax, no cache, 8 layers", "linear, RNN state, 8 layers",
                "lsh-4, no cache, 8 layers",
            ])
    }

    /// attnbench against PyTorch: each peer row meets attnbench's row at its point from the same
    /// file only (one interleaved session), never this run's row from another session; the exact
    /// mechanisms are also compared with the peer's fused attention.
    @Test func peersAreComparedPointByPoint() throws {
        func point(_ m: Mechanism, _ peer: Peer? = nil, n: Int) -> SweepPoint {
            SweepPoint(
                mechanism: m, peer: peer, sharing: m == .linformer ? .keyValue : nil, length: n,
                projectedLength: m == .linformer ? 128 : nil, batch: 1, heads: 8, headDim: 64, threads: 2)
        }
        let table = ResultTable(rows: [
            measured(point(.standard, n: 1024), seconds: 0.5), measured(point(.linear, n: 1024), seconds: 0.1),
        ])
        let peers = ResultTable(rows: [
            measured(point(.standard, n: 1024), seconds: 0.4),
            measured(point(.standard, .pytorch, n: 1024), seconds: 0.8),
            measured(point(.flash, .pytorch, n: 1024), seconds: 0.2),
            measured(point(.linear, .pytorch, n: 1024), seconds: 0.25),
            // attnbench has no Linformer row: no comparison
            measured(point(.linformer, .pytorch, n: 1024), seconds: 0.1),
        ])
        var analysis = Analysis(table: table)
        analysis.peers = peers
        let c = analysis.peerComparisons()
        // Only standard: the peers file's own attnbench row (0.4 s, not the run's 0.5 s); torch-linear
        // has no attnbench row in its session, and the run's linear row is another session's.
        #expect(c.map(\.own.point) == [point(.standard, n: 1024)])
        #expect(c.map(\.ratio) == [0.5] && c[0].fusedRatio == 2 && c[0].fastest.point.peer == .pytorch)
        // A table holding both sides itself (plotting peers.csv) is compared within itself.
        let itself = Analysis(table: peers).peerComparisons()
        #expect(itself.map(\.own.point) == [point(.standard, n: 1024)])
        #expect(analysis.series.map(\.label) == ["softmax", "linear"])  // peers stay out of attnbench's own series
        #expect(
            point(.flash, .pytorch, n: 1).mechanismLabel == "torch-flash"
                && point(.standard, .pytorch, n: 1).mechanismLabel == "torch-softmax")
    }

    /// Two peers of one form: attnbench is compared with the faster, which is named; every peer's
    /// row is kept, fastest first; standard's fused baseline is the fastest fused peer, whichever
    /// framework it is; causal linear meets fast-transformers alone.
    @Test func theFastestPeerOfAFormIsChosenAndNamed() {
        func point(_ m: Mechanism, _ peer: Peer? = nil, causal: Bool = false) -> SweepPoint {
            SweepPoint(
                mechanism: m, peer: peer, causal: causal, length: 1024, batch: 1, heads: 8, headDim: 64, threads: 2)
        }
        let peers = ResultTable(rows: [
            measured(point(.flash), seconds: 0.3),
            measured(point(.flash, .pytorch), seconds: 0.2),
            measured(point(.flash, .onnxruntime), seconds: 0.15),
            measured(point(.flash, .openvino), seconds: 0.25),
            measured(point(.standard), seconds: 0.4),
            measured(point(.standard, .jax), seconds: 0.9),
            measured(point(.standard, .pytorch), seconds: 0.8),
            measured(point(.linear, causal: true), seconds: 0.01),
            measured(point(.linear, .fastTransformers, causal: true), seconds: 0.05),
        ])
        let c = Analysis(table: peers).peerComparisons()
        #expect(c.map(\.own.point) == [point(.standard), point(.flash), point(.linear, causal: true)])
        #expect(c.map { $0.fastest.point.peer } == [.pytorch, .onnxruntime, .fastTransformers])
        #expect(c[1].peers.map(\.point.peer) == [.onnxruntime, .pytorch, .openvino])
        #expect(c[0].peers.map(\.point.peer) == [.pytorch, .jax])
        #expect(c[0].ratio == 0.5 && c[0].fastestFused?.point.peer == .onnxruntime)
        let near = { (x: Double?, y: Double) in x.map { abs($0 - y) < 1e-12 } == true }
        #expect(near(c[1].ratio, 2) && c[1].fusedRatio == nil && near(c[2].ratio, 0.2))
        #expect(point(.flash, .onnxruntime).mechanismLabel == "ort-flash")
    }
}
