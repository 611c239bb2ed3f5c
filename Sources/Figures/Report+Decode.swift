import Analysis
import AttentionTypes
import Foundation
import Results

extension Report {
    /// The decode section: tokens per second, speed-up and peak heap per N next to the paper's
    /// image-generation speed-ups, and the per-token latency slopes. Empty without decode rows.
    func decode() -> String {
        let speedups = analysis.decodeSpeedups()
        guard !speedups.isEmpty else { return "" }
        let p = speedups[0].points[0].linear.point
        var md = """
            ## Decoding: KV-cache softmax against the RNN state ("Transformers are RNNs" §4.2)

            Generating N tokens one at a time through the causal attention core, or at layer scope through the whole causal encoder stack (b = \(p.batch), h = \(p.heads), d = \(p.headDim), a \(p.prompt ?? 1)-token prompt), each output fed back through fixed random projections as the next token's query, key and value. Softmax keeps a key/value cache (step i reads all i cached rows: O(i·d)); linear attention keeps s_i, z_i (O(d²) per step, whatever i). Tokens/s count every sequence of the batch; the speed-up is softmax's time for the whole sequence ÷ linear's. Peak heap is jemalloc's thread.peak over one generation, with the cost model's figure in brackets (thread.peak resolves about 100 KB, so the RNN state's few tens of KB read as noise around it).

            | scope | threads | N | softmax tokens/s | linear tokens/s | speed-up | softmax peak heap (model) | linear peak heap (model) |
            |---|---|---|---|---|---|---|---|

            """
        for s in speedups {
            for point in s.points {
                let q = point.linear.point
                md +=
                    "| \(Self.scopeCell(q)) | \(q.threads) | \(point.n) | \(Self.rate(point.softmax)) | \(Self.rate(point.linear)) | "
                md +=
                    String(format: "%.1f×", point.speedup)
                    + " | \(Self.heap(point.softmax)) | \(Self.heap(point.linear)) |\n"
            }
        }
        md += """

            This table sets linear against softmax *with* its cache: the ratio grows like N/d (softmax's step ∝ i·d against linear's ∝ d², plus the projections both pay). The paper's headline 317× and 4,462× (Tables 1–2: images per second of whole 8- and 16-layer models on a GPU) are against softmax *without* a cache; that comparison is the decoders table above, the no-cache curve of the figure, and `Results/CLAIMS.md`.

            ### Per-token latency against position

            The latency of one decode step (all sequences of the batch; the slowest worker when threads split the heads), median over a window of steps and all repetitions, from `\(TokenLatencyRow.path(forCSV: source))`. Slopes are fitted on log–log axes, with a 95% interval, over positions N/64…N (and ≥ 16), and over the first four octaves of that range, N/64…N/4; a and b are a least-squares fit of latency = a + b·position over N/64…N/4. Softmax with a cache should have slope 1 (b is then the cost of reading one cached token's key and value in every head), linear attention slope 0. The softmax cache is 2·h·d·4 = \(Self.cacheBytesPerPosition(p)) bytes per position; where it outgrows a cache level, b steps up and the slope over the whole range exceeds 1.

            | curve | N | slope, N/64…N | slope, N/64…N/4 | a (µs) | b (ns per position) | last step (µs) |
            |---|---|---|---|---|---|---|

            """
        for c in analysis.decodeLatencyCurves() {
            let line = c.lowerLine
            md += "| \(c.label) | \(c.row.point.length) | \(Self.fit(c.fit)) | \(Self.fit(c.lowerFit)) | "
            md +=
                line.map { Self.noNegativeZero(String(format: "%.2f | %.2f", $0.intercept * 1e6, $0.slope * 1e9)) }
                ?? "– | –"
            md += String(format: " | %.1f |\n", (c.samples.last?.median ?? 0) * 1e6)
        }
        return md
    }

    /// A decode row's scope as a table cell: "core", or "layer ×L, FFN m×".
    static func scopeCell(_ p: SweepPoint) -> String {
        p.scope == .layer ? "layer ×\(p.layers ?? 1), FFN \(p.ffnMultiplier ?? 4)×" : "core"
    }

