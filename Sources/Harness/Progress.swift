import Foundation
import Profiling
import Results

#if canImport(Glibc)
    import Glibc
#endif

/// `[3/50] standard n=1024 b=4 h=8 d=64 t=2 · elapsed 0:42 · ETA 3:10` on stderr, redrawn in place
/// when stderr is a terminal; silent otherwise or when quiet. The ETA weighs remaining points by the
/// cost model's FLOPs, since points differ in cost by orders of magnitude.
public struct Progress {
    public let enabled: Bool
    private let start = Stopwatch.now()
    private let totalWork: Double
    private var doneWork = 0.0

    public init(points: [SweepPoint], quiet: Bool) {
        enabled = !quiet && isatty(STDERR_FILENO) == 1
        totalWork = points.reduce(0) { $0 + Self.work($1) }
    }

    /// A point's weight: its FLOPs, plus a floor for the fixed per-point time (calibration, min-time).
    /// A point beyond the cost model (skipped at once) weighs only the floor.
    static func work(_ point: SweepPoint) -> Double {
        let flops = point.cost.flops
        return (flops.isFinite ? flops : 0) + 1e9
    }

    public mutating func starting(_ index: Int, of total: Int, _ point: SweepPoint) {
        guard enabled else { return }
        let elapsed = Double(Stopwatch.now() - start) * 1e-9
        let eta = doneWork > 0 ? elapsed * (totalWork - doneWork) / doneWork : nil
        let line =
            "[\(index)/\(total)] \(point.label) · elapsed \(Self.clock(elapsed))"
            + (eta.map { " · ETA \(Self.clock($0))" } ?? "")
        FileHandle.standardError.write(Data(("\r\u{1B}[2K" + line).utf8))
    }

    public mutating func finished(_ point: SweepPoint) { doneWork += Self.work(point) }

    public func done() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    }

    static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0, seconds < 1e9 else { return "?" }
        let s = Int(seconds.rounded())
        return s >= 3600
            ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
