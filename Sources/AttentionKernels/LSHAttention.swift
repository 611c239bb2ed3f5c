#if canImport(Glibc)
    import Glibc
#endif

/// Reformer's LSH attention (Kitaev, Kaiser & Levskaya 2020): each query attends only to keys that
/// a random-rotation hash puts in its bucket, found by sorting, in chunks.
///
/// Shared QK: the `k` input is ignored (its shape is still checked, and its gradient is zero); the
/// keys are the queries normalised to unit length, k̂_j = q_j / ‖q_j‖ (k̂_j = 0 when q_j = 0), and
/// s_ij = q_i·k̂_j / √d. Each of the R rounds then
///
/// 1. hashes every key: with a seeded standard-normal R_r ∈ ℝ^{d×b/2} (SplitMix64 from `seed` and r,
///    the same for every (batch, head) slice, as the paper's per-layer rotations),
///    bucket_j = argmax of the b values [k̂_j R_r; −k̂_j R_r] (ties to the lowest index);
/// 2. sorts the tokens by (bucket, position) with a stable counting sort, O(n + b);
/// 3. cuts the sorted sequence into chunks of C = min(`chunk`, n) tokens (the last may be shorter);
///    a chunk's queries attend to the keys of that chunk and of the chunk before it (chunk 0's is the
///    last chunk, Reformer's look-one-back; with a single chunk, only itself);
/// 4. masks self (and, causal, every key at a later original position, j > i); a query left with
///    no key attends to itself alone.
///
/// The rounds are combined by their log-sum-exp weights: with L_ri = log Σ_j exp(s_ij) over round
/// r's attended keys of query i and o_ri that round's normalised output,
///
///     out_i = Σ_r exp(L_ri − logsumexp_r L_ri) · o_ri,
///
/// which is one softmax over the multiset of (round, key) pairs query i attends to (a key attended
/// in several rounds counts several times: no duplicate-count correction, as in the paper's code).
///
/// Cost per call, per slice: hashing `R·n·d·b` FLOPs ([n, d]·[d, b/2] per round) and, per round and
/// chunk of r rows and w = r + (rows of the chunk before) keys, `4·r·w·d` (two products), about
/// `R·(n·d·b + 8·n·C·d)`: O(R·n·(b + C)·d), linear in n. The element-wise work (normalising, the
/// arg-max, the sort, the exponentials) is not counted, as for the other kernels (``AttentionCost``).
/// Extra memory: the rotations (`R·d·b/2` floats) and one ``ForwardScratch`` per worker (k̂, the
/// projections `[n, b/2]`, the running statistics and one chunk's gathered rows and `[C, 2C]`
/// scores): O(n·(d + b) + C·d) per worker, never n×n.
///
/// Numerics: a query's R chunks are one online softmax (``Softmax/exponentiate(_:valid:count:runningMax:blockMax:)``,
/// as ``FlashAttention``'s key blocks), accumulated in the output rows, so the rounds never need
/// `R·n·d` floats; each round after the first is one rescaling. Masked scores are set to the lowest
/// finite float, which `exp` maps to exactly 0 (no −inf, so rows keep the vectorised path).
///
/// Parallelism: (batch, head) slices are split across the workers (``ComputeThreads/forEachWorker(_:_:)``);
/// the chunk products go through OpenBLAS `sgemm`, single-threaded inside a worker.
public struct LSHAttention: AttentionKernel {
    /// Hash rounds R.
    public let rounds: Int
    /// Buckets per round b (even: half are the rotated key, half its negation).
    public let buckets: Int
    /// Sorted tokens per chunk C (at most n are used).
    public let chunk: Int
    public let isCausal: Bool
    /// Seeds the rotations (round r draws from SplitMix64 seeded by ``rotationSeed(round:)``).
    public let seed: UInt64
    public var mechanism: Mechanism { .reformer }
    public var name: String {
        "reformer lsh-\(rounds)" + (buckets == 64 ? "" : " b=\(buckets)") + (chunk == 32 ? "" : " c=\(chunk)")
            + (isCausal ? " (causal)" : "")
    }

    /// The seed the rotations are drawn from unless one is given ("REFORMER" in ASCII).
    public static let defaultSeed: UInt64 = 0x5245_464F_524D_4552

