/// The online softmax of a row seen one block at a time (Milakov & Gimelshein 2018, the heart of
/// FlashAttention): the row keeps its running maximum m and running sum l; a block of scores s
/// raises m to m' = max(m, max s), becomes weights exp(s − m'), and everything accumulated before
/// it is rescaled by exp(m − m'):
///
///     l ← l·exp(m − m') + Σ exp(s_j − m'),   O ← O·exp(m − m') + Σ exp(s_j − m')·v_j
///
/// After the last block, O / l is the softmax-weighted sum over the whole row, exactly as if the
/// row had been shifted by its true maximum (every exponent is ≤ 0, so nothing overflows).
/// Cost: two passes over the block (maximum, then exp and sum) and one `exp` for the rescaling.
extension Softmax {
    /// In place `x[j] ← exp(x[j] − m')` for `j < valid` and `x[j] ← 0` for `valid ≤ j < count` (the
    /// masked tail of a causal block); updates `runningMax` from m to m' and returns the block's
    /// sum Σ_{j<valid} exp(x[j] − m') and the factor exp(m − m') for what was accumulated before
    /// (1 when the maximum did not move, 0 on a row's first block, where m = −inf).
    ///
    /// Non-finite scores give what the naive formula gives over the whole row (``exponentiate(_:valid:count:)``):
    /// a NaN or +inf score makes m' NaN, the weights NaN and the factor NaN, and m stays NaN for
    /// every later block, so the whole output row is NaN. While every score seen so far is −inf,
    /// m' stays −inf and the block's weights are 0 with factor 1: the row's first finite score
    /// later starts it afresh, and a row that never gets one ends with l = 0 and O / l = NaN, as the
    /// naive formula's −inf − (−inf) does. A −inf score among finite ones gets weight exactly 0.
    ///
    /// `blockMax`, when the caller already has it (``FlashTiles/scores(_:packedKeys:cols:alpha:into:maxima:)``
    /// finds it as it stores the scores), is max x[j] over `j < valid` ignoring NaN, and saves a pass.
    @inline(__always)
    public static func exponentiate(
        _ x: UnsafeMutablePointer<Float>, valid: Int, count: Int, runningMax: inout Float, blockMax known: Float? = nil
    ) -> (sum: Float, rescale: Float) {
        typealias Lanes = SIMD8<Float>
        guard valid > 0 else {
            x.update(repeating: 0, count: count)
            return (0, 1)
        }
        var blockMax: Float
        if let known {
            blockMax = known
        } else {
            // pass 1: the block's maximum, with `poison` flagging a non-finite score (see exponentiate(_:valid:count:)).
            var maxVector = Lanes(repeating: -.infinity)
            var poison = Lanes()
            var j = 0
            while j + Lanes.scalarCount <= valid {
                let v = UnsafeRawPointer(x + j).loadUnaligned(as: Lanes.self)
                maxVector = maxVector.replacing(with: v, where: v .> maxVector)
                poison += v - v
                j += Lanes.scalarCount
            }
            blockMax = maxVector.max()
            var tailPoison: Float = 0
            while j < valid {
                blockMax = max(blockMax, x[j])
                tailPoison += x[j] - x[j]
                j += 1
            }
            if !(poison.sum() + tailPoison).isFinite { blockMax = nonFiniteMaximum(x, count: valid) }
        }

        let previous = runningMax
        var newMax = previous.isNaN || blockMax.isNaN ? Float.nan : max(previous, blockMax)
        // A maximum found without NaNs is −inf when the block holds nothing but −inf and NaN:
        // only a scalar pass tells the two apart (rare: it takes non-finite inputs).
        if newMax == -.infinity && known != nil && nonFiniteMaximum(x, count: valid).isNaN { newMax = .nan }
        runningMax = newMax
        if newMax == -.infinity {  // nothing but −inf so far: no weight yet.
            x.update(repeating: 0, count: count)
            return (0, 1)
        }
        guard newMax.isFinite else {  // NaN or +inf: the row is NaN from here on.
            x.update(repeating: .nan, count: valid)
            (x + valid).update(repeating: 0, count: count - valid)
            runningMax = .nan
            return (.nan, .nan)
        }
        // pass 2: exponentiate in place and sum (two lane-wise partial sums, reduced once). A NaN
        // score among finite ones (a NaN the maximum skipped) gives a NaN weight and a NaN sum.
        let shift = Lanes(repeating: newMax)
        var (sum0, sum1) = (Lanes(), Lanes())
        var j = 0
        while j + 2 * Lanes.scalarCount <= valid {
            let e0 = exp(UnsafeRawPointer(x + j).loadUnaligned(as: Lanes.self) - shift)
            let e1 = exp(UnsafeRawPointer(x + j + 8).loadUnaligned(as: Lanes.self) - shift)
            UnsafeMutableRawPointer(x + j).storeBytes(of: e0, as: Lanes.self)
            UnsafeMutableRawPointer(x + j + 8).storeBytes(of: e1, as: Lanes.self)
            sum0 += e0
            sum1 += e1
            j += 2 * Lanes.scalarCount
        }
        var sum = (sum0 + sum1).sum()
        while j < valid {  // the tail, padded with -inf so its padding lanes contribute exp(-inf) = 0.
            let count = min(valid - j, Lanes.scalarCount)
            var lanes = Lanes(repeating: -.infinity)
            for t in 0..<count { lanes[t] = x[j + t] }
            let e = exp(lanes - shift)
            for t in 0..<count { x[j + t] = e[t] }
            sum += e.sum()
            j += count
        }
        if valid < count { (x + valid).update(repeating: 0, count: count - valid) }
        let rescale = previous == newMax ? 1 : exp(Lanes(repeating: previous - newMax))[0]
        return (sum, rescale)
    }
}
