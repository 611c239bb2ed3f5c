import AttentionKernels
import Foundation
import Profiling
import Reporting
import Results

/// A deliberate regression for testing the checker end to end (hidden flag `--inject-regression`):
/// `standard:memory` makes every standard-attention call also hold an extra buffer as large as its
/// intermediates; `linear:time=0.25` makes every linear-attention call 25% slower by spinning.
/// It wraps the point's call in the harness (``PassCall``, any pass); the kernels are never changed.
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
            throw UsageError(
                "--inject-regression: expected memory or time=FRACTION after '\(parts[0]):', got '\(parts[1])'")
        }
    }

    /// The call with the injected waste, for points of this mechanism (any pass): `memory` also holds
    /// a buffer as large as the call's intermediates, `time` spins for that fraction of the call.
    func wrap(_ call: PassCall, mechanism: Mechanism) -> PassCall {
        guard mechanism == self.mechanism else { return call }
        let (base, bytes) = (call.run, call.cost.intermediateBytes)
        switch kind {
        case .memory:
            return PassCall(
                run: {
                    let extra = Tensor(zeros: [max(bytes / 4, 1)], label: "injected regression")
                    let out = base()
                    blackHole(extra)
                    return out
                }, cost: call.cost)
        case .time(let fraction):
            return PassCall(
                run: {
                    let start = Stopwatch.now()
                    let out = base()
                    let spin = UInt64(Double(Stopwatch.now() - start) * fraction)
                    let spinStart = Stopwatch.now()
                    while Stopwatch.now() - spinStart < spin {}
                    return out
                }, cost: call.cost)
        }
    }
}