    /// The score a masked key gets: `exp` of it less any finite maximum is exactly 0.
    static let maskedScore = -Float.greatestFiniteMagnitude

    public init(rounds: Int = 1, buckets: Int = 64, chunk: Int = 32, causal: Bool = false, seed: UInt64 = defaultSeed) {
        precondition(rounds >= 1, "LSH attention: at least one hash round, got \(rounds)")
        precondition(
            buckets >= 2 && buckets % 2 == 0, "LSH attention: buckets must be even and at least 2, got \(buckets)")
        precondition(chunk >= 1, "LSH attention: a chunk has at least 1 token, got \(chunk)")
        self.rounds = rounds
        self.buckets = buckets
        self.chunk = chunk
        self.isCausal = causal
        self.seed = seed
    }

    public func callAsFunction(q: Tensor, k: Tensor, v: Tensor) -> Tensor {
        forward(q: q, k: k, v: v, saved: nil)
    }

    // MARK: - Hashing

    /// Round r's generator seed: `seed` mixed with r by an odd constant that is not SplitMix64's
    /// increment (so one round's stream is not another's shifted by a draw).
    public func rotationSeed(round r: Int) -> UInt64 { seed ^ ((UInt64(r) &+ 1) &* 0xD6E8_FEB8_6659_FD93) }

    /// The rotations R_0 … R_{R−1}, `[R, d, b/2]`, standard normal.
    func rotations(headDim d: Int) -> Tensor {
        let half = buckets / 2
        let result = Tensor(uninitialized: [rounds, d, half], label: "LSH rotations R")  // [R, d, b/2]
        for r in 0..<rounds {
            var rng = SplitMix64(seed: rotationSeed(round: r))
            let m = result.matrix(r)
            for l in 0..<d { for t in 0..<half { m[l, t] = Float(rng.nextNormal()) } }
        }
        return result
    }

    /// `keys[j] ← q_j / ‖q_j‖` and `inverseNorms[j] ← 1 / ‖q_j‖` (both 0 for q_j = 0).
    static func normalise(_ q: MatrixView, into keys: MatrixView, inverseNorms: UnsafeMutablePointer<Float>) {
        let d = q.cols
        for j in 0..<q.rows {
            let (row, key) = (q.row(j), keys.row(j))
            let squares = Lanes.dot(row, row, count: d)
            let inverse: Float = squares > 0 ? 1 / squares.squareRoot() : 0
            inverseNorms[j] = inverse
            for l in 0..<d { key[l] = row[l] * inverse }
        }
    }

    /// One round's buckets and sorted order: `projections ← keys·rotation`, [n, d]·[d, b/2] → [n, b/2];
    /// bucket_j = argmax [x; −x] (ties to the lowest index); then a stable counting sort by bucket
    /// (`counts` has b entries), so `order[t]` is the position at sorted index t, by (bucket, position).
    static func sort(
        keys: MatrixView, rotation: MatrixView, projections: MatrixView, buckets bucketOf: Indices,
        counts: Indices, buckets b: Int, into order: Indices
    ) {
        let (n, half) = (keys.rows, rotation.cols)
        // [n, d]·[d, b/2] → [n, b/2]
        BLAS.gemm(keys, rotation, into: projections)
        for t in 0..<b { counts[t] = 0 }
        for j in 0..<n {
            let x = projections.row(j)
            var (best, bestValue) = (0, x[0])
            for t in 1..<half where x[t] > bestValue { (best, bestValue) = (t, x[t]) }
            for t in 0..<half where -x[t] > bestValue { (best, bestValue) = (half + t, -x[t]) }
            bucketOf[j] = best
            counts[best] += 1
        }
        var start = 0
        for t in 0..<b { (counts[t], start) = (start, start + counts[t]) }  // counts → first sorted index
        for j in 0..<n {
            let bucket = bucketOf[j]
            order[counts[bucket]] = j
            counts[bucket] += 1
        }
    }

    /// The buckets and sorted orders one call on `q` uses (every round of every slice), so that a
    /// reference can attend over exactly the same keys.
    public struct Hashes: Sendable, Equatable {
        public let rounds: Int
        public let length: Int
        /// `buckets[s·rounds + r][i]`: the bucket of position i in round r of slice s.
        public let buckets: [[Int32]]
        /// `orders[s·rounds + r][t]`: the position at sorted index t in round r of slice s.
        public let orders: [[Int32]]

