import AttentionKernels
import AttentionReference
import Foundation
import Testing

/// The row softmax as the kernels use it: ``Softmax/exponentiate(_:valid:count:)`` (exp(x − max) in
/// place, returning the sum) and ``Softmax/divide(_:count:by:)`` on the output row.
@Suite struct SoftmaxTests {
    static let u = ReferenceAttention.u

    /// The vectorised exp is within 2 ulp (relative 2·2⁻²³) of Float64 exp over its whole range.
    @Test func expIsWithinTwoUlp() {
        var worst = 0.0
        var x: Float = -87
        while x < 87.5 - 16 * 0.0137 {  // the documented range ends at 88
            var lanes = Softmax.Vector()
            for t in 0..<16 { lanes[t] = x + Float(t) * 0.0137 }
            let e = Softmax.exp(lanes)
            for t in 0..<16 {
                let exact = exp(Double(lanes[t]))
                worst = max(worst, abs(Double(e[t]) - exact) / exact)
            }
            x += 0.2191
        }
        #expect(worst <= 2 * Double(Float.ulpOfOne), "worst relative error \(worst)")
    }

    /// Every lane is checked: below −87.3 (and −inf) exp is exactly 0, exp(0) is exactly 1, the other
    /// lanes are within 2 ulp, and NaN stays NaN (linear attention's φ relies on it).
    @Test func expUnderflowsToZeroKeepsExactPointsAndNaN() {
        let x = Softmax.Vector(arrayLiteral: -.infinity, -1000, -88, 0, 1, -1, 2, 3, 4, 5, 6, 7, 8, 9, -50, .nan)
        let e = Softmax.exp(x)
        #expect(e[0] == 0 && e[1] == 0 && e[2] == 0)
        #expect(e[3] == 1)
        for t in 4..<15 {
            let exact = exp(Double(x[t]))
            #expect(
                abs(Double(e[t]) - exact) <= 2 * Double(Float.ulpOfOne) * exact, "lane \(t): exp(\(x[t])) = \(e[t])")
        }
        #expect(e[15].isNaN)
    }

    /// exp(x_j − max) for every valid entry, within the reference's element-wise bound (the float32
    /// subtraction errs by u·|x_j − max|, exp by 4u); exactly 1 at the maximum; exactly 0 for −inf
    /// entries and in the masked tail; and the returned sum within γ(valid) of the Float64 sum.
    @Test(arguments: [(1, 1), (5, 5), (16, 16), (17, 17), (100, 100), (19, 40), (33, 64)])
    func weightsAreShiftedExponentialsAndTheSumIsTheirs(valid: Int, count: Int) {
        var row = (0..<count).map { j in j % 5 == 3 ? -Float.infinity : Float(j % 7) * 0.9 - 2 }
        if valid == 1 { row[0] = 0.5 }
        let original = row
        let sum = row.withUnsafeMutableBufferPointer {
            Softmax.exponentiate($0.baseAddress!, valid: valid, count: count)
        }
        let rowMax = Double(original[..<valid].max()!)
        var (exactSum, worstTerm) = (0.0, 0.0)
        for j in 0..<valid {
            guard original[j] != -.infinity else {
                #expect(row[j] == 0, "x[\(j)] = −inf gave \(row[j])")
                continue
            }
            let exact = exp(Double(original[j]) - rowMax)
            let relative = Self.u * abs(Double(original[j]) - rowMax) + ReferenceAttention.elementwiseError
            (exactSum, worstTerm) = (exactSum + exact, max(worstTerm, relative))
            #expect(
                abs(Double(row[j]) - exact) <= relative * exact, "x[\(j)] = \(original[j]): \(row[j]) against \(exact)")
            if Double(original[j]) == rowMax { #expect(row[j] == 1) }
        }
        #expect(row[valid...].allSatisfy { $0 == 0 })
        #expect(abs(Double(sum) - exactSum) <= (ReferenceAttention.gamma(valid) + worstTerm) * exactSum)
    }

    /// A NaN or +inf anywhere in the valid part (vector blocks or tail), or a valid part that is all
    /// −inf, makes every valid weight and the sum NaN, as the naive formula does (+inf − +inf and
    /// −inf − (−inf) are NaN); the masked tail stays 0 and a NaN beyond `valid` changes nothing.
    @Test(arguments: [Float.nan, .infinity])
    func aNaNOrInfiniteScoreMakesTheRowNaN(_ bad: Float) {
        let (valid, count) = (37, 45)
        for position in [0, 15, 16, 31, 32, 36] {
            var row = (0..<count).map { Float($0 % 7) * 0.5 }
            row[position] = bad
            let sum = row.withUnsafeMutableBufferPointer {
                Softmax.exponentiate($0.baseAddress!, valid: valid, count: count)
            }
            #expect(sum.isNaN, "\(bad) at \(position)")
            #expect(
                row[..<valid].allSatisfy { $0.isNaN } && row[valid...].allSatisfy { $0 == 0 }, "\(bad) at \(position)")
        }
        var masked = (0..<count).map { Float($0 % 7) * 0.5 }
        masked[40] = bad
        let sum = masked.withUnsafeMutableBufferPointer {
            Softmax.exponentiate($0.baseAddress!, valid: valid, count: count)
        }
        #expect(sum.isFinite && masked.allSatisfy { $0.isFinite })
    }

    @Test(arguments: [1, 16, 23])
    func anAllMinusInfinityRowIsNaN(valid: Int) {
        var row = [Float](repeating: -.infinity, count: valid + 3)
        let sum = row.withUnsafeMutableBufferPointer {
            Softmax.exponentiate($0.baseAddress!, valid: valid, count: valid + 3)
        }
        #expect(sum.isNaN && row[..<valid].allSatisfy { $0.isNaN } && row[valid...].allSatisfy { $0 == 0 })
    }

    /// `divide` multiplies by 1/sum: within 2u of the true quotient (two roundings); a NaN sum gives NaN.
    @Test func divideScalesByTheInverse() {
        var row: [Float] = (0..<21).map { Float($0) * 0.37 - 3 }
        let original = row
        row.withUnsafeMutableBufferPointer { Softmax.divide($0.baseAddress!, count: 21, by: 7.3) }
        for c in 0..<21 {
            let exact = Double(original[c]) / Double(Float(7.3))
            #expect(abs(Double(row[c]) - exact) <= 2 * Self.u * abs(exact) + Double(Float.leastNonzeroMagnitude))
        }
        row.withUnsafeMutableBufferPointer { Softmax.divide($0.baseAddress!, count: 21, by: .nan) }
        #expect(row.allSatisfy { $0.isNaN })
    }
}
