import AttentionTypes
import Reporting

/// What a point times: one forward pass over n tokens, or generating n tokens one at a time.
public enum RunMode: String, CaseIterable, Sendable, Codable {
    /// One call of the attention kernel on `[b, h, n, d]` inputs.
    case forward
    /// n tokens decoded one by one (KV cache for softmax, RNN state for linear).
    case decode
}

/// Another implementation measured on the same grid (`Tests/peers/`), whose rows share the suite's
/// schema: the raw value is the row's `framework` field (attnbench's own rows say `attnbench`).
public enum Peer: String, CaseIterable, Sendable, Codable {
    /// PyTorch on the CPU: `standard` is matmul-softmax-matmul, `flash` is
    /// `torch.nn.functional.scaled_dot_product_attention`, `linformer` and `linear` the formulas in
    /// batched matmuls, `performer` and `reformer` performer-pytorch's and reformer-pytorch's modules.
    case pytorch
    /// ONNX Runtime's `com.microsoft` MultiHeadAttention contrib op (its fused CPU path): `flash`.
    case onnxruntime
    /// OpenVINO's opset-13 ScaledDotProductAttention at f32 inference precision: `flash`.
    case openvino
    /// JAX (XLA on the CPU, jit): `standard`, `linformer`, `linear`, and `flash` as
    /// `jax.nn.dot_product_attention`.
    case jax
    /// pytorch-fast-transformers' CPU causal linear attention kernel (`causal_dot_product`): causal `linear`.
    case fastTransformers = "fast-transformers"

    /// The `framework` field of attnbench's own rows.
    public static let ownFramework = "attnbench"

    /// The prefix of the peer's curves in figures and tables (`torch-softmax`, `ort-flash`).
    public var label: String {
        switch self {
        case .pytorch: "torch"
        case .onnxruntime: "ort"
        case .openvino: "openvino"
        case .jax: "jax"
        case .fastTransformers: "fast-transformers"
        }
    }

    /// The framework's name in prose ("PyTorch", "ONNX Runtime").
    public var displayName: String {
        switch self {
        case .pytorch: "PyTorch"
        case .onnxruntime: "ONNX Runtime"
        case .openvino: "OpenVINO"
        case .jax: "JAX"
        case .fastTransformers: "fast-transformers"
        }
    }

    /// The mechanism prefix that files written before the `framework` column used (`torch-flash`).
    static let legacyPrefixes: [String: Peer] = ["torch": .pytorch]
}

/// One point of a sweep, and the key of every row about it: a mechanism at one shape and thread
/// count. `projectedLength` and `sharing` are set for Linformer only; `prompt` for decode points only
/// (which are always causal). `pass` says which direction of a forward-mode call is timed (forward,
/// backward given a saved forward, or a whole training step); decode points are always `forward`.
/// `peer` is set on another implementation's rows only (nil: attnbench's own). `scope` says whether
/// the core alone or encoder layers around it are timed; `ffnMultiplier` and `layers` are set at
/// layer scope only, `decoder` for decode points only.
///
/// Its CSV form is ``SweepPoint/columns``: adding a key is one stored property here and one entry
/// there; every file, grouping and match (series, speed-ups, resume, the check) follows. The peer is
/// the `framework` column right after the mechanism (`attnbench` for the suite's own rows); a file
/// written before it existed reads as attnbench's, except that a `torch-` prefixed mechanism
/// (`torch-standard`, how peer rows were written then) reads as PyTorch's.
public struct SweepPoint: Hashable, Sendable {
    public var mechanism: Mechanism
    public var peer: Peer?
    /// The attention core alone, or encoder layers around it (``Scope``).
    public var scope: Scope
    public var mode: RunMode
    /// Decode points only: how tokens are generated (KV cache, recomputation, RNN state).
    public var decoder: Decoder?
    public var pass: Pass
    public var causal: Bool
    public var sharing: ProjectionSharing?
    public var length: Int
    public var projectedLength: Int?
    /// Reformer only: hashing rounds, buckets per round, sorted tokens per chunk.
    public var hashRounds: Int?
    public var buckets: Int?
    public var chunk: Int?
    /// Performer only: random features m.
    public var features: Int?
    /// Decode: the first `prompt` tokens are given (teacher-forced), the rest fed back.
    public var prompt: Int?
    public var batch: Int
    public var heads: Int
    public var headDim: Int
    /// Layer scope only: the FFN's hidden width as a multiple of d_model = heads·d (4 in BERT).
    public var ffnMultiplier: Int?
    /// Layer scope only: encoder layers stacked.
    public var layers: Int?
    public var threads: Int

