import AttentionKernels
import Foundation
import Testing

/// The two halves of the mechanism registry (``MechanismDescriptor`` and ``MechanismKernels``) agree,
/// and a ``Mechanism`` is exactly a registered name.
@Suite struct MechanismRegistryTests {
    @Test func bothRegistriesNameTheSameMechanismsInOneOrder() {
        #expect(MechanismKernels.registry.map(\.mechanism) == MechanismDescriptor.registry.map(\.mechanism))
        #expect(Set(Mechanism.allCases.map(\.rawValue)).count == Mechanism.allCases.count)
        for m in Mechanism.allCases {
            #expect(m.kernels.mechanism == m && m.descriptor.mechanism == m)
        }
    }

    @Test func aMechanismIsARegisteredName() throws {
        for m in Mechanism.allCases {
            #expect(Mechanism(rawValue: m.rawValue) == m)
            let json = try JSONEncoder().encode([m])
            #expect(String(decoding: json, as: UTF8.self) == "[\"\(m.rawValue)\"]")
            #expect(try JSONDecoder().decode([Mechanism].self, from: json) == [m])
        }
        #expect(Mechanism(rawValue: "trial") == nil && Mechanism(rawValue: "") == nil)
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode([Mechanism].self, from: Data("[\"trial\"]".utf8))
        }
    }

    /// Every kernel a mechanism builds, verifies or stacks names that mechanism, and its causal
    /// form exists exactly when the descriptor says so.
    @Test func eachMechanismsKernelsAreItsOwn() throws {
        let shape = AttentionShape(batch: 1, heads: 2, length: 10, headDim: 4)
        let projections = LinformerProjections.seeded(k: 4, length: 10, heads: 2, sharing: .headwise, seed: 1)
        for m in Mechanism.allCases {
            let takesProjections = m.descriptor.axes.contains(.projectedLength)
            let kernel = try makeAttentionKernel(m, causal: false, projections: takesProjections ? projections : nil)
            #expect(kernel.mechanism == m)
            #expect(m.kernels.verificationKernels(shape, 4, 1).allSatisfy { $0.mechanism == m })
            let causal = Result {
                try makeAttentionKernel(m, causal: true, projections: takesProjections ? projections : nil)
            }
            #expect((try? causal.get())?.isCausal == (m.descriptor.supports.causal ? true : nil), "\(m)")
            #expect((m.kernels.decodeCore != nil) == (Decoder.default(for: m) != nil), "\(m)")
        }
    }
}
