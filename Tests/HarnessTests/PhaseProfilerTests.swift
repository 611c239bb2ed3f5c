import AttentionKernels
import Harness
import Results
import Testing

/// `attnbench profile`'s measurement: every mechanism's phases cover its call, a level's phases and
/// `other` add up to the instrumented call, the roofline's columns follow from each other, and the
/// bandwidth probe agrees with a plain copy of the same buffers.
@Suite struct PhaseProfilerTests {
    static let policy = TimingPolicy(warmups: 1, minReps: 5, minSeconds: 0, maxSeconds: 5)

    static func points(_ settings: [(String, String)]) throws -> [SweepPoint] {
        var spec = SweepSpec()
        for (key, value) in [
            ("n", "256"), ("k", "32"), ("batch", "1"), ("heads", "2"), ("head-dim", "64"), ("threads", "1"),
            ("hash-rounds", "2"), ("features", "64"), ("pass", "forward,train"),
        ] + settings { try spec.apply(key, value) }
        return try spec.points()
    }

    static let profiler = PhaseProfiler(policy: policy, seed: 7, ceilings: [1: 50], bandwidths: [1: 10])

    /// Each mechanism's forward phases in call order; a training step adds its backward's.
    static let expected: [Mechanism: (forward: [String], backward: [String])] = [
        .standard: (
            ["QKᵀ", "softmax", "P·V and 1/Σ"],
            ["dV = Wᵀ·dO", "dP = dO·Vᵀ", "dS = W∘(dP − D)", "dQ = dS·K, dK = dSᵀ·Q"]
        ),
        .linformer: (
            ["E·K, F·V", "QK′ᵀ", "softmax", "P·V′ and 1/Σ"],
            [
                "dV = Wᵀ·dO", "dP = dO·Vᵀ", "dS = W∘(dP − D)", "dQ = dS·K, dK = dSᵀ·Q", "dK = Eᵀ·dK′, dV = Fᵀ·dV′",
                "dE, dF",
            ]
        ),
        .linear: (
            ["φ", "φ(K)ᵀV, Σφ(K)", "φ(Q)·S", "division"],
            ["g, a, ∂L/∂z", "∂L/∂S, ∇φ(Q)", "∇V, ∇φ(K)", "φ′ (backward)"]
        ),
        .flash: (
            ["row bookkeeping", "packing", "tile products", "online softmax and rescaling"],
            ["tile products (S, dV, dP, dQ, dK)", "P = exp(S − L)", "dS = P∘(dP − D)"]
        ),
        .reformer: (
            ["hash and sort", "gather chunk", "chunk products", "mask and online softmax", "combine rounds"],
            [
                "normalise, D, shared-QK gradient", "gather and scatter chunks", "chunk products (S, dV, dP, dQ, dK)",
                "P = exp(S − L), dS",
            ]
        ),
        .performer: (
            ["random features φ(Q), φ(K)", "φ(K)ᵀV, Σφ(K)", "φ(Q)·S", "division"],
            ["g, a, ∂L/∂z", "∂L/∂S, ∇φ(Q)", "∇V, ∇φ(K)", "random features (backward)"]
        ),
    ]

    /// Every pass of every mechanism is marked (a pass left unmarked is missing from the list, and
    /// its time shows as `other`): the phases, in call order, are the expected ones, and at one
    /// thread they cover the call but for allocation and dispatch. (In a debug build the Swift
    /// loops dominate, so the list is the check that catches an unmarked BLAS pass.)
    @Test(arguments: Mechanism.allCases)
    func phasesCoverEachMechanismsCall(_ mechanism: Mechanism) throws {
        for point in try Self.points([("mechanism", mechanism.rawValue)]) {
            let (rows, _) = try Self.profiler.profile(point)
            let core = rows.filter { $0.level == "core" }
            let (forward, backward) = try #require(Self.expected[mechanism])
            let names = core.map(\.phase).filter { $0 != PhaseRow.other }
            #expect(names == forward + (point.pass == .train ? backward : []), "\(point.label)")
            let busy = try #require(core.first?.busyThreads)
            #expect(busy >= 0.9 && busy <= 1.01, "\(point.label): phases cover \(busy) of the call")
            let other = try #require(core.first { $0.phase == PhaseRow.other }?.share)
            #expect(other < 0.1, "\(point.label): \(other) of the call is in no phase")
            #expect(core.allSatisfy { !$0.phase.isEmpty })
        }
    }

