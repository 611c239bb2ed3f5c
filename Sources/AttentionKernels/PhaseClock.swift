import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A named part of a call that ``PhaseClock`` times: a pass of a kernel ("QKᵀ", "softmax") or a
/// part of an encoder layer ("FFN + residual + LayerNorm").
///
/// `level` keeps the two apart: a layer's "attention core" part contains the core's own phases, so
/// phases are summed per level, never across levels. `id` indexes the per-thread accumulators.
public struct Phase: Hashable, Sendable, CustomStringConvertible {
    public enum Level: String, Sendable, CaseIterable {
        /// Inside an attention kernel (forward or backward).
        case core
        /// The parts of an encoder layer around its core.
        case layer
    }

    public let id: Int
    public let name: String
    public let level: Level

    public var description: String { name }

    /// Registers a phase (once per name and level; the same name again returns the same phase).
    /// Kernels hold theirs in `static let`s, so registration happens once, on first use.
    public static func named(_ name: String, level: Level = .core) -> Phase {
        PhaseClock.registry.withLock { phases in
            if let known = phases.first(where: { $0.name == name && $0.level == level }) { return known }
            precondition(phases.count < PhaseClock.capacity, "more than \(PhaseClock.capacity) phases")
            let phase = Phase(id: phases.count, name: name, level: level)
            phases.append(phase)
            return phase
        }
    }
}

/// Per-thread wall time spent in each ``Phase`` of a call: how `attnbench profile` splits a call.
///
/// A kernel starts a lap clock where its work begins (``start()``) and, after each part,
/// ``Lap/lap(_:)`` adds the monotonic time since the previous mark to that phase on the thread that
/// ran it. Parts that are separate passes and parts fused in one loop (flash's tiles, a chunked causal
/// product) are measured alike: fused loops mark every tile, so a phase's time is a sum of short
/// spans, each between two clock reads on the thread that ran it.
///
/// Scope: only the call inside ``measure(_:)`` is recorded, on the thread that runs it and on the
/// workers it starts (``ComputeThreads`` hands the measurement to them, ``adopting(_:_:)``): kernels
/// that other threads run meanwhile (another test) are not, and two measurements never mix.
///
/// Cost: outside a measurement, ``start()`` is one thread-local read and ``Lap/lap(_:)`` one branch.
/// Inside, a mark is one `clock_gettime` (vDSO, ~20–30 ns) and an add into this thread's slots.
/// Flash marks ~5 times per 256×128 tile (~8 MFLOP), so the clock adds well under 1%;
/// `attnbench profile` measures what it adds (instrumented call against the plain call).
///
/// Threads: each thread taking part gets its own slots from the measurement, so a phase's total is
/// thread-time: two workers in "softmax" for 1 ms each add 2 ms.
public enum PhaseClock {
    /// Phases the accumulators hold.
    public static let capacity = 128

    static let registry = Mutex<[Phase]>([])
    /// This thread's slots while it takes part in a measurement: `capacity` nanosecond totals,
    /// `capacity` first-mark times, then the measurement's address.
    nonisolated(unsafe) private static var key: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "pthread_key_create failed")
        return key
    }()

    /// One measurement: every slot array handed out to its threads.
    final class Session: @unchecked Sendable {
        private let arrays = Mutex<[UInt]>([])

        func newSlots() -> UnsafeMutablePointer<UInt64> {
            let slots = UnsafeMutablePointer<UInt64>.allocate(capacity: 2 * capacity + 1)
            slots.initialize(repeating: 0, count: 2 * capacity)
            slots[2 * capacity] = UInt64(UInt(bitPattern: Unmanaged.passUnretained(self).toOpaque()))
            let address = UInt(bitPattern: slots)
            arrays.withLock { $0.append(address) }
            return slots
        }

        /// Every array handed out (the threads that used them have finished with them).
        func all() -> [UnsafeMutablePointer<UInt64>] {
            arrays.withLock { $0 }.compactMap { UnsafeMutablePointer(bitPattern: $0) }
        }

        deinit { for slots in all() { slots.deallocate() } }
    }

    /// A kernel's running mark: the time of the previous mark and this thread's slots (nil outside a
    /// measurement, so every mark is a branch).
    public struct Lap {
        var last: UInt64
        let slots: UnsafeMutablePointer<UInt64>?

        /// Adds the time since the previous mark (or ``PhaseClock/start()``) to `phase`.
        @inline(__always)
        public mutating func lap(_ phase: Phase) {
            guard let slots else { return }
            let now = PhaseClock.now()
            slots[phase.id] &+= now &- last
            if slots[PhaseClock.capacity + phase.id] == 0 { slots[PhaseClock.capacity + phase.id] = now }
            last = now
        }

        /// Restarts the span without charging it to any phase (time that is nobody's; it shows as
        /// "other").
        @inline(__always)
        public mutating func skip() {
            guard slots != nil else { return }
            last = PhaseClock.now()
        }
    }

    /// Starts marking on the calling thread.
    @inline(__always)
    public static func start() -> Lap {
        guard let raw = pthread_getspecific(key) else { return Lap(last: 0, slots: nil) }
        return Lap(last: now(), slots: raw.assumingMemoryBound(to: UInt64.self))
    }

    /// Monotonic nanoseconds.
    @inline(__always)
    static func now() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return UInt64(t.tv_sec) &* 1_000_000_000 &+ UInt64(t.tv_nsec)
    }

    /// The measurement the calling thread takes part in, to hand to the workers it starts (0: none).
    @inline(__always)
    public static func current() -> UInt {
        guard let raw = pthread_getspecific(key) else { return 0 }
        return UInt(raw.assumingMemoryBound(to: UInt64.self)[2 * capacity])
    }

    /// Runs `body` on this thread as part of measurement `session` (from ``current()`` on the
    /// thread that started the work), with slots of its own; with 0, just runs it.
    @inline(__always)
    public static func adopting<T>(_ session: UInt, _ body: () throws -> T) rethrows -> T {
        guard session != 0, let pointer = UnsafeRawPointer(bitPattern: session) else { return try body() }
        let owner = Unmanaged<Session>.fromOpaque(pointer).takeUnretainedValue()
        let previous = pthread_getspecific(key)
        pthread_setspecific(key, owner.newSlots())
        defer { pthread_setspecific(key, previous) }
        return try body()
    }

    /// Runs `body` with the clock on for this thread and the workers it starts, and returns its
    /// result with every phase's thread-time in nanoseconds (phases never marked are absent) and the
    /// phases in the order the call first reached them (on any thread).
    public static func measure<T>(_ body: () throws -> T) rethrows -> (
        value: T, nanoseconds: [Phase: UInt64], order: [Phase]
    ) {
        let session = Session()
        let previous = pthread_getspecific(key)
        pthread_setspecific(key, session.newSlots())
        let value: T
        do {
            defer { pthread_setspecific(key, previous) }
            value = try body()
        }
        var totals = [UInt64](repeating: 0, count: capacity)
        var first = [UInt64](repeating: .max, count: capacity)
        for slots in session.all() {
            for i in 0..<capacity {
                totals[i] &+= slots[i]
                if slots[capacity + i] != 0 { first[i] = min(first[i], slots[capacity + i]) }
            }
        }
        let phases = registry.withLock { $0 }
        var result: [Phase: UInt64] = [:]
        for phase in phases where first[phase.id] != .max { result[phase] = totals[phase.id] }
        let order = result.keys.sorted { (first[$0.id], $0.id) < (first[$1.id], $1.id) }
        return (value, result, order)
    }
}
