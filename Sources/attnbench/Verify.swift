import ArgumentParser
import AttentionKernels
import AttentionReference
import Decoding
import Foundation
import Harness
import Results

/// `attnbench verify`: every mechanism and causal variant against the Float64 reference.
struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check every kernel against the naive Float64 reference on small seeded shapes.",
        discussion: """
            Decoding (KV cache, RNN state and recomputation without a cache) is checked against causal attention over the q, k, v it \
            generated; each backward pass (after its training forward) against the Float64 reference \
            gradients for a seeded dO, the worst of dQ, dK, dV (and dE, dF). Prints, per kernel and shape, the largest absolute error and the largest fraction of the \
            derived error bound it uses (≤ 1 passes). Exits 1 if any kernel fails.
            """)

    @Option(help: "Threads for OpenBLAS and the kernels' parallel loops.")
    var threads: Int = 1

    @Option(help: "Seed for the inputs and Linformer's projections.")
    var seed: UInt64 = 42

    /// The decoders checked on each shape: every mechanism that decodes with its default decoder
    /// (nil), then with each of its other decoders (standard, linear, then standard recompute).
    /// The core-scope decoders (a mechanism that decodes only through the model, Reformer, is checked
    /// by the layer-decode lines).
    static var decoders: [(Mechanism, Decoder?)] {
        let alone = Mechanism.allCases.filter(\.descriptor.supports.decodesAtCoreScope)
        let defaults = alone.filter { Decoder.default(for: $0) != nil }.map { ($0, Decoder?.none) }
        let others = alone.flatMap { m in Decoder.supported(by: m).dropFirst().map { (m, Optional($0)) } }
        return defaults + others
    }

    /// For testing verify itself: the first two shapes only and no layer checks (seconds in a debug build).
    @Flag(help: .hidden) var quick = false

    /// For testing verify itself: a check fails when it uses more than this fraction of its error
    /// bound (1: the bound itself; 0 fails every check whose error is not exactly 0).
    @Option(help: .hidden) var boundLimit: Double = 1

    /// Small shapes with odd sizes (decoding runs on each too: n tokens, a 3-token prompt), B and H > 1, and the projected length used for Linformer.
    static let cases: [(shape: AttentionShape, k: Int)] = [
        (AttentionShape(batch: 2, heads: 3, length: 1, headDim: 1), 1),
        (AttentionShape(batch: 2, heads: 3, length: 37, headDim: 16), 8),
        (AttentionShape(batch: 2, heads: 2, length: 130, headDim: 64), 32),
    ]

    func validate() throws {
        guard (1...SweepPoint.maximumThreads).contains(threads) else {
            throw ValidationError("--threads must be between 1 and \(SweepPoint.maximumThreads), got \(threads)")
        }
    }

    func run() throws {
        try reportingUsageErrors { try ComputeThreads.setChecked(threads) }
        print("verify: \(buildConfiguration) build, \(threads) thread(s), seed \(seed)")
        print("verify: OpenBLAS core \(OpenBLASCore.record.summary)")
        print(
            "kernel".padding(toLength: 37, withPad: " ", startingAt: 0)
                + "shape                   max |err|   bound used  result")
        var failures = 0
        for (shape, k) in Self.cases.prefix(quick ? 2 : Self.cases.count) {
            let (q, kk, v) = Verification.inputs(shape, seed: seed)
            let decoders = try Self.decoders.map {
                try Generation(
                    mechanism: $0, decoder: $1, batch: shape.batch, heads: shape.heads, headDim: shape.headDim,
                    length: shape.length, prompt: min(3, shape.length), seed: seed)
            }
            let kernels = Verification.kernels(for: shape, projectedLength: k, seed: seed)
            let outputGradient = Verification.outputGradient(shape, seed: seed)
            let results =
                kernels.map { Verification.check($0, q: q, k: kk, v: v) }
                + decoders.map(Verification.check)
                + kernels.compactMap { $0 as? any DifferentiableAttention }.map {
                    Verification.checkGradients($0, q: q, k: kk, v: v, outputGradient: outputGradient)
                }
            for r in results {
                let passed = r.passed && r.worstBoundFraction <= boundLimit
                if !passed { failures += 1 }
                print(
                    r.kernel.padding(toLength: 37, withPad: " ", startingAt: 0)
                        + shape.description.padding(toLength: 24, withPad: " ", startingAt: 0)
                        + String(format: "%.3e   %9.4f   ", r.maxAbsoluteError, r.worstBoundFraction)
                        + (passed ? "ok" : "FAIL" + (r.nonFinite > 0 ? " (\(r.nonFinite) non-finite)" : "")))
            }
        }
        // The layer scope: L = 2 encoder stacks of each core, part by part, end to end and backward;
        // then generation through such a stack with each decoder, against the stack over its inputs.
        let layers = quick ? [] : Verification.checkLayers(seed: seed) + Verification.checkLayerGenerations(seed: seed)
        for r in layers {
            if !r.passed { failures += 1 }
            print(
                r.kernel.padding(toLength: 37, withPad: " ", startingAt: 0)
                    + r.shape.description.padding(toLength: 24, withPad: " ", startingAt: 0)
                    + String(format: "%.3e   %9.4f   ", r.maxAbsoluteError, r.worstBoundFraction)
                    + (r.passed ? "ok" : "FAIL" + (r.nonFinite > 0 ? " (\(r.nonFinite) non-finite)" : "")))
        }
        if failures > 0 {
            print("verify: \(failures) kernel check(s) FAILED")
            throw ExitCode.failure
        }
        print("verify: all kernels match the Float64 reference")
    }
}
