import Analysis
import AttentionKernels
import Foundation
import Harness
import Reporting
import Results
import Testing

@Suite struct ValueListTests {
    @Test func listsRangesAndSuffixes() throws {
        #expect(try ValueList.integers("512,1024", axis: "n") == [512, 1024])
        #expect(try ValueList.integers("512...4096", axis: "n") == [512, 1024, 2048, 4096])
        #expect(try ValueList.integers("1k...4k, 64", axis: "n") == [1024, 2048, 4096, 64])
        #expect(try ValueList.integers("1M", axis: "n") == [1 << 20])
        #expect(try ValueList.bytes("1.5G", axis: "memory-budget") == 3 << 29)
    }

    @Test(arguments: [
        ("0", "at least 1"), ("abc", "not a whole number"), ("512,512", "appears twice"),
        ("4096...512", "runs backwards"), ("512...1000", "doubling range"), ("512,,1024", "empty value"),
        ("-4", "at least 1"),
    ])
    func malformedValuesSayWhatIsWrong(_ text: String, _ message: String) {
        let error = #expect(throws: UsageError.self) { try ValueList.integers(text, axis: "n") }
        #expect(error?.description.contains(message) == true, "\(text): \(String(describing: error))")
        #expect(error?.description.contains("--n") == true)
    }
}

@Suite struct SweepSpecTests {
    func spec(_ settings: [(String, String)]) throws -> SweepSpec {
        var spec = SweepSpec()
        for (key, value) in settings { try spec.apply(key, value) }
        return spec
    }

