import AttentionKernels
import AttentionReference
import Decoding
import Testing

/// The cost models through properties they must have, not their formulas restated: complexities
/// (how FLOPs and bytes scale with n and d), identities between mechanisms and between passes,
/// byte counts equal to the tensors the kernels return; and no trap on sizes whose byte counts do
/// not fit in an Int (they saturate at Int.max, over any memory budget). That each model's peak is
/// jemalloc's measured peak is checked by ``MemoryTests`` and ``BackwardMemoryTests``.
@Suite struct CostModelTests {
    @Test func saturatingArithmeticIsExactUntilItClamps() {
        #expect(Int.saturatingProduct() == 1)
        #expect(Int.saturatingProduct(3, 5, 7) == 105)
        #expect(Int.saturatingProduct(1 << 31, 1 << 31) == 1 << 62)
        #expect(Int.saturatingProduct(1 << 32, 1 << 31) == .max)
        #expect(Int.saturatingProduct(1 << 40, 1 << 40, 0) == 0)
        #expect(Int.saturatingProduct(-(1 << 40), 1 << 40) == .min)
        #expect(Int.saturatingSum(2, 3, 4) == 9)
        #expect(Int.saturatingSum(.max, 1) == .max)
        #expect(Int.saturatingSum(.max - 1, 1) == .max)
        #expect(Int.saturatingSum(.min, -1) == .min)
        #expect(AttentionCost.floats(3, 5) == 60)
        #expect(AttentionCost.floats(1 << 61) == .max)
    }

    static let shape = AttentionShape(batch: 2, heads: 3, length: 128, headDim: 16)

    /// `shape` with another n or d.
    static func with(length n: Int? = nil, headDim d: Int? = nil) -> AttentionShape {
        AttentionShape(batch: shape.batch, heads: shape.heads, length: n ?? shape.length, headDim: d ?? shape.headDim)
    }

    /// The FLOPs of one forward call of each mechanism at `shape` (Linformer at a fixed k).
    static func flops(_ shape: AttentionShape, k: Int = 32) -> [String: Double] {
        [
            "standard": SoftmaxAttention().cost(for: shape).flops,
            "flash": FlashAttention().cost(for: shape, threads: 1).flops,
            "linformer": LinformerAttention.cost(for: shape, projectedLength: k, sharing: .keyValue).flops,
            "linear": LinearAttention().cost(for: shape).flops,
            "linear causal": LinearAttention(causal: true).cost(for: shape).flops,
        ]
    }

