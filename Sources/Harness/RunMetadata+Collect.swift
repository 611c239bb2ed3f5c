import AttentionKernels
import Foundation
import Profiling
import Results

extension RunMetadata {
    /// What `calibrationGemm` says of ``Calibration``.
    public static let calibrationDescription =
        "\(Calibration.size)x\(Calibration.size)x\(Calibration.size) sgemm, best of 3 medians"

    public static func libraries() -> Libraries {
        Libraries(
            openblasConfig: BLAS.config, openblasCoreName: BLAS.coreName, openblasCore: OpenBLASCore.record,
            openblasParallel: BLAS.parallelMode,
            jemallocVersion: AllocatorProbe.version, jemallocOptions: AllocatorProbe.options,
            swiftVersion: swiftVersion())
    }

    /// `swift --version`'s first line when a toolchain is on the PATH, else the compiler this
    /// binary was built with.
    static func swiftVersion() -> String {
        if let line = run("swift", ["--version"])?.split(separator: "\n").first(where: { $0.contains("Swift version") })
        {
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
            !commit.isEmpty
        else { return (nil, nil) }
        let status =
            run(
                "git",
                [
                    "status", "--porcelain", "--untracked-files=no", "--", ".",
                    ":(exclude)Results", ":(exclude)Plots", ":(exclude)Baselines",
                ]) ?? ""
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
}
