import Foundation
import Reporting
import Results

/// The JSON Google Benchmark writes with `--benchmark_format=json` (google/benchmark
/// `src/json_reporter.cc`, `docs/user_guide.md`), so its `tools/compare.py` (which runs its own
/// Mann–Whitney U test on the repetitions) and dashboards that read it take this suite's runs.
///
/// - `context`: `date` (the first session's start), `host_name`, `executable`, `num_cpus`,
///   `mhz_per_cpu`, `cpu_scaling_enabled` (cpufreq governor other than `performance`), `caches`
///   (`type`, `level`, `size` in bytes, `num_sharing`), `library_version` (this suite and its commit),
///   `library_build_type`, `json_schema_version` 1, then this run's facts as extra string keys, as
///   Google Benchmark writes custom context. A fact the metadata does not have is left out.
/// - `benchmarks`: per measured point, one `iteration` entry per timed repetition (every cycle's:
///   `repetition_index` counts them all) with `iterations` 1, then `aggregate` entries `_mean`,
///   `_median`, `_stddev` (sample standard deviation) and `_cv` (stddev ÷ mean, unit `percentage`,
///   as a fraction) over those repetitions, as Google Benchmark computes them for
///   `--benchmark_repetitions` (and, like it, only for 2 repetitions or more). Times are in `ns`: `real_time` the wall time of one call, `cpu_time`
///   the process's CPU time over it (every thread, like `MeasureProcessCPUTime()`). `threads` is 1:
///   one caller; the point's compute threads are in its name (`t=`). Counters, per repetition:
///   `gflops` (the cost model's FLOPs ÷ that repetition's time), `efficiency` (÷ the run's sgemm
///   ceiling) and `peak_heap_bytes` (jemalloc's peak over one call, the same for every repetition);
///   then the operating system's counters per call, named as the CSV's columns:
///   `minor_faults_per_call`, `major_faults_per_call`, `vol_ctx_switches_per_call`,
///   `invol_ctx_switches_per_call`, `user_cpu_ms_per_call`, `sys_cpu_ms_per_call`, and, when the run
///   had hardware counters, `cycles_per_call`, `instructions_per_call`, `llc_misses_per_call`. They
///   are what Google Benchmark writes for a counter with `kAvgIterations` (per iteration; each
///   entry here is one iteration, one call) — its JSON carries a counter's value only, not its
///   flags — and, since the samples file keeps no per-call counts, each is the row's mean over its
///   timed calls, the same for every repetition (so its `_stddev` and `_cv` are 0, as for
///   `peak_heap_bytes`). A counter the row lacks (not measured, or a run made before them) is left out.
///   A point's `family_index` is its series (every key but n), `per_family_instance_index` its
///   place in that series.
///
/// The aggregates are over every repetition, so `_median` can differ from the CSV's
/// `time_median_ms`, which is the fastest cycle's median.
struct GoogleBenchmarkExport {
    let input: ExportInput
    init(_ input: ExportInput) { self.input = input }

    func document() throws(UsageError) -> JSON {
        .object([("context", context()), ("benchmarks", .array(try benchmarks()))])
    }

    func context() -> JSON {
        guard let m = input.metadata else { return .object([("json_schema_version", .integer(1))]) }
        var c: [(key: String, value: JSON)] = []
        if let start = m.sessions.first?.start {
            c.append(("date", .string(start.hasSuffix("Z") ? String(start.dropLast()) + "+00:00" : start)))
        }
        if let host = m.machine.hostName { c.append(("host_name", .string(host))) }
        c.append(("executable", .string("attnbench")))
        c.append(("num_cpus", .integer(m.machine.logicalCores)))
        if let mhz = m.machine.mhzPerCPU { c.append(("mhz_per_cpu", .integer(mhz))) }
        if let governor = m.machine.governor { c.append(("cpu_scaling_enabled", .bool(governor != "performance"))) }
        if let caches = m.machine.caches {
            c.append(
                (
                    "caches",
                    .array(
                        caches.map { cache in
                            .object([
                                ("type", .string(cache.type)), ("level", .integer(cache.level)),
                                ("size", .integer(cache.sizeBytes)),
                                ("num_sharing", .integer(cache.sharedBy)),
                            ])
                        })
                ))
        }
        c.append(("library_version", .string("attnbench" + (m.gitCommit.map { " " + $0.prefix(12) } ?? ""))))
        c.append(("library_build_type", .string(m.buildConfiguration)))
        c.append(("json_schema_version", .integer(1)))
        var extra: [(String, String)] = [
            ("cpu_model", m.machine.cpuModel), ("preset", m.preset), ("seed", String(m.seed)),
            ("openblas", m.libraries.openblasConfig), ("swift", m.libraries.swiftVersion), ("source", input.table.path),
        ]
        if let jemalloc = m.libraries.jemallocVersion { extra.append(("jemalloc", jemalloc)) }
        if let commit = m.gitCommit {
            extra.append(("git_commit", commit + (m.gitDirty == true ? " (uncommitted changes)" : "")))
        }
        return .object(c + extra.map { ($0.0, .string($0.1)) })
    }

    func benchmarks() throws(UsageError) -> [JSON] {
        let rows = input.exported
        let missing = rows.filter { (input.samples[$0.point] ?? []).isEmpty }
        if let first = missing.first {
            throw UsageError(
                "google-benchmark JSON lists every repetition, but \(missing.count) measured point(s) of \(input.table.path) have no samples (first: \(first.point.benchmarkName)); the .samples.csv beside it is missing or incomplete (runs made before samples were kept have none): re-run, or export --format bencher or github-action-benchmark"
            )
        }
        var families: [SweepPoint: (index: Int, members: Int)] = [:]
        var entries: [JSON] = []
        for row in rows {
            let family = families[row.point.series] ?? (families.count, 0)
            families[row.point.series] = (family.index, family.members + 1)
            entries +=
                Entries(
                    row: row, samples: input.samples[row.point] ?? [], family: family.index, instance: family.members
                ).all
        }
        return entries
    }
}

