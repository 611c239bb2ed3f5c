import Analysis
import AttentionTypes
import Foundation
import Results

/// `Results/REPORT.md`: the measured scaling next to what the papers published.
public struct Report {
    public let analysis: Analysis
    /// Where the CSV came from.
    public let source: String
    public let metadata: RunMetadata?
    /// Figure files written next to the report, relative to the report's folder.
    public var figures: [String] = []

    public init(analysis: Analysis, source: String, metadata: RunMetadata?) {
        self.analysis = analysis
        self.source = source
        self.metadata = metadata
    }

    var table: ResultTable { analysis.table }

    public func markdown() -> String {
        var md = "# attnbench report: `\(source)`\n\n"
        md += header()
        // A decode-only run (the rnn-generation preset) gets only the decode section.
        if table.rows.contains(where: { $0.point.mode == .forward }) || table.rows.isEmpty {
            // A run whose batch follows N (Figure 1's batch ∝ 1/N) has one point per series and batch:
            // per-call exponents and break-even points at one batch say nothing there; its per-sample
            // section replaces them. Table 3 appears only for runs that have its cells.
            let figure1 = figure1()
            let perCall = figure1.isEmpty ? [exponents(), breakEven()] : []
            for section in [scope()] + perCall + [figure1, training(), table3(), lraTable2()] where !section.isEmpty {
                md += "\n" + section
            }
            md += "\n" + approximation()
            let peerTable = peers()
            if !peerTable.isEmpty { md += "\n" + peerTable }
        }
        for section in [decoders(), estimates(), decode()] where !section.isEmpty { md += "\n" + section }
        if !figures.isEmpty {
            md += "\n## Figures\n\n" + figures.map { "![\($0)](\($0))\n" }.joined(separator: "\n")
        }
        return md
    }

    /// "2026-12-02T20:00:00Z → 2026-12-02T20:10:00Z (load average 0.02 → 0.95, 0.01 cores busy
    /// before it)": a session's span, the 1-minute load average at its start and end (the end counts
    /// the run itself) and the cores other work kept busy just before it, when recorded.
    static func sessionText(_ s: RunMetadata.Session) -> String {
        let span = "\(s.start) → \(s.end ?? "interrupted")" + (s.commit.map { " at \($0)" } ?? "")
        guard let a = s.loadAverageStart?.first else { return span }
        let b = s.loadAverageEnd?.first.map { String(format: "%.2f", $0) } ?? "?"
        let busy = s.busyCoresStart.map { String(format: ", %.2f cores busy before it", $0) } ?? ""
        return span + " (load average \(String(format: "%.2f", a)) → \(b)\(busy))"
    }

    func header() -> String {
        guard let m = metadata else { return "No metadata sidecar was found for this CSV.\n" }
        let ceilings = m.sgemmCeilingGflops.sorted { $0.key < $1.key }.map {
            "\(String(format: "%.0f", $0.value)) GF/s at \($0.key) thread(s)"
        }
        return """
            | | |
            |---|---|
            | preset | `\(m.preset)` |
            | machine | \(m.machine.cpuModel), \(m.machine.logicalCores) cores, \(m.machine.memoryTotalBytes >> 30) GiB |
            | libraries | \(m.libraries.openblasConfig) (core \(m.libraries.openblasCore?.summary ?? m.libraries.openblasCoreName)); jemalloc \(m.libraries.jemallocVersion?.prefix(5) ?? "?"); \(m.libraries.swiftVersion) |
            | build | \(m.buildConfiguration), commit \(m.gitCommit.map { String($0.prefix(10)) } ?? "unknown")\(m.gitDirty == true ? " (uncommitted changes)" : "") |
            | sgemm ceiling | \(ceilings.joined(separator: ", ")) (\(m.calibrationGemm)) |
            | timing | \(m.timing.warmups) warm-up(s), ≥ \(m.timing.minReps) reps and ≥ \(m.timing.minSeconds) s per point, ≤ \(m.timing.maxSeconds) s; seed \(m.seed); a figure from fewer than 6 timed calls is marked with their count (its median has no 95% interval) |
            | sessions | \(m.sessions.map(Self.sessionText).joined(separator: "; ")) |
            \(shards(m))
            """
    }

