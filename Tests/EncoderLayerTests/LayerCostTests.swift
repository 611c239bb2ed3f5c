import AttentionKernels
import AttentionReference
import EncoderLayer
import Profiling
import Testing
import _TestSupport

/// The encoder stack's cost model: the static form (no weights) equals the instance's, it allocates
/// nothing, its FLOPs are every product's, its parameters every weight's and projection's (Performer's W too), and sizes
/// beyond any machine saturate instead of trapping. What it predicts of the heap is checked against
/// jemalloc in ``LayerMemoryTests``.
@Suite struct LayerCostTests {
    static let configuration = LayerConfiguration(heads: 4, headDim: 16, ffnMultiplier: 3, layers: 2)
    static let (batch, length) = (3, 40)

    /// The static cost's core costs for a stack's core, from its mechanism's name and settings only.
    static func named(_ core: any DifferentiableAttention, shape: AttentionShape) -> EncoderStack.CoreCost {
        let linformer = core as? LinformerAttention
        let settings = MechanismSettings(
            causal: core.isCausal, projectedLength: linformer?.projectedLength, sharing: linformer?.projections.sharing,
            hashRounds: (core as? LSHAttention)?.rounds, buckets: (core as? LSHAttention)?.buckets,
            chunk: (core as? LSHAttention)?.chunk, features: (core as? PerformerAttention)?.features.count)
        return .of(core.mechanism, settings: settings, shape: shape)
    }

    @Test(arguments: Pass.allCases)
    func theStaticCostIsTheInstanceCost(_ pass: Pass) {
        let c = Self.configuration
        let shape = c.coreShape(batch: Self.batch, length: Self.length)
        for (name, cores) in Verification.layerCores(
            configuration: c, length: Self.length, projectedLength: 16, seed: 1)
        {
            let stack = EncoderStack(configuration: c, cores: cores, seed: 2)
            let instance = stack.cost(batch: Self.batch, length: Self.length, pass: pass)
            let fromKernels = EncoderStack.cost(configuration: c, batch: Self.batch, length: Self.length, pass: pass) {
                EncoderStack.CoreCost(cores[$0], shape: shape)
            }
            let fromNames = EncoderStack.cost(configuration: c, batch: Self.batch, length: Self.length, pass: pass) {
                Self.named(cores[$0], shape: shape)
            }
            #expect(instance == fromKernels && instance == fromNames, "\(name) \(pass)")
            #expect(instance.parameterBytes == stack.parameterBytes, "\(name)")
        }
    }

    /// Every layer's sixteen tensors, Linformer's E = F (key-value sharing: one `[k, n]` per layer) and
    /// Performer's features W (one `[m, d]` per layer, m = 32 in the layer cores).
    @Test func parameterBytesCountEveryWeightAndProjection() {
        let c = Self.configuration
        for (name, cores) in Verification.layerCores(
            configuration: c, length: Self.length, projectedLength: 16, seed: 1)
        {
            let stack = EncoderStack(configuration: c, cores: cores, seed: 2)
            let weights = stack.weights.reduce(0) { $0 + $1.named.reduce(0) { $0 + $1.tensor.byteCount } }
            let projections = cores.reduce(0) { $0 + (($1 as? LinformerAttention)?.projections.byteCount ?? 0) }
            let features = cores.reduce(0) { $0 + (($1 as? PerformerAttention)?.features.projection.byteCount ?? 0) }
            #expect(stack.parameterBytes == weights + projections + features, "\(name)")
            let (dm, m) = (c.modelDim, c.ffnDim)
            #expect(weights == c.layers * (4 * dm * dm + 2 * dm * m + 9 * dm + m) * 4)
            #expect(name.hasPrefix("linformer") == (projections == c.layers * 16 * Self.length * 4))
            #expect(name.hasPrefix("performer") == (features == c.layers * 32 * c.headDim * 4))
        }
    }

    /// Forward: QKV 6·T·D², output projection 2·T·D², FFN 4·T·D·M per layer; backward twice that;
    /// plus the cores' own.
    @Test func flopsCountEveryProduct() {
        let c = Self.configuration
        let shape = c.coreShape(batch: Self.batch, length: Self.length)
        let core = SoftmaxAttention()
        let stack = EncoderStack(configuration: c, cores: [core, core], seed: 3)
        let (t, d, m) = (Double(Self.batch * Self.length), Double(c.modelDim), Double(c.ffnDim))
        let layer = 6 * t * d * d + 2 * t * d * d + 4 * t * d * m
        let forward = 2 * (layer + core.cost(for: shape).flops)
        let backward = 2 * (2 * layer + core.backwardCost(for: shape).flops)
        #expect(stack.cost(batch: Self.batch, length: Self.length, pass: .forward).flops == forward)
        #expect(stack.cost(batch: Self.batch, length: Self.length, pass: .backward).flops == backward)
        #expect(stack.cost(batch: Self.batch, length: Self.length, pass: .train).flops == forward + backward)
    }

    /// An inference forward frees each layer before the next, so a deeper stack peaks no higher; a
    /// training step keeps every layer's activations, so each layer adds at least its saved bytes
    /// (8 `[b, n, D]` buffers, one `[b, n, M]`, the core's saved forward).
    @Test func depthCostsTrainingMemoryAndNotInferenceMemory() {
        let shape = Self.configuration.coreShape(batch: Self.batch, length: Self.length)
        func cost(_ layers: Int, _ pass: Pass) -> Int {
            var c = Self.configuration
            c.layers = layers
            return EncoderStack.cost(configuration: c, batch: Self.batch, length: Self.length, pass: pass) { _ in
                .of(.standard, causal: false, shape: shape)
            }.callPeakBytes
        }
        #expect(cost(2, .forward) == cost(6, .forward))
        let (t, dm, m) = (Self.batch * Self.length, Self.configuration.modelDim, Self.configuration.ffnDim)
        let saved = 4 * (8 * t * dm + t * m) + SoftmaxAttention().savedBytes(for: shape)
        #expect(cost(6, .train) - cost(5, .train) >= saved)
    }

    /// BERT-large (24 layers, 16 heads of 64, m = 4) at b = 64, n = 512 would hold 1.2 GB of weights;
    /// its static cost allocates nothing of the kind (jemalloc's per-thread peak is exact to ~100 KB).
    @Test func theStaticCostAllocatesNothing() throws {
        let c = LayerConfiguration(heads: 16, headDim: 64, ffnMultiplier: 4, layers: 24)
        let shape = c.coreShape(batch: 64, length: 512)
        let (cost, peak) = try AllocatorProbe.measurePeak {
            EncoderStack.cost(configuration: c, batch: 64, length: 512, pass: .train) { _ in
                .of(.flash, causal: true, shape: shape)
            }
        }
        #expect(cost.parameterBytes > 1 << 30)
        #expect(peak < 64 * 1024, "the static cost allocated \(peak) bytes")
    }

    /// Sizes beyond any machine read `Int.max` bytes, never an overflow trap.
    @Test func sizesBeyondAnyMachineSaturate() {
        let c = LayerConfiguration(heads: 1 << 20, headDim: 1 << 20, ffnMultiplier: 4, layers: 1 << 10)
        let shape = c.coreShape(batch: 1 << 30, length: 1 << 30)
        for pass in Pass.allCases {
            let cost = EncoderStack.cost(configuration: c, batch: 1 << 30, length: 1 << 30, pass: pass) { _ in
                .of(.linear, causal: true, shape: shape)
            }
            #expect(cost.callPeakBytes == .max && cost.parameterBytes == .max, "\(pass)")
        }
    }
}
