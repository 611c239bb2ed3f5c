/// Linear attention (Katharopoulos et al. 2020, "Transformers are RNNs") with φ(x) = elu(x) + 1:
///
///     out_i = φ(q_i)ᵀ (Σ_j φ(k_j) v_jᵀ) / (φ(q_i)ᵀ Σ_j φ(k_j) + ε)
///
/// where the sums run over all j (non-causal) or j ≤ i (causal, the running sums S_i and Z_i).
///
/// Cost per call: `b·h·(4·n·d² + 3·n·d)` FLOPs, O(n d²) time (the causal chunked form computes
/// `4·n·C·d` more, see ``chunkedCausal(q:k:v:shape:chunk:)``). Extra memory: non-causal holds
/// φ(Q), φ(K) (`[b, h, n, d]` each), the state `Σ φ(k_j) v_jᵀ` (`[b, h, d, d]`) and `Σ φ(k_j)`
/// (`[b, h, d]`); causal holds the running S (`[b, h, d, d]`) and Z (`[b, h, d]`) and, per slice,
/// φ of one chunk of C query and key rows and their `[C, C]` products (recurrent: of one row):
/// never n×d×d.
/// Numerics: φ > 0 everywhere, so the denominator is a sum of positive terms (no cancellation)
/// and ε = 1e-6 (fast-transformers' value) only guards an underflowed φ.
public struct LinearAttention: AttentionKernel {
    public let isCausal: Bool
    public let epsilon: Float
    /// Causal form: nil (the default) for the sequential recurrence
    /// (``recurrentStep(state:keySum:phiQ:phiK:q:k:v:out:epsilon:)``, what the decoder runs), or
    /// rows per chunk of the chunked form (``chunkedCausal(q:k:v:shape:chunk:)``), slower on the
    /// CPUs measured (`Results/NOTES-kernels.md`).
    public let chunk: Int?
    public var mechanism: Mechanism { .linear }
    public var name: String {
        "linear" + (isCausal ? (chunk.map { " (causal, C=\($0))" } ?? " (causal)") : "")
    }

    /// The chunk size that was fastest for the chunked causal form (`Results/NOTES-kernels.md`).
    public static let bestChunk = 32

    public init(causal: Bool = false, epsilon: Float = 1e-6, chunk: Int? = nil) {
        precondition(chunk.map { $0 >= 1 } ?? true, "linear attention: a chunk has at least 1 row")
        isCausal = causal
        self.epsilon = epsilon
        self.chunk = causal ? chunk : nil
    }

    public func callAsFunction(q: Tensor, k: Tensor, v: Tensor) -> Tensor {
        let shape = checkedShape(q: q, k: k, v: v)
        precondition(shape.headDim >= 1, "\(name): head dimension must be at least 1")
        guard isCausal else { return nonCausal(q: q, k: k, v: v, shape: shape).output }
        if let chunk { return chunkedCausal(q: q, k: k, v: v, shape: shape, chunk: chunk) }
        return causal(q: q, k: k, v: v, shape: shape)
    }

    /// The non-causal forward pass, with its intermediates φ(Q), φ(K), the state and Σ φ(k_j)
    /// (``Saved/Features``): ``callAsFunction(q:k:v:)`` frees them on return,
    /// ``trainingForward(q:k:v:)`` keeps them for the backward pass.
    func nonCausal(q: Tensor, k: Tensor, v: Tensor, shape: AttentionShape) -> (output: Tensor, features: Saved.Features)
    {
        let d = shape.headDim
        let phiQ = Tensor(uninitialized: shape.dims, label: "φ(Q)")  // [b, h, n, d]
        let phiK = Tensor(uninitialized: shape.dims, label: "φ(K)")  // [b, h, n, d]
        let state = Tensor(uninitialized: [shape.batch, shape.heads, d, d], label: "state φ(K)ᵀV")  // [b, h, d, d]
        let keySum = Tensor(uninitialized: [shape.batch, shape.heads, 1, d], label: "key sum Σφ(K)")  // [b, h, 1, d]
        let out = Tensor(uninitialized: shape.dims, label: "output")  // [b, h, n, d]

        let eps = epsilon
        ComputeThreads.forEachSlice(shape.slices) { s, _ in
            let (fq, fk) = (phiQ.matrix(s), phiK.matrix(s))
            var clock = PhaseClock.start()
            // pass 1: feature maps, element-wise.
            FeatureMap.apply(q.matrix(s), into: fq)
            FeatureMap.apply(k.matrix(s), into: fk)
            clock.lap(Self.phases.features)
            Self.contract(
                phiQ: fq, phiK: fk, v: v.matrix(s), state: state.matrix(s), keySum: keySum.matrix(s).row(0),
                into: out.matrix(s), epsilon: eps)
        }
        return (out, Saved.Features(phiQ: phiQ, phiK: phiK, state: state, keySum: keySum))
    }

