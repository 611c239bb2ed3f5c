import AttentionKernels
import Decoding
import EncoderLayer

/// Verification of ``EncoderStack`` against ``ReferenceLayer``: what `attnbench verify` prints for
/// the layer scope, and what the layer tests assert.
extension Verification {
    /// The cores `checkLayers` stacks, as L cores per variant (each layer its own core; Linformer's
    /// E, F seeded per layer from `seed &+ l`): every mechanism's ``MechanismKernels/layerCores``, in
    /// figure order (``MechanismDescriptor/rank``): standard, standard (causal), flash, flash (causal),
    /// Linformer with key-value sharing (k = `projectedLength`), linear, linear (causal). Flash uses
    /// `flashBlocks` (``smallFlashBlocks`` in verification, so short sequences span several tiles).
    public static func layerCores(
        configuration: LayerConfiguration, length: Int, projectedLength: Int = 8, seed: UInt64,
        flashBlocks: FlashAttention.Blocks = .default
    ) -> [(name: String, cores: [any DifferentiableAttention])] {
        let settings = MechanismKernels.LayerCoreSettings(
            layers: configuration.layers, heads: configuration.heads, headDim: configuration.headDim, length: length,
            projectedLength: projectedLength,
            seed: seed, flashBlocks: flashBlocks)
        let inFigureOrder = MechanismKernels.registry.sorted { $0.descriptor.rank < $1.descriptor.rank }
        return inFigureOrder.flatMap { $0.layerCores(settings) }
    }
}

extension Verification {
    /// The outcome of one stack's check, part by part (each a ``Result`` named `layer <l> <part>`):
    /// - `forward`: per layer, the projections (Q, K, V), the core (A), the attention output with
    ///   LayerNorm 1 (H) and the FFN with LayerNorm 2 (U and Y), each against its Float64 reference on
    ///   the float32 inputs that part received in the training forward;
    /// - `endToEnd`: every part boundary and the inference output against the whole Float64 stack
    ///   run from X (``endToEnd(_:x:boundaries:final:weights:)``);
    /// - `backward`: per layer, the FFN and LayerNorm 2 backward (dH, dW1, db1, dW2, db2, dγ₂, dβ₂),
    ///   LayerNorm 1 and the output projection (dZ₁, dA, dWo, dbo, dγ₁, dβ₁), the core's backward
    ///   (dQ, dK, dV, and dE, dF) and the projections' (dX, dWq, dWk, dWv, dbq, dbk, dbv), each on the
    ///   float32 gradient the part was handed and the saved forward it read.
    public struct LayerCheck: Sendable {
        public var forward: [Result]
        public var endToEnd: Result
        public var backward: [Result]

        /// Every result: forward parts, end-to-end, backward parts.
        public var all: [Result] { forward + [endToEnd] + backward }
        public var passed: Bool { all.allSatisfy(\.passed) }
        public var forwardPassed: Bool { forward.allSatisfy(\.passed) }
        public var backwardPassed: Bool { backward.allSatisfy(\.passed) }
    }