        /// The sorted order of round r of slice s.
        public func order(slice s: Int, round r: Int) -> [Int32] { orders[s * rounds + r] }
    }

    /// The hashes of every slice and round of `q` (`[b, h, n, d]`), computed by the forward pass's own
    /// routines (``normalise(_:into:inverseNorms:)`` and ``sort(keys:rotation:projections:buckets:counts:buckets:into:)``).
    public func hashes(q: Tensor) -> Hashes {
        let shape = AttentionShape(of: q)
        let (n, d) = (shape.length, shape.headDim)
        var (bucketRows, orderRows) = ([[Int32]](), [[Int32]]())
        guard n > 0 else { return Hashes(rounds: rounds, length: n, buckets: [], orders: []) }
        let rotations = rotations(headDim: d)
        let keys = Tensor(uninitialized: [n, d], label: "hash: keys")
        let projections = Tensor(uninitialized: [n, buckets / 2], label: "hash: projections")
        let inverseNorms = Tensor(uninitialized: [n], label: "hash: inverse norms")
        let indices = Tensor(uninitialized: [2 * n + buckets], label: "hash: indices")  // buckets, order, counts
        let (bucketOf, order, counts) = (
            Indices(indices.data), Indices(indices.data + n), Indices(indices.data + 2 * n)
        )
        for s in 0..<shape.slices {
            Self.normalise(q.matrix(s), into: keys.matrix(0), inverseNorms: inverseNorms.data)
            for r in 0..<rounds {
                Self.sort(
                    keys: keys.matrix(0), rotation: rotations.matrix(r), projections: projections.matrix(0),
                    buckets: bucketOf, counts: counts, buckets: buckets, into: order)
                bucketRows.append((0..<n).map { Int32(bucketOf[$0]) })
                orderRows.append((0..<n).map { Int32(order[$0]) })
            }
        }
        return Hashes(rounds: rounds, length: n, buckets: bucketRows, orders: orderRows)
    }

    // MARK: - Forward

