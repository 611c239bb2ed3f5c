#if canImport(Glibc)
    import Glibc
#endif

/// Wall time on the monotonic clock (`CLOCK_MONOTONIC`: never steps back, not adjusted by NTP slews
/// in a way that matters at these durations). The corresponding C function is `clock_gettime`.
public enum Stopwatch {
    /// Nanoseconds since an arbitrary fixed point.
    @inline(__always)
    public static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// Seconds taken by `body`.
    @inline(__always)
    public static func seconds(_ body: () -> Void) -> Double {
        let start = now()
        body()
        return Double(now() - start) * 1e-9
    }

    /// CPU time the whole process has used so far (every thread: OpenBLAS's workers too), in
    /// nanoseconds. The corresponding C function is `clock_gettime(CLOCK_PROCESS_CPUTIME_ID)`, a
    /// real system call (~0.5 µs, unlike the monotonic clock's vDSO read): read it outside a timed region.
    public static func processCPUTime() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

/// Some compiler optimisations can remove work whose result is unused, which would make a timing
/// meaningless. Passing the result here makes the compiler consider it used. This is the only place
/// the project uses `@_optimize(none)`.
@inline(never)
@_optimize(none)
public func blackHole<T>(_ value: T) {}