    /// A row naming each shard's machine, for a file joined by `attnbench merge` (machine and sgemm
    /// ceiling above are the first shard's); nothing otherwise.
    func shards(_ m: RunMetadata) -> String {
        guard let shards = m.mergedShards, !shards.isEmpty else { return "" }
        let list = shards.map { s in
            let ceilings = s.sgemmCeilingGflops.sorted { $0.key < $1.key }.map { String(format: "%.0f", $0.value) }
                .joined(separator: "/")
            return
                "\(s.index)/\(s.count): \(s.rowsMerged) rows on \(s.machine.hostName ?? "?") (\(s.machine.cpuModel), sgemm \(ceilings) GF/s)"
        }
        return "| shards | \(list.joined(separator: "; ")) |\n"
    }

    func scope() -> String {
        let core = analysis.scopeText == "attention core"
        let what =
            core
            ? "the attention core only\n(softmax(QKᵀ/√d)V or its replacement, one layer"
            : "\(analysis.scopeText)\n(post-LN, as BERT/RoBERTa: the Q, K, V and output projections around the core or its replacement,\nresiduals, LayerNorms and a GELU FFN"
        return """
            ## Scope

            The papers timed whole models on GPUs: Linformer's Table 3 a RoBERTa-like model on a 16 GB V100
            (layerwise sharing, largest batch that fits), "Transformers are RNNs" Figure 1 a forward/backward
            pass of self-attention on an 11 GB GTX 1080 Ti. This run measures \(what), \(passes), fp32) on a CPU with OpenBLAS. Compare
            ratios and slopes with the papers, not absolute times; "memory" here is heap measured by
            jemalloc, not GPU memory.

            """
    }

    /// The passes this run timed, as the scope names them ("forward" for an inference run).
    var passes: String {
        let present = Set(table.rows.filter { $0.point.mode == .forward }.map(\.point.pass))
        guard present != [.forward], !present.isEmpty else { return "forward" }
        return Pass.allCases.filter(present.contains).map { pass in
            switch pass {
            case .forward: "forward passes"
            case .backward: "backward passes (given a saved forward)"
            case .train: "training steps (forward + backward)"
            }
        }.joined(separator: ", ")
    }

    func exponents() -> String {
        var md =
            "## Scaling exponents\n\nLeast-squares fit of log(value) on log(n) over each series, with a 95% interval (Student's t). Theory: standard attention time ∝ n² (memory ∝ n²), Linformer and linear attention ∝ n.\n\n"
        md += "| series | batch | n | time exponent | peak-heap exponent |\n|---|---|---|---|---|\n"
        for s in analysis.series where s.rows.count >= 3 {
            let range = "\(s.rows[0].point.length)–\(s.rows[s.rows.count - 1].point.length)"
            md += "| \(s.label) | \(s.batch) | \(range) | \(Self.fit(s.timeFit)) | \(Self.fit(s.memoryFit)) |\n"
        }
        return md
    }

    static func fit(_ f: ScalingFit?) -> String {
        guard let f else { return "–" }
        let text =
            f.halfWidth.isFinite
            ? String(format: "%.2f ± %.2f", f.exponent, f.halfWidth) : String(format: "%.2f", f.exponent)
        return noNegativeZero(text)
    }

    /// "-0.00" (a tiny negative rounded) printed as "0.00".
    static func noNegativeZero(_ text: String) -> String {
        text.replacingOccurrences(of: "-0.00", with: "0.00")
    }

