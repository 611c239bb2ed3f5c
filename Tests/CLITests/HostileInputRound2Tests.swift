import Foundation
import Reporting
import Results
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Issue #24, "hostile input, round two", proved through the built binary. The sections follow the
/// issue's classes: 1 reading without bounds, 2 writers that skip the lock, 3 inputs that are
/// outputs, 4 silent drops, 5 trusting a sidecar, 6 valid output or none, 7 paths.
@Suite struct HostileInputRound2Tests {
    typealias H = HostileInputTests

    /// A scratch folder holding a measured one-point run `r.csv` (with `r.meta.json` and
    /// `r.samples.csv`) made by the binary, removed by the caller.
    static func measuredRun() throws -> URL {
        let dir = try H.folder()
        let result = try H.run(["run", "--output", "r.csv"] + tinyGrid, in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        return dir
    }

    /// One linear point at n = 64, as fast as a debug build measures.
    static let tinyGrid = [
        "--allow-debug", "--quiet", "--mechanism", "linear", "--n", "64", "--heads", "1", "--head-dim", "8",
        "--threads", "1", "--warmups", "0", "--min-reps", "1", "--min-time", "0",
    ]

    /// The names in `dir`, sorted.
    static func names(_ dir: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
    }

    // MARK: - 1. Reading without bounds

    /// A 64 GiB sparse results file (or samples or metadata sidecar, or an eval .npy input) was read
    /// whole: the OOM killer ended report, plot, compare, export and eval. Now one line, exit 64,
    /// nothing written.
    @Test(arguments: ["big.csv", "big.samples.csv", "big.meta.json", "big.npy"])
    func aFileLargerThanMemoryIsOneLine(_ sparse: String) throws {
        let dir = try Self.measuredRun()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = dir.appendingPathComponent("r.csv").path
        for suffix in ["csv", "samples.csv", "meta.json"] {
            try FileManager.default.copyItem(
                atPath: dir.appendingPathComponent("r.\(suffix)").path,
                toPath: dir.appendingPathComponent("big.\(suffix)").path)
        }
        #expect(FileManager.default.createFile(atPath: dir.appendingPathComponent("big.npy").path, contents: nil))
        #expect(truncate(dir.appendingPathComponent(sparse).path, 64 << 30) == 0)
        let before = try Self.names(dir)
        let readers: [String: [[String]]] = [
            "big.csv": [
                ["report", "--input", "big.csv", "--output", "out.md"] + H.noPaperData(dir),
                ["plot", "--input", "big.csv", "--output", "plots"] + H.noPaperData(dir), ["compare", "big.csv", r],
                ["export", "--input", "big.csv", "--format", "bencher", "--output", "e.json"],
            ],
            "big.samples.csv": [
                ["compare", "big.csv", r],
                ["export", "--input", "big.csv", "--format", "google-benchmark", "--output", "e.json"],
            ],
            "big.npy": [
                [
                    "eval", "--mechanism", "standard", "--q", "big.npy", "--k", "big.npy", "--v", "big.npy", "--out",
                    "o.npy",
                ]
            ],
            "big.meta.json": [
                ["report", "--input", "big.csv", "--output", "out.md"] + H.noPaperData(dir),
                ["export", "--input", "big.csv", "--format", "bencher", "--output", "e.json"],
            ],
        ]
        for arguments in readers[sparse] ?? [] {
            H.expectOneLine(try H.run(arguments, in: dir), 64, "\(sparse) holds 65536 MiB or more", arguments[0])
            #expect(try Self.names(dir) == before, "\(arguments[0]) left a file")
        }
    }

    // MARK: - 2. Writers that skip the lock

    /// While a run appends to `live.csv`, merge, export and max-batch replaced it (or its
    /// sidecar) by rename, and the run's rows went to a removed file. Now each is refused naming
    /// the run's PID, and the run's file is the same file when it ends.
    @Test func aFileARunIsWritingIsNotReplaced() throws {
        let dir = try Self.measuredRun()
        defer { try? FileManager.default.removeItem(at: dir) }
        let shard = try H.run(["run", "--shard", "1/1", "--output", "s1.csv"] + Self.tinyGrid, in: dir)
        #expect(shard.status == 0, "\(shard.stderr)")
        let live = dir.appendingPathComponent("live.csv")
        let first = Process()
        first.executableURL = binaryURL()
        first.arguments =
            ["run", "--output", "live.csv"] + H.with(H.with(Self.tinyGrid, "--n", "16...1024"), "--min-time", "0.2")
        first.currentDirectoryURL = dir
        first.standardOutput = FileHandle.nullDevice
        first.standardError = FileHandle.nullDevice
        try first.run()
        defer { if first.isRunning { first.terminate() } }
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, first.isRunning, (H.contents(live)?.count ?? 0) == 0 {
            Thread.sleep(forTimeInterval: 0.01)
        }
        #expect(first.isRunning, "the run ended before the test could race it")
        var before = stat()
        #expect(stat(live.path, &before) == 0)
        for arguments in [
            ["merge", "--overwrite", "--output", "live.csv", "s1.csv"],
            ["export", "--input", "r.csv", "--format", "bencher", "--output", "live.meta.json", "--overwrite"],
            ["max-batch", "--output", "live.csv", "--overwrite", "--memory-budget", "64M"]
                + Self.tinyGrid.filter { $0 != "--quiet" },
        ] {
            H.expectOneLine(
                try H.run(arguments, in: dir), 64,
                "live.csv is being written by another attnbench (PID \(first.processIdentifier))", arguments[0])
        }
        first.waitUntilExit()
        #expect(first.terminationStatus == 0)
        var after = stat()
        #expect(stat(live.path, &after) == 0 && after.st_ino == before.st_ino, "live.csv was replaced")
        try H.expectWholeResults(live, rows: 7)
    }

    // MARK: - 3. An input is never an output, and two outputs never one file

    /// `run` and `max-batch` replaced their own preset file with `--output` (and `--overwrite`);
    /// `eval --out` inside `--grads-dir` wrote dq.npy twice. Refused before measuring, nothing changed.
    @Test(arguments: [
        ["run", "--preset", "./p.preset", "--output", "p.preset", "--overwrite"],
        ["run", "--preset", "./p.preset", "--output", "p.preset"],
        ["max-batch", "--preset", "./p.preset", "--output", "p.preset", "--overwrite"],
        [
            "eval", "--mechanism", "standard", "--q", "q.npy", "--k", "k.npy", "--v", "v.npy", "--grad-out", "v.npy",
            "--grads-dir", "g", "--out", "g/dq.npy",
        ],
    ])
    func anInputOrARepeatedOutputIsRefused(_ arguments: [String]) throws {
        let dir = try scratch(["q.npy": ramp([6, 4], 0.3), "k.npy": ramp([6, 4], 0.7), "v.npy": ramp([6, 4], 1.1)])
        defer { try? FileManager.default.removeItem(at: dir) }
        let preset =
            "mechanism = linear\nn = 64\nheads = 1\nhead-dim = 8\nthreads = 1\nwarmups = 0\nmin-reps = 1\nmemory-budget = 64M\n"
        try preset.write(to: dir.appendingPathComponent("p.preset"), atomically: true, encoding: .utf8)
        let before = try Self.names(dir)
        let message = arguments[0] == "eval" ? "two outputs of this command name one file" : "is also an input"
        H.expectOneLine(
            try H.run(arguments + ["--allow-debug"].filter { _ in arguments[0] != "eval" }, in: dir), 64, message,
            arguments.joined(separator: " "))
        #expect(try Self.names(dir) == before)
        #expect(try String(contentsOf: dir.appendingPathComponent("p.preset"), encoding: .utf8) == preset)
    }
}

extension HostileInputRound2Tests {
    // MARK: - 4. Silent drops and no-ops

