/// SplitMix64: a small, fast, seedable generator (Steele, Lea & Flood 2014), so inputs and
/// projections are reproducible from one seed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A standard normal sample (Box–Muller on two uniform draws in (0, 1]).
    public mutating func nextNormal() -> Double {
        let u1 = Double(next() >> 11 + 1) * 0x1p-53
        let u2 = Double(next() >> 11) * 0x1p-53
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}

#if canImport(Glibc)
    import Glibc
#endif

extension Tensor {
    /// A tensor of `shape` with independent N(0, std²) entries drawn from `seed`, allocated as `label`.
    public static func normal(_ shape: [Int], seed: UInt64, std: Float = 1, label: StaticString) -> Tensor {
        var rng = SplitMix64(seed: seed)
        let t = Tensor(uninitialized: shape, label: label)
        for i in 0..<t.count { t.data[i] = Float(rng.nextNormal()) * std }
        return t
    }
}
