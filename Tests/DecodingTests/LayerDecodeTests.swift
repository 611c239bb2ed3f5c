import AttentionKernels
import AttentionReference
import Decoding
import EncoderLayer
import Profiling
import Testing
import _TestSupport

/// Generation through a whole causal encoder stack (``LayerGeneration``), token by token, with the
/// three decoders of "Transformers are RNNs" Tables 4–5: per-layer KV caches, per-layer d×d states,
/// and re-running the stack over the prefix.
@Suite struct LayerDecodeTests {
    static let configuration = LayerConfiguration(heads: 2, headDim: 8, ffnMultiplier: 2, layers: 2)
    static let decoders: [(Mechanism, Decoder)] = [
        (.standard, .kvCache), (.standard, .recompute), (.linear, .recurrent),
    ]

    static func generation(_ mechanism: Mechanism, _ decoder: Decoder, length: Int = 23, prompt: Int = 3) throws
        -> LayerGeneration
    {
        try LayerGeneration(
            configuration: configuration, mechanism: mechanism, decoder: decoder, batch: 2, length: length,
            prompt: prompt, seed: 5)
    }

    static func recorded(_ generation: LayerGeneration) -> LayerDecodeRecord {
        let record = LayerDecodeRecord(
            configuration: generation.configuration, batch: generation.batch, length: generation.length)
        generation(record: record)
        return record
    }

    /// Each step's output is the causal stack's row i over the recorded inputs x_0 … x_{N−1}: every
    /// boundary of every step against the Float64 stack, the float32 stack against the same, and the
    /// two float32 results against each other within the sum of their bounds
    /// (``Verification/check(_:)-(LayerGeneration)``).
    @Test(arguments: decoders)
    func everyStepIsTheCausalStacksRow(_ mechanism: Mechanism, _ decoder: Decoder) throws {
        let results = Verification.check(try Self.generation(mechanism, decoder))
        #expect(results.count == 3)
        for r in results {
            #expect(r.passed, "\(r.kernel): max error \(r.maxAbsoluteError), \(r.worstBoundFraction)× its bound")
        }
    }

    /// With every token a prompt token (nothing fed back, so both see the same inputs), the cache and
    /// recomputation decode the same sequence: the inputs are identical bit for bit and each decoder
    /// passes the check over them, so their outputs are the same up to rounding.
    @Test func theDecodersSeeTheSameInputsWithoutFeedback() throws {
        let records = try [Decoder.kvCache, .recompute].map {
            Self.recorded(try Self.generation(.standard, $0, prompt: 23))
        }
        #expect(records[0].inputs.scalars == records[1].inputs.scalars)
        for decoder in [Decoder.kvCache, .recompute] {
            let passed = Verification.check(try Self.generation(.standard, decoder, prompt: 23)).allSatisfy(\.passed)
            #expect(passed, "\(decoder)")
        }
    }

    /// The loop is closed: the first P inputs are the prompt; after it, x_{i+1} = (x_i + y_i)/rms(x_i + y_i)
    /// from the recorded x_i and y_i, bit for bit.
    @Test(arguments: decoders)
    func eachTokenAfterThePromptIsTheFedBackOutput(_ mechanism: Mechanism, _ decoder: Decoder) throws {
        let generation = try Self.generation(mechanism, decoder)
        let record = Self.recorded(generation)
        let dm = Self.configuration.modelDim
        for b in 0..<generation.batch {
            let (inputs, outputs) = (record.inputs.matrix(b), record.outputs.matrix(b))
            for i in 0..<generation.prompt {
                let prompt = (0..<dm).allSatisfy { inputs[i, $0] == generation.promptSources.matrix(b)[i, $0] }
                #expect(prompt, "b=\(b) i=\(i)")
            }
            var x = [Float](repeating: 0, count: dm)
            for i in generation.prompt..<generation.length {
                for c in 0..<dm { x[c] = inputs[i - 1, c] }
                DecodeProjections.feedback(&x, adding: outputs.row(i - 1), count: dm)
                let fedBack = (0..<dm).allSatisfy { inputs[i, $0] == x[$0] }
                #expect(fedBack, "b=\(b) i=\(i)")
            }
        }
        #expect(maxDifference(record.inputs, record.outputs) > 0.1)
    }

