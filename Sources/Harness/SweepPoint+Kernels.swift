import AttentionKernels
import Results

/// What the harness builds and predicts for a point: its shape, the cost model, the kernel or
/// generation it times, and the heap it will need.
extension SweepPoint {
    public var shape: AttentionShape {
        AttentionShape(batch: batch, heads: heads, length: length, headDim: headDim)
    }

    /// The analytic cost of one call at this point (no allocation): a forward pass, or a whole
    /// generation of n tokens. Byte counts saturate at `Int.max` for sizes beyond any machine.
    public var cost: AttentionCost {
        if mode == .decode {
            return Generation.cost(
                mechanism: mechanism, batch: batch, heads: heads, headDim: headDim, length: length, prompt: prompt ?? 1)
        }
        return switch mechanism {
        case .standard: SoftmaxAttention(causal: causal).cost(for: shape)
        case .linear: LinearAttention(causal: causal).cost(for: shape)
        case .flash: FlashAttention(causal: causal).cost(for: shape, threads: threads)
        case .linformer:
            LinformerAttention.cost(for: shape, projectedLength: projectedLength ?? 1, sharing: sharing ?? .keyValue)
        }
    }

    /// The most heap the point needs at once: Q, K, V, the parameters, one call's intermediates and
    /// output, and OpenBLAS's 512 KiB job array. This is what the memory guard compares with the budget.
    /// A decode point has no q, k, v inputs (its parameters hold the projections and the prompt).
    /// Saturates at `Int.max`, so a size beyond any machine is refused, never a trap.
    public var predictedBytes: Int {
        let cost = self.cost
        let inputs = mode == .decode ? 0 : Int.saturatingProduct(3, AttentionCost.floats(batch, heads, length, headDim))
        return Int.saturatingSum(inputs, cost.parameterBytes, cost.callPeakBytes, 512 * 1024)
    }

    /// Builds the generation of a decode point (its projections and prompt are seeded from `seed`).
    public func makeGeneration(seed: UInt64) throws(KernelConfigurationError) -> Generation {
        try Generation(mechanism: mechanism, batch: batch, heads: heads, headDim: headDim, length: length,
                       prompt: prompt ?? 1, seed: seed)
    }

    /// Builds the kernel of a forward point (Linformer's projections are seeded from `seed`).
    public func makeKernel(seed: UInt64) throws(KernelConfigurationError) -> any AttentionKernel {
        var projections: LinformerProjections?
        if mechanism == .linformer {
            guard let k = projectedLength, let sharing else { throw KernelConfigurationError("a Linformer point needs k and sharing") }
            projections = LinformerProjections.seeded(k: k, length: length, heads: heads, sharing: sharing, seed: seed &+ 3)
        }
        return try makeAttentionKernel(mechanism, causal: causal, projections: projections)
    }
}