    /// k applies to Linformer only; causal Linformer points are in the grid (the plan skips them with
    /// the reason, never in silence); small n runs first.
    @Test func pointsFollowTheAxes() throws {
        let points = try spec([
            ("mechanism", "standard,linformer,linear"), ("n", "256,512"), ("k", "32,64"),
            ("batch", "1"), ("heads", "2"), ("head-dim", "16"), ("threads", "1"), ("causal", "false,true"),
        ])
        .points()
        #expect(points.count == 2 * (2 + 2 * 2 + 2))
        #expect(points.prefix(8).allSatisfy { $0.length == 256 })
        let linformer = points.filter { $0.mechanism == .linformer }
        #expect(linformer.allSatisfy { $0.projectedLength != nil && $0.sharing == .keyValue })
        for p in linformer {
            let plan = PointPlan(p, memoryBudget: 1 << 40)
            if p.causal {
                let reason =
                    "causal: Linformer has no causal form "
                    + "(E and F mix all n positions into every projected row)"
                #expect(plan == .skip(reason: reason))
            } else {
                #expect(plan == .run)
            }
        }
        #expect(
            points.filter { $0.mechanism != .linformer }.allSatisfy { $0.projectedLength == nil && $0.sharing == nil })
        #expect(Set(points.map(\.keyFields)).count == points.count)
    }

    /// Every forward-mode point is repeated per pass (after its causal and k settings); decode points
    /// are generated once, as forward passes, whatever the pass axis says.
    @Test func passesMultiplyForwardModePointsOnly() throws {
        let points = try spec([
            ("mechanism", "standard,linformer,linear"), ("n", "256"), ("k", "32"), ("batch", "1"),
            ("heads", "2"), ("head-dim", "16"), ("threads", "1"), ("causal", "false,true"),
            ("mode", "forward,decode"), ("pass", "forward,backward,train"),
        ]).points()
        let forward = points.filter { $0.mode == .forward }
        #expect(forward.count == 3 * (2 + 2 + 2))
        #expect(Set(forward.map(\.pass)) == Set(Pass.allCases))
        #expect(forward.filter { $0.pass == .train }.count == 6)
        #expect(points.filter { $0.mode == .decode }.allSatisfy { $0.pass == .forward })
        #expect(points.filter { $0.mode == .decode }.count == 3)
        #expect(Set(points.map(\.keyFields)).count == points.count)
        let error = #expect(throws: UsageError.self) { try spec([("pass", "sideways")]).points() }
        #expect(error?.description.contains("unknown value 'sideways'") == true)
    }

    /// Each decode point runs a listed decoder its mechanism supports; a mechanism that supports none
    /// of them gets one point that the plan skips, saying which decoders it has.
    @Test func decodersFollowWhatEachMechanismSupports() throws {
        var spec = SweepSpec()
        try spec.apply("mechanism", "standard,linear,linformer")
        try spec.apply("mode", "decode")
        try spec.apply("n", "64")
        #expect(try spec.points().map { $0.decoder } == [.kvCache, .recurrent, nil])
        try spec.apply("decoder", "kv-cache,recompute,recurrent")
        let points = try spec.points()
        #expect(
            points.map { "\($0.mechanism.rawValue):\($0.decoder?.rawValue ?? "-")" }
                == ["standard:kv-cache", "standard:recompute", "linear:recurrent", "linformer:-"])
        try spec.apply("decoder", "recompute")
        let linear = try spec.points().filter { $0.mechanism == .linear }
        #expect(linear.map(\.decoder) == [.recompute])
        #expect(
            PointPlan(linear[0], memoryBudget: 1 << 30)
                == .skip(reason: "linear has no recompute decoder (it has recurrent)"))
        #expect(throws: UsageError.self) { try spec.apply("decoder", "cache") }
    }

    /// A point whose one call cannot finish within max-time even at the sgemm ceiling is skipped,
    /// saying so; one that can is run; without a ceiling nothing is skipped for time.
    @Test func pointsBeyondMaxTimeAtTheCeilingAreSkipped() {
        let point = SweepPoint(mechanism: .standard, length: 4096, batch: 1, heads: 8, headDim: 64, threads: 1)
        let gflop = point.cost.flops / 1e9  // 4·n²·d·h = 34.4 GFLOP
        #expect(PointPlan(point, memoryBudget: 1 << 34, timeLimit: 10, ceiling: gflop / 5) == .run)
        guard case .skip(let reason) = PointPlan(point, memoryBudget: 1 << 34, timeLimit: 10, ceiling: gflop / 20)
        else {
            Issue.record("not skipped")
            return
        }
        #expect(reason.hasPrefix("time: one call is 34.4 GFLOP, at least 20 s at the sgemm ceiling"))
        #expect(PointPlan(point, memoryBudget: 1 << 34, timeLimit: 10, ceiling: nil) == .run)
    }

    /// Core scope is one point; layer scope one per (layers, ffn-mult), both set only there.
    @Test func scopesMultiplyByTheirLayerSettings() throws {
        var spec = SweepSpec()
        try spec.apply("mechanism", "flash")
        try spec.apply("n", "128")
        try spec.apply("scope", "core,layer")
        try spec.apply("layers", "1,2")
        try spec.apply("ffn-mult", "4")
        let points = try spec.points()
        #expect(
            points.map { "\($0.scope.rawValue):\($0.layers ?? 0):\($0.ffnMultiplier ?? 0)" } == [
                "core:0:0", "layer:1:4", "layer:2:4",
            ])
        #expect(points[2].label == "flash layer×2 ffn=4 n=128 b=1 h=8 d=64 t=\(points[2].threads)")
        #expect(points[1].benchmarkName.hasPrefix("flash/scope=layer/n=128"))
    }

    @Test func tokensFixTheBatchPerLength() throws {
        let points = try spec([("mechanism", "linear"), ("n", "512...4096"), ("tokens", "8192")]).points()
        #expect(points.map(\.batch) == [16, 8, 4, 2])
    }

    @Test(arguments: [
        ([("mechanism", "linformer"), ("causal", "true")], "no causal form"),
        ([("min-time", "5"), ("max-time", "1")], "longer than --max-time"),
        ([("n", "1024"), ("tokens", "512")], "fewer than n=1024"),
        ([("mechanism", "softmax")], "unknown value 'softmax'"),
        ([("causal", "maybe")], "unknown value 'maybe'"),
        ([("bogus", "1")], "unknown setting 'bogus'"),
    ])
    func contradictionsAreErrors(_ settings: [(String, String)], _ message: String) {
        let error = #expect(throws: UsageError.self) { try spec(settings).points() }
        #expect(error?.description.contains(message) == true, "\(String(describing: error))")
    }

    @Test func planSkipsDashesAndWhatWouldNotFit() {
        let dash = SweepPoint(
            mechanism: .linformer, sharing: .keyValue, length: 512, projectedLength: 512, batch: 1, heads: 8,
            headDim: 64, threads: 1)
        guard case .skip(let reason) = PointPlan(dash, memoryBudget: 1 << 40) else {
            Issue.record("k = n ran")
            return
        }
        #expect(reason.contains("k >= n"))

        // Standard at n = 65536, h = 8: 128 GiB of scores.
        let huge = SweepPoint(mechanism: .standard, length: 65536, batch: 1, heads: 8, headDim: 64, threads: 1)
        #expect(huge.predictedBytes > 128 << 30)
        guard case .skip(let memory) = PointPlan(huge, memoryBudget: 12 << 30) else {
            Issue.record("huge ran")
            return
        }
        #expect(memory == "memory: needs 128.5 GiB > budget 12.0 GiB")
        #expect(PointPlan(huge, memoryBudget: 1 << 40) == .run)
    }

    /// A training step adds dO to the inputs and peaks at the output, the saved weights and the
    /// backward's gradients and dS block; a backward point runs on a saved forward, so it needs as much.
    @Test func predictedBytesOfTrainingPassesAddUp() {
        var p = SweepPoint(
            mechanism: .standard, pass: .train, length: 1024, batch: 2, heads: 4, headDim: 64, threads: 1)
        let inputs = 4 * 2 * 4 * 1024 * 64 * 4  // Q, K, V, dO
        let saved = 2 * 4 * (1024 * 1024 + 1024) * 4  // the weights and their row sums
        let output = 2 * 4 * 1024 * 64 * 4
        let backward = 3 * output + 2 * 4 * 64 * 1024 * 4  // three gradients and a 64-row dS block per slice
        #expect(p.predictedBytes == inputs + output + saved + backward + 512 * 1024)
        let forwardFlops: Double = 2 * 4 * 4 * 1024 * 1024 * 64
        let backwardFlops: Double = 2 * 4 * 8 * 1024 * 1024 * 64
        #expect(p.cost.flops == forwardFlops + backwardFlops)
        p.pass = .backward
        #expect(p.predictedBytes == inputs + output + saved + backward + 512 * 1024)
        #expect(p.cost.callPeakBytes == backward)
        #expect(p.cost.flops == backwardFlops)
    }

    /// Inputs, parameters, one call's intermediates and output, and OpenBLAS's job array.
    @Test func predictedBytesAddUp() {
        let p = SweepPoint(mechanism: .standard, length: 1024, batch: 2, heads: 4, headDim: 64, threads: 1)
        let inputs = 3 * 2 * 4 * 1024 * 64 * 4
        let scores = 2 * 4 * (1024 * 1024 + 1024) * 4  // scores and their row sums
        let output = 2 * 4 * 1024 * 64 * 4
        #expect(p.predictedBytes == inputs + scores + output + 512 * 1024)
    }
}