    /// The n where a mechanism's time falls below standard attention's, interpolated in log–log.
    func breakEven() -> String {
        var md =
            "## Break-even against standard attention\n\nThe sequence length from which the mechanism is faster than standard attention at the same batch, heads and d (interpolated between measured n on log scales), and its speed-up at the largest n measured.\n\n"
        md += "| mechanism | batch | break-even n | speed-up at largest n |\n|---|---|---|---|\n"
        for s in analysis.series where s.mechanism != .standard {
            // (n, Double(n), speed-up): n is printed as the integer it is (Int(Double(Int.max)) traps).
            let pairs = s.rows.compactMap { r -> (n: Int, x: Double, speedup: Double)? in
                guard let standard = analysis.standardRow(for: r)?.median, let time = r.median else { return nil }
                return (r.point.length, Double(r.point.length), standard / time)
            }
            guard let last = pairs.last else { continue }
            var text = "> \(last.n) (never faster in range)"
            if let first = pairs.first, first.speedup >= 1 {
                text = "≤ \(first.n) (faster at every n measured)"
            } else if let i = pairs.indices.dropFirst().first(where: { pairs[$0].speedup >= 1 }) {
                let (a, b) = (pairs[i - 1], pairs[i])
                let t = (0 - log(a.speedup)) / (log(b.speedup) - log(a.speedup))
                text = String(format: "≈ %.0f", exp(log(a.x) + t * (log(b.x) - log(a.x))))
            }
            md += "| \(s.label) | \(s.batch) | \(text) | \(String(format: "%.1f×", last.speedup)) at n = \(last.n) |\n"
        }
        return md
    }

    func table3() -> String {
        let cells = analysis.table3Cells()
        guard !cells.time.isEmpty else { return "" }  // not a Table 3 run (the linformer-table3 preset is)
        let paper = Dictionary(analysis.paperTable3.map { ("\($0.n),\($0.k)", $0) }, uniquingKeysWith: { a, _ in a })
        let ns = Set(cells.time.map(\.n)).sorted()
        let ks = Set(cells.time.map(\.k)).sorted()
        let layerRows = table.measured.filter { $0.point.scope == .layer && $0.point.mechanism == .linformer }
        func grid(_ title: String, _ cells: [Table3Cell], _ paperValue: (PaperTable3Cell) -> Double?) -> String {
            let values = Dictionary(cells.map { ("\($0.n),\($0.k)", $0) }, uniquingKeysWith: { a, _ in a })
            var md =
                "\(title)\n\n| n \\ k | " + ks.map(String.init).joined(separator: " | ") + " |\n|---|"
                + ks.map { _ in "---|" }.joined() + "\n"
            for n in ns {
                md +=
                    "| \(n) | "
                    + ks.map { k -> String in
                        if k >= n { return "–" }
                        guard let cell = values["\(n),\(k)"] else { return "not run" }
                        var text = String(format: "%.1f×", cell.value)
                        if let low = cell.low, let high = cell.high {
                            text += String(format: " [%.1f, %.1f]", low, high)
                            if !cell.intervalIs95, let m = cell.samples {
                                text += m == 1 ? " (1 call, no interval)" : " (range of \(m) calls)"
                            }
                        }
                        if let published = paper["\(n),\(k)"].flatMap(paperValue) {
                            text += String(format: " (paper %.1f×; ÷ paper %.2f)", published, cell.value / published)
                        }
                        return text
                    }.joined(separator: " | ") + " |\n"
            }
            return md
        }
        var md = "## Linformer Table 3: measured (paper)\n\n"
        md +=
            layerRows.isEmpty
            ? "Scope: the attention core alone (the paper timed whole models; `--scope layer` times encoder layers).\n\n"
            : "Scope: \(analysis.scopeText) (post-LN, as RoBERTa: Q, K, V and output projections, the core, residual and LayerNorm, FFN with GELU, residual and LayerNorm), standard attention against Linformer with key-value sharing. The paper timed a whole RoBERTa model on a 16 GB V100 in fp16; this is one layer on this CPU in fp32.\n\n"
        md += grid(
            "Time saved: standard time ÷ Linformer time per call at the same n and batch (batch \(table.measured.filter { $0.point.mechanism == .linformer }.map(\.point.batch).min() ?? 1), so per sample), with its 95% interval (standard's interval ÷ Linformer's) where both sides had at least 6 calls; with fewer, the bracket is the ratio of their calls' ranges and says so (a median's 95% interval needs 6 calls).",
            cells.time, \.timeSaved)
        let inversions = analysis.table3Inversions()
        md += "\nThe paper's time-saved table grows with n and falls as k grows. "
        if inversions.isEmpty {
            md += "The measured table does too, at every pair of neighbouring cells.\n"
        } else {
            md +=
                "Pairs of neighbouring cells where the measured table does not (the first should be below the second), and whether their brackets overlap (95% intervals, or the ranges of fewer calls where the table says so; overlapping, the order is within the noise of the measurement):\n\n| cell | value | cell | value | intervals overlap |\n|---|---|---|---|---|\n"
            for inv in inversions {
                md +=
                    "| n=\(inv.first.n), k=\(inv.first.k) | " + String(format: "%.2f×", inv.first.value)
                    + " | n=\(inv.second.n), k=\(inv.second.k) | "
                md += String(format: "%.2f×", inv.second.value) + " | \(inv.overlapping ? "yes" : "**no**") |\n"
            }
        }
        if let cycles = metadata?.timing.cycles, cycles > 1 {
            md +=
                "\nEach point's time is its fastest median over \(cycles) interleaved cycles of the whole grid (standard and Linformer measured back to back in every cycle).\n"
        }
        md +=
            "\n"
            + grid(
                cells.memoryIsBatchRatio
                    ? "Memory saved: Linformer's largest batch ÷ standard's under the same heap budget (`attnbench max-batch`), the paper's definition."
                    : "Memory saved, approximated: standard's peak heap ÷ Linformer's at the same batch. The paper's figure is a ratio of largest batches (run `attnbench max-batch`), which also counts the inputs both share, so it is smaller.",
                cells.memory, \.memorySaved)
        if let rows = analysis.maxBatch, cells.memoryIsBatchRatio {
            md += "\n" + maxBatchNotes(rows)
        }
        if !layerRows.isEmpty {
            md += """

                Where and why the cells differ from the paper's:
                - **What dominates.** \(flopNote(layerRows))
                - **GPU fp16 against CPU fp32.** A V100's tensor cores run the FFN's GEMMs far faster than the softmax's memory-bound passes over the n×n scores, so on the GPU the attention share, and with it the time saved, is larger at a given n than on a CPU, where GEMMs and the softmax run closer to the same speed.
                - **Memory.** The budget (the V100's 16 GB) bounds the largest batch. On the GPU the weights and fp16 activations of a whole model count against it; here one fp32 layer's heap (jemalloc's thread.peak of one forward call, inputs and weights included) does. Standard attention's n² scores dominate from moderate n on, so the ratio grows like n/k, as the paper's does, until standard fits only one sample (or none: "skipped"), where the paper's plateau (56× at 16384 and 32768) also sits.

                """
        }
        return md
    }

