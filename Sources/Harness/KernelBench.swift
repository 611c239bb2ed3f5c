import AttentionKernels
import AttentionReference
import Foundation
import Profiling
import Results

/// Each kernel against the GEMMs it is built on, measured in one run: how much the softmax, φ,
/// scaling and allocation cost on top of the matrix products (issue "kernels near the ceiling").
///
/// GEMM-only times run exactly the products the kernel lists for the shape (``AttentionKernel/products(for:)``:
/// standard QKᵀ and PV; Linformer FV, EK, QK'ᵀ and PV'; linear φ(K)ᵀV and φ(Q)S, or its chunks'
/// four; flash the tile products Q_b K_jᵀ and P V_j of every tile it computes) through OpenBLAS, into
/// operands allocated once beforehand (warm), one set per worker, the products handed out to the
/// threads one at a time as flash attention hands out its tiles (``runProducts(_:buffers:)``).
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

    public static let columns = [
        "kernel", "n", "batch", "heads", "d", "threads", "time_ms", "gemm_only_ms", "ratio", "gflops", "ceiling_gflops",
        "efficiency",
    ]

    /// Best median over `cycles` of the policy.
    func time(_ body: () -> Void) -> Double {
        (0..<max(policy.cycles, 1)).compactMap { _ in SampleStatistics(policy.measure(body))?.median }.min() ?? .nan
    }

    public func measure(shape: AttentionShape, threads: Int, ceiling: Double) throws -> [Row] {
        ComputeThreads.set(threads)
        let (q, k, v) = Verification.inputs(shape, seed: seed)
        var rows: [Row] = []
        func record(_ kernel: any AttentionKernel, label: String) {
            if let only, !only.contains(where: { label.hasPrefix($0) }) { return }
            let seconds = time { blackHole(kernel(q: q, k: k, v: v)) }
            let products = kernel.products(for: shape)
            let gemmSeconds =
                products.isEmpty
                ? nil
                : Self.withBuffers(for: products) { buffers in
                    time { Self.runProducts(products, buffers: buffers) }
                }
            let gflops = kernel.cost(for: shape).flops / seconds / 1e9
            rows.append(
                Row(
                    kernel: label, n: shape.length, threads: threads, seconds: seconds,
                    gemmSeconds: gemmSeconds, gflops: gflops, efficiency: gflops / ceiling))
        }
        record(SoftmaxAttention(), label: "standard")
        for kp in [128, 256] where kp < shape.length {
            let projections = LinformerProjections.seeded(
                k: kp, length: shape.length, heads: shape.heads, sharing: .keyValue, seed: seed)
            record(try LinformerAttention(projections: projections), label: "linformer k=\(kp)")
        }
        record(LinearAttention(), label: "linear")
        record(LinearAttention(causal: true), label: "linear causal")
        let chunk = LinearAttention.bestChunk
        record(LinearAttention(causal: true, chunk: chunk), label: "linear causal chunk\(chunk)")
        for blocks in flashBlocks {
            for products in flashProducts {
                for causal in [false, true] {
                    let kernel = FlashAttention(causal: causal, blocks: blocks, products: products)
                    let tiling = blocks == .default ? "" : " \(blocks.query)x\(blocks.key)"
                    let library = products == .simd ? "" : " blas"
                    record(kernel, label: "flash" + (causal ? " causal" : "") + tiling + library)
                }
            }
        }
        return rows
    }

    /// The most heap ``measure(shape:threads:ceiling:)`` holds at once, saturating at `Int.max`:
    /// a standard point's (inputs and one call) plus the GEMM-only operands of its products (per worker:
    /// the largest A, B and C), the largest of every kernel's.
    public static func predictedBytes(_ shape: AttentionShape, threads: Int) -> Int {
        let point = SweepPoint(
            mechanism: .standard, length: shape.length, batch: shape.batch, heads: shape.heads,
            headDim: shape.headDim, threads: 1)
        guard point.costModelFits else { return Int.max }
        let products = SoftmaxAttention().products(for: shape)
        let workers = max(min(threads, products.reduce(0) { Int.saturatingSum($0, $1.count) }), 1)
        return Int.saturatingSum(point.predictedBytes, AttentionCost.floats(workers, operandFloats(products)))
    }

    /// Floats of one worker's operands: room for the largest A, B and C of `products`.
    static func operandFloats(_ products: [GemmShape]) -> Int {
        let sizes = products.map(\.operandFloats)
        return Int.saturatingSum(sizes.map(\.a).max() ?? 0, sizes.map(\.b).max() ?? 0, sizes.map(\.c).max() ?? 0)
    }

    /// Zeroed operands for `products`, one set per worker of ``runProducts(_:buffers:)``, for the
    /// duration of `body`.
    static func withBuffers<T>(for products: [GemmShape], _ body: (Tensor) -> T) -> T {
        let items = products.reduce(0) { Int.saturatingSum($0, $1.count) }
        return body(
            Tensor(
                zeros: [ComputeThreads.workerCount(items), operandFloats(products)], label: "kernel bench: operands"))
    }

    /// Runs every product of `products` `count` times through OpenBLAS, into `buffers` (one row of
    /// A, B, C per worker, from ``withBuffers(for:_:)``). The products are handed out one at a time
    /// (``ComputeThreads/forEachItem(_:_:)``, OpenBLAS on one thread in each worker, or threading each
    /// product when there is one worker), the costliest first as listed.
    static func runProducts(_ products: [GemmShape], buffers: Tensor) {
        var firstItem = [0]  // item index where each product's repetitions start
        for p in products { firstItem.append(Int.saturatingSum(firstItem[firstItem.count - 1], p.count)) }
        let largest = products.map(\.operandFloats)
        let (aFloats, bFloats) = (largest.map(\.a).max() ?? 0, largest.map(\.b).max() ?? 0)
        ComputeThreads.forEachItem(firstItem[firstItem.count - 1]) { worker, item in
            var index = 0
            while firstItem[index + 1] <= item { index += 1 }
            let p = products[index]
            let base = buffers.matrix(0).row(worker)
            let a =
                p.transposeA
                ? MatrixView(base: base, rows: p.k, cols: p.m)
                : MatrixView(base: base, rows: p.m, cols: p.k)
            let b =
                p.transposeB
                ? MatrixView(base: base + aFloats, rows: p.n, cols: p.k)
                : MatrixView(base: base + aFloats, rows: p.k, cols: p.n)
            // op(A)·op(B): [m, k]·[k, n] → [m, n]
            BLAS.gemm(
                a, transposeA: p.transposeA, b, transposeB: p.transposeB,
                into: MatrixView(base: base + aFloats + bFloats, rows: p.m, cols: p.n))
        }
        blackHole(buffers)
    }

    public static func fields(_ r: Row, shape: AttentionShape, ceiling: Double) -> [String] {
        [
            r.kernel, String(r.n), String(shape.batch), String(shape.heads), String(shape.headDim), String(r.threads),
            String(format: "%.3f", r.seconds * 1e3), r.gemmSeconds.map { String(format: "%.3f", $0 * 1e3) } ?? "",
            r.ratio.map { String(format: "%.3f", $0) } ?? "", String(format: "%.2f", r.gflops),
            String(format: "%.2f", ceiling), String(format: "%.4f", r.efficiency),
        ]
    }
}