    /// A results file whose complete last row has no final newline: compare called the point
    /// "only in r.csv". Now it is a row (a line cut short is still left out).
    @Test func aWholeLastRowWithoutANewlineIsARow() throws {
        let dir = try Self.measuredRun()
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = try String(contentsOf: dir.appendingPathComponent("r.csv"), encoding: .utf8)
        try String(text.dropLast()).write(to: dir.appendingPathComponent("n.csv"), atomically: true, encoding: .utf8)
        let result = try H.run(["compare", "r.csv", "n.csv"], in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stdout.contains("only in"), "\(result.stdout)")
        // Cut inside a field, so short of fields: left out, as an interrupted write.
        let cut = text.dropLast().split(separator: ",", omittingEmptySubsequences: false).dropLast(3)
            .joined(separator: ",")
        try cut.write(to: dir.appendingPathComponent("n.csv"), atomically: true, encoding: .utf8)
        let short = try H.run(["compare", "r.csv", "n.csv"], in: dir)
        #expect(short.stdout.contains("only in r.csv"), "\(short.stdout)")
    }

    /// `max-batch --predict --verify-n 128` on a grid of n = 64 verified nothing and exited 0.
    @Test(arguments: [(["--verify-n", "128"], "--verify-n 128 is not among the grid's n values (64)")])
    func aVerificationOfNothingIsRefused(_ flags: [String], _ message: String) throws {
        let dir = try H.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let arguments =
            ["max-batch", "--predict", "--output", "mb.csv", "--memory-budget", "64M"]
            + Self.tinyGrid.filter { $0 != "--quiet" } + flags
        H.expectOneLine(try H.run(arguments, in: dir), 64, message)
        #expect(try Self.names(dir) == [])
    }