@Suite struct PresetTests {
    @Test func presetTextParses() throws {
        let spec = try Preset.parse(
            """
            # a comment
            mechanism = standard, linear   # trailing comment
            n = 512...2048

            tokens = 4096
            min-reps = 3
            """)
        #expect(spec.mechanisms == [.standard, .linear])
        #expect(spec.lengths == [512, 1024, 2048])
        #expect(spec.tokens == 4096)
        #expect(spec.policy.minReps == 3)
    }

    @Test func errorsNameTheLine() {
        let error = #expect(throws: UsageError.self) { try Preset.parse("n = 512\nk = zero\n", source: "x.preset") }
        #expect(error?.description.hasPrefix("x.preset:2: --k:") == true, "\(String(describing: error))")
        #expect(throws: UsageError.self) { try Preset.parse("n = 512\nn = 1024\n") }
        #expect(throws: UsageError.self) { try Preset.parse("batch = 1\ntokens = 4096\n") }
        #expect(throws: UsageError.self) { try Preset.parse("just words\n") }
    }

    /// The shipped presets load and plan; `ci` stays small enough for a fast regression check and
    /// covers every mechanism and the backward passes (flash's too, a second n² kernel); Figure 1 times training steps,
    /// as the paper did.
    @Test func shippedPresetsLoad() throws {
        #expect(Set(Preset.available()).isSuperset(of: ["default", "linformer-table3", "rnn-figure1", "ci", "train"]))
        for name in ["default", "linformer-table3", "rnn-figure1", "ci", "train"] {
            let spec = try Preset.load(name)
            #expect(spec.name == name)
            #expect(try !spec.points().isEmpty)
        }
        let ci = try Preset.load("ci")
        let flops = try ci.points().reduce(0) { $0 + $1.cost.flops }
        // forward passes and decoders of all six mechanisms, plus backward passes (about twice the forwards' products).
        #expect(flops < 100e9, "ci preset does \(flops / 1e9) GFLOP per repetition")
        #expect(try ci.points().contains { $0.pass == .backward && $0.mechanism == .linear && $0.causal })
        #expect(try ci.points().contains { $0.pass == .backward && $0.mechanism == .flash && $0.causal })
        // Every registered mechanism, so make check guards each kernel's memory, time and scaling.
        #expect(try Set(ci.points().map(\.mechanism)) == Set(Mechanism.allCases))
        #expect(try Preset.load("rnn-figure1").points().allSatisfy { $0.pass == .train })
        let table3 = try Preset.load("linformer-table3").points()
        #expect(Set(table3.map(\.length)) == [512, 1024, 2048, 4096, 8192, 16384, 32768, 65536])
        #expect(Set(table3.compactMap(\.projectedLength)) == [128, 256, 512, 1024, 2048])
        #expect(throws: UsageError.self) { try Preset.load("no-such-preset") }
    }
}
