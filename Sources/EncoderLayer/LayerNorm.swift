import AttentionKernels

/// Layer normalisation over the D features of each token row (Ba, Kiros & Hinton 2016), as BERT
/// and RoBERTa apply it after each residual sum:
///
///     μ = Σ_c z_c / D,   σ² = Σ_c (z_c − μ)² / D,   x̂_c = (z_c − μ) / √(σ² + ε),   y_c = γ_c·x̂_c + β_c
///
/// with ε = 1e-5 (RoBERTa's; PyTorch's default). Backward, for g = ∂L/∂y and r = 1/√(σ² + ε):
///
///     t_c = γ_c·g_c,   dz_c = r·(t_c − mean(t) − x̂_c·mean(t ∘ x̂)),   dγ = Σ_rows g ∘ x̂,   dβ = Σ_rows g
///
/// Cost: about 8·D element-wise operations per row forward and 10·D backward (not counted as FLOPs,
/// like the softmax: ``AttentionCost``), next to the layer's O(D²) products per row.
///
/// Numerics: the **two-pass** mean and variance (the mean first, then Σ(z − μ)²), not the one-pass
/// E[z²] − E[z]², which cancels catastrophically when |μ| ≫ σ, and not Welford's update, whose
/// division per element costs more and whose accuracy, for a row that fits in L1, is no better
/// than two passes (Higham §1.9). The variance is a sum of squares (no cancellation), so its
/// relative error is γ(D+1) plus 2·|δμ|·mean|z − μ|/σ² from the mean's rounding (which first-order
/// theory says cancels: Σ(z − μ) = 0); ``ReferenceLayer/layerNorm(_:gamma:beta:)`` derives the
/// whole bound. Rows are independent: a row's sums run in one fixed order (16 lanes, then their
/// tree), so the result does not depend on the thread count.
package enum LayerNorm {
    /// ε under the square root (RoBERTa's 1e-5, as a float: within u of 1e-5).
    static let epsilon: Float = 1e-5

    typealias Vector = Softmax.Vector

    /// Σ_c x[c] over `count` floats: 16-lane partial sums, then their tree (``Lanes/total(_:)``).
    @inline(__always)
    static func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var lanes = Vector()
        var c = 0
        while c + Vector.scalarCount <= count {
            lanes += Softmax.load(UnsafeMutablePointer(mutating: x) + c)
            c += Vector.scalarCount
        }
        var total = Lanes.total(lanes)
        while c < count {
            total += x[c]
            c += 1
        }
        return total
    }

    /// One row, in place: `z` (D floats) becomes y = γ ∘ x̂ + β. With `normalized`, x̂ is also stored
    /// there, and with `inverseStd`, r = 1/√(σ² + ε) (the backward reads both).
    @inline(__always)
    static func forward(
        _ z: UnsafeMutablePointer<Float>, count d: Int, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
        normalized: UnsafeMutablePointer<Float>?, inverseStd: UnsafeMutablePointer<Float>?
    ) {
        // pass 1: the mean.
        let mean = sum(z, count: d) / Float(d)
        // pass 2: the variance about it, as a sum of squares.
        var lanes = Vector()
        let shift = Vector(repeating: mean)
        var c = 0
        while c + Vector.scalarCount <= d {
            let centred = Softmax.load(z + c) - shift
            lanes = lanes.addingProduct(centred, centred)
            c += Vector.scalarCount
        }
        var squares = Lanes.total(lanes)
        while c < d {
            let centred = z[c] - mean
            squares += centred * centred
            c += 1
        }
        let r = 1 / (squares / Float(d) + epsilon).squareRoot()
        inverseStd?.pointee = r
        // pass 3: normalise, scale and shift.
        for c in 0..<d {
            let x = (z[c] - mean) * r
            normalized?[c] = x
            z[c] = gamma[c] * x + beta[c]
        }
    }

    /// ``forward(_:count:gamma:beta:normalized:inverseStd:)`` on every row of `z` (`[T, D]`), rows
    /// split across threads; `normalized` is `[T, D]`, `inverseStd` holds T floats.
    package static func forward(
        rows z: MatrixView, gamma: Tensor, beta: Tensor, normalized: MatrixView? = nil,
        inverseStd: UnsafeMutablePointer<Float>? = nil
    ) {
        precondition(gamma.count == z.cols && beta.count == z.cols, "layer norm: γ, β must have D = \(z.cols) entries")
        ComputeThreads.parallelFor(z.rows) { range in
            for i in range {
                forward(
                    z.row(i), count: z.cols, gamma: gamma.data, beta: beta.data,
                    normalized: normalized?.row(i), inverseStd: inverseStd.map { $0 + i })
            }
        }
    }

    /// dz for every row from g = ∂L/∂y (`gradient`, `[T, D]`), the saved x̂ and r: `into` may be
    /// `gradient` itself (each element is read before it is written).
    static func backward(
        rows gradient: MatrixView, normalized: MatrixView, inverseStd: UnsafePointer<Float>, gamma: Tensor,
        into dz: MatrixView
    ) {
        let d = gradient.cols
        ComputeThreads.parallelFor(gradient.rows) { range in
            for i in range {
                let (g, x, out) = (gradient.row(i), normalized.row(i), dz.row(i))
                // pass 1: mean(t) and mean(t ∘ x̂), t = γ ∘ g.
                var (lanes, weighted) = (Vector(), Vector())
                var c = 0
                while c + Vector.scalarCount <= d {
                    let t = Softmax.load(gamma.data + c) * Softmax.load(g + c)
                    lanes += t
                    weighted = weighted.addingProduct(t, Softmax.load(x + c))
                    c += Vector.scalarCount
                }
                var (m1, m2) = (Lanes.total(lanes), Lanes.total(weighted))
                while c < d {
                    let t = gamma.data[c] * g[c]
                    m1 += t
                    m2 += t * x[c]
                    c += 1
                }
                (m1, m2) = (m1 / Float(d), m2 / Float(d))
                // pass 2: dz = r·(t − mean(t) − x̂·mean(t ∘ x̂)).
                let r = inverseStd[i]
                for c in 0..<d { out[c] = r * ((gamma.data[c] * g[c] - m1) - x[c] * m2) }
            }
        }
    }

    /// dγ += Σ_rows g ∘ x̂ and dβ += Σ_rows g, over the rows in order (the same sums at any thread count).
    static func parameterGradients(gradient: MatrixView, normalized: MatrixView, dGamma: Tensor, dBeta: Tensor) {
        let d = gradient.cols
        let (dg, db) = (dGamma.data, dBeta.data)
        for i in 0..<gradient.rows {
            let (g, x) = (gradient.row(i), normalized.row(i))
            for c in 0..<d {
                dg[c] += g[c] * x[c]
                db[c] += g[c]
            }
        }
    }
}
