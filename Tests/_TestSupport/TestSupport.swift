import AttentionKernels
import Foundation
import Testing

/// Runs `body` with ``ComputeThreads`` set to `count`, then restores the setting it found. Suites run
/// in parallel in one process and the setting is global, so the test holds it
/// (``ComputeThreads/holding(_:)``) while it runs: no other test, nor the harness code another test
/// runs (which sets each point's count), changes it meanwhile, and each restores what was there
/// before. Tests that do not set it may run at either count, which must not change their results;
/// a test whose expectation depends on the count (a heap against its cost model) sets it here.
@discardableResult
public func withComputeThreads<T>(_ count: Int, _ body: () throws -> T) rethrows -> T {
    try ComputeThreads.holding {
        let saved = ComputeThreads.current
        ComputeThreads.set(count)
        defer { ComputeThreads.set(saved) }
        return try body()
    }
}

/// One row of the kernel test table: an attention shape and the Linformer k to use with it.
public struct KernelCase: Sendable, CustomStringConvertible {
    public let shape: AttentionShape
    public let projectedLength: Int
    public init(_ b: Int, _ h: Int, _ n: Int, _ d: Int, k: Int) {
        shape = AttentionShape(batch: b, heads: h, length: n, headDim: d)
        projectedLength = k
    }
    public var description: String { "\(shape) k=\(projectedLength)" }
}

/// The table every kernel is checked over: n from 1 to 257, d in {1, 16, 64}, B and H > 1, odd sizes.
public let kernelCases: [KernelCase] = [
    KernelCase(2, 2, 1, 1, k: 1),
    KernelCase(2, 3, 2, 16, k: 1),
    KernelCase(3, 2, 17, 1, k: 5),
    KernelCase(2, 2, 31, 64, k: 31),
    KernelCase(2, 3, 100, 16, k: 37),
    KernelCase(2, 2, 129, 1, k: 64),
    KernelCase(2, 2, 257, 64, k: 128),
]

/// max |a − b| over two tensors of one shape.
public func maxDifference(_ a: Tensor, _ b: Tensor) -> Float {
    precondition(a.shape == b.shape, "shapes differ: \(a.shape) vs \(b.shape)")
    var worst: Float = 0
    for i in 0..<a.count { worst = max(worst, abs(a.data[i] - b.data[i])) }
    return worst
}

/// True when every element of `out` is within `bounds` (elementwise) of `values`.
public func withinBounds(_ out: Tensor, values: [Double], bounds: [Double], slack: Double = 1) -> Bool {
    for i in 0..<out.count where !(abs(Double(out.data[i]) - values[i]) <= slack * bounds[i]) { return false }
    return true
}

/// `t` with rows of every `[n, d]` slice reordered: row i of the result is row `order[i]` of `t`.
public func permutingRows(_ t: Tensor, _ order: [Int]) -> Tensor {
    let result = Tensor(uninitialized: t.shape, label: "test")
    let slices = t.shape[0] * t.shape[1]
    for s in 0..<slices {
        let (src, dst) = (t.matrix(s), result.matrix(s))
        for (i, j) in order.enumerated() { for c in 0..<src.cols { dst[i, c] = src[j, c] } }
    }
    return result
}

/// The `[n, n]` identity as a float32 tensor.
public func identity(_ n: Int) -> Tensor {
    let t = Tensor(zeros: [n, n], label: "test")
    for i in 0..<n { t[i, i] = 1 }
    return t
}

/// `t` multiplied by `factor` elementwise.
public func scaled(_ t: Tensor, by factor: Float) -> Tensor {
    let result = Tensor(uninitialized: t.shape, label: "test")
    for i in 0..<t.count { result.data[i] = t.data[i] * factor }
    return result
}

/// How near jemalloc's per-thread peak of one call must be to the cost model's figure. Memory is
/// deterministic, so the bounds are tight: model − 100 KiB ≤ peak ≤ model + 768 KiB. Below: jemalloc
/// samples thread.peak to within about 100 KB. Above: OpenBLAS mallocs a 512 KiB job array on the
/// calling thread for each threaded level-3 call (192 bytes at 1 thread), plus that sampling
/// granularity and a few small Swift allocations. An extra buffer of output size (1 MiB in the tests)
/// or score size is outside it.
public enum PeakBounds {
    public static let below = 100 * 1024
    public static let above = 768 * 1024

    /// Whether `peak` is within the bounds of `model`.
    public static func contains(_ peak: Int, model: Int) -> Bool { peak >= model - below && peak <= model + above }
}

/// Expects jemalloc's peak of one call to be within ``PeakBounds`` of the cost model's figure.
public func expectNearModel(
    _ peak: Int, _ model: Int, _ label: String, sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(
        PeakBounds.contains(peak, model: model), "\(label): peak \(peak), model \(model)",
        sourceLocation: sourceLocation)
}
