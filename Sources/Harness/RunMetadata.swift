import AttentionKernels
import Foundation
import Profiling

/// The JSON sidecar of a CSV (`<name>.meta.json`): where, with what and how the numbers were made.
public struct RunMetadata: Codable, Equatable {
    public struct Libraries: Codable, Equatable {
        public var openblasConfig: String
        public var openblasCoreName: String
        /// 0 sequential, 1 pthreads, 2 OpenMP.
        public var openblasParallel: Int
        public var jemallocVersion: String?
        /// The options this process gave jemalloc (`malloc_conf`).
        public var jemallocOptions: String?
        public var swiftVersion: String
    }

    /// One invocation of `attnbench run` that wrote to the CSV (a resumed run adds one).
    public struct Session: Codable, Equatable {
        public var commandLine: String
        public var start: String
        public var end: String?
        /// False while running, and after an interruption.
        public var completed: Bool
        public var pointsMeasured: Int
    }

    public var tool = "attnbench"
    public var csvSchemaColumns = ResultRow.columns
    public var preset: String
    public var machine: Machine
    public var libraries: Libraries
    public var buildConfiguration: String
    public var gitCommit: String?
    public var gitDirty: Bool?
    public var seed: UInt64
    public var timing: TimingPolicy
    public var memoryBudgetBytes: Int
    /// sgemm GFLOP/s by thread count (as text keys, for JSON), measured at the start of the session.
    public var sgemmCeilingGflops: [String: Double]
    public var calibrationGemm = "\(Calibration.size)x\(Calibration.size)x\(Calibration.size) sgemm, best of 3 medians"
    public var sessions: [Session]

    /// Path of the sidecar for a CSV path: `Results/default.csv` → `Results/default.meta.json`.
    public static func path(forCSV csv: String) -> String { sidecarPath(forCSV: csv, suffix: ".meta.json") }

    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    public static func read(from path: String) -> RunMetadata? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(RunMetadata.self, from: data)
    }

    public static func libraries() -> Libraries {
        Libraries(
            openblasConfig: BLAS.config, openblasCoreName: BLAS.coreName, openblasParallel: BLAS.parallelMode,
            jemallocVersion: AllocatorProbe.version, jemallocOptions: AllocatorProbe.options, swiftVersion: swiftVersion())
    }

    /// `swift --version`'s first line when a toolchain is on the PATH, else the compiler this
    /// binary was built with.
    static func swiftVersion() -> String {
        if let line = run("swift", ["--version"])?.split(separator: "\n").first(where: { $0.contains("Swift version") }) {
            return String(line)
        }
        #if compiler(>=6.3)
        return "Swift 6.3 or later (compiler of this build)"
        #else
        return "Swift before 6.3 (compiler of this build)"
        #endif
    }

    /// The checkout's commit and whether tracked files other than measured outputs (Results/,
    /// Plots/, Baselines/, which a run itself rewrites) differ from it.
    public static func git() -> (commit: String?, dirty: Bool?) {
        guard let commit = run("git", ["rev-parse", "HEAD"])?.trimmingCharacters(in: .whitespacesAndNewlines),
              !commit.isEmpty else { return (nil, nil) }
        let status = run("git", ["status", "--porcelain", "--untracked-files=no", "--", ".",
                                 ":(exclude)Results", ":(exclude)Plots", ":(exclude)Baselines"]) ?? ""
        return (commit, !status.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
    }

    static func run(_ tool: String, _ arguments: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return process.terminationStatus == 0 ? String(decoding: data, as: UTF8.self) : nil
    }

    /// ISO 8601 time, UTC.
    public static func now() -> String { ISO8601DateFormatter().string(from: Date()) }
}

/// A file that goes with a results CSV: `Results/x.csv` → `Results/x<suffix>`.
func sidecarPath(forCSV csv: String, suffix: String) -> String {
    (csv.hasSuffix(".csv") ? String(csv.dropLast(4)) : csv) + suffix
}
