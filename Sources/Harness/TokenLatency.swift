import AttentionKernels
import Foundation
import Profiling
import Results

/// Per-token latency against position for one decode point: the wall time of single steps,
/// gathered over every timed repetition in short windows at log-spaced positions (``LatencySample``).
///
/// Positions are 1-based token counts (token c attends over c cached tokens), `perOctave` windows
/// per doubling: c = 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 13, 16, … up to n. A window covers
/// `max(1, c/8)` consecutive steps from c, so the windows never overlap at 4 per octave and each
/// sample is the median of (window × repetitions) step times: a robust figure even where one step
/// takes a few microseconds.
public struct TokenLatency: Equatable, Sendable {
    /// Windows of 0-based step indices.
    public let windows: [Range<Int>]
    private var collected: [[UInt64]]

    public init(length n: Int, perOctave: Int = 4) {
        var starts: [Int] = []
        var j = 0
        while true {
            let c = Int(pow(2, Double(j) / Double(perOctave)).rounded())
            if c > n { break }
            if starts.last != c { starts.append(c) }
            j += 1
        }
        windows = starts.map { c in (c - 1)..<Swift.min(c - 1 + Swift.max(1, c / 8), n) }
        collected = Array(repeating: [], count: windows.count)
    }

    /// Adds one repetition's step times (each position's slowest worker).
    public mutating func add(_ times: StepTimes) {
        for (w, window) in windows.enumerated() {
            for i in window { collected[w].append(times.latency(at: i)) }
        }
    }

    /// One sample per window that received any step time.
    public var samples: [LatencySample] {
        zip(windows, collected).compactMap { window, values in
            SampleStatistics(values.map { Double($0) * 1e-9 }).map {
                LatencySample(position: window.lowerBound + 1, median: $0.median, min: $0.min, count: $0.count)
            }
        }
    }
}
