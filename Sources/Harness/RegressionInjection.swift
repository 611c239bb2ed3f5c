import AttentionKernels
import Foundation
import Profiling
import Reporting
import Results

/// A deliberate regression for testing the checker end to end (hidden flag `--inject-regression`):
/// `standard:memory` makes every standard-attention call also hold an extra buffer as large as its
/// intermediates; `linear:time=0.25` makes every linear-attention call 25% slower by spinning;
/// `linear:scaling=0.5` makes its time grow by (n/512)^0.5 more (no change at n = 512, 2× at 2048),
/// so its exponent of time in n rises by 0.5. It wraps the point's call in the harness
/// (``PassCall``, any pass); the kernels are never changed.
public struct RegressionInjection: Equatable, Sendable {
    public enum Kind: Equatable, Sendable { case memory, time(Double), scaling(Double) }
    /// The length at which `scaling` adds nothing.
    static let scalingLength = 512.0
    public var mechanism: Mechanism
    public var kind: Kind

    public init(_ text: String) throws(UsageError) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, let mechanism = Mechanism(rawValue: parts[0]) else {
            throw UsageError(
                "--inject-regression: expected MECHANISM:memory, MECHANISM:time=FRACTION or MECHANISM:scaling=POWER, got '\(text)'"
            )
        }
        self.mechanism = mechanism
        if parts[1] == "memory" {
            kind = .memory
        } else if parts[1].hasPrefix("time="), let f = Double(parts[1].dropFirst(5)), f > 0 {
            kind = .time(f)
        } else if parts[1].hasPrefix("scaling="), let p = Double(parts[1].dropFirst(8)), p > 0, p <= 2 {
            kind = .scaling(p)
        } else {
            throw UsageError(
                "--inject-regression: expected memory, time=FRACTION or scaling=POWER (0 to 2) after '\(parts[0]):', got '\(parts[1])'"
            )
        }
    }

    /// The call with the injected waste, for points of this mechanism (any pass): `memory` also holds
    /// a buffer as large as the call's intermediates, `time` spins for that fraction of the call,
    /// `scaling` for (n/512)^power − 1 of it (nothing below n = 512).
    func wrap(_ call: PassCall, mechanism: Mechanism, length: Int) -> PassCall {
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
            return Self.spinning(call, fraction: fraction)
        case .scaling(let power):
            return Self.spinning(call, fraction: max(pow(Double(length) / Self.scalingLength, power) - 1, 0))
        }
    }

    /// The call, then a spin for `fraction` of the time it took.
    static func spinning(_ call: PassCall, fraction: Double) -> PassCall {
        let base = call.run
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
