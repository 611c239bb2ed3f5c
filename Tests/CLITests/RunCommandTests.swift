import Analysis
import Foundation
import Harness
import Reporting
import Results
import Testing

@Suite struct RunCommandTests {
    /// Every bad-input case: one line on stderr naming the problem, exit 64, no file written.
    @Test(arguments: [
        (["--n", "0"], "--n: values must be at least 1"),
        (["--n", "512,abc"], "'abc' is not a whole number"),
        (["--n", "512...1000"], "doubling range"),
        (["--mechanism", "softmax"], "unknown value 'softmax'"),
        (["--mechanism", "linformer", "--causal", "true"], "Linformer has no causal form"),
        (["--batch", "1", "--tokens", "4096"], "not both"),
        (["--resume", "--overwrite"], "contradict"),
        (["--preset", "nope"], "no preset named 'nope'"),
        (["--min-time", "9", "--max-time", "1"], "longer than --max-time"),
        (["--memory-budget", "lots"], "is not a size"),
    ])
    func badInputIsOneLineAndExit64(_ arguments: [String], _ message: String) throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent(
            "attnbench-bad-\(UUID().uuidString).csv"
        ).path
        let result = try attnbench(["run", "--allow-debug", "--quiet", "--output", output] + arguments)
        #expect(result.status == 64, "\(arguments): \(result.stderr)")
        #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(arguments): \(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    @Test func aDebugBuildIsRefusedWithoutAllowDebug() throws {
        let result = try attnbench(["run", "--n", "16", "--output", "/tmp/never-written.csv"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("debug build"))
    }

    /// A run killed mid-sweep keeps every finished row; --resume completes it with no duplicate
    /// and no lost row.
    @Test func killedThenResumedRunHasEveryRowOnce() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("attnbench-kill-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let output = dir.appendingPathComponent("run.csv").path
        let grid = [
            "run", "--allow-debug", "--quiet", "--output", output, "--mechanism", "standard,linear",
            "--n", "16...256", "--batch", "1,2", "--heads", "2", "--head-dim", "8", "--threads", "1",
            "--warmups", "0", "--min-reps", "3", "--min-time", "0.15", "--max-time", "1",
        ]
        let process = Process()
        process.executableURL = binaryURL()
        process.arguments = grid
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let lines = (try? String(contentsOfFile: output, encoding: .utf8))?.split(separator: "\n").count ?? 0
            if lines >= 4 { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let partial = try CSV.parse(String(contentsOfFile: output, encoding: .utf8)).rows.count - 1
        #expect(partial >= 3 && partial < 20, "rows before the kill: \(partial)")

        let resumed = try attnbench(grid + ["--resume"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let rows = try CSV.parse(String(contentsOfFile: output, encoding: .utf8)).rows.dropFirst()
        let keys = rows.map { $0.prefix(ResultRow.keyColumns.count).joined(separator: ",") }
        #expect(keys.count == 20)  // 5 lengths × 2 batches × 2 mechanisms
        #expect(Set(keys).count == keys.count)
        #expect(rows.allSatisfy { $0[ResultRow.keyColumns.count] == "ok" })
    }
}

func binaryURL() -> URL {
    URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent(
        "attnbench")
}
