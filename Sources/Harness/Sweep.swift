import AttentionKernels
import Foundation
import Profiling
import Reporting
import Results

/// Runs a sweep into a results file: plans every point first, calibrates sgemm once per thread
/// count, then measures and writes rows one by one (each flushed as it is written). With
/// `cycles` > 1 the grid is measured that many times, interleaved, and each point's row (its
/// fastest median) is written when its last cycle finishes.
public struct Sweep {
    public var spec: SweepSpec
    public var output: String
    public var resume = false
    public var overwrite = false
    public var quiet = false
    /// Wait for another run writing the same CSV to finish, instead of refusing.
    public var waitForLock = false
    public var commandLine = CommandLine.arguments.joined(separator: " ")
    public var buildConfiguration: String
    /// A deliberate regression, for testing the checker end to end.
    public var injection: RegressionInjection?
    /// Measure only this part of the grid (``Shard``); its assignment goes into the metadata.
    public var shard: Shard?
    /// The sgemm ceiling (GFLOP/s) at a thread count; tests pass a fixed value instead of timing
    /// a 1024³ sgemm.
    public var ceiling: @Sendable (Int) -> Double = { Calibration.sgemmGflops(threads: $0) }
    /// The system calls behind the hardware counters (the kernel's; tests make them fail or fake them).
    public var hardwareCounters = HardwareCounters.System.kernel

    public init(spec: SweepSpec, output: String, buildConfiguration: String) {
        self.spec = spec
        self.output = output
        self.buildConfiguration = buildConfiguration
    }

    /// What was done: rows measured, rows skipped (with a reason), rows already in the file.
    public struct Summary: Equatable {
        public var measured = 0, skipped = 0, alreadyDone = 0
    }

    /// The whole grid, and the points this run measures (all of them, or its shard's) with their
    /// positions in the grid, in run order. Validates the grid.
    public func plan() throws(UsageError) -> (grid: [SweepPoint], points: [(position: Int, point: SweepPoint)]) {
        let grid = try spec.points()
        return (
            grid,
            shard.map { $0.select(grid, policy: spec.policy) } ?? grid.enumerated().map { ($0.offset, $0.element) }
        )
    }

