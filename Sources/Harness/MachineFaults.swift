import AttentionKernels
import Profiling
import Reporting

/// A `mallctl` that fails is the installed jemalloc refusing a statistic the measurement needs
/// (built without `--enable-stats`, older than 5.3): a machine fault, exit 70.
extension JemallocError: MachineFault {}

/// OpenBLAS did not take a setting it was given. The corresponding C functions are
/// `openblas_set_num_threads` and `openblas_get_num_threads`.
public struct OpenBLASError: MachineFault, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension ComputeThreads {
    /// Sets `count` threads (``set(_:)``) and checks that OpenBLAS runs that many: a build made for
    /// fewer (its `NUM_THREADS`) silently caps the setting, and every point would then time fewer
    /// threads than its row says.
    public static func setChecked(_ count: Int) throws(OpenBLASError) {
        set(count)
        let taken = BLAS.threads
        guard taken == count else {
            throw OpenBLASError(
                "OpenBLAS runs \(taken) thread(s) where \(count) were set (openblas_set_num_threads): "
                    + "this build caps its threads; use --threads \(taken) or fewer, or an OpenBLAS built for more")
        }
    }
}
