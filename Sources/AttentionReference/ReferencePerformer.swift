import AttentionKernels

#if canImport(Glibc)
    import Glibc
#endif

/// Performer's FAVOR+ in Float64 over the kernel's own features W (float32 values, exact here).
extension ReferenceAttention {
    /// The forward of ``PerformerAttention`` on one slice: its features in Float64, then linear
    /// attention's contraction (``contractSlice(phiQ:phiK:v:causal:epsilon:featureRounding:)``).
    ///
    /// Feature bounds, per feature l of a row x (relative, first order): the logit u_l = Σ_c x_c W_lc
    /// errs by γ(d)·Σ_c|x_c W_lc| + Σ_c δx_c|W_lc|; a key's ‖x′‖²/2 = h by (γ(d) + 3u)·h + Σ_c |x_c|δx_c/√d
    /// (the kernel's factor 0.5/√d rounds twice, the product once);
    /// each subtraction rounds once (u·|result|); exp and the 1/√m factor are the contraction's
    /// `featureRounding` (4u + u). The shifts (a query row's largest logit, the keys' largest) are
    /// common factors that cancel in the ratio (but for ε), so the reference takes its own.
    static func performerSlice(_ x: SliceInputs, kernel: PerformerAttention) -> Bounded {
        let (q, k, v) = x
        let w = kernel.features.projection.matrix(0)
        return contractSlice(
            phiQ: favorFeatures(q, w, query: true), phiK: favorFeatures(k, w, query: false), v: v,
            causal: kernel.isCausal, epsilon: Double(kernel.epsilon), featureRounding: elementwiseError + u)
    }

    /// φ(x) of every row of `x` (`[n, d]`) for the features W (`[m, d]`), with bounds (see above).
    static func favorFeatures(_ x: Bounded, _ w: MatrixView, query: Bool) -> Bounded {
        let (n, d, m) = (x.rows, x.cols, w.rows)
        var logits = Bounded(rows: n, cols: m)
        let root = Double(d).squareRoot()
        for i in 0..<n {
            var (norm, normError) = (0.0, 0.0)
            for c in 0..<d {
                norm += x[i, c] * x[i, c]
                normError += abs(x[i, c]) * x.bound(i, c)
            }
            let half = query ? 0 : norm / (2 * root)
            let halfError = query ? 0 : (gamma(d) + 3 * u) * half + normError / root
            for l in 0..<m {
                var (value, magnitude, propagated) = (0.0, 0.0, 0.0)
                for c in 0..<d {
                    let wc = Double(w[l, c])
                    value += x[i, c] * wc
                    magnitude += abs(x[i, c] * wc)
                    propagated += x.bound(i, c) * abs(wc)
                }
                let shifted = value - half
                (logits.values[i * m + l], logits.bounds[i * m + l]) = (
                    shifted, gamma(d) * magnitude + propagated + halfError + u * abs(shifted)
                )
            }
        }
        var features = Bounded(rows: n, cols: m)
        let scale = 1 / Double(m).squareRoot()
        let keyShift = logits.values.max() ?? 0
        for i in 0..<n {
            let row = logits.values[(i * m)..<((i + 1) * m)]
            let shift = query ? (row.max() ?? 0) : keyShift
            for l in 0..<m {
                let (t, error) = (logits[i, l] - shift, logits.bound(i, l))
                let value = exp(t) * scale
                (features.values[i * m + l], features.bounds[i * m + l]) = (value, value * (error + u * abs(t)))
            }
        }
        return features
    }
}