    /// The forward pass; with `saved`, each round's sorted order is written into `saved.orders`
    /// instead of the worker's scratch, and each query's log-sum-exp over all its (round, key) pairs,
    /// LSE_i = m_i + log l_i, into `saved.logSumExp`.
    func forward(q: Tensor, k: Tensor, v: Tensor, saved: Saved?) -> Tensor {
        let shape = checkedShape(q: q, k: k, v: v)
        let (n, d) = (shape.length, shape.headDim)
        precondition(d >= 1, "\(name): head dimension must be at least 1")
        precondition(n <= Int(Int32.max), "\(name): positions must fit in 32 bits, got n = \(n)")
        let out = Tensor(uninitialized: shape.dims, label: "output")  // [b, h, n, d]
        guard n > 0, shape.slices > 0 else { return out }
        let chunks = Chunks(length: n, size: min(chunk, n))
        let rotations = rotations(headDim: d)  // [R, d, b/2]
        let workers = ComputeThreads.workerCount(shape.slices)
        let layout = ForwardScratch(length: n, headDim: d, buckets: buckets, chunk: chunks.size)
        // one ForwardScratch per worker
        let scratch = Tensor(uninitialized: [workers, layout.floats], label: "LSH scratch (per worker)")
        let (scale, causal, b) = (1 / Float(d).squareRoot(), isCausal, buckets)

        ComputeThreads.forEachWorker(shape.slices) { worker, slices in
            let base = scratch.matrix(0).row(worker)
            let keys = MatrixView(base: base + layout.keys, rows: n, cols: d)
            let projections = MatrixView(base: base + layout.projections, rows: n, cols: b / 2)
            let (inverseNorms, maxima, sums) = (base + layout.inverseNorms, base + layout.maxima, base + layout.sums)
            let (bucketOf, counts) = (Indices(base + layout.bucketOf), Indices(base + layout.counts))
            let gathered = Gathered(base: base, layout: layout.window, headDim: d)
            var clock = PhaseClock.start()
            for s in slices {
                let (qs, vs, os) = (q.matrix(s), v.matrix(s), out.matrix(s))
                Self.normalise(qs, into: keys, inverseNorms: inverseNorms)
                maxima.update(repeating: -.infinity, count: n)
                sums.update(repeating: 0, count: n)
                for r in 0..<rounds {
                    let order = saved.map { Indices($0.orders.matrix(s).row(r)) } ?? Indices(base + layout.order)
                    Self.sort(
                        keys: keys, rotation: rotations.matrix(r), projections: projections, buckets: bucketOf,
                        counts: counts, buckets: b, into: order)
                    clock.lap(Self.phases.hashing)
                    for c in 0..<chunks.count {
                        let window = chunks.window(c)
                        gathered.load(window, order: order, queries: qs, keys: keys, values: vs)
                        clock.lap(Self.phases.gather)
                        let (rows, width) = (window.rows, window.width)
                        let scores = gathered.scores(rows: rows, width: width)
                        // [rows, d]·[d, width] → [rows, width]
                        BLAS.gemm(
                            gathered.queries(rows), gathered.keys(width), transposeB: true, into: scores, alpha: scale)
                        clock.lap(Self.phases.products)
                        for a in 0..<rows {
                            let i = order[window.own.lowerBound + a]
                            Self.mask(
                                scores.row(a), count: width, positions: gathered.positions, query: i,
                                selfColumn: window.column(ofOwn: a), causal: causal)
                            let (sum, rescale) = Softmax.exponentiate(
                                scores.row(a), valid: width, count: width, runningMax: &maxima[i])
                            sums[i] = sums[i] * rescale + sum
                            gathered.rescales[a] = rescale
                        }
                        clock.lap(Self.phases.softmax)
                        let products = gathered.products(rows)
                        if gathered.values(width).allFinite() {
                            // [rows, width]·[width, d] → [rows, d]
                            BLAS.gemm(scores, gathered.values(width), into: products)
                        } else {
                            // A masked weight is 0 and 0·±inf = NaN: skip the masked pairs, as the formula does.
                            Self.maskedProduct(
                                scores, gathered.values(width), positions: gathered.positions,
                                queries: { order[window.own.lowerBound + $0] }, causal: causal, into: products)
                        }
                        clock.lap(Self.phases.products)
                        for a in 0..<rows {
                            let (o, p, rescale) = (
                                os.row(order[window.own.lowerBound + a]), products.row(a), gathered.rescales[a]
                            )
                            if r == 0 {
                                o.update(from: p, count: d)
                            } else {
                                for l in 0..<d { o[l] = o[l] * rescale + p[l] }
                            }
                        }
                        clock.lap(Self.phases.combine)
                    }
                }
                for i in 0..<n { Softmax.divide(os.row(i), count: d, by: sums[i]) }
                if let saved {
                    let lse = saved.logSumExp.matrix(s).row(0)
                    for i in 0..<n { lse[i] = maxima[i] + logf(sums[i]) }
                }
                clock.lap(Self.phases.combine)
            }
        }
        return out
    }

    /// The forward's parts, as `attnbench profile` names them: hashing and sorting once per round,
    /// the rest per chunk.
    static let phases = (
        hashing: Phase.named("hash and sort"), gather: Phase.named("gather chunk"),
        products: Phase.named("chunk products"), softmax: Phase.named("mask and online softmax"),
        combine: Phase.named("combine rounds")
    )

    /// Masks one score row of a window: key column a (at original position `positions[a]`) is masked
    /// when it is the query itself or, causal, later than the query; a row left with nothing keeps
    /// its own score alone (the query's own key is always in its window, at `selfColumn`).
    @inline(__always)
    static func mask(
        _ row: UnsafeMutablePointer<Float>, count: Int, positions: Indices, query i: Int, selfColumn: Int, causal: Bool
    ) {
        let own = row[selfColumn]
        var open = 0
        for a in 0..<count {
            let j = positions[a]
            if j == i || (causal && j > i) { row[a] = maskedScore } else { open += 1 }
        }
        if open == 0 { row[selfColumn] = own }
    }

