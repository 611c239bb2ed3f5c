/// Dimension legend used everywhere (code, CSV columns, plot labels):
/// `b` batch, `h` heads, `n` sequence length, `d` head dimension, `k` Linformer's projected length.

/// One of the mechanisms the suite measures, by name: the raw value is the name used in CLI flags
/// and CSV. Only the names in ``MechanismDescriptor/registry`` exist (`Mechanism(rawValue:)` is nil
/// for any other), and ``allCases`` lists them in the registry's order; what a mechanism is and
/// supports is its ``descriptor``, the kernel side's in AttentionKernels (`MechanismKernels`).
/// `standard` and `flash` compute the same exact softmax attention: `standard` materialises the
/// `[n, n]` scores (the papers' baseline), `flash` streams them through cache-sized tiles.
public struct Mechanism: RawRepresentable, Hashable, Sendable, Codable, CaseIterable, CustomStringConvertible {
    public let rawValue: String

    /// The registered mechanism named `rawValue`, or nil.
    public init?(rawValue: String) {
        guard MechanismDescriptor.byName[rawValue] != nil else { return nil }
        self.rawValue = rawValue
    }

    /// The name of a descriptor being declared (a registry entry, so not looked up).
    init(declaring name: String) { rawValue = name }

    /// Every registered mechanism, in ``MechanismDescriptor/registry`` order.
    public static var allCases: [Mechanism] { MechanismDescriptor.registry.map(\.mechanism) }

    /// What the mechanism is and supports (its registry entry).
    public var descriptor: MechanismDescriptor {
        guard let descriptor = MechanismDescriptor.byName[rawValue] else {
            preconditionFailure("mechanism '\(rawValue)' is not in MechanismDescriptor.registry")
        }
        return descriptor
    }

    public var description: String { rawValue }
}

/// How Linformer's projections E and F (each `[k, n]`) are shared, as in the paper's §4:
/// - `none`: each head has its own E and F (2·h matrices);
/// - `headwise`: all heads share one E and one F (2 matrices);
/// - `keyValue`: headwise, and E = F (1 matrix). With one layer, layerwise sharing is this mode.
public enum ProjectionSharing: String, CaseIterable, Sendable, Codable {
    case none
    case headwise
    case keyValue = "key-value"
}
