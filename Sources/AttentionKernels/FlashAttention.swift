#if canImport(Glibc)
    import Glibc
#endif

/// Exact softmax attention without the `[n, n]` score matrix: FlashAttention (Dao et al. 2022) on
/// the CPU. The same function as ``SoftmaxAttention``,
///
///     out_i = Σ_j exp(s_ij − m_i) v_j / Σ_j exp(s_ij − m_i),   s_ij = q_i·k_j / √d,   m_i = max_j s_ij,
///
/// computed one tile at a time: a block of `B_q` query rows against one block of `B_k` keys and
/// values, through an online softmax (``Softmax/exponentiate(_:valid:count:runningMax:)``): each row
/// keeps its running maximum m and sum l, and the partial output (accumulated in the output rows
/// themselves) is rescaled by exp(m − m') whenever a block raises the maximum to m':
///
///     S = Q_b K_jᵀ/√d,  P = exp(S − m'),  l ← l·exp(m − m') + rowsum P,  O_b ← O_b·exp(m − m') + P V_j,
///
/// and at the end O_b ← O_b / l (d divisions per row, as in ``SoftmaxAttention``).
///
/// Cost per call: `4·b·h·d·Σ_blocks rows·keys` FLOPs, the products actually computed: `4·b·h·n²·d`
/// without a mask; causal skips every key block above the diagonal (keys past the block's last
/// row), about half. Extra memory: one `B_q × B_k` score tile, K_jᵀ packed, and a few `B_q` row
/// statistics per worker thread (``Scratch``), never O(n²) (``cost(for:threads:)``): 171 KiB per
/// worker at the default tiles and d = 64, whatever n is.
///
/// Tile products: ``FlashTiles``' SIMD micro-kernels when d is a multiple of 16 (they read Q, P
/// and V where they are, pack only K_jᵀ, and apply 1/√d and the rescaling as they store), else
/// OpenBLAS `sgemm` (scale in `alpha`), single-threaded inside each worker. Where the time goes
/// (tile products, online softmax, repacking K) and how the two ways compare are measured in
/// `Results/NOTES-kernels.md`.
///
/// Causal: query i sees keys j ≤ i. A query block stops at its own last row, so blocks above the
/// diagonal are never computed; within the blocks that straddle the diagonal, each row's weights
/// past its own position are set to exactly 0 (masking by position, never by −inf scores).
/// Non-finite inputs propagate as in ``SoftmaxAttention`` (and the naive formula): a NaN or +inf
/// visible score, or a row of nothing but −inf, makes the row NaN; NaN or ±inf in v_jc reaches
/// column c of every row that sees j. A diagonal block whose values are not all finite takes a
/// row-by-row product over each row's visible keys, so a masked 0 never meets a NaN value.
///
/// Numerics: every weight is exp of a non-positive number, as in the materialised kernel; each
/// rescaling adds at most 5u to the relative error of what was accumulated before it (u·|m − m'|
/// for the difference, 4u for exp, u for the product; ``ReferenceAttention/standard(q:k:v:causal:rescalings:)``
/// adds that per key block after the first).
///
/// Parallelism: the work items are (slice, query block) pairs, the costliest first (for causal,
/// the last query blocks), handed to the threads one at a time (``ComputeThreads/forEachItem(_:_:)``).
/// Block sizes: see ``Blocks/default``.
public struct FlashAttention: AttentionKernel {
    /// Query rows and key/value rows per tile.
    public struct Blocks: Hashable, Sendable {
        public var query: Int
        public var key: Int

        public init(query: Int, key: Int) {
            precondition(query >= 1 && key >= 1, "flash attention blocks must be at least 1×1, got \(query)×\(key)")
            self.query = query
            self.key = key
        }

        /// 256 query rows × 128 keys, from the caches of an AVX2 core (32 KiB L1d, 512 KiB L2) and
        /// chosen by measurement (`attnbench kernels --flash-blocks`; the table is in
        /// `Results/NOTES-kernels.md`).
        ///
        /// Cache: at d = 64 a tile's working set is the score tile (B_q·B_k floats, 128 KiB), K_jᵀ
        /// packed and V_j (B_k·d each, 32 KiB), Q_b and O_b (B_q·d each, 64 KiB): 320 KiB, inside
        /// L2; the micro-kernels' inner loops keep one packed panel of 16 keys (4 KiB) and four
        /// query rows, or 16 columns of V_j (8 KiB), in L1. Cost: K_j is repacked once per query
        /// block, d/B_q copies per score, so a small B_q costs copies; B_k sets how often the rows
        /// rescale (once per key block). A larger B_q wastes more of each causal diagonal block
        /// (half a block of masked scores per row) and leaves fewer query blocks for the threads
        /// to share at small n.
        public static let `default` = Blocks(query: 256, key: 128)