    public init(
        mechanism: Mechanism, peer: Peer? = nil, scope: Scope = .core, mode: RunMode = .forward,
        decoder: Decoder? = nil,
        pass: Pass = .forward, causal: Bool = false,
        sharing: ProjectionSharing? = nil, length: Int, projectedLength: Int? = nil,
        hashRounds: Int? = nil, buckets: Int? = nil, chunk: Int? = nil, features: Int? = nil, prompt: Int? = nil,
        batch: Int, heads: Int, headDim: Int, ffnMultiplier: Int? = nil, layers: Int? = nil, threads: Int
    ) {
        self.mechanism = mechanism
        self.peer = peer
        self.scope = scope
        self.mode = mode
        self.decoder = decoder
        self.pass = pass
        self.causal = causal
        self.sharing = sharing
        self.length = length
        self.projectedLength = projectedLength
        (self.hashRounds, self.buckets, self.chunk, self.features) = (hashRounds, buckets, chunk, features)
        self.prompt = prompt
        self.batch = batch
        self.heads = heads
        self.headDim = headDim
        self.ffnMultiplier = ffnMultiplier
        self.layers = layers
        self.threads = threads
    }

    /// The key columns, in file order.
    public static let columns: [Column<SweepPoint>] = [
        .mechanism("mechanism", \.mechanism, peer: \.peer),
        .framework("framework", \.peer),
        .enumeration("scope", \.scope),
        .enumeration("mode", \.mode),
        .optionalEnumeration("decoder", \.decoder),
        .enumeration("pass", \.pass),
        .bool("causal", \.causal),
        .optionalEnumeration("sharing", \.sharing),
        .int("n", \.length),
        .optionalInt("k", \.projectedLength),
        .optionalInt("hash_rounds", \.hashRounds),
        .optionalInt("buckets", \.buckets),
        .optionalInt("chunk", \.chunk),
        .optionalInt("features", \.features),
        .optionalInt("prompt", \.prompt),
        .int("batch", \.batch),
        .int("heads", \.heads),
        .int("d", \.headDim),
        .optionalInt("ffn_mult", \.ffnMultiplier),
        .optionalInt("layers", \.layers),
        .int("threads", \.threads),
    ]

    /// A placeholder that rows are read into, column by column.
    static let empty = SweepPoint(mechanism: .standard, length: 0, batch: 0, heads: 0, headDim: 0, threads: 0)

    /// The key columns added after interleaved comparisons began (Reformer's and Performer's axes):
    /// ``keysText(_:)`` leaves them out when no point has a value in them, so an older build's
    /// worker, which reads only its own columns, can still read a plan without them.
    public static let laterColumns: Set<String> = ["hash_rounds", "buckets", "chunk", "features"]

    /// The `framework` column: ``keysText(_:)`` writes it only when some point is a peer's, so a
    /// plan of attnbench's own points is the text an older build's worker reads.
    public static let frameworkColumn = "framework"

    /// Points as a CSV of their keys (header and one line per point), the form `run --plan` prints
    /// and the interleaved comparison's workers read; a column of ``laterColumns`` that no point
    /// fills, and the framework column when every point is attnbench's, are left out
    /// (``parseKeys(_:source:)`` reads them as empty, that is attnbench's own).
    public static func keysText(_ points: [SweepPoint]) -> String {
        let kept = columns.filter { column in
            if column.name == frameworkColumn { return points.contains { $0.peer != nil } }
            return !laterColumns.contains(column.name) || points.contains { !column.text(of: $0).isEmpty }
        }
        return RowFile.text(points, kept)
    }

    /// The points of a CSV of keys written by ``keysText(_:)``.
    public static func parseKeys(_ text: String, source: String) throws(UsageError) -> [SweepPoint] {
        try RowFile.parse(text, source: source, columns: columns, empty: empty)
    }

