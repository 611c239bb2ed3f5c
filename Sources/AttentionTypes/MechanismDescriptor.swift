/// What a mechanism is, without its kernels (C-free, so results, analysis and figures can read it):
/// its name, the sweep axes it adds, what it supports, its place and colours in figures, its label
/// and the PyTorch form its peer rows time. Each mechanism declares one in its own file
/// (`Mechanism+<Name>.swift`, e.g. ``standard``), and ``registry`` names them all; the kernel side
/// (how to build, cost and check it) is `MechanismKernels` in AttentionKernels, one beside each kernel.
public struct MechanismDescriptor: Sendable {
    /// The name in CLI flags and CSV (`standard`).
    public let mechanism: Mechanism
    /// The name in prose and error messages ("Linformer").
    public let title: String
    /// The curve's name in figures and tables ("softmax" for standard; see `SweepPoint.mechanismLabel`).
    public let label: String
    /// The axes a forward point of this mechanism sweeps beyond the shape (each value of each is a point).
    public let axes: [MechanismAxis]
    public let supports: Support
    /// Order of curves in figures and tables (standard, flash, Linformer by k, linear).
    public let rank: Int
    /// Order in "Transformers are RNNs" Figure 1's legend (softmax, flash, linear, Linformer by k).
    public let paperRank: Int
    public let style: PlotStyle
    /// The PyTorch form `Tests/peers` times under this name, or nil when it has no peer.
    public let peer: PeerForm?
    /// Whether it estimates softmax attention (Linformer, Performer), so its forward rows get the
    /// relative error against exact attention (`approx_rel_error`); linear attention does not.
    public let approximatesSoftmax: Bool

    public init(
        name: String, title: String, label: String? = nil, axes: [MechanismAxis] = [], supports: Support,
        rank: Int, paperRank: Int, style: PlotStyle, peer: PeerForm? = nil, approximatesSoftmax: Bool = false
    ) {
        self.approximatesSoftmax = approximatesSoftmax
        mechanism = Mechanism(declaring: name)
        (self.title, self.label, self.axes, self.supports) = (title, label ?? name, axes, supports)
        (self.rank, self.paperRank, self.style, self.peer) = (rank, paperRank, style, peer)
    }

    /// The name in CLI flags and CSV.
    public var name: String { mechanism.rawValue }

    /// Every mechanism, in the order `--help`, default sweeps and per-mechanism summaries use.
    /// Adding a mechanism is its own file plus one line here (and one in `MechanismKernels.registry`).
    public static let registry: [MechanismDescriptor] = [.standard, .linformer, .linear, .flash, .reformer, .performer]

    /// The registry by name; a name registered twice is a programmer error.
    static let byName: [String: MechanismDescriptor] = Dictionary(registry.map { ($0.name, $0) }) { a, _ in
        preconditionFailure("mechanism '\(a.name)' is registered twice in MechanismDescriptor.registry")
    }

    /// The registered names as prose: "standard, linformer, linear or flash" (`conjunction` "or").
    public static func names(of descriptors: [MechanismDescriptor] = registry, conjunction: String = "or") -> String {
        let names = descriptors.map(\.name)
        guard let last = names.last, names.count > 1 else { return names.first ?? "" }
        return names.dropLast().joined(separator: ", ") + " \(conjunction) " + last
    }
}

/// A sweep axis a mechanism adds to its forward points (its own CSV column, empty for other
/// mechanisms). A new one (hash rounds, buckets, chunk, feature count) is a case here, a column of
/// `SweepPoint` and a setting of `SweepSpec`.
public enum MechanismAxis: String, Sendable, CaseIterable {
    /// Linformer's projected length k (CSV column and sweep key `k`).
    case projectedLength = "k"
    /// Linformer's projection sharing (``ProjectionSharing``; CSV column and sweep key `sharing`).
    case sharing
    /// Reformer's hashing rounds (the RNN paper's lsh-1, lsh-4, lsh-8; CSV column `hash_rounds`).
    case hashRounds = "hash_rounds"
    /// Reformer's buckets per round (64 in the RNN paper; CSV column `buckets`).
    case buckets
    /// Reformer's chunk of sorted tokens (32; CSV column `chunk`).
    case chunk
    /// Performer's random feature count m (256 in LRA; CSV column `features`).
    case features
}

extension MechanismDescriptor {
    /// What a mechanism can run. Anything it cannot is refused before a point runs (a skipped row,
    /// or a usage error when it is all that was asked for).
    public struct Support: Sendable {
        /// A causal form (a mask, or a prefix recurrence); without one, asking for causal is an error.
        public var causal: Bool
        /// Why it has no causal form, for its skipped causal rows (nil when it has one).
        public var noCausalReason: String?
        /// A backward pass, hence `--pass backward`/`train`, `eval --grad-out` and layer scope
        /// (the encoder layer differentiates its core).
        public var backward: Bool
        /// How it decodes: the decoders it runs, the first being its default, or why it cannot.
        public var decoding: Decoding
        /// Whether its decoders run on the core alone (`--scope core --mode decode`); false for one that
        /// decodes only through the whole model (Reformer: its recompute decoder re-runs the stack).
        public var decodesAtCoreScope: Bool

        public init(
            causal: Bool, noCausalReason: String? = nil, backward: Bool = true, decoding: Decoding,
            decodesAtCoreScope: Bool = true
        ) {
            (self.causal, self.noCausalReason, self.backward, self.decoding) = (
                causal, noCausalReason, backward, decoding
            )
            self.decodesAtCoreScope = decodesAtCoreScope
        }
    }

    /// How a mechanism generates tokens one at a time (`--mode decode`).
    public enum Decoding: Sendable {
        /// The decoders it runs; the first is its default (`Decoder.default(for:)`).
        case decoders([Decoder])
        /// It does not decode, for this reason (the text of its skipped rows and of the error).
        case unsupported(reason: String)
    }

    /// A curve's colours, the same in every figure.
    public struct PlotStyle: Sendable {
        /// gnuplot colours, `#rrggbb`.
        public var colors: [String]
        public var colorBy: ColorKey

        public init(colors: [String], colorBy: ColorKey = .causal) { (self.colors, self.colorBy) = (colors, colorBy) }
    }

    /// What picks a curve's colour from ``PlotStyle/colors``.
    public enum ColorKey: Sendable {
        /// The first colour, the second for the causal forward pass (decoding is causal by nature and
        /// keeps the first).
        case causal
        /// One colour per k, in the order the figure's curves first show each k.
        case projectedLength
        /// One colour per hashing round count, in the order the figure's curves first show each.
        case hashRounds
    }

    /// The PyTorch form that times a mechanism in `Tests/peers` (rows whose `framework` is `pytorch`; the
    /// other peers' forms are in their own `Tests/peers/peer_*.py`), and its fused counterpart.
    public struct PeerForm: Sendable {
        /// What the peer computes ("matmul-softmax-matmul").
        public var form: String
        /// The mechanism whose peer rows are the peer's fused form of the same formula, the honest
        /// baseline for this one's own rows (flash's `scaled_dot_product_attention` for standard).
        public var fused: Mechanism?

        public init(_ form: String, fused: String? = nil) {
            self.form = form
            self.fused = fused.map(Mechanism.init(declaring:))
        }
    }
}