    /// The non-causal contraction of one slice, given its features (the feature-map seam: linear
    /// attention's φ = elu + 1 with m = d, Performer's m random features): with Φq, Φk `[n, m]`,
    ///
    ///     z = Σ_j φ(k_j),  S = Φkᵀ V,  out_i = φ(q_i)ᵀ S / (φ(q_i)·z + ε)
    ///
    /// `4·n·m·d + 3·n·m` FLOPs; writes `state` (`[m, d]`), `keySum` (m floats) and `out` (`[n, d]`).
    @inline(__always)
    package static func contract(
        phiQ fq: MatrixView, phiK fk: MatrixView, v: MatrixView, state: MatrixView,
        keySum z: UnsafeMutablePointer<Float>,
        into o: MatrixView, epsilon eps: Float
    ) {
        let (n, m, d) = (fq.rows, fq.cols, o.cols)
        var clock = PhaseClock.start()
        FeatureMap.columnSums(fk, into: z)
        // the shared state, then every query against it.
        // [m, n]·[n, d] → [m, d]
        BLAS.gemm(fk, transposeA: true, v, into: state)
        clock.lap(phases.state)
        // [n, m]·[m, d] → [n, d]
        BLAS.gemm(fq, state, into: o)
        clock.lap(phases.queries)
        // normalise each row by φ(q_i)·Σφ(k_j) + ε.
        for i in 0..<n {
            let phiRow = fq.row(i)
            var denominator: Float = 0
            for c in 0..<m { denominator += phiRow[c] * z[c] }
            Softmax.divide(o.row(i), count: d, by: denominator + eps)
        }
        clock.lap(phases.division)
    }

    /// The passes of the non-causal forward and of the chunked causal one, as `attnbench profile`
    /// names them (Performer's contraction shares them).
    static let phases = (
        features: Phase.named("φ"), state: Phase.named("φ(K)ᵀV, Σφ(K)"), queries: Phase.named("φ(Q)·S"),
        division: Phase.named("division"), withinChunk: Phase.named("A = φ(Q)φ(K)ᵀ, mask, normaliser"),
        chunkValues: Phase.named("A·V and division"), recurrence: Phase.named("recurrence")
    )

