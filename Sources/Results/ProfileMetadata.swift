import Foundation
import Reporting

/// The sidecar of `attnbench profile`'s CSVs (`<output>.meta.json`): the machine, the libraries,
/// the tree, the timing policy and the two roofs measured in the run, so a profile says where and
/// how it was measured.
public struct ProfileMetadata: Codable, Equatable, Sendable {
    public var tool = "attnbench profile"
    public var commandLine: String
    public var preset: String?
    public var machine: Machine
    /// OpenBLAS's core as recorded at start (detected, chosen, and why).
    public var openblasCore: String
    public var buildConfiguration: String
    public var gitCommit: String?
    public var gitDirty: Bool?
    public var timing: TimingPolicy
    public var seed: UInt64
    public var start: String
    public var end: String?
    public var loadAverageStart: [Double]?
    public var loadAverageEnd: [Double]?
    /// sgemm (1024³) GF/s and STREAM-triad GB/s, by thread count.
    public var sgemmGflops: [String: Double]
    public var triadGBs: [String: Double]

    public init(
        commandLine: String, preset: String?, machine: Machine, openblasCore: String, buildConfiguration: String,
        git: (commit: String?, dirty: Bool?), timing: TimingPolicy, seed: UInt64, start: String
    ) {
        (self.commandLine, self.preset, self.machine, self.openblasCore) = (commandLine, preset, machine, openblasCore)
        (self.buildConfiguration, self.gitCommit, self.gitDirty) = (buildConfiguration, git.commit, git.dirty)
        (self.timing, self.seed, self.start) = (timing, seed, start)
        (sgemmGflops, triadGBs) = ([:], [:])
    }

    /// "AMD EPYC, 2 logical cores, OpenBLAS Zen, commit 1234567" for figure titles and report headers.
    public var summary: String {
        "\(machine.cpuModel), \(machine.logicalCores) logical cores, OpenBLAS \(openblasCore), commit "
            + (gitCommit.map { String($0.prefix(7)) } ?? "unknown") + (gitDirty == true ? " (uncommitted changes)" : "")
    }
}

extension ProfileMetadata {
    /// The sidecar's path for a profile CSV: `Results/profile.csv` → `Results/profile.meta.json`.
    public static func path(for csv: String) -> String {
        (csv.hasSuffix(".csv") ? String(csv.dropLast(4)) : csv) + ".meta.json"
    }

    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    /// Reads a sidecar; nil when there is none.
    /// - Throws: ``UsageError`` when it exists but is not a profile's metadata.
    public static func read(from path: String) throws -> ProfileMetadata? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let data = Data(try TextFile.bytes(path))
        do { return try JSONDecoder().decode(ProfileMetadata.self, from: data) } catch {
            throw UsageError(
                "\(path) is not attnbench profile metadata (\(describe(error))); regenerate it or move it aside")
        }
    }
}