    /// The key as it appears in the CSV, in ``columns`` order.
    public var keyFields: [String] { Self.columns.map { $0.text(of: self) } }

    /// The same point with `length` cleared: what every point of one curve over n shares.
    public var series: SweepPoint {
        var p = self
        p.length = 0
        return p
    }

    /// The mechanism with its peer's prefix, for progress lines and labels: `flash`, `torch-flash`
    /// (the CSV holds the bare mechanism and the framework apart).
    public var mechanismName: String { (peer.map { $0.label + "-" } ?? "") + mechanism.rawValue }

    /// The `framework` field: `attnbench` for the suite's own rows, else the peer's name.
    public var framework: String { peer?.rawValue ?? Peer.ownFramework }

    /// The same point measured by attnbench itself (the peer cleared).
    public var ownCounterpart: SweepPoint {
        var p = self
        p.peer = nil
        return p
    }

    /// A short human description for progress lines and check findings:
    /// `linformer k=128 n=1024 b=1 h=8 d=64 t=2`, `linear causal train n=4096 b=1 h=8 d=64 t=1`.
    public var label: String { label(withLength: true) }

    /// ``label`` without `n=…`: the description of a whole series.
    public func label(withLength: Bool) -> String {
        var text = mechanismName + (mode == .decode ? " decode" : causal ? " causal" : "")
        if let decoder, mode == .decode { text += " " + decoder.rawValue }
        if pass != .forward { text += " " + pass.rawValue }
        if scope == .layer {
            text +=
                " layer" + (layers.map { $0 == 1 ? "" : "×\($0)" } ?? "") + (ffnMultiplier.map { " ffn=\($0)" } ?? "")
        }
        if let k = projectedLength { text += " k=\(k)" }
        if let rounds = hashRounds { text += " rounds=\(rounds)" }
        if let b = buckets { text += " buckets=\(b)" }
        if let c = chunk { text += " chunk=\(c)" }
        if let m = features { text += " m=\(m)" }
        if let prompt, mode == .decode { text += " prompt=\(prompt)" }
        return text + (withLength ? " n=\(length)" : "") + " b=\(batch) h=\(heads) d=\(headDim) t=\(threads)"
    }
}

extension Column where Row == SweepPoint {
    /// The bare mechanism (`standard`). Files written before the framework column prefixed a peer's
    /// mechanism (`torch-standard`): that prefix still reads, as the peer; any other prefix, or a
    /// rest that is not a mechanism, does not parse.
    static func mechanism(
        _ name: String, _ mechanism: WritableKeyPath<SweepPoint, Mechanism> & Sendable,
        peer: WritableKeyPath<SweepPoint, Peer?> & Sendable
    ) -> Column {
        Column(
            name, write: { $0[keyPath: mechanism].rawValue },
            read: { row, field in
                let parts = field.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                let (prefix, rest): (Peer?, String)
                if parts.count == 2 {
                    guard let known = Peer.legacyPrefixes[parts[0]] else { return false }
                    (prefix, rest) = (known, parts[1])
                } else {
                    (prefix, rest) = (nil, field)
                }
                guard let value = Mechanism(rawValue: rest) else { return false }
                row[keyPath: mechanism] = value
                row[keyPath: peer] = prefix
                return true
            })
    }

    /// Who measured the row: `attnbench` (nil) or a peer's raw value (`pytorch`). Read after the
    /// mechanism: an empty field (a file from before this column) keeps what the mechanism said, and
    /// a framework that contradicts a legacy prefix does not parse.
    static func framework(_ name: String, _ peer: WritableKeyPath<SweepPoint, Peer?> & Sendable) -> Column {
        Column(
            name, write: { $0[keyPath: peer]?.rawValue ?? Peer.ownFramework },
            read: { row, field in
                if field.isEmpty { return true }
                if field == Peer.ownFramework { return row[keyPath: peer] == nil }
                guard let value = Peer(rawValue: field), row[keyPath: peer] == nil || row[keyPath: peer] == value
                else { return false }
                row[keyPath: peer] = value
                return true
            })
    }
}
