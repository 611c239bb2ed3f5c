import AttentionTypes
import Results

/// The paper's generation speed-ups (`Data/rnn_generation.csv`): linear ÷ softmax images per
/// second, placed at the number of tokens an image is generated in.
public struct PaperGeneration: Equatable, Sendable {
    public var dataset: String
    /// Tokens per image: MNIST 28×28 = 784 pixels, CIFAR-10 32×32×3 = 3072 sub-pixels.
    public var tokens: Int
    public var speedup: Double

    public init(dataset: String, tokens: Int, speedup: Double) {
        (self.dataset, self.tokens, self.speedup) = (dataset, tokens, speedup)
    }

    /// The `Linear` rows of `dataset,method,images_per_second,speedup_vs_softmax`; a missing file
    /// has none.
    public static func load(_ path: String) throws -> [PaperGeneration] {
        let tokens = ["MNIST": 784, "CIFAR-10": 3072]
        return try PaperData.rows(path, header: ["dataset", "method", "images_per_second", "speedup_vs_softmax"])
            .compactMap { r in
                guard r[1] == "Linear", let n = tokens[r[0]], let speedup = Double(r[3]) else { return nil }
                return PaperGeneration(dataset: r[0], tokens: n, speedup: speedup)
            }
    }
}

/// One row of the paper's appendix Table 5 (`Data/rnn_generation_appendix.csv`): seconds per image
/// at batch 1 of one method on one device, and its multiple of linear's time on that device.
public struct PaperDecoderTime: Equatable, Sendable {
    public var dataset: String
    /// Tokens per image (784 MNIST, 3072 CIFAR-10).
    public var tokens: Int
    public var device: String
    /// The suite's decoder for the paper's method: Softmax ↔ recompute, Stateful-softmax ↔ kv-cache,
    /// Linear ↔ recurrent.
    public var decoder: Decoder
    public var secondsPerImage: Double
    public var multipleOfLinear: Double

    public init(
        dataset: String, tokens: Int, device: String, decoder: Decoder, secondsPerImage: Double,
        multipleOfLinear: Double
    ) {
        (self.dataset, self.tokens, self.device, self.decoder) = (dataset, tokens, device, decoder)
        (self.secondsPerImage, self.multipleOfLinear) = (secondsPerImage, multipleOfLinear)
    }

    /// The Table 5 rows of `table,dataset,device,method,value,unit,multiple_of_linear` for the three
    /// methods the suite has (LSH rows are left out); a missing file has none.
    public static func load(_ path: String) throws -> [PaperDecoderTime] {
        let tokens = ["MNIST": 784, "CIFAR-10": 3072]
        let decoders: [String: Decoder] = ["Softmax": .recompute, "Stateful-softmax": .kvCache, "Linear": .recurrent]
        let header = ["table", "dataset", "device", "method", "value", "unit", "multiple_of_linear"]
        return try PaperData.rows(path, header: header).compactMap { r in
            guard r[0] == "5", let n = tokens[r[1]], let decoder = decoders[r[3]], let seconds = Double(r[4]),
                let multiple = Double(r[6])
            else { return nil }
            return PaperDecoderTime(
                dataset: r[1], tokens: n, device: r[2], decoder: decoder, secondsPerImage: seconds,
                multipleOfLinear: multiple)
        }
    }
}

/// A Table 5 row of Reformer's LSH attention ("LSH-1", "LSH-4"): seconds per image at batch 1 and its
/// multiple of linear's on the same device.
public struct PaperLSHTime: Equatable, Sendable {
    public var dataset: String
    public var tokens: Int
    public var device: String
    /// Hashing rounds (LSH-1: 1).
    public var rounds: Int
    public var secondsPerImage: Double
    public var multipleOfLinear: Double

    public init(
        dataset: String, tokens: Int, device: String, rounds: Int, secondsPerImage: Double, multipleOfLinear: Double
    ) {
        (self.dataset, self.tokens, self.device, self.rounds) = (dataset, tokens, device, rounds)
        (self.secondsPerImage, self.multipleOfLinear) = (secondsPerImage, multipleOfLinear)
    }

    /// The Table 5 LSH rows of the appendix file (the rows ``PaperDecoderTime/load(_:)`` leaves out).
    public static func load(_ path: String) throws -> [PaperLSHTime] {
        let tokens = ["MNIST": 784, "CIFAR-10": 3072]
        let header = ["table", "dataset", "device", "method", "value", "unit", "multiple_of_linear"]
        return try PaperData.rows(path, header: header).compactMap { r in
            guard r[0] == "5", let n = tokens[r[1]], r[3].hasPrefix("LSH-"), let rounds = Int(r[3].dropFirst(4)),
                let seconds = Double(r[4]), let multiple = Double(r[6])
            else { return nil }
            return PaperLSHTime(
                dataset: r[1], tokens: n, device: r[2], rounds: rounds, secondsPerImage: seconds,
                multipleOfLinear: multiple)
        }
    }
}

