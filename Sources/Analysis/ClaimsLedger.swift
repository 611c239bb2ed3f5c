import AttentionTypes
import Foundation
import Results

/// The claims of the two papers, each beside the committed run that measures it.
///
/// - Linformer Table 3 (`linformer-table3`): time saved and memory saved (a ratio of maximum batch
///   sizes), one summary row per n; every cell is in the preset's report.
/// - "Transformers are RNNs" Figure 1 (`rnn-figure1`): the per-sample exponents of time and memory
///   (quadratic for softmax, linear for linear attention: with batch ∝ 1/N a sample costs N²·d and
///   N·d²), where softmax's curve stops, and "linear is faster and uses less memory at every N".
/// - Tables 1, 2, 4 and 5 (`rnn-generation`): linear's speed-up over softmax without a cache and
///   with a KV cache, and Table 5's CPU multiples of linear, at the model scope the run has.
public struct ClaimsLedger: Sendable {
    /// The analysis of each preset's committed run; nil where the run does not exist.
    public var table3: Analysis?
    public var figure1: Analysis?
    public var generation: Analysis?
    /// The whole models' generation run (`rnn-generation-models`), preferred where it has the point.
    public var models: Analysis?
    /// Where the paper's Figure 1 curves end (`Data/rnn_figure1.csv`).
    public var figure1Limits: [PaperFigure1Limit] = []
    /// Table 4: stateful softmax's images per second over softmax's without a cache.
    public var statefulSpeedups: [PaperStatefulSpeedup] = []
    /// Each preset's machine, for the "ours" column ("AMD EPYC, fp32").
    public var machines: [String: String] = [:]

    public init(table3: Analysis?, figure1: Analysis?, generation: Analysis?) {
        (self.table3, self.figure1, self.generation) = (table3, figure1, generation)
    }

    /// Every claim, in the order of the papers.
    public func claims() -> [Claim] {
        table3Claims(time: true) + table3Claims(time: false) + figure1Claims() + generationClaims()
    }

    // MARK: - Linformer Table 3

    static let table3Source = "Linformer Table 3"
    static let table3PaperSetting = "whole model, 16 GB V100"

    func table3Claims(time: Bool) -> [Claim] {
        let what = time ? "time saved" : "memory saved (max-batch ratio)"
        guard let analysis = table3, let paper = Optional(analysis.paperTable3), !paper.isEmpty else {
            return [
                Claim(
                    source: Self.table3Source, claim: what, paper: "Data/linformer_table3.csv",
                    paperSetting: Self.table3PaperSetting, ours: "–", ourSetting: "–", verdict: .notMeasured,
                    why: table3 == nil ? "no committed linformer-table3 run" : "no paper table in Data/")
            ]
        }
        let cells = analysis.table3Cells()
        let measured = time ? cells.time : (cells.memoryIsBatchRatio ? cells.memory : [])
        let ours = Dictionary(measured.map { ("\($0.n),\($0.k)", $0) }, uniquingKeysWith: { a, _ in a })
        let sameScope = analysis.table.measured.contains { $0.point.scope == .layer }
        let setting = "\(analysis.scopeText), \(machines["linformer-table3"] ?? "CPU")"
        var claims: [Claim] = []
        for n in Set(paper.map(\.n)).sorted() {
            let row = paper.filter { $0.n == n }.sorted { $0.k < $1.k }
            let published = row.compactMap { c in (time ? c.timeSaved : c.memorySaved).map { (c.k, $0) } }
            guard !published.isEmpty else { continue }
            var verdicts: [Claim.Verdict] = []
            var ourText: [String] = []
            var missing: [String] = []
            for (k, value) in published {
                let cell = ours["\(n),\(k)"]
                verdicts.append(ClaimRules.ratio(paper: value, ours: cell?.value, sameScope: sameScope).0)
                ourText.append(cell.map { ClaimRules.format($0.value) + "×" } ?? "–")
                if cell == nil { missing.append("k = \(k)") }
            }
            var (verdict, why) = ClaimRules.summary(verdicts)
            if !missing.isEmpty {
                let reason = time ? standardSkipReason(analysis, n: n) : memoryMissingReason(cells.memoryIsBatchRatio)
                why += "; not measured: \(missing.joined(separator: ", "))" + (reason.map { " (\($0))" } ?? "")
            }
            if sameScope { why += "; one encoder layer stands for the paper's model of identical layers" }
            let ks = published.map(\.0)
            claims.append(
                Claim(
                    source: Self.table3Source,
                    claim: "\(what), n = \(n) (k = \(ks.map(String.init).joined(separator: ", ")))",
                    paper: published.map { ClaimRules.format($0.1) + "×" }.joined(separator: ", "),
                    paperSetting: Self.table3PaperSetting, ours: ourText.joined(separator: ", "), ourSetting: setting,
                    ratio: nil, verdict: verdict, why: why, detail: "REPORT-linformer-table3.md"))
        }
        return claims
    }

