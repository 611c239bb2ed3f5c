import AttentionKernels
import AttentionReference
import Profiling
import Testing
import _TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// One LSH attention case: a shape and the kernel's hashing settings.
struct LSHCase: Sendable, CustomTestStringConvertible {
    let shape: AttentionShape
    let rounds, buckets, chunk: Int

    init(_ b: Int, _ h: Int, _ n: Int, _ d: Int, rounds: Int, buckets: Int, chunk: Int) {
        shape = AttentionShape(batch: b, heads: h, length: n, headDim: d)
        (self.rounds, self.buckets, self.chunk) = (rounds, buckets, chunk)
    }

    func kernel(causal: Bool, seed: UInt64 = LSHAttention.defaultSeed) -> LSHAttention {
        LSHAttention(rounds: rounds, buckets: buckets, chunk: chunk, causal: causal, seed: seed)
    }

    var testDescription: String { "\(shape) R=\(rounds) b=\(buckets) C=\(chunk)" }
}

/// Reformer's LSH attention (``LSHAttention``) against its Float64 reference over the kernel's own
/// hashes (``ReferenceAttention/lsh(q:k:v:kernel:hashes:)``, bounds derived per element), the
/// reference's gradients against central differences of its forward, identities that pin the
/// algorithm down independently of the reference, and its heap against the cost model.
@Suite struct LSHAttentionTests {
    /// n of one token; n below one chunk; exactly two chunks; n not a multiple of the chunk (one and
    /// four rounds, the last chunk short); several chunks at d = 64; d = 1.
    static let cases = [
        LSHCase(2, 2, 1, 4, rounds: 1, buckets: 4, chunk: 8),
        LSHCase(2, 2, 5, 16, rounds: 1, buckets: 4, chunk: 8),
        LSHCase(1, 2, 16, 8, rounds: 2, buckets: 4, chunk: 8),
        LSHCase(2, 3, 37, 16, rounds: 1, buckets: 8, chunk: 8),
        LSHCase(2, 3, 37, 16, rounds: 4, buckets: 8, chunk: 8),
        LSHCase(1, 2, 100, 64, rounds: 4, buckets: 16, chunk: 32),
        LSHCase(2, 1, 19, 1, rounds: 3, buckets: 2, chunk: 4),
    ]

