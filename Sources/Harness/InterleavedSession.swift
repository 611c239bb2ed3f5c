import Foundation
import Reporting
import Results

#if canImport(Glibc)
    import Glibc
#endif

/// Measures the same points with two builds of attnbench (base and head) interleaved in one
/// session, so that a verdict on their difference never rests on runs made minutes or machines
/// apart.
///
/// Each round starts a fresh `measure-worker` process per side (so each round also draws a fresh
/// memory layout, and a lucky or unlucky layout of one process cannot bias every round), shuffles
/// the points, and for each point asks the two sides in random order, one after the other: only
/// one process measures at any moment, the other waits on its input. A worker answers one JSON
/// line per point (``WorkerReply``); its stderr goes to a log shown when it fails.
///
/// Cost: rounds × points × 2 measurements, each the policy's warm-ups and repetitions, plus two
/// process starts per round (~0.1 s).
public struct InterleavedSession {
    /// How one side is started: the binary and arguments added to its `measure-worker` command
    /// (`--inject-regression linear:time=0.25` on the head, to prove the check catches it).
    public struct Worker: Sendable {
        public var binary: String
        public var extraArguments: [String]

        public init(binary: String, extraArguments: [String] = []) {
            (self.binary, self.extraArguments) = (binary, extraArguments)
        }
    }

    public var base: Worker
    public var head: Worker
    /// Timing of one point in one round.
    public var policy: TimingPolicy
    /// Seed of the inputs (both sides measure the same inputs).
    public var seed: UInt64
    public var memoryBudget: Int?
    /// Seed of the random order of points and sides.
    public var orderSeed: UInt64

    public init(base: Worker, head: Worker, policy: TimingPolicy, seed: UInt64, orderSeed: UInt64) {
        (self.base, self.head, self.policy, self.seed, self.orderSeed) = (base, head, policy, seed, orderSeed)
    }

    /// Measures `points` in rounds `rounds` (numbered from 1; a later call continues the order's
    /// random stream from its first round number, so confirmation rounds draw new orders).
    /// - Throws: ``UsageError`` when a worker cannot start, refuses the plan or a point, or dies;
    ///   ``FileError`` when the scratch folder cannot be written.
    public func measure(
        _ points: [SweepPoint], rounds: ClosedRange<Int>, log: (String) -> Void = { _ in }
    ) throws -> [InterleavedMeasurement] {
        signal(SIGPIPE, SIG_IGN)  // a worker that dies must give an error here, not kill this process
        let scratch = try Self.makeScratchFolder()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let plan = scratch + "/plan.csv"
        try AtomicFile.write(bytes: Array(SweepPoint.keysText(points).utf8), to: plan, overwrite: true)
        var random = OrderRandom(seed: orderSeed &+ UInt64(rounds.lowerBound))
        var out: [InterleavedMeasurement] = []
        for round in rounds {
            let started = Date()
            var workers: [ComparedSide: WorkerProcess] = [:]
            for side in ComparedSide.allCases {
                let worker = side == .base ? base : head
                workers[side] = try WorkerProcess(
                    binary: worker.binary, arguments: arguments(plan: plan) + worker.extraArguments,
                    log: scratch + "/\(side.rawValue)-\(round).log", side: side)
            }
            defer { for worker in workers.values { worker.stop() } }
            for index in points.indices.shuffled(using: &random) {
                for side in ComparedSide.allCases.shuffled(using: &random) {
                    guard let worker = workers[side] else { continue }
                    let reply = try worker.measure(index)
                    guard let seconds = reply.seconds, !seconds.isEmpty else {
                        throw UsageError(
                            "the \(side.rawValue) build (\(worker.binary)) could not measure \(points[index].label): \(reply.error ?? "no repetitions")"
                        )
                    }
                    out.append(
                        InterleavedMeasurement(
                            point: points[index], side: side, round: round, seconds: seconds,
                            peakHeapBytes: reply.peakHeapBytes))
                }
            }
            for worker in workers.values { try worker.finish() }
            log(
                String(
                    format: "round %d of %d: %d points × 2 sides in %.1f s", round, rounds.upperBound,
                    points.count, Date().timeIntervalSince(started)))
        }
        return out
    }

