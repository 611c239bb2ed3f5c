import AttentionKernels
import AttentionReference
import Foundation
import Profiling
import Testing
import _TestSupport

/// Flash attention: exact softmax attention through tiles. Against the Float64 reference (with the
/// bound widened by its rescalings, see ``ReferenceAttention/standard(q:k:v:causal:rescalings:)``)
/// at tile sizes that make every edge happen: n smaller than a block, n not a multiple of either
/// block, query blocks larger and smaller than key blocks, one-row tiles; against the materialised
/// kernel; and its memory, which must not grow with n² (or at all, beyond the output).
@Suite struct FlashAttentionTests {
    static let tiles: [FlashAttention.Blocks] = [
        .init(query: 1, key: 3), .init(query: 3, key: 5), .init(query: 8, key: 16), .init(query: 16, key: 8),
        .init(query: 300, key: 7), .default,
    ]

    /// Both tile products: the micro-kernels (d = 16 and 64 in the table; d = 1 goes through OpenBLAS)
    /// and OpenBLAS throughout.
    @Test(arguments: tiles, FlashAttention.Products.allCases)
    func everyTilingMatchesTheReference(_ blocks: FlashAttention.Blocks, _ products: FlashAttention.Products) {
        for c in kernelCases {
            let (q, k, v) = Verification.inputs(c.shape, seed: 17)
            for causal in [false, true] {
                let result = Verification.check(
                    FlashAttention(causal: causal, blocks: blocks, products: products), q: q, k: k, v: v)
                #expect(result.passed, "\(result.kernel) at \(c.shape): \(result.worstBoundFraction)× its bound")
            }
        }
    }

    /// The same function as the materialised kernel: both within their bounds of one reference, so
    /// within the sum of the bounds of each other, element by element.
    @Test(arguments: [false, true])
    func flashEqualsTheMaterialisedKernel(causal: Bool) {
        let shape = AttentionShape(batch: 1, heads: 3, length: 200, headDim: 32)
        let (q, k, v) = Verification.inputs(shape, seed: 5)
        let flash = FlashAttention(causal: causal, blocks: .init(query: 24, key: 40))
        let standard = ReferenceAttention.standard(q: q, k: k, v: v, causal: causal)
        let tiled = ReferenceAttention.output(of: flash, q: q, k: k, v: v)
        let (a, b) = (flash(q: q, k: k, v: v), SoftmaxAttention(causal: causal)(q: q, k: k, v: v))
        for i in 0..<a.count {
            let allowed = standard.bounds[i] + tiled.bounds[i]
            #expect(abs(Double(a.data[i]) - Double(b.data[i])) <= allowed, "element \(i)")
        }
    }

    /// Rows whose scores differ by ~80 between key blocks: the running maximum moves by far more
    /// than exp's range, so a missing or wrong rescaling gives weights off by e⁸⁰ (or infinities).
    @Test func aMaximumThatRisesBlockAfterBlockIsRescaled() {
        let shape = AttentionShape(batch: 1, heads: 1, length: 64, headDim: 4)
        let (q, k, v) = Verification.inputs(shape, seed: 8)
        for i in 0..<shape.length {
            for l in 0..<4 {
                q[0, 0, i, l] = 8
                k[0, 0, i, l] = Float(i) / 3
            }  // s_ij = 16·j/3: rises along j
        }
        for causal in [false, true] {
            let result = Verification.check(
                FlashAttention(causal: causal, blocks: .init(query: 8, key: 8)), q: q, k: k, v: v)
            #expect(result.passed, "\(result.kernel): \(result.worstBoundFraction)× its bound")
        }
    }

    /// Threads take query blocks in any order: the output is the same bit for bit, since every
    /// block's arithmetic is the same whichever thread does it.
    @Test func threadsDoNotChangeTheOutput() {
        let shape = AttentionShape(batch: 2, heads: 2, length: 150, headDim: 16)
        let (q, k, v) = Verification.inputs(shape, seed: 9)
        for causal in [false, true] {
            let kernel = FlashAttention(causal: causal, blocks: .init(query: 16, key: 32))
            let one = withComputeThreads(1) { kernel(q: q, k: k, v: v) }
            let two = withComputeThreads(2) { kernel(q: q, k: k, v: v) }
            #expect(one.scalars == two.scalars, "\(kernel.name)")
        }
    }