    /// Why standard attention has no measured row at n in the run (its skipped row's reason).
    func standardSkipReason(_ analysis: Analysis, n: Int) -> String? {
        analysis.table.rows.first { $0.point.mechanism == .standard && $0.point.length == n && $0.status == .skipped }?
            .reason
    }

    func memoryMissingReason(_ isBatchRatio: Bool) -> String? {
        isBatchRatio ? nil : "no max-batch table beside the run; a peak-heap ratio is not the paper's measure"
    }

    // MARK: - Figure 1

    static let figure1Source = "Transformers are RNNs Figure 1"
    static let figure1PaperSetting = "self-attention layer, forward + backward, batch ∝ 1/N, GTX 1080 Ti (11 GB)"

    func figure1Claims() -> [Claim] {
        guard let analysis = figure1 else {
            return [
                Claim(
                    source: Self.figure1Source, claim: "every Figure 1 claim", paper: "–",
                    paperSetting: Self.figure1PaperSetting, ours: "–", ourSetting: "–", verdict: .notMeasured,
                    why: "no committed rnn-figure1 run")
            ]
        }
        let pass = analysis.figure1Pass
        let setting = "\(analysis.scopeText), \(pass.rawValue), \(machines["rnn-figure1"] ?? "CPU")"
        let curves = analysis.perSampleCurves()
        func curve(_ mechanism: Mechanism) -> [ResultRow]? {
            curves.first { $0.key.mechanism == mechanism && $0.key.peer == nil && $0.key.projectedLength == nil }?.rows
        }
        var claims: [Claim] = []
        // Per-sample exponents: softmax N²·d per sample (2), linear N·d² (1), in time and in memory.
        for (mechanism, label, exponent) in [(Mechanism.standard, "softmax", 2.0), (.linear, "linear", 1.0)] {
            let rows = curve(mechanism) ?? []
            let fits = Analysis.perSampleFits(rows)
            for (quantity, fit) in [("time", fits.time), ("peak heap", fits.memory)] {
                let (verdict, why) = ClaimRules.exponent(paper: exponent, ours: fit)
                let range = rows.isEmpty ? "" : ", N = \(rows[0].point.length)…\(rows[rows.count - 1].point.length)"
                claims.append(
                    Claim(
                        source: Self.figure1Source,
                        claim: "\(label): \(quantity) per sample ∝ N^\(ClaimRules.format(exponent))",
                        paper: "exponent \(ClaimRules.format(exponent)) (the figure's log–log slope)",
                        paperSetting: Self.figure1PaperSetting,
                        ours: fit.map { "\(ClaimRules.format($0.exponent)) ± \(Self.halfWidth($0))\(range)" } ?? "–",
                        ourSetting: setting, ratio: nil, verdict: verdict, why: why, detail: "REPORT-rnn-figure1.md"))
            }
        }
        claims.append(stopClaim(analysis, setting: setting, softmax: curve(.standard), linear: curve(.linear)))
        claims.append(
            everyNClaim(setting: setting, baseline: "softmax", softmax: curve(.standard), linear: curve(.linear)))
        for lsh in curves where lsh.key.mechanism == .reformer && lsh.key.peer == nil {
            claims.append(everyNClaim(setting: setting, baseline: lsh.label, softmax: lsh.rows, linear: curve(.linear)))
        }
        if !curves.contains(where: { $0.key.mechanism == .reformer }) {
            claims.append(
                Claim(
                    source: Self.figure1Source,
                    claim: "linear is faster and uses less memory than Reformer's LSH attention "
                        + "(lsh-1, lsh-4, lsh-8) at every N", paper: "every N", paperSetting: Self.figure1PaperSetting,
                    ours: "–",
                    ourSetting: setting, ratio: nil, verdict: .notMeasured,
                    why: "the run has no Reformer (LSH) attention", detail: "REPORT-rnn-figure1.md"))
        }
        return claims
    }

    /// An exponent's 95% half-width: two decimals, "< 0.01" below, "∞" from 2 points.
    static func halfWidth(_ fit: ScalingFit) -> String {
        guard fit.halfWidth.isFinite else { return "∞ (2 points)" }
        return fit.halfWidth < 0.005 ? "< 0.01" : String(format: "%.2f", fit.halfWidth)
    }

