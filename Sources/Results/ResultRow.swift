/// One row of a results CSV: a point, its status and what was measured. Units are in the column
/// names. The same type is written by a sweep and read back by plots, report and check.
///
/// Columns (also documented in the README):
/// - the key columns of ``SweepPoint``; `scope` is `core` (the attention mechanism alone) or `layer`
///   (`layers` encoder layers around it, FFN `ffn_mult`·d_model wide); `mode` is `forward` (one call
///   over n tokens) or `decode` (generating n tokens one at a time, `prompt` of them given, by
///   `decoder`); decode rows are causal;
/// - `time_*_ms`: wall time of one call (monotonic clock), over `reps` timed repetitions: a forward
///   pass, or the whole generation of a decode point;
///   `time_ci95_*_ms` is the distribution-free 95% interval of the median; `noisy` is true when
///   that interval is wider than 10% of the median or fewer than 6 reps were possible;
/// - `tokens_per_s` = batch · n / median time: tokens through the layer per second (decode: tokens
///   generated per second, over all sequences of the batch);
/// - `model_gflop`: the cost model's FLOPs per call; `gflops` = model_gflop / median time;
///   `ceiling_gflops`: sgemm (1024³) measured in the same run at the same thread count;
///   `efficiency` = gflops / ceiling_gflops;
/// - `peak_heap_bytes`: jemalloc's thread.peak across one call (what it allocated on top of its
///   inputs: intermediates, output, OpenBLAS's job array); `model_bytes`: the cost model's figure for
///   the same (intermediates + output); `param_bytes`: the parameters built before the call (layer
///   weights, Linformer's E and F, a decoder's projections), which neither figure includes;
/// - `peak_rss_bytes`: the process's VmHWM during that call, after jemalloc returned its freed pages
///   and clear_refs reset the mark: the call's own pages plus what is live (inputs, weights, the
///   binary, OpenBLAS's own buffers);
/// - `approx_rel_error`: Linformer only, ‖O_linformer − O_exact‖_F / ‖O_exact‖_F over sampled rows;
/// - `*_per_call`: what the operating system counted over the same timed calls as `time_*_ms`
///   (`getrusage(RUSAGE_SELF)` before and after each call, so the whole process: every thread,
///   OpenBLAS's workers included), summed over the `reps` calls and divided by `reps` — means, so
///   fractional: `minor_faults_per_call` and `major_faults_per_call` (pages mapped without I/O, and
///   read from disk), `vol_ctx_switches_per_call` (a thread waited: a worker going to sleep) and
///   `invol_ctx_switches_per_call` (the scheduler took the CPU away: other work on the machine),
///   `user_cpu_ms_per_call` and `sys_cpu_ms_per_call` (their sum is exact; the split is sampled at
///   the timer tick, a proportion for calls shorter than a few ticks);
/// - `hw_counters`: `measured` when `perf_event_open` counted the calls, `unavailable` when the
///   machine offers no hardware counters (VMs without a PMU; why is in the run's log and sidecar);
///   then `cycles_per_call`, `instructions_per_call` and `llc_misses_per_call` (user space, every
///   thread, per-call means like the above), empty when unavailable.
///
/// A row that was not timed (skipped, or estimated from sampled steps) leaves all of these empty, and
/// files written before they existed read with them empty.
public struct ResultRow: Equatable, Sendable {
    public enum Status: String, Sendable { case ok, skipped }

    public var point: SweepPoint
    public var status: Status
    public var reason = ""
    public var reps: Int?
    /// Seconds: median, min, mean, stddev, CI low, CI high.
    public var median, min, mean, stddev, ciLow, ciHigh: Double?
    public var noisy: Bool?
    public var tokensPerSecond: Double?
    public var modelGflop: Double?
    public var gflops, ceilingGflops, efficiency: Double?
    public var peakHeapBytes, modelBytes, peakRSSBytes: Int?
    /// Bytes of the point's parameters (weights, Linformer's E and F, a decoder's projections), built
    /// before the measured call and not in `peak_heap_bytes`.
    public var paramBytes: Int?
    public var approxRelError: Double?
    /// Per timed call, means over the `reps` calls, whole process (getrusage(RUSAGE_SELF)): page
    /// faults, context switches, and CPU seconds (written as ms).
    public var minorFaultsPerCall, majorFaultsPerCall: Double?
    public var voluntarySwitchesPerCall, involuntarySwitchesPerCall: Double?
    public var userCPUPerCall, systemCPUPerCall: Double?
    /// Whether the hardware counters below were measured; nil for a row not timed.
    public var hardwareCounters: HardwareCounterStatus?
    /// Per timed call, means over the `reps` calls, user space, whole process (perf_event_open).
    public var cyclesPerCall, instructionsPerCall, llcMissesPerCall: Double?
    public var seed: UInt64
    /// Decode points: per-token latency against position (written to the `.tokens.csv` beside the
    /// CSV, not a column).
    public var tokenLatency: [LatencySample]?
    /// Every timed call behind the timing columns, in order (written to the `.samples.csv` beside
    /// the CSV, with the calls of the point's other cycles; not a column).
    public var calls: [CallTime]?
    /// Why a measurement of this point is missing (a probe that failed), for the run's log and
    /// sidecar; not a column.
    public var warnings: [String] = []
    /// Why `hw_counters` is `unavailable` (perf_event_open's errno and what it means), for the run's
    /// log and sidecar, which say it once per run; not a column.
    public var hardwareCountersNote: String?

