import AttentionTypes
import Results

/// Everything plots, report and check derive from a run: its results table and the files that go
/// with it (per-token latencies, max-batch results) next to the papers' published numbers.
///
/// Every grouping is by typed point keys (``SweepPoint/series``, ``SweepPoint/standardCounterpart``),
/// never by display text, so a new key column changes no analysis code.
public struct Analysis: Sendable {
    public let table: ResultTable
    /// Per-token latency samples of decode points (the run's `.tokens.csv`).
    public var tokenLatency: [SweepPoint: [LatencySample]] = [:]
    /// The step-sampling estimator's checks (`<name>.estimates.csv`): generations measured in full
    /// and estimated beside.
    public var estimateChecks: [EstimateCheckRow] = []
    /// `attnbench max-batch` results, for Table 3's memory column.
    public var maxBatch: [MaxBatchRow]?
    /// The paper's Table 3 (`Data/linformer_table3.csv`).
    public var paperTable3: [PaperTable3Cell] = []
    /// Long Range Arena's Table 2 (``PaperLRACell``), for the `lra-table2` preset's report.
    public var paperLRA: [PaperLRACell] = []
    /// The paper's generation speed-ups (`Data/rnn_generation.csv`).
    public var paperGeneration: [PaperGeneration] = []
    /// The paper's appendix Table 5 (seconds per image per decoder, CPU and GPU).
    public var paperDecoderTimes: [PaperDecoderTime] = []
    /// Table 5's LSH-1 and LSH-4 rows (``PaperLSHTime``).
    public var paperLSHTimes: [PaperLSHTime] = []
    /// Another implementation's rows on the same grid (`Results/peers.csv`, written by `Tests/peers`),
    /// with attnbench's rows of the same interleaved run.
    public var peers: ResultTable?
    /// The CPU the peers file was measured on (its sidecar's), for the report to name.
    public var peersMachine: String?

    public init(table: ResultTable) {
        self.table = table
    }

    /// The measured rows.
    var measured: [ResultRow] { table.measured }

    /// What the run timed, for titles: "attention core", "encoder layer" ("2 encoder layers", with an
    /// FFN width other than 4×), or both.
    public var scopeText: String {
        let points = measured.map(\.point)
        let layer = points.filter { $0.scope == .layer }
        guard !layer.isEmpty else { return "attention core" }
        let settings = Set(layer.map { "\($0.layers ?? 1),\($0.ffnMultiplier ?? 4)" })
        var text = "encoder layers"
        if settings.count == 1, let p = layer.first {
            let l = p.layers ?? 1
            text =
                (l == 1 ? "one encoder layer" : "\(l) encoder layers")
                + ((p.ffnMultiplier ?? 4) == 4 ? "" : " (FFN \(p.ffnMultiplier ?? 4)×)")
        }
        return layer.count == points.count ? text : "attention core and " + text
    }

    /// The pass that figures of one pass show (scaling, efficiency, batch scaling): forward when the
    /// run has forward-mode rows of that pass, else a training step, else the backward alone.
    public var primaryPass: Pass { Self.preferred([.forward, .train, .backward], among: measured) }

    /// The pass of "Transformers are RNNs" Figure 1: a training step, as the paper timed, when the run
    /// has one, else the forward pass.
    public var figure1Pass: Pass { Self.preferred([.train, .forward, .backward], among: measured) }

    /// Whether the run is "Transformers are RNNs" Figure 1's own experiment: a forward/backward pass
    /// (a training step) with the batch scaled inversely with N. Only then is a figure titled and
    /// named after the paper's; another setup (forward only, one batch) is a per-sample figure.
    public var isFigure1Setup: Bool {
        figure1Pass == .train && Set(perSampleCurves().flatMap { $0.rows.map(\.point.batch) }).count > 1
    }

    static func preferred(_ order: [Pass], among rows: [ResultRow]) -> Pass {
        let present = Set(rows.filter { $0.point.mode == .forward }.map(\.point.pass))
        return order.first(where: present.contains) ?? .forward
    }

    /// The measured standard-attention row at `row`'s point (same n, batch, heads, d, threads, causal, mode, pass).
    public func standardRow(for row: ResultRow) -> ResultRow? {
        table.byKey[row.point.standardCounterpart].flatMap { $0.isOK ? $0 : nil }
    }
}

extension SweepPoint {
    /// The standard-attention point a mechanism is compared with: the same point with the mechanism
    /// replaced and Linformer's settings cleared.
    public var standardCounterpart: SweepPoint {
        var s = self
        s.mechanism = .standard
        s.sharing = nil
        s.projectedLength = nil
        (s.hashRounds, s.buckets, s.chunk, s.features) = (nil, nil, nil, nil)
        if s.decoder != nil { s.decoder = .kvCache }
        return s
    }

    /// The curve's name in figures and tables (``MechanismDescriptor/label``): "softmax", "flash",
    /// "linformer k=128", "linear"; a peer's curves are prefixed with its name ("torch-softmax", "torch-flash").
    public var mechanismLabel: String {
        var label = (peer.map { $0.label + "-" } ?? "") + mechanism.descriptor.label
        if let rounds = hashRounds { label += "-\(rounds)" }  // the RNN paper's "lsh-4"
        if let k = projectedLength { label += " k=\(k)" }
        if let m = features { label += " m=\(m)" }
        if let b = buckets, b != 64 { label += " \(b) buckets" }
        if let c = chunk, c != 32 { label += " chunk \(c)" }
        return label
    }

    /// ``mechanismLabel`` with " causal" for causal points, and the pass when it is not the forward:
    /// a series' label ("softmax", "linear causal train").
    public var seriesLabel: String { kernelLabel + (pass == .forward ? "" : " " + pass.rawValue) + scopeSuffix }

    /// "" at core scope; " (layer)", " (2 layers)", with the FFN width when it is not BERT's 4×.
    public var scopeSuffix: String {
        guard scope == .layer else { return "" }
        let layers = layers ?? 1
        return
            " (\(layers == 1 ? "layer" : "\(layers) layers")\(ffnMultiplier.map { $0 == 4 ? "" : ", FFN \($0)×" } ?? ""))"
    }

    /// ``mechanismLabel`` with " causal" for causal points: the kernel, whatever the pass.
    public var kernelLabel: String { mechanismLabel + (causal ? " causal" : "") }

    /// Curves' order in figures and tables (``MechanismDescriptor/rank``): standard, flash,
    /// Linformer by k, linear.
    public var mechanismRank: (Int, Int) {
        (mechanism.descriptor.rank, projectedLength ?? hashRounds ?? features ?? 0)
    }
}
