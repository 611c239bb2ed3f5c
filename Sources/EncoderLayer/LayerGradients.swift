import AttentionKernels

/// The gradients of one ``EncoderStack`` backward pass for an upstream dY = ∂L/∂Y:
/// - `dX`: ∂L/∂X, `[b, n, D]` like the input;
/// - `layers[l]`: ∂L/∂(every weight, bias, γ and β of layer l), shaped like ``EncoderWeights``;
/// - `projections[l]`: ∂L/∂E and ∂L/∂F of layer l's Linformer core (shaped like its `e`, `f`; the
///   same tensor under key-value sharing, as ``AttentionGradients`` has it), nil for cores without
///   parameters.
public struct LayerGradients: Sendable {
    public let dX: Tensor
    public let layers: [EncoderWeights]
    public let projections: [(e: Tensor, f: Tensor)?]

    public init(dX: Tensor, layers: [EncoderWeights], projections: [(e: Tensor, f: Tensor)?]) {
        self.dX = dX
        self.layers = layers
        self.projections = projections
    }

    /// Every gradient with a name: `dx`, then `layer<l>.<weight>` (``EncoderWeights/named``), then
    /// `layer<l>.de` and `layer<l>.df` (`df` left out when it is `de`, under key-value sharing).
    public var named: [(name: String, tensor: Tensor)] {
        var all = [("dx", dX)]
        for (l, layer) in layers.enumerated() {
            all += layer.named.map { ("layer\(l).\($0.name)", $0.tensor) }
            if let (e, f) = projections[l] {
                all.append(("layer\(l).de", e))
                if f !== e { all.append(("layer\(l).df", f)) }
            }
        }
        return all
    }

    /// Bytes of every gradient returned.
    public var byteCount: Int { named.reduce(0) { $0 + $1.tensor.byteCount } }
}
