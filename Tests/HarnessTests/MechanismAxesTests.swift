import AttentionTypes
import Harness
import Reporting
import Results
import Testing

/// Reformer's hashing axes and Performer's features: each value is a point of its own mechanism
/// only, in the key and the label; bad values are usage errors; Reformer decodes through the model only.
@Suite struct MechanismAxesTests {
    @Test func eachAxisMultipliesItsOwnMechanismsPoints() throws {
        var spec = SweepSpec()
        for (key, value) in [
            ("mechanism", "reformer,performer,linear"), ("n", "256"), ("hash-rounds", "1,4,8"), ("buckets", "16"),
            ("chunk", "8,32"), ("features", "64,256"),
        ] { try spec.apply(key, value) }
        let points = try spec.points()
        let reformer = points.filter { $0.mechanism == .reformer }
        #expect(reformer.count == 6 && Set(reformer.compactMap(\.hashRounds)) == [1, 4, 8])
        #expect(reformer.allSatisfy { $0.buckets == 16 && $0.features == nil && $0.chunk != nil })
        let performer = points.filter { $0.mechanism == .performer }
        #expect(performer.compactMap(\.features) == [64, 256] && performer.allSatisfy { $0.hashRounds == nil })
        #expect(points.filter { $0.mechanism == .linear }.count == 1)
        #expect(reformer[0].mechanismSettings.hashRounds == reformer[0].hashRounds)
        #expect(
            reformer.contains { $0.label == "reformer rounds=4 buckets=16 chunk=32 n=256 b=1 h=8 d=64 t=\($0.threads)" }
        )
    }

    /// A plan without Reformer or Performer points is written with the columns an older build reads
    /// (so `compare --interleave` can run it against the base); one with them carries them; both read back.
    @Test func plansLeaveOutEmptyLaterColumns() throws {
        let linear = SweepPoint(mechanism: .linear, length: 64, batch: 1, heads: 2, headDim: 8, threads: 1)
        let plain = SweepPoint.keysText([linear])
        #expect(plain.hasPrefix("mechanism,scope,mode,decoder,pass,causal,sharing,n,k,prompt,batch,"))
        #expect(try SweepPoint.parseKeys(plain, source: "plan") == [linear])
        let reformer = SweepPoint(
            mechanism: .reformer, length: 64, hashRounds: 4, buckets: 8, chunk: 16, batch: 1, heads: 2, headDim: 8,
            threads: 1)
        let mixed = SweepPoint.keysText([linear, reformer])
        #expect(
            mixed.hasPrefix("mechanism,scope,mode,decoder,pass,causal,sharing,n,k,hash_rounds,buckets,chunk,prompt,"))
        #expect(try SweepPoint.parseKeys(mixed, source: "plan") == [linear, reformer])
    }

    /// A plan of attnbench's own points has no framework column (an older build's worker reads it);
    /// one holding a peer's point carries it; both read back.
    @Test func plansOfOwnPointsLeaveOutTheFramework() throws {
        let flash = SweepPoint(mechanism: .flash, length: 64, batch: 1, heads: 2, headDim: 8, threads: 1)
        let own = SweepPoint.keysText([flash])
        #expect(
            own
                == "mechanism,scope,mode,decoder,pass,causal,sharing,n,k,prompt,batch,heads,d,ffn_mult,layers,threads\nflash,core,forward,,forward,false,,64,,,1,2,8,,,1\n"
        )
        var jax = flash
        jax.peer = .jax
        let mixed = SweepPoint.keysText([flash, jax])
        #expect(mixed.hasPrefix("mechanism,framework,scope,") && mixed.contains("\nflash,attnbench,core,"))
        #expect(try SweepPoint.parseKeys(own, source: "plan") == [flash])
        #expect(try SweepPoint.parseKeys(mixed, source: "plan") == [flash, jax])
    }

    @Test func badValuesAreUsageErrors() {
        var spec = SweepSpec()
        for (key, value) in [("buckets", "7"), ("buckets", "0"), ("hash-rounds", "0"), ("features", "-2")] {
            #expect(throws: UsageError.self, "\(key) = \(value)") { try spec.apply(key, value) }
        }
        var odd = SweepPoint(
            mechanism: .reformer, length: 64, hashRounds: 1, buckets: 5, chunk: 8, batch: 1, heads: 1, headDim: 8,
            threads: 1)
        #expect(throws: UsageError.self) { try odd.checkMeasurable() }
        odd.buckets = nil
        #expect(throws: UsageError.self) { try odd.checkMeasurable() }  // a forward Reformer point needs all three
    }

    @Test func reformerDecodesThroughTheModelOnly() {
        let core = SweepPoint(
            mechanism: .reformer, mode: .decode, decoder: .recompute, causal: true, length: 32, hashRounds: 1,
            buckets: 64, chunk: 32, prompt: 1, batch: 1, heads: 2, headDim: 8, threads: 1)
        guard case .skip(let reason) = PointPlan(core, memoryBudget: 1 << 30) else {
            Issue.record("a core-scope Reformer decode point is not skipped")
            return
        }
        #expect(reason.contains("--scope layer"))
        var layer = core
        (layer.scope, layer.layers, layer.ffnMultiplier) = (.layer, 1, 4)
        #expect(PointPlan(layer, memoryBudget: 1 << 30) == .run)
        #expect(layer.cost.flops > 0)
    }
}