/// The three decoders at one N and setting: each one's row (when measured or skipped), and its time
/// as a multiple of the recurrent (linear) decoder's; Reformer's recompute rows beside them by rounds.
public struct DecoderComparison: Sendable {
    public var n: Int
    /// The setting shared by the rows (the linear point's key with n cleared).
    public var key: SweepPoint
    public var rows: [Decoder: ResultRow]
    /// Reformer's rows (decoding by recomputation through the model) by hashing rounds.
    public var lsh: [Int: ResultRow] = [:]

    /// time(LSH with `rounds`) ÷ time(recurrent), when both were measured.
    public func lshMultipleOfLinear(_ rounds: Int) -> Double? {
        guard let t = lsh[rounds]?.median, let linear = rows[.recurrent]?.median else { return nil }
        return t / linear
    }

    /// time(decoder) ÷ time(recurrent), when both were measured.
    public func multipleOfLinear(_ decoder: Decoder) -> Double? {
        guard let t = rows[decoder]?.median, let linear = rows[.recurrent]?.median else { return nil }
        return t / linear
    }
}

/// Linear ÷ softmax decoding at one N: the two rows and softmax's time over linear's.
public struct DecodeSpeedup: Equatable, Sendable {
    public var n: Int
    public var speedup: Double
    public var softmax: ResultRow
    public var linear: ResultRow
}

/// One curve of per-token latency against position: a mechanism's longest decoded sequence.
public struct LatencyCurve: Sendable {
    public var label: String
    public var row: ResultRow
    public var samples: [LatencySample]
    /// Samples from position N/64 (at least 16) on: where a step's cost is dominated by what
    /// grows with position, if anything.
    public var fitted: [LatencySample]
    /// The first 4 octaves of `fitted` (N/64…N/4).
    public var lower: [LatencySample]
    /// The log–log slope over `fitted` (the last 6 octaves).
    public var fit: ScalingFit?
    /// The same over `lower` only: a smaller KV cache, which may still be in a cache level that the
    /// end of a long sequence has left.
    public var lowerFit: ScalingFit?
    /// latency = a + b·position over `lower` (seconds, seconds per position).
    public var lowerLine: LineFit?
}

extension Analysis {
    /// The decode rows measured, grouped into curves over N: one per mechanism at each (batch, heads,
    /// d, threads, prompt), by increasing N, ordered by label.
    public func decodeSeries() -> [(label: String, rows: [ResultRow])] {
        let ok = measured.filter { $0.point.mode == .decode }
        let threadCounts = Set(ok.map(\.point.threads)).count
        return Dictionary(grouping: ok, by: \.point.series).values.map { rows in
            (
                Self.decodeLabel(rows[0].point, withThreads: threadCounts > 1),
                rows.sorted { $0.point.length < $1.point.length }
            )
        }.sorted { $0.label < $1.label }
    }

    /// "softmax, KV cache", "softmax, no cache", "linear, RNN state", "lsh-4, no cache" (a layer-scope
    /// curve adds its layers), with the thread count when a run has several.
    public static func decodeLabel(_ p: SweepPoint, withThreads: Bool) -> String {
        let decoder =
            switch p.decoder ?? Decoder.default(for: p.mechanism) {
            case .kvCache: "KV cache"
            case .recompute: "no cache"
            case .recurrent, nil: "RNN state"
            }
        // Softmax and linear by their papers' names; another mechanism (Reformer's "lsh-4") by its curve's.
        let mechanism =
            switch p.mechanism {
            case .standard: "softmax"
            case .linear: "linear"
            default: p.mechanismLabel
            }
        let name = mechanism + ", " + decoder
        let scope = p.scope == .layer ? ", \(p.layers ?? 1) layer\(p.layers == 1 ? "" : "s")" : ""
        return name + scope + (withThreads ? threadsSuffix(p) : "")
    }

    /// The decode rows' scope for titles: "one attention layer" (the core with its projections and
    /// feedback), "8 encoder layers", or both.
    public var decodeScopeText: String {
        let decode = measured.filter { $0.point.mode == .decode }.map(\.point)
        let layers = Set(decode.filter { $0.scope == .layer }.map { $0.layers ?? 1 }).sorted()
        let layerText = layers.map { "\($0) encoder layer\($0 == 1 ? "" : "s")" }.joined(separator: ", ")
        if layers.isEmpty { return "one attention layer" }
        return decode.contains { $0.scope == .core } ? "one attention layer and " + layerText : layerText
    }