    /// A level's shares add up to one, and the sum of its medians is the instrumented call's median
    /// within the spread of a few repetitions.
    @Test func phasesSumToTheCall() throws {
        for point in try Self.points([("mechanism", "standard,linear")]) {
            let (rows, _) = try Self.profiler.profile(point)
            let shares = rows.compactMap(\.share).reduce(0, +)
            #expect(abs(shares - 1) < 1e-9)
            let sum = rows.compactMap(\.median).reduce(0, +)
            let call = try #require(rows.first?.instrumentedMedian)
            #expect(abs(sum / call - 1) < 0.2, "\(point.label): phases \(sum) s, call \(call) s")
        }
    }

    /// At layer scope the layer's parts cover the call, and the core's phases are a level below,
    /// split within the core's parts.
    @Test func layerScopeHasBothLevels() throws {
        for point in try Self.points([("mechanism", "linear"), ("scope", "layer"), ("layers", "1"), ("ffn-mult", "2")])
        {
            let (rows, _) = try Self.profiler.profile(point)
            let layer = rows.filter { $0.level == "layer" }.map(\.phase)
            #expect(layer.contains("attention core") && layer.contains("FFN, residual, LayerNorm"), "\(layer)")
            let busy = try #require(rows.first { $0.level == "layer" }?.busyThreads)
            #expect(busy >= 0.9, "\(point.label): the layer's parts cover \(busy) of the call")
            let coreOther = try #require(rows.first { $0.level == "core" && $0.phase == PhaseRow.other }?.share)
            #expect(coreOther < 0.1, "\(point.label): \(coreOther) of the core is in no core phase")
        }
    }

    @Test func rooflineColumnsFollowFromEachOther() throws {
        let point = try #require(try Self.points([("mechanism", "standard"), ("pass", "forward")]).first)
        let (_, roof) = try Self.profiler.profile(point)
        let (flops, traffic, intensity) = (
            try #require(roof.modelGflop), try #require(roof.trafficBytes), try #require(roof.intensity)
        )
        #expect(abs(intensity - flops * 1e9 / traffic) < 1e-9 * intensity)
        // Q, K, V read, the output written, the n×n scores and row sums written and read: b·h·(4nd + 2(n² + n)) floats
        let (n, d, slices) = (256.0, 64.0, 2.0)
        #expect(traffic == 4 * slices * (4 * n * d + 2 * (n * n + n)))
        let roofValue = try #require(roof.roofGflops)
        #expect(roofValue == min(50, intensity * 10))
        #expect(roof.bound == (intensity * 10 < 50 ? "memory" : "compute"))
        let achieved = try #require(roof.gflops)
        #expect(roof.roofFraction == achieved / roofValue)
    }

    @Test func triadAgreesWithACopyOfTheSameBuffers() {
        // 16 Mi floats per buffer (64 MiB each): beyond the last-level cache of these machines.
        let triad = Bandwidth.triadGBs(threads: 1, elements: 16 << 20, repetitions: 3)
        let copy = Bandwidth.copyGBs(threads: 1, elements: 16 << 20, repetitions: 3)
        #expect(triad > 0.1 && copy > 0.1)
        #expect(triad / copy > 0.33 && triad / copy < 3, "triad \(triad) GB/s, copy \(copy) GB/s")
    }

    @Test func triadComputesTheTriad() {
        let x = Tensor(shape: [5], scalars: [1, 2, 3, 4, 5], label: "test")
        let y = Tensor(shape: [5], scalars: [10, 20, 30, 40, 50], label: "test")
        BLAS.axpby(5, alpha: 0.5, x.data, beta: 1, y.data)
        #expect(y.scalars == [10.5, 21, 31.5, 42, 52.5])
        BLAS.copy(5, x.data, into: y.data)
        #expect(y.scalars == x.scalars)
    }
}
