import Foundation
import Testing

/// `attnbench machine` run with a chosen environment: its JSON's `libraries.openblasCore` and stderr.
private func machine(_ extra: [String] = [], environment: [String: String?] = [:]) throws
    -> (status: Int32, core: [String: String], stderr: String)
{
    let process = Process()
    process.executableURL = binaryURL()
    process.arguments = ["machine"] + extra
    var env = ProcessInfo.processInfo.environment
    for (key, value) in environment { env[key] = value }
    process.environment = env
    let (out, err) = (Pipe(), Pipe())
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { return (process.terminationStatus, [:], stderr) }
    let json = try #require(try JSONSerialization.jsonObject(with: stdout) as? [String: Any])
    let libraries = try #require(json["libraries"] as? [String: Any])
    let core = try #require(libraries["openblasCore"] as? [String: String])
    #expect(libraries["openblasCoreName"] as? String == core["running"])
    return (process.terminationStatus, core, stderr)
}

/// The levels of the cores these tests meet, as OpenBLASCore orders them.
private let level = [
    "Prescott": 0, "Nehalem": 0, "Sandybridge": 1, "Haswell": 2, "Zen": 2, "SkylakeX": 3,
    "Cooperlake": 3,
]

@Suite struct OpenBLASCoreCLITests {
    /// With the variable unset, the core run is as good as the CPU's best: never Prescott on an
    /// AVX2 or AVX-512 machine, whatever OpenBLAS picked by itself (it is restarted when it fell back).
    @Test func withTheVariableUnsetTheCPUsBestRuns() throws {
        let result = try machine(environment: ["OPENBLAS_CORETYPE": nil])
        #expect(result.status == 0, "\(result.stderr)")
        guard let best = result.core["best"] else { return }  // not x86-64: no table
        let running = try #require(result.core["running"])
        #expect(level[running, default: 0] >= level[best, default: 0], "runs \(running), best \(best)")
        #expect(result.core["warning"] == nil)
        if best != "Prescott" && best != "Sandybridge" { #expect(running != "Prescott") }
        if result.core["chosenBy"] == "attnbench" { #expect(result.stderr.contains("restarted on \(running)")) }
    }

    /// The user's variable is kept, with a warning in the record and on stderr when it is older than the best.
    @Test func theUsersOlderCoreIsKeptAndWarned() throws {
        let result = try machine(environment: ["OPENBLAS_CORETYPE": "Prescott"])
        #expect(result.status == 0)
        #expect(result.core["running"] == "Prescott")
        #expect(result.core["chosenBy"] == "OPENBLAS_CORETYPE")
        if let best = result.core["best"], best != "Prescott" {
            #expect(result.core["warning"]?.contains("older than this CPU's best (\(best))") == true)
            #expect(result.stderr.hasPrefix("attnbench: warning: OpenBLAS core: OpenBLAS runs its Prescott kernels"))
        }
    }

    /// `--openblas-core` restarts the process on the named core, over the user's variable.
    @Test func theFlagRestartsOnTheNamedCore() throws {
        let result = try machine(["--openblas-core", "nehalem"], environment: ["OPENBLAS_CORETYPE": "Prescott"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.core["running"] == "Nehalem")
        #expect(result.core["detected"] == "Prescott")
        #expect(result.core["chosenBy"] == "--openblas-core")
    }

    /// The restarted half of the automatic choice, as the first process hands it over.
    @Test func aRestartByAttnbenchIsRecordedAndAnnounced() throws {
        let best = try #require(try machine(environment: ["OPENBLAS_CORETYPE": nil]).core["best"] ?? "Prescott")
        let result = try machine(environment: [
            "OPENBLAS_CORETYPE": best, "ATTNBENCH_OPENBLAS_DETECTED": "Prescott",
            "ATTNBENCH_OPENBLAS_CHOSEN_BY": "attnbench",
        ])
        #expect(result.core["running"] == best)
        #expect(result.core["detected"] == "Prescott")
        #expect(result.core["chosenBy"] == "attnbench")
        #expect(result.core["warning"] == nil)
        if best != "Prescott" {
            #expect(result.stderr.contains("OpenBLAS picked its Prescott kernels on this CPU; restarted on \(best)"))
        }
    }

    @Test func aCoreThatDoesNotExistIsAUsageError() throws {
        let result = try machine(["--openblas-core", "Pentium4"])
        #expect(result.status == 64)
        #expect(result.stderr.hasPrefix("attnbench: error: --openblas-core Pentium4 is not a core of OpenBLAS"))
        #expect(result.stderr.split(separator: "\n").count == 1)
    }
}
