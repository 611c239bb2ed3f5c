/// How many times to run a measured call: `warmups` untimed runs, then timed repetitions until
/// both `minReps` and `minSeconds` are reached, stopping early only at `maxSeconds` (which wins,
/// but never below one repetition).
///
/// `cycles` > 1 asks the sweep to measure its whole grid that many times, interleaved, and keep each
/// point's fastest median: on a shared machine a median drifts by ±20% over seconds while the best
/// of three medians spaced in time repeats to within ~5% (measured here), so the regression check
/// compares best-of-cycles figures.
public struct TimingPolicy: Equatable, Sendable, Codable {
    public var warmups: Int
    public var minReps: Int
    public var minSeconds: Double
    public var maxSeconds: Double
    public var cycles: Int

    public init(warmups: Int = 1, minReps: Int = 5, minSeconds: Double = 1, maxSeconds: Double = 30, cycles: Int = 1) {
        self.warmups = warmups
        self.minReps = minReps
        self.minSeconds = minSeconds
        self.maxSeconds = maxSeconds
        self.cycles = cycles
    }

    /// Decodes metadata written before `cycles` existed as one cycle.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        warmups = try c.decode(Int.self, forKey: .warmups)
        minReps = try c.decode(Int.self, forKey: .minReps)
        minSeconds = try c.decode(Double.self, forKey: .minSeconds)
        maxSeconds = try c.decode(Double.self, forKey: .maxSeconds)
        cycles = try c.decodeIfPresent(Int.self, forKey: .cycles) ?? 1
    }
}
