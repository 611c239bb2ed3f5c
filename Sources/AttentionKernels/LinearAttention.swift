/// Linear attention (Katharopoulos et al. 2020, "Transformers are RNNs") with φ(x) = elu(x) + 1:
///
///     out_i = φ(q_i)ᵀ (Σ_j φ(k_j) v_jᵀ) / (φ(q_i)ᵀ Σ_j φ(k_j) + ε)
///
/// where the sums run over all j (non-causal) or j ≤ i (causal, the running sums S_i and Z_i).
///
/// Cost per call: `b·h·(4·n·d² + 3·n·d)` FLOPs, O(n d²) time. Extra memory: non-causal holds
/// φ(Q), φ(K) (`[b, h, n, d]` each), the state `Σ φ(k_j) v_jᵀ` (`[b, h, d, d]`) and `Σ φ(k_j)`
/// (`[b, h, d]`); causal holds only the running S_i (`[b, h, d, d]`), Z_i (`[b, h, d]`) and φ of
/// one query and key row per slice (`[b, h, 2, d]`): never n×d×d.
/// Numerics: φ > 0 everywhere, so the denominator is a sum of positive terms (no cancellation)
/// and ε = 1e-6 (fast-transformers' value) only guards an underflowed φ.
public struct LinearAttention: AttentionKernel {
    public let isCausal: Bool
    public let epsilon: Float
    public var mechanism: Mechanism { .linear }

    public init(causal: Bool = false, epsilon: Float = 1e-6) {
        isCausal = causal
        self.epsilon = epsilon
    }

    public func callAsFunction(q: Tensor, k: Tensor, v: Tensor) -> Tensor {
        let shape = checkedShape(q: q, k: k, v: v)
        precondition(shape.headDim >= 1, "\(name): head dimension must be at least 1")
        return isCausal ? causal(q: q, k: k, v: v, shape: shape) : nonCausal(q: q, k: k, v: v, shape: shape).output
    }

    /// The non-causal forward pass, with its intermediates φ(Q), φ(K), the state and Σ φ(k_j)
    /// (``Saved/Features``): ``callAsFunction(q:k:v:)`` frees them on return,
    /// ``trainingForward(q:k:v:)`` keeps them for the backward pass.
    func nonCausal(q: Tensor, k: Tensor, v: Tensor, shape: AttentionShape) -> (output: Tensor, features: Saved.Features) {
        let (n, d) = (shape.length, shape.headDim)
        let phiQ = Tensor(uninitialized: shape.dims)  // [b, h, n, d]
        let phiK = Tensor(uninitialized: shape.dims)  // [b, h, n, d]
        let state = Tensor(uninitialized: [shape.batch, shape.heads, d, d])  // [b, h, d, d]
        let keySum = Tensor(uninitialized: [shape.batch, shape.heads, 1, d])  // [b, h, 1, d]
        let out = Tensor(uninitialized: shape.dims)  // [b, h, n, d]

        let eps = epsilon
        ComputeThreads.forEachSlice(shape.slices) { s, _ in
            let (fq, fk, z, o) = (phiQ.matrix(s), phiK.matrix(s), keySum.matrix(s).row(0), out.matrix(s))
            // pass 1: feature maps, element-wise.
            FeatureMap.apply(q.matrix(s), into: fq)
            FeatureMap.apply(k.matrix(s), into: fk)
            FeatureMap.columnSums(fk, into: z)
            // pass 2: the shared state, then every query against it.
            // [d, n]·[n, d] → [d, d]
            BLAS.gemm(fk, transposeA: true, v.matrix(s), into: state.matrix(s))
            // [n, d]·[d, d] → [n, d]
            BLAS.gemm(fq, state.matrix(s), into: o)
            // pass 3: normalise each row by φ(q_i)·Σφ(k_j) + ε.
            for i in 0..<n {
                let phiRow = fq.row(i)
                var denominator: Float = 0
                for c in 0..<d { denominator += phiRow[c] * z[c] }
                Softmax.divide(o.row(i), count: d, by: denominator + eps)
            }
        }
        return (out, Saved.Features(phiQ: phiQ, phiK: phiK, state: state, keySum: keySum))
    }

    func causal(q: Tensor, k: Tensor, v: Tensor, shape: AttentionShape) -> Tensor {
        let (n, d) = (shape.length, shape.headDim)
        let state = Tensor(zeros: [shape.batch, shape.heads, d, d])  // S_i: [b, h, d, d]
        let keySum = Tensor(zeros: [shape.batch, shape.heads, 1, d])  // Z_i: [b, h, 1, d]
        let phiRows = Tensor(uninitialized: [shape.batch, shape.heads, 2, d])  // φ(q_i), φ(k_i)
        let out = Tensor(uninitialized: shape.dims)  // [b, h, n, d]
        let eps = epsilon

        // One recurrence per (batch, head), split across threads; each step is
        // S_i = S_{i-1} + φ(k_i) v_iᵀ, Z_i = Z_{i-1} + φ(k_i), out_i = φ(q_i)ᵀ S_i / (φ(q_i)·Z_i + ε).
        ComputeThreads.parallelFor(shape.slices) { slices in
            for s in slices {
                let (qs, ks, vs, os) = (q.matrix(s), k.matrix(s), v.matrix(s), out.matrix(s))
                let S = state.matrix(s)
                let z = keySum.matrix(s).row(0)
                let phiQ = phiRows.matrix(s).row(0)
                let phiK = phiRows.matrix(s).row(1)
                for i in 0..<n {
                    Self.recurrentStep(
                        state: S, keySum: z, phiQ: phiQ, phiK: phiK,
                        q: qs.row(i), k: ks.row(i), v: vs.row(i), out: os.row(i), epsilon: eps)
                }
            }
        }
        return out
    }

