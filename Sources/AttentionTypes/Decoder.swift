/// How a decode point generates its tokens; the raw value is the name used in CLI flags and the
/// CSV's `decoder` column. The three rows of "Transformers are RNNs" Tables 4 and 5:
public enum Decoder: String, CaseIterable, Sendable, Codable {
    /// Softmax with a key/value cache (the paper's "stateful-softmax"): step i attends one new query
    /// to the i + 1 cached keys and values, O(i·d) per step.
    case kvCache = "kv-cache"
    /// Softmax without a cache (the paper's "Softmax" rows): step i runs the causal core or layers
    /// over the whole prefix again, O(i²·d) per step at the core.
    case recompute
    /// Linear attention as an RNN (the paper's "Linear"): step i updates the d×d state, O(d²).
    case recurrent

    /// The decoder a mechanism uses when none is named: the first its descriptor lists (softmax's
    /// cache, linear's state); nil for the mechanisms that do not decode (Linformer, flash).
    public static func `default`(for mechanism: Mechanism) -> Decoder? { supported(by: mechanism).first }

    /// The decoders a mechanism can run (``MechanismDescriptor/Support/decoding``): softmax's cache or
    /// recomputation, linear's state.
    public static func supported(by mechanism: Mechanism) -> [Decoder] {
        switch mechanism.descriptor.supports.decoding {
        case .decoders(let decoders): decoders
        case .unsupported: []
        }
    }
}
