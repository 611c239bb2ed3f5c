import Foundation

/// One CSV row: a point, its status and what was measured. Units are in the column names.
///
/// Columns (also documented in the README):
/// - `mode`: `forward` (one attention call over n tokens) or `decode` (generating n tokens one at a
///   time, `prompt` of them given); decode rows are causal;
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
///   the same (intermediates + output);
/// - `peak_rss_bytes`: the process's VmHWM during that call (after clear_refs), which also sees
///   OpenBLAS's own buffers, the inputs and pages jemalloc keeps;
/// - `approx_rel_error`: Linformer only, ‖O_linformer − O_exact‖_F / ‖O_exact‖_F over sampled rows.
public struct ResultRow: Equatable, Sendable {
    public static let keyColumns = [
        "mechanism", "mode", "causal", "sharing", "n", "k", "prompt", "batch", "heads", "d", "threads",
    ]
    public static let columns = keyColumns + [
        "status", "reason", "reps",
        "time_median_ms", "time_min_ms", "time_mean_ms", "time_stddev_ms", "time_ci95_low_ms", "time_ci95_high_ms",
        "noisy", "tokens_per_s", "model_gflop", "gflops", "ceiling_gflops", "efficiency",
        "peak_heap_bytes", "model_bytes", "peak_rss_bytes", "approx_rel_error", "seed",
    ]

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
    public var approxRelError: Double?
    public var seed: UInt64
    /// Decode points: per-token latency against position (written to the `.tokens.csv` beside the CSV).
    public var tokenLatency: [TokenLatency.Sample]?

    public init(point: SweepPoint, status: Status, reason: String = "", seed: UInt64) {
        self.point = point
        self.status = status
        self.reason = reason
        self.seed = seed
    }

    /// The fields in ``columns`` order; a value that was not measured is an empty field, never 0.
    public var fields: [String] {
        func ms(_ s: Double?) -> String { s.map { String(format: "%.6f", $0 * 1e3) } ?? "" }
        func num(_ x: Double?, _ format: String) -> String { x.map { String(format: format, $0) } ?? "" }
        return point.keyFields + [
            status.rawValue, reason, reps.map(String.init) ?? "",
            ms(median), ms(min), ms(mean), ms(stddev), ms(ciLow), ms(ciHigh),
            noisy.map { String($0) } ?? "", num(tokensPerSecond, "%.6g"),
            num(modelGflop, "%.6g"), num(gflops, "%.3f"), num(ceilingGflops, "%.3f"), num(efficiency, "%.4f"),
            peakHeapBytes.map(String.init) ?? "", modelBytes.map(String.init) ?? "", peakRSSBytes.map(String.init) ?? "",
            num(approxRelError, "%.6g"), String(seed),
        ]
    }
}
