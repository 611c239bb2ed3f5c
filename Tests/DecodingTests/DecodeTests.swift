import AttentionKernels
import AttentionReference
import Decoding
import Profiling
import Testing
import _TestSupport

/// Decoding one token at a time against the causal forward kernels on the same sequence.
@Suite struct DecodeTests {
    static func generation(_ mechanism: Mechanism, length: Int = 67, prompt: Int = 5) throws -> Generation {
        try Generation(mechanism: mechanism, batch: 2, heads: 3, headDim: 16, length: length, prompt: prompt, seed: 11)
    }

    static func recorded(_ generation: Generation) -> DecodeRecord {
        let record = DecodeRecord(
            batch: generation.batch, heads: generation.heads, length: generation.length,
            headDim: generation.headDim)
        generation(record: record)
        return record
    }

    /// Softmax with a KV cache: each decoded y_i is within the Float64 reference's bound of causal
    /// attention over the recorded q, k, v, and so is the forward kernel; the two therefore differ by
    /// at most twice that bound (they sum in different orders: a GEMV per step against a GEMM).
    @Test func kvCacheDecodeEqualsCausalSoftmaxForward() throws {
        let record = Self.recorded(try Self.generation(.standard))
        let reference = ReferenceAttention.standard(q: record.q, k: record.k, v: record.v, causal: true)
        let forward = SoftmaxAttention(causal: true)(q: record.q, k: record.k, v: record.v)
        #expect(withinBounds(record.out, values: reference.values, bounds: reference.bounds))
        #expect(withinBounds(forward, values: reference.values, bounds: reference.bounds))
        for i in 0..<forward.count {
            #expect(abs(record.out.data[i] - forward.data[i]) <= Float(2 * reference.bounds[i]))
        }
    }

    /// Linear attention's RNN state against computations that share none of its code: the Float64
    /// reference (the explicit causal sum over j ≤ i of φ(q_i)·φ(k_j) v_j, normalised) within its
    /// bound, and the chunked causal kernel (the GLA form: a masked [C, C] product within each chunk
    /// of 16 and the d×d state between chunks, all GEMMs), within twice the bound, since both sit
    /// within one bound of the reference. (The recurrent causal kernel is not evidence: it runs the
    /// decoder's own `recurrentStep`.)
    @Test func rnnDecodeEqualsIndependentCausalLinearAttention() throws {
        let record = Self.recorded(try Self.generation(.linear))
        let reference = ReferenceAttention.linear(q: record.q, k: record.k, v: record.v, causal: true)
        #expect(withinBounds(record.out, values: reference.values, bounds: reference.bounds))
        let chunked = LinearAttention(causal: true, chunk: 16)(q: record.q, k: record.k, v: record.v)
        #expect(withinBounds(chunked, values: reference.values, bounds: reference.bounds))
        var worst = 0.0
        for i in 0..<chunked.count {
            let bound = 2 * reference.bounds[i]
            #expect(abs(Double(record.out.data[i]) - Double(chunked.data[i])) <= bound, "element \(i)")
            worst = max(worst, abs(Double(record.out.data[i]) - Double(chunked.data[i])) / bound)
        }
        // The comparison can fail: the outputs are not all alike, so a decoder that attended to the
        // wrong prefix (one token short, say) would be far outside the bound.
        let shifted = (0..<chunked.count - 16).map { abs(Double(record.out.data[$0 + 16]) - Double(chunked.data[$0])) }
        #expect(shifted.max() ?? 0 > 100 * (reference.bounds.max() ?? 0), "worst in-bound fraction \(worst)")
    }

