/// Numerically stable row softmax over float32, with a vectorised `exp`.
///
/// Implementation goals, in order of priority:
/// 1. Stability: every row is shifted by its maximum before `exp`, so no term exceeds 1 and the
///    sum lies in [1, n]; masking is by position (`valid`), never by −inf scores, and non-finite
///    scores propagate as in the naive formula (NaN rows), as ``ReferenceAttention`` does.
/// 2. Accuracy: ``exp(_:)`` is within 2 ulp of the true value for x in [-87.3, 88] (Cephes' `expf`
///    polynomial); below -87.3 it returns 0, where the true value is under 1.2e-38.
/// 3. Speed: 16 lanes at a time (one AVX-512 register), two passes over a row that stays in L1; the
///    division by the sum is deferred to the `d` outputs of the row (``divide(_:count:by:)``).
public enum Softmax {
    public typealias Vector = SIMD16<Float>

    /// In place `x[j] ← exp(x[j] − max)` for `j < valid` and `x[j] ← 0` for `valid ≤ j < count` (the
    /// masked tail of a causal row), returning the sum Σ_{j<valid} exp(x[j] − max), which is ≥ 1 (the
    /// maximum contributes exp(0) = 1). Attention kernels divide their output rows by it instead of
    /// scaling all `count` weights: d divisions per row instead of n multiplications. About `valid`
    /// exps and two passes over a row that stays in L1.
    ///
    /// Non-finite scores give what the naive formula (and ``ReferenceAttention``) gives: a NaN or a
    /// +inf score (+inf − +inf = NaN), or a row whose valid scores are all −inf (−inf − −inf = NaN),
    /// makes every valid weight NaN and returns NaN, so the whole output row becomes NaN; a −inf
    /// score among finite ones gets weight exactly 0. The row-max pass stays a vectorised select;
    /// beside it, `poison += x − x` (0 for a finite x, NaN for NaN or ±inf: one subtraction and one
    /// addition per 16 lanes) flags a row that holds any non-finite score, and only such a row
    /// takes a scalar pass that finds its true maximum.
    @inline(__always)
    public static func exponentiate(_ x: UnsafeMutablePointer<Float>, valid: Int, count: Int) -> Float {
        // pass 1: the row maximum, so every exponent is ≤ 0.
        var maxVector = Vector(repeating: -.infinity)
        var poison = Vector()
        var j = 0
        while j + Vector.scalarCount <= valid {
            let v = load(x + j)
            maxVector = maxVector.replacing(with: v, where: v .> maxVector)
            poison += v - v
            j += Vector.scalarCount
        }
        var rowMax = maxVector.max()
        var tailPoison: Float = 0
        while j < valid {
            rowMax = max(rowMax, x[j])
            tailPoison += x[j] - x[j]
            j += 1
        }
        if !(poison.sum() + tailPoison).isFinite { rowMax = nonFiniteMaximum(x, count: valid) }

        guard rowMax.isFinite else {  // NaN or +inf in the row, or nothing but −inf: NaN weights.
            x.update(repeating: .nan, count: valid)
            (x + valid).update(repeating: 0, count: count - valid)
            return .nan
        }
        // pass 2: exponentiate in place and sum (lane-wise partial sums, reduced once).
        let shift = Vector(repeating: rowMax)
        var sumVector = Vector()
        j = 0
        while j + Vector.scalarCount <= valid {
            let e = exp(load(x + j) - shift)
            store(e, x + j)
            sumVector += e
            j += Vector.scalarCount
        }
        var sum = sumVector.sum()
        if j < valid {  // the tail, padded with -inf so its padding lanes contribute exp(-inf) = 0.
            let e = exp(loadPartial(x + j, valid - j, padding: -.infinity) - shift)
            for t in 0..<(valid - j) { x[j + t] = e[t] }
            sum += e.sum()
        }
        if valid < count { (x + valid).update(repeating: 0, count: count - valid) }
        return sum
    }

