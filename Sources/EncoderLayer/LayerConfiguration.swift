import AttentionKernels

/// The shape of a stack of encoder layers (``EncoderStack``), apart from the batch and the length.
///
/// Dimension legend: `b` batch, `n` length, `h` heads, `d` head dimension, `D = h·d` the model
/// dimension (d_model), `m` the FFN multiplier, `M = m·D` the FFN's hidden width, `L` layers,
/// `T = b·n` token rows. BERT-base and RoBERTa-base are h = 12, d = 64, m = 4, L = 12.
public struct LayerConfiguration: Hashable, Sendable, CustomStringConvertible {
    public var heads: Int
    public var headDim: Int
    /// m: the FFN's hidden width is m·D (4 in BERT, RoBERTa and "Transformers are RNNs").
    public var ffnMultiplier: Int
    /// L: encoder layers stacked, each with its own weights and its own attention core.
    public var layers: Int

    public init(heads: Int, headDim: Int, ffnMultiplier: Int = 4, layers: Int = 1) {
        self.heads = heads
        self.headDim = headDim
        self.ffnMultiplier = ffnMultiplier
        self.layers = layers
    }

    /// D = h·d (saturating at `Int.max`).
    public var modelDim: Int { .saturatingProduct(heads, headDim) }
    /// M = m·D, the FFN's hidden width (saturating at `Int.max`).
    public var ffnDim: Int { .saturatingProduct(ffnMultiplier, modelDim) }

    /// The attention shape each layer's core sees for `batch` sequences of `length` tokens.
    public func coreShape(batch: Int, length: Int) -> AttentionShape {
        AttentionShape(batch: batch, heads: heads, length: length, headDim: headDim)
    }

    public var description: String { "L=\(layers) h=\(heads) d=\(headDim) m=\(ffnMultiplier)" }
}
