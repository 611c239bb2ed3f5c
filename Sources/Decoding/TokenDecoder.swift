/// Causal attention run one token at a time: the state a (batch, head) sequence keeps between steps,
/// and the step that extends it. ``Generation`` drives a decoder; the harness times it.
///
/// Contract (as for ``AttentionKernel``): `init` allocates all the state, on the calling thread;
/// `step` allocates nothing and touches only its own slice, so slices can run on different threads.
public protocol TokenDecoder {
    /// State for `slices` independent sequences of at most `capacity` tokens of head dimension `headDim`.
    init(slices: Int, capacity: Int, headDim: Int)

    /// Adds token `position`'s key `k` and value `v` to slice `slice`, then writes the attention of
    /// query `q` over tokens `0...position` into `out`. Positions run 0, 1, 2, … per slice. All
    /// vectors are `headDim` floats.
    func step(
        slice: Int, position: Int, q: UnsafeMutablePointer<Float>, k: UnsafeMutablePointer<Float>,
        v: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>)

    /// FLOPs of one step at `position` (0-based) for one slice.
    static func stepFlops(position: Int, headDim: Int) -> Double

    /// Bytes `init` allocates.
    static func stateBytes(slices: Int, capacity: Int, headDim: Int) -> Int
}