    /// Validates everything (grid, file, settings against a resumed run's), then runs. Throws
    /// ``UsageError`` before measuring anything when the input is unusable, ``FileError`` when a
    /// file cannot be written (rows already written stay).
    public func run(log: (String) -> Void = { _ in }) throws -> Summary {
        var spec = self.spec
        let (grid, planned) = try plan()
        let points = planned.map(\.point)
        let assignment = shard.map { s in
            ShardAssignment(
                index: s.index, count: s.count,
                planned: planned.map { PlannedPoint(position: $0.position, key: $0.point.keyFields) })
        }
        let metadataPath = RunMetadata.path(forCSV: output)
        let file = try ResultsFile(path: output, resume: resume, overwrite: overwrite, waitForLock: waitForLock)
        let previous = resume ? try RunMetadata.read(from: metadataPath) : nil
        if let previous {
            try Self.checkResumable(&spec, previous: previous, csv: output)
            try Self.checkSameShard(previous: previous, grid: GridIdentity(grid), shard: assignment, csv: output)
        }
        let budget = spec.effectiveMemoryBudget()
        var latencyFile = try TokenLatencyFile(forCSV: output, resume: resume)
        var sampleFile = try SampleFile(forCSV: output, resume: resume)
        var estimateFile = try EstimateCheckFile(forCSV: output, resume: resume)
        // Points already in the file are done, except rows skipped for memory that the budget now admits.
        let done = Set(
            file.existing.filter { row in
                !(row.status == .skipped && row.reason.hasPrefix("memory")
                    && PointPlan(row.point, memoryBudget: budget) == .run)
            }.map(\.point))
        let pending = points.filter { !done.contains($0) }
        var summary = Summary(alreadyDone: points.count - pending.count)

        var warnings: [String] = []
        let loadStart = Machine.loadAverage()
        let busy = pending.isEmpty ? nil : Machine.busyCores()
        if let busy, busy >= Machine.busyCoresLimit {
            warnings.append(
                "the machine is busy: other processes kept \(String(format: "%.2f", busy)) of its "
                    + "\(ProcessInfo.processInfo.activeProcessorCount) cores busy over the quarter second before the run (load average "
                    + "\(loadStart.map { String(format: "%.2f", $0[0]) } ?? "?")); times measured beside other work drift, "
                    + "so make reference runs on a quiet machine")
        }
        if spec.memoryBudget == nil && Machine.availableMemoryBytes() == nil {
            warnings.append(
                "cannot read MemAvailable from /proc/meminfo: the memory budget is 60% of an assumed 8 GiB; pass --memory-budget"
            )
        }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        for t in Set(points.map(\.threads)).sorted() where t > cores {
            warnings.append(
                "--threads \(t) is more than the \(cores) cores of this machine: its points time oversubscribed cores")
        }
        var ceilings: [Int: Double] = [:]
        for t in Set(pending.map(\.threads)).sorted() {
            try ComputeThreads.setChecked(t)  // OpenBLAS takes every thread count before anything is timed
            ceilings[t] = ceiling(t)
        }
        let git = RunMetadata.git()
        var metadata = RunMetadata(
            preset: spec.name, machine: .current(), libraries: RunMetadata.libraries(),
            buildConfiguration: buildConfiguration, gitCommit: git.commit, gitDirty: git.dirty, seed: spec.seed,
            timing: spec.policy, memoryBudgetBytes: budget,
            sgemmCeilingGflops: (previous?.sgemmCeilingGflops ?? [:]).merging(
                ceilings.map { (String($0.key), $0.value) }
            ) { $1 },
            calibrationGemm: RunMetadata.calibrationDescription,
            sessions: (previous?.sessions ?? []) + [
                .init(commandLine: commandLine, start: RunMetadata.now(), completed: false, pointsMeasured: 0)
            ])
        metadata.sessions[metadata.sessions.count - 1].loadAverageStart = loadStart
        metadata.sessions[metadata.sessions.count - 1].busyCoresStart = busy
        metadata.sessions[metadata.sessions.count - 1].commit = git.commit.map {
            String($0.prefix(10)) + (git.dirty == true ? "+dirty" : "")
        }
        metadata.grid = GridIdentity(grid)
        metadata.shard = assignment
        func warn(_ message: String) {
            log("warning: " + message)
            let last = metadata.sessions.count - 1
            metadata.sessions[last].warnings = (metadata.sessions[last].warnings ?? []) + [message]
        }
        warnings.forEach(warn)
        if let core = metadata.libraries.openblasCore?.warning {  // printed once at start-up (OpenBLASCore)
            let last = metadata.sessions.count - 1
            metadata.sessions[last].warnings = (metadata.sessions[last].warnings ?? []) + ["OpenBLAS core: " + core]
        }
        try metadata.write(to: metadataPath)
        log(
            "\(points.count) points (\(summary.alreadyDone) already in \(output)); memory budget \(formatBytes(budget)); "
                + "sgemm ceiling "
                + ceilings.sorted { $0.key < $1.key }.map {
                    String(format: "%.1f GF/s at %d thread(s)", $0.value, $0.key)
                }.joined(separator: ", "))

        var runner = PointRunner(policy: spec.policy, seed: spec.seed, ceilings: ceilings)
        runner.injection = injection
        runner.memoryBudget = budget
        runner.hardwareCounters = hardwareCounters
        let cycles = spec.policy.cycles
        let schedule = (0..<cycles).flatMap { cycle in pending.indices.map { (cycle, $0) } }
        var progress = Progress(points: schedule.map { pending[$0.1] }, quiet: quiet)
        var best: [Int: ResultRow] = [:]
        var calls: [Int: [[CallTime]]] = [:]  // every cycle's timed calls, by pending index
        var hardwareNotes: Set<String> = []  // why hardware counters are unavailable: said once per run
        for (step, (cycle, i)) in schedule.enumerated() {
            let point = pending[i]
            progress.starting(step + 1, of: schedule.count, point)
            switch PointPlan(
                point, memoryBudget: budget, timeLimit: spec.policy.maxSeconds, ceiling: ceilings[point.threads],
                estimateSteps: spec.estimateSteps)
            {
            case .skip(let reason):
                if cycle == 0 {
                    try file.append(ResultRow(point: point, status: .skipped, reason: reason, seed: spec.seed))
                    summary.skipped += 1
                }
            case .estimate(let steps):
                if cycle == 0 {  // an estimate is made once: it already spreads its steps over the run's time
                    try file.append(try runner.estimate(point, steps: steps).row)
                    summary.measured += 1
                }
            case .run:
                let row = try runner.measure(point)
                for message in row.warnings { warn("\(point.label): \(message)") }
                if let note = row.hardwareCountersNote, hardwareNotes.insert(note).inserted { warn(note) }
                if let kept = best[i], let keptMedian = kept.median, let median = row.median, keptMedian <= median {
                } else {
                    best[i] = row
                }
                calls[i, default: []].append(row.calls ?? [])
                if cycle == cycles - 1, let kept = best.removeValue(forKey: i) {
                    try sampleFile.append(point, cycles: calls.removeValue(forKey: i) ?? [])
                    if let samples = kept.tokenLatency { try latencyFile.append(point, samples) }
                    try file.append(kept)
                    summary.measured += 1
                    if let steps = spec.estimateSteps, point.isEstimable, let full = kept.median {
                        // The estimator's check: the same generation from sampled steps, beside its full time.
                        let e = try runner.estimate(point, steps: steps).estimate
                        try estimateFile.append(
                            EstimateCheckRow(
                                point: point.label, length: point.length, layers: point.layers ?? 1, fullMedian: full,
                                estimate: e.total, low: e.low, high: e.high, stepsSampled: e.samples))
                    }
                }
            }
            progress.finished(point)
            metadata.sessions[metadata.sessions.count - 1].pointsMeasured = summary.measured
            if !(metadata.sessions.last?.warnings ?? []).isEmpty { try metadata.write(to: metadataPath) }
        }
        progress.done()
        metadata.sessions[metadata.sessions.count - 1].end = RunMetadata.now()
        metadata.sessions[metadata.sessions.count - 1].loadAverageEnd = Machine.loadAverage()
        metadata.sessions[metadata.sessions.count - 1].completed = true
        try metadata.write(to: metadataPath)
        return summary
    }