/// The entries of one point: its repetitions, then the aggregates.
private struct Entries {
    let row: ResultRow
    let samples: [RepetitionSample]
    let family: Int
    let instance: Int

    var name: String { row.point.benchmarkName }

    /// Per repetition: wall and CPU seconds, and the counters.
    struct Values {
        var real: Double
        var cpu: Double?
        var counters: [(String, Double)]
    }

    func values(_ s: RepetitionSample) -> Values {
        var counters: [(String, Double)] = []
        if let gflop = row.modelGflop {
            counters.append(("gflops", gflop / s.time.seconds))
            if let ceiling = row.ceilingGflops, ceiling > 0 {
                counters.append(("efficiency", gflop / s.time.seconds / ceiling))
            }
        }
        if let heap = row.peakHeapBytes { counters.append(("peak_heap_bytes", Double(heap))) }
        counters += Self.perCallCounters(row)
        return Values(real: s.time.seconds, cpu: s.time.cpuSeconds, counters: counters)
    }

    /// The row's per-call counters that it has, under their CSV names (CPU time in ms, as there).
    static func perCallCounters(_ row: ResultRow) -> [(String, Double)] {
        let fields: [(String, Double?)] = [
            ("minor_faults_per_call", row.minorFaultsPerCall), ("major_faults_per_call", row.majorFaultsPerCall),
            ("vol_ctx_switches_per_call", row.voluntarySwitchesPerCall),
            ("invol_ctx_switches_per_call", row.involuntarySwitchesPerCall),
            ("user_cpu_ms_per_call", row.userCPUPerCall.map { $0 * 1e3 }),
            ("sys_cpu_ms_per_call", row.systemCPUPerCall.map { $0 * 1e3 }),
            ("cycles_per_call", row.cyclesPerCall), ("instructions_per_call", row.instructionsPerCall),
            ("llc_misses_per_call", row.llcMissesPerCall),
        ]
        return fields.compactMap { name, value in value.map { (name, $0) } }
    }

    func head(runType: String) -> [(key: String, value: JSON)] {
        [
            ("name", .string(name)), ("family_index", .integer(family)),
            ("per_family_instance_index", .integer(instance)),
            ("run_name", .string(name)), ("run_type", .string(runType)), ("repetitions", .integer(samples.count)),
        ]
    }

    /// real_time, cpu_time (when every repetition has one), time_unit, then the counters.
    func times(_ real: Double, _ cpu: Double?, unit: Double, counters: [(String, Double)]) -> [(
        key: String, value: JSON
    )] {
        var fields: [(key: String, value: JSON)] = [("real_time", .number(real * unit))]
        if let cpu { fields.append(("cpu_time", .number(cpu * unit))) }
        fields.append(("time_unit", .string("ns")))
        return fields + counters.filter { $0.1.isFinite }.map { ($0.0, .number($0.1)) }
    }

    var all: [JSON] {
        let values = samples.map(self.values)
        var out: [JSON] = values.enumerated().map { i, v in
            .object(
                head(runType: "iteration") + [
                    ("repetition_index", .integer(i)), ("threads", .integer(1)), ("iterations", .integer(1)),
                ]
                    + times(v.real, v.cpu, unit: 1e9, counters: v.counters))
        }
        guard values.count >= 2 else { return out }  // Google Benchmark aggregates 2 repetitions or more
        let cpus = values.compactMap(\.cpu)
        let counterNames = values.first?.counters.map(\.0) ?? []
        for (aggregate, statistic) in Self.statistics {
            let isPercentage = aggregate == "cv"
            let counters = counterNames.enumerated().map { c, counter in
                (counter, statistic(values.map { $0.counters[c].1 }))
            }
            out.append(
                .object(
                    head(runType: "aggregate").map { $0.key == "name" ? ($0.key, .string(name + "_" + aggregate)) : $0 }
                        + [
                            ("threads", .integer(1)), ("aggregate_name", .string(aggregate)),
                            ("aggregate_unit", .string(isPercentage ? "percentage" : "time")),
                            ("iterations", .integer(values.count)),
                        ]
                        + times(
                            statistic(values.map(\.real)), cpus.count == values.count ? statistic(cpus) : nil,
                            unit: isPercentage ? 1 : 1e9, counters: counters)))
        }
        return out
    }

    /// Google Benchmark's default aggregates (`src/statistics.cc`): mean, median (mean of the two
    /// middle values for an even count), sample standard deviation, and cv = stddev ÷ mean.
    static let statistics: [(String, @Sendable ([Double]) -> Double)] = [
        ("mean", mean), ("median", { SampleStatistics($0)?.median ?? .nan }), ("stddev", stddev),
        ("cv", { xs in mean(xs) == 0 ? 0 : stddev(xs) / mean(xs) }),
    ]

    static func mean(_ xs: [Double]) -> Double { xs.isEmpty ? .nan : xs.reduce(0, +) / Double(xs.count) }

    static func stddev(_ xs: [Double]) -> Double {
        guard xs.count > 1 else { return 0 }
        let m = mean(xs)
        return (xs.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(xs.count - 1)).squareRoot()
    }
}
