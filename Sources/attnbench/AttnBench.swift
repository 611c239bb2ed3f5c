import ArgumentParser
import Foundation

@main
struct AttnBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attnbench",
        abstract: "Measures how self-attention scales: standard softmax, Linformer and linear attention on the CPU.",
        subcommands: [Verify.self, Eval.self, Run.self, MaxBatchCommand.self, Check.self, BaselineCommand.self, Plot.self, ReportCommand.self, Kernels.self])
}

/// Bad user input found after argument parsing (file contents, shapes): one line on stderr, exit 64.
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension ParsableCommand {
    /// Runs `body`, turning a ``UsageError`` (or any other input error) into one line on stderr and
    /// exit code 64 (`EX_USAGE`), the code swift-argument-parser uses for validation failures.
    func reportingUsageErrors(_ body: () throws -> Void) throws {
        do { try body() } catch let error as ExitCode { throw error } catch {
            FileHandle.standardError.write(Data("attnbench: error: \(error)\n".utf8))
            throw ExitCode.validationFailure
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
