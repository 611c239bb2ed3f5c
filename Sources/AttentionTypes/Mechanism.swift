/// Dimension legend used everywhere (code, CSV columns, plot labels):
/// `b` batch, `h` heads, `n` sequence length, `d` head dimension, `k` Linformer's projected length.

/// The mechanisms the suite measures; the raw value is the name used in CLI flags and CSV.
/// `standard` and `flash` compute the same exact softmax attention: `standard` materialises the
/// `[n, n]` scores (the papers' baseline), `flash` streams them through cache-sized tiles.
public enum Mechanism: String, CaseIterable, Sendable, Codable {
    case standard, linformer, linear, flash
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