    /// The three decoders beside the paper's rows ("Transformers are RNNs" Tables 4–5): recompute ↔
    /// Softmax, kv-cache ↔ Stateful-softmax, recurrent ↔ Linear. Empty without a setting that has
    /// linear's row and another decoder's.
    func decoders() -> String {
        let comparisons = analysis.decoderComparisons()
        guard !comparisons.isEmpty else { return "" }
        let paper = analysis.paperDecoderTimes.filter { $0.device == "CPU" }
        func published(_ n: Int, _ decoder: Decoder) -> PaperDecoderTime? {
            paper.first { $0.tokens == n && $0.decoder == decoder }
        }
        func times(_ x: Double?) -> String { x.map { String(format: "%.1f×", $0) } ?? "–" }
        func rate(_ row: ResultRow?) -> String {
            guard let row else { return "not run" }
            return row.isOK ? Self.rate(row) : "skipped"
        }
        var md = """
            ## Decoders as the paper compares them ("Transformers are RNNs" Tables 4–5)

            Three ways to generate N tokens: softmax **without a cache** (`recompute`, the paper's "Softmax" rows: every new token re-runs the causal core or layers over the whole prefix), softmax **with a key/value cache** (`kv-cache`, the paper's "stateful-softmax") and linear attention's **RNN state** (`recurrent`, "Linear"). Each multiple is a decoder's time for the whole sequence ÷ linear's at the same setting; beside it, the paper's multiple of linear's seconds per image at batch 1 on its CPU (Table 5: whole 8-layer MNIST and 16-layer CIFAR-10 models, the closest setting it published). Its headline 317× and 4,462× (Tables 1–2, GPU, each model at its largest batch) compare linear with the no-cache softmax; its Table 4 puts stateful-softmax 16.8× (MNIST) and 80× (CIFAR-10) above no-cache softmax in images per second.

            | scope | threads | N | no cache tok/s | KV cache tok/s | RNN state tok/s | no cache ÷ linear | paper | KV cache ÷ linear | paper | no cache ÷ KV cache | paper (Table 5) |
            |---|---|---|---|---|---|---|---|---|---|---|---|

            """
        for c in comparisons {
            let k = c.key
            let (noCache, cached) = (c.multipleOfLinear(.recompute), c.multipleOfLinear(.kvCache))
            let ratio = noCache.flatMap { a in cached.map { a / $0 } }
            let paperRatio = published(c.n, .recompute).flatMap { s in
                published(c.n, .kvCache).map { s.secondsPerImage / $0.secondsPerImage }
            }
            let label = published(c.n, .recurrent).map { " (\($0.dataset))" } ?? ""
            md +=
                "| \(Self.scopeCell(k)) | \(k.threads) | \(c.n)\(label) | \(rate(c.rows[.recompute])) | \(rate(c.rows[.kvCache])) | \(rate(c.rows[.recurrent])) | "
            md +=
                "\(times(noCache)) | \(times(published(c.n, .recompute)?.multipleOfLinear)) | \(times(cached)) | \(times(published(c.n, .kvCache)?.multipleOfLinear)) | "
            md += "\(times(ratio)) | \(times(paperRatio)) |\n"
        }
        let skipped = comparisons.flatMap { $0.rows.values }.filter { !$0.isOK }
        if let first = skipped.first {
            md +=
                "\nSkipped: \(skipped.count) row\(skipped.count == 1 ? "" : "s"), e.g. \(first.point.label): \(first.reason).\n"
        }
        return md + lshDecoders(comparisons)
    }

    /// Reformer's LSH rows of Table 5 beside ours: the generation's time ÷ linear's at the same setting.
    func lshDecoders(_ comparisons: [DecoderComparison]) -> String {
        let withLSH = comparisons.filter { !$0.lsh.isEmpty }
        guard !withLSH.isEmpty else { return "" }
        let rounds = Set(withLSH.flatMap(\.lsh.keys)).sorted()
        let paper = analysis.paperLSHTimes.filter { $0.device == "CPU" }
        func times(_ x: Double?) -> String { x.map { String(format: "%.1f×", $0) } ?? "–" }
        var md = """

            ### Reformer's LSH rows (Table 5)

            Reformer's LSH attention decodes as the paper's LSH rows did, by re-running the model over the prefix at every token (`recompute` through the whole stack: its hashes and chunks depend on the whole prefix, so there is no cache to keep); each multiple is its time ÷ linear's at the same setting, beside Table 5's CPU multiple of linear's seconds per image.

            | scope | N | \(rounds.map { "lsh-\($0) tok/s | lsh-\($0) ÷ linear | paper" }.joined(separator: " | ")) |
            |---|---|\(rounds.map { _ in "---|---|---|" }.joined())

            """
        for c in withLSH {
            let label = paper.first { $0.tokens == c.n }.map { " (\($0.dataset))" } ?? ""
            md += "| \(Self.scopeCell(c.key)) | \(c.n)\(label) | "
            md +=
                rounds.map { r in
                    let row = c.lsh[r]
                    let rate = row.map { $0.isOK ? Self.rate($0) : "skipped" } ?? "not run"
                    let published = paper.first { $0.tokens == c.n && $0.rounds == r }?.multipleOfLinear
                    return "\(rate) | \(times(c.lshMultipleOfLinear(r))) | \(times(published))"
                }.joined(separator: " | ") + " |\n"
        }
        return md
    }

