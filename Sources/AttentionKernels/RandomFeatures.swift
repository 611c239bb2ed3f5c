#if canImport(Glibc)
    import Glibc
#endif

/// FAVOR+'s positive orthogonal random features (Choromanski et al. 2021, "Rethinking Attention with
/// Performers", Lemma 1 and §2.4): for x ∈ ℝ^d and m features,
///
///     φ(x)_l = exp(ω_lᵀ x′ − ‖x′‖²/2) / √m,   x′ = x · d^(−1/4)
///
/// so that E[φ(q)ᵀφ(k)] = exp(q′ᵀk′) = exp(qᵀk/√d), softmax's kernel. The ω_l are drawn in blocks of d
/// orthogonal rows (Gram–Schmidt on a Gaussian `[d, d]`, in Float64), each row rescaled to the norm of
/// an independent Gaussian d-vector (χ_d), so they are marginally Gaussian but orthogonal within a
/// block (the "orthogonal random features" that lower the estimator's variance); all from `seed`.
///
/// Stability (as performer-pytorch does): before `exp`, a query row is shifted by its own largest
/// logit, and all keys of a slice by one shared largest logit, so no feature exceeds 1/√m. Both
/// shifts cancel in attention's ratio (a common factor of a query's row, or of every key), and the
/// backward treats them as constants. A query's ‖x′‖²/2 is constant along its row too, so it
/// cancels with the row's shift and is not computed: φ(q)_l = exp(u_l − max u)/√m with u = W q.
///
/// Cost per `[n, d]` matrix: the logits `[n, d]·[d, m]` (`2·n·m·d` FLOPs), `n·m` exps and, for
/// keys, `2·n·d` for the norms; the chain rule of the backward is another `[n, m]·[m, d]` product.
public struct RandomFeatures: Sendable {
    /// m, the number of features.
    public let count: Int
    public let headDim: Int
    public let seed: UInt64
    /// W = d^(−1/4)·ω, `[1, 1, m, d]`: the logits are u = x Wᵀ = x′ ωᵀ.
    public let projection: Tensor

    /// `count` features for head dimension `headDim`, drawn from `seed`.
    public init(count: Int, headDim: Int, seed: UInt64) {
        precondition(count >= 1 && headDim >= 1, "random features: m and d are at least 1")
        (self.count, self.headDim, self.seed) = (count, headDim, seed)
        let rows = Self.orthogonalRows(count: count, headDim: headDim, seed: seed)
        let scale = 1 / Double(headDim).squareRoot().squareRoot()
        projection = Tensor(uninitialized: [1, 1, count, headDim], label: "projection ω")
        for l in 0..<count { for c in 0..<headDim { projection.data[l * headDim + c] = Float(rows[l][c] * scale) } }
    }

    /// ω, `m` rows of d: blocks of d orthonormal rows (modified Gram–Schmidt on Gaussian rows; the last
    /// block keeps the rows it needs), each scaled by the norm of a fresh Gaussian d-vector.
    public static func orthogonalRows(count m: Int, headDim d: Int, seed: UInt64) -> [[Double]] {
        var rng = SplitMix64(seed: seed)
        var rows: [[Double]] = []
        rows.reserveCapacity(m)
        while rows.count < m {
            var block: [[Double]] = []
            while block.count < d {
                var row = (0..<d).map { _ in rng.nextNormal() }
                for earlier in block {
                    let dot = zip(row, earlier).reduce(0) { $0 + $1.0 * $1.1 }
                    for c in 0..<d { row[c] -= dot * earlier[c] }
                }
                let norm = row.reduce(0) { $0 + $1 * $1 }.squareRoot()
                guard norm > 1e-6 else { continue }  // a draw (numerically) in the span of the block: draw again
                block.append(row.map { $0 / norm })
            }
            rows += block.prefix(m - rows.count)
        }
        return rows.map { row in
            let chi = (0..<d).map { _ in rng.nextNormal() }.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return row.map { $0 * chi }
        }
    }

