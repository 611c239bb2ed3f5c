/// Which direction of an attention call is run; the raw value is the name used in CLI flags and
/// the CSV's `pass` column.
///
/// `train` is what "Transformers are RNNs" Figure 1 times: a forward pass that keeps what the
/// backward pass reads, then the backward pass from an upstream gradient dO = ∂L/∂O.
public enum Pass: String, CaseIterable, Sendable, Codable {
    /// The forward pass alone: O = Attention(Q, K, V), nothing kept (inference).
    case forward
    /// The backward pass alone, given a saved forward: dQ, dK, dV (and Linformer's dE, dF) from dO.
    case backward
    /// A training step: the forward pass that saves what the backward needs, then the backward.
    case train
}
