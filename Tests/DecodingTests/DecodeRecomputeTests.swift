import AttentionKernels
import AttentionReference
import Decoding
import Profiling
import Testing
import _TestSupport

/// Softmax decoding without a cache ("Transformers are RNNs" Tables 4–5, "Softmax"): each step
/// re-runs causal softmax attention over the whole prefix and keeps its last row.
@Suite struct DecodeRecomputeTests {
    static func generation(_ decoder: Decoder?, length: Int = 41, prompt: Int = 4) throws -> Generation {
        try Generation(
            mechanism: .standard, decoder: decoder, batch: 2, heads: 3, headDim: 16, length: length, prompt: prompt,
            seed: 21)
    }

    /// Each y_i is within the Float64 reference's bound of causal attention over the recorded q, k, v
    /// (``Verification/check(_:)-(Generation)``), like the cache's.
    @Test func recomputeDecodePassesTheReferenceCheck() throws {
        let result = Verification.check(try Self.generation(.recompute))
        #expect(result.passed, "\(result.kernel): \(result.worstBoundFraction)× its bound")
        #expect(result.kernel == "standard recompute decode")
        #expect(Verification.check(try Self.generation(nil)).kernel == "standard decode")
    }

    /// With every token a prompt token (no feedback, so both see the same q, k, v), recomputation and
    /// the cache give the same outputs up to rounding: both within the reference's bound, so within
    /// twice it of each other; they sum in other orders (GEMMs over the prefix, GEMVs over the cache).
    @Test func recomputeEqualsTheCacheUpToRounding() throws {
        let (recompute, cache) = (
            try Self.generation(.recompute, prompt: 41), try Self.generation(.kvCache, prompt: 41)
        )
        let records = [recompute, cache].map { g in
            let record = DecodeRecord(batch: g.batch, heads: g.heads, length: g.length, headDim: g.headDim)
            g(record: record)
            return record
        }
        #expect(records[0].q.scalars == records[1].q.scalars && records[0].v.scalars == records[1].v.scalars)
        let reference = ReferenceAttention.standard(q: records[0].q, k: records[0].k, v: records[0].v, causal: true)
        #expect(withinBounds(records[0].out, values: reference.values, bounds: reference.bounds))
        #expect(withinBounds(records[1].out, values: reference.values, bounds: reference.bounds))
        for i in 0..<records[0].out.count {
            #expect(abs(records[0].out.data[i] - records[1].out.data[i]) <= Float(2 * reference.bounds[i]))
        }
    }

    /// Slices stay on one worker each (OpenBLAS single-threaded in it), so the thread count changes
    /// nothing, bit for bit.
    @Test func threadsDoNotChangeTheSequence() throws {
        let generation = try Self.generation(.recompute)
        let one = withComputeThreads(1) { generation() }
        let two = withComputeThreads(2) { generation() }
        #expect(one.scalars == two.scalars)
    }

    /// FLOPs: Σ_{i<N} 4·(i+1)²·d for the prefix re-runs plus 6·d² per token for the projections, per
    /// slice; jemalloc's peak over a generation is the model's q, k, v, output rows, scores and row
    /// sums of the whole prefix (1 MiB here) plus the scratch, within the probe's bounds.
    @Test func theCostCountsTheWholePrefix() throws {
        let (b, h, d, n) = (1, 8, 32, 128)
        let generation = try Generation(
            mechanism: .standard, decoder: .recompute, batch: b, heads: h, headDim: d, length: n, seed: 5)
        let prefix = (0..<n).reduce(0.0) { $0 + 4 * Double($1 + 1) * Double($1 + 1) * Double(d) }
        #expect(generation.cost.flops == Double(b * h) * (prefix + Double(n) * 6 * Double(d * d)))
        #expect(
            generation.cost
                == Generation.cost(
                    mechanism: .standard, decoder: .recompute, batch: b, heads: h, headDim: d, length: n, prompt: 1))
        let (_, peak) = try AllocatorProbe.measurePeak { generation() }
        expectNearModel(peak, generation.cost.callPeakBytes, "recompute decode")
        #expect(generation.cost.intermediateBytes >= AttentionCost.floats(b, h, n, n))
    }

    /// Each mechanism decodes with its own decoders only (``Decoder/supported(by:)``); the others throw
    /// one line saying which it has. Without a decoder, softmax takes its cache and linear its state.
    @Test func unsupportedDecodersThrow() throws {
        for (mechanism, decoder) in [
            (Mechanism.linear, Decoder.kvCache), (.linear, .recompute), (.standard, .recurrent),
            (.flash, .kvCache), (.linformer, .recompute),
        ] {
            #expect(throws: KernelConfigurationError.self, "\(mechanism) with \(decoder)") {
                try Generation(
                    mechanism: mechanism, decoder: decoder, batch: 1, heads: 1, headDim: 8, length: 4, seed: 1)
            }
            let reason = Generation.unsupported(mechanism, decoder: decoder)?.description ?? ""
            #expect(!reason.isEmpty && !reason.contains("\n"))
        }
        #expect(
            try Generation(mechanism: .standard, batch: 1, heads: 1, headDim: 8, length: 4, seed: 1).decoder == .kvCache
        )
        #expect(
            try Generation(mechanism: .linear, batch: 1, heads: 1, headDim: 8, length: 4, seed: 1).decoder == .recurrent
        )
        #expect(
            Generation.cost(mechanism: .linear, decoder: .kvCache, batch: 1, heads: 1, headDim: 8, length: 4, prompt: 1)
                .flops == 0)
    }
}
