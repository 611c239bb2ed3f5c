import AttentionKernels
import AttentionReference
import Foundation
import Profiling
import Results

/// Each kernel against the GEMMs it is built on, measured in one run: how much the softmax, φ,
/// scaling and allocation cost on top of the matrix products (issue "kernels near the ceiling").
///
/// GEMM-only times run exactly the kernel's matrix products, on the same shapes, into buffers
/// allocated once beforehand (warm): standard QKᵀ and PV; Linformer EK, FV, QK'ᵀ and PV'; linear
/// φ(K)ᵀV and φ(Q)S; flash the tile products Q_b K_jᵀ and P V_j of every block it computes, spread
/// over the threads as the kernel spreads them.
public struct KernelBench {
    public var policy = TimingPolicy(warmups: 2, minReps: 5, minSeconds: 0.5, maxSeconds: 20, cycles: 1)
    public var seed: UInt64 = 42
    /// Flash attention tilings to time (the default tiles, unless asked for others).
    public var flashBlocks: [FlashAttention.Blocks] = [.default]
    /// What computes flash attention's tile products (its micro-kernels, unless asked for others).
    public var flashProducts: [FlashAttention.Products] = [.simd]
    /// Kernels to time, by the start of their label (`flash`, `linear`…); nil times every kernel.
    public var only: [String]?

    public init() {}

    public struct Row: Equatable {
        public var kernel: String
        public var n, threads: Int
        public var seconds: Double
        /// Seconds of the kernel's GEMMs alone (nil for causal linear, which has none).
        public var gemmSeconds: Double?
        public var gflops, efficiency: Double
        public var ratio: Double? { gemmSeconds.map { seconds / $0 } }
    }

    public static let columns = ["kernel", "n", "batch", "heads", "d", "threads", "time_ms", "gemm_only_ms", "ratio", "gflops", "ceiling_gflops", "efficiency"]

    /// Best median over `cycles` of the policy.
    func time(_ body: () -> Void) -> Double {
        (0..<max(policy.cycles, 1)).compactMap { _ in SampleStatistics(policy.measure(body))?.median }.min() ?? .nan
    }

    public func measure(shape: AttentionShape, threads: Int, ceiling: Double) throws -> [Row] {
        ComputeThreads.set(threads)
        let (q, k, v) = Verification.inputs(shape, seed: seed)
        let (n, d) = (shape.length, shape.headDim)
        var rows: [Row] = []
        func record(_ kernel: any AttentionKernel, label: String, gemms: (() -> Void)?) {
            if let only, !only.contains(where: { label.hasPrefix($0) }) { return }
            let seconds = time { blackHole(kernel(q: q, k: k, v: v)) }
            let gemmSeconds = gemms.map { time($0) }
            let gflops = kernel.cost(for: shape).flops / seconds / 1e9
            rows.append(Row(kernel: label, n: n, threads: threads, seconds: seconds, gemmSeconds: gemmSeconds,
                            gflops: gflops, efficiency: gflops / ceiling))
        }
        // standard: [n, d]·[d, n] → [n, n], [n, n]·[n, d] → [n, d]
        let scores = Tensor(zeros: [n, n]), out = Tensor(zeros: [n, d])
        record(SoftmaxAttention(), label: "standard") {
            for s in 0..<shape.slices {
                BLAS.gemm(q.matrix(s), k.matrix(s), transposeB: true, into: scores.matrix(0))
                BLAS.gemm(scores.matrix(0), v.matrix(s), into: out.matrix(0))
            }
        }
        for kp in [128, 256] where kp < n {
            let projections = LinformerProjections.seeded(k: kp, length: n, heads: shape.heads, sharing: .keyValue, seed: seed)
            let kProj = Tensor(zeros: [kp, d]), vProj = Tensor(zeros: [kp, d]), small = Tensor(zeros: [n, kp])
            record(try LinformerAttention(projections: projections), label: "linformer k=\(kp)") {
                for s in 0..<shape.slices {
                    BLAS.gemm(projections.e(head: 0), k.matrix(s), into: kProj.matrix(0))  // [k, n]·[n, d] → [k, d]
                    BLAS.gemm(projections.f(head: 0), v.matrix(s), into: vProj.matrix(0))  // [k, n]·[n, d] → [k, d]
                    BLAS.gemm(q.matrix(s), kProj.matrix(0), transposeB: true, into: small.matrix(0))  // [n, d]·[d, k] → [n, k]
                    BLAS.gemm(small.matrix(0), vProj.matrix(0), into: out.matrix(0))  // [n, k]·[k, d] → [n, d]
                }
            }
        }
        let state = Tensor(zeros: [d, d])
        record(LinearAttention(), label: "linear") {
            for s in 0..<shape.slices {
                BLAS.gemm(k.matrix(s), transposeA: true, v.matrix(s), into: state.matrix(0))  // [d, n]·[n, d] → [d, d]
                BLAS.gemm(q.matrix(s), state.matrix(0), into: out.matrix(0))  // [n, d]·[d, d] → [n, d]
            }
        }
        record(LinearAttention(causal: true), label: "linear causal", gemms: nil)
        let chunk = LinearAttention.bestChunk
        record(LinearAttention(causal: true, chunk: chunk), label: "linear causal chunk\(chunk)", gemms: nil)
        for blocks in flashBlocks {
            for products in flashProducts {
                for causal in [false, true] {
                    let kernel = FlashAttention(causal: causal, blocks: blocks, products: products)
                    let label = "flash" + (causal ? " causal" : "") + (blocks == .default ? "" : " \(blocks.query)x\(blocks.key)")
                        + (products == .simd ? "" : " blas")
                    record(kernel, label: label) { Self.flashTileProducts(kernel, q: q, k: k, v: v) }
                }
            }
        }
        return rows
    }

