/// The two tile products of ``FlashAttention`` as SIMD micro-kernels, for head dimensions that are
/// a multiple of 16 (d = 64 in every preset):
///
///     S = α·Q_b K_jᵀ                          [rows, d]·[d, cols] → [rows, cols]
///     O_b ← O_b·diag(r) + P V_j                [rows, cols]·[cols, d] → [rows, d]
///
/// Why not OpenBLAS: a tile is small (64 × 512 × 64) and `sgemm` packs both operands and zeroes
/// its output on every call; profiled at n = 4096, 2 threads, that packing (`sgemm_incopy`,
/// `_itcopy`, `_oncopy`) and zeroing (`sgemm_beta`) took a quarter of flash attention's time. Here
/// only K_j is repacked, transposed into panels of 16 keys (`[d][16]`, ``packTransposed(_:into:)``),
/// once per key block for all the block's query rows; Q, P and V are read where they are; the
/// scale α and the rescaling r of the online softmax are applied as the accumulators are stored.
///
/// Register blocking (AVX2, 16 ymm registers): 6 rows × 16 columns, 12 accumulators of 8 lanes;
/// each step loads two vectors and broadcasts six scalars for 12 FMAs, so the FMA units, not the
/// loads, set the pace, and 12 independent chains cover the FMA latency (4 cycles × 2 units).
/// Rows past a multiple of 6 go four, then one at a time.
enum FlashTiles {
    typealias Lanes = SIMD8<Float>
    /// Keys per packed panel, and output columns per micro-tile.
    static let width = 16

    /// Whether the micro-kernels handle head dimension `d` (a positive multiple of 16).
    static func supports(headDim d: Int) -> Bool { d > 0 && d % width == 0 }

    /// Floats of the packed Kᵀ of a block of `keys` keys: panels of 16 keys (the last zero-padded) × d.
    static func packedFloats(keys: Int, headDim d: Int) -> Int {
        .saturatingProduct((keys + width - 1) / width, width, d)
    }

    /// `packed[p·16·d + l·16 + t] = k[16p + t, l]`: K's rows (keys) as transposed panels of 16, the
    /// last panel's missing keys 0. `k` is `[keys, d]`.
    static func packTransposed(_ k: MatrixView, into packed: UnsafeMutablePointer<Float>) {
        let d = k.cols
        for panelStart in stride(from: 0, to: k.rows, by: width) {
            let panel = packed + panelStart * d
            let count = min(width, k.rows - panelStart)
            for t in 0..<count {
                let row = k.row(panelStart + t)
                for l in 0..<d { panel[l * width + t] = row[l] }
            }
            if count < width { for l in 0..<d { for t in count..<width { panel[l * width + t] = 0 } } }
        }
    }

