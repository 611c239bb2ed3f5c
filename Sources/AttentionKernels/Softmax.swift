/// Numerically stable row softmax over float32, with a vectorised `exp`.
///
/// Implementation goals, in order of priority:
/// 1. Stability: every row is shifted by its maximum before `exp`, so no term exceeds 1 and the
///    sum lies in [1, n]; a row whose entries are all `-inf` (fully masked, or empty) becomes zeros
///    instead of `0/0 = NaN`.
/// 2. Accuracy: ``exp(_:)`` is within 2 ulp of the true value for x in [-87.3, 88] (Cephes' `expf`
///    polynomial); below -87.3 it returns 0, where the true value is under 1.2e-38.
/// 3. Speed: 16 lanes at a time (one AVX-512 register), three passes over a row that stays in L1.
public enum Softmax {
    public typealias Vector = SIMD16<Float>

    /// In place: `x[j] ← exp(x[j] − max) / Σ exp(x[i] − max)` for `j < valid`, and `x[j] ← 0` for
    /// `valid ≤ j < count` (the masked tail of a causal row). Costs about `count` exps and 3 passes.
    @inline(__always)
    public static func normalize(_ x: UnsafeMutablePointer<Float>, valid: Int, count: Int) {
        let sum = exponentiate(x, valid: valid, count: count)
        guard sum > 0 else { return }
        // pass 3: scale by 1/sum (sum ≥ 1 because the maximum contributes exp(0) = 1).
        let inverse = Vector(repeating: 1 / sum)
        var j = 0
        while j + Vector.scalarCount <= valid {
            store(load(x + j) * inverse, x + j)
            j += Vector.scalarCount
        }
        while j < valid { x[j] *= inverse[0]; j += 1 }
    }

    /// The first two passes of ``normalize(_:valid:count:)``: in place `x[j] ← exp(x[j] − max)`
    /// (0 in the masked tail), returning the sum Σ exp(x[j] − max), which is ≥ 1, or 0 for a fully
    /// masked row (then the row is all zeros). Attention kernels divide their output rows by it
    /// instead of scaling all `count` weights: d divisions per row instead of n multiplications.
    @inline(__always)
    public static func exponentiate(_ x: UnsafeMutablePointer<Float>, valid: Int, count: Int) -> Float {
        // pass 1: the row maximum, so every exponent is ≤ 0.
        var maxVector = Vector(repeating: -.infinity)
        var j = 0
        while j + Vector.scalarCount <= valid {
            let v = load(x + j)
            maxVector = maxVector.replacing(with: v, where: v .> maxVector)
            j += Vector.scalarCount
        }
        var rowMax = maxVector.max()
        while j < valid { rowMax = max(rowMax, x[j]); j += 1 }

        guard rowMax > -.infinity else {  // empty or fully masked row: no probability mass anywhere.
            x.update(repeating: 0, count: count)
            return 0
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

    /// `row[c] ← row[c] / sum` for `c < count` (no change when `sum` is 0: a fully masked row).
    @inline(__always)
    public static func divide(_ row: UnsafeMutablePointer<Float>, count: Int, by sum: Float) {
        guard sum > 0 else { return }
        let inverse = 1 / sum
        for c in 0..<count { row[c] *= inverse }
    }

    /// Lane-wise `e^x`: Cody–Waite range reduction `x = m·ln2 + r`, |r| ≤ ln2/2, a degree-7
    /// polynomial for `e^r` (Cephes `expf` coefficients, rel. error < 2 ulp), and `2^m` built in
    /// the exponent bits. Inputs are clamped to [-87.3, 88]; below -87.3 (and at -inf) it returns 0.
    @inline(__always)
    public static func exp(_ x: Vector) -> Vector {
        let lowest: Float = -87.33654  // ln(2^-126): smaller inputs would need a subnormal 2^m.
        let low = Vector(repeating: lowest), high = Vector(repeating: 88)
        let clamped = x.replacing(with: low, where: x .< low).replacing(with: high, where: x .> high)
        // m = round(x / ln 2): adding 1.5·2^23 rounds to an integer kept in the low mantissa bits.
        let magic = Vector(repeating: 12_582_912)
        let shifted = clamped * Vector(repeating: 1.442_695_04) + magic
        let m = shifted - magic
        // r = x − m·ln2 in two steps, so m·ln2_hi is exact (ln2_hi has 9 significant bits).
        var r = clamped - m * Vector(repeating: 0.693_359_375)
        r = r - m * Vector(repeating: -2.121_944_4e-4)
        var p = Vector(repeating: 1.987_569_15e-4)
        p = p * r + Vector(repeating: 1.398_199_95e-3)
        p = p * r + Vector(repeating: 8.333_451_9e-3)
        p = p * r + Vector(repeating: 4.166_579_59e-2)
        p = p * r + Vector(repeating: 1.666_666_55e-1)
        p = p * r + Vector(repeating: 5.000_000_12e-1)
        p = p * (r * r) + r + Vector(repeating: 1)
        // 2^m: the integer m sits in the low bits of `shifted`; move it into the exponent field.
        let mBits = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- unsafeBitCast(magic, to: SIMD16<Int32>.self)
        let scale = unsafeBitCast((mBits &+ 127) &<< 23, to: Vector.self)
        let result = p * scale
        return result.replacing(with: 0, where: x .< Vector(repeating: lowest))
    }

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> Vector {
        UnsafeRawPointer(p).loadUnaligned(as: Vector.self)
    }

    @inline(__always)
    static func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector.self)
    }

    @inline(__always)
    static func loadPartial(_ p: UnsafePointer<Float>, _ count: Int, padding: Float) -> Vector {
        var v = Vector(repeating: padding)
        for t in 0..<count { v[t] = p[t] }
        return v
    }
}
