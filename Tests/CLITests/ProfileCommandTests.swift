import Foundation
import Results
import Testing

/// `attnbench profile` and `profile-report` through the binary: a tiny grid writes both CSVs and
/// the sidecar, the report draws from them; existing outputs are never replaced without
/// `--overwrite`, and a grid with nothing to profile is a usage error.
@Suite struct ProfileCommandTests {
    static let grid = [
        "--allow-debug", "--mechanism", "linear", "--n", "64", "--batch", "1", "--heads", "1", "--head-dim", "16",
        "--threads", "1", "--min-reps", "2", "--min-time", "0", "--warmups", "0",
    ]

    @Test func profileWritesItsFilesAndRefusesToReplaceThem() throws {
        let dir = try scratch([:])
        defer { try? FileManager.default.removeItem(at: dir) }
        let outputs = ["--output", "p.csv", "--roofline", "r.csv"]
        let first = try attnbench(["profile"] + Self.grid + outputs, in: dir)
        #expect(first.status == 0, "\(first.stderr)")
        for name in ["p.csv", "r.csv", "p.meta.json"] {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(name).path), "\(name)")
        }
        let phases = try RowFile.read(dir.appendingPathComponent("p.csv").path, columns: PhaseRow.table, empty: .empty)
        #expect(phases.map(\.phase) == ["φ", "φ(K)ᵀV, Σφ(K)", "φ(Q)·S", "division", "other"])
        let before = try Data(contentsOf: dir.appendingPathComponent("p.csv"))
        let again = try attnbench(["profile"] + Self.grid + outputs, in: dir)
        #expect(again.status == 64 && again.stderr.contains("--overwrite"), "\(again.stderr)")
        #expect(try Data(contentsOf: dir.appendingPathComponent("p.csv")) == before)

        let report = try attnbench(
            ["profile-report", "--input", "p.csv", "--roofline", "r.csv", "--plots", "plots", "--report", "R.md"],
            in: dir)
        #expect(report.status == 0, "\(report.stderr)")
        let markdown = try String(contentsOf: dir.appendingPathComponent("R.md"), encoding: .utf8)
        #expect(markdown.contains("## linear b=1 h=1 d=16 t=1") && markdown.contains("What bounds it"))
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("plots/roofline.gp").path))
    }

    @Test func aGridWithoutForwardPointsIsAUsageError() throws {
        let dir = try scratch([:])
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try attnbench(
            ["profile"] + Self.grid + ["--mode", "decode", "--causal", "true", "--output", "p.csv"], in: dir)
        #expect(result.status == 64 && result.stderr.contains("no forward-mode point"), "\(result.stderr)")
        let missing = try attnbench(["profile-report", "--input", "absent.csv"], in: dir)
        #expect(missing.status == 64 || missing.status == 74, "\(missing.stderr)")
        #expect(!missing.stderr.contains("Fatal error"))
    }
}
