import AttentionKernels

/// The fixed random maps that close the decode loop, so every step depends on the one before and
/// no work can be skipped or hoisted.
///
/// Per head h, a token's source x (`d` floats) gives its query, key and value through one seeded
/// matrix `W_h` (`[d, 3d]`, entries N(0, 1/d), so q, k, v have the scale of x):
///
///     [q | k | v] = x · W_h                                     (6·d² FLOPs)
///
/// and the attention output y becomes the next token's source through a residual connection and an
/// RMS normalisation (the shape of a Transformer block's `f(att + x)`, "Transformers are RNNs" Eq. 20):
///
///     x ← (x + y) / rms(x + y),   rms(u) = √(Σ u_c² / d)        (~4·d FLOPs)
///
/// which keeps x at unit scale over any number of steps (no drift to 0 or to overflow).
public struct DecodeProjections: Sendable {
    public let heads: Int
    public let headDim: Int
    /// `[h, d, 3d]`: row a of head h holds x_a's contribution to q (first d), k, then v.
    public let weights: Tensor

    public init(weights: Tensor) {
        precondition(
            weights.shape.count == 3 && weights.shape[2] == 3 * weights.shape[1],
            "decode projections are [h, d, 3d], got \(weights.shape)")
        self.weights = weights
        heads = weights.shape[0]
        headDim = weights.shape[1]
    }

    /// N(0, 1/d) weights drawn from `seed`.
    public static func seeded(heads: Int, headDim: Int, seed: UInt64) -> DecodeProjections {
        let std = 1 / Float(headDim).squareRoot()
        return DecodeProjections(
            weights: Tensor.normal([heads, headDim, 3 * headDim], seed: seed, std: std, label: "decode: Wq|Wk|Wv"))
    }

    /// Bytes of the weights.
    public var byteCount: Int { weights.byteCount }

    /// `qkv ← x · W_head`: `[1, d]·[d, 3d] → [1, 3d]`, accumulated row by row of W (contiguous,
    /// vectorised) rather than through BLAS, whose per-call overhead is larger than this product at d ≤ 64.
    @inline(__always)
    public func project(_ x: UnsafePointer<Float>, head: Int, into qkv: UnsafeMutablePointer<Float>) {
        let w = weights.matrix(head)
        let width = w.cols
        qkv.update(repeating: 0, count: width)
        for a in 0..<w.rows {
            let (xa, row) = (x[a], w.row(a))
            for c in 0..<width { qkv[c] += xa * row[c] }
        }
    }

    /// `x ← (x + y) / rms(x + y)` over `d` floats (unchanged scale when x + y is all zeros).
    @inline(__always)
    public static func feedback(_ x: UnsafeMutablePointer<Float>, adding y: UnsafePointer<Float>, count d: Int) {
        var squares: Float = 0
        for c in 0..<d {
            x[c] += y[c]
            squares += x[c] * x[c]
        }
        guard squares > 0 else { return }
        let inverse = (Float(d) / squares).squareRoot()
        for c in 0..<d { x[c] *= inverse }
    }
}