    /// The FLOP model counts the products computed: n² per slice without a mask; with one, each
    /// query block's rows times the keys up to its last row (summed here block by block).
    @Test(arguments: [(64, 64), (100, 64), (1, 64), (129, 16), (37, 8)])
    func flopsCountTheComputedBlocks(n: Int, queryBlock: Int) {
        let shape = AttentionShape(batch: 2, heads: 3, length: n, headDim: 16)
        let blocks = FlashAttention.Blocks(query: queryBlock, key: 512)
        #expect(
            FlashAttention(blocks: blocks).cost(for: shape, threads: 1).flops
                == SoftmaxAttention().cost(for: shape).flops)
        var products = 0
        for start in stride(from: 0, to: n, by: queryBlock) {
            let rows = min(queryBlock, n - start)
            products += rows * (start + rows)
        }
        #expect(
            FlashAttention(causal: true, blocks: blocks).cost(for: shape, threads: 1).flops
                == Double(6 * 4 * 16 * products))
    }

    /// Extra memory is one scratch per worker (workers: threads, at most one per query block of
    /// every slice), whatever n is; the output is b·h·n·d. With the micro-kernels (d = 64) a
    /// scratch is the 64 × 512 tile, K_jᵀ packed (512 × 64), 3·64 row statistics and 8·64 lanes of
    /// block maxima; through OpenBLAS (d = 60) the tile and the statistics.
    @Test func memoryIsTilesPerWorkerPlusTheOutput() {
        let blocks = FlashAttention.Blocks(query: 64, key: 512)
        for (d, products, scratch) in [
            (64, FlashAttention.Products.simd, 64 * 512 + 512 * 64 + 11 * 64),
            (64, .blas, 64 * 512 + 11 * 64), (60, .simd, 64 * 512 + 11 * 64),
        ] {
            for n in [100, 4096, 1 << 20] {
                let shape = AttentionShape(batch: 1, heads: 8, length: n, headDim: d)
                for threads in [1, 2, 64] {
                    let cost = FlashAttention(blocks: blocks, products: products).cost(for: shape, threads: threads)
                    let workers = min(threads, 8 * ((n + 63) / 64))
                    #expect(
                        cost.intermediateBytes == workers * scratch * 4 && cost.outputBytes == 8 * n * d * 4,
                        "d=\(d) \(products)")
                }
            }
        }
        let huge = AttentionShape(batch: .max, heads: .max, length: .max, headDim: .max)
        let cost = FlashAttention().cost(for: huge, threads: 2)
        #expect(cost.outputBytes == .max && cost.callPeakBytes == .max && cost.intermediateBytes < 1 << 20)
        #expect(cost.flops > 1e30 && !cost.flops.isNaN)
    }

    /// What jemalloc sees: at n = 4096 (scores would be 64 MiB per slice) one call holds its output
    /// and its tiles, within MemoryTests' margins of the model (an OpenBLAS job array of 512 KiB when
    /// a test running beside this one has set OpenBLAS back to 2 threads), and far below one n×n matrix.
    @Test func peakHeapHoldsNoScoreMatrix() throws {
        let shape = AttentionShape(batch: 1, heads: 2, length: 4096, headDim: 64)
        let (q, k, v) = Verification.inputs(shape, seed: 4)
        try withComputeThreads(2) {
            let kernel = FlashAttention(causal: true)
            let (_, peak) = try AllocatorProbe.measurePeak { kernel(q: q, k: k, v: v) }
            let model = kernel.cost(for: shape).callPeakBytes
            #expect(peak >= model - 100 * 1024 && peak <= model + 768 * 1024, "peak \(peak), model \(model)")
            #expect(peak < shape.length * shape.length * 4 / 16)
        }
    }
}

extension FlashAttention.Blocks: CustomTestStringConvertible {
    public var testDescription: String { "\(query)×\(key)" }
}

/// The online softmax (``Softmax/exponentiate(_:valid:count:runningMax:)``) against the one-pass
/// row softmax: feeding a row block by block and rescaling gives the same sum and weights.
@Suite struct OnlineSoftmaxTests {
    /// Σ_j exp(x_j − max) accumulated over blocks of 5 with rescaling equals the one-pass sum, and
    /// every block's last weights times the later rescalings equal the one-pass weights.
    @Test func blockwiseSumsEqualTheOnePassSum() {
        let row: [Float] = (0..<37).map { (j: Int) -> Float in
            let base = Float(j % 11) * 0.7 - Float(j % 3) * 2
            return j == 30 ? base + 9 : base
        }
        var onePass = row
        let total = onePass.withUnsafeMutableBufferPointer {
            Softmax.exponentiate($0.baseAddress!, valid: 37, count: 37)
        }
        var (m, l): (Float, Float) = (-.infinity, 0)
        var weights: [Float] = []
        for start in stride(from: 0, to: 37, by: 5) {
            var block = Array(row[start..<min(start + 5, 37)])
            let (sum, rescale) = block.withUnsafeMutableBufferPointer {
                Softmax.exponentiate($0.baseAddress!, valid: $0.count, count: $0.count, runningMax: &m)
            }
            l = l * rescale + sum
            weights = weights.map { $0 * rescale } + block
        }
        #expect(m == row.max())
        #expect(abs(l - total) <= 1e-5 * total)
        for j in 0..<37 { #expect(abs(weights[j] - onePass[j]) <= 1e-5, "weight \(j)") }
    }

    /// While a row has seen only −inf, its blocks weigh nothing and it starts afresh at its first
    /// finite score; a NaN makes the rest of the row NaN; a masked tail is zeroed and not seen.
    @Test func negativeInfinityWaitsAndNaNSticks() {
        var m = -Float.infinity
        var block: [Float] = [-.infinity, -.infinity, 3]
        var result = block.withUnsafeMutableBufferPointer {
            Softmax.exponentiate($0.baseAddress!, valid: 2, count: 3, runningMax: &m)
        }
        #expect(result.sum == 0 && result.rescale == 1 && m == -.infinity && block == [0, 0, 0])
        block = [1, -.infinity, 2]
        result = block.withUnsafeMutableBufferPointer {
            Softmax.exponentiate($0.baseAddress!, valid: 3, count: 3, runningMax: &m)
        }
        #expect(m == 2 && result.rescale == 0 && block[1] == 0 && block[2] == 1)
        block = [.nan, 0, 0]
        result = block.withUnsafeMutableBufferPointer {
            Softmax.exponentiate($0.baseAddress!, valid: 3, count: 3, runningMax: &m)
        }
        #expect(m.isNaN && result.sum.isNaN && result.rescale.isNaN)
        block = [0, 0, 0]
        result = block.withUnsafeMutableBufferPointer {
            Softmax.exponentiate($0.baseAddress!, valid: 3, count: 3, runningMax: &m)
        }
        #expect(m.isNaN && result.sum.isNaN && block.allSatisfy(\.isNaN))
    }
}
