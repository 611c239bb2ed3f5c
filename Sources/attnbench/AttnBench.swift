import ArgumentParser
import Foundation
import Reporting

@main
struct AttnBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attnbench",
        abstract:
            "Measures how self-attention scales: standard softmax, flash (exact, tiled), Linformer and linear attention on the CPU.",
        subcommands: [
            Verify.self, Eval.self, Run.self, MaxBatchCommand.self, ProfileMemoryCommand.self, Check.self,
            BaselineCommand.self, Plot.self,
            ReportCommand.self,
            Kernels.self, Compare.self, Export.self, Merge.self, MachineCommand.self, ClaimsCommand.self,
            ReadmeCommand.self, MeasureWorker.self, Profile.self, ProfileReportCommand.self,
        ])
}

extension ParsableCommand {
    /// Runs `body`, turning an error into one line on stderr and an exit code: a ``MachineFault``
    /// (jemalloc or OpenBLAS failed: the machine, not the input) exits 70 (`EX_SOFTWARE`); a
    /// ``FileError`` (the file system failed: disk full, EIO, an unwritable folder) exits 74
    /// (`EX_IOERR`); any other error is bad input (a ``UsageError``, a corrupt file, a kernel that
    /// cannot be built) and exits 64 (`EX_USAGE`), the code swift-argument-parser uses for
    /// validation failures.
    func reportingUsageErrors(_ body: () throws -> Void) throws {
        do { try body() } catch let error as ExitCode { throw error } catch {
            let line = "\(error)".replacingOccurrences(of: "\n", with: " ")
            let fault = error is any MachineFault
            FileHandle.standardError.write(Data("attnbench: \(fault ? "machine fault" : "error"): \(line)\n".utf8))
            throw fault ? ExitCode(70) : error is FileError ? ExitCode(74) : ExitCode.validationFailure
        }
    }
}

/// "release" or "debug": how this binary was compiled.
let buildConfiguration: String = {
    #if DEBUG
        return "debug"
    #else
        return "release"
    #endif
}()
