import AttentionKernels
import Foundation
import Testing

@Suite struct SoftmaxTests {
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

    @Test func expUnderflowsToZeroAndKeepsExactPoints() {
        let e = Softmax.exp(Softmax.Vector(arrayLiteral: -.infinity, -1000, -88, 0, 1, -1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11))
        #expect(e[0] == 0 && e[1] == 0 && e[2] == 0)
        #expect(e[3] == 1)
    }

    /// Rows sum to 1; masked (-inf) entries get weight exactly 0; a fully masked row is all zeros.
    @Test(arguments: [1, 5, 16, 17, 100])
    func rowsSumToOneAndMaskedEntriesAreZero(count: Int) {
        var row = (0..<count).map { Float($0 % 7) * 0.9 - 2 }
        row.withUnsafeMutableBufferPointer { Softmax.normalize($0.baseAddress!, valid: count, count: count) }
        #expect(abs(row.reduce(0, +) - 1) <= Float(count) * Float.ulpOfOne)

        var masked = (0..<count).map { $0 % 2 == 0 ? Float($0) : -.infinity }
        masked.withUnsafeMutableBufferPointer { Softmax.normalize($0.baseAddress!, valid: count, count: count) }
        #expect(masked.enumerated().allSatisfy { $0.offset % 2 == 0 || $0.element == 0 })
        #expect(abs(masked.reduce(0, +) - 1) <= Float(count) * Float.ulpOfOne)

        var empty = [Float](repeating: -.infinity, count: count)
        empty.withUnsafeMutableBufferPointer { Softmax.normalize($0.baseAddress!, valid: count, count: count) }
        #expect(empty.allSatisfy { $0 == 0 })
    }

    /// With `valid < count` (a causal row), the tail is zeroed and the head sums to 1.
    @Test func causalTailIsZeroed() {
        var row = [Float](repeating: 3, count: 40)
        row.withUnsafeMutableBufferPointer { Softmax.normalize($0.baseAddress!, valid: 19, count: 40) }
        #expect(row[19...].allSatisfy { $0 == 0 })
        #expect(row[..<19].allSatisfy { abs($0 - 1 / 19) <= 1e-7 })
    }
}