    public init(point: SweepPoint, status: Status, reason: String = "", seed: UInt64) {
        self.point = point
        self.status = status
        self.reason = reason
        self.seed = seed
    }

    public var isOK: Bool { status == .ok }

    /// Sets the `*_per_call` columns to the means over `calls`: the operating system's when every
    /// call has them; the hardware counts when every call has them (`hw_counters` `measured`), else
    /// `hw_counters` `unavailable` and those columns empty.
    public mutating func setCounters(_ calls: [CallCounters?]) {
        guard !calls.isEmpty else { return }
        let n = Double(calls.count)
        func mean(_ value: (CallCounters) -> Double?) -> Double? {
            var sum = 0.0
            for call in calls {
                guard let call, let x = value(call) else { return nil }
                sum += x
            }
            return sum / n
        }
        minorFaultsPerCall = mean { $0.system.map { Double($0.minorFaults) } }
        majorFaultsPerCall = mean { $0.system.map { Double($0.majorFaults) } }
        voluntarySwitchesPerCall = mean { $0.system.map { Double($0.voluntarySwitches) } }
        involuntarySwitchesPerCall = mean { $0.system.map { Double($0.involuntarySwitches) } }
        userCPUPerCall = mean { $0.system?.userSeconds }
        systemCPUPerCall = mean { $0.system?.systemSeconds }
        cyclesPerCall = mean { $0.hardware?.cycles }
        instructionsPerCall = mean { $0.hardware?.instructions }
        llcMissesPerCall = mean { $0.hardware?.llcMisses }
        hardwareCounters = cyclesPerCall == nil ? .unavailable : .measured
        if hardwareCounters == .unavailable { (instructionsPerCall, llcMissesPerCall) = (nil, nil) }
    }

    /// Whether the time is an estimate from sampled steps (the harness's `StratifiedSteps`), not a
    /// measured call: its `reason` says so.
    public var isEstimate: Bool { status == .ok && reason.hasPrefix("estimated from ") }

    /// Every column, key columns first.
    public static let table: [Column<ResultRow>] =
        SweepPoint.columns.map { $0.lifted(\.point) } + [
            .enumeration("status", \.status),
            .string("reason", \.reason),
            .optionalInt("reps", \.reps),
            .double("time_median_ms", \.median, format: "%.6f", scale: 1e3),
            .double("time_min_ms", \.min, format: "%.6f", scale: 1e3),
            .double("time_mean_ms", \.mean, format: "%.6f", scale: 1e3),
            .double("time_stddev_ms", \.stddev, format: "%.6f", scale: 1e3),
            .double("time_ci95_low_ms", \.ciLow, format: "%.6f", scale: 1e3),
            .double("time_ci95_high_ms", \.ciHigh, format: "%.6f", scale: 1e3),
            .optionalBool("noisy", \.noisy),
            .double("tokens_per_s", \.tokensPerSecond, format: "%.6g"),
            .double("model_gflop", \.modelGflop, format: "%.6g"),
            .double("gflops", \.gflops, format: "%.3f"),
            .double("ceiling_gflops", \.ceilingGflops, format: "%.3f"),
            .double("efficiency", \.efficiency, format: "%.4f"),
            .optionalInt("peak_heap_bytes", \.peakHeapBytes),
            .optionalInt("model_bytes", \.modelBytes),
            .optionalInt("param_bytes", \.paramBytes),
            .optionalInt("peak_rss_bytes", \.peakRSSBytes),
            .double("approx_rel_error", \.approxRelError, format: "%.6g"),
            .double("minor_faults_per_call", \.minorFaultsPerCall, format: "%.6g"),
            .double("major_faults_per_call", \.majorFaultsPerCall, format: "%.6g"),
            .double("vol_ctx_switches_per_call", \.voluntarySwitchesPerCall, format: "%.6g"),
            .double("invol_ctx_switches_per_call", \.involuntarySwitchesPerCall, format: "%.6g"),
            .double("user_cpu_ms_per_call", \.userCPUPerCall, format: "%.6f", scale: 1e3),
            .double("sys_cpu_ms_per_call", \.systemCPUPerCall, format: "%.6f", scale: 1e3),
            .optionalEnumeration("hw_counters", \.hardwareCounters),
            .double("cycles_per_call", \.cyclesPerCall, format: "%.6g"),
            .double("instructions_per_call", \.instructionsPerCall, format: "%.6g"),
            .double("llc_misses_per_call", \.llcMissesPerCall, format: "%.6g"),
            .uint64("seed", \.seed),
        ]

    /// The header names.
    public static let columns = RowFile.header(table)
    /// The key columns' names (the point), a prefix of ``columns``.
    public static let keyColumns = RowFile.header(SweepPoint.columns)

    /// The fields in ``columns`` order; a value that was not measured is an empty field, never 0.
    public var fields: [String] { RowFile.fields(self, Self.table) }

    /// A placeholder that rows are read into.
    public static let empty = ResultRow(point: .empty, status: .ok, seed: 0)

    /// Reads one row from its fields (nil when a field does not parse).
    public init?(fields: [String]) {
        guard fields.count == Self.table.count else { return nil }
        var row = Self.empty
        for (column, field) in zip(Self.table, fields) where !column.parse(field, into: &row) { return nil }
        self = row
    }
}
