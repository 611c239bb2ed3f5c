import AttentionKernels

/// The parameters of one post-LN encoder layer (``EncoderStack``), or their gradients (same shapes).
///
/// Row vectors multiply from the left (`x·W`), so a matrix is `[inputs, outputs]`:
///
///     wq, wk, wv, wo   [D, D]      bq, bk, bv, bo   [D]
///     w1               [D, M]      b1               [M]
///     w2               [M, D]      b2               [D]
///     gamma1, beta1    [D]         (LayerNorm 1: after attention)
///     gamma2, beta2    [D]         (LayerNorm 2: after the FFN)
///
/// `4·D² + 2·D·M + 9·D + M` floats per layer (BERT-base: 7.1 M).
public struct EncoderWeights: Sendable {
    public let wq, wk, wv, wo: Tensor
    public let bq, bk, bv, bo: Tensor
    public let w1, b1, w2, b2: Tensor
    public let gamma1, beta1, gamma2, beta2: Tensor

    /// Wraps caller-built tensors; their shapes must be the ones listed above for one D and one M.
    public init(
        wq: Tensor, wk: Tensor, wv: Tensor, wo: Tensor, bq: Tensor, bk: Tensor, bv: Tensor, bo: Tensor,
        w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor, gamma1: Tensor, beta1: Tensor, gamma2: Tensor, beta2: Tensor
    ) {
        let (dm, hidden) = (wq.shape.first ?? 0, w1.shape.last ?? 0)
        for (name, t, shape) in [
            ("wq", wq, [dm, dm]), ("wk", wk, [dm, dm]), ("wv", wv, [dm, dm]), ("wo", wo, [dm, dm]),
            ("w1", w1, [dm, hidden]), ("w2", w2, [hidden, dm]), ("b1", b1, [hidden]),
        ] {
            precondition(
                t.shape == shape, "encoder weights: \(name) is \(t.shape), expected \(shape) (D = \(dm), M = \(hidden))"
            )
        }
        for (name, t) in [
            ("bq", bq), ("bk", bk), ("bv", bv), ("bo", bo), ("b2", b2),
            ("gamma1", gamma1), ("beta1", beta1), ("gamma2", gamma2), ("beta2", beta2),
        ] {
            precondition(t.shape == [dm], "encoder weights: \(name) is \(t.shape), expected [\(dm)]")
        }
        (self.wq, self.wk, self.wv, self.wo) = (wq, wk, wv, wo)
        (self.bq, self.bk, self.bv, self.bo) = (bq, bk, bv, bo)
        (self.w1, self.b1, self.w2, self.b2) = (w1, b1, w2, b2)
        (self.gamma1, self.beta1, self.gamma2, self.beta2) = (gamma1, beta1, gamma2, beta2)
    }

    /// D, the model dimension.
    public var modelDim: Int { wq.shape[0] }
    /// M, the FFN's hidden width.
    public var ffnDim: Int { w1.shape[1] }

    /// Seeded parameters, scaled like a real initialisation (Xavier/LeCun: unit-variance inputs give
    /// unit-variance outputs): matrices N(0, 1/fan-in), so wq…wo and w1 N(0, 1/D) and w2 N(0, 1/M).
    /// BERT starts biases and β at 0 and γ at 1; here biases and β are N(0, 0.1²) and γ is
    /// 1 + N(0, 0.1²), so that a test can tell whether each one is applied (a zero β cannot).
    /// All sixteen tensors come from one SplitMix64 stream seeded with `seed`, in the order listed.
    public static func seeded(modelDim dm: Int, ffnDim hidden: Int, seed: UInt64) -> EncoderWeights {
        precondition(dm >= 1 && hidden >= 1, "encoder weights need D, M ≥ 1 (D = \(dm), M = \(hidden))")
        var rng = SplitMix64(seed: seed)
        func normal(_ shape: [Int], std: Float, mean: Float = 0) -> Tensor {
            let t = Tensor(uninitialized: shape, label: "layer: weight")
            for i in 0..<t.count { t.data[i] = mean + std * Float(rng.nextNormal()) }
            return t
        }
        let (wide, narrow) = (1 / Float(dm).squareRoot(), 1 / Float(hidden).squareRoot())
        let (wq, wk, wv, wo) = (
            normal([dm, dm], std: wide), normal([dm, dm], std: wide),
            normal([dm, dm], std: wide), normal([dm, dm], std: wide)
        )
        let (bq, bk, bv, bo) = (
            normal([dm], std: 0.1), normal([dm], std: 0.1), normal([dm], std: 0.1), normal([dm], std: 0.1)
        )
        let (w1, b1, w2, b2) = (
            normal([dm, hidden], std: wide), normal([hidden], std: 0.1),
            normal([hidden, dm], std: narrow), normal([dm], std: 0.1)
        )
        let (gamma1, beta1) = (normal([dm], std: 0.1, mean: 1), normal([dm], std: 0.1))
        let (gamma2, beta2) = (normal([dm], std: 0.1, mean: 1), normal([dm], std: 0.1))
        return EncoderWeights(
            wq: wq, wk: wk, wv: wv, wo: wo, bq: bq, bk: bk, bv: bv, bo: bo,
            w1: w1, b1: b1, w2: w2, b2: b2, gamma1: gamma1, beta1: beta1, gamma2: gamma2, beta2: beta2)
    }

    /// Zero-filled tensors of these shapes (gradients accumulate into them).
    static func zeros(modelDim dm: Int, ffnDim hidden: Int) -> EncoderWeights {
        func z(_ shape: [Int]) -> Tensor { Tensor(zeros: shape, label: "layer: weight gradient") }
        return EncoderWeights(
            wq: z([dm, dm]), wk: z([dm, dm]), wv: z([dm, dm]), wo: z([dm, dm]),
            bq: z([dm]), bk: z([dm]), bv: z([dm]), bo: z([dm]),
            w1: z([dm, hidden]), b1: z([hidden]), w2: z([hidden, dm]), b2: z([dm]),
            gamma1: z([dm]), beta1: z([dm]), gamma2: z([dm]), beta2: z([dm]))
    }

    /// Every tensor with its name, in the order of ``init(wq:wk:wv:wo:bq:bk:bv:bo:w1:b1:w2:b2:gamma1:beta1:gamma2:beta2:)``.
    public var named: [(name: String, tensor: Tensor)] {
        [
            ("wq", wq), ("wk", wk), ("wv", wv), ("wo", wo), ("bq", bq), ("bk", bk), ("bv", bv), ("bo", bo),
            ("w1", w1), ("b1", b1), ("w2", w2), ("b2", b2),
            ("gamma1", gamma1), ("beta1", beta1), ("gamma2", gamma2), ("beta2", beta2),
        ]
    }

    /// Bytes of all sixteen tensors.
    public var byteCount: Int { named.reduce(0) { $0 + $1.tensor.byteCount } }

    /// Bytes of one layer's parameters for D and M, without allocating them:
    /// `(4·D² + 2·D·M + 9·D + M)·4`, saturating.
    public static func byteCount(modelDim dm: Int, ffnDim hidden: Int) -> Int {
        AttentionCost.floats(
            .saturatingSum(
                .saturatingProduct(4, dm, dm), .saturatingProduct(2, dm, hidden),
                .saturatingProduct(9, dm), hidden))
    }
}
