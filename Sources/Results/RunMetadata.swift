import Foundation
import Reporting

/// The JSON sidecar of a CSV (`<name>.meta.json`): where, with what and how the numbers were made.
/// The harness fills it (`RunMetadata.collect` in Harness); plots and report read it.
public struct RunMetadata: Codable, Equatable, Sendable {
    public struct Libraries: Codable, Equatable, Sendable {
        public var openblasConfig: String
        /// The core this process ran (`openblasCore.running`).
        public var openblasCoreName: String
        /// How the core was chosen, and a warning when it is older than the CPU's best (nil in
        /// metadata written before it was recorded).
        public var openblasCore: OpenBLASCoreRecord?
        /// 0 sequential, 1 pthreads, 2 OpenMP.
        public var openblasParallel: Int
        public var jemallocVersion: String?
        /// The options this process gave jemalloc (`malloc_conf`).
        public var jemallocOptions: String?
        public var swiftVersion: String

        public init(
            openblasConfig: String, openblasCoreName: String, openblasCore: OpenBLASCoreRecord? = nil,
            openblasParallel: Int, jemallocVersion: String?, jemallocOptions: String?, swiftVersion: String
        ) {
            self.openblasCore = openblasCore
            (self.openblasConfig, self.openblasCoreName, self.openblasParallel) = (
                openblasConfig, openblasCoreName, openblasParallel
            )
            (self.jemallocVersion, self.jemallocOptions, self.swiftVersion) = (
                jemallocVersion, jemallocOptions, swiftVersion
            )
        }
    }

    /// One invocation of `attnbench run` that wrote to the CSV (a resumed run adds one).
    public struct Session: Codable, Equatable, Sendable {
        public var commandLine: String
        public var start: String
        public var end: String?
        /// False while running, and after an interruption.
        public var completed: Bool
        public var pointsMeasured: Int
        /// What went wrong without stopping the run (a probe that failed, oversubscribed threads).
        public var warnings: [String]?
        /// The 1-, 5- and 15-minute load averages (`/proc/loadavg`) when the session started and
        /// ended: how quiet the machine was (nil in metadata written before they were recorded).
        public var loadAverageStart: [Double]?
        public var loadAverageEnd: [Double]?
        /// Cores other processes kept busy over the quarter second before the session measured anything.
        public var busyCoresStart: Double?
        /// The commit the session ran (with "+dirty" for uncommitted changes): a resumed file's rows can
        /// come from several, while ``RunMetadata/gitCommit`` names the last (nil in metadata written
        /// before it was recorded).
        public var commit: String?

        public init(commandLine: String, start: String, end: String? = nil, completed: Bool, pointsMeasured: Int) {
            (self.commandLine, self.start, self.end, self.completed, self.pointsMeasured) = (
                commandLine, start, end, completed, pointsMeasured
            )
        }
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
    /// What the ceiling is: "1024x1024x1024 sgemm, best of 3 medians".
    public var calibrationGemm: String
    public var sessions: [Session]
    /// The whole grid the run was planned from (nil in metadata written before it was recorded).
    public var grid: GridIdentity?
    /// Set when the run measured one shard of the grid (`--shard i/N`).
    public var shard: ShardAssignment?
    /// Set on a file made by `attnbench merge`: each shard's machine, sessions and ceilings (the
    /// top-level ones are the first shard's; `sessions` lists every shard's).
    public var mergedShards: [MergedShard]?

    public init(
        preset: String, machine: Machine, libraries: Libraries, buildConfiguration: String, gitCommit: String?,
        gitDirty: Bool?,
        seed: UInt64, timing: TimingPolicy, memoryBudgetBytes: Int, sgemmCeilingGflops: [String: Double],
        calibrationGemm: String, sessions: [Session]
    ) {
        self.preset = preset
        self.machine = machine
        self.libraries = libraries
        self.buildConfiguration = buildConfiguration
        self.gitCommit = gitCommit
        self.gitDirty = gitDirty
        self.seed = seed
        self.timing = timing
        self.memoryBudgetBytes = memoryBudgetBytes
        self.sgemmCeilingGflops = sgemmCeilingGflops
        self.calibrationGemm = calibrationGemm
        self.sessions = sessions
    }

    /// Path of the sidecar for a CSV path: `Results/default.csv` → `Results/default.meta.json`.
    public static func path(forCSV csv: String) -> String { sidecarPath(forCSV: csv, suffix: ".meta.json") }

    /// The sidecar as JSON text (sorted keys, pretty-printed).
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    /// Writes the sidecar atomically (a temporary file, synced, renamed into place), with the file
    /// system's reason on failure ("No space left on device; free some disk space…").
    /// - Throws: ``FileError``.
    public func write(to path: String) throws(FileError) {
        let data: Data
        do { data = try json() } catch { throw FileError("cannot encode the metadata for \(path): \(describe(error))") }
        do { try AtomicFile.write(bytes: [UInt8](data), to: path, overwrite: true) } catch let error as FileError {
            throw error
        } catch {
            throw FileError("cannot write \(path): \(describe(error))")
        }
    }

    /// Reads a sidecar; nil when there is none.
    /// - Throws: ``UsageError`` when it exists but is not this tool's metadata, ``FileError`` when
    ///   it exists but cannot be read (a folder, no permission).
    public static func read(from path: String) throws -> RunMetadata? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let data = Data(try TextFile.bytes(path))
        do { return try JSONDecoder().decode(RunMetadata.self, from: data) } catch {
            throw UsageError(
                "\(path) is not attnbench run metadata (\(describe(error))); regenerate it or move it aside")
        }
    }

    /// ISO 8601 time, UTC.
    public static func now() -> String { ISO8601DateFormatter().string(from: Date()) }
}
