/// Whether ``AppendingFile`` takes an exclusive `flock(2)` lock on the file it opens, so a second
/// attnbench writing the same results file is refused instead of interleaving rows with the first.
/// The lock belongs to the open file and lasts until the ``AppendingFile`` is released; it is
/// advisory: only writers that also lock are kept out.
public enum LockMode: Sendable, Equatable {
    /// No lock.
    case none
    /// `flock(LOCK_EX | LOCK_NB)`: when another process holds the lock, opening fails at once
    /// with a ``UsageError`` naming that process's PID.
    case exclusive
    /// `flock(LOCK_EX)`: waits until the other process releases the lock.
    case exclusiveWaiting
}