    /// `products ← P V` over the unmasked pairs only (the same pairs as ``mask(_:count:positions:query:selfColumn:causal:)``
    /// leaves open): the path of a window whose values hold a NaN or ±inf, which the GEMM would spread
    /// through the masked pairs' zero weights. `2·rows·width·d` FLOPs, scalar.
    static func maskedProduct(
        _ weights: MatrixView, _ values: MatrixView, positions: Indices, queries: (Int) -> Int, causal: Bool,
        into products: MatrixView
    ) {
        let (rows, width, d) = (weights.rows, weights.cols, values.cols)
        for a in 0..<rows {
            let i = queries(a)
            let hidden = { (j: Int) in causal && j > i }
            var others = false
            for col in 0..<width where positions[col] != i && !hidden(positions[col]) { others = true }
            let (w, out) = (weights.row(a), products.row(a))
            out.update(repeating: 0, count: d)
            for col in 0..<width {
                let j = positions[col]
                if hidden(j) || (j == i && others) { continue }
                let (p, value) = (w[col], values.row(col))
                for l in 0..<d { out[l] += p * value[l] }
            }
        }
    }

    // MARK: - Cost

    /// The chunks of one round of one slice, as (rows, window keys, how many): the products' shapes.
    static func chunkShapes(length n: Int, chunk: Int) -> [(rows: Int, width: Int, count: Int)] {
        guard n > 0 else { return [] }
        let chunks = Chunks(length: n, size: min(chunk, n))
        var shapes: [SIMD2<Int>: Int] = [:]
        for c in 0..<chunks.count {
            let window = chunks.window(c)
            shapes[SIMD2(window.rows, window.width), default: 0] += 1
        }
        return shapes.sorted { ($0.key.x * $0.key.y, $0.key.x) > ($1.key.x * $1.key.y, $1.key.x) }
            .map { (rows: $0.key.x, width: $0.key.y, count: $0.value) }
    }

    /// Per slice and round: the hash projection [n, d]·[d, b/2] → [n, b/2], and per chunk of r rows
    /// and w window keys S = Q K̂ᵀ, [r, d]·[d, w] → [r, w], and P V, [r, w]·[w, d] → [r, d].
    public func products(for shape: AttentionShape) -> [GemmShape] {
        Self.products(for: shape, rounds: rounds, buckets: buckets, chunk: chunk)
    }

    /// ``products(for:)`` without building the kernel.
    public static func products(for shape: AttentionShape, rounds: Int, buckets: Int, chunk: Int) -> [GemmShape] {
        let (n, d) = (shape.length, shape.headDim)
        guard n > 0, shape.slices > 0 else { return [] }
        let times = Int.saturatingProduct(shape.slices, rounds)
        let hashing = GemmShape(m: n, k: d, n: buckets / 2, count: times)
        return [hashing]
            + chunkShapes(length: n, chunk: chunk).flatMap { rows, width, count in
                [
                    GemmShape(m: rows, k: d, n: width, transposeB: true, count: .saturatingProduct(times, count)),
                    GemmShape(m: rows, k: width, n: d, count: .saturatingProduct(times, count)),
                ]
            }
    }

    /// The cost at the current thread count (``ComputeThreads/current``), which sets the scratch held.
    public func cost(for shape: AttentionShape) -> AttentionCost {
        Self.cost(for: shape, rounds: rounds, buckets: buckets, chunk: chunk, threads: ComputeThreads.current)
    }

    /// FLOPs of ``products(for:)``: `b·h·R·(n·d·b + Σ_chunks 4·r·w·d)`; intermediates the rotations
    /// (`R·d·b/2` floats) and one ``ForwardScratch`` per worker (`min(threads, b·h)` workers); output
    /// `b·h·n·d`. Nothing but the output for n = 0.
    public static func cost(for shape: AttentionShape, rounds: Int, buckets: Int, chunk: Int, threads: Int)
        -> AttentionCost
    {
        let (n, d) = (shape.length, shape.headDim)
        let output = AttentionCost.floats(shape.slices, n, d)
        guard n > 0, shape.slices > 0 else { return AttentionCost(flops: 0, intermediateBytes: 0, outputBytes: output) }
        let workers = max(min(threads, shape.slices), 1)
        let layout = ForwardScratch(length: n, headDim: d, buckets: buckets, chunk: min(chunk, n))
        return AttentionCost(
            flops: products(for: shape, rounds: rounds, buckets: buckets, chunk: chunk).flops,
            intermediateBytes: .saturatingSum(
                AttentionCost.floats(rounds, d, buckets / 2), AttentionCost.floats(workers, layout.floats)),
            outputBytes: output)
    }