    /// Every decode setting with a linear (recurrent) row, and the other decoders' rows beside it at
    /// the same N, batch, heads, d, scope, threads and prompt: the paper's Tables 4–5 comparison.
    /// Skipped rows are kept (their reason is what a report shows), ordered by setting, then N.
    public func decoderComparisons() -> [DecoderComparison] {
        let decode = table.rows.filter { $0.point.mode == .decode && $0.point.peer == nil }
        func common(_ p: SweepPoint) -> SweepPoint {
            var c = p
            (c.mechanism, c.decoder) = (.linear, nil)
            (c.hashRounds, c.buckets, c.chunk) = (nil, nil, nil)
            return c
        }
        let groups = Dictionary(grouping: decode, by: { common($0.point) })
        return groups.compactMap { key, rows -> DecoderComparison? in
            var byDecoder: [Decoder: ResultRow] = [:]
            var lsh: [Int: ResultRow] = [:]
            for r in rows {
                if r.point.mechanism == .reformer {
                    if let rounds = r.point.hashRounds { lsh[rounds] = r }
                } else if let d = r.point.decoder ?? Decoder.default(for: r.point.mechanism) {
                    byDecoder[d] = r
                }
            }
            guard byDecoder[.recurrent] != nil, byDecoder.count > 1 || !lsh.isEmpty else { return nil }
            return DecoderComparison(n: key.length, key: key, rows: byDecoder, lsh: lsh)
        }.sorted { a, b in
            (a.key.scope == .core ? 0 : 1, a.key.layers ?? 0, a.key.threads, a.key.batch, a.n) < (
                b.key.scope == .core ? 0 : 1, b.key.layers ?? 0, b.key.threads, b.key.batch, b.n
            )
        }
    }

    /// ", 2 threads".
    public static func threadsSuffix(_ p: SweepPoint) -> String { ", \(p.threads) thread\(p.threads == 1 ? "" : "s")" }

    /// Speed-up of linear over softmax decoding at each N: the time of softmax with `decoder` (its KV
    /// cache, or `recompute`: no cache, the paper's Tables 1–2 baseline) ÷ linear's, for the same batch,
    /// heads, d, threads and prompt, labelled with the softmax decoder, the scope (" (layer)") and, when
    /// it varies, the thread count.
    public func decodeSpeedups(over decoder: Decoder = .kvCache) -> [(label: String, points: [DecodeSpeedup])] {
        let ok = measured.filter { $0.point.mode == .decode && $0.median != nil }
        // softmax with `decoder` (its KV cache by default), keyed as its linear point.
        let cached = ok.filter { $0.point.mechanism == .standard && ($0.point.decoder ?? .kvCache) == decoder }
        let softmax = Dictionary(
            cached.map { r -> (SweepPoint, ResultRow) in
                var p = r.point
                p.mechanism = .linear
                if p.decoder != nil { p.decoder = .recurrent }
                return (p, r)
            }, uniquingKeysWith: { a, _ in a })
        let pairs = ok.filter { $0.point.mechanism == .linear }.compactMap { l in softmax[l.point].map { (s: $0, l: l) }
        }
        let threadCounts = Set(pairs.map(\.l.point.threads)).count
        return Dictionary(grouping: pairs, by: \.l.point.series).values.map { group in
            let p = group[0].l.point
            let against = decoder == .recompute ? " (no cache)" : " (KV cache)"
            let label = "linear ÷ softmax" + against + p.scopeSuffix + (threadCounts > 1 ? Self.threadsSuffix(p) : "")
            return (
                label,
                group.compactMap { pair -> DecodeSpeedup? in
                    guard let s = pair.s.median, let l = pair.l.median else { return nil }
                    return DecodeSpeedup(n: pair.l.point.length, speedup: s / l, softmax: pair.s, linear: pair.l)
                }.sorted { $0.n < $1.n }
            )
        }.sorted { $0.label < $1.label }
    }

    public func decodeLatencyCurves() -> [LatencyCurve] {
        decodeSeries().compactMap { label, rows in
            guard let row = rows.last(where: { tokenLatency[$0.point]?.isEmpty == false }),
                let samples = tokenLatency[row.point]
            else { return nil }
            let n = row.point.length
            let fitted = samples.filter { $0.position >= max(n / 64, 16) }
            let lower = fitted.filter { $0.position <= n / 4 }
            func fit(_ s: [LatencySample]) -> ScalingFit? {
                ScalingFit(x: s.map { Double($0.position) }, y: s.map(\.median))
            }
            return LatencyCurve(
                label: label, row: row, samples: samples, fitted: fitted, lower: lower, fit: fit(fitted),
                lowerFit: fit(lower), lowerLine: LineFit(x: lower.map { Double($0.position) }, y: lower.map(\.median)))
        }
    }
}
