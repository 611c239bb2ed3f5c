import AttentionKernels
import Decoding

/// Compares kernels with ``ReferenceAttention`` on seeded inputs: what `attnbench verify` runs
/// before anything is timed, and what the tests assert.
public enum Verification {
    /// The outcome of one kernel on one shape.
    public struct Result: Sendable {
        public var kernel: String
        public var shape: AttentionShape
        /// max |kernel − reference| over all elements.
        public var maxAbsoluteError: Double
        /// max |kernel − reference| / bound: ≤ 1 passes. Shows how much of the bound is used.
        public var worstBoundFraction: Double
        /// Elements that are NaN or ±inf.
        public var nonFinite: Int
        public var passed: Bool { nonFinite == 0 && worstBoundFraction <= 1 }
    }

    /// Runs `kernel` on `q, k, v` and compares it element by element with the Float64 reference.
    public static func check(_ kernel: any AttentionKernel, q: Tensor, k: Tensor, v: Tensor) -> Result {
        let out = kernel(q: q, k: k, v: v)
        let reference = ReferenceAttention.output(of: kernel, q: q, k: k, v: v)
        return compare(out, reference, kernel: kernel.name, shape: AttentionShape(of: q))
    }

    /// Compares a float32 output with a reference output.
    public static func compare(
        _ out: Tensor, _ reference: ReferenceAttention.Output, kernel: String, shape: AttentionShape
    ) -> Result {
        precondition(out.count == reference.values.count, "output and reference sizes differ")
        var result = Result(kernel: kernel, shape: shape, maxAbsoluteError: 0, worstBoundFraction: 0, nonFinite: 0)
        for i in 0..<out.count {
            let x = Double(out.data[i])
            guard x.isFinite else {
                result.nonFinite += 1
                continue
            }
            let error = abs(x - reference.values[i])
            result.maxAbsoluteError = max(result.maxAbsoluteError, error)
            // A zero bound (an all-zero value row) must be met exactly.
            let fraction = reference.bounds[i] > 0 ? error / reference.bounds[i] : (error == 0 ? 0 : .infinity)
            result.worstBoundFraction = max(result.worstBoundFraction, fraction)
        }
        return result
    }

    /// Runs `kernel`'s training step (forward, then backward from `outputGradient`) and compares every
    /// gradient element by element with the Float64 reference gradients: the result is the worst
    /// over dQ, dK, dV (and dE, dF), under the kernel's name with " backward". Linformer's reference
    /// is given the K′, V′ of this forward pass (``ReferenceAttention/linformerGradients(q:k:v:projections:outputGradient:projected:)``).
    public static func checkGradients(
        _ kernel: some DifferentiableAttention, q: Tensor, k: Tensor, v: Tensor, outputGradient: Tensor
    ) -> Result {
        let (output, saved) = kernel.trainingForward(q: q, k: k, v: v)
        let gradients = kernel.backward(q: q, k: k, v: v, output: output, saved: saved, outputGradient: outputGradient)
        let projected = (saved as? LinformerAttention.Saved).map { ($0.keys, $0.values) }
        let reference = ReferenceAttention.gradients(
            of: kernel, q: q, k: k, v: v, outputGradient: outputGradient,
            projected: projected)
        return compare(gradients, reference, kernel: kernel.name + " backward", shape: AttentionShape(of: q))
    }

    /// Compares float32 gradients with reference gradients, pairing them by name (dq, dk, dv, de, df).
    public static func compare(
        _ gradients: AttentionGradients, _ reference: ReferenceAttention.Gradients, kernel: String,
        shape: AttentionShape
    ) -> Result {
        let expected = Dictionary(reference.named.map { ($0.name, $0.output) }, uniquingKeysWith: { a, _ in a })
        precondition(
            Set(expected.keys) == Set(gradients.named.map(\.name)), "kernel and reference gradients differ in kind")
        var result = Result(kernel: kernel, shape: shape, maxAbsoluteError: 0, worstBoundFraction: 0, nonFinite: 0)
        for (name, tensor) in gradients.named {
            guard let output = expected[name] else { continue }
            let one = compare(tensor, output, kernel: kernel, shape: shape)
            result.maxAbsoluteError = max(result.maxAbsoluteError, one.maxAbsoluteError)
            result.worstBoundFraction = max(result.worstBoundFraction, one.worstBoundFraction)
            result.nonFinite += one.nonFinite
        }
        return result
    }

    /// The seeded upstream gradient dO for a shape: N(0, 1) entries from `seed + 4` (Q, K, V take
    /// `seed`…`seed + 2`, Linformer's projections `seed + 3` in the harness).
    public static func outputGradient(_ shape: AttentionShape, seed: UInt64) -> Tensor {
        Tensor.normal(shape.dims, seed: seed &+ 4, label: "input dO")
    }

    /// Generates a sequence (recording every q, k, v and output) and compares the outputs with the
    /// Float64 reference of causal attention over the recorded q, k, v: what decoding must equal.
    public static func check(_ generation: Generation) -> Result {
        let record = DecodeRecord(
            batch: generation.batch, heads: generation.heads, length: generation.length,
            headDim: generation.headDim)
        generation(record: record)
        guard
            let core = generation.mechanism.kernels.decodeCore?(MechanismSettings(causal: true), 0, generation.headDim)
        else {
            preconditionFailure("\(generation.mechanism) decodes but has no causal core to take its reference from")
        }
        // The Float64 reference of the causal kernel the decoder steps through, on the recorded q, k, v.
        let reference = ReferenceAttention.output(of: core, q: record.q, k: record.k, v: record.v)
        let name = generation.mechanism.rawValue + (generation.decoder == .recompute ? " recompute" : "") + " decode"
        return compare(record.out, reference, kernel: name, shape: AttentionShape(of: record.q))
    }

    /// Small flash-attention tiles for verification (8 query rows × 16 keys): with them n = 37 is
    /// three key blocks, the last one partial, and query and key blocks straddle the diagonal
    /// differently, which the default tiles (larger than every verified n) never exercise.
    public static let smallFlashBlocks = FlashAttention.Blocks.small

    /// Every mechanism's ``MechanismKernels/verificationKernels``, in registry order, as `verify` runs
    /// them on a shape: standard,
    /// standard (causal), Linformer in each sharing mode (k = `projectedLength`), linear, linear (causal)
    /// as the sequential recurrence and in chunks,
    /// flash and flash (causal) with the default tiles and with ``smallFlashBlocks`` (the tile
    /// products through the micro-kernels where d allows, and through OpenBLAS).
    public static func kernels(for shape: AttentionShape, projectedLength: Int, seed: UInt64) -> [any AttentionKernel] {
        MechanismKernels.registry.flatMap { $0.verificationKernels(shape, projectedLength, seed) }
    }

    /// The seeded inputs for a shape: Q, K, V with N(0, 1) entries from `seed`, `seed+1`, `seed+2`.
    public static func inputs(_ shape: AttentionShape, seed: UInt64) -> (q: Tensor, k: Tensor, v: Tensor) {
        (
            Tensor.normal(shape.dims, seed: seed, label: "input Q"),
            Tensor.normal(shape.dims, seed: seed &+ 1, label: "input K"),
            Tensor.normal(shape.dims, seed: seed &+ 2, label: "input V")
        )
    }
}
