import Analysis
import Foundation
import Reporting
import Results
import Testing

/// The checker end to end: real `run`s of a small grid (with a deliberately degraded mechanism)
/// through the real `check`.
@Suite(.serialized) struct CheckCommandTests {
    static let grid = [
        "--allow-debug", "--quiet", "--mechanism", "standard,linear", "--n", "64...256", "--batch", "1",
        "--heads", "2", "--head-dim", "16", "--threads", "1", "--warmups", "1", "--min-reps", "5",
        "--min-time", "0.05", "--max-time", "1", "--cycles", "2",
    ]

    func folder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("attnbench-check-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    var thresholds: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent("Baselines/thresholds.txt").path
    }

    @Test(arguments: ["standard:memory", "linear:time=1.0"])
    func aDegradedMechanismFailsTheCheck(_ injection: String) throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (baseline, current) = (
            dir.appendingPathComponent("base.csv").path, dir.appendingPathComponent("cur.csv").path
        )
        #expect(try attnbench(["run", "--output", baseline] + Self.grid).status == 0)
        #expect(try attnbench(["run", "--output", current, "--inject-regression", injection] + Self.grid).status == 0)
        let result = try attnbench([
            "check", "--baseline", baseline, "--current", current, "--thresholds", thresholds,
            "--inject-regression", injection,
        ])
        #expect(result.status == 1, "\(injection): \(result.stdout)")
        let mechanism = String(injection.prefix { $0 != ":" })
        #expect(result.stdout.split(separator: "\n").contains { $0.contains("REGRESSION") && $0.contains(mechanism) })
    }

    @Test func unusableInputsExit64() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let missing = try attnbench([
            "check", "--baseline", dir.appendingPathComponent("none.csv").path,
            "--current", dir.appendingPathComponent("none.csv").path, "--thresholds", thresholds,
        ])
        #expect(missing.status == 64 && missing.stderr.contains("does not exist"))
        let bad = dir.appendingPathComponent("bad.csv").path
        try "a,b\n1,2\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let schema = try attnbench(["check", "--baseline", bad, "--current", bad, "--thresholds", thresholds])
        #expect(schema.status == 64 && schema.stderr.contains("different schema"))
        #expect(schema.stderr.split(separator: "\n").count == 1)
    }
}
