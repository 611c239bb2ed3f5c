import Analysis
import Foundation
import Reporting
import Results
import TensorIO
import Testing

/// Runs the built `attnbench` binary (it sits next to the test bundle), in `directory` when given,
/// and captures its output.
func attnbench(_ arguments: [String], in directory: URL? = nil) throws -> (
    status: Int32, stdout: String, stderr: String
) {
    let process = Process()
    process.executableURL = binaryURL()
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = directory }
    let (out, err) = (Pipe(), Pipe())
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
}

/// A scratch folder with .npy inputs, removed by the caller.
func scratch(_ arrays: [String: NPYArray]) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("attnbench-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    for (name, array) in arrays { try NPY.write(array, to: dir.appendingPathComponent(name)) }
    return dir
}

func ramp(_ shape: [Int], _ scale: Float) -> NPYArray {
    let count = shape.reduce(1, *)
    return NPYArray(shape: shape, scalars: (0..<count).map { sin(Float($0) * scale) })
}

@Suite struct CLITests {
    /// `verify` on its two small shapes (the whole of it runs in `make bench` and the kernel suites):
    /// every check passes and it exits 0.
    @Test func verifyPassesEveryKernel() throws {
        let result = try attnbench(["verify", "--quick"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("all kernels match the Float64 reference"))
        #expect(!result.stdout.contains("FAIL"))
    }

    /// A failing check makes `verify` exit 1: with no error allowed at all, every check whose error is
    /// not exactly 0 fails, is printed as FAIL and counted.
    @Test func verifyExitsOneWhenACheckFails() throws {
        let result = try attnbench(["verify", "--quick", "--bound-limit", "0"])
        #expect(result.status == 1, "\(result.stderr)")
        let failed = result.stdout.split(separator: "\n").filter { $0.hasSuffix("FAIL") }.count
        #expect(failed > 10)
        #expect(result.stdout.contains("verify: \(failed) kernel check(s) FAILED"))
        #expect(!result.stdout.contains("all kernels match"))
    }

    /// A machine fault is not bad input: OpenBLAS capping the threads it is set to (this build's
    /// cap is far below 4096) exits 70 with one line naming OpenBLAS, before any check runs.
    @Test func aMachineFaultExits70() throws {
        let result = try attnbench(["verify", "--threads", "4096"])
        #expect(result.status == 70, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("attnbench: machine fault: OpenBLAS runs "), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
    }

    @Test func evalWritesAnOutputOfTheInputShape() throws {
        let dir = try scratch(["q.npy": ramp([6, 4], 0.3), "k.npy": ramp([6, 4], 0.7), "v.npy": ramp([6, 4], 1.1)])
        defer { try? FileManager.default.removeItem(at: dir) }
        for mechanism in [
            ["standard"], ["standard", "--causal"], ["linear"], ["linear", "--causal"],
            ["linformer", "--projected-length", "3"],
        ] {
            let out = dir.appendingPathComponent("out.npy").path
            let result = try attnbench(
                ["eval", "--mechanism"] + mechanism + [
                    "--q", dir.appendingPathComponent("q.npy").path, "--k", dir.appendingPathComponent("k.npy").path,
                    "--v", dir.appendingPathComponent("v.npy").path, "--out", out, "--overwrite",
                ])
            #expect(result.status == 0, "\(mechanism): \(result.stderr)")
            let array = try NPY.read(contentsOf: URL(fileURLWithPath: out))
            #expect(array.shape == [6, 4])
        }
    }

    /// Performer and Reformer: their axes reach eval, `--random-out` writes the projections they drew
    /// (Performer's W `[m, d]`, Reformer's rotations `[rounds, d, buckets/2]`), and an axis given to a
    /// mechanism without it is a usage error naming the flag.
    @Test func evalTakesTheNewMechanismsAxesAndWritesTheirProjections() throws {
        let dir = try scratch(["q.npy": ramp([6, 4], 0.3), "k.npy": ramp([6, 4], 0.7), "v.npy": ramp([6, 4], 1.1)])
        defer { try? FileManager.default.removeItem(at: dir) }
        let inputs = ["q", "k", "v"].flatMap { ["--\($0)", dir.appendingPathComponent("\($0).npy").path] }
        let (out, random) = (dir.appendingPathComponent("out.npy").path, dir.appendingPathComponent("r.npy").path)
        for (flags, shape) in [
            (["performer", "--features", "10"], [10, 4]),
            (["reformer", "--hash-rounds", "3", "--buckets", "6", "--chunk", "2", "--causal"], [3, 4, 3]),
        ] {
            let result = try attnbench(
                ["eval", "--mechanism"] + flags + inputs + ["--out", out, "--random-out", random, "--overwrite"])
            #expect(result.status == 0, "\(flags): \(result.stderr)")
            #expect(try NPY.read(contentsOf: URL(fileURLWithPath: random)).shape == shape, "\(flags)")
        }
        for flags in [
            ["linear", "--features", "8"], ["reformer", "--buckets", "5"], ["standard", "--hash-rounds", "2"],
        ] {
            let result = try attnbench(["eval", "--mechanism"] + flags + inputs + ["--out", out, "--overwrite"])
            #expect(result.status == 64 && result.stderr.contains(flags[1]), "\(flags): \(result.stderr)")
        }
    }

    /// With --grad-out, eval also writes the gradients: dq, dk, dv in the inputs' shape, de and df in
    /// E's and F's, and only de when E = F (--e alone).
    @Test func evalWritesTheGradientsWithGradOut() throws {
        let dir = try scratch([
            "q.npy": ramp([6, 4], 0.3), "k.npy": ramp([6, 4], 0.7), "v.npy": ramp([6, 4], 1.1),
            "do.npy": ramp([6, 4], 0.5), "e.npy": ramp([3, 6], 0.2), "f.npy": ramp([3, 6], 0.9),
        ])
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = { (name: String) in dir.appendingPathComponent(name).path }
        let cases: [([String], [String: [Int]])] = [
            (["standard", "--causal"], [:]), (["linear"], [:]), (["linear", "--causal"], [:]),
            (["linformer", "--e", path("e.npy"), "--f", path("f.npy")], ["de": [3, 6], "df": [3, 6]]),
            (["linformer", "--e", path("e.npy")], ["de": [3, 6]]),
            (["linformer", "--projected-length", "2"], [:]),
        ]
        for (i, (mechanism, projections)) in cases.enumerated() {
            let grads = path("grads\(i)")
            let result = try attnbench(
                ["eval", "--mechanism"] + mechanism + [
                    "--q", path("q.npy"), "--k", path("k.npy"), "--v", path("v.npy"), "--out", path("out\(i).npy"),
                    "--grad-out", path("do.npy"), "--grads-dir", grads,
                ])
            #expect(result.status == 0, "\(mechanism): \(result.stderr)")
            let written = try FileManager.default.contentsOfDirectory(atPath: grads).sorted()
            let expected = ["dq": [6, 4], "dk": [6, 4], "dv": [6, 4]].merging(projections) { a, _ in a }
            #expect(written == expected.keys.map { "\($0).npy" }.sorted(), "\(mechanism)")
            for (name, shape) in expected {
                let array = try NPY.read(contentsOf: URL(fileURLWithPath: grads + "/\(name).npy"))
                #expect(array.shape == shape && array.scalars.allSatisfy(\.isFinite), "\(mechanism) \(name)")
            }
        }
    }

    /// Bad gradient arguments: exit 64, one line, nothing written (nor overwritten).
    @Test(arguments: [
        ("shape", "has shape [5, 4] but q has [6, 4]"),
        ("exists", "already exists; pass --overwrite"),
        ("input", "is also an input"),
        ("alone", "--grad-out and --grads-dir go together"),
    ])
    func badGradientArgumentsAreOneLineAndExit64(_ kind: String, _ message: String) throws {
        let dir = try scratch([
            "q.npy": ramp([6, 4], 0.3), "k.npy": ramp([6, 4], 0.7), "v.npy": ramp([6, 4], 1.1),
            "do.npy": ramp([6, 4], 0.5), "do5.npy": ramp([5, 4], 0.5),
        ])
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = { (name: String) in dir.appendingPathComponent(name).path }
        try FileManager.default.createDirectory(atPath: path("grads"), withIntermediateDirectories: true)
        var args = [
            "eval", "--mechanism", "linear", "--q", path("q.npy"), "--k", path("k.npy"), "--v", path("v.npy"),
            "--out", path("o.npy"), "--grad-out", path("do.npy"), "--grads-dir", path("grads"),
        ]
        switch kind {
        case "shape": args[12] = path("do5.npy")
        case "exists": try Data("precious".utf8).write(to: URL(fileURLWithPath: path("grads/dk.npy")))
        case "input":
            args[14] = dir.path
            try FileManager.default.moveItem(atPath: path("do.npy"), toPath: path("dv.npy"))
            args[12] = path("dv.npy")
        default: args.removeLast(2)
        }
        let result = try attnbench(args)
        #expect(result.status == 64, "\(kind): status \(result.status), \(result.stderr)")
        #expect(result.stderr.contains(message), "\(kind): \(result.stderr)")
        if kind != "alone" { #expect(result.stderr.split(separator: "\n").count == 1, "\(kind): \(result.stderr)") }
        #expect(
            !FileManager.default.fileExists(atPath: path("o.npy"))
                && !FileManager.default.fileExists(atPath: path("grads/dq.npy")))
        if kind == "exists" { #expect(try String(contentsOfFile: path("grads/dk.npy"), encoding: .utf8) == "precious") }
    }

    /// Each bad input: exit 64 and exactly one line on stderr that names the problem.
    @Test(arguments: [
        ("mismatched", "must have one shape"),
        ("rank", "expected [B, H, n, d] or [n, d]"),
        ("truncated", "truncated data"),
        ("dtype", "float32"),
        ("causal-linformer", "no causal form"),
        ("projection", "last dimension must be n"),
    ])
    func badInputIsOneLineAndExit64(_ kind: String, _ message: String) throws {
        let dir = try scratch([
            "q.npy": ramp([6, 4], 0.3), "k.npy": ramp([6, 4], 0.7), "v.npy": ramp([6, 4], 1.1),
            "k5.npy": ramp([5, 4], 0.7), "rank3.npy": ramp([2, 6, 4], 0.1), "e.npy": ramp([3, 7], 0.2),
        ])
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = { (name: String) in dir.appendingPathComponent(name).path }
        let full = NPY.encode(ramp([6, 4], 0.3))
        try full.prefix(full.count - 7).write(to: dir.appendingPathComponent("truncated.npy"))
        var int32 = full
        let at = full.firstRange(of: Data("<f4".utf8))!
        int32.replaceSubrange(at, with: Data("<i4".utf8))
        try int32.write(to: dir.appendingPathComponent("int.npy"))
        var args = [
            "eval", "--mechanism", "standard", "--q", path("q.npy"), "--k", path("k.npy"), "--v", path("v.npy"),
            "--out", path("o.npy"),
        ]
        switch kind {
        case "mismatched": args[6] = path("k5.npy")
        case "rank": args[4] = path("rank3.npy")
        case "truncated": args[8] = path("truncated.npy")
        case "dtype": args[4] = path("int.npy")
        case "causal-linformer":
            args[2] = "linformer"
            args += ["--causal", "--projected-length", "2"]
        default:
            args[2] = "linformer"
            args += ["--e", path("e.npy")]
        }
        let result = try attnbench(args)
        #expect(result.status == 64, "\(kind): status \(result.status), \(result.stderr)")
        #expect(result.stderr.contains(message), "\(kind): \(result.stderr)")
        if kind != "causal-linformer" {  // argument-parser's own validation adds a usage line
            #expect(result.stderr.split(separator: "\n").count == 1, "\(kind): \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: path("o.npy")))
    }
}