    /// Checks `stack` on X and dY part by part against ``ReferenceLayer``. `referenceWeights`
    /// (default: the stack's own) are the weights the reference uses: a test gives it other weights
    /// to show that the check fails.
    public static func checkLayer(
        _ stack: EncoderStack, x: Tensor, outputGradient dy: Tensor, referenceWeights: [EncoderWeights]? = nil
    ) -> LayerCheck {
        let weights = referenceWeights ?? stack.weights
        let shape = stack.checkedShape(x)
        let (batch, heads, layers) = (shape.batch, shape.heads, stack.configuration.layers)
        let (output, saved) = stack.trainingForward(x: x)
        let trace = BackwardTrace(layers: layers)
        let gradients = stack.backward(x: x, output: output, saved: saved, outputGradient: dy, trace: trace)
        func input(_ l: Int) -> Tensor { l == 0 ? x : saved.layers[l - 1].output }
        func worst(_ results: [Result], _ name: String) -> Result { Self.worst(results, named: name, shape: shape) }

        var forward = [Result]()
        for l in 0..<layers {
            let (s, w) = (saved.layers[l], weights[l])
            let X = ReferenceLayer.tokens(input(l))
            let (q, k, v) = ReferenceLayer.projections(input: X, weights: w)
            forward.append(
                worst(
                    [(s.q, q), (s.k, k), (s.v, v)].map {
                        compare(
                            $0.0, ReferenceLayer.headsFirst($0.1, batch: batch, heads: heads), kernel: "", shape: shape)
                    }, "layer \(l) projections"))
            forward.append(
                compare(
                    s.attention, ReferenceAttention.output(of: stack.cores[l], q: s.q, k: s.k, v: s.v),
                    kernel: "layer \(l) core \(stack.cores[l].name)", shape: shape))
            let h = ReferenceLayer.attentionOutput(
                input: X, attention: ReferenceLayer.tokens(heads: s.attention), weights: w)
            forward.append(
                compare(s.hidden, h.output.output, kernel: "layer \(l) attention output + LN1", shape: shape))
            let f = ReferenceLayer.feedForward(hidden: ReferenceLayer.tokens(s.hidden), weights: w)
            forward.append(
                worst(
                    [
                        compare(s.preActivation, f.preActivation.output, kernel: "", shape: shape),
                        compare(s.output, f.normalized.output.output, kernel: "", shape: shape),
                    ],
                    "layer \(l) FFN + LN2"))
        }
        let endToEnd = self.endToEnd(
            stack, x: x, boundaries: saved.layers.map(LayerBoundaries.init), final: stack(x: x),
            weights: weights
        ).result

        var backward = [Result]()
        for l in (0..<layers).reversed() {
            guard let t = trace.layers[l] else { preconditionFailure("the backward left no trace of layer \(l)") }
            let (s, w, g) = (saved.layers[l], weights[l], gradients.layers[l])
            let incoming = l == layers - 1 ? dy : (trace.layers[l + 1]?.input ?? dy)
            let X = ReferenceLayer.tokens(input(l))
            func named(_ reference: [String: ReferenceLayer.Field], _ kernel: [(String, Tensor)]) -> [Result] {
                kernel.map { name, tensor in
                    guard let expected = reference[name] else { preconditionFailure("no reference gradient \(name)") }
                    return compare(tensor, expected.output, kernel: name, shape: shape)
                }
            }
            let ffn = ReferenceLayer.feedForwardBackward(
                hidden: ReferenceLayer.tokens(s.hidden), weights: w,
                gradient: ReferenceLayer.tokens(incoming))
            backward.append(
                worst(
                    named(
                        ffn,
                        [
                            ("dh", t.hidden), ("w1", g.w1), ("b1", g.b1), ("w2", g.w2), ("b2", g.b2),
                            ("gamma2", g.gamma2), ("beta2", g.beta2),
                        ]), "layer \(l) FFN + LN2 backward"))
            let attention = ReferenceLayer.attentionOutputBackward(
                input: X, attention: ReferenceLayer.tokens(heads: s.attention), weights: w,
                gradient: ReferenceLayer.tokens(t.hidden))
            var outputParts = named(
                attention, [("dz", t.residual), ("wo", g.wo), ("bo", g.bo), ("gamma1", g.gamma1), ("beta1", g.beta1)])
            if let da = attention["da"] {
                outputParts.append(
                    compare(
                        t.attention, ReferenceLayer.headsFirst(da, batch: batch, heads: heads), kernel: "da",
                        shape: shape))
            }
            backward.append(worst(outputParts, "layer \(l) attention output + LN1 backward"))
            let core = ReferenceAttention.gradients(
                of: stack.cores[l], q: s.q, k: s.k, v: s.v, outputGradient: t.attention,
                projected: s.projected)
            backward.append(
                compare(t.core, core, kernel: "layer \(l) core \(stack.cores[l].name) backward", shape: shape))
            let projections = ReferenceLayer.projectionBackward(
                input: X, weights: w, residual: ReferenceLayer.tokens(t.residual),
                dq: ReferenceLayer.tokens(heads: t.core.q),
                dk: ReferenceLayer.tokens(heads: t.core.k), dv: ReferenceLayer.tokens(heads: t.core.v))
            backward.append(
                worst(
                    named(
                        projections,
                        [
                            ("dx", t.input), ("wq", g.wq), ("wk", g.wk), ("wv", g.wv),
                            ("bq", g.bq), ("bk", g.bk), ("bv", g.bv),
                        ]), "layer \(l) projections backward"))
        }
        precondition(trace.layers[0]?.input === gradients.dX, "the stack's dX is not layer 0's")
        return LayerCheck(forward: forward, endToEnd: endToEnd, backward: backward)
    }

