extension AttentionCost {
    /// The cost of one pass of a training step, from the forward's and the backward's costs and the
    /// bytes the forward saves for the backward:
    /// - `forward`: the forward alone;
    /// - `backward`: the backward alone, given a saved forward (its heap is what it allocates on top
    ///   of Q, K, V, dO, the output and the saved tensors);
    /// - `train`: FLOPs add; the heap peaks at max(forward's peak, output + saved + backward's peak),
    ///   and what the step returns (`outputBytes`) is the output and the gradients.
    /// Byte counts saturate at `Int.max`.
    public static func of(_ pass: Pass, forward: AttentionCost, backward: AttentionCost, savedBytes: Int)
        -> AttentionCost
    {
        switch pass {
        case .forward: return forward
        case .backward: return backward
        case .train:
            let peak = max(
                forward.callPeakBytes,
                Int.saturatingSum(forward.outputBytes, savedBytes, backward.callPeakBytes))
            let returned = Int.saturatingSum(forward.outputBytes, backward.outputBytes)
            return AttentionCost(
                flops: forward.flops + backward.flops,
                intermediateBytes: peak == .max ? .max : peak - returned,
                outputBytes: returned, parameterBytes: forward.parameterBytes)
        }
    }
}