    /// 2·h·d·4, in `Double` so that no h and d read from a CSV can overflow it.
    static func cacheBytesPerPosition(_ p: SweepPoint) -> String {
        String(format: "%.0f", 2 * Double(p.heads) * Double(p.headDim) * 4)
    }

    static func rate(_ row: ResultRow) -> String {
        (row.tokensPerSecond.map(tokensPerSecond) ?? "–") + callsNote(row) + (row.isEstimate ? " (estimated)" : "")
    }

    /// A generation rate to two significant figures below 10 tok/s ("0.54", "1.3", "9.2"), whole
    /// above: a no-cache softmax at N = 3072 through 16 layers runs at about 1 tok/s, which "%.0f"
    /// printed as 1 whether it was 0.6 or 1.4.
    package static func tokensPerSecond(_ x: Double) -> String {
        String(format: x >= 9.95 || !x.isFinite ? "%.0f" : (x >= 1 ? "%.1f" : "%.2g"), x)
    }

    /// The estimated generations of the run and the estimator's checks against full runs; empty when
    /// the run has neither.
    func estimates() -> String {
        let estimated = table.measured.filter(\.isEstimate)
        let checks = analysis.estimateChecks
        guard !estimated.isEmpty || !checks.isEmpty else { return "" }
        var md = """
            ## Generations estimated from sampled steps

            A no-cache generation re-runs the model over the prefix at every step, so its N steps cost Σ t(i) with t(i) growing with i, and each step's cost depends on i alone. Where a whole generation would exceed max-time, its time is estimated from a stratified sample of steps (the positions cut into equal strata, two drawn at random from each, each timed once as a real step over a prefix of its length), T̂ = Σ N_h·ȳ_h, with a 95% interval from the strata's variances (conservative: it counts each stratum's trend as noise).

            """
        if !estimated.isEmpty {
            md += "\n| point | estimated seconds per generation | 95% interval | steps timed |\n|---|---|---|---|\n"
            for r in estimated {
                let interval =
                    (r.ciHigh ?? .infinity).isFinite
                    ? String(format: "%.1f–%.1f", r.ciLow ?? .nan, r.ciHigh ?? .nan) : "–"
                md +=
                    "| \(r.point.label) | " + String(format: "%.1f", r.median ?? .nan)
                    + " | \(interval) | \(r.reps ?? 0) |\n"
            }
        }
        if !checks.isEmpty {
            let covered = checks.filter(\.covered).count
            md +=
                "\nThe estimator against generations measured in full (each estimated from the same number of steps): "
            md += "\(covered) of \(checks.count) measured times lie inside the estimate's interval"
            let ratios = checks.map(\.ratio)
            if let low = ratios.min(), let high = ratios.max() {
                let worst = ratios.map { abs($0 - 1) }.max() ?? 0
                md += String(
                    format:
                        "; every estimate came within %.1f%% of its full run (estimate ÷ measured %.3f–%.3f). The interval counts only the spread of the sampled steps, not the machine's drift between the estimate and the full run (minutes apart), so where the checks fall outside it, read an estimated row's accuracy from the checks' spread rather than from its interval",
                    worst * 100, low, high)
            }
            md += ".\n\n"
            md += "| point | measured s | estimated s | 95% interval | estimate ÷ measured |\n|---|---|---|---|---|\n"
            for c in checks {
                md +=
                    "| \(c.point) | "
                    + String(format: "%.2f | %.2f | %.2f–%.2f | %.3f", c.fullMedian, c.estimate, c.low, c.high, c.ratio)
                    + " |\n"
            }
        }
        return md
    }

    /// " (1 call)", " (3 calls)" after a figure from fewer than 6 timed calls (its median has no 95%
    /// interval); empty otherwise.
    static func callsNote(_ row: ResultRow) -> String {
        guard let m = row.reps, m >= 1, m < SampleStatistics.minimumCountFor95 else { return "" }
        return m == 1 ? " (1 call)" : " (\(m) calls)"
    }

    static func heap(_ row: ResultRow) -> String {
        func mib(_ bytes: Int?) -> String { bytes.map { formatMiB($0, decimals: 3) } ?? "–" }
        return "\(mib(row.peakHeapBytes)) (\(mib(row.modelBytes)))"
    }
}