    /// The cost of one pass without building the kernel (``AttentionCost/of(_:forward:backward:savedBytes:)``).
    /// The causal mask changes neither the products nor the buffers, so `causal` does not change it.
    public static func cost(
        for shape: AttentionShape, rounds: Int, buckets: Int, chunk: Int, causal: Bool, pass: Pass,
        threads: Int = ComputeThreads.current
    ) -> AttentionCost {
        .of(
            pass, forward: cost(for: shape, rounds: rounds, buckets: buckets, chunk: chunk, threads: threads),
            backward: backwardCost(for: shape, rounds: rounds, buckets: buckets, chunk: chunk, threads: threads),
            savedBytes: savedBytes(for: shape, rounds: rounds))
    }
}

// MARK: - Chunks and scratch

extension LSHAttention {
    /// Positions (and bucket counts) kept as 32-bit integers in float32 scratch: the call allocates
    /// everything through ``Tensor``, so its heap is the cost model's.
    struct Indices {
        let base: UnsafeMutableRawPointer

        init(_ pointer: UnsafeMutablePointer<Float>) { base = UnsafeMutableRawPointer(pointer) }

        @inline(__always)
        subscript(i: Int) -> Int {
            get { Int(base.load(fromByteOffset: i &* 4, as: Int32.self)) }
            nonmutating set {
                base.storeBytes(of: Int32(truncatingIfNeeded: newValue), toByteOffset: i &* 4, as: Int32.self)
            }
        }
    }

    /// The sorted sequence of n tokens cut into chunks of `size` (the last may be shorter).
    struct Chunks {
        let length, size, count: Int

        init(length n: Int, size c: Int) {
            (length, size) = (n, c)
            count = (n + c - 1) / c
        }

        /// Sorted indices of chunk `c`.
        func range(_ c: Int) -> Range<Int> { (c * size)..<min((c + 1) * size, length) }

        /// Chunk `c`'s queries and the keys they see: the chunk before (chunk 0's is the last; none
        /// when there is one chunk), then the chunk itself.
        func window(_ c: Int) -> Window {
            let previous = count == 1 ? 0..<0 : range(c == 0 ? count - 1 : c - 1)
            return Window(own: range(c), previous: previous)
        }
    }

    /// One chunk's queries (sorted indices `own`) and its window's keys: `previous`, then `own`.
    struct Window {
        let own: Range<Int>
        let previous: Range<Int>
        var rows: Int { own.count }
        var width: Int { previous.count + own.count }

        /// The sorted index of the window's key column a.
        @inline(__always)
        func sorted(column a: Int) -> Int {
            a < previous.count ? previous.lowerBound + a : own.lowerBound + a - previous.count
        }

        /// The key column of the window's own query a (its own key).
        @inline(__always)
        func column(ofOwn a: Int) -> Int { previous.count + a }
    }

    /// Offsets, in floats, of one chunk's gathered rows inside a worker's scratch (C = chunk rows,
    /// windows of at most 2C keys): queries `[C, d]`, keys and values `[2C, d]`, key positions
    /// (2C), scores `[C, 2C]`, the product P·V `[C, d]` and C rescaling factors; the backward adds
    /// dO rows `[C, d]`, dP/dS `[C, 2C]`, dQ rows `[C, d]`, dK̂ and dV rows `[2C, d]`.
    struct WindowLayout {
        let chunk: Int
        let queries, keys, values, positions, scores, products, rescales: Int
        let gradients, gradientScores, queryGradients, keyGradients, valueGradients: Int
        /// One past the last float.
        let end: Int