    /// Why time saved at layer scope is small at small n: the layer's FLOPs, and how the measured
    /// cells compare with the cost model's FLOP ratio (not a bound: the n×n softmax pass moves
    /// memory, which FLOPs do not count).
    func flopNote(_ layerRows: [ResultRow]) -> String {
        let pairs = layerRows.filter { $0.point.pass == .forward && $0.point.mode == .forward }.compactMap { lf in
            analysis.standardRow(for: lf).flatMap { std -> (point: SweepPoint, flops: Double, time: Double)? in
                guard let a = std.modelGflop, let b = lf.modelGflop, b > 0, let s = std.median, let l = lf.median, l > 0
                else { return nil }
                return (lf.point, a / b, s / l)
            }
        }
        var text =
            "Per token, a layer's projections and FFN cost `2·(4 + 2·m)·D²` FLOPs (m = the FFN multiple, "
            + "D = d_model) whatever n is; standard attention's core adds `4·n·D` and Linformer's `8·k·D` (E·K and F·V "
            + "included). The FLOP ratio of the two layers (standard's `model_gflop` ÷ Linformer's, from the cost model) "
            + "is therefore near 1 until n passes about 6·D, then grows like n/(2k)."
        if let last = pairs.max(by: {
            ($0.point.length, -($0.point.projectedLength ?? 0)) < ($1.point.length, -($1.point.projectedLength ?? 0))
        }) {
            text += String(
                format: " At n = %d, k = %d it is %.1f×, against %.1f× measured.", last.point.length,
                last.point.projectedLength ?? 0, last.flops, last.time)
        }
        let above = pairs.filter { $0.time > $0.flops }.count
        text +=
            " It is not a bound on time saved: the softmax pass over the n×n scores moves memory rather than FLOPs, "
            + "and \(above) of the \(pairs.count) measured cells exceed their FLOP ratio. The paper's whole model shares "
            + "the same layers, so its curve has the same shape; its embeddings and output head add a constant."
        return text
    }

