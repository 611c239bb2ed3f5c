/// An attention mechanism with a backward pass.
///
/// A training step is ``trainingForward(q:k:v:)``, which returns the output and what the backward
/// reads (``Saved``), then ``backward(q:k:v:output:saved:outputGradient:)``. The contract of
/// ``AttentionKernel`` holds for both calls: each allocates its results and intermediates on the
/// calling thread (so jemalloc's `thread.peak` covers it) and parallel work only writes into
/// buffers allocated before it starts. The backward reads the saved forward and never changes it,
/// so one saved forward can be differentiated any number of times (the harness times the backward
/// alone that way).
public protocol DifferentiableAttention: AttentionKernel {
    /// What the forward pass keeps for the backward pass, beside its output.
    associatedtype Saved: Sendable

    /// The forward pass of a training step: the same output as ``callAsFunction(q:k:v:)``, and
    /// the intermediates the backward reads (their bytes are ``savedBytes(for:)``).
    func trainingForward(q: Tensor, k: Tensor, v: Tensor) -> (output: Tensor, saved: Saved)

    /// ∂L/∂Q, ∂L/∂K, ∂L/∂V (and ∂L/∂E, ∂L/∂F) for `outputGradient` = ∂L/∂O, given the inputs, the
    /// output and what ``trainingForward(q:k:v:)`` saved for them.
    func backward(
        q: Tensor, k: Tensor, v: Tensor, output: Tensor, saved: Saved, outputGradient: Tensor
    ) -> AttentionGradients

    /// The analytic cost of one backward call: its FLOPs, the gradients it returns (`outputBytes`)
    /// and the intermediates it allocates and frees.
    func backwardCost(for shape: AttentionShape) -> AttentionCost

    /// Bytes ``trainingForward(q:k:v:)`` keeps for the backward beside its output.
    func savedBytes(for shape: AttentionShape) -> Int
}

extension DifferentiableAttention {
    /// The cost of one pass on `shape` (see ``AttentionCost/of(_:forward:backward:savedBytes:)``).
    public func cost(for shape: AttentionShape, pass: Pass) -> AttentionCost {
        .of(pass, forward: cost(for: shape), backward: backwardCost(for: shape), savedBytes: savedBytes(for: shape))
    }

    /// One training step: the forward pass, then the backward pass from `outputGradient`. What is
    /// saved lives only inside the step, as in a training loop.
    public func trainingStep(
        q: Tensor, k: Tensor, v: Tensor, outputGradient: Tensor
    ) -> (output: Tensor, gradients: AttentionGradients) {
        let (output, saved) = trainingForward(q: q, k: k, v: v)
        let gradients = backward(q: q, k: k, v: v, output: output, saved: saved, outputGradient: outputGradient)
        return (output, gradients)
    }

    /// Checks that the backward's tensors have the forward's shape and returns it.
    func checkedBackwardShape(q: Tensor, k: Tensor, v: Tensor, output: Tensor, outputGradient: Tensor) -> AttentionShape
    {
        let shape = checkedShape(q: q, k: k, v: v)
        precondition(
            output.shape == q.shape && outputGradient.shape == q.shape,
            "\(name) backward: the output \(output.shape) and its gradient \(outputGradient.shape) must have the shape of q, \(q.shape)"
        )
        return shape
    }
}
