/// Linformer's sequence-axis projections: K' = E·K and V' = F·V with E, F of shape `[k, n]`.
///
/// Storage: `e` is `[h, k, n]` when sharing is `none`, else `[1, k, n]`; `f` likewise, and is the
/// same tensor as `e` under `keyValue` sharing.
public struct LinformerProjections: Sendable {
    public let sharing: ProjectionSharing
    public let projectedLength: Int  // k
    public let length: Int  // n
    public let heads: Int
    public let e: Tensor
    public let f: Tensor

    /// Wraps caller-supplied projections. `e` and `f` are `[k, n]` (shared by all heads) or
    /// `[h, k, n]` (one per head); pass the same tensor twice for key-value sharing.
    public init(e: Tensor, f: Tensor, heads: Int) throws(KernelConfigurationError) {
        func stacked(_ t: Tensor, _ label: String) throws(KernelConfigurationError) -> Tensor {
            switch t.shape.count {
            case 2: return t
            case 3 where t.shape[0] == heads || t.shape[0] == 1: return t
            case 3:
                throw KernelConfigurationError(
                    "\(label) has \(t.shape[0]) matrices but there are \(heads) heads; give one [k, n] or [\(heads), k, n]"
                )
            default: throw KernelConfigurationError("\(label) must be [k, n] or [h, k, n], got \(t.shape)")
            }
        }
        let e = try stacked(e, "E")
        let f = try stacked(f, "F")
        let (ek, en) = (e.shape[e.shape.count - 2], e.shape[e.shape.count - 1])
        let (fk, fn) = (f.shape[f.shape.count - 2], f.shape[f.shape.count - 1])
        guard ek == fk, en == fn else {
            throw KernelConfigurationError("E is [\(ek), \(en)] but F is [\(fk), \(fn)]; they must match")
        }
        guard ek >= 1, en >= 1 else {
            throw KernelConfigurationError("projections must be non-empty, got [\(ek), \(en)]")
        }
        let perHead = { (t: Tensor) in t.shape.count == 3 && t.shape[0] > 1 }
        guard perHead(e) == perHead(f) else {
            throw KernelConfigurationError("E and F must both be shared or both per-head")
        }
        self.init(sharing: e === f ? .keyValue : (perHead(e) ? .none : .headwise), e: e, f: f, heads: heads)
    }

    /// Projections whose shapes are known to be consistent (`e`, `f` are `[count, k, n]` or `[k, n]`).
    private init(sharing: ProjectionSharing, e: Tensor, f: Tensor, heads: Int) {
        self.sharing = sharing
        self.projectedLength = e.shape[e.shape.count - 2]
        self.length = e.shape[e.shape.count - 1]
        self.heads = heads
        self.e = e
        self.f = f
    }

    /// Seeded random projections, the paper's linear projection: entries N(0, 1/k), the
    /// Johnson–Lindenstrauss scaling of its Theorem 1, so ‖E x‖ ≈ ‖x‖ on average.
    public static func seeded(
        k: Int, length n: Int, heads: Int, sharing: ProjectionSharing, seed: UInt64
    ) -> LinformerProjections {
        precondition(k >= 1 && n >= 1 && heads >= 1, "Linformer needs k, n, heads ≥ 1 (k=\(k), n=\(n), h=\(heads))")
        let count = sharing == .none ? heads : 1
        let std = 1 / Float(k).squareRoot()
        let e = Tensor.normal([count, k, n], seed: seed, std: std, label: "projection E")
        let f =
            sharing == .keyValue
            ? e : Tensor.normal([count, k, n], seed: seed &+ 0x5EED, std: std, label: "projection F")
        return LinformerProjections(sharing: sharing, e: e, f: f, heads: heads)
    }

    /// E for head `h`: `[k, n]`.
    public func e(head h: Int) -> MatrixView { e.matrix(Self.index(of: h, in: e)) }
    /// F for head `h`: `[k, n]`.
    public func f(head h: Int) -> MatrixView { f.matrix(Self.index(of: h, in: f)) }

    /// Which `[k, n]` matrix of a projection tensor head `h` uses: its own when the tensor holds one
    /// per head, else the shared one. Gradients, shaped like the tensor, use the same index.
    package static func index(of h: Int, in t: Tensor) -> Int { t.shape.count == 3 && t.shape[0] > 1 ? h : 0 }

    /// Bytes held by E and F (F counted once more only if it is a distinct tensor).
    public var byteCount: Int { e.byteCount + (e === f ? 0 : f.byteCount) }

    /// Bytes E and F would take for a configuration, without allocating them.
    public static func byteCount(k: Int, length n: Int, heads: Int, sharing: ProjectionSharing) -> Int {
        let matrices =
            switch sharing {
            case .none: Int.saturatingProduct(2, heads)
            case .headwise: 2
            case .keyValue: 1
            }
        return AttentionCost.floats(matrices, k, n)
    }
}

/// A configuration that cannot be run (raised while building a kernel, never inside a call).
public struct KernelConfigurationError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