    /// `s[i, j] = alpha · Σ_l q[i, l]·k[j, l]` for `i < q.rows`, `j < cols`, with K packed by
    /// ``packTransposed(_:into:)``; and `maxima[i] = max_{j<cols} s[i, j]` (NaN skipped), found as
    /// the scores are stored, which saves the softmax a pass (`maxima` has room for 8 lanes per
    /// row, reduced to one value per row at the end). Writes whole panels: `s.rowStride` must be at
    /// least `cols` rounded up to 16 (the padding columns get scores against the zero keys, which
    /// the maxima leave out).
    ///
    /// Keys in another layout: key j, dimension l at `keys[j·keyStride + l·depthStride]`, 16
    /// consecutive keys contiguous: packed panels are `keyStride = d, depthStride = 16`; a
    /// row-major Kᵀ (`[d, cols]`, cols a multiple of 16, no padding) is `keyStride = 1,
    /// depthStride = cols`. Without `maxima` no maxima are kept.
    static func scores(
        _ q: MatrixView, packedKeys: UnsafePointer<Float>, cols: Int, alpha: Float, into s: MatrixView,
        maxima: UnsafeMutablePointer<Float>?, keyStride: Int? = nil, depthStride: Int = width
    ) {
        let d = q.cols
        let scale = Lanes(repeating: alpha)
        maxima?.update(repeating: -.infinity, count: q.rows * Lanes.scalarCount)
        let fullPanels = cols / width * width
        for panelStart in stride(from: 0, to: cols, by: width) {
            let padded = panelStart == fullPanels  // the last panel, with keys past `cols`
            let panel = packedKeys + panelStart * (keyStride ?? d)
            var i = 0
            while i + 6 <= q.rows {
                let (q0, q1, q2) = (UnsafePointer(q.row(i)), UnsafePointer(q.row(i + 1)), UnsafePointer(q.row(i + 2)))
                let (q3, q4, q5) = (
                    UnsafePointer(q.row(i + 3)), UnsafePointer(q.row(i + 4)), UnsafePointer(q.row(i + 5))
                )
                var (c00, c01, c10, c11) = (Lanes(), Lanes(), Lanes(), Lanes())
                var (c20, c21, c30, c31) = (Lanes(), Lanes(), Lanes(), Lanes())
                var (c40, c41, c50, c51) = (Lanes(), Lanes(), Lanes(), Lanes())
                var b = panel
                for l in 0..<d {
                    let (b0, b1) = (load(b), load(b + 8))
                    b += depthStride
                    var a = Lanes(repeating: q0[l])
                    c00.addProduct(a, b0)
                    c01.addProduct(a, b1)
                    a = Lanes(repeating: q1[l])
                    c10.addProduct(a, b0)
                    c11.addProduct(a, b1)
                    a = Lanes(repeating: q2[l])
                    c20.addProduct(a, b0)
                    c21.addProduct(a, b1)
                    a = Lanes(repeating: q3[l])
                    c30.addProduct(a, b0)
                    c31.addProduct(a, b1)
                    a = Lanes(repeating: q4[l])
                    c40.addProduct(a, b0)
                    c41.addProduct(a, b1)
                    a = Lanes(repeating: q5[l])
                    c50.addProduct(a, b0)
                    c51.addProduct(a, b1)
                }
                let valid = cols - panelStart
                finish(
                    c00 * scale, c01 * scale, s.row(i) + panelStart, maxima.map { $0 + i * 8 }, padded: padded,
                    valid: valid)
                finish(
                    c10 * scale, c11 * scale, s.row(i + 1) + panelStart, maxima.map { $0 + (i + 1) * 8 },
                    padded: padded, valid: valid)
                finish(
                    c20 * scale, c21 * scale, s.row(i + 2) + panelStart, maxima.map { $0 + (i + 2) * 8 },
                    padded: padded, valid: valid)
                finish(
                    c30 * scale, c31 * scale, s.row(i + 3) + panelStart, maxima.map { $0 + (i + 3) * 8 },
                    padded: padded, valid: valid)
                finish(
                    c40 * scale, c41 * scale, s.row(i + 4) + panelStart, maxima.map { $0 + (i + 4) * 8 },
                    padded: padded, valid: valid)
                finish(
                    c50 * scale, c51 * scale, s.row(i + 5) + panelStart, maxima.map { $0 + (i + 5) * 8 },
                    padded: padded, valid: valid)
                i += 6
            }
            while i + 4 <= q.rows {
                let (q0, q1, q2, q3) = (
                    UnsafePointer(q.row(i)), UnsafePointer(q.row(i + 1)), UnsafePointer(q.row(i + 2)),
                    UnsafePointer(q.row(i + 3))
                )
                var (c00, c01, c10, c11) = (Lanes(), Lanes(), Lanes(), Lanes())
                var (c20, c21, c30, c31) = (Lanes(), Lanes(), Lanes(), Lanes())
                var b = panel
                for l in 0..<d {
                    let (b0, b1) = (load(b), load(b + 8))
                    b += depthStride
                    var a = Lanes(repeating: q0[l])
                    c00.addProduct(a, b0)
                    c01.addProduct(a, b1)
                    a = Lanes(repeating: q1[l])
                    c10.addProduct(a, b0)
                    c11.addProduct(a, b1)
                    a = Lanes(repeating: q2[l])
                    c20.addProduct(a, b0)
                    c21.addProduct(a, b1)
                    a = Lanes(repeating: q3[l])
                    c30.addProduct(a, b0)
                    c31.addProduct(a, b1)
                }
                let (s0, s1, s2, s3) = (
                    s.row(i) + panelStart, s.row(i + 1) + panelStart, s.row(i + 2) + panelStart,
                    s.row(i + 3) + panelStart
                )
                finish(
                    c00 * scale, c01 * scale, s0, maxima.map { $0 + i * 8 }, padded: padded, valid: cols - panelStart)
                finish(
                    c10 * scale, c11 * scale, s1, maxima.map { $0 + (i + 1) * 8 }, padded: padded,
                    valid: cols - panelStart)
                finish(
                    c20 * scale, c21 * scale, s2, maxima.map { $0 + (i + 2) * 8 }, padded: padded,
                    valid: cols - panelStart)
                finish(
                    c30 * scale, c31 * scale, s3, maxima.map { $0 + (i + 3) * 8 }, padded: padded,
                    valid: cols - panelStart)
                i += 4
            }
            while i < q.rows {
                let q0 = UnsafePointer(q.row(i))
                var (c0, c1) = (Lanes(), Lanes())
                var b = panel
                for l in 0..<d {
                    let a = Lanes(repeating: q0[l])
                    c0.addProduct(a, load(b))
                    c1.addProduct(a, load(b + 8))
                    b += depthStride
                }
                finish(
                    c0 * scale, c1 * scale, s.row(i) + panelStart, maxima.map { $0 + i * 8 }, padded: padded,
                    valid: cols - panelStart)
                i += 1
            }
        }
        guard let maxima else { return }
        for i in 0..<q.rows {  // 8 lanes → 1 (row i's lanes start at 8i ≥ i, read before i is written)
            let m = load(maxima + i * 8)
            let m4 = m.lowHalf.replacing(with: m.highHalf, where: m.highHalf .> m.lowHalf)
            maxima[i] = max(max(m4[0], m4[1]), max(m4[2], m4[3]))
        }
    }