    /// How the max-batch table was found and which cells runs confirmed.
    func maxBatchNotes(_ rows: [MaxBatchRow]) -> String {
        let ok = rows.filter(\.isOK)
        guard let budget = ok.first?.budgetBytes else { return "" }
        let predicted = ok.filter { $0.method == .predicted }.count
        var md =
            "Largest batches within \(formatBytes(budget)) of heap (the paper's 16 GB V100): \(predicted) of \(ok.count) predicted by replaying each point's traced tensor allocations (batches 1–3) through jemalloc's size classes, the rest (maxima of 2 or less) searched by runs.\n"
        let verified = ok.filter { $0.verifiedPeakBytes != nil }
        if !verified.isEmpty {
            md +=
                "\nConfirmed by runs (jemalloc's measured peak at the maximum, and at the maximum + 1):\n\n| point | max batch | predicted peak | measured peak | at max + 1 | exact | time per sample at max (ms) |\n|---|---|---|---|---|---|---|\n"
            for r in verified {
                let label = r.point.mechanismLabel + " n=\(r.point.length)"
                let over = r.overPeakBytes.map(formatBytes) ?? (r.reason.isEmpty ? "not run" : "not run: \(r.reason)")
                let exact = r.isVerifiedExact.map { $0 ? "yes" : "**no**" } ?? "–"
                md +=
                    "| \(label) | \(r.maxBatch ?? 0) | \(r.predictedPeakBytes.map(formatBytes) ?? "–") | \(r.verifiedPeakBytes.map(formatBytes) ?? "–") | \(over) | \(exact) | "
                md += (r.timePerSample.map { String(format: "%.2f", $0 * 1e3) } ?? "–") + " |\n"
            }
        }
        let skipped = rows.filter { !$0.isOK }
        if let first = skipped.first {
            md +=
                "\n\(skipped.count) point\(skipped.count == 1 ? " has" : "s have") no maximum (skipped), e.g. \(first.point.label): \(first.reason).\n"
        }
        return md
    }

    /// attnbench against its peers, both from one session (``Analysis/peerComparisons()``): each
    /// mechanism at each n beside the fastest peer of its form, named, and every peer's time. The
    /// README's performance table is this text (``ReadmeBlock``).
    func peers() -> String {
        let body = peersBody()
        return body.isEmpty ? "" : "## Against its peers, in one session\n\n" + body
    }

