import Foundation
import Reporting
import Results
import Testing

/// `compare --interleave` through the binary: two builds (here the same one twice) measured in one
/// session by `measure-worker` processes.
@Suite(.serialized) struct InterleavedCompareTests {
    static let grid = [
        "--allow-debug", "--mechanism", "standard,linear", "--n", "64,128", "--batch", "1", "--heads", "1",
        "--head-dim", "8", "--threads", "1", "--warmups", "1", "--min-reps", "3", "--min-time", "0.002",
        "--rounds", "6", "--order-seed", "7",
    ]

    func folder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("attnbench-ab-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// The same binary on both sides: every point paired in every round, the tidy CSV holds each
    /// point, side and round once.
    @Test func sameBinaryPairsEveryPointInEveryRound() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bin = binaryURL().path
        let output = dir.appendingPathComponent("ab.csv").path
        let result = try attnbench(["compare", "--interleave", bin, bin, "--output", output] + Self.grid)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("4 points: "), "\(result.stdout)")
        #expect(result.stdout.contains("2 series: "))
        #expect(result.stderr.contains("round 6 of 6: 4 points × 2 sides"))
        let lines = try TextFile.read(output).split(separator: "\n")
        #expect(lines.first == Substring(CSV.line(RowFile.header(InterleavedMeasurement.columns)).dropLast()))
        #expect(lines.count == 1 + 4 * 2 * 6)
        // The fields by name: mechanism, n, side and round.
        let names = RowFile.header(InterleavedMeasurement.columns)
        let at = ["mechanism", "n", "side", "round"].compactMap { names.firstIndex(of: $0) }
        #expect(at.count == 4)
        let sidesAndRounds = Set(
            lines.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false) }.map { fields in
                at.map { String(fields[$0]) }.joined(separator: ",")
            })
        #expect(sidesAndRounds.count == 4 * 2 * 6)
    }

    /// A head made 4× slower in linear attention (the hidden injection) fails with --fail-on-slower:
    /// linear's points and series are slower in all six rounds, standard's are not; the verdicts
    /// are printed last, one per line.
    @Test func anInjectedSlowdownFails() throws {
        let bin = binaryURL().path
        let result = try attnbench(
            ["compare", "--interleave", bin, bin, "--fail-on-slower", "--inject-regression", "linear:time=3"]
                + Self.grid)
        #expect(result.status == 1, "\(result.stdout)\n\(result.stderr)")
        let slower = result.stdout.split(separator: "\n").filter { $0.hasPrefix("compare: SLOWER: ") }
        #expect(slower.count == 3, "\(result.stdout)")  // linear at n = 64, 128, and its series
        #expect(slower.allSatisfy { $0.contains("linear") })
        #expect(result.stderr.contains("measuring their 2 point(s) for 6 rounds more"))
    }

    /// A head whose linear attention grows by (n/512)¹ more (the hidden `scaling` injection) fails
    /// on its exponent: head − base ≈ +1 in every round, and the failure names it last; without the
    /// injection the same three lengths give an exponent and no verdict.
    @Test func aSteeperHeadFailsOnItsExponent() throws {
        let bin = binaryURL().path
        let grid =
            ["--allow-debug", "--mechanism", "linear", "--n", "512,1024,2048", "--batch", "1", "--heads", "1"]
            + ["--head-dim", "8", "--threads", "1", "--warmups", "1", "--min-reps", "3", "--min-time", "0.002"]
            + ["--rounds", "6", "--order-seed", "7"]
        let result = try attnbench(
            ["compare", "--interleave", bin, bin, "--fail-on-slower", "--inject-regression", "linear:scaling=1"] + grid)
        #expect(result.status == 1, "\(result.stdout)\n\(result.stderr)")
        let steeper = result.stdout.split(separator: "\n").filter { $0.hasPrefix("compare: STEEPER: linear") }
        #expect(steeper.count == 1, "\(result.stdout)")
        let change = steeper.first.flatMap { line in
            line.components(separatedBy: "head − base ").last?.split(separator: " ").first.flatMap { Double($0) }
        }
        #expect(change.map { abs($0 - 1) < 0.3 } == true, "\(result.stdout)")
        #expect(result.stdout.contains("1 exponents: 1 steeper, 0 flatter, 0 no difference"))
        let same = try attnbench(["compare", "--interleave", bin, bin] + grid)
        #expect(same.stdout.contains("1 exponents: 0 steeper"), "\(same.stdout)\n\(same.stderr)")
    }

    /// A base that is not attnbench (no measure-worker) is refused in one line naming the side.
    @Test func aBaseWithoutTheWorkerIsRefused() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fake = dir.appendingPathComponent("old-attnbench").path
        try "#!/bin/sh\necho \"Error: Unknown subcommand '$1'\" >&2\nexit 64\n".write(
            toFile: fake, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fake)
        let result = try attnbench(["compare", "--interleave", fake, binaryURL().path] + Self.grid)
        #expect(result.status == 64)
        let errors = result.stderr.split(separator: "\n").filter { $0.hasPrefix("attnbench: error: ") }
        #expect(errors.count == 1, "\(result.stderr)")
        #expect(result.stderr.contains("the base build's worker"))
        #expect(result.stderr.contains("Unknown subcommand"))
        let missing = try attnbench(
            ["compare", "--interleave", dir.appendingPathComponent("none").path, fake] + Self.grid)
        #expect(missing.status == 64)
        #expect(missing.stderr.contains("the base \(dir.appendingPathComponent("none").path) does not exist"))
    }

    /// Usage: grid flags belong to --interleave; fewer than 6 rounds cannot reach p < 0.05; an
    /// existing --output is not replaced without --overwrite, and nothing is measured first.
    @Test func usageErrors() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let noInterleave = try attnbench(["compare", "a.csv", "b.csv", "--preset", "ci"])
        #expect(noInterleave.status == 64)
        #expect(noInterleave.stderr.contains("--preset is for --interleave"))
        let bin = binaryURL().path
        let fewRounds = try attnbench(["compare", "--interleave", bin, bin] + Self.grid + ["--rounds", "5"])
        #expect(fewRounds.status == 64)
        #expect(fewRounds.stderr.contains("--rounds must be from 6 to 50"))
        let existing = dir.appendingPathComponent("kept.csv").path
        try "keep me\n".write(toFile: existing, atomically: true, encoding: .utf8)
        let refused = try attnbench(["compare", "--interleave", bin, bin, "--output", existing] + Self.grid)
        #expect(refused.status == 64)
        #expect(refused.stderr.contains("already exists"))
        #expect(!refused.stderr.contains("round 1"))
        #expect(try TextFile.read(existing) == "keep me\n")
    }
}