    /// Stores 16 scores of a row and raises the row's maximum with them (with only the first
    /// `valid` of them in the last, padded panel).
    @inline(__always)
    static func finish(
        _ c0: Lanes, _ c1: Lanes, _ s: UnsafeMutablePointer<Float>, _ maximum: UnsafeMutablePointer<Float>?,
        padded: Bool, valid: Int
    ) {
        store(c0, s)
        store(c1, s + 8)
        guard let maximum else { return }
        var m = load(maximum)
        if !padded {
            m = m.replacing(with: c0, where: c0 .> m)
            m = m.replacing(with: c1, where: c1 .> m)
        } else {
            for t in 0..<min(valid, width) where s[t] > m[t % 8] { m[t % 8] = s[t] }
        }
        store(m, maximum)
    }

    /// `o[i, :] ← o[i, :]·rescale[i] + Σ_{j<cols} p[i, j]·v[j, :]`, or without the first term when
    /// `first` (o is then not read). `p` is `[rows, ≥ cols]`, `v` is `[cols, d]`, `o` is `[rows, d]`
    /// with d a multiple of 16.
    static func accumulate(
        _ p: MatrixView, _ v: MatrixView, cols: Int, into o: MatrixView, rescale: UnsafePointer<Float>, first: Bool
    ) {
        let d = o.cols
        for column in stride(from: 0, to: d, by: width) {
            var i = 0
            while i + 6 <= o.rows {
                let (p0, p1, p2) = (UnsafePointer(p.row(i)), UnsafePointer(p.row(i + 1)), UnsafePointer(p.row(i + 2)))
                let (p3, p4, p5) = (
                    UnsafePointer(p.row(i + 3)), UnsafePointer(p.row(i + 4)), UnsafePointer(p.row(i + 5))
                )
                var (c00, c01, c10, c11) = (Lanes(), Lanes(), Lanes(), Lanes())
                var (c20, c21, c30, c31) = (Lanes(), Lanes(), Lanes(), Lanes())
                var (c40, c41, c50, c51) = (Lanes(), Lanes(), Lanes(), Lanes())
                var b = UnsafePointer(v.row(0) + column)
                for j in 0..<cols {
                    let (b0, b1) = (load(b), load(b + 8))
                    b += v.rowStride
                    var a = Lanes(repeating: p0[j])
                    c00.addProduct(a, b0)
                    c01.addProduct(a, b1)
                    a = Lanes(repeating: p1[j])
                    c10.addProduct(a, b0)
                    c11.addProduct(a, b1)
                    a = Lanes(repeating: p2[j])
                    c20.addProduct(a, b0)
                    c21.addProduct(a, b1)
                    a = Lanes(repeating: p3[j])
                    c30.addProduct(a, b0)
                    c31.addProduct(a, b1)
                    a = Lanes(repeating: p4[j])
                    c40.addProduct(a, b0)
                    c41.addProduct(a, b1)
                    a = Lanes(repeating: p5[j])
                    c50.addProduct(a, b0)
                    c51.addProduct(a, b1)
                }
                update(o.row(i) + column, c00, c01, rescale[i], first)
                update(o.row(i + 1) + column, c10, c11, rescale[i + 1], first)
                update(o.row(i + 2) + column, c20, c21, rescale[i + 2], first)
                update(o.row(i + 3) + column, c30, c31, rescale[i + 3], first)
                update(o.row(i + 4) + column, c40, c41, rescale[i + 4], first)
                update(o.row(i + 5) + column, c50, c51, rescale[i + 5], first)
                i += 6
            }
            while i + 4 <= o.rows {
                let (p0, p1, p2, p3) = (
                    UnsafePointer(p.row(i)), UnsafePointer(p.row(i + 1)), UnsafePointer(p.row(i + 2)),
                    UnsafePointer(p.row(i + 3))
                )
                var (c00, c01, c10, c11) = (Lanes(), Lanes(), Lanes(), Lanes())
                var (c20, c21, c30, c31) = (Lanes(), Lanes(), Lanes(), Lanes())
                var b = UnsafePointer(v.row(0) + column)
                for j in 0..<cols {
                    let (b0, b1) = (load(b), load(b + 8))
                    b += v.rowStride
                    var a = Lanes(repeating: p0[j])
                    c00.addProduct(a, b0)
                    c01.addProduct(a, b1)
                    a = Lanes(repeating: p1[j])
                    c10.addProduct(a, b0)
                    c11.addProduct(a, b1)
                    a = Lanes(repeating: p2[j])
                    c20.addProduct(a, b0)
                    c21.addProduct(a, b1)
                    a = Lanes(repeating: p3[j])
                    c30.addProduct(a, b0)
                    c31.addProduct(a, b1)
                }
                update(o.row(i) + column, c00, c01, rescale[i], first)
                update(o.row(i + 1) + column, c10, c11, rescale[i + 1], first)
                update(o.row(i + 2) + column, c20, c21, rescale[i + 2], first)
                update(o.row(i + 3) + column, c30, c31, rescale[i + 3], first)
                i += 4
            }
            while i < o.rows {
                let p0 = UnsafePointer(p.row(i))
                var (c0, c1) = (Lanes(), Lanes())
                var b = UnsafePointer(v.row(0) + column)
                for j in 0..<cols {
                    let a = Lanes(repeating: p0[j])
                    c0.addProduct(a, load(b))
                    c1.addProduct(a, load(b + 8))
                    b += v.rowStride
                }
                update(o.row(i) + column, c0, c1, rescale[i], first)
                i += 1
            }
        }
    }

    /// 16 floats of an output row: `x ← x·r + (c0, c1)`, or `x ← (c0, c1)` on the first block.
    @inline(__always)
    static func update(_ x: UnsafeMutablePointer<Float>, _ c0: Lanes, _ c1: Lanes, _ r: Float, _ first: Bool) {
        if first {
            store(c0, x)
            store(c1, x + 8)
        } else {
            let factor = Lanes(repeating: r)
            store(c0.addingProduct(load(x), factor), x)
            store(c1.addingProduct(load(x + 8), factor), x + 8)
        }
    }

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> Lanes { UnsafeRawPointer(p).loadUnaligned(as: Lanes.self) }

    @inline(__always)
    static func load(_ p: UnsafeMutablePointer<Float>) -> Lanes { UnsafeRawPointer(p).loadUnaligned(as: Lanes.self) }

    @inline(__always)
    static func store(_ v: Lanes, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: Lanes.self)
    }
}