    /// Time complexities, read off the model rather than restated: doubling n multiplies the
    /// quadratic mechanisms' FLOPs by 4 and the others' by 2 (O(n²d), O(nkd), O(nd²)); doubling d
    /// multiplies the n²d and nkd ones by 2 and linear attention's by nearly 4 (its d² term dominates).
    @Test func flopsScaleAsTheirComplexities() {
        let base = Self.flops(Self.shape)
        let (longer, wider) = (Self.flops(Self.with(length: 256)), Self.flops(Self.with(headDim: 32)))
        for (name, f) in base {
            let quadratic = name == "standard" || name == "flash"
            #expect(longer[name]! / f == (quadratic ? 4 : 2), "\(name) over n")
            if name.hasPrefix("linear") {
                #expect(wider[name]! / f > 3.5 && wider[name]! / f < 4, "\(name) over d")
            } else {
                #expect(wider[name]! / f == 2, "\(name) over d")
            }
        }
        // Batch and heads are independent slices: b·h times one slice's cost.
        let one = Self.flops(AttentionShape(batch: 1, heads: 1, length: 128, headDim: 16))
        for (name, f) in base { #expect(f == 6 * one[name]!, "\(name) per slice") }
    }

    /// Identities between mechanisms: flash computes exactly standard attention's products (causal:
    /// the tiles on and below the diagonal, so between half and all of them); Linformer at k = n
    /// does the two projections' work again, 2× standard; linear attention's chunked causal form in
    /// one chunk of all n rows adds exactly the masked [n, n] products of standard attention.
    @Test func identitiesBetweenMechanisms() {
        for n in [100, 1024] {
            let shape = Self.with(length: n)
            let standard = SoftmaxAttention().cost(for: shape)
            #expect(FlashAttention().cost(for: shape, threads: 2).flops == standard.flops)
            let causal = FlashAttention(causal: true).cost(for: shape, threads: 2).flops
            #expect(causal >= standard.flops / 2 && causal <= standard.flops, "n = \(n): \(causal) of \(standard)")
            #expect(SoftmaxAttention(causal: true).cost(for: shape) == standard)  // the masked scores are allocated too
            #expect(LinformerAttention.cost(for: shape, projectedLength: n, sharing: .none).flops == 2 * standard.flops)
            let chunked = LinearAttention(causal: true, chunk: n).cost(for: shape).flops
            #expect(chunked - LinearAttention(causal: true).cost(for: shape).flops == standard.flops)
        }
    }

    /// Memory complexities: standard attention holds the n×n scores; flash attention's tiles do not
    /// grow with n, and at n = 16384, h = 8, d = 64 its whole call is under 1% of standard's (the
    /// README's target); causal linear attention holds O(d²) per slice, the same at every n.
    @Test func memoryScalesAsItsComplexity() {
        for n in [128, 1024] {
            let shape = Self.with(length: n)
            #expect(SoftmaxAttention().cost(for: shape).intermediateBytes >= shape.slices * n * n * 4)
        }
        let flash = { (n: Int) in FlashAttention().cost(for: Self.with(length: n), threads: 2) }
        #expect(flash(1024).intermediateBytes == flash(8192).intermediateBytes)
        let long = AttentionShape(batch: 1, heads: 8, length: 16384, headDim: 64)
        let ratio =
            Double(FlashAttention().cost(for: long, threads: 2).callPeakBytes)
            / Double(SoftmaxAttention().cost(for: long).callPeakBytes)
        #expect(ratio < 0.01, "flash ÷ standard = \(ratio)")
        let causal = { (n: Int) in LinearAttention(causal: true).cost(for: Self.with(length: n)).intermediateBytes }
        #expect(causal(128) == causal(65536))
    }

    /// Counted from the tensors themselves: the output a call returns, the gradients a backward
    /// returns (Linformer's dE, dF included) and the projections Linformer holds are the model's
    /// output and parameter bytes.
    @Test func outputAndParameterBytesAreTheTensorsReturned() {
        let shape = AttentionShape(batch: 2, heads: 3, length: 37, headDim: 16)
        let (q, k, v) = Verification.inputs(shape, seed: 4)
        let dO = Verification.outputGradient(shape, seed: 4)
        for kernel in Verification.kernels(for: shape, projectedLength: 8, seed: 5) {
            let out = kernel(q: q, k: k, v: v)
            #expect(kernel.cost(for: shape).outputBytes == out.count * 4, "\(kernel.name)")
            guard let differentiable = kernel as? any DifferentiableAttention else { continue }
            let gradients = differentiable.trainingStep(q: q, k: k, v: v, outputGradient: dO).gradients
            let bytes = gradients.named.map { $0.tensor.count * 4 }.reduce(0, +)
            #expect(differentiable.backwardCost(for: shape).outputBytes == bytes, "\(kernel.name) backward")
            if let linformer = kernel as? LinformerAttention {
                let projections = linformer.projections
                let held = projections.e.count + (projections.sharing == .keyValue ? 0 : projections.f.count)
                #expect(linformer.cost(for: shape).parameterBytes == held * 4, "\(kernel.name) parameters")
            }
        }
    }

    /// Passes compose: a training step does the forward's and the backward's work and peaks at least
    /// where either does; a backward costs about twice its forward (2× to 2.5× here: the two
    /// products of each forward one, and flash's recomputed scores); causal linear attention saves
    /// nothing (the backward re-runs the recurrence), standard attention its n×n weights.
    @Test func passesCompose() throws {
        let shape = Self.shape
        for kernel in Verification.kernels(for: shape, projectedLength: 32, seed: 1) {
            guard let kernel = kernel as? any DifferentiableAttention else { continue }
            let (forward, backward, train): (AttentionCost, AttentionCost, AttentionCost)
            if let flash = kernel as? FlashAttention {  // tiles per thread: 2 threads, not the process's current count
                (forward, backward) = (flash.cost(for: shape, threads: 2), flash.backwardCost(for: shape, threads: 2))
                train = flash.cost(for: shape, threads: 2, pass: .train)
            } else {
                (forward, backward, train) = (
                    kernel.cost(for: shape), kernel.backwardCost(for: shape),
                    kernel.cost(for: shape, pass: .train)
                )
                #expect(kernel.cost(for: shape, pass: .backward) == backward)
                #expect(kernel.cost(for: shape, pass: .forward) == forward)
            }
            #expect(train.flops == forward.flops + backward.flops, "\(kernel.name)")
            #expect(train.callPeakBytes >= max(forward.callPeakBytes, backward.callPeakBytes), "\(kernel.name)")
        }
        let projections = LinformerProjections.seeded(
            k: 32, length: shape.length, heads: shape.heads, sharing: .keyValue, seed: 1)
        let plain: [any DifferentiableAttention] = [
            SoftmaxAttention(), try LinformerAttention(projections: projections), LinearAttention(),
            LinearAttention(causal: true), FlashAttention(),
        ]
        for kernel in plain {
            let ratio = kernel.backwardCost(for: shape).flops / kernel.cost(for: shape).flops
            #expect(ratio >= 1.9 && ratio <= 2.6, "\(kernel.name): backward ÷ forward = \(ratio)")
        }
        #expect(LinearAttention(causal: true).savedBytes(for: shape) == 0)
        #expect(SoftmaxAttention().savedBytes(for: shape) >= shape.slices * shape.length * shape.length * 4)
    }

    /// Decoding N tokens: the KV cache's step i attends over i + 1 keys, so its FLOPs are quadratic
    /// in N (constant second difference > 0) and its cache grows linearly; recomputation re-runs the
    /// prefix, cubic (constant third difference); the RNN state's FLOPs are linear (second
    /// difference 0) and its memory the same at every N.
    @Test func decodeCostsGrowAsTheirDecoders() {
        func cost(_ mechanism: Mechanism, _ decoder: Decoder? = nil, _ n: Int) -> AttentionCost {
            Generation.cost(
                mechanism: mechanism, decoder: decoder, batch: 2, heads: 3, headDim: 16, length: n, prompt: 5)
        }
        func differences(_ values: [Double]) -> [Double] { zip(values.dropFirst(), values).map { $0 - $1 } }
        for n in [100, 1000] {
            let cache = (n...n + 3).map { cost(.standard, nil, $0).flops }
            let second = differences(differences(cache))
            #expect(second[0] == second[1] && second[0] > 0, "kv-cache at N = \(n): \(second)")
            let state = differences(differences((n...n + 3).map { cost(.linear, nil, $0).flops }))
            #expect(state.allSatisfy { $0 == 0 }, "recurrent at N = \(n): \(state)")
            let recomputed = (n...n + 4).map { cost(.standard, .recompute, $0).flops }
            let recompute = differences(differences(differences(recomputed)))
            #expect(recompute[0] == recompute[1] && recompute[0] > 0, "recompute at N = \(n): \(recompute)")
        }
        let cacheBytes = [100, 200, 300].map { cost(.standard, nil, $0).intermediateBytes }
        #expect(cacheBytes[2] - cacheBytes[1] == cacheBytes[1] - cacheBytes[0] && cacheBytes[1] > cacheBytes[0])
        #expect(cost(.linear, nil, 100).intermediateBytes == cost(.linear, nil, 100_000).intermediateBytes)
    }

    /// The brief's b = h = n = 10⁹ (b·h = 10¹⁸ still fits, every byte count does not) and all-Int.max.
    static let huge = [
        AttentionShape(batch: 1_000_000_000, heads: 1_000_000_000, length: 1_000_000_000, headDim: 64),
        AttentionShape(batch: .max, heads: .max, length: .max, headDim: .max),
    ]

    /// Byte counts saturate at Int.max (so the harness's budget guard refuses the point); FLOPs are
    /// computed in Double and are huge, never NaN.
    @Test(arguments: huge)
    func hugeShapesSaturateInsteadOfTrapping(_ shape: AttentionShape) {
        #expect(shape.slices == (shape.batch == .max ? .max : 1_000_000_000_000_000_000))
        var costs: [(String, AttentionCost)] = [Mechanism.standard, .linear].map { mechanism in
            (
                "\(mechanism) decode",
                Generation.cost(
                    mechanism: mechanism, batch: shape.batch, heads: shape.heads,
                    headDim: shape.headDim, length: shape.length, prompt: shape.length)
            )
        }
        costs += [
            ("standard", SoftmaxAttention().cost(for: shape)),
            ("standard causal", SoftmaxAttention(causal: true).cost(for: shape)),
            ("linear", LinearAttention().cost(for: shape)),
            ("linear causal", LinearAttention(causal: true).cost(for: shape)),
        ]
        for sharing in ProjectionSharing.allCases {
            costs.append(
                ("linformer \(sharing)", LinformerAttention.cost(for: shape, projectedLength: 256, sharing: sharing)))
        }
        for pass in [Pass.backward, .train] {
            costs += [
                ("standard \(pass)", SoftmaxAttention().cost(for: shape, pass: pass)),
                ("linear \(pass)", LinearAttention().cost(for: shape, pass: pass)),
                ("linear causal \(pass)", LinearAttention(causal: true).cost(for: shape, pass: pass)),
                (
                    "linformer \(pass)",
                    LinformerAttention.cost(for: shape, projectedLength: 256, sharing: .none, pass: pass)
                ),
            ]
        }
        for (name, cost) in costs {
            #expect(
                cost.intermediateBytes == .max && cost.outputBytes == .max && cost.callPeakBytes == .max,
                "\(name): \(cost)")
            #expect(cost.flops > 1e30 && !cost.flops.isNaN, "\(name): \(cost.flops)")
        }
    }

    /// One overflowing term saturates its count and leaves the others exact.
    @Test func oneOverflowingTermSaturatesOnlyItsCount() {
        let long = AttentionShape(batch: 1, heads: 1, length: 1_000_000_000_000, headDim: 64)  // n² does not fit
        let standard = SoftmaxAttention().cost(for: long)
        #expect(standard.intermediateBytes == .max && standard.outputBytes == 1_000_000_000_000 * 64 * 4)
        #expect(standard.flops == 4 * 1e24 * 64)
        // n·k does not fit
        let linformer = LinformerAttention.cost(for: long, projectedLength: 1 << 40, sharing: .keyValue)
        #expect(linformer.intermediateBytes == .max && linformer.parameterBytes == .max)
        #expect(linformer.outputBytes == standard.outputBytes)
        let decode = Generation.cost(mechanism: .linear, batch: 1, heads: 1, headDim: 64, length: .max, prompt: 1)
        // O(1) state at any N
        #expect(decode.intermediateBytes == (64 * 64 + 3 * 64 + 5 * 64) * 4 && decode.flops > 1e22)
    }
}