    /// One step of the causal recurrence, for one (batch, head) slice at one position i:
    ///
    ///     S_i = S_{i-1} + φ(k_i) v_iᵀ,   Z_i = Z_{i-1} + φ(k_i),   out_i = φ(q_i)ᵀ S_i / (φ(q_i)·Z_i + ε)
    ///
    /// `state` is S (`[d, d]`), updated in place; `keySum` is Z (`d`), updated in place; `phiQ`, `phiK`
    /// are `d`-float scratch rows; q, k, v, out are `d` floats. Cost `4·d² + 3·d` FLOPs and one pass
    /// over S (the update of row l is fused with its use in the output). The causal forward kernel and
    /// the decoder (``RecurrentDecoder``) both run this, so decoding equals the causal forward exactly.
    @inline(__always)
    static func recurrentStep(
        state S: MatrixView, keySum z: UnsafeMutablePointer<Float>,
        phiQ: UnsafeMutablePointer<Float>, phiK: UnsafeMutablePointer<Float>,
        q: UnsafeMutablePointer<Float>, k: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
        out: UnsafeMutablePointer<Float>, epsilon: Float
    ) {
        let d = S.cols
        FeatureMap.apply(k, into: phiK, count: d)
        FeatureMap.apply(q, into: phiQ, count: d)
        for c in 0..<d { out[c] = 0 }
        var denominator: Float = 0
        for l in 0..<d {
            // [d]⊗[d] → row l of [d, d], fused with out_i += φ(q_i)_l · S_i[l, :]
            let srow = S.row(l)
            let (a, p) = (phiK[l], phiQ[l])
            for c in 0..<d {
                srow[c] += a * v[c]
                out[c] += p * srow[c]
            }
            z[l] += a
            denominator += p * z[l]
        }
        let inverse = 1 / (denominator + epsilon)
        for c in 0..<d { out[c] *= inverse }
    }

    /// `b·h·(4·n·d² + 3·n·d)` FLOPs; intermediates `b·h·(d² + 3d)` floats (causal) or
    /// `b·h·(2nd + d² + d)` (non-causal); output `b·h·n·d`.
    public func cost(for shape: AttentionShape) -> AttentionCost {
        let (n, d) = (shape.length, shape.headDim)
        let perSlice = isCausal
            ? Int.saturatingSum(.saturatingProduct(d, d), .saturatingProduct(3, d))  // S, Z, φ(q_i), φ(k_i)
            : Int.saturatingSum(.saturatingProduct(2, n, d), .saturatingProduct(d, d), d)  // φ(Q), φ(K), S, Z
        let (nd, dd) = (Double(n), Double(d))
        return AttentionCost(
            flops: Double(shape.batch) * Double(shape.heads) * (4 * nd * dd * dd + 3 * nd * dd),
            intermediateBytes: AttentionCost.floats(shape.slices, perSlice),
            outputBytes: AttentionCost.floats(shape.slices, n, d))
    }
}

/// φ(x) = elu(x) + 1 = x + 1 for x > 0, eˣ for x ≤ 0: positive, smooth, and cheap.
public enum FeatureMap {
    /// φ of a scalar (used by the reference and by tests).
    @inline(__always)
    public static func phi(_ x: Float) -> Float { x > 0 ? x + 1 : Softmax.exp(Softmax.Vector(repeating: x))[0] }

    /// `dst[c] = φ(src[c])` for `c < count`, 16 lanes at a time.
    @inline(__always)
    public static func apply(_ src: UnsafeMutablePointer<Float>, into dst: UnsafeMutablePointer<Float>, count: Int) {
        typealias V = Softmax.Vector
        var c = 0
        while c + V.scalarCount <= count {
            let x = Softmax.load(src + c)
            Softmax.store(phi(x), dst + c)
            c += V.scalarCount
        }
        if c < count {
            let y = phi(Softmax.loadPartial(src + c, count - c, padding: 0))
            for t in 0..<(count - c) { dst[c + t] = y[t] }
        }
    }

    /// φ of every element of `src` into `dst` (same shape).
    public static func apply(_ src: MatrixView, into dst: MatrixView) {
        precondition(src.rows == dst.rows && src.cols == dst.cols, "feature map: shapes differ")
        for i in 0..<src.rows { apply(src.row(i), into: dst.row(i), count: src.cols) }
    }

    /// φ′(x) from the value φ(x): 1 for x > 0, where φ(x) = x + 1 > 1, and eˣ = φ(x) for x ≤ 0, where
    /// φ(x) ≤ 1; so min(φ(x), 1), with no second `exp` and no branch. NaN stays NaN (`min` returns
    /// its first argument unless the second is smaller).
    @inline(__always)
    public static func derivative(fromValue phi: Float) -> Float { min(phi, 1) }

    /// `sums[c] = Σ_i m[i, c]`: the column sums of an `[n, d]` matrix.
    public static func columnSums(_ m: MatrixView, into sums: UnsafeMutablePointer<Float>) {
        for c in 0..<m.cols { sums[c] = 0 }
        for i in 0..<m.rows {
            let row = m.row(i)
            for c in 0..<m.cols { sums[c] += row[c] }
        }
    }

    @inline(__always)
    static func phi(_ x: Softmax.Vector) -> Softmax.Vector {
        Softmax.exp(x).replacing(with: x + 1, where: x .> 0)
    }
}
