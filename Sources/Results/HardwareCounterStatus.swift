/// The `hw_counters` column: whether `perf_event_open` counted a row's timed calls.
public enum HardwareCounterStatus: String, Sendable {
    /// `cycles_per_call`, `instructions_per_call` and `llc_misses_per_call` hold the counts.
    case measured
    /// The machine offers no hardware counters (or reading them failed): those columns are empty.
    case unavailable
}
