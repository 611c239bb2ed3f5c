import ArgumentParser
import Foundation
import Harness
import Reporting
import Results

/// `attnbench measure-worker` (hidden): one side of an interleaved comparison
/// (``InterleavedSession``). It reads the plan (a CSV of point keys), then answers each line of
/// stdin, a point's index in the plan, with one JSON line on stdout: the point's timed repetitions
/// and peak heap (``WorkerReply``), or why it could not be measured. It ends at the end of its input.
struct MeasureWorker: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "measure-worker",
        abstract: "One side of `compare --interleave`: measures the plan's points as stdin asks, one JSON line each.",
        shouldDisplay: false)

    @Option(help: "CSV of the point keys, as `run --plan` prints them.") var plan: String
    @Option(help: "Untimed runs before timing.") var warmups = 1
    @Option(help: "Minimum timed repetitions.") var minReps = 5
    @Option(help: "Minimum timed seconds per point.") var minTime = 0.1
    @Option(help: "Maximum seconds per point.") var maxTime = 5.0
    @Option(help: "Seed for inputs and projections.") var seed: UInt64 = 42
    @Option(help: "Heap a point may need, in bytes.") var memoryBudget: Int?
    @Option(help: .hidden) var injectRegression: String?
    @Flag(help: "Allow a debug build (for tests of the protocol).") var allowDebug = false

    func run() throws {
        try reportingUsageErrors {
            if buildConfiguration == "debug" && !allowDebug {
                throw UsageError("this is a debug build, whose timings mean nothing; build with `make build`")
            }
            guard warmups >= 0, minReps >= 1, minTime >= 0, maxTime > 0 else {
                throw UsageError("measure-worker: warm-ups ≥ 0, min-reps ≥ 1, min-time ≥ 0 and max-time > 0")
            }
            guard FileManager.default.fileExists(atPath: plan) else { throw UsageError("\(plan) does not exist") }
            let points = try SweepPoint.parseKeys(try TextFile.read(plan), source: plan)
            var runner = PointRunner(
                policy: TimingPolicy(warmups: warmups, minReps: minReps, minSeconds: minTime, maxSeconds: maxTime),
                seed: seed, ceilings: [:])
            runner.injection = try injectRegression.map { try RegressionInjection($0) }
            runner.memoryBudget = memoryBudget
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            while let line = Swift.readLine() {
                var reply = WorkerReply(index: -1)
                if let index = Int(line.trimmingCharacters(in: .whitespaces)), points.indices.contains(index) {
                    reply.index = index
                    do {
                        let row = try runner.measure(points[index])
                        reply.seconds = row.calls?.map(\.seconds)
                        reply.peakHeapBytes = row.peakHeapBytes
                    } catch let error as any MachineFault {
                        throw error
                    } catch {
                        reply.error = "\(error)"
                    }
                } else {
                    reply.error = "'\(line.prefix(40))' is not the index of a point of the plan (0..<\(points.count))"
                }
                let data = try encoder.encode(reply)
                FileHandle.standardOutput.write(data + Data("\n".utf8))
            }
        }
    }
}
