import AttentionKernels
import Decoding
import EncoderLayer
import Testing

/// A `recompute` step timed on its own is the step a whole generation takes.
@Suite struct RecomputeStepTests {
    /// Step i alone, over the prefix the generation recorded, gives the generation's output at i.
    @Test func aStepAloneIsTheGenerationsStep() throws {
        let configuration = LayerConfiguration(heads: 2, headDim: 8, ffnMultiplier: 2, layers: 2)
        let generation = try LayerGeneration(
            configuration: configuration, mechanism: .standard, decoder: .recompute,
            batch: 2, length: 12, prompt: 3, seed: 11)
        let record = LayerDecodeRecord(configuration: configuration, batch: 2, length: 12)
        generation(record: record)
        for i in [0, 2, 7, 11] {
            let y = generation.recomputeStep(position: i, prefix: record.inputs)
            for b in 0..<2 {
                let (got, want) = (y.matrix(b).row(0), record.outputs.matrix(b).row(i))
                for c in 0..<configuration.modelDim {
                    // The record runs the training forward, the step the inference one: the same sums,
                    // rounded alike up to a few ulps of LayerNorm's O(1) outputs.
                    #expect(abs(got[c] - want[c]) <= 1e-5, "step \(i), batch \(b), column \(c)")
                }
            }
        }
    }
}