    /// ``peers()`` without its heading: the README's block between its `peers` markers.
    public func peersBody() -> String {
        let comparisons = analysis.peerComparisons()
        guard !comparisons.isEmpty else { return "" }
        var md =
            "attnbench's median time ÷ the fastest peer's of the same form at the same point (below 1: attnbench is faster than every peer measured), from `Tests/peers/peers.py` (`make bench-peers`), "
        md +=
            "which measures attnbench and every installed peer interleaved round by round, each its best median over the rounds; this run's own rows are not used (another session). "
        if let machine = analysis.peersMachine {
            let own = metadata?.machine.cpuModel
            md +=
                own == nil || own == machine
                ? "Measured on \(machine). " : "Measured on \(machine), **not this run's machine (\(own ?? ""))**. "
        }
        md +=
            "The forms: fused exact (`flash`) is PyTorch's `scaled_dot_product_attention`, ONNX Runtime's `com.microsoft` MultiHeadAttention, OpenVINO's opset-13 ScaledDotProductAttention at f32 and JAX's `jax.nn.dot_product_attention`; materialised exact (`softmax`) is matmul-softmax-matmul in PyTorch and JAX, also set beside the fastest fused peer; Linformer is softmax(Q (E K)ᵀ/√d)(F V) and linear φ(Q)(φ(K)ᵀV)/(φ(Q)·Σφ(K)) in batched matmuls (PyTorch, JAX); causal linear is fast-transformers' CPU `causal_dot_product`; Performer is performer-pytorch's `FastAttention` (FAVOR+ with the point's m) and `lsh-R` reformer-pytorch's `LSHAttention` (R rounds, bucket size the point's chunk, so n ÷ chunk buckets where ours has the point's fixed count). Each peer's threads are set to the point's.\n\n"
        md +=
            "| mechanism | n | batch | threads | attnbench ms | fastest peer | its ms | ratio | ÷ fastest fused | every peer (ms) |\n|---|---|---|---|---|---|---|---|---|---|\n"
        let ms = { (r: ResultRow) in r.median.map { String(format: "%.2f", $0 * 1e3) } ?? "–" }
        let name = { (r: ResultRow) in r.point.peer?.displayName ?? "attnbench" }
        for c in comparisons {
            let p = c.own.point
            let ratio = c.ratio.map { String(format: "%.2f×", $0) } ?? "–"
            let fused =
                c.fastestFused.flatMap { f in c.fusedRatio.map { String(format: "%.2f× ", $0) + "(\(name(f)))" } } ?? ""
            let every = c.peers.map { "\(name($0)) \(ms($0))" }.joined(separator: " · ")
            md +=
                "| \(p.seriesLabel) | \(p.length) | \(p.batch) | \(p.threads) | \(ms(c.own)) | \(name(c.fastest)) | \(ms(c.fastest)) | \(ratio) | \(fused) | \(every) |\n"
        }
        return md
    }

    /// The approximation-error sections of the mechanisms that estimate softmax attention.
    func approximation() -> String {
        let linformer = approximationTable(
            .linformer, axis: "k", \.projectedLength,
            heading:
                "## Linformer's approximation error\n\n‖O_linformer − O_exact‖_F / ‖O_exact‖_F on sampled query rows, untrained projections with entries N(0, 1/k) (the paper's Theorem 1 scaling), random inputs. Above 1 means the output is not an approximation of attention at all: each projected value row is ~√(n/k) times a value row, while exact attention on random inputs averages its values toward 0. Trained projections are what make Linformer accurate; this column is the price of speed without them.\n\n"
        )
        let performer = approximationTable(
            .performer, axis: "m", \.features,
            heading:
                "\n## Performer's approximation error\n\n‖O_performer − O_exact‖_F / ‖O_exact‖_F on sampled query rows, m positive orthogonal random features (FAVOR+, seeded), random inputs: the estimator's own error, which more features lower.\n\n"
        )
        return linformer + performer
    }

    /// `heading`, then a mechanism's relative error against exact attention by n (rows) and the
    /// value of its axis (columns); empty when it has no such rows.
    func approximationTable(
        _ mechanism: Mechanism, axis: String, _ value: KeyPath<SweepPoint, Int?>, heading: String
    ) -> String {
        let rows = table.measured.filter { $0.point.mechanism == mechanism && $0.approxRelError != nil }
        guard !rows.isEmpty else { return "" }
        let ns = Set(rows.map(\.point.length)).sorted()
        let columns = Set(rows.compactMap { $0.point[keyPath: value] }).sorted()
        var md = heading
        md +=
            "| n \\ \(axis) | " + columns.map(String.init).joined(separator: " | ") + " |\n|---|"
            + columns.map { _ in "---|" }.joined() + "\n"
        for n in ns {
            md +=
                "| \(n) | "
                + columns.map { c in
                    rows.first { $0.point.length == n && $0.point[keyPath: value] == c }?.approxRelError.map {
                        String(format: "%.3g", $0)
                    } ?? "–"
                }.joined(separator: " | ") + " |\n"
        }
        return md
    }
}