    /// The causal form in chunks of C rows (the GLA paper's chunkwise form, arXiv 2312.06635): for
    /// chunk i, with Φq = φ(Q_i), Φk = φ(K_i) (`[C, d]`) and the state S, Z of every earlier chunk,
    ///
    ///     A = tril(Φq Φkᵀ)                    [C, d]·[d, C] → [C, C], j ≤ i kept
    ///     O_i = (Φq S + A V_i) / (Φq Z + rowsum A + ε)
    ///     S ← S + Φkᵀ V_i,   Z ← Z + colsum Φk
    ///
    /// so the sequential recurrence becomes four GEMMs per chunk (`[C,d]·[d,d]`, `[C,d]·[d,C]`,
    /// `[C,C]·[C,d]`, `[d,C]·[C,d]`): `4·C·d² + 4·C²·d` FLOPs per chunk, `4·d·C` per row more than
    /// the recurrence, at GEMM speed instead of one pass over S per row. The same sums in another
    /// order, so it meets the reference's bound as the recurrence does (every term is a product of
    /// positive φ's and a value; no cancellation is introduced).
    ///
    /// The recurrence's step is one fused pass over an S that stays in L1, and the chunks' products
    /// are thin for OpenBLAS against the `4·C·d` FLOPs per row they add; on the CPUs measured the
    /// recurrence is faster (`Results/NOTES-kernels.md`), so it stays the default, and this form
    /// (best at ``bestChunk``) is kept, verified, for machines where small GEMMs are cheaper.
    ///
    /// Non-finite values: a masked product is 0 and 0·NaN = NaN, so a chunk whose V_i holds a NaN
    /// or ±inf runs the recurrence instead, row by row, which only reaches rows j ≤ i.
    private func chunkedCausal(q: Tensor, k: Tensor, v: Tensor, shape: AttentionShape, chunk: Int) -> Tensor {
        let (n, d) = (shape.length, shape.headDim)
        let c = min(chunk, max(n, 1))
        let state = Tensor(zeros: [shape.batch, shape.heads, d, d], label: "state S")  // S: [b, h, d, d]
        let keySum = Tensor(zeros: [shape.batch, shape.heads, 1, d], label: "key sum Z")  // Z: [b, h, 1, d]
        // per slice: φ(Q_i) [C, d], φ(K_i) [C, d], A [C, C], then C denominators.
        let scratch = Tensor(
            uninitialized: [
                shape.batch, shape.heads, 1, Self.chunkScratchFloats(chunk: c, headDim: d),
            ], label: "chunk scratch")
        let out = Tensor(uninitialized: shape.dims, label: "output")  // [b, h, n, d]
        let eps = epsilon

        ComputeThreads.forEachSlice(shape.slices) { s, _ in
            let (qs, ks, vs, os) = (q.matrix(s), k.matrix(s), v.matrix(s), out.matrix(s))
            let (S, z) = (state.matrix(s), keySum.matrix(s).row(0))
            let base = scratch.matrix(s).row(0)
            var clock = PhaseClock.start()
            for start in stride(from: 0, to: n, by: c) {
                let rows = min(c, n - start)
                let fq = MatrixView(base: base, rows: rows, cols: d)
                let fk = MatrixView(base: base + c * d, rows: rows, cols: d)
                let a = MatrixView(base: base + 2 * c * d, rows: rows, cols: rows)
                let denominators = base + 2 * c * d + c * c
                let (values, o) = (
                    MatrixView(base: vs.row(start), rows: rows, cols: d),
                    MatrixView(base: os.row(start), rows: rows, cols: d)
                )
                guard values.allFinite() else {
                    // the recurrence for this chunk (it also brings S and Z past it).
                    for i in 0..<rows {
                        Self.recurrentStep(
                            state: S, keySum: z, phiQ: fq.row(0), phiK: fk.row(0),
                            q: qs.row(start + i), k: ks.row(start + i), v: vs.row(start + i), out: os.row(start + i),
                            epsilon: eps)
                    }
                    clock.lap(Self.phases.recurrence)
                    continue
                }
                FeatureMap.apply(MatrixView(base: qs.row(start), rows: rows, cols: d), into: fq)
                FeatureMap.apply(MatrixView(base: ks.row(start), rows: rows, cols: d), into: fk)
                clock.lap(Self.phases.features)
                // [rows, d]·[d, d] → [rows, d]: what the earlier chunks contribute.
                BLAS.gemm(fq, S, into: o)
                clock.lap(Self.phases.queries)
                // [rows, d]·[d, rows] → [rows, rows], then the future (j > i) masked to exactly 0.
                BLAS.gemm(fq, fk, transposeB: true, into: a)
                for i in 0..<rows {
                    let row = a.row(i)
                    var sum: Float = 0
                    for j in 0...i { sum += row[j] }
                    if i + 1 < rows { (row + i + 1).update(repeating: 0, count: rows - i - 1) }
                    let phiRow = fq.row(i)
                    var earlier: Float = 0
                    for l in 0..<d { earlier += phiRow[l] * z[l] }
                    denominators[i] = earlier + sum + eps
                }
                clock.lap(Self.phases.withinChunk)
                // [rows, rows]·[rows, d] → [rows, d], onto the earlier chunks' part.
                BLAS.gemm(a, values, into: o, beta: 1)
                for i in 0..<rows { Softmax.divide(o.row(i), count: d, by: denominators[i]) }
                clock.lap(Self.phases.chunkValues)
                // [d, rows]·[rows, d] → [d, d]: the state after this chunk.
                BLAS.gemm(fk, transposeA: true, values, into: S, beta: 1)
                for i in 0..<rows {
                    let phiRow = fk.row(i)
                    for l in 0..<d { z[l] += phiRow[l] }
                }
                clock.lap(Self.phases.state)
            }
        }
        return out
    }

