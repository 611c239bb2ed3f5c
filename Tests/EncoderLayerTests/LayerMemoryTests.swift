import AttentionKernels
import AttentionReference
import EncoderLayer
import Profiling
import Testing
import _TestSupport

/// What jemalloc's per-thread peak sees of one encoder-stack call, against the stack's cost model,
/// with the kernels' bounds (``PeakBounds``: model − 100 KiB ≤ peak ≤ model + 768 KiB): an inference
/// forward, a backward given a saved forward, and a training step, for L = 2 stacks of one core of
/// each way of holding memory: standard (the training forward keeps its intermediates, the n×n
/// weights), flash (causal: it keeps a log-sum-exp beside its intermediates), Linformer (its
/// backward returns dE, dF) and causal linear (it keeps nothing). The other three cores hold memory
/// as their sibling does; ``LayerCostTests`` checks that the stack's model takes every core's costs.
/// T = b·n = 256 rows of D = 1024 make one `[b, n, D]` buffer 1 MiB, so a buffer the model forgets
/// or invents (or one freed later than it says) is outside the bounds. Short sequences of small
/// heads (n = 32, d = 16) and m = 1 keep the debug build's element-wise passes short (the cores'
/// own memory is checked at larger n by ``MemoryTests`` and ``BackwardMemoryTests``); the FFN's
/// `[b, n, M]` buffers are then 1 MiB too.
@Suite struct LayerMemoryTests {
    static let configuration = LayerConfiguration(heads: 64, headDim: 16, ffnMultiplier: 1, layers: 2)
    static let (batch, length) = (8, 32)

    @Test func everyPassPeakMatchesTheCostModel() throws {
        let c = Self.configuration
        let x = Tensor.normal([Self.batch, Self.length, c.modelDim], seed: 3, label: "test")
        let dY = Tensor.normal(x.shape, seed: 4, label: "test")
        let weights = (0..<c.layers).map {
            EncoderWeights.seeded(modelDim: c.modelDim, ffnDim: c.ffnDim, seed: 6 &+ UInt64($0))
        }
        try withComputeThreads(2) {
            let kinds: Set = ["standard", "flash (causal)", "linformer key-value", "linear (causal)"]
            for (name, cores) in Verification.layerCores(
                configuration: c, length: Self.length, projectedLength: 16, seed: 5)
            where kinds.contains(name) {
                let stack = EncoderStack(configuration: c, cores: cores, weights: weights)
                let model = { (pass: Pass) in
                    stack.cost(batch: Self.batch, length: Self.length, pass: pass).callPeakBytes
                }
                let (_, forward) = try AllocatorProbe.measurePeak { stack(x: x) }
                expectNearModel(forward, model(.forward), name + " forward")
                let (output, saved) = stack.trainingForward(x: x)
                let (_, backward) = try AllocatorProbe.measurePeak {
                    stack.backward(x: x, output: output, saved: saved, outputGradient: dY)
                }
                expectNearModel(backward, model(.backward), name + " backward")
                let (_, train) = try AllocatorProbe.measurePeak { stack.trainingStep(x: x, outputGradient: dY) }
                expectNearModel(train, model(.train), name + " train")
            }
        }
    }
}
