import Analysis
import ArgumentParser
import Foundation
import Harness
import Reporting
import Results

extension Compare {
    /// `compare --interleave BASE HEAD`: measures both binaries on the grid in one session
    /// (``InterleavedSession``), judges them (``InterleavedComparison``), confirms a slower verdict
    /// with as many rounds again when it would fail the command, and prints the tables.
    func runInterleaved() throws {
        var failed = false
        try reportingUsageErrors {
            let file = try thresholds.map { try Thresholds.load($0) }
            let rounds = self.rounds ?? file?.interleavedRounds ?? 8
            let pointEffect = minEffect ?? file?.interleavedPoint ?? 0.05
            let seriesEffect = seriesMinEffect ?? file?.interleavedSeries ?? pointEffect
            let exponentEffect = exponentMinEffect ?? file?.interleavedExponent ?? 0.15
            if buildConfiguration == "debug" && !allowDebug {
                throw UsageError(
                    "this is a debug build, whose timings mean nothing; build with `make build`, or pass --allow-debug")
            }
            let binaries = [old, new].map { URL(fileURLWithPath: $0).standardizedFileURL.path }
            for (side, path) in zip(["base", "head"], binaries)
            where !FileManager.default.isExecutableFile(atPath: path) {
                throw UsageError(
                    "--interleave takes two attnbench binaries; the \(side) \(path) does not exist or is not executable"
                )
            }
            let spec = try grid.spec()
            let budget = spec.effectiveMemoryBudget()
            let points = try Sweep(spec: spec, output: "", buildConfiguration: buildConfiguration).plan().grid
                .filter { PointPlan($0, memoryBudget: budget) == .run }
            guard !points.isEmpty else {
                throw UsageError("no point of the grid can be measured (every one is skipped: see `run --plan`)")
            }
            if let output {
                try OutputFile.checkWritable(
                    output, overwrite: overwrite, inputs: [old, new] + (thresholds.map { [$0] } ?? []))
            }
            let seed = orderSeed ?? UInt64(Date().timeIntervalSince1970 * 1000)
            let extra = allowDebug ? ["--allow-debug"] : []
            var session = InterleavedSession(
                base: .init(binary: binaries[0], extraArguments: extra),
                head: .init(
                    binary: binaries[1],
                    extraArguments: extra + (injectRegression.map { ["--inject-regression", $0] } ?? [])),
                policy: spec.policy, seed: spec.seed, orderSeed: seed)
            session.memoryBudget = budget
            let log = { (message: String) in FileHandle.standardError.write(Data("compare: \(message)\n".utf8)) }
            log("\(points.count) points, \(rounds) rounds, order seed \(seed) (--order-seed repeats the order)")
            var measurements = try session.measure(points, rounds: 1...rounds, log: log)
            func judge() -> InterleavedComparison {
                InterleavedComparison(
                    measurements, order: points, alpha: alpha, pointEffect: pointEffect, seriesEffect: seriesEffect,
                    exponentEffect: exponentEffect)
            }
            var comparison = judge()
            let failing = comparison.slower.count + comparison.steeper.count
            if failOnSlower && failing > 0 {
                let suspects = Set(comparison.slower.flatMap(\.points) + comparison.steeper.flatMap(\.points))
                let again = points.filter(suspects.contains)
                log(
                    "\(failing) finding(s) slower or steeper after \(rounds) rounds; measuring their \(again.count) point(s) for \(rounds) rounds more"
                )
                measurements += try session.measure(again, rounds: (rounds + 1)...(2 * rounds), log: log)
                comparison = judge()
            }
            if let output {
                try OutputFile.write(
                    RowFile.text(measurements, InterleavedMeasurement.columns), to: output, overwrite: overwrite,
                    inputs: [old, new])
            }
            print(comparison.text(base: old, head: new), terminator: "")
            for finding in comparison.slower {
                print(
                    String(
                        format: "compare: SLOWER: %@: head/base %.3f over %d rounds (p = %.4f, limit +%.0f%%)",
                        finding.label, finding.ratio, finding.rounds, finding.test?.pValue ?? 1, finding.minEffect * 100
                    ))
            }
            for finding in comparison.steeper {
                print(
                    String(
                        format:
                            "compare: STEEPER: %@: exponent of time in n, head − base %+.3f over %d rounds (p = %.4f, limit +%.2f)",
                        finding.label, finding.change, finding.rounds, finding.test?.pValue ?? 1, finding.minEffect))
            }
            failed = failOnSlower && !(comparison.slower.isEmpty && comparison.steeper.isEmpty)
        }
        if failed { throw ExitCode.failure }
    }
}