    /// A grid of one point in two shards: shard 2 plans nothing, and merge without it called the
    /// sweep incomplete (`missing shard 2/2`, exit 1 with --require-complete). Every point is there.
    @Test func anEmptyShardIsComplete() throws {
        let dir = try H.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let shard = try H.run(["run", "--shard", "1/2", "--output", "s1.csv"] + Self.tinyGrid, in: dir)
        #expect(shard.status == 0, "\(shard.stderr)")
        let merged = try H.run(["merge", "--require-complete", "--output", "m.csv", "s1.csv"], in: dir)
        #expect(merged.status == 0, "\(merged.stdout) \(merged.stderr)")
        #expect(!merged.stdout.contains("missing"), "\(merged.stdout)")
        try H.expectWholeResults(dir.appendingPathComponent("m.csv"), rows: 1)
    }
}

extension HostileInputRound2Tests {
    // MARK: - 5. Trusting a sidecar

    /// `b.csv` says the point is 50% slower, but its samples are `a`'s: compare took the p-value
    /// from the samples and called it "no difference", exit 0 under --fail-on-slower. Now the
    /// samples are checked against the CSV (a cycle of `reps` samples with its median) and refused;
    /// and a comparison that tested no point is not a pass.
    @Test func samplesThatDisagreeWithTheirCSVAreRefused() throws {
        let dir = try H.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let measured = try H.run(
            ["run", "--output", "a.csv"] + H.with(Self.tinyGrid, "--min-reps", "10"), in: dir)
        #expect(measured.status == 0, "\(measured.stderr)")
        let same = try H.run(["compare", "--fail-on-slower", "a.csv", "a.csv"], in: dir)
        #expect(same.status == 0, "\(same.stderr)")

        var parsed = try CSV.parse(String(contentsOf: dir.appendingPathComponent("a.csv"), encoding: .utf8)).rows
        let column = try #require(parsed[0].firstIndex(of: "time_median_ms"))
        parsed[1][column] = String(format: "%.6f", try #require(Double(parsed[1][column])) * 1.5)
        try parsed.map(CSV.line).joined().write(
            to: dir.appendingPathComponent("b.csv"), atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(
            at: dir.appendingPathComponent("a.samples.csv"), to: dir.appendingPathComponent("b.samples.csv"))
        H.expectOneLine(
            try H.run(["compare", "--fail-on-slower", "a.csv", "b.csv"], in: dir), 64,
            "b.samples.csv disagrees with b.csv")

        try FileManager.default.removeItem(at: dir.appendingPathComponent("a.samples.csv"))
        try FileManager.default.removeItem(at: dir.appendingPathComponent("b.samples.csv"))
        H.expectOneLine(
            try H.run(["compare", "--fail-on-slower", "a.csv", "b.csv"], in: dir), 64,
            "--fail-on-slower: no point of a.csv and b.csv could be tested")
    }
}

extension HostileInputRound2Tests {
    // MARK: - 6. Valid output or none

    /// A finite time too large for nanoseconds (1e308 ms; a sample of 1e300 s) was written as
    /// `null` in the export. Now the export is refused, and no file is written.
    @Test(arguments: [("bencher", "r.csv"), ("google-benchmark", "r.samples.csv")])
    func aTimeThatOverflowsItsUnitIsNotExported(_ format: String, _ edited: String) throws {
        let dir = try Self.measuredRun()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent(edited)
        var rows = try CSV.parse(String(contentsOf: url, encoding: .utf8)).rows
        let columns =
            edited == "r.csv" ? ["time_median_ms", "time_ci95_low_ms", "time_ci95_high_ms"] : ["seconds"]
        for name in columns {
            let column = try #require(rows[0].firstIndex(of: name))
            rows[1][column] = edited == "r.csv" ? "1e308" : "1e300"
        }
        try rows.map(CSV.line).joined().write(to: url, atomically: true, encoding: .utf8)
        let before = try Self.names(dir)
        H.expectOneLine(
            try H.run(["export", "--input", "r.csv", "--format", format, "--output", "e.json"], in: dir), 64,
            "is out of JSON's range", format)
        #expect(try Self.names(dir) == before)
    }
}

extension HostileInputRound2Tests {
    // MARK: - 7. Paths

    /// An output spelled as a folder (`a/b/`) made the folders a/b, then failed with "a/b/ exists"
    /// (export, report) or "Is a directory" (run, exit 74), leaving them behind. Now one line,
    /// exit 64, before anything is created.
    @Test(arguments: [
        ["export", "--input", "r.csv", "--format", "bencher", "--output", "a/b/"],
        ["report", "--input", "r.csv", "--output", "a/b/"], ["run", "--output", "a/b/"] + tinyGrid,
        ["run", "--output", "a/."] + tinyGrid,
        [
            "max-batch", "--output", "a/b/", "--allow-debug", "--mechanism", "linear", "--n", "64", "--heads", "1",
            "--head-dim", "8", "--memory-budget", "64M",
        ], ["merge", "--output", "a/b/", "s1.csv"],
    ])
    func anOutputSpelledAsAFolderIsRefusedBeforeAnythingIsCreated(_ arguments: [String]) throws {
        let dir = try Self.measuredRun()
        defer { try? FileManager.default.removeItem(at: dir) }
        let shard = try H.run(["run", "--shard", "1/1", "--output", "s1.csv"] + Self.tinyGrid, in: dir)
        #expect(shard.status == 0, "\(shard.stderr)")
        let before = try Self.names(dir)
        let extra = arguments[0] == "report" ? H.noPaperData(dir) : []
        H.expectOneLine(
            try H.run(arguments + extra, in: dir), 64, "names a folder; give the path of a file", arguments[0])
        #expect(try Self.names(dir) == before, "\(arguments[0]) left something behind")
    }

    /// submit.sh passed the sweep folder inside `sbatch --export=ALL,…,SWEEP_DIR=<dir>`, a list
    /// sbatch splits at commas: a folder named `sweep,1` reached the jobs as `sweep`. A stand-in
    /// sbatch that builds the job's environment as Slurm does shows what the jobs get.
    @Test func aSweepFolderWithACommaReachesTheJobs() throws {
        let dir = try H.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bin = dir.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let sbatch = """
            #!/usr/bin/env bash
            spec=ALL; for arg in "$@"; do case "$arg" in --export=*) spec=${arg#--export=} ;; esac; done
            sweep=; inherit=0
            IFS=, read -r -a items <<< "$spec"
            for item in "${items[@]}"; do
                case "$item" in ALL) inherit=1 ;; SWEEP_DIR=*) sweep=${item#SWEEP_DIR=} ;; esac
            done
            [ $inherit = 1 ] && sweep=${sweep:-${SWEEP_DIR:-}}
            printf '%s\\n' "$sweep" >> "$FAKE_SBATCH_LOG"
            echo 42

            """
        let fake = bin.appendingPathComponent("sbatch")
        try sbatch.write(to: fake, atomically: true, encoding: .utf8)
        #expect(chmod(fake.path, 0o755) == 0)
        let sweep = dir.appendingPathComponent("sweep,1")
        let log = dir.appendingPathComponent("sbatch.log")
        let process = Process()
        process.executableURL = EcosystemCommandTests.repository.appendingPathComponent("Scripts/slurm/submit.sh")
        process.arguments = ["2", "--mechanism", "linear", "--n", "64", "--heads", "1", "--head-dim", "8"]
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = bin.path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        environment["ATTNBENCH"] = binaryURL().path
        environment["SWEEP_DIR"] = sweep.path
        environment["FAKE_SBATCH_LOG"] = log.path
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let seen = try String(contentsOf: log, encoding: .utf8).split(separator: "\n").map(String.init)
        let real = sweep.resolvingSymlinksInPath().path
        #expect(
            seen.count == 2 && seen.allSatisfy { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path == real },
            "\(seen)")
    }
}

extension HostileInputRound2Tests {
    /// On a full disk, `export` and `run` to `full-disk/new/sub/…` failed (exit 74) but left the
    /// folders new/sub they had made. Now a failed command removes the folders it created.
    @Test(.enabled(if: getuid() == 0, "mounting a tmpfs needs root"))
    func aFailedWriteLeavesNoFolderBehind() throws {
        let dir = try Self.measuredRun()
        guard let disk = H.fullDisk(in: dir) else {
            try? FileManager.default.removeItem(at: dir)
            return
        }
        defer {
            H.shell("/bin/umount", [disk.path])
            try? FileManager.default.removeItem(at: dir)
        }
        for arguments in [
            ["export", "--input", "r.csv", "--format", "bencher", "--output", "full-disk/new/sub/e.json"],
            ["run", "--output", "full-disk/new/sub/r.csv"] + Self.tinyGrid,
        ] {
            H.expectOneLine(try H.run(arguments, in: dir), 74, "No space left on device", arguments[0])
            #expect(try Self.names(disk) == ["fill"], "\(arguments[0]) left a folder")
        }
    }
}