        /// 8 query rows × 16 keys, for verification: with them n = 37 is three key blocks, the last
        /// one partial, and query and key blocks straddle the diagonal differently, which the default
        /// tiles (larger than every verified n) never exercise.
        public static let small = Blocks(query: 8, key: 16)
    }

    /// What computes the two tile products.
    public enum Products: String, Sendable, CaseIterable {
        /// ``FlashTiles``' micro-kernels when d is a multiple of 16, OpenBLAS otherwise.
        case simd
        /// OpenBLAS `sgemm` for both products, always.
        case blas
    }

    public let isCausal: Bool
    public let blocks: Blocks
    public let products: Products
    public var mechanism: Mechanism { .flash }
    public var name: String {
        "flash" + (blocks == .default ? "" : " \(blocks.query)×\(blocks.key)") + (products == .simd ? "" : " blas")
            + (isCausal ? " (causal)" : "")
    }

    public init(causal: Bool = false, blocks: Blocks = .default, products: Products = .simd) {
        isCausal = causal
        self.blocks = blocks
        self.products = products
    }

    /// Whether the tiles at head dimension d go through ``FlashTiles`` (else OpenBLAS).
    func usesMicroKernels(headDim d: Int) -> Bool { products == .simd && FlashTiles.supports(headDim: d) }

    /// Key blocks a row can see at length n: `⌈n / B_k⌉` (each block after the first may rescale).
    public func keyBlocks(length n: Int) -> Int { (n + blocks.key - 1) / blocks.key }

    public func callAsFunction(q: Tensor, k: Tensor, v: Tensor) -> Tensor {
        forward(q: q, k: k, v: v, logSumExp: nil)
    }

    /// The keys a query block computes against, `0..<keyEnd`: all n, or (causal) up to the block's last row.
    @inline(__always)
    func keyEnd(queryStart start: Int, rows: Int, length n: Int) -> Int { isCausal ? start + rows : n }

    /// The tile products of one call, as ``forward(q:k:v:logSumExp:)`` makes them: per slice, for every
    /// query block (B_q rows; the last n mod B_q) and every key block it computes (B_k keys up to
    /// ``keyEnd(queryStart:rows:length:)``), S = Q_b K_jᵀ, [rows, d]·[d, cols] → [rows, cols], and P V_j,
    /// [rows, cols]·[cols, d] → [rows, d]: `4·rows·cols·d` FLOPs a tile. Tiles of one shape are
    /// grouped, the largest first. (A causal diagonal tile whose V is not finite takes rows·GEMV instead.)
    public func products(for shape: AttentionShape) -> [GemmShape] {
        let (n, d, bq, bk) = (shape.length, shape.headDim, blocks.query, blocks.key)
        var tiles: [SIMD2<Int>: Int] = [:]  // (rows, cols) → tiles per slice
        for start in stride(from: 0, to: n, by: bq) {
            let rows = min(bq, n - start)
            let end = keyEnd(queryStart: start, rows: rows, length: n)
            for first in stride(from: 0, to: end, by: bk) { tiles[SIMD2(rows, min(bk, end - first)), default: 0] += 1 }
        }
        let ordered = tiles.sorted { ($0.key.x * $0.key.y, $0.key.x) > ($1.key.x * $1.key.y, $1.key.x) }
        return ordered.flatMap { tile, count in
            let (rows, cols, times) = (tile.x, tile.y, Int.saturatingProduct(shape.slices, count))
            return [
                GemmShape(m: rows, k: d, n: cols, transposeB: true, count: times),
                GemmShape(m: rows, k: cols, n: d, count: times),
            ]
        }
    }

