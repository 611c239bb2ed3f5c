/// One phase of one point, as `attnbench profile` writes it (`Results/profile-<preset>.csv`): where
/// a call's time goes. The key columns are ``SweepPoint``'s; then:
///
/// - `level`: `core` (a pass of the attention kernel, forward or backward) or `layer` (a part of an
///   encoder layer around its core; the core's own phases are then the `core` rows of the same point);
///   `phase`: its name ("QKᵀ", "softmax", …), or `other` for the call's time in no phase of that level;
/// - `time_*_ms`: the phase's share of one instrumented call, over `reps` calls (median and the
///   distribution-free 95% interval of the median). A phase's share of a call is its thread-time
///   (summed over the threads that ran it) scaled by the call's wall time over the threads'
///   instrumented total when that total exceeds the wall time (several threads at once), so the
///   phases of a level and `other` add up to the instrumented call;
/// - `share`: the phase's median ÷ the sum of its level's medians (with `other`), so a level's
///   shares add up to 1 (the medians of the parts need not add up to the median of the whole);
/// - `phase_gflop`, `phase_bytes`, `gflops`: the phase's modelled FLOPs and the bytes it must move
///   to and from memory, and its FLOPs ÷ its median time (empty where the phase has no model);
/// - `call_median_ms`: the plain (uninstrumented) call, timed first by the same policy;
///   `instrumented_median_ms`: the instrumented call; `overhead` = instrumented ÷ plain − 1 (what
///   the clock adds: the two are timed in alternation, so drift falls on both alike);
/// - `busy_threads`: the median over calls of the threads' instrumented time ÷ the call's wall
///   time, for the level: 1 means one thread was in a phase throughout, 2 two threads at once.
public struct PhaseRow: Equatable, Sendable {
    public var point: SweepPoint
    public var level = ""
    public var phase = ""
    public var reps: Int?
    public var median, ciLow, ciHigh: Double?
    public var share: Double?
    public var phaseGflop, phaseBytes, gflops: Double?
    public var callMedian, instrumentedMedian, overhead: Double?
    public var busyThreads: Double?

    public init(point: SweepPoint, level: String, phase: String) {
        (self.point, self.level, self.phase) = (point, level, phase)
    }

    /// The name of the unattributed remainder of a level.
    public static let other = "other"

    public static let table: [Column<PhaseRow>] =
        SweepPoint.columns.map { $0.lifted(\.point) } + [
            .string("level", \.level),
            .string("phase", \.phase),
            .optionalInt("reps", \.reps),
            .double("time_median_ms", \.median, format: "%.6f", scale: 1e3),
            .double("time_ci95_low_ms", \.ciLow, format: "%.6f", scale: 1e3),
            .double("time_ci95_high_ms", \.ciHigh, format: "%.6f", scale: 1e3),
            .double("share", \.share, format: "%.4f"),
            .double("phase_gflop", \.phaseGflop, format: "%.6g"),
            .double("phase_bytes", \.phaseBytes, format: "%.6g"),
            .double("gflops", \.gflops, format: "%.3f"),
            .double("call_median_ms", \.callMedian, format: "%.6f", scale: 1e3),
            .double("instrumented_median_ms", \.instrumentedMedian, format: "%.6f", scale: 1e3),
            .double("overhead", \.overhead, format: "%.4f"),
            .double("busy_threads", \.busyThreads, format: "%.3f"),
        ]

    public static let empty = PhaseRow(point: .empty, level: "", phase: "")
}
