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
            md += "\n" + scope() + "\n" + exponents() + "\n" + breakEven()
            for section in [figure1(), training()] where !section.isEmpty { md += "\n" + section }
            md += "\n" + table3() + "\n" + approximation()
            let peerTable = peers()
            if !peerTable.isEmpty { md += "\n" + peerTable }
        }
        for section in [decoders(), decode()] where !section.isEmpty { md += "\n" + section }
        if !figures.isEmpty {
            md += "\n## Figures\n\n" + figures.map { "![\($0)](\($0))\n" }.joined(separator: "\n")
        }
        return md
    }

    func header() -> String {
        guard let m = metadata else { return "No metadata sidecar was found for this CSV.\n" }
        let ceilings = m.sgemmCeilingGflops.sorted { $0.key < $1.key }.map { "\(String(format: "%.0f", $0.value)) GF/s at \($0.key) thread(s)" }
        return """
            | | |
            |---|---|
            | preset | `\(m.preset)` |
            | machine | \(m.machine.cpuModel), \(m.machine.logicalCores) cores, \(m.machine.memoryTotalBytes >> 30) GiB |
            | libraries | \(m.libraries.openblasConfig) (core \(m.libraries.openblasCoreName)); jemalloc \(m.libraries.jemallocVersion?.prefix(5) ?? "?"); \(m.libraries.swiftVersion) |
            | build | \(m.buildConfiguration), commit \(m.gitCommit.map { String($0.prefix(10)) } ?? "unknown")\(m.gitDirty == true ? " (uncommitted changes)" : "") |
            | sgemm ceiling | \(ceilings.joined(separator: ", ")) (\(m.calibrationGemm)) |
            | timing | \(m.timing.warmups) warm-up(s), ≥ \(m.timing.minReps) reps and ≥ \(m.timing.minSeconds) s per point, ≤ \(m.timing.maxSeconds) s; seed \(m.seed) |
            | sessions | \(m.sessions.map { "\($0.start) → \($0.end ?? "interrupted")" }.joined(separator: "; ")) |
            \(shards(m))
            """
    }

    /// A row naming each shard's machine, for a file joined by `attnbench merge` (machine and sgemm
    /// ceiling above are the first shard's); nothing otherwise.
    func shards(_ m: RunMetadata) -> String {
        guard let shards = m.mergedShards, !shards.isEmpty else { return "" }
        let list = shards.map { s in
            let ceilings = s.sgemmCeilingGflops.sorted { $0.key < $1.key }.map { String(format: "%.0f", $0.value) }.joined(separator: "/")
            return "\(s.index)/\(s.count): \(s.rowsMerged) rows on \(s.machine.hostName ?? "?") (\(s.machine.cpuModel), sgemm \(ceilings) GF/s)"
        }
        return "| shards | \(list.joined(separator: "; ")) |\n"
    }

    func scope() -> String {
        """
        ## Scope

        The papers timed whole models on GPUs: Linformer's Table 3 a RoBERTa-like model on a 16 GB V100
        (layerwise sharing, largest batch that fits), "Transformers are RNNs" Figure 1 a forward/backward
        pass of self-attention on an 11 GB GTX 1080 Ti. This run measures the attention core only
        (softmax(QKᵀ/√d)V or its replacement, one layer, \(passes), fp32) on a CPU with OpenBLAS. Compare
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
        var md = "## Scaling exponents\n\nLeast-squares fit of log(value) on log(n) over each series, with a 95% interval (Student's t). Theory: standard attention time ∝ n² (memory ∝ n²), Linformer and linear attention ∝ n.\n\n"
        md += "| series | batch | n | time exponent | peak-heap exponent |\n|---|---|---|---|---|\n"
        for s in analysis.series where s.rows.count >= 3 {
            let range = "\(s.rows[0].point.length)–\(s.rows[s.rows.count - 1].point.length)"
            md += "| \(s.label) | \(s.batch) | \(range) | \(Self.fit(s.timeFit)) | \(Self.fit(s.memoryFit)) |\n"
        }
        return md
    }

    static func fit(_ f: ScalingFit?) -> String {
        guard let f else { return "–" }
        let text = f.halfWidth.isFinite ? String(format: "%.2f ± %.2f", f.exponent, f.halfWidth) : String(format: "%.2f", f.exponent)
        return noNegativeZero(text)
    }

    /// "-0.00" (a tiny negative rounded) printed as "0.00".
    static func noNegativeZero(_ text: String) -> String {
        text.replacingOccurrences(of: "-0.00", with: "0.00")
    }

    /// The n where a mechanism's time falls below standard attention's, interpolated in log–log.
    func breakEven() -> String {
        var md = "## Break-even against standard attention\n\nThe sequence length from which the mechanism is faster than standard attention at the same batch, heads and d (interpolated between measured n on log scales), and its speed-up at the largest n measured.\n\n"
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
        guard !cells.time.isEmpty else { return "## Linformer Table 3\n\nThis run has no Linformer and standard points at the same n (run the `linformer-table3` preset).\n" }
        let paper = Dictionary(analysis.paperTable3.map { ("\($0.n),\($0.k)", $0) }, uniquingKeysWith: { a, _ in a })
        let ns = Set(cells.time.map(\.n)).sorted(), ks = Set(cells.time.map(\.k)).sorted()
        func grid(_ title: String, _ cells: [Table3Cell], _ paperValue: (PaperTable3Cell) -> Double?) -> String {
            let values = Dictionary(cells.map { ("\($0.n),\($0.k)", $0.value) }, uniquingKeysWith: { a, _ in a })
            var md = "\(title)\n\n| n \\ k | " + ks.map(String.init).joined(separator: " | ") + " |\n|---|" + ks.map { _ in "---|" }.joined() + "\n"
            for n in ns {
                md += "| \(n) | " + ks.map { k -> String in
                    if k >= n { return "–" }
                    let measured = values["\(n),\(k)"].map { String(format: "%.1f×", $0) } ?? "not run"
                    let published = paper["\(n),\(k)"].flatMap(paperValue).map { String(format: " (paper %.1f×)", $0) } ?? ""
                    return measured + published
                }.joined(separator: " | ") + " |\n"
            }
            return md
        }
        var md = "## Linformer Table 3: measured (paper)\n\n"
        md += grid("Time saved: standard time ÷ Linformer time per call at the same n and batch.", cells.time, \.timeSaved)
        md += "\n" + grid(cells.memoryIsBatchRatio
            ? "Memory saved: Linformer's largest batch ÷ standard's under the same heap budget (`attnbench max-batch`), the paper's definition."
            : "Memory saved, approximated: standard's peak heap ÷ Linformer's at the same batch. The paper's figure is a ratio of largest batches (run `attnbench max-batch`), which also counts the inputs both share, so it is smaller.",
            cells.memory, \.memorySaved)
        return md
    }

    /// attnbench against another implementation on this machine (``Analysis/peerComparisons()``).
    func peers() -> String {
        let comparisons = analysis.peerComparisons()
        guard !comparisons.isEmpty else { return "" }
        let sameRun = comparisons.allSatisfy(\.sameRun)
        var md = "## Against PyTorch on this machine\n\n"
        md += "attnbench's median time ÷ PyTorch's at the same point (below 1: attnbench is faster), from `Tests/peers/torch_peers.py` (`make bench-peers`). "
        md += "PyTorch's forms: `torch-standard` is matmul-softmax-matmul, `torch-flash` is `scaled_dot_product_attention` (fused), `torch-linformer` is softmax(Q (E K)ᵀ/√d)(F V) and `torch-linear` φ(Q)(φ(K)ᵀV)/(φ(Q)·Σφ(K)), in batched matmuls, inference mode, PyTorch's threads set to the point's. "
        md += sameRun
            ? "Both sides come from one run, interleaved round by round; each is its best median over the rounds.\n\n"
            : "Rows marked † take attnbench's time from the results table, not from the peers' run: compare them with care.\n\n"
        md += "| mechanism | n | batch | threads | attnbench ms | PyTorch ms | ratio | ÷ torch-flash |\n|---|---|---|---|---|---|---|---|\n"
        for c in comparisons {
            let p = c.own.point
            let ms = { (r: ResultRow) in r.median.map { String(format: "%.2f", $0 * 1e3) } ?? "–" }
            let ratio = c.ratio.map { String(format: "%.2f×", $0) } ?? "–"
            md += "| \(p.seriesLabel)\(c.sameRun ? "" : " †") | \(p.length) | \(p.batch) | \(p.threads) | \(ms(c.own)) | \(ms(c.peer)) | \(ratio) | \(c.fusedRatio.map { String(format: "%.2f×", $0) } ?? "") |\n"
        }
        return md
    }

    func approximation() -> String {
        let rows = table.measured.filter { $0.point.mechanism == .linformer && $0.approxRelError != nil }
        guard !rows.isEmpty else { return "" }
        let ns = Set(rows.map(\.point.length)).sorted(), ks = Set(rows.compactMap(\.point.projectedLength)).sorted()
        var md = "## Linformer's approximation error\n\n‖O_linformer − O_exact‖_F / ‖O_exact‖_F on sampled query rows, untrained projections with entries N(0, 1/k) (the paper's Theorem 1 scaling), random inputs. Above 1 means the output is not an approximation of attention at all: each projected value row is ~√(n/k) times a value row, while exact attention on random inputs averages its values toward 0. Trained projections are what make Linformer accurate; this column is the price of speed without them.\n\n"
        md += "| n \\ k | " + ks.map(String.init).joined(separator: " | ") + " |\n|---|" + ks.map { _ in "---|" }.joined() + "\n"
        for n in ns {
            md += "| \(n) | " + ks.map { k in
                rows.first { $0.point.length == n && $0.point.projectedLength == k }?.approxRelError.map { String(format: "%.3g", $0) } ?? "–"
            }.joined(separator: " | ") + " |\n"
        }
        return md
    }
}