    /// "softmax stops at N = 4096 on 11 GB, linear runs to 65536": ours under the run's budget.
    func stopClaim(_ analysis: Analysis, setting: String, softmax: [ResultRow]?, linear: [ResultRow]?) -> Claim {
        let paperSoftmax = figure1Limits.first { $0.method == "softmax" }
        let paperLinear = figure1Limits.first { $0.method == "linear" }
        let paper =
            paperSoftmax.map { s in
                "softmax stops at N = \(s.largestN)" + (paperLinear.map { ", linear reaches \($0.largestN)" } ?? "")
                    + " (\(ClaimRules.format(s.memoryGB)) GB)"
            } ?? "–"
        let ourSoftmax = softmax?.last?.point.length
        let ourLinear = linear?.last?.point.length
        let limit = analysis.standardMemoryLimit()
        var verdict = Claim.Verdict.notMeasured
        var why = "no softmax or linear curve in the run"
        if let s = ourSoftmax, let l = ourLinear {
            if limit != nil && s < l {
                verdict = .sameDirection
                why = "softmax stops first, at the run's memory budget rather than 11 GB"
            } else {
                verdict = .notReproduced
                why =
                    limit == nil
                    ? "softmax was not stopped by memory in this run" : "softmax did not stop before linear"
            }
        }
        let ours =
            ourSoftmax.map { s in
                "softmax's largest N \(s)" + (limit.map { " (skipped for memory from \($0))" } ?? "")
                    + (ourLinear.map { ", linear's \($0)" } ?? "")
            } ?? "–"
        return Claim(
            source: Self.figure1Source, claim: "where softmax's curve stops", paper: paper,
            paperSetting: Self.figure1PaperSetting, ours: ours, ourSetting: setting, ratio: nil,
            verdict: verdict, why: why, detail: "REPORT-rnn-figure1.md")
    }

    /// "linear attention is faster and requires less memory than the baselines for every configuration".
    /// `baseline` names the `softmax` rows' curve (softmax, or one of Reformer's, "lsh-4").
    func everyNClaim(setting: String, baseline: String, softmax: [ResultRow]?, linear: [ResultRow]?) -> Claim {
        let byN = Dictionary((linear ?? []).map { ($0.point.length, $0) }, uniquingKeysWith: { a, _ in a })
        var shared = 0
        var slower: [Int] = []
        var larger: [Int] = []
        for s in softmax ?? [] {
            guard let l = byN[s.point.length] else { continue }
            shared += 1
            let perSample = { (r: ResultRow) in (r.median ?? .nan) / Double(r.point.batch) }
            if !(perSample(l) < perSample(s)) { slower.append(s.point.length) }
            let heap = { (r: ResultRow) in r.peakHeapBytes.map { Double($0) / Double(r.point.batch) } }
            if let lh = heap(l), let sh = heap(s), !(lh < sh) { larger.append(s.point.length) }
        }
        let verdict: Claim.Verdict
        var why: String
        if shared == 0 {
            (verdict, why) = (.notMeasured, "no N with both curves")
        } else if slower.isEmpty && larger.isEmpty {
            (verdict, why) = (.reproduced, "faster and smaller at all \(shared) N where both ran")
        } else {
            verdict = .notReproduced
            why = [
                slower.isEmpty ? nil : "not faster at N = \(slower.map(String.init).joined(separator: ", "))",
                larger.isEmpty ? nil : "not smaller at N = \(larger.map(String.init).joined(separator: ", "))",
            ]
            .compactMap { $0 }.joined(separator: "; ")
        }
        return Claim(
            source: Self.figure1Source, claim: "linear is faster and uses less memory than \(baseline) at every N",
            paper: "every N", paperSetting: Self.figure1PaperSetting,
            ours: shared == 0 ? "–" : "\(shared - Set(slower + larger).count) of \(shared) N",
            ourSetting: setting, ratio: nil, verdict: verdict, why: why, detail: "REPORT-rnn-figure1.md")
    }

    // MARK: - Generation (Tables 1, 2, 4, 5)

    static let generationSource = "Transformers are RNNs"
    /// The paper's models: 8 layers for MNIST (N = 784), 16 for CIFAR-10 (N = 3072).
    public static let paperLayers = [784: 8, 3072: 16]

