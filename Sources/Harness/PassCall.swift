import AttentionKernels
import AttentionReference
import Profiling
import Reporting
import Results

/// What a forward-mode point calls for its pass, built before anything is measured (its inputs,
/// and for `backward` the saved forward, are made here, outside the memory probe and the clock):
/// - `forward`: one kernel call;
/// - `backward`: one backward call, always on the same forward saved beforehand (the backward never
///   changes what it reads), so its heap is what the backward needs beyond its inputs;
/// - `train`: a training step, the forward that saves what the backward reads, then the backward,
///   so its heap includes the saved tensors.
/// The upstream gradient dO is seeded (``Verification/outputGradient(_:seed:)``).
public struct PassCall: Sendable {
    /// One call: the forward's output when the pass computes one (forward, train), else nil.
    public let run: @Sendable () -> Tensor?
    /// The cost model of one call (``DifferentiableAttention/cost(for:pass:)``).
    public let cost: AttentionCost

    public init(run: @escaping @Sendable () -> Tensor?, cost: AttentionCost) {
        self.run = run
        self.cost = cost
    }

    /// - Throws: ``UsageError`` when the pass needs a backward the kernel does not have.
    public init(_ pass: Pass, kernel: any AttentionKernel, q: Tensor, k: Tensor, v: Tensor, seed: UInt64)
        throws(UsageError)
    {
        let shape = AttentionShape(of: q)
        switch pass {
        case .forward:
            self.init(run: { kernel(q: q, k: k, v: v) }, cost: kernel.cost(for: shape))
        case .backward, .train:
            guard let differentiable = kernel as? any DifferentiableAttention else {
                throw UsageError(
                    "\(kernel.name) has no backward pass, so it cannot be timed with --pass \(pass.rawValue)")
            }
            self = Self.training(
                pass, differentiable, q: q, k: k, v: v,
                outputGradient: Verification.outputGradient(shape, seed: seed))
        }
    }

    private static func training<Kernel: DifferentiableAttention>(
        _ pass: Pass, _ kernel: Kernel, q: Tensor, k: Tensor, v: Tensor, outputGradient: Tensor
    ) -> PassCall {
        let cost = kernel.cost(for: AttentionShape(of: q), pass: pass)
        guard pass == .backward else {
            return PassCall(
                run: {
                    let (output, gradients) = kernel.trainingStep(q: q, k: k, v: v, outputGradient: outputGradient)
                    blackHole(gradients)
                    return output
                }, cost: cost)
        }
        let (output, saved) = kernel.trainingForward(q: q, k: k, v: v)
        return PassCall(
            run: {
                blackHole(
                    kernel.backward(q: q, k: k, v: v, output: output, saved: saved, outputGradient: outputGradient))
                return nil
            }, cost: cost)
    }
}
