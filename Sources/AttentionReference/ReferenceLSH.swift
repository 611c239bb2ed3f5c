import AttentionKernels

/// The Float64 reference of Reformer's LSH attention (``LSHAttention``), over the kernel's own hashes.
///
/// The hashes are the kernel's (``LSHAttention/hashes(q:)``): a bucket is the arg-max of float32
/// projections, so a Float64 re-hash could put a token whose projections nearly tie elsewhere, and
/// the function is piecewise constant in them anyway. Given the sorted orders, everything else is
/// re-derived here in naive loops: the chunks and their look-one-back windows (``lshPairs(orders:chunk:causal:)``),
/// the masks, the shared-QK keys k̂_j = q_j/‖q_j‖ and one softmax per query over the multiset of
/// its (round, key) pairs, which is what combining the rounds by their log-sum-exp weights computes.
///
/// Bounds, on top of ``standard(q:k:v:causal:rescalings:)``'s derivation:
/// - k̂_j as the kernel forms it (a d-term sum of squares, a square root, a division and a product)
///   has relative error ≤ γ(d)/2 + 3u per element; an input q that already errs by δq adds
///   (δq_l + |k̂_l|·Σ_m |k̂_m| δq_m)/‖q‖ (first order, through k̂ = q/‖q‖). These key bounds enter the
///   scores as any key's (``attentionRow(_:q:keys:values:causal:rescalings:)``);
/// - a query sees its pairs as R blocks of one online softmax (one per round), so R − 1 rescalings,
///   and its sums run over P = (number of pairs) terms: the softmax row is over P columns.
extension ReferenceAttention {
    /// LSH attention in Float64 over `hashes` (the kernel's, from q, when nil).
    public static func lsh(q: Tensor, k: Tensor, v: Tensor, kernel: LSHAttention, hashes: LSHAttention.Hashes? = nil)
        -> Output
    {
        let shape = AttentionShape(of: q)
        let hashes = hashes ?? kernel.hashes(q: q)
        return perSlice(shape) { s in
            let orders = (0..<kernel.rounds).map { hashes.order(slice: s, round: $0) }
            return lshSlice(exactSlice(s, q, k, v), orders: orders, chunk: kernel.chunk, causal: kernel.isCausal)
        }
    }

    /// The keys each query attends to, one entry per (round, key) pair, rounds in order: for round r,
    /// query i at sorted index t sits in chunk ⌊t/C⌋ (C = min(chunk, n)) and sees the keys of that chunk
    /// and of the chunk before it (the last, for chunk 0; none when there is one chunk), except itself
    /// and (causal) later positions; none left, itself alone. `orders[r][t]` is the position at sorted
    /// index t. O(R·n·C) time.
    public static func lshPairs(orders: [[Int32]], chunk: Int, causal: Bool) -> [[Int]] {
        let n = orders.first?.count ?? 0
        guard n > 0 else { return [] }
        let c = min(chunk, n)
        let chunks = (n + c - 1) / c
        func sortedIndices(_ chunk: Int) -> Range<Int> { (chunk * c)..<min(chunk * c + c, n) }
        var pairs = [[Int]](repeating: [], count: n)
        for order in orders {
            for t in 0..<n {
                let (i, own) = (Int(order[t]), t / c)
                var window = Array(sortedIndices(own))
                if chunks > 1 { window = Array(sortedIndices(own == 0 ? chunks - 1 : own - 1)) + window }
                let keys = window.map { Int(order[$0]) }.filter { $0 != i && (!causal || $0 <= i) }
                pairs[i] += keys.isEmpty ? [i] : keys
            }
        }
        return pairs
    }

    /// One slice of LSH attention from inputs that may already err: each query's softmax over its
    /// pairs (``lshPairs(orders:chunk:causal:)``) with keys ``normalisedKeys(_:)``, by
    /// ``attentionRow(_:q:keys:values:causal:rescalings:)`` with R − 1 rescalings. K is not read.
    static func lshSlice(_ x: SliceInputs, orders: [[Int32]], chunk: Int, causal: Bool) -> Bounded {
        let (n, d) = (x.q.rows, x.q.cols)
        let keys = normalisedKeys(x.q)
        let pairs = lshPairs(orders: orders, chunk: chunk, causal: causal)
        var out = Bounded(rows: n, cols: d)
        for i in 0..<n {
            let row = attentionRow(
                0, q: rows(x.q, [i]), keys: rows(keys, pairs[i]), values: rows(x.v, pairs[i]), causal: false,
                rescalings: orders.count - 1)
            out.values.replaceSubrange((i * d)..<((i + 1) * d), with: row.values)
            out.bounds.replaceSubrange((i * d)..<((i + 1) * d), with: row.bounds)
        }
        return out
    }