    /// The forward pass; with `logSumExp` (`[b, h, 1, n]`), also each row's L_i = m_i + log l_i, the
    /// log of its softmax denominator, which is all the backward needs to recompute P.
    func forward(q: Tensor, k: Tensor, v: Tensor, logSumExp: Tensor?) -> Tensor {
        let shape = checkedShape(q: q, k: k, v: v)
        let (n, d) = (shape.length, shape.headDim)
        precondition(d >= 1, "\(name): head dimension must be at least 1")
        let (bq, bk) = (blocks.query, blocks.key)
        let queryBlocks = (n + bq - 1) / bq
        let items = Int.saturatingProduct(shape.slices, queryBlocks)
        let workers = ComputeThreads.workerCount(items)
        let simd = usesMicroKernels(headDim: d)
        let layout = Scratch(blocks, headDim: d, simd: simd)
        // one Scratch per worker
        let scratch = Tensor(uninitialized: [workers, layout.floats], label: "flash tiles (per worker)")
        let out = Tensor(uninitialized: shape.dims, label: "output")  // [b, h, n, d]
        let scale = 1 / Float(d).squareRoot()
        let causal = isCausal

        ComputeThreads.forEachItem(items) { worker, item in
            // the costliest items first: query blocks from the last, every slice at each.
            var clock = PhaseClock.start()
            let (s, block) = (item % shape.slices, queryBlocks - 1 - item / shape.slices)
            let start = block * bq
            let rows = min(bq, n - start)
            let tileBase = scratch.matrix(0).row(worker)
            let packedKeys = tileBase + layout.packedKeys
            let (runningMax, rowSums, rescales) = (
                tileBase + layout.maxima, tileBase + layout.sums, tileBase + layout.rescales
            )
            let blockMaxima = tileBase + layout.blockMaxima
            let queries = MatrixView(base: q.matrix(s).row(start), rows: rows, cols: d, rowStride: d)
            let o = MatrixView(base: out.matrix(s).row(start), rows: rows, cols: d, rowStride: d)
            let (keys, values) = (k.matrix(s), v.matrix(s))
            runningMax.update(repeating: -.infinity, count: rows)
            rowSums.update(repeating: 0, count: rows)

            // keys no row of the block sees are never touched
            let end = keyEnd(queryStart: start, rows: rows, length: n)
            for first in stride(from: 0, to: end, by: bk) {
                let cols = min(bk, end - first)
                let p = MatrixView(base: tileBase, rows: rows, cols: cols, rowStride: layout.tileStride)
                let kBlock = MatrixView(base: keys.row(first), rows: cols, cols: d, rowStride: d)
                let vBlock = MatrixView(base: values.row(first), rows: cols, cols: d, rowStride: d)
                let masked = causal && first + cols - 1 > start  // some row misses some key of the block
                // [rows, d]·[d, cols] → [rows, cols]
                clock.lap(Self.phases.bookkeeping)
                if simd {
                    FlashTiles.packTransposed(kBlock, into: packedKeys)
                    clock.lap(Self.phases.packing)
                    FlashTiles.scores(
                        queries, packedKeys: packedKeys, cols: cols, alpha: scale, into: p, maxima: blockMaxima)
                } else {
                    BLAS.gemm(queries, kBlock, transposeB: true, into: p, alpha: scale)
                }
                clock.lap(Self.phases.products)
                for r in 0..<rows {
                    let visible = masked ? max(min(cols, start + r - first + 1), 0) : cols
                    // a masked row's maximum is over fewer keys
                    let known: Float? = simd && !masked ? blockMaxima[r] : nil
                    let (sum, rescale) = Softmax.exponentiate(
                        p.row(r), valid: visible, count: cols, runningMax: &runningMax[r], blockMax: known)
                    rowSums[r] = first == 0 ? sum : rowSums[r] * rescale + sum
                    rescales[r] = rescale
                }
                let unfused = !simd || (masked && !vBlock.allFinite())
                if first > 0 && unfused {  // the micro-kernel rescales as it stores; the others beforehand
                    for r in 0..<rows where rescales[r] != 1 { Self.multiply(o.row(r), count: d, by: rescales[r]) }
                }
                clock.lap(Self.phases.softmax)
                let beta: Float = first == 0 ? 0 : 1
                if masked && !vBlock.allFinite() {
                    // A masked weight is 0 and 0·NaN = NaN: each row takes only the values it sees.
                    for r in 0..<rows {
                        let visible = max(min(cols, start + r - first + 1), 0)
                        // [visible, d]ᵀ·[visible] → [d]
                        BLAS.gemv(vBlock.prefix(rows: visible), transpose: true, p.row(r), into: o.row(r), beta: beta)
                    }
                } else if simd {
                    // [rows, cols]·[cols, d] → [rows, d], onto O·diag(rescale)
                    FlashTiles.accumulate(p, vBlock, cols: cols, into: o, rescale: rescales, first: first == 0)
                } else {
                    // [rows, cols]·[cols, d] → [rows, d]
                    BLAS.gemm(p, vBlock, into: o, beta: beta)
                }
                clock.lap(Self.phases.products)
            }
            for r in 0..<rows { Softmax.divide(o.row(r), count: d, by: rowSums[r]) }
            if let logSumExp {
                let l = logSumExp.matrix(s).row(0) + start
                for r in 0..<rows { l[r] = runningMax[r] + logf(rowSums[r]) }
            }
            clock.lap(Self.phases.bookkeeping)
        }
        return out
    }