    /// The maximum of `x[0..<count]` with NaN winning (Swift's `max` and a select both drop it):
    /// the slow path of a row that holds a non-finite score; −inf for an empty row.
    static func nonFiniteMaximum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var result = -Float.infinity
        for j in 0..<count {
            if x[j].isNaN { return .nan }
            result = max(result, x[j])
        }
        return result
    }

    /// `row[c] ← row[c] · (1 / sum)` for `c < count`: one division, then `count` multiplications.
    /// A NaN sum (a NaN row, see ``exponentiate(_:valid:count:)``) makes the row NaN.
    @inline(__always)
    public static func divide(_ row: UnsafeMutablePointer<Float>, count: Int, by sum: Float) {
        let inverse = 1 / sum
        for c in 0..<count { row[c] *= inverse }
    }

    /// Lane-wise `e^x` on 16 lanes: ``exp(_:)-(SIMD8<Float>)`` on each half.
    ///
    /// `@_transparent`, not `@inline(__always)`, on both: the compiler (Swift 6.3, -O) kept
    /// `@inline(__always)` exp as a call, which passes the vector in halves and reloads a dozen
    /// constants per call (its cost in flash attention: `Results/NOTES-kernels.md`).
    @_transparent
    public static func exp(_ x: Vector) -> Vector {
        Vector(lowHalf: exp(x.lowHalf), highHalf: exp(x.highHalf))
    }

    /// Lane-wise `e^x`: Cody–Waite range reduction `x = m·ln2 + r`, |r| ≤ ln2/2, a degree-7
    /// polynomial for `e^r` (Cephes `expf` coefficients, rel. error < 2 ulp), and `2^m` built in
    /// the exponent bits. Inputs are clamped to [-87.3, 88]; below -87.3 (and at -inf) it returns 0.
    /// Eight lanes (one AVX2 register), every multiply-add fused (`addingProduct`, one rounding
    /// instead of two: Swift does not contract `a * b + c` by itself): about 16 instructions per 8
    /// values, the cost that decides how fast softmax attention can get next to its GEMMs.
    @_transparent
    public static func exp(_ x: SIMD8<Float>) -> SIMD8<Float> {
        typealias V = SIMD8<Float>
        let lowest: Float = -87.33654  // ln(2^-126): smaller inputs would need a subnormal 2^m.
        let low = V(repeating: lowest)
        let high = V(repeating: 88)
        let clamped = x.replacing(with: low, where: x .< low).replacing(with: high, where: x .> high)
        // m = round(x / ln 2): adding 1.5·2^23 rounds to an integer kept in the low mantissa bits.
        let magic = V(repeating: 12_582_912)
        let shifted = magic.addingProduct(clamped, V(repeating: 1.442_695_04))
        let m = shifted - magic
        // r = x − m·ln2 in two steps, so m·ln2_hi is exact (ln2_hi has 9 significant bits).
        var r = clamped.addingProduct(m, V(repeating: -0.693_359_375))
        r = r.addingProduct(m, V(repeating: 2.121_944_4e-4))
        var p = V(repeating: 1.987_569_15e-4)
        p = V(repeating: 1.398_199_95e-3).addingProduct(p, r)
        p = V(repeating: 8.333_451_9e-3).addingProduct(p, r)
        p = V(repeating: 4.166_579_59e-2).addingProduct(p, r)
        p = V(repeating: 1.666_666_55e-1).addingProduct(p, r)
        p = V(repeating: 5.000_000_12e-1).addingProduct(p, r)
        p = (r + V(repeating: 1)).addingProduct(p, r * r)
        // 2^m: the integer m sits in the low bits of `shifted`; move it into the exponent field.
        let mBits = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- unsafeBitCast(magic, to: SIMD8<Int32>.self)
        let scale = unsafeBitCast((mBits &+ 127) &<< 23, to: V.self)
        let result = p * scale
        return result.replacing(with: 0, where: x .< V(repeating: lowest))
    }

    @inline(__always)
    package static func load(_ p: UnsafePointer<Float>) -> Vector {
        UnsafeRawPointer(p).loadUnaligned(as: Vector.self)
    }

    @inline(__always)
    package static func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector.self)
    }

    @inline(__always)
    package static func loadPartial(_ p: UnsafePointer<Float>, _ count: Int, padding: Float) -> Vector {
        var v = Vector(repeating: padding)
        for t in 0..<count { v[t] = p[t] }
        return v
    }
}