    /// k̂_j = q_j/‖q_j‖ (0 for q_j = 0) with the bounds derived above.
    static func normalisedKeys(_ q: Bounded) -> Bounded {
        let (n, d) = (q.rows, q.cols)
        var keys = Bounded(rows: n, cols: d)
        let relative = gamma(d) / 2 + 3 * u
        for j in 0..<n {
            var squares = 0.0
            for l in 0..<d { squares += q[j, l] * q[j, l] }
            guard squares > 0 || !squares.isFinite else { continue }
            let norm = squares.squareRoot()  // NaN or +inf for a non-finite row: q_j/‖q_j‖ as IEEE gives it
            var along = 0.0  // Σ_m |k̂_m| δq_m
            for l in 0..<d { along += abs(q[j, l]) / norm * q.bound(j, l) }
            for l in 0..<d {
                let value = q[j, l] / norm
                keys.values[j * d + l] = value
                keys.bounds[j * d + l] = relative * abs(value) + (q.bound(j, l) + abs(value) * along) / norm
            }
        }
        return keys
    }

    /// Rows `indices` of a matrix (repeats allowed), with their bounds (none for an exact matrix).
    static func rows(_ m: Bounded, _ indices: [Int]) -> Bounded {
        var result = Bounded(rows: 0, cols: 0)
        (result.rows, result.cols) = (indices.count, m.cols)
        for i in indices { result.values += m.values[(i * m.cols)..<((i + 1) * m.cols)] }
        if !m.bounds.isEmpty { for i in indices { result.bounds += m.bounds[(i * m.cols)..<((i + 1) * m.cols)] } }
        return result
    }

    /// The sorted orders the kernel uses on a slice's q, hashed from its float32 rounding (exactly
    /// the kernel's input for exact inputs; a layer's Float64 Q may hash differently where the kernel's
    /// own Q sits near a bucket boundary).
    static func lshOrders(of kernel: LSHAttention, q: Bounded) -> [[Int32]] {
        let tensor = Tensor(shape: [1, 1, q.rows, q.cols], scalars: q.values.map { Float($0) }, label: "reference: q")
        let hashes = kernel.hashes(q: tensor)
        return (0..<kernel.rounds).map { hashes.order(slice: 0, round: $0) }
    }

    // MARK: - Gradients

