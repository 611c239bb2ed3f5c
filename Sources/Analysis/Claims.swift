import AttentionTypes
import Foundation
import Reporting
import Results

/// One published claim beside the suite's own measurement of it, with a verdict from fixed rules
/// (``Claim/Verdict``). Every number comes from a file: the paper's from `Data/`, ours from a
/// committed results CSV; nothing is typed in by hand.
public struct Claim: Equatable, Sendable {
    /// The verdicts, from the rules in ``ClaimRules``.
    public enum Verdict: String, Sendable, CaseIterable {
        /// Ours is within the band of the paper's value, at the paper's scope.
        case reproduced = "reproduced"
        /// Ours points the same way (faster, smaller, growing), but outside the band or at another scope.
        case sameDirection = "same direction only"
        /// Ours points the other way, or misses the exponent by more than the looser band.
        case notReproduced = "not reproduced"
        /// No measurement of ours at this claim's setting (the reason says why).
        case notMeasured = "not measured"
    }

    /// "Linformer Table 3", "Transformers are RNNs Figure 1", ….
    public var source: String
    /// What is claimed, e.g. "time saved, n = 4096 (k = 128…2048)".
    public var claim: String
    /// The paper's value(s), formatted.
    public var paper: String
    /// The paper's scope and device.
    public var paperSetting: String
    /// Our value(s), formatted ("–" when not measured).
    public var ours: String
    /// Our scope and device.
    public var ourSetting: String
    /// Ours ÷ paper, when both are one number.
    public var ratio: Double?
    public var verdict: Verdict
    /// Why the verdict is what it is: the rule that decided it, or what is missing.
    public var why: String
    /// The report that holds every cell behind a summary row, when there is one.
    public var detail: String?

    public init(
        source: String, claim: String, paper: String, paperSetting: String, ours: String, ourSetting: String,
        ratio: Double? = nil, verdict: Verdict, why: String, detail: String? = nil
    ) {
        (self.source, self.claim, self.paper, self.paperSetting) = (source, claim, paper, paperSetting)
        (self.ours, self.ourSetting, self.ratio, self.verdict, self.why, self.detail) = (
            ours, ourSetting, ratio, verdict, why, detail
        )
    }
}

/// The rules behind every verdict, in one place so that the ledger states them.
public enum ClaimRules {
    /// A ratio is reproduced when ours ÷ paper lies within [1 / band, band].
    public static let band = 1.25
    /// An exponent is reproduced within ± this of the paper's, same direction only within twice it.
    public static let exponentTolerance = 0.25

    /// The verdict on a ratio claim ("X is P× faster"): not measured without ours; not reproduced
    /// when ours is on the other side of 1; reproduced within the band at the paper's scope; same
    /// direction only otherwise.
    public static func ratio(paper: Double, ours: Double?, sameScope: Bool) -> (Claim.Verdict, String) {
        guard let ours, ours.isFinite, ours > 0 else { return (.notMeasured, "no measurement at this setting") }
        if (paper > 1) != (ours > 1) && paper != 1 {
            return (.notReproduced, "ours is on the other side of 1×")
        }
        let q = ours / paper
        let inBand = q >= 1 / band && q <= band
        let bandText = "within ×\(format(band)) of the paper's"
        switch (inBand, sameScope) {
        case (true, true): return (.reproduced, bandText)
        case (true, false): return (.sameDirection, bandText + ", but at another scope")
        case (false, _):
            return (.sameDirection, "outside ×\(format(band)) of the paper's (ours ÷ paper = \(format(q)))")
        }
    }

    /// The verdict on a scaling exponent: reproduced within ``exponentTolerance``, same direction only
    /// within twice it, not reproduced beyond.
    public static func exponent(paper: Double, ours: ScalingFit?) -> (Claim.Verdict, String) {
        guard let ours else { return (.notMeasured, "fewer than 2 points to fit") }
        let miss = abs(ours.exponent - paper)
        if miss <= exponentTolerance {
            return (.reproduced, "within ±\(format(exponentTolerance)) of \(format(paper))")
        }
        if miss <= 2 * exponentTolerance {
            return (
                .sameDirection,
                "within ±\(format(2 * exponentTolerance)) of \(format(paper)), not ±\(format(exponentTolerance))"
            )
        }
        return (.notReproduced, "off by \(format(miss)), more than ±\(format(2 * exponentTolerance))")
    }