    /// The stack against the Float64 stack run from X alone (every intermediate a Float64 value, never
    /// the kernel's): at each part boundary (Q, K, V; A; H; Y of every layer, then `final`, the
    /// output of the call being checked) the kernel's value (`boundaries`: a training forward's, or a
    /// generation's record) must be within the part's own rounding bound plus the first-order
    /// propagation of how far the part's inputs were from the Float64 stack's. That incoming deviation
    /// is measured (|float32 − Float64|, exact in Float64, ``ReferenceLayer/measured(_:against:heads:)``),
    /// as ``ReferenceAttention/linformerGradients(q:k:v:projections:outputGradient:projected:)`` does
    /// for K′, V′: the worst-case bound itself, carried through every part, grows by about 10⁴ per
    /// layer (each product multiplies it by Σ|w| ≈ √D, each LayerNorm by ~5, the softmax by ~10),
    /// measured at 0.3 on a Y of unit scale after one layer of the verify shape, which no wrong
    /// stack could fail. Each boundary is a comparison with the Float64 stack, so wiring errors (a
    /// layer fed the wrong tensor, the inference path differing from the training path) fail here.
    /// An element that passes an input straight through uses nearly all of its bound by construction:
    /// causal attention's first row is v₀ itself, whose error is exactly the deviation it inherits
    /// (the bound adds only the rounding), so causal cores read up to ~0.9 of the bound there.
    /// `rerunSlack` scales every boundary's bound: 1, or 2 for a `recompute` generation, whose step i
    /// re-runs the stack over rows 0…i recomputed at that step rather than the rows recorded at their
    /// own steps (each within the same derived bound of the Float64 value), so a recorded boundary is
    /// within its own bound plus the re-run rows' (the `decode=stack` line's sum of two bounds, per part).
    static func endToEnd(
        _ stack: EncoderStack, x: Tensor, boundaries: [LayerBoundaries], final: Tensor, weights: [EncoderWeights],
        rerunSlack: Double = 1
    ) -> (result: Result, final: ReferenceAttention.Output) {
        let shape = stack.checkedShape(x)
        let (batch, heads) = (shape.batch, shape.heads)
        var results = [Result]()
        func check(_ kernel: Tensor, _ reference: ReferenceLayer.Field, heads split: Bool = false) {
            var expected = split ? ReferenceLayer.headsFirst(reference, batch: batch, heads: heads) : reference.output
            if rerunSlack != 1 { expected.bounds = expected.bounds.map { $0 * rerunSlack } }
            results.append(compare(kernel, expected, kernel: "", shape: shape))
        }
        var current = ReferenceLayer.tokens(x)
        var last = current
        for l in 0..<stack.configuration.layers {
            let (s, w) = (boundaries[l], weights[l])
            let (q, k, v) = ReferenceLayer.projections(input: current, weights: w)
            check(s.q, q, heads: true)
            check(s.k, k, heads: true)
            check(s.v, v, heads: true)
            let a = ReferenceLayer.core(
                stack.cores[l], q: ReferenceLayer.measured(q, against: s.q, heads: true),
                k: ReferenceLayer.measured(k, against: s.k, heads: true),
                v: ReferenceLayer.measured(v, against: s.v, heads: true), batch: batch, heads: heads)
            check(s.attention, a, heads: true)
            let h = ReferenceLayer.attentionOutput(
                input: current, attention: ReferenceLayer.measured(a, against: s.attention, heads: true),
                weights: w
            ).output
            check(s.hidden, h)
            last =
                ReferenceLayer.feedForward(hidden: ReferenceLayer.measured(h, against: s.hidden), weights: w).normalized
                .output
            check(s.output, last)
            current = ReferenceLayer.measured(last, against: s.output)
        }
        check(final, last)
        return (worst(results, named: "stack end-to-end", shape: shape), last.output)
    }

    /// A layer-scope generation against the causal stack over the inputs it recorded, x_0 … x_{N−1}
    /// (each y_i is the causal stack's row i, which sees tokens ≤ i only): three results,
    /// - `<L, mechanism, decoder> decode`: every boundary of every step (Q, K, V, A, H, Y of each
    ///   layer) and every output against the Float64 stack over the recorded inputs
    ///   (``endToEnd(_:x:boundaries:final:weights:)``);
    /// - `… stack`: the float32 stack's own training forward and output over the same inputs,
    ///   against the same Float64 stack;
    /// - `… decode=stack`: each y_i against the float32 stack's row i, within the sum of the two
    ///   bounds (both are within their own of the same Float64 value).
    public static func check(_ generation: LayerGeneration) -> [Result] {
        let (c, stack) = (generation.configuration, generation.stack)
        let record = LayerDecodeRecord(configuration: c, batch: generation.batch, length: generation.length)
        generation(record: record)
        let shape = c.coreShape(batch: generation.batch, length: generation.length)
        let label = "L=\(c.layers) \(generation.mechanism.rawValue) \(generation.decoder.rawValue)"
        var decoded = endToEnd(
            stack, x: record.inputs, boundaries: record.layers, final: record.outputs, weights: stack.weights,
            rerunSlack: generation.decoder == .recompute ? 2 : 1)
        let rows = stack(x: record.inputs)
        let (_, saved) = stack.trainingForward(x: record.inputs)
        var rerun = endToEnd(
            stack, x: record.inputs, boundaries: saved.layers.map(LayerBoundaries.init), final: rows,
            weights: stack.weights)
        decoded.result.kernel = label + " decode"
        rerun.result.kernel = label + " stack"
        let together = ReferenceAttention.Output(
            values: rows.scalars.map(Double.init),
            bounds: zip(decoded.final.bounds, rerun.final.bounds).map { $0 + $1 })
        return [
            decoded.result, rerun.result,
            compare(record.outputs, together, kernel: label + " decode=stack", shape: shape),
        ]
    }

