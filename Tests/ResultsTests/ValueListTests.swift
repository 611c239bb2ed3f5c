import Foundation
import Reporting
import Results
import Testing

@Suite struct ValueListTests {
    @Test func listsRangesAndSuffixes() throws {
        #expect(try ValueList.integers("64,128,1k...4k", axis: "n") == [64, 128, 1024, 2048, 4096])
        #expect(try ValueList.bytes("1.5G", axis: "memory-budget") == 3 << 29)
    }

    /// Sizes beyond Int are refused with a message, never an overflow trap.
    @Test func hugeValuesAreRefusedNotTrapped() throws {
        for text in [
            "1...9223372036854775807", "9223372036854775807k", "99999999999999999999", "8M...9223372036854775807",
            "4611686018427387904,9223372036854775807m",
        ] {
            #expect(throws: UsageError.self, "\(text)") { try ValueList.integers(text, axis: "n") }
        }
        for text in ["1e30", "99999999T", "0.5", "nan", "inf", "-1G", "0"] {
            #expect(throws: UsageError.self, "\(text)") { try ValueList.bytes(text, axis: "memory-budget") }
        }
        #expect(try ValueList.integers("1...4611686018427387904", axis: "n").count == 63)
    }
}

@Suite struct FitTests {
    @Test func lineFitRecoversALine() throws {
        let fit = try #require(LineFit(x: [1, 2, 3, 4], y: [3, 5, 7, 9]))
        #expect(abs(fit.slope - 2) < 1e-12 && abs(fit.intercept - 1) < 1e-12 && fit.residualSquares < 1e-20)
        #expect(LineFit(x: [2, 2], y: [1, 3]) == nil)
    }

    @Test func scalingFitRecoversKnownExponents() throws {
        let x = [512.0, 1024, 2048, 4096]
        let quadratic = try #require(ScalingFit(x: x, y: x.map { 3e-9 * $0 * $0 }))
        #expect(abs(quadratic.exponent - 2) < 1e-12 && quadratic.halfWidth < 1e-9)
        let noisy = try #require(ScalingFit(x: x, y: zip(x, [1.05, 0.95, 1.04, 0.97]).map { 1e-6 * $0 * $1 }))
        #expect(abs(noisy.exponent - 1) < 0.05)
        #expect(noisy.halfWidth > 0 && noisy.halfWidth < 0.3)
        #expect(ScalingFit(x: [1], y: [1]) == nil)
    }
}