    /// The summary of several cells: the worst verdict among the measured ones (not measured when
    /// none is), with the count of each.
    public static func summary(_ verdicts: [Claim.Verdict]) -> (Claim.Verdict, String) {
        let measured = verdicts.filter { $0 != .notMeasured }
        let order: [Claim.Verdict] = [.notReproduced, .sameDirection, .reproduced]
        guard let worst = order.first(where: measured.contains) else {
            return (.notMeasured, "no cell measured")
        }
        let counts = Claim.Verdict.allCases.compactMap { v -> String? in
            let c = verdicts.filter { $0 == v }.count
            return c == 0 ? nil : "\(c) \(v.rawValue)"
        }
        return (worst, "of \(verdicts.count) cells: " + counts.joined(separator: ", "))
    }

    /// "1.5", "13", "0.25": two significant digits, no trailing zeros.
    public static func format(_ x: Double) -> String {
        guard x.isFinite else { return "–" }
        let magnitude = abs(x)
        let text =
            magnitude >= 100
            ? String(format: "%.0f", x)
            : magnitude >= 10 ? String(format: "%.1f", x) : String(format: "%.2f", x)
        guard text.contains(".") else { return text }
        var trimmed = text
        while trimmed.hasSuffix("0") { trimmed.removeLast() }
        if trimmed.hasSuffix(".") { trimmed.removeLast() }
        return trimmed
    }
}

/// Where the paper's Figure 1 curves end on its 11 GB GPU (`Data/rnn_figure1.csv`).
public struct PaperFigure1Limit: Equatable, Sendable {
    public var method: String
    /// The largest N the method ran at.
    public var largestN: Int
    public var memoryGB: Double

    public init(method: String, largestN: Int, memoryGB: Double) {
        (self.method, self.largestN, self.memoryGB) = (method, largestN, memoryGB)
    }

    /// Reads `method,largest_n,memory_gb`; a missing file has none.
    /// - Throws: ``UsageError`` when a line does not parse.
    public static func load(_ path: String) throws -> [PaperFigure1Limit] {
        try PaperData.rows(path, header: ["method", "largest_n", "memory_gb"]).compactMap { r in
            guard let n = Int(r[1]), let gb = Double(r[2]) else { return nil }
            return PaperFigure1Limit(method: r[0], largestN: n, memoryGB: gb)
        }
    }
}

/// Table 4's stateful softmax (KV cache) against softmax without a cache: its images per second
/// (`Data/rnn_generation_appendix.csv`, table 4) over Table 1–2's softmax images per second
/// (`Data/rnn_generation.csv`): 7.56 / 0.45 = 16.8× on MNIST, 0.32 / 0.004 = 80× on CIFAR-10.
public struct PaperStatefulSpeedup: Equatable, Sendable {
    public var dataset: String
    public var tokens: Int
    public var speedup: Double

    /// Pairs the two files' rows by dataset; missing files give none.
    /// - Throws: ``UsageError`` when a file exists but does not have its columns.
    public static func load(appendix: String, generation: String) throws -> [PaperStatefulSpeedup] {
        let tokens = ["MNIST": 784, "CIFAR-10": 3072]
        let softmax = try PaperData.rows(
            generation, header: ["dataset", "method", "images_per_second", "speedup_vs_softmax"]
        )
        .filter { $0[1] == "Softmax" }
        let header = ["table", "dataset", "device", "method", "value", "unit", "multiple_of_linear"]
        return try PaperData.rows(appendix, header: header).compactMap { r in
            guard r[0] == "4", r[3] == "Stateful-softmax", let n = tokens[r[1]], let stateful = Double(r[4]),
                let base = softmax.first(where: { $0[0] == r[1] }).flatMap({ Double($0[2]) }), base > 0
            else { return nil }
            return PaperStatefulSpeedup(dataset: r[1], tokens: n, speedup: stateful / base)
        }
    }
}