    /// `attnbench verify`'s layer-decode lines: ``check(_:)-(LayerGeneration)`` for an L = 2 stack
    /// (``layerCheckConfiguration``) generating b = 2 sequences of N = 23 tokens after a 3-token prompt
    /// (weights seeded from `seed`), with each decoder: softmax's cache and recomputation, linear
    /// attention's state (every registered mechanism with every decoder it supports).
    public static func checkLayerGenerations(seed: UInt64) -> [Result] {
        let pairs = Mechanism.allCases.flatMap { m in Decoder.supported(by: m).map { (mechanism: m, decoder: $0) } }
        return pairs.flatMap { mechanism, decoder in
            do {
                return check(
                    try LayerGeneration(
                        configuration: layerCheckConfiguration, mechanism: mechanism, decoder: decoder,
                        batch: 2, length: 23, prompt: 3, seed: seed))
            } catch {
                preconditionFailure("\(mechanism) decodes with \(decoder): \(error)")
            }
        }
    }

    /// The worst of several results under one name: the largest error and bound fraction, and all
    /// non-finite elements.
    public static func worst(_ results: [Result], named name: String, shape: AttentionShape) -> Result {
        var result = Result(kernel: name, shape: shape, maxAbsoluteError: 0, worstBoundFraction: 0, nonFinite: 0)
        for r in results {
            result.maxAbsoluteError = max(result.maxAbsoluteError, r.maxAbsoluteError)
            result.worstBoundFraction = max(result.worstBoundFraction, r.worstBoundFraction)
            result.nonFinite += r.nonFinite
        }
        return result
    }

    /// The shape `checkLayers` runs: L = 2 layers of h = 2 heads of d = 16 (D = 32, M = 128), b = 2,
    /// n = 37 (a prime: no tile or lane count divides it; flash's 8×16 tiles leave partial blocks).
    public static let layerCheckConfiguration = LayerConfiguration(heads: 2, headDim: 16, ffnMultiplier: 4, layers: 2)
    public static let layerCheckShape = (batch: 2, length: 37)

    /// `attnbench verify`'s layer lines: for each core of ``layerCores(configuration:length:projectedLength:seed:flashBlocks:)``
    /// (flash with ``smallFlashBlocks``, Linformer k = 8), an L = 2 stack (weights seeded from
    /// `seed + 7`, X from `seed`, dY from `seed + 4`) checked by ``checkLayer(_:x:outputGradient:referenceWeights:)``:
    /// three results per core, `L=2 <core> forward` (the worst forward part), `… end-to-end` and
    /// `… backward` (the worst backward part).
    public static func checkLayers(seed: UInt64) -> [Result] {
        let configuration = layerCheckConfiguration
        let (batch, length) = layerCheckShape
        let shape = configuration.coreShape(batch: batch, length: length)
        let x = Tensor.normal([batch, length, configuration.modelDim], seed: seed, label: "input X")
        let dy = Tensor.normal(x.shape, seed: seed &+ 4, label: "input dY")
        var results = [Result]()
        for (name, cores) in layerCores(
            configuration: configuration, length: length, projectedLength: 8, seed: seed &+ 3,
            flashBlocks: smallFlashBlocks)
        {
            let stack = EncoderStack(configuration: configuration, cores: cores, seed: seed &+ 7)
            let check = checkLayer(stack, x: x, outputGradient: dy)
            let label = "L=\(configuration.layers) \(name)"
            var endToEnd = check.endToEnd
            endToEnd.kernel = label + " end-to-end"
            results += [
                worst(check.forward, named: label + " forward", shape: shape), endToEnd,
                worst(check.backward, named: label + " backward", shape: shape),
            ]
        }
        return results
    }
}