    /// The forward's parts, as `attnbench profile` names them: all are fused in one loop over
    /// tiles, so each is a sum of per-tile spans.
    static let phases = (
        products: Phase.named("tile products"), softmax: Phase.named("online softmax and rescaling"),
        packing: Phase.named("packing"), bookkeeping: Phase.named("row bookkeeping")
    )

    /// `row[c] ← row[c] · factor` for `c < count`.
    @inline(__always)
    static func multiply(_ row: UnsafeMutablePointer<Float>, count: Int, by factor: Float) {
        for c in 0..<count { row[c] *= factor }
    }

    /// One worker's scratch, in floats: the `B_q × B_k` score tile (rows padded to a multiple of 16
    /// keys for the micro-kernels), K_jᵀ packed for them (``FlashTiles/packedFloats(keys:headDim:)``,
    /// none for OpenBLAS), then `B_q` running maxima, sums and rescaling factors, and 8·`B_q` lanes
    /// of block maxima.
    struct Scratch {
        let tileStride, packedKeys, maxima, sums, rescales, blockMaxima, floats: Int

        init(_ blocks: Blocks, headDim d: Int, simd: Bool) {
            let (bq, bk) = (blocks.query, blocks.key)
            tileStride =
                simd ? .saturatingProduct((bk + FlashTiles.width - 1) / FlashTiles.width, FlashTiles.width) : bk
            packedKeys = Int.saturatingProduct(bq, tileStride)
            maxima = Int.saturatingSum(packedKeys, simd ? FlashTiles.packedFloats(keys: bk, headDim: d) : 0)
            sums = Int.saturatingSum(maxima, bq)
            rescales = Int.saturatingSum(sums, bq)
            blockMaxima = Int.saturatingSum(rescales, bq)
            floats = Int.saturatingSum(blockMaxima, .saturatingProduct(8, bq))  // 8 lanes per row
        }
    }

    /// The cost at the current thread count (``ComputeThreads/current``), which sets the number of tiles held.
    public func cost(for shape: AttentionShape) -> AttentionCost {
        cost(for: shape, threads: ComputeThreads.current)
    }

    /// FLOPs of the products computed: `4·d·Σ rows·keys` per slice over the query blocks, where a
    /// block sees all n keys, or (causal) the keys up to its last row; intermediates: one ``Scratch``
    /// per worker, `min(threads, b·h·⌈n/B_q⌉)` workers; output `b·h·n·d`.
    public func cost(for shape: AttentionShape, threads: Int) -> AttentionCost {
        let (n, d) = (shape.length, shape.headDim)
        let bq = blocks.query
        let queryBlocks = n / bq + (n % bq == 0 ? 0 : 1)
        let workers = max(min(threads, Int.saturatingProduct(shape.slices, queryBlocks)), 1)
        let products: Double  // Σ over query blocks of rows × keys seen
        if isCausal {
            // full blocks b = 0…F−1 see (b+1)·B_q keys; a tail of t rows sees all n.
            let (full, tail) = (Double(n / bq), Double(n % bq))
            products = Double(bq) * Double(bq) * full * (full + 1) / 2 + tail * Double(n)
        } else {
            products = Double(n) * Double(n)
        }
        return AttentionCost(
            flops: Double(shape.batch) * Double(shape.heads) * 4 * Double(d) * products,
            intermediateBytes: AttentionCost.floats(
                workers, Scratch(blocks, headDim: d, simd: usesMicroKernels(headDim: d)).floats),
            outputBytes: AttentionCost.floats(shape.slices, n, d))
    }
}