    /// The worker command line: the plan and the timing, the same on both sides.
    func arguments(plan: String) -> [String] {
        var args = [
            "measure-worker", "--plan", plan, "--warmups", String(policy.warmups), "--min-reps",
            String(policy.minReps), "--min-time", String(policy.minSeconds), "--max-time", String(policy.maxSeconds),
            "--seed", String(seed),
        ]
        if let memoryBudget { args += ["--memory-budget", String(memoryBudget)] }
        return args
    }

    static func makeScratchFolder() throws -> String {
        var template = Array((NSTemporaryDirectory() + "/attnbench-interleave-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else {
            throw FileError(action: "create a folder in", path: NSTemporaryDirectory(), errno: errno)
        }
        return String(cString: made)
    }
}

/// The order of an interleaved session: SplitMix64, so that `--order-seed` repeats it.
struct OrderRandom: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// One running `measure-worker`: requests on its stdin, one JSON reply line per request on its stdout.
final class WorkerProcess {
    let binary: String
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private let logPath: String
    private let side: ComparedSide
    private var buffer = Data()

    init(binary: String, arguments: [String], log: String, side: ComparedSide) throws {
        self.binary = binary
        self.logPath = log
        self.side = side
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw UsageError("the \(side.rawValue) binary \(binary) does not exist or is not executable")
        }
        guard FileManager.default.createFile(atPath: log, contents: nil),
            let logHandle = FileHandle(forWritingAtPath: log)
        else { throw FileError(action: "create", path: log, errno: errno) }
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.standardInput = input
        process.standardOutput = output
        process.standardError = logHandle
        do { try process.run() } catch {
            throw UsageError("cannot start the \(side.rawValue) binary \(binary): \(error)")
        }
        try? logHandle.close()
    }

    /// Asks for point `index` and waits for its reply.
    func measure(_ index: Int) throws -> WorkerReply {
        do { try input.fileHandleForWriting.write(contentsOf: Data("\(index)\n".utf8)) } catch {
            throw failure("stopped before point \(index) was asked for")
        }
        guard let line = readLine() else { throw failure("stopped while measuring point \(index)") }
        guard let reply = try? JSONDecoder().decode(WorkerReply.self, from: line), reply.index == index else {
            throw failure("answered '\(oneLineText(line))' to point \(index), not a reply")
        }
        return reply
    }

    /// Closes its input and waits for it to exit; a non-zero exit is an error.
    func finish() throws {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw failure("exited with status \(process.terminationStatus)") }
    }

    /// Ends it whatever state it is in (after an error).
    func stop() {
        if process.isRunning {
            try? input.fileHandleForWriting.close()
            process.terminate()
            process.waitUntilExit()
        }
    }

    private func readLine() -> Data? {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffer[buffer.startIndex..<newline]
                buffer = Data(buffer[buffer.index(after: newline)...])
                return Data(line)
            }
            // availableData returns what the pipe holds (blocking until something or the end);
            // read(upToCount:) would wait for the whole count.
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { return nil }
            buffer.append(chunk)
        }
    }

    /// An error naming the side, the binary and the last line of its log (its own error message).
    private func failure(_ what: String) -> UsageError {
        stop()
        let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        let last = log.split(whereSeparator: \.isNewline).last.map(String.init) ?? "nothing on stderr"
        return UsageError(
            "the \(side.rawValue) build's worker (\(binary)) \(what): \(oneLineText(Data(last.utf8))); "
                + "an interleaved comparison needs two builds of attnbench that have `measure-worker`")
    }

    private func oneLineText(_ data: Data) -> String {
        String(decoding: data.prefix(300), as: UTF8.self).replacingOccurrences(of: "\n", with: " ")
    }
}