    /// A shard is resumed only as the same shard of the same grid (`attnbench merge` relies on it); a run
    /// without a shard may resume with a grown or changed grid.
    static func checkSameShard(previous: RunMetadata, grid: GridIdentity, shard: ShardAssignment?, csv: String)
        throws(UsageError)
    {
        guard previous.shard != nil || shard != nil else { return }
        func text(_ s: ShardAssignment?, _ g: GridIdentity?) -> String {
            (s.map { "shard \($0.label)" } ?? "no shard")
                + (g.map { " of grid \($0.digest) (\($0.points) points)" } ?? "")
        }
        if previous.shard?.index != shard?.index || previous.shard?.count != shard?.count || previous.grid != grid {
            throw UsageError(
                "cannot resume \(csv): it was measured as \(text(previous.shard, previous.grid)), this run is \(text(shard, grid)); use the same grid and --shard, or another --output"
            )
        }
    }

    /// A resumed file must not mix measurements made under other settings: the seed and the timing
    /// policy must equal the first session's. The memory budget decides only which points run: an
    /// explicit larger one is taken (the rows skipped for memory that it admits are measured now,
    /// and the sidecar records it); a smaller one is refused, since rows already measured would
    /// exceed the budget the sidecar states. Without one, the run keeps the budget it was started with.
    static func checkResumable(_ spec: inout SweepSpec, previous: RunMetadata, csv: String) throws(UsageError) {
        func refuse(_ setting: String, _ was: String, _ now: String) -> UsageError {
            UsageError(
                "cannot resume \(csv): it was measured with \(setting) \(was), this run has \(now); use the same setting, or another --output"
            )
        }
        if previous.seed != spec.seed { throw refuse("--seed", "\(previous.seed)", "\(spec.seed)") }
        let (a, b) = (previous.timing, spec.policy)
        if a != b {
            func text(_ p: TimingPolicy) -> String {
                "warmups \(p.warmups), min-reps \(p.minReps), min-time \(p.minSeconds), max-time \(p.maxSeconds), cycles \(p.cycles)"
            }
            throw refuse("the timing policy", "(\(text(a)))", "(\(text(b)))")
        }
        if let budget = spec.memoryBudget {
            if budget < previous.memoryBudgetBytes {
                throw UsageError(
                    "cannot resume \(csv): it was measured with --memory-budget \(formatBytes(previous.memoryBudgetBytes)), this run has a smaller \(formatBytes(budget)); give the same or a larger budget, or another --output"
                )
            }
        } else {
            spec.memoryBudget = previous.memoryBudgetBytes
        }
    }
}
