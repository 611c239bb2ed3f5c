import ArgumentParser
import Foundation
import Harness
import Reporting

extension AttnBench {
    /// The commands that run OpenBLAS: they start on the best core the CPU runs (``OpenBLASCore``).
    static let blasCommands: Set<String> = [
        "verify", "eval", "run", "max-batch", "kernels", "baseline", "machine", "measure-worker",
    ]

    /// The entry point: chooses OpenBLAS's core (which may start the process again, before anything
    /// else has run) for the commands that use it or when `--openblas-core` is given, says so once
    /// on stderr when the core is not OpenBLAS's own choice or is older than the CPU's best, then
    /// parses and runs the command.
    static func main() {
        var arguments = Array(CommandLine.arguments.dropFirst())
        let named = arguments.contains { $0 == "--openblas-core" || $0.hasPrefix("--openblas-core=") }
        if named || blasCommands.contains(arguments.first ?? "") {
            do { arguments = try OpenBLASCore.prepare(arguments) } catch {
                FileHandle.standardError.write(Data("attnbench: error: \(error)\n".utf8))
                Foundation.exit(ExitCode.validationFailure.rawValue)
            }
            let record = OpenBLASCore.record
            if let warning = record.warning {
                FileHandle.standardError.write(Data("attnbench: warning: OpenBLAS core: \(warning)\n".utf8))
            } else if record.chosenBy == "attnbench" {
                FileHandle.standardError.write(
                    Data(
                        ("attnbench: note: OpenBLAS picked its \(record.detected) kernels on "
                            + "this CPU; restarted on \(record.running), the best it runs (--openblas-core NAME or "
                            + "OPENBLAS_CORETYPE choose another)\n").utf8))
            }
        }
        main(arguments)
    }
}
