import AttentionKernels

/// GELU in BERT's tanh approximation (Hendrycks & Gimpel 2016, Eq. 4; Google's BERT `gelu`,
/// PyTorch `gelu(approximate="tanh")`), the activation of the encoder layer's FFN:
///
///     GELU(x) = ½·x·(1 + tanh(r)),   r = √(2/π)·(x + 0.044715·x³)
///             = x·σ(2r) = x / (1 + e),   e = exp(−2r)
///
/// and its derivative, with s = 1/(1 + e) = σ(2r) and 1 − s = e·s:
///
///     GELU′(x) = s + x·2r′·s·(1 − s) = s + 2·√(2/π)·x·(1 + 3·0.044715·x²)·(e·s)·s
///
/// Numerical trick: the sigmoid form x/(1 + e) instead of ½x(1 + tanh r): for x ≪ 0, 1 + tanh r
/// cancels (tanh r → −1) and loses every digit, while x/(1 + e) keeps its relative accuracy; it
/// needs one vectorised `exp` (``Softmax/exp(_:)-(Softmax.Vector)``, 2 ulp) and no `tanh`. Beyond
/// the exp's range (|2r| > 87, |x| ≳ 9.4) e is clamped: GELU is then x itself (x > 0) or a value
/// below |x|·e⁻⁸⁷ (x < 0), never NaN or ±inf. ``ReferenceLayer/gelu(_:)`` derives the rounding
/// bound: relative 6u + 7u·|2r| on GELU, plus the absolute e⁻⁸⁷ term past the range.
///
/// Cost: about 10 element-wise operations and one exp per element (not counted as FLOPs).
package enum GELU {
    /// √(2/π) and the cubic coefficient 0.044715 (each within u of the real number).
    static let c: Float = 0.797_884_560_8
    static let a: Float = 0.044_715
    /// −2·√(2/π) (the exponent's scale), 2·√(2/π) and 3·0.044715 (the derivative's), each within u.
    static let minusTwoC: Float = -1.595_769_121_6
    static let twoC: Float = 1.595_769_121_6
    static let threeA: Float = 0.134_145

    typealias Vector = Softmax.Vector

    /// e = exp(−2r) on 16 lanes.
    @_transparent
    static func exponential(_ x: Vector) -> Vector {
        let x2 = x * x
        let inner = x + (Vector(repeating: a) * x2) * x
        return Softmax.exp(Vector(repeating: minusTwoC) * inner)
    }

    /// GELU(x) = x / (1 + e) on 16 lanes.
    @_transparent
    static func value(_ x: Vector) -> Vector { x / (1 + exponential(x)) }

    /// GELU′(x) = s + 2c·x·(1 + 3a·x²)·(e·s)·s on 16 lanes.
    @_transparent
    static func derivative(_ x: Vector) -> Vector {
        let e = exponential(x)
        let s = 1 / (1 + e)
        let slope = Vector(repeating: twoC) * x * (1 + Vector(repeating: threeA) * (x * x))
        return s + slope * (e * s) * s
    }

    /// `dst[c] = GELU(src[c])` for `c < count` (`dst` may be `src`).
    @inline(__always)
    static func apply(_ src: UnsafeMutablePointer<Float>, into dst: UnsafeMutablePointer<Float>, count: Int) {
        var c = 0
        while c + Vector.scalarCount <= count {
            Softmax.store(value(Softmax.load(src + c)), dst + c)
            c += Vector.scalarCount
        }
        if c < count {
            let y = value(Softmax.loadPartial(src + c, count - c, padding: 0))
            for t in 0..<(count - c) { dst[c + t] = y[t] }
        }
    }

    /// `gradient[c] ← gradient[c]·GELU′(x[c])` for `c < count`: the chain rule through GELU, in place.
    @inline(__always)
    static func multiplyByDerivative(
        _ gradient: UnsafeMutablePointer<Float>, at x: UnsafeMutablePointer<Float>, count: Int
    ) {
        var c = 0
        while c + Vector.scalarCount <= count {
            Softmax.store(Softmax.load(gradient + c) * derivative(Softmax.load(x + c)), gradient + c)
            c += Vector.scalarCount
        }
        if c < count {
            let slope = derivative(Softmax.loadPartial(x + c, count - c, padding: 0))
            for t in 0..<(count - c) { gradient[c + t] *= slope[t] }
        }
    }

    /// GELU of every element of `src` into `dst` (same shape; may be the same matrix), rows split
    /// across threads.
    package static func apply(_ src: MatrixView, into dst: MatrixView) {
        precondition(src.rows == dst.rows && src.cols == dst.cols, "GELU: shapes differ")
        ComputeThreads.parallelFor(src.rows) { range in
            for i in range { apply(src.row(i), into: dst.row(i), count: src.cols) }
        }
    }

    /// `gradient ← gradient ∘ GELU′(x)` over a matrix, rows split across threads.
    static func multiplyByDerivative(_ gradient: MatrixView, at x: MatrixView) {
        precondition(gradient.rows == x.rows && gradient.cols == x.cols, "GELU backward: shapes differ")
        ComputeThreads.parallelFor(x.rows) { range in
            for i in range { multiplyByDerivative(gradient.row(i), at: x.row(i), count: x.cols) }
        }
    }

    /// GELU of one scalar, through the vector path (for tests).
    package static func value(_ x: Float) -> Float { value(Vector(repeating: x))[0] }
    /// GELU′ of one scalar, through the vector path (for tests).
    package static func derivative(_ x: Float) -> Float { derivative(Vector(repeating: x))[0] }
}
