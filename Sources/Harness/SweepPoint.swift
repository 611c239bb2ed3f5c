import AttentionKernels

/// One point of a sweep: a mechanism at one shape and thread count.
/// `projectedLength` and `sharing` are set for Linformer only.
public struct SweepPoint: Hashable, Sendable {
    public var mechanism: Mechanism
    public var causal: Bool
    public var sharing: ProjectionSharing?
    public var length: Int
    public var projectedLength: Int?
    public var batch: Int
    public var heads: Int
    public var headDim: Int
    public var threads: Int

    public init(
        mechanism: Mechanism, causal: Bool = false, sharing: ProjectionSharing? = nil, length: Int,
        projectedLength: Int? = nil, batch: Int, heads: Int, headDim: Int, threads: Int
    ) {
        self.mechanism = mechanism
        self.causal = causal
        self.sharing = sharing
        self.length = length
        self.projectedLength = projectedLength
        self.batch = batch
        self.heads = heads
        self.headDim = headDim
        self.threads = threads
    }

    public var shape: AttentionShape {
        AttentionShape(batch: batch, heads: heads, length: length, headDim: headDim)
    }

    /// The identifying fields as they appear in the CSV, in ``ResultRow/keyColumns`` order.
    public var keyFields: [String] {
        [mechanism.rawValue, String(causal), sharing?.rawValue ?? "", String(length),
         projectedLength.map(String.init) ?? "", String(batch), String(heads), String(headDim), String(threads)]
    }

    /// A short human description for progress lines.
    public var label: String {
        var text = mechanism.rawValue + (causal ? " causal" : "")
        if let k = projectedLength { text += " k=\(k)" }
        return text + " n=\(length) b=\(batch) h=\(heads) d=\(headDim) t=\(threads)"
    }

    /// The analytic cost of one call at this point (no allocation).
    public var cost: AttentionCost {
        switch mechanism {
        case .standard: SoftmaxAttention(causal: causal).cost(for: shape)
        case .linear: LinearAttention(causal: causal).cost(for: shape)
        case .linformer: LinformerAttention.cost(for: shape, projectedLength: projectedLength!, sharing: sharing!)
        }
    }

    /// The most heap the point needs at once: Q, K, V, the parameters, one call's intermediates and
    /// output, and OpenBLAS's 512 KiB job array. This is what the memory guard compares with the budget.
    public var predictedBytes: Int {
        let inputs = 3 * AttentionCost.floats(batch * heads * length * headDim)
        return inputs + cost.parameterBytes + cost.callPeakBytes + 512 * 1024
    }

    /// Builds the kernel (Linformer's projections are seeded from `seed`).
    public func makeKernel(seed: UInt64) -> any AttentionKernel {
        switch mechanism {
        case .standard: return SoftmaxAttention(causal: causal)
        case .linear: return LinearAttention(causal: causal)
        case .linformer:
            let projections = LinformerProjections.seeded(
                k: projectedLength!, length: length, heads: heads, sharing: sharing!, seed: seed &+ 3)
            return try! LinformerAttention(projections: projections)
        }
    }
}