    func generationClaims() -> [Claim] {
        guard let analysis = models ?? generation else {
            return [
                Claim(
                    source: Self.generationSource, claim: "Tables 1, 2, 4, 5", paper: "–",
                    paperSetting: "whole model", ours: "–", ourSetting: "–", verdict: .notMeasured,
                    why: "no committed rnn-generation or rnn-generation-models run")
            ]
        }
        // The whole models' run first: multipleClaim takes the comparison with the most layers.
        let comparisons = (models?.decoderComparisons() ?? []) + (generation?.decoderComparisons() ?? [])
        var claims: [Claim] = []
        // Tables 1–2: linear ÷ softmax without a cache (images per second).
        for paper in analysis.paperGeneration {
            claims.append(
                multipleClaim(
                    comparisons, n: paper.tokens, decoder: .recompute, paperValue: paper.speedup,
                    source: "\(Self.generationSource) Table \(paper.tokens == 784 ? 1 : 2) (\(paper.dataset))",
                    claim: "linear ÷ softmax without a cache, images per second", paperSetting: "whole model, GPU"))
        }
        // Table 4: stateful softmax over softmax without a cache, time(recompute) ÷ time(kv-cache).
        for paper in statefulSpeedups {
            claims.append(
                multipleClaim(
                    comparisons, n: paper.tokens, decoder: .recompute, over: .kvCache, paperValue: paper.speedup,
                    source: "\(Self.generationSource) Table 4 (\(paper.dataset))",
                    claim: "stateful softmax (KV cache) ÷ softmax without a cache, images per second",
                    paperSetting: "whole model, device not stated"))
        }
        // Table 5: seconds per image on a CPU as multiples of linear's.
        for row in analysis.paperDecoderTimes where row.device == "CPU" && row.decoder != .recurrent {
            let name = row.decoder == .kvCache ? "stateful softmax (KV cache)" : "softmax without a cache"
            claims.append(
                multipleClaim(
                    comparisons, n: row.tokens, decoder: row.decoder, paperValue: row.multipleOfLinear,
                    source: "\(Self.generationSource) Table 5 (\(row.dataset), CPU)",
                    claim: "\(name): seconds per image as a multiple of linear's",
                    paperSetting: "whole model, CPU, batch 1, \(ClaimRules.format(row.secondsPerImage)) s per image",
                    secondsPerImage: true))
        }
        return claims
    }

    /// time(decoder) ÷ time(recurrent) at N against the paper's multiple, at the scope closest to
    /// the paper's model: its own layer count when measured (the paper's scope), else the most layers
    /// the run has, else the core.
    func multipleClaim(
        _ comparisons: [DecoderComparison], n: Int, decoder: Decoder, over base: Decoder = .recurrent,
        paperValue: Double, source: String, claim: String, paperSetting: String, secondsPerImage: Bool = false
    ) -> Claim {
        func multiple(_ c: DecoderComparison) -> Double? {
            guard let t = c.multipleOfLinear(decoder), let b = c.multipleOfLinear(base) else { return nil }
            return t / b
        }
        let atN = comparisons.filter { $0.n == n && $0.key.batch == 1 }
        let layers = Self.paperLayers[n]
        // The paper's own layer count first, then the most layers, then the core.
        func rank(_ c: DecoderComparison) -> (Int, Int) {
            let l = c.key.scope == .layer ? (c.key.layers ?? 1) : 0
            return (l == layers ? 1 : 0, l)
        }
        let ranked = atN.sorted { rank($0) > rank($1) }
        let chosen = ranked.first { multiple($0) != nil } ?? ranked.first
        let sameScope = chosen.map { $0.key.scope == .layer && $0.key.layers == layers } ?? false
        let ours = chosen.flatMap(multiple)
        var (verdict, why) = ClaimRules.ratio(paper: paperValue, ours: ours, sameScope: sameScope)
        if ours == nil, let row = chosen?.rows[decoder], row.status == .skipped { why = row.reason }
        if ours == nil && chosen == nil { why = "the run has no decode points at N = \(n)" }
        if !sameScope, let layers, ours != nil { why += " (the paper's model has \(layers) layers)" }
        let scope =
            chosen.map { c in
                c.key.scope == .layer
                    ? "\(c.key.layers ?? 1) encoder layer\((c.key.layers ?? 1) == 1 ? "" : "s")"
                    : "one attention layer"
            } ?? "–"
        let reps = chosen.flatMap { c -> String? in
            let rows = [c.rows[decoder], c.rows[base]].compactMap { $0 }
            if let e = rows.first(where: \.isEstimate) {
                return "\(e.point.decoder?.rawValue ?? "") estimated from \(e.reps ?? 0) steps"
            }
            return rows.compactMap(\.reps).min().map { "\($0) call\($0 == 1 ? "" : "s")" }
        }
        // Table 5's own figure too: our seconds per image (batch 1: one generation) beside the paper's.
        let seconds =
            secondsPerImage
            ? (chosen?.rows[decoder]?.median).map { ", \(ClaimRules.format($0)) s per image" } ?? "" : ""
        let preset = (chosen?.key.layers ?? 1) > 1 ? "rnn-generation-models" : "rnn-generation"
        return Claim(
            source: source, claim: claim + ", N = \(n)", paper: ClaimRules.format(paperValue) + "×",
            paperSetting: paperSetting,
            ours: ours.map { ClaimRules.format($0) + "×" + seconds + (reps.map { " (\($0))" } ?? "") } ?? "–",
            ourSetting: "\(scope), batch 1, \(machines[preset] ?? "CPU")",
            ratio: ours.map { $0 / paperValue }, verdict: verdict, why: why,
            detail: "REPORT-\(preset).md")
    }
}