    /// The most heap ``measure(shape:threads:ceiling:)`` holds at once, saturating at `Int.max`:
    /// a standard point's (inputs and one call) plus the GEMM-only buffers (an n×n score matrix
    /// and an n×d output), the largest of every kernel's.
    public static func predictedBytes(_ shape: AttentionShape) -> Int {
        let point = SweepPoint(mechanism: .standard, length: shape.length, batch: shape.batch, heads: shape.heads,
                               headDim: shape.headDim, threads: 1)
        guard point.costModelFits else { return Int.max }
        return Int.saturatingSum(point.predictedBytes, Int.saturatingProduct(shape.length, shape.length + shape.headDim, 4))
    }

    /// The tile products of one flash call alone (through OpenBLAS, whichever products the kernel
    /// uses: the reference the micro-kernels have to beat), into one warm tile per worker, the
    /// output rows accumulating: the kernel without its online softmax.
    static func flashTileProducts(_ kernel: FlashAttention, q: Tensor, k: Tensor, v: Tensor) {
        let shape = AttentionShape(of: q)
        let (n, d, bq, bk) = (shape.length, shape.headDim, kernel.blocks.query, kernel.blocks.key)
        let queryBlocks = (n + bq - 1) / bq
        let items = shape.slices * queryBlocks
        let tiles = Tensor(zeros: [ComputeThreads.workerCount(items), bq * bk])
        let out = Tensor(zeros: shape.dims)
        ComputeThreads.forEachItem(items) { worker, item in
            let (s, block) = (item % shape.slices, queryBlocks - 1 - item / shape.slices)
            let (start, rows) = (block * bq, min(bq, n - block * bq))
            let queries = MatrixView(base: q.matrix(s).row(start), rows: rows, cols: d)
            let o = MatrixView(base: out.matrix(s).row(start), rows: rows, cols: d)
            let end = kernel.isCausal ? start + rows : n
            for first in stride(from: 0, to: end, by: bk) {
                let cols = min(bk, end - first)
                let p = MatrixView(base: tiles.matrix(0).row(worker), rows: rows, cols: cols, rowStride: bk)
                // [rows, d]·[d, cols] → [rows, cols]
                BLAS.gemm(queries, MatrixView(base: k.matrix(s).row(first), rows: cols, cols: d), transposeB: true, into: p)
                // [rows, cols]·[cols, d] → [rows, d]
                BLAS.gemm(p, MatrixView(base: v.matrix(s).row(first), rows: cols, cols: d), into: o, beta: first == 0 ? 0 : 1)
            }
        }
        blackHole(out)
    }

    public static func fields(_ r: Row, shape: AttentionShape, ceiling: Double) -> [String] {
        [r.kernel, String(r.n), String(shape.batch), String(shape.heads), String(shape.headDim), String(r.threads),
         String(format: "%.3f", r.seconds * 1e3), r.gemmSeconds.map { String(format: "%.3f", $0 * 1e3) } ?? "",
         r.ratio.map { String(format: "%.3f", $0) } ?? "", String(format: "%.2f", r.gflops),
         String(format: "%.2f", ceiling), String(format: "%.4f", r.efficiency)]
    }
}