        init(chunk c: Int, headDim d: Int, backward: Bool, offset: Int) {
            chunk = c
            var next = offset
            func take(_ floats: Int) -> Int {
                defer { next = .saturatingSum(next, floats) }
                return next
            }
            let (rowsFloats, windowFloats) = (Int.saturatingProduct(c, d), Int.saturatingProduct(2, c, d))
            queries = take(rowsFloats)
            keys = take(windowFloats)
            values = take(windowFloats)
            positions = take(.saturatingProduct(2, c))
            scores = take(.saturatingProduct(c, 2, c))
            products = take(backward ? 0 : rowsFloats)
            rescales = take(backward ? 0 : c)
            gradients = take(backward ? rowsFloats : 0)
            gradientScores = take(backward ? .saturatingProduct(c, 2, c) : 0)
            queryGradients = take(backward ? rowsFloats : 0)
            keyGradients = take(backward ? windowFloats : 0)
            valueGradients = take(backward ? windowFloats : 0)
            end = next
        }
    }

    /// One worker's forward scratch, in floats: k̂ `[n, d]`, the projections `[n, b/2]`, 1/‖q_j‖,
    /// the running maxima and sums (n each), the buckets and the sorted order (n each, as integers),
    /// b bucket counts, then one chunk's ``WindowLayout``.
    struct ForwardScratch {
        let keys, projections, inverseNorms, maxima, sums, bucketOf, order, counts: Int
        let window: WindowLayout
        var floats: Int { window.end }

        init(length n: Int, headDim d: Int, buckets b: Int, chunk c: Int) {
            keys = 0
            projections = .saturatingProduct(n, d)
            inverseNorms = .saturatingSum(projections, .saturatingProduct(n, b / 2))
            maxima = .saturatingSum(inverseNorms, n)
            sums = .saturatingSum(maxima, n)
            bucketOf = .saturatingSum(sums, n)
            order = .saturatingSum(bucketOf, n)
            counts = .saturatingSum(order, n)
            window = WindowLayout(chunk: c, headDim: d, backward: false, offset: .saturatingSum(counts, b))
        }
    }

    /// Views of one worker's gathered chunk (``WindowLayout``).
    struct Gathered {
        let base: UnsafeMutablePointer<Float>
        let layout: WindowLayout
        let headDim: Int

        init(base: UnsafeMutablePointer<Float>, layout: WindowLayout, headDim d: Int) {
            (self.base, self.layout, headDim) = (base, layout, d)
        }

        var positions: Indices { Indices(base + layout.positions) }
        var rescales: UnsafeMutablePointer<Float> { base + layout.rescales }
        func queries(_ rows: Int) -> MatrixView { view(layout.queries, rows) }
        func keys(_ width: Int) -> MatrixView { view(layout.keys, width) }
        func values(_ width: Int) -> MatrixView { view(layout.values, width) }
        func products(_ rows: Int) -> MatrixView { view(layout.products, rows) }
        func gradients(_ rows: Int) -> MatrixView { view(layout.gradients, rows) }
        func queryGradients(_ rows: Int) -> MatrixView { view(layout.queryGradients, rows) }
        func keyGradients(_ width: Int) -> MatrixView { view(layout.keyGradients, width) }
        func valueGradients(_ width: Int) -> MatrixView { view(layout.valueGradients, width) }
        func scores(rows: Int, width: Int) -> MatrixView {
            MatrixView(base: base + layout.scores, rows: rows, cols: width, rowStride: 2 * layout.chunk)
        }
        func gradientScores(rows: Int, width: Int) -> MatrixView {
            MatrixView(base: base + layout.gradientScores, rows: rows, cols: width, rowStride: 2 * layout.chunk)
        }

        private func view(_ offset: Int, _ rows: Int) -> MatrixView {
            MatrixView(base: base + offset, rows: rows, cols: headDim)
        }

        /// Gathers the window's queries (from `queries`), normalised keys, values and key positions.
        func load(_ window: Window, order: Indices, queries qs: MatrixView, keys: MatrixView, values: MatrixView) {
            let d = headDim
            let (q, k, v, positions) = (
                queries(window.rows), self.keys(window.width), self.values(window.width), positions
            )
            for a in 0..<window.rows { q.row(a).update(from: qs.row(order[window.own.lowerBound + a]), count: d) }
            for a in 0..<window.width {
                let j = order[window.sorted(column: a)]
                positions[a] = j
                k.row(a).update(from: keys.row(j), count: d)
                v.row(a).update(from: values.row(j), count: d)
            }
        }
    }
}
