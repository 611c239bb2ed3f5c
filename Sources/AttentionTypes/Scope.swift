/// What a point times; the raw value is the name used in CLI flags and the CSV's `scope` column.
///
/// Both papers time more than the attention core: Linformer's Table 3 a whole RoBERTa-like model,
/// "Transformers are RNNs" whole 8- and 16-layer image models. `layer` wraps the core in the
/// post-LN encoder layer they use (BERT, RoBERTa), stacked `layers` times.
public enum Scope: String, CaseIterable, Sendable, Codable {
    /// The attention mechanism alone: O = Attention(Q, K, V) on `[b, h, n, d]` inputs.
    case core
    /// Encoder layers around the core: Q, K, V projections (d_model → d_model, d_model = h·d), the
    /// core, the output projection, residual and LayerNorm, then FFN (d_model → m·d_model → d_model,
    /// GELU), residual and LayerNorm; input and output `[b, n, d_model]`.
    case layer
}
