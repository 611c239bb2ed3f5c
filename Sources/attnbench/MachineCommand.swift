import ArgumentParser
import Foundation
import Harness
import Reporting
import Results

/// `attnbench machine`: what a run's sidecar would record of this machine and its libraries,
/// OpenBLAS's core among them.
struct MachineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "machine",
        abstract:
            "Print this machine and its libraries as a run's sidecar records them (JSON), OpenBLAS's core included.",
        discussion: """
            OpenBLAS picks its kernels ("core") when it loads. Commands that run kernels check the \
            choice first: when OpenBLAS fell back to a core older than the best this CPU runs (its \
            Prescott kernels on a CPU model it does not know), attnbench starts again with \
            OPENBLAS_CORETYPE set to that best core, unless OPENBLAS_CORETYPE was set by the user. \
            --openblas-core NAME (given to any of verify, eval, run, max-batch, kernels, baseline, \
            machine) chooses the core; a core the CPU cannot run is refused.
            """)

    struct Description: Encodable {
        var machine: Machine
        var libraries: RunMetadata.Libraries
    }

    func run() throws {
        try reportingUsageErrors {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = try encoder.encode(Description(machine: .current(), libraries: RunMetadata.libraries()))
            print(String(decoding: data, as: UTF8.self))
        }
    }
}