    /// Floats of one slice's chunk scratch: φ(Q_i), φ(K_i) (`C·d` each), A (`C²`), C denominators.
    static func chunkScratchFloats(chunk c: Int, headDim d: Int) -> Int {
        .saturatingSum(.saturatingProduct(2, c, d), .saturatingProduct(c, c), c)
    }

    func causal(q: Tensor, k: Tensor, v: Tensor, shape: AttentionShape) -> Tensor {
        let (n, d) = (shape.length, shape.headDim)
        let state = Tensor(zeros: [shape.batch, shape.heads, d, d], label: "state S_i")  // S_i: [b, h, d, d]
        let keySum = Tensor(zeros: [shape.batch, shape.heads, 1, d], label: "key sum Z_i")  // Z_i: [b, h, 1, d]
        // φ(q_i), φ(k_i)
        let phiRows = Tensor(uninitialized: [shape.batch, shape.heads, 2, d], label: "φ(q_i), φ(k_i) rows")
        let out = Tensor(uninitialized: shape.dims, label: "output")  // [b, h, n, d]
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
                var clock = PhaseClock.start()
                for i in 0..<n {
                    Self.recurrentStep(
                        state: S, keySum: z, phiQ: phiQ, phiK: phiK,
                        q: qs.row(i), k: ks.row(i), v: vs.row(i), out: os.row(i), epsilon: eps)
                }
                clock.lap(Self.phases.recurrence)
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
    package static func recurrentStep(
        state S: MatrixView, keySum z: UnsafeMutablePointer<Float>,
        phiQ: UnsafeMutablePointer<Float>, phiK: UnsafeMutablePointer<Float>,
        q: UnsafeMutablePointer<Float>, k: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
        out: UnsafeMutablePointer<Float>, epsilon: Float
    ) {
        let d = S.cols
        FeatureMap.apply(k, into: phiK, count: d)
        FeatureMap.apply(q, into: phiQ, count: d)
        prefixStep(state: S, keySum: z, phiQ: phiQ, phiK: phiK, v: v, out: out, epsilon: epsilon)
    }

    /// One step of the causal recurrence given the features of position i (the feature-map seam:
    /// ``recurrentStep(state:keySum:phiQ:phiK:q:k:v:out:epsilon:)`` with φ = elu + 1, Performer's
    /// causal form with its m random features): S (`[m, d]`) and z (m floats) updated in place,
    /// `out` (d floats) = φ(q_i)ᵀ S_i / (φ(q_i)·z_i + ε). `4·m·d + 2·m` FLOPs, one pass over S.
    @inline(__always)
    package static func prefixStep(
        state S: MatrixView, keySum z: UnsafeMutablePointer<Float>,
        phiQ: UnsafeMutablePointer<Float>, phiK: UnsafeMutablePointer<Float>,
        v: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>, epsilon: Float
    ) {
        let (m, d) = (S.rows, S.cols)
        for c in 0..<d { out[c] = 0 }
        var denominator: Float = 0
        for l in 0..<m {
            // [m]⊗[d] → row l of [m, d], fused with out_i += φ(q_i)_l · S_i[l, :]
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

    /// The products a call runs through OpenBLAS, per slice: non-causal φ(K)ᵀ V, [d, n]·[n, d] → [d, d], and
    /// φ(Q) S, [n, d]·[d, d] → [n, d]; chunked causal, per chunk of r rows, φ(Q_i) S, [r, d]·[d, d] → [r, d],
    /// φ(Q_i) φ(K_i)ᵀ, [r, d]·[d, r] → [r, r], A V_i, [r, r]·[r, d] → [r, d], and φ(K_i)ᵀ V_i,
    /// [d, r]·[r, d] → [d, d]; the recurrence none (its `4·d²` per step is one fused loop over S).
    public func products(for shape: AttentionShape) -> [GemmShape] {
        let (n, d, slices) = (shape.length, shape.headDim, shape.slices)
        guard isCausal else {
            return [
                GemmShape(m: d, k: n, n: d, transposeA: true, count: slices),  // [d, n]·[n, d] → [d, d]
                GemmShape(m: n, k: d, n: d, count: slices),
            ]  // [n, d]·[d, d] → [n, d]
        }
        guard let chunk else { return [] }
        let c = min(chunk, max(n, 1))
        let chunks = [(rows: c, count: n / c), (rows: n % c, count: n % c == 0 ? 0 : 1)].filter { $0.count > 0 }
        return chunks.flatMap { r, count in
            [
                GemmShape(m: r, k: d, n: d, count: slices * count),
                GemmShape(m: r, k: d, n: r, transposeB: true, count: slices * count),
                GemmShape(m: r, k: r, n: d, count: slices * count),
                GemmShape(m: d, k: r, n: d, transposeA: true, count: slices * count),
            ]
        }
    }

    /// The normaliser's FLOPs, outside any product: Σ φ(k_j) (`n·d` additions) and φ(q_i)·Σ φ(k_j)
    /// (`2·n·d`) per slice, `3·b·h·n·d`.
    public static func normaliserFlops(for shape: AttentionShape) -> Double {
        Double(shape.batch) * Double(shape.heads) * 3 * Double(shape.length) * Double(shape.headDim)
    }

    /// `b·h·(4·n·d² + 3·n·d)` FLOPs, plus `b·h·4·d·Σ rows²` for the chunked causal form's products
    /// within chunks (C' = min(C, n) rows each, the last one n mod C'); intermediates `b·h·(2nd + d² + d)` floats (non-causal),
    /// `b·h·(d² + d + 2C'd + C'² + C')` (chunked causal) or `b·h·(d² + 3d)` (recurrent); output `b·h·n·d`.
    public func cost(for shape: AttentionShape) -> AttentionCost {
        let (n, d) = (shape.length, shape.headDim)
        let c = chunk.map { min($0, max(n, 1)) }
        let perSlice =
            if !isCausal {
                Int.saturatingSum(.saturatingProduct(2, n, d), .saturatingProduct(d, d), d)  // φ(Q), φ(K), S, Z
            } else if let c {
                // S, Z, chunk
                Int.saturatingSum(.saturatingProduct(d, d), d, Self.chunkScratchFloats(chunk: c, headDim: d))
            } else {
                Int.saturatingSum(.saturatingProduct(d, d), .saturatingProduct(3, d))  // S, Z, φ(q_i), φ(k_i)
            }
        let (nd, dd) = (Double(n), Double(d))
        let withinChunks =
            c.map { c in  // Σ over chunks of 4·rows²·d: A = Φq Φkᵀ and A V
                4 * dd * (Double(n / c) * Double(c) * Double(c) + Double(n % c) * Double(n % c))
            } ?? 0
        return AttentionCost(
            flops: Double(shape.batch) * Double(shape.heads) * (4 * nd * dd * dd + withinChunks)
                + Self.normaliserFlops(for: shape),
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
