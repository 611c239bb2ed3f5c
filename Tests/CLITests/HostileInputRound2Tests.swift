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

    /// A 64 GiB sparse results file (or samples or metadata sidecar) was read whole: the OOM killer
    /// ended report, plot, compare and export. Now one line, exit 64, nothing written.
    @Test(arguments: ["big.csv", "big.samples.csv", "big.meta.json"])
    func aFileLargerThanMemoryIsOneLine(_ sparse: String) throws {
        let dir = try Self.measuredRun()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = dir.appendingPathComponent("r.csv").path
        for suffix in ["csv", "samples.csv", "meta.json"] {
            try FileManager.default.copyItem(
                atPath: dir.appendingPathComponent("r.\(suffix)").path,
                toPath: dir.appendingPathComponent("big.\(suffix)").path)
        }
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
}