    /// The loop is closed: after the prompt, each token's q, k, v are x_i·W with x_i the previous
    /// output fed back, x ← (x + y)/rms(x + y), recomputed here from the record.
    @Test(arguments: [Mechanism.standard, .linear])
    func eachTokenAfterThePromptIsTheFedBackOutput(_ mechanism: Mechanism) throws {
        let generation = try Self.generation(mechanism)
        let record = Self.recorded(generation)
        let d = generation.headDim
        var x = [Float](repeating: 0, count: d)
        var qkv = [Float](repeating: 0, count: 3 * d)
        for s in 0..<generation.slices {
            let (q, out) = (record.q.matrix(s), record.out.matrix(s))
            // x_P from x_{P-1} (the last prompt source) and y_{P-1}.
            for c in 0..<d { x[c] = generation.promptSources.matrix(s)[generation.prompt - 1, c] }
            for i in generation.prompt..<generation.length {
                DecodeProjections.feedback(&x, adding: out.row(i - 1), count: d)
                generation.projections.project(x, head: s % generation.heads, into: &qkv)
                for c in 0..<d { #expect(q[i, c] == qkv[c]) }
            }
        }
        // Unit RMS keeps the sequence alive: the last query is not the first one.
        #expect(maxDifference(record.q, record.k) > 0.1)
    }

    /// Slices are independent, so splitting them across threads changes nothing, and neither does
    /// an observer.
    @Test(arguments: [Mechanism.standard, .linear])
    func threadsDoNotChangeTheSequence(_ mechanism: Mechanism) throws {
        let generation = try Self.generation(mechanism)
        let one = withComputeThreads(1) { generation() }
        let two = withComputeThreads(2) { generation() }
        let observed = withComputeThreads(2) { generation(observer: StepLog(workers: 2)) }
        #expect(one.scalars == two.scalars && one.scalars == observed.scalars)
    }

    /// The observer contract: told the worker count and N first; then every worker starts and
    /// finishes steps 0, 1, …, N−1 in order, each start before its finish.
    @Test(arguments: [(Mechanism.standard, 1), (.linear, 1), (.standard, 2), (.linear, 2)])
    func theObserverSeesEveryStepOfEveryWorkerInOrder(_ mechanism: Mechanism, threads: Int) throws {
        let generation = try Self.generation(mechanism)
        let log = StepLog(workers: 4)
        withComputeThreads(threads) { generation(observer: log) }
        #expect(log.announced == [threads, generation.length])
        for w in 0..<4 {
            #expect(log.inOrder[w], "worker \(w) saw a step out of order")
            #expect(log.events[w] == (w < threads ? 2 * generation.length : 0), "worker \(w)")
        }
    }

    /// The KV cache grows with N; the RNN state does not. jemalloc's peak across one generation is
    /// the cost model's state + scratch + output, within the probe's resolution (see PeakBounds),
    /// which is coarser than the RNN state itself (~18 KB here).
    @Test func cacheGrowsWithLengthAndStateDoesNot() throws {
        var peaks: [Mechanism: [Int]] = [:]
        for mechanism in [Mechanism.standard, .linear] {
            for n in [512, 2048] {
                let generation = try Generation(
                    mechanism: mechanism, batch: 1, heads: 4, headDim: 32, length: n, seed: 3)
                let (_, peak) = try AllocatorProbe.measurePeak { generation() }
                expectNearModel(peak, generation.cost.callPeakBytes, "\(mechanism) decode n=\(n)")
                peaks[mechanism, default: []].append(peak)
            }
        }
        let cache = 4 * 2 * (2048 - 512) * 32 * 4  // 2·h·ΔN·d floats
        // Each peak is sampled to within the probe's resolution, so their difference is too (seen: 11 KB short).
        #expect(peaks[.standard]![1] - peaks[.standard]![0] >= cache - PeakBounds.below)
        // The RNN state is the same at every n (model: exactly; measured: within thread.peak's resolution).
        #expect(abs(peaks[.linear]![1] - peaks[.linear]![0]) <= PeakBounds.below)
        let state = { (n: Int) in
            try Generation(mechanism: .linear, batch: 1, heads: 4, headDim: 32, length: n, seed: 3).cost.callPeakBytes
        }
        #expect(try state(512) == state(65536))
    }

    @Test func linformerCannotDecode() {
        #expect(throws: KernelConfigurationError.self) {
            try Generation(mechanism: .linformer, batch: 1, heads: 1, headDim: 8, length: 16, seed: 1)
        }
    }
}

/// A ``StepObserver`` that checks the order of its calls: per worker, events 2i (start of step i)
/// and 2i + 1 (its finish), in sequence. Each worker writes only its own slots.
final class StepLog: StepObserver, @unchecked Sendable {
    private(set) var announced: [Int] = []
    let events: UnsafeMutablePointer<Int>
    let inOrder: UnsafeMutablePointer<Bool>

    init(workers: Int) {
        events = .allocate(capacity: workers)
        events.initialize(repeating: 0, count: workers)
        inOrder = .allocate(capacity: workers)
        inOrder.initialize(repeating: true, count: workers)
    }

    deinit {
        events.deallocate()
        inOrder.deallocate()
    }

    func willGenerate(workers: Int, steps: Int) { announced = [workers, steps] }

    func stepStarted(worker: Int, step: Int) { record(worker, 2 * step) }

    func stepFinished(worker: Int, step: Int) { record(worker, 2 * step + 1) }

    private func record(_ worker: Int, _ event: Int) {
        if events[worker] != event { inOrder[worker] = false }
        events[worker] = event + 1
    }
}
