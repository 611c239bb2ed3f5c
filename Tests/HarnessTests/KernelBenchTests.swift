import AttentionKernels
import Harness
import Results
import Testing

/// `attnbench kernels` times each kernel's own product list (``AttentionKernel/products(for:)``).
@Suite struct KernelBenchTests {
    /// Every kernel gets a row, with a GEMM-only time exactly when it lists products (all but the
    /// causal recurrence), and the operand budget covers the largest kernel's products.
    @Test func everyKernelIsTimedAgainstItsOwnProducts() throws {
        let shape = AttentionShape(batch: 1, heads: 2, length: 160, headDim: 16)
        var bench = KernelBench()
        bench.policy = TimingPolicy(warmups: 0, minReps: 1, minSeconds: 0, maxSeconds: 1, cycles: 1)
        let rows = try bench.measure(shape: shape, threads: 2, ceiling: 1)
        #expect(
            rows.map(\.kernel) == [
                "standard", "linformer k=128", "linear", "linear causal",
                "linear causal chunk32", "flash", "flash causal",
            ])
        for row in rows {
            #expect((row.gemmSeconds == nil) == (row.kernel == "linear causal"), "\(row.kernel)")
            #expect(row.seconds > 0 && (row.gemmSeconds ?? 1) > 0, "\(row.kernel)")
        }
        // Inputs and one standard call, plus two workers' operands: [n, n] scores twice and [n, d].
        let standard = SweepPoint(mechanism: .standard, length: 160, batch: 1, heads: 2, headDim: 16, threads: 1)
        let operands = 2 * (2 * 160 * 160 + 160 * 16) * 4
        #expect(KernelBench.predictedBytes(shape, threads: 2) == standard.predictedBytes + operands)
    }
}