    /// 1/√m, every feature's factor.
    var scale: Float { 1 / Float(count).squareRoot() }

    /// The features of the rows of `x` (`[n, d]`) into `phi` (`[n, m]`): queries shifted row by row,
    /// keys by one shift for the whole matrix (see the type's comment).
    public func apply(_ x: MatrixView, into phi: MatrixView, query: Bool) {
        precondition(x.cols == headDim && phi.cols == count && phi.rows == x.rows, "random features: shapes differ")
        let w = projection.matrix(0)
        // [n, d]·[m, d]ᵀ → [n, m]: the logits u = x Wᵀ.
        BLAS.gemm(x, w, transposeB: true, into: phi)
        let (n, m) = (x.rows, count)
        if query {
            for i in 0..<n {
                Self.exponentiate(phi.row(i), count: m, shift: Self.maximum(phi.row(i), count: m), scale: scale)
            }
            return
        }
        // keys: u − ‖x′‖²/2 per row, then one shift, the largest of them all.
        let half = 0.5 / Float(headDim).squareRoot()
        var shift = -Float.infinity
        for i in 0..<n {
            let (row, norm) = (phi.row(i), half * Lanes.dot(x.row(i), x.row(i), count: headDim))
            for l in 0..<m { row[l] -= norm }
            shift = Swift.max(shift, Self.maximum(row, count: m))
        }
        for i in 0..<n { Self.exponentiate(phi.row(i), count: m, shift: shift, scale: scale) }
    }

    /// The chain rule through ``apply(_:into:query:)`` with its shifts held constant: from ∇φ
    /// (`[n, m]`, overwritten by dU = ∇φ ∘ φ) and the features φ, writes
    ///
    ///     dX = dU W  − (keys only) (Σ_l dU_l) · x/√d          [n, m]·[m, d] → [n, d]
    ///
    /// (the second term is ‖x′‖²/2's derivative; a query's cancels with its shift). `2·n·m·d + 2·n·m`
    /// FLOPs, `+ 3·n·d` for keys.
    public func backward(
        featureGradient dPhi: MatrixView, features phi: MatrixView, input x: MatrixView, query: Bool,
        into dx: MatrixView
    ) {
        let (n, m, d) = (phi.rows, count, headDim)
        let inverseRoot = 1 / Float(d).squareRoot()
        for i in 0..<n {
            let (g, f) = (dPhi.row(i), phi.row(i))
            for l in 0..<m { g[l] *= f[l] }
        }
        // [n, m]·[m, d] → [n, d]
        BLAS.gemm(dPhi, projection.matrix(0), into: dx)
        guard !query else { return }
        for i in 0..<n {
            let (g, row, input) = (dPhi.row(i), dx.row(i), x.row(i))
            var total: Float = 0
            for l in 0..<m { total += g[l] }
            let factor = total * inverseRoot
            for c in 0..<d { row[c] -= factor * input[c] }
        }
    }

    /// The largest of `count` floats (NaN if any is NaN, so a NaN input poisons its row as the
    /// formula does).
    static func maximum(_ x: UnsafeMutablePointer<Float>, count: Int) -> Float {
        var result = -Float.infinity
        for l in 0..<count {
            if x[l].isNaN { return .nan }
            result = Swift.max(result, x[l])
        }
        return result
    }

    /// `x[l] ← exp(x[l] − shift) · scale`, 16 lanes at a time.
    @inline(__always)
    static func exponentiate(_ x: UnsafeMutablePointer<Float>, count: Int, shift: Float, scale: Float) {
        typealias V = Softmax.Vector
        let (s, factor) = (V(repeating: shift), V(repeating: scale))
        var l = 0
        while l + V.scalarCount <= count {
            Softmax.store(Softmax.exp(Softmax.load(x + l) - s) * factor, x + l)
            l += V.scalarCount
        }
        if l < count {
            let e = Softmax.exp(Softmax.loadPartial(x + l, count - l, padding: 0) - s) * factor
            for t in 0..<(count - l) { x[l + t] = e[t] }
        }
    }
}
