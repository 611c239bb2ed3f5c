import Foundation
import Testing

/// `attnbench profile-memory` on a tiny grid: the files it writes, what they hold, and that it
/// replaces none without `--overwrite`.
@Suite struct ProfileMemoryCommandTests {
    @Test func writesTimelinesFiguresAndReportOnce() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("attnbench-memory-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let args = [
            "profile-memory", "--mechanism", "standard,linformer", "--n", "64", "--k", "16", "--batch", "1",
            "--heads", "2", "--head-dim", "16", "--threads", "1", "--scope", "core", "--output", "out", "--plots",
            "plots", "--report", "REPORT-memory.md",
        ]
        let result = try attnbench(args, in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        let names = [
            "standard-n-64-b-1-h-2-d-16-t-1", "standard-train-n-64-b-1-h-2-d-16-t-1",
            "linformer-k-16-n-64-b-1-h-2-d-16-t-1", "linformer-train-k-16-n-64-b-1-h-2-d-16-t-1",
        ]
        for name in names {
            for path in ["out/\(name).csv", "out/\(name).peak.csv", "plots/\(name).gp", "plots/\(name).dat"] {
                #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(path).path), "\(path)")
            }
        }
        let peak = try String(contentsOf: dir.appendingPathComponent("out/\(names[1]).peak.csv"), encoding: .utf8)
        #expect(
            peak.hasPrefix("label,tensors,class_bytes,share_of_peak\n") && peak.contains("\nscores QKᵀ,1,32768,"),
            "\(peak)")
        let report = try String(contentsOf: dir.appendingPathComponent("REPORT-memory.md"), encoding: .utf8)
        #expect(report.contains("### standard\n") && report.contains("### linformer\n"))
        #expect(report.contains("| K′ = E·K | 1 |"), "\(report)")
        #expect(report.contains("](plots/\(names[0]).png)"))

        let again = try attnbench(args, in: dir)
        #expect(again.status != 0 && again.stderr.contains("already exists; pass --overwrite"), "\(again.stderr)")
        #expect(try attnbench(args + ["--overwrite"], in: dir).status == 0)
    }
}