    @Test(arguments: cases)
    func forwardMatchesTheReference(_ c: LSHCase) {
        let (q, k, v) = Verification.inputs(c.shape, seed: 7)
        for causal in [false, true] {
            let result = Verification.check(c.kernel(causal: causal), q: q, k: k, v: v)
            #expect(
                result.passed,
                "\(result.kernel): max error \(result.maxAbsoluteError), \(result.worstBoundFraction)× its bound")
        }
    }

    @Test(arguments: cases)
    func backwardMatchesTheReference(_ c: LSHCase) {
        let (q, k, v) = Verification.inputs(c.shape, seed: 8)
        let dO = Verification.outputGradient(c.shape, seed: 8)
        for causal in [false, true] {
            let result = Verification.checkGradients(c.kernel(causal: causal), q: q, k: k, v: v, outputGradient: dO)
            #expect(
                result.passed,
                "\(result.kernel): max error \(result.maxAbsoluteError), \(result.worstBoundFraction)× its bound")
        }
    }

    /// The checks can fail: a non-causal kernel against the causal reference, and gradients for dO
    /// judged against the reference for 1.03·dO.
    @Test func wrongResultsFailTheCheck() {
        let c = Self.cases[4]
        let (q, k, v) = Verification.inputs(c.shape, seed: 1)
        let out = c.kernel(causal: false)(q: q, k: k, v: v)
        let causal = ReferenceAttention.output(of: c.kernel(causal: true), q: q, k: k, v: v)
        #expect(!Verification.compare(out, causal, kernel: "wrong", shape: c.shape).passed)
        let kernel = c.kernel(causal: false)
        let dO = Verification.outputGradient(c.shape, seed: 1)
        let gradients = kernel.trainingStep(q: q, k: k, v: v, outputGradient: dO).gradients
        let off = ReferenceAttention.gradients(of: kernel, q: q, k: k, v: v, outputGradient: scaled(dO, by: 1.03))
        #expect(!Verification.compare(gradients, off, kernel: "wrong", shape: c.shape).passed)
    }

    // MARK: - Finite differences

    /// The reference gradients are the derivatives of the reference forward with the hashes held
    /// fixed (they are piecewise constant): central differences as in ``FiniteDifferenceTests`` (odd
    /// multiples of 1/64, h = 2⁻¹²), on a tiny shape with several chunks and two rounds.
    @Test(arguments: [false, true])
    func referenceGradientsAreTheForwardsDerivatives(_ causal: Bool) {
        let shape = AttentionShape(batch: 1, heads: 2, length: 7, headDim: 3)
        let kernel = LSHAttention(rounds: 2, buckets: 4, chunk: 2, causal: causal, seed: 5)
        let (q, k, v, dO) = (
            FiniteDifferenceTests.quantised(shape.dims, seed: 1), FiniteDifferenceTests.quantised(shape.dims, seed: 2),
            FiniteDifferenceTests.quantised(shape.dims, seed: 3), FiniteDifferenceTests.quantised(shape.dims, seed: 4)
        )
        let hashes = kernel.hashes(q: q)
        func loss() -> Double {
            let out = ReferenceAttention.lsh(q: q, k: k, v: v, kernel: kernel, hashes: hashes).values
            return (0..<dO.count).reduce(0) { $0 + Double(dO.data[$1]) * out[$1] }
        }
        let gradients = ReferenceAttention.lshGradients(
            q: q, k: k, v: v, outputGradient: dO, kernel: kernel, hashes: hashes)
        let step = FiniteDifferenceTests.step
        for (x, gradient, label) in [(q, gradients.q, "dq"), (k, gradients.k, "dk"), (v, gradients.v, "dv")] {
            let scale = max(1, gradient.values.map(abs).max() ?? 0)
            var worst = 0.0
            for i in 0..<x.count {
                let saved = x.data[i]
                x.data[i] = saved + step
                let plus = loss()
                x.data[i] = saved - step
                let minus = loss()
                x.data[i] = saved
                worst = max(worst, abs((plus - minus) / (2 * Double(step)) - gradient.values[i]) / scale)
            }
            #expect(worst <= 1e-5, "\(kernel.name) \(label): differences differ by \(worst) of the gradient's scale")
        }
        #expect(gradients.k.values.allSatisfy { $0 == 0 })
    }

    // MARK: - Identities

    /// With one chunk covering all n tokens, one round and no mask, every query attends to every key
    /// but itself: out_i = softmax_{j≠i}(q_i·k̂_j/√d) v_j with k̂_j = q_j/‖q_j‖, computed directly.
    @Test func oneChunkIsSoftmaxOverEveryOtherNormalisedQuery() {
        let shape = AttentionShape(batch: 2, heads: 2, length: 24, headDim: 16)
        let (q, k, v) = Verification.inputs(shape, seed: 12)
        let out = LSHAttention(rounds: 1, buckets: 8, chunk: 64)(q: q, k: k, v: v)
        var worst = 0.0
        for s in 0..<shape.slices {
            let (qs, vs, os) = (q.matrix(s), v.matrix(s), out.matrix(s))
            for i in 0..<shape.length {
                let keys = (0..<shape.length).filter { $0 != i }
                let (weights, _) = Self.softmax(Self.scores(qs, query: i, keys: keys))
                for c in 0..<shape.headDim {
                    let expected = Self.weightedSum(vs, keys: keys, weights: weights, column: c)
                    worst = max(worst, abs(Double(os[i, c]) - expected))
                }
            }
        }
        #expect(worst <= 1e-5, "max difference \(worst)")
    }

    /// The rounds combine as out_i = Σ_r exp(L_ri − logsumexp_r L_ri)·o_ri, with o_ri and L_ri each
    /// round's softmax over its own attended keys (taken from the kernel's sorted orders): the
    /// kernel's single online softmax over all (round, key) pairs must equal it.
    @Test(arguments: [false, true])
    func roundsCombineByTheirLogSumExp(_ causal: Bool) {
        let shape = AttentionShape(batch: 1, heads: 2, length: 45, headDim: 8)
        let kernel = LSHAttention(rounds: 4, buckets: 8, chunk: 8, causal: causal)
        let (q, k, v) = Verification.inputs(shape, seed: 21)
        let out = kernel(q: q, k: k, v: v)
        let hashes = kernel.hashes(q: q)
        var worst = 0.0
        for s in 0..<shape.slices {
            let (qs, vs, os) = (q.matrix(s), v.matrix(s), out.matrix(s))
            // per round: each query's keys, from that round's sorted order alone
            let rounds = (0..<kernel.rounds).map { r in
                ReferenceAttention.lshPairs(orders: [hashes.order(slice: s, round: r)], chunk: 8, causal: causal)
            }
            for i in 0..<shape.length {
                let perRound = rounds.map { Self.softmax(Self.scores(qs, query: i, keys: $0[i])) }
                let (logSums, combined) = (perRound.map(\.logSum), Self.softmax(perRound.map(\.logSum)).logSum)
                for c in 0..<shape.headDim {
                    var expected = 0.0
                    for r in 0..<kernel.rounds {
                        let o = Self.weightedSum(vs, keys: rounds[r][i], weights: perRound[r].weights, column: c)
                        expected += exp(logSums[r] - combined) * o
                    }
                    worst = max(worst, abs(Double(os[i, c]) - expected))
                }
            }
        }
        #expect(worst <= 1e-5, "max difference \(worst)")
    }

    /// The hashes: every order is a permutation sorted by (bucket, position), buckets lie in 0..<b,
    /// the same rotations serve every slice (two equal slices hash alike), the training forward saves
    /// exactly these orders, and causal queries see no later key (so position 0 returns v_0, to rounding).
    @Test func hashesSortByBucketThenPosition() {
        let shape = AttentionShape(batch: 2, heads: 2, length: 50, headDim: 8)
        let kernel = LSHAttention(rounds: 3, buckets: 6, chunk: 8, causal: true)
        let (q, k, v) = Verification.inputs(shape, seed: 3)
        q.matrix(1).base.update(from: q.matrix(0).base, count: shape.length * shape.headDim)
        let hashes = kernel.hashes(q: q)
        for s in 0..<shape.slices {
            for r in 0..<kernel.rounds {
                let (order, buckets) = (hashes.order(slice: s, round: r), hashes.buckets[s * kernel.rounds + r])
                #expect(order.map(Int.init).sorted() == Array(0..<shape.length))
                #expect(buckets.allSatisfy { (0..<6).contains($0) })
                let keys = order.map { (buckets[Int($0)], $0) }
                #expect(zip(keys, keys.dropFirst()).allSatisfy { $0 < $1 }, "slice \(s) round \(r)")
            }
        }
        #expect(hashes.orders[0..<3] == hashes.orders[3..<6])
        let (output, saved) = kernel.trainingForward(q: q, k: k, v: v)
        for s in 0..<shape.slices {
            for r in 0..<kernel.rounds { #expect(saved.order(slice: s, round: r) == hashes.order(slice: s, round: r)) }
            for c in 0..<shape.headDim {  // R rounds of weight 1 on v_0, then a division by R
                let (got, expected) = (output.matrix(s)[0, c], v.matrix(s)[0, c])
                #expect(abs(got - expected) <= 2 * expected.ulp, "slice \(s) column \(c)")
            }
        }
    }

    /// One seed gives one result, bit for bit, at any thread count, and the training forward is the
    /// forward; another seed hashes differently. K's values are never read (shared QK) and its
    /// gradient is zero.
    @Test func resultsDependOnTheSeedAlone() {
        let shape = AttentionShape(batch: 2, heads: 3, length: 70, headDim: 16)
        let kernel = LSHAttention(rounds: 2, buckets: 8, chunk: 16)
        let (q, k, v) = Verification.inputs(shape, seed: 4)
        let one = withComputeThreads(1) { kernel(q: q, k: k, v: v).scalars }
        let two = withComputeThreads(2) { kernel(q: q, k: k, v: v).scalars }
        #expect(one == two)
        #expect(kernel.trainingForward(q: q, k: k, v: v).output.scalars == one)
        #expect(kernel(q: q, k: v, v: v).scalars == one)
        #expect(kernel.hashes(q: q) == kernel.hashes(q: q))
        let other = LSHAttention(rounds: 2, buckets: 8, chunk: 16, seed: 99)
        #expect(other.hashes(q: q) != kernel.hashes(q: q))
        let dO = Verification.outputGradient(shape, seed: 4)
        let gradients = kernel.trainingStep(q: q, k: k, v: v, outputGradient: dO).gradients
        #expect(gradients.k.scalars.allSatisfy { $0 == 0 })
        let again = withComputeThreads(2) { kernel.trainingStep(q: q, k: k, v: v, outputGradient: dO).gradients }
        #expect(zip(gradients.named, again.named).allSatisfy { $0.tensor.scalars == $1.tensor.scalars })
    }

    /// s_ij = q_i·k̂_j/√d in Float64, k̂_j = q_j/‖q_j‖, for `keys` j.
    static func scores(_ q: MatrixView, query i: Int, keys: [Int]) -> [Double] {
        keys.map { j in
            var (dot, squares) = (0.0, 0.0)
            for l in 0..<q.cols {
                dot += Double(q[i, l]) * Double(q[j, l])
                squares += Double(q[j, l]) * Double(q[j, l])
            }
            return dot / squares.squareRoot() / Double(q.cols).squareRoot()
        }
    }

    /// softmax(x) and log Σ exp(x), shifted by the maximum.
    static func softmax(_ x: [Double]) -> (weights: [Double], logSum: Double) {
        let top = x.max() ?? 0
        let weights = x.map { exp($0 - top) }
        let total = weights.reduce(0, +)
        return (weights.map { $0 / total }, top + log(total))
    }

    /// Σ_t weights[t]·v[keys[t], c].
    static func weightedSum(_ v: MatrixView, keys: [Int], weights: [Double], column c: Int) -> Double {
        var sum = 0.0
        for (j, w) in zip(keys, weights) { sum += w * Double(v[j, c]) }
        return sum
    }

    // MARK: - Cost

    /// The listed products carry the cost model's FLOPs; the backward's are 2.5× the chunk products'.
    @Test func productsCarryTheCostModelsFlops() {
        for shape in [
            AttentionShape(batch: 1, heads: 1, length: 1, headDim: 8),
            AttentionShape(batch: 2, heads: 3, length: 100, headDim: 16),
            AttentionShape(batch: 1, heads: 4, length: 4096, headDim: 64),
        ] {
            for kernel in [LSHAttention(), LSHAttention(rounds: 4, buckets: 16, chunk: 7, causal: true)] {
                let products = kernel.products(for: shape)
                #expect(products.flops == kernel.cost(for: shape).flops, "\(kernel.name) at \(shape)")
                let chunkFlops = Array(products.dropFirst()).flops
                #expect(abs(kernel.backwardCost(for: shape).flops - 2.5 * chunkFlops) <= 1e-9 * chunkFlops)
                #expect(products.allSatisfy { $0.m >= 1 && $0.k >= 1 && $0.n >= 1 && $0.count >= 1 })
            }
        }
        let shape = AttentionShape(batch: 2, heads: 2, length: 300, headDim: 32)
        let kernel = LSHAttention(rounds: 2, buckets: 16, chunk: 32, causal: true)
        for pass in Pass.allCases {
            #expect(
                LSHAttention.cost(for: shape, rounds: 2, buckets: 16, chunk: 32, causal: true, pass: pass, threads: 3)
                    == kernel.cost(for: shape, threads: 3, pass: pass))
        }
    }

    /// Memory grows linearly: at n = 65536 the model's intermediates of one call are a small fraction
    /// of a single slice's n×n scores, for the forward and the training step.
    @Test func theCostModelNeverHoldsScores() {
        let shape = AttentionShape(batch: 1, heads: 8, length: 65536, headDim: 64)
        let kernel = LSHAttention(rounds: 4)
        let scores = AttentionCost.floats(shape.length, shape.length)
        for pass in Pass.allCases {
            #expect(kernel.cost(for: shape, threads: 2, pass: pass).intermediateBytes * 100 < scores, "\(pass)")
        }
    }

    /// jemalloc's per-thread peak of one forward call, one backward and one training step against the
    /// cost model (within ``PeakBounds``), at two threads (the scratch is per worker), causal and not.
    @Test func heapMatchesTheCostModel() throws {
        let shape = AttentionShape(batch: 2, heads: 2, length: 1024, headDim: 64)
        try withComputeThreads(2) {
            for kernel in [LSHAttention(rounds: 4), LSHAttention(rounds: 2, buckets: 16, chunk: 48, causal: true)] {
                let measured = try BackwardMemoryTests.peaks(kernel, shape: shape, seed: 6)
                expectNearModel(measured.forward, kernel.cost(for: shape).callPeakBytes, kernel.name)
                expectNearModel(
                    measured.backward, kernel.cost(for: shape, pass: .backward).callPeakBytes, kernel.name + " backward"
                )
                expectNearModel(
                    measured.train, kernel.cost(for: shape, pass: .train).callPeakBytes, kernel.name + " train")
                #expect(measured.train < AttentionCost.floats(shape.slices, shape.length, shape.length))
            }
        }
    }
}
