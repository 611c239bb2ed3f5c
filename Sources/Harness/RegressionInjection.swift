import AttentionKernels
import Foundation
import Reporting
import Results
import Profiling

/// A deliberate regression for testing the checker end to end (hidden flag `--inject-regression`):
/// `standard:memory` makes every standard-attention call also hold an extra buffer as large as its
/// intermediates; `linear:time=0.25` makes every linear-attention call 25% slower by spinning.
/// It wraps the kernel in the harness; the kernels themselves are never changed.
public struct RegressionInjection: Equatable, Sendable {
    public enum Kind: Equatable, Sendable { case memory, time(Double) }
    public var mechanism: Mechanism
    public var kind: Kind

    public init(_ text: String) throws(UsageError) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, let mechanism = Mechanism(rawValue: parts[0]) else {
            throw UsageError("--inject-regression: expected MECHANISM:memory or MECHANISM:time=FRACTION, got '\(text)'")
        }
        self.mechanism = mechanism
        if parts[1] == "memory" {
            kind = .memory
        } else if parts[1].hasPrefix("time="), let f = Double(parts[1].dropFirst(5)), f > 0 {
            kind = .time(f)
        } else {
            throw UsageError("--inject-regression: expected memory or time=FRACTION after '\(parts[0]):', got '\(parts[1])'")
        }
    }

    func wrap(_ kernel: any AttentionKernel) -> any AttentionKernel {
        kernel.mechanism == mechanism ? DegradedKernel(base: kernel, kind: kind) : kernel
    }
}

/// The wrapped kernel: the base computation plus the injected waste.
struct DegradedKernel: AttentionKernel {
    let base: any AttentionKernel
    let kind: RegressionInjection.Kind
    var mechanism: Mechanism { base.mechanism }
    var isCausal: Bool { base.isCausal }
    var name: String { base.name + " (degraded)" }
    func cost(for shape: AttentionShape) -> AttentionCost { base.cost(for: shape) }

    func callAsFunction(q: Tensor, k: Tensor, v: Tensor) -> Tensor {
        switch kind {
        case .memory:
            let extra = Tensor(zeros: [max(base.cost(for: AttentionShape(of: q)).intermediateBytes / 4, 1)])
            let out = base(q: q, k: k, v: v)
            blackHole(extra)
            return out
        case .time(let fraction):
            let start = Stopwatch.now()
            let out = base(q: q, k: k, v: v)
            let spin = UInt64(Double(Stopwatch.now() - start) * fraction)
            let spinStart = Stopwatch.now()
            while Stopwatch.now() - spinStart < spin {}
            return out
        }
    }
}
