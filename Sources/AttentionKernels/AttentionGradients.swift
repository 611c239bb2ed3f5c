/// The gradients of one attention call with respect to its inputs, for an upstream gradient
/// dO = ∂L/∂O: `q`, `k`, `v` are ∂L/∂Q, ∂L/∂K, ∂L/∂V (`[b, h, n, d]`, like the inputs).
///
/// Linformer also returns ∂L/∂E and ∂L/∂F, shaped like its projections' `e` and `f` tensors and
/// summed over every (batch, head) slice that uses each matrix. Under key-value sharing E = F is
/// one matrix: `e` holds its whole gradient (the key path plus the value path) and `f` is the
/// same tensor.
public struct AttentionGradients: Sendable {
    public let q: Tensor
    public let k: Tensor
    public let v: Tensor
    public let e: Tensor?
    public let f: Tensor?

    public init(q: Tensor, k: Tensor, v: Tensor, e: Tensor? = nil, f: Tensor? = nil) {
        (self.q, self.k, self.v, self.e, self.f) = (q, k, v, e, f)
    }

    /// Every gradient tensor with its name (`dq`, `dk`, `dv`, then `de`, `df` when present; `df` is
    /// left out when it is `de` itself, under key-value sharing).
    public var named: [(name: String, tensor: Tensor)] {
        var all = [("dq", q), ("dk", k), ("dv", v)]
        if let e { all.append(("de", e)) }
        if let f, f !== e { all.append(("df", f)) }
        return all
    }
}
