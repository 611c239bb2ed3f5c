import Profiling
import Results

extension TimingPolicy {
    /// Runs `body` by this policy and returns the timed repetitions, in seconds.
    /// Warm-ups also stop once `maxSeconds` is spent, so a very slow call is timed at least once.
    /// `afterEach` runs after every timed repetition, outside its time (to collect what it recorded).
    public func measure(_ body: () -> Void, afterEach: () -> Void = {}) -> [Double] {
        let start = Stopwatch.now()
        let elapsed = { Double(Stopwatch.now() - start) * 1e-9 }
        for _ in 0..<warmups where elapsed() < maxSeconds / 2 { body() }
        let timedStart = Stopwatch.now()
        var samples: [Double] = []
        repeat {
            samples.append(Stopwatch.seconds(body))
            afterEach()
            let timed = Double(Stopwatch.now() - timedStart) * 1e-9
            if samples.count >= minReps && timed >= minSeconds { break }
            if elapsed() >= maxSeconds { break }
        } while true
        return samples
    }
}