    /// One worker, the calling thread, announced with N; every step starts and finishes in order.
    @Test(arguments: decoders)
    func theObserverSeesEveryStepInOrder(_ mechanism: Mechanism, _ decoder: Decoder) throws {
        let generation = try Self.generation(mechanism, decoder, length: 9)
        let log = StepLog(workers: 1)
        withComputeThreads(2) { generation(observer: log) }
        #expect(log.announced == [1, 9])
        #expect(log.inOrder[0] && log.events[0] == 18)
    }

    /// Per token: `b·L·(8·D² + 4·D·M)` FLOPs in the products; the cache adds Σ_i 4·(i+1)·d per slice and
    /// layer, the state (4·d² + 3·d) per step; recomputation is the stack's forward at every prefix
    /// length, Σ_m (m·b·L·(8·D² + 4·D·M) + b·h·L·4·m²·d).
    @Test func theFlopsCountEveryProductOfEveryStep() throws {
        let c = Self.configuration
        let (b, n, h, d) = (2.0, 23, Double(c.heads), Double(c.headDim))
        let (dm, m, layers) = (Double(c.modelDim), Double(c.ffnDim), Double(c.layers))
        let products = b * layers * (8 * dm * dm + 4 * dm * m)
        let cache = (0..<n).reduce(0.0) { $0 + 4 * Double($1 + 1) * d }
        #expect(try Self.generation(.standard, .kvCache).cost.flops == Double(n) * products + b * h * layers * cache)
        #expect(
            try Self.generation(.linear, .recurrent).cost.flops == Double(n)
                * (products + b * h * layers * (4 * d * d + 3 * d)))
        let recompute = (1...n).reduce(0.0) { $0 + Double($1) * products + b * h * layers * 4 * Double($1 * $1) * d }
        #expect(try Self.generation(.standard, .recompute).cost.flops == recompute)
        // At the rnn-generation preset's N = 3072 (a closed form, not 3072 stack costs), term by term.
        let long = LayerGeneration.cost(
            configuration: c, mechanism: .standard, decoder: .recompute, batch: 2, length: 3072, prompt: 1)
        let terms = (1...3072).reduce(0.0) { $0 + Double($1) * products + b * h * layers * 4 * Double($1 * $1) * d }
        #expect(abs(long.flops - terms) <= 1e-12 * terms)
    }

    /// jemalloc's peak over one generation against the cost model (the kernels' bounds, ``MemoryTests``):
    /// every layer's cache (2.1 MiB here) or state, the per-token buffers and x_N; for recomputation
    /// the prefix, its copy and the stack's forward over all N tokens.
    @Test(arguments: decoders)
    func thePeakMatchesTheCostModel(_ mechanism: Mechanism, _ decoder: Decoder) throws {
        let c = LayerConfiguration(heads: 8, headDim: 32, ffnMultiplier: 1, layers: 2)
        let length = decoder == .recompute ? 48 : 512
        let generation = try LayerGeneration(
            configuration: c, mechanism: mechanism, decoder: decoder, batch: 1, length: length, seed: 7)
        let (_, peak) = try AllocatorProbe.measurePeak { generation() }
        expectNearModel(peak, generation.cost.callPeakBytes, "\(mechanism) \(decoder)")
        #expect(
            generation.cost
                == LayerGeneration.cost(
                    configuration: c, mechanism: mechanism, decoder: decoder, batch: 1,
                    length: length, prompt: 1))
        #expect(generation.cost.parameterBytes == generation.stack.parameterBytes + generation.promptSources.byteCount)
    }

    /// The pairs a mechanism does not decode with throw one line, as ``Generation`` does.
    @Test func unsupportedPairsThrow() {
        for (mechanism, decoder) in [
            (Mechanism.linear, Decoder.kvCache), (.standard, .recurrent), (.flash, .recompute),
            (.linformer, .kvCache),
        ] {
            #expect(throws: KernelConfigurationError.self, "\(mechanism) with \(decoder)") {
                try LayerGeneration(
                    configuration: Self.configuration, mechanism: mechanism, decoder: decoder, batch: 1, length: 4,
                    seed: 1)
            }
        }
        #expect(throws: KernelConfigurationError.self) {
            try LayerGeneration(configuration: Self.configuration, mechanism: .flash, batch: 1, length: 4, seed: 1)
        }
    }
}
