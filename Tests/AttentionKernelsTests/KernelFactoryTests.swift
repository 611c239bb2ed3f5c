import AttentionKernels
import Testing

/// `makeAttentionKernel`: the one place a mechanism becomes a kernel.
@Suite struct KernelFactoryTests {
    static let projections = LinformerProjections.seeded(k: 4, length: 10, heads: 2, sharing: .headwise, seed: 1)

    @Test(arguments: [false, true])
    func standardLinearAndFlashAreBuiltWithTheirCausalForm(causal: Bool) throws {
        let standard = try makeAttentionKernel(.standard, causal: causal, projections: nil)
        let linear = try makeAttentionKernel(.linear, causal: causal, projections: nil)
        let flash = try makeAttentionKernel(.flash, causal: causal, projections: nil)
        #expect(standard is SoftmaxAttention && standard.isCausal == causal)
        #expect(linear is LinearAttention && linear.isCausal == causal)
        #expect(flash is FlashAttention && flash.isCausal == causal && flash.mechanism == .flash)
        #expect(flash.name == "flash" + (causal ? " (causal)" : ""))
        #expect(standard.name == "standard" + (causal ? " (causal)" : ""))
    }

    @Test func linformerKeepsItsProjections() throws {
        let kernel = try makeAttentionKernel(.linformer, causal: false, projections: Self.projections)
        let linformer = try #require(kernel as? LinformerAttention)
        #expect(linformer.projections.e === Self.projections.e && linformer.name == "linformer k=4 headwise")
    }

    @Test func impossibleConfigurationsAreErrors() {
        let causal = #expect(throws: KernelConfigurationError.self) {
            try makeAttentionKernel(.linformer, causal: true, projections: Self.projections)
        }
        #expect(causal?.description.hasPrefix("Linformer has no causal form") == true)
        let missing = #expect(throws: KernelConfigurationError.self) {
            try makeAttentionKernel(.linformer, causal: false, projections: nil)
        }
        #expect(
            missing?.description
                == "Linformer needs its projections E and F ([k, n] or [h, k, n]): give them, or a projected length k to seed them"
        )
        for mechanism in [Mechanism.standard, .linear, .flash] {
            let extra = #expect(throws: KernelConfigurationError.self) {
                try makeAttentionKernel(mechanism, causal: false, projections: Self.projections)
            }
            #expect(
                extra?.description
                    == "projections E and F are for Linformer only; \(mechanism.rawValue) attention takes none")
        }
    }
}