    /// dQ, dK, dV of LSH attention over `hashes` (the kernel's, from q, when nil), for dO =
    /// `outputGradient`. Each query's softmax over its pairs is differentiated by
    /// ``softmaxSliceGradients(q:keys:values:outputGradient:causal:rescalings:logSumExp:)`` (one query
    /// row, its P pairs as keys and values; R − 1 rescalings; weights from the log-sum-exp, as the
    /// kernel forms them), its key and value gradients summed into each key position, then the
    /// shared-QK chain rule dq_j += (dk̂_j − k̂_j (k̂_j·dk̂_j))/‖q_j‖; dK is exactly zero.
    ///
    /// Bounds: the per-pair bounds add, plus γ(T_j)·Σ|pair terms| for the kernel's sum over the T_j
    /// pairs that reach key j (for dk̂_j and dv_j). Then with g = dk̂_j (bound δg), k̂ (bound δk̂) and
    /// t = k̂·g: δt = γ(d)·Σ|k̂_l g_l| + Σ (δk̂_l |g_l| + |k̂_l| δg_l); the term g_l − k̂_l t errs by
    /// δg_l + δk̂_l |t| + |k̂_l| δt + 2u·|k̂_l t| + u·|term|; times 1/‖q_j‖ (relative γ(d)/2 + 2u, and the
    /// product u) and added to the direct dq_j (u·(|direct| + |chain|)).
    public static func lshGradients(
        q: Tensor, k: Tensor, v: Tensor, outputGradient: Tensor, kernel: LSHAttention,
        hashes: LSHAttention.Hashes? = nil
    ) -> Gradients {
        let shape = AttentionShape(of: q)
        let (n, d) = (shape.length, shape.headDim)
        let hashes = hashes ?? kernel.hashes(q: q)
        var (dq, dk, dv) = (Output.zeros(q.count), Output.zeros(q.count), Output.zeros(q.count))
        for s in 0..<shape.slices {
            let x = exactSlice(s, q, k, v)
            let gs = outputGradient.matrix(s)
            let keys = normalisedKeys(x.q)
            let orders = (0..<kernel.rounds).map { hashes.order(slice: s, round: $0) }
            let pairs = lshPairs(orders: orders, chunk: kernel.chunk, causal: kernel.isCausal)
            var (direct, dKeys, dValues) = (
                Bounded(rows: n, cols: d), Bounded(rows: n, cols: d), Bounded(rows: n, cols: d)
            )
            var keyMagnitude = [Double](repeating: 0, count: n * d)
            var valueMagnitude = keyMagnitude
            var terms = [Int](repeating: 0, count: n)
            for i in 0..<n {
                let row = softmaxSliceGradients(
                    q: rows(x.q, [i]), keys: rows(keys, pairs[i]), values: rows(x.v, pairs[i]),
                    outputGradient: MatrixView(base: gs.row(i), rows: 1, cols: d), causal: false,
                    rescalings: kernel.rounds - 1, logSumExp: true)
                direct.values.replaceSubrange((i * d)..<((i + 1) * d), with: row.dq.values)
                direct.bounds.replaceSubrange((i * d)..<((i + 1) * d), with: row.dq.bounds)
                for (p, j) in pairs[i].enumerated() {
                    terms[j] += 1
                    for l in 0..<d {
                        dKeys.values[j * d + l] += row.dKeys[p, l]
                        dKeys.bounds[j * d + l] += row.dKeys.bound(p, l)
                        keyMagnitude[j * d + l] += abs(row.dKeys[p, l])
                        dValues.values[j * d + l] += row.dValues[p, l]
                        dValues.bounds[j * d + l] += row.dValues.bound(p, l)
                        valueMagnitude[j * d + l] += abs(row.dValues[p, l])
                    }
                }
            }
            for j in 0..<n {
                for l in 0..<d {
                    dKeys.bounds[j * d + l] += gamma(terms[j]) * keyMagnitude[j * d + l]
                    dValues.bounds[j * d + l] += gamma(terms[j]) * valueMagnitude[j * d + l]
                }
            }
            var dQuery = direct
            for j in 0..<n {
                var squares = 0.0
                for l in 0..<d { squares += x.q[j, l] * x.q[j, l] }
                guard squares > 0 else { continue }
                let norm = squares.squareRoot()
                var (along, alongMagnitude, alongBound) = (0.0, 0.0, 0.0)
                for l in 0..<d {
                    let (key, g) = (keys[j, l], dKeys[j, l])
                    along += key * g
                    alongMagnitude += abs(key * g)
                    alongBound += keys.bound(j, l) * abs(g) + abs(key) * dKeys.bound(j, l)
                }
                alongBound += gamma(d) * alongMagnitude
                for l in 0..<d {
                    let key = keys[j, l]
                    let term = dKeys[j, l] - key * along
                    let termBound =
                        dKeys.bound(j, l) + keys.bound(j, l) * abs(along) + abs(key) * alongBound
                        + 2 * u * abs(key * along) + u * abs(term)
                    let chain = term / norm
                    let chainBound = termBound / norm + (gamma(d) / 2 + 3 * u) * abs(chain)
                    let index = j * d + l
                    dQuery.values[index] = direct.values[index] + chain
                    dQuery.bounds[index] =
                        direct.bounds[index] + chainBound + u * (abs(direct.values[index]) + abs(chain))
                }
            }
            dq.place(dQuery, at: s * n * d)
            dv.place(dValues, at: s * n * d)
        }
        return Gradients(q: dq, k: dk, v: dv)
    }
}
