/// Dimension legend: see `Mechanism` (AttentionTypes). Sharing modes: `ProjectionSharing`.

/// The shape of one attention call: Q, K, V and the output are all `[b, h, n, d]`.
public struct AttentionShape: Hashable, Sendable, CustomStringConvertible {
    public var batch: Int
    public var heads: Int
    public var length: Int
    public var headDim: Int

    public init(batch: Int, heads: Int, length: Int, headDim: Int) {
        self.batch = batch
        self.heads = heads
        self.length = length
        self.headDim = headDim
    }

    /// The shape of a `[b, h, n, d]` tensor.
    public init(of tensor: Tensor) {
        precondition(tensor.shape.count == 4, "attention tensors are [B, H, n, d], got \(tensor.shape)")
        self.init(batch: tensor.shape[0], heads: tensor.shape[1], length: tensor.shape[2], headDim: tensor.shape[3])
    }

    public var dims: [Int] { [batch, heads, length, headDim] }
    /// `b · h`: the number of independent (batch, head) slices (saturating at `Int.max`).
    public var slices: Int { .saturatingProduct(batch, heads) }
    public var description: String { "b=\(batch) h=\(heads) n=\(length) d=\(headDim)" }
}

/// An attention mechanism: `out = Attention(Q, K, V)` on `[b, h, n, d]` float32 tensors.
///
/// Contract, which the harness and its memory numbers rely on:
/// - the call allocates its output and every intermediate itself, on the calling thread, through
///   malloc, and frees the intermediates before returning (so jemalloc's per-thread peak across
///   one call is exactly what the call needs on top of its inputs and parameters);
/// - parallel work (OpenBLAS threads, ``ComputeThreads/parallelFor(_:_:)``) only writes into buffers
///   allocated before it starts;
/// - ``cost(for:)`` gives the FLOPs and the bytes that the call allocates, analytically.
///
/// A new mechanism is a type conforming to this protocol (its backward and reference may sit in
/// sibling files), its descriptors (``MechanismDescriptor`` in AttentionTypes, ``MechanismKernels``
/// beside the kernel) and one line in each registry (``MechanismDescriptor/registry``,
/// ``MechanismKernels/registry``).
public protocol AttentionKernel: Sendable {
    var mechanism: Mechanism { get }
    /// A readable name (default: `standard`, `linear (causal)`).
    var name: String { get }
    var isCausal: Bool { get }
    /// Computes attention for `q`, `k`, `v` of one shape and returns a new `[b, h, n, d]` tensor.
    func callAsFunction(q: Tensor, k: Tensor, v: Tensor) -> Tensor
    /// The analytic cost of one call on `shape`.
    func cost(for shape: AttentionShape) -> AttentionCost
    /// The matrix products one call on `shape` runs through OpenBLAS or the micro-kernels, as the
    /// call makes them (``GemmShape``): what `attnbench kernels` times as the kernel's GEMMs alone.
    /// Their FLOPs are the cost model's, less what the call computes outside them (linear attention's
    /// normaliser, ``LinearAttention/normaliserFlops(for:)``, and its causal recurrence, a fused loop).
    func products(for shape: AttentionShape) -> [GemmShape]
}

extension AttentionKernel {
    public var name: String { mechanism.rawValue + (isCausal ? " (causal)" : "") }

    /// Checks that q, k, v share one `[b, h, n, d]` shape and returns it.
    func checkedShape(q: Tensor, k: Tensor, v: Tensor) -> AttentionShape {
        precondition(q.shape.count == 4, "\(name): q must be [B, H, n, d], got \(q.shape)")
        precondition(
            k.shape == q.shape && v.shape == q.shape,
            "\(name): q, k, v must have one shape, got \(q.shape), \(k.shape), \(v.shape)")
        return AttentionShape(of: q)
    }
}

/// A kernel with random projections of its own, drawn from a seed (Performer's features, Reformer's
/// rotations): `eval --random-out` writes them, so another implementation can use the same ones.
public protocol RandomlyProjected {
    /// The projections as the kernel uses them (Performer's W `[m, d]`, Reformer's `[rounds, d, b/2]`).
    func randomProjection(headDim: Int) -> Tensor
}
