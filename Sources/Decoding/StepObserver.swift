/// Told when each worker starts and finishes each decode step, so a harness can time steps while
/// the kernels module reads no clock.
///
/// ``Generation`` calls ``willGenerate(workers:steps:)`` once, on the calling thread, before any
/// step; then, on worker `w`'s own thread, ``stepStarted(worker:step:)`` just before `w` runs step
/// `i` over all its slices and ``stepFinished(worker:step:)`` just after, for i = 0, 1, …, N−1.
/// Workers call concurrently, so these two may only touch state that belongs to their worker.
/// A step takes about 1 µs: each call is one dynamic dispatch, and an observer must not allocate
/// or lock in it.
public protocol StepObserver: AnyObject, Sendable {
    /// `workers` workers will each run `steps` steps (workers are numbered 0..<workers).
    func willGenerate(workers: Int, steps: Int)
    func stepStarted(worker: Int, step: Int)
    func stepFinished(worker: Int, step: Int)
}

extension StepObserver {
    public func willGenerate(workers: Int, steps: Int) {}
}
