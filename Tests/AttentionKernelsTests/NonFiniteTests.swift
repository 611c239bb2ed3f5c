import AttentionKernels
import AttentionReference
import Decoding
import Testing

/// One non-finite input element (NaN, +inf or −inf) at a chosen place in q, k or v.
struct NonFiniteCase: Sendable, CustomTestStringConvertible {
    enum Input: String, Sendable, CaseIterable { case q, k, v }
    let input: Input
    let row: Int
    let column: Int
    let value: Float

    var testDescription: String { "\(value) in \(input)[slice 1, row \(row), column \(column)]" }

    /// Every input, at the first row, a middle row and the last row, for NaN, +inf and −inf.
    static let all: [NonFiniteCase] = Input.allCases.flatMap { input in
        [0, 17, 36].flatMap { row in
            [Float.nan, .infinity, -.infinity].map {
                NonFiniteCase(input: input, row: row, column: (row + 3) % 16, value: $0)
            }
        }
    }
}

/// Non-finite inputs: every kernel and decoder must give NaN exactly where the Float64 reference
/// does, ±inf exactly where it does, and agree with it within its bound everywhere else. The
/// reference is naive arithmetic, so its pattern is IEEE propagation through the formula: NaN in
/// q_i spoils row i; in k_j every row that sees key j; in v_jc column c of every row that sees it.
@Suite struct NonFiniteTests {
    /// Slice 1 of 2 holds the bad element. n = 37 is two 16-lane blocks and a tail; k = 20 one block and a tail.
    static let shape = AttentionShape(batch: 1, heads: 2, length: 37, headDim: 16)

    static func inputs(_ c: NonFiniteCase) -> (q: Tensor, k: Tensor, v: Tensor) {
        let (q, k, v) = Verification.inputs(shape, seed: 41)
        let target =
            switch c.input {
            case .q: q
            case .k: k
            case .v: v
            }
        target[0, 1, c.row, c.column] = c.value
        return (q, k, v)
    }

    /// Elements where `out` and the reference differ in class (NaN, +inf, −inf, finite) or, both
    /// finite, by more than the bound; and how many reference elements are not finite.
    static func mismatches(_ out: Tensor, _ reference: ReferenceAttention.Output) -> (mismatched: [Int], nonFinite: Int)
    {
        var mismatched: [Int] = []
        var nonFinite = 0
        for i in 0..<out.count {
            let (x, r) = (Double(out.data[i]), reference.values[i])
            if !r.isFinite { nonFinite += 1 }
            let same =
                if r.isNaN { x.isNaN } else if r.isInfinite { x == r } else {
                    x.isFinite && !(abs(x - r) > reference.bounds[i])
                }
            if !same { mismatched.append(i) }
        }
        return (mismatched, nonFinite)
    }

    @Test(arguments: NonFiniteCase.all)
    func everyKernelPropagatesLikeTheReference(_ c: NonFiniteCase) {
        let (q, k, v) = Self.inputs(c)
        for kernel in Verification.kernels(for: Self.shape, projectedLength: 20, seed: 5) {
            let reference = ReferenceAttention.output(of: kernel, q: q, k: k, v: v)
            let (mismatched, nonFinite) = Self.mismatches(kernel(q: q, k: k, v: v), reference)
            #expect(mismatched.count == 0, "\(kernel.name): first differences at \(mismatched.prefix(4))")
            // The case must matter: NaN always reaches the output, and so does ±inf in a value. Not for
            // Reformer, which never reads K (its keys are the normalised queries) and whose value j
            // reaches only the queries its hashes put in j's windows: there, a NaN in q must.
            let reads = kernel.mechanism == .reformer ? c.input == .q && c.value.isNaN : c.value.isNaN || c.input == .v
            if reads { #expect(nonFinite > 0, "\(kernel.name): the reference stayed finite") }
        }
    }

    /// The decoders, fed the same q, k, v token by token, against causal attention's reference.
    @Test(arguments: NonFiniteCase.all)
    func decodersPropagateLikeTheReference(_ c: NonFiniteCase) {
        let (q, k, v) = Self.inputs(c)
        let standard = ReferenceAttention.standard(q: q, k: k, v: v, causal: true)
        let linear = ReferenceAttention.linear(q: q, k: k, v: v, causal: true)
        for (name, out, reference) in [
            ("kv-cache", Self.decode(KVCacheDecoder.self, q, k, v), standard),
            ("rnn", Self.decode(RecurrentDecoder.self, q, k, v), linear),
        ] {
            let (mismatched, nonFinite) = Self.mismatches(out, reference)
            #expect(mismatched.count == 0, "\(name): first differences at \(mismatched.prefix(4))")
            if c.value.isNaN || c.input == .v { #expect(nonFinite > 0, "\(name): the reference stayed finite") }
        }
    }

    /// Runs `D` over every token of every slice of q, k, v (`[b, h, n, d]`) and returns its outputs.
    static func decode<D: TokenDecoder>(_: D.Type, _ q: Tensor, _ k: Tensor, _ v: Tensor) -> Tensor {
        let shape = AttentionShape(of: q)
        let decoder = D(slices: shape.slices, capacity: shape.length, headDim: shape.headDim)
        let out = Tensor(zeros: shape.dims, label: "test")
        for s in 0..<shape.slices {
            for i in 0..<shape.length {
                decoder.step(
                    slice: s, position: i, q: q.matrix(s).row(i), k: k.matrix(s).row(i),
                    v: v.matrix(s).row(i), out: out.matrix(s).row(i))
            }
        }
        return out
    }
}
