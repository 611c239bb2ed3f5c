import Harness
import Reporting
import Testing

@Suite struct OpenBLASCoreTests {
    static let xeon = OpenBLASCore.CPU(vendor: "GenuineIntel", avx: true, fma: true, avx2: true, avx512: true)
    static let epyc = OpenBLASCore.CPU(vendor: "AuthenticAMD", avx: true, fma: true, avx2: true, avx512: false)
    static let haswell = OpenBLASCore.CPU(vendor: "GenuineIntel", avx: true, fma: true, avx2: true, avx512: false)
    static let sandy = OpenBLASCore.CPU(vendor: "GenuineIntel", avx: true, fma: false, avx2: false, avx512: false)

    @Test func bestCoreFollowsTheWidestInstructionSet() {
        #expect(Self.xeon.bestCore == "SkylakeX")
        #expect(Self.epyc.bestCore == "Zen")
        #expect(Self.haswell.bestCore == "Haswell")
        #expect(Self.sandy.bestCore == "Sandybridge")
        #expect(OpenBLASCore.CPU(vendor: "", avx: false, fma: false, avx2: false, avx512: false).bestCore == nil)
    }

    /// The Xeon of the performance issue: OpenBLAS 0.3.21 did not know it and loaded Prescott.
    @Test func aFallbackCoreIsReplacedByTheCPUsBest() throws {
        #expect(
            try OpenBLASCore.plan(loaded: "Prescott", cpu: Self.xeon, userCoreType: nil, requested: nil)
                == .restart(core: "SkylakeX", chosenBy: "attnbench"))
        #expect(
            try OpenBLASCore.plan(loaded: "Sandybridge", cpu: Self.epyc, userCoreType: nil, requested: nil)
                == .restart(core: "Zen", chosenBy: "attnbench"))
        #expect(
            try OpenBLASCore.plan(loaded: "Unrecognised", cpu: Self.haswell, userCoreType: nil, requested: nil)
                == .restart(core: "Haswell", chosenBy: "attnbench"))
    }

    @Test func aCoreAsGoodAsTheBestIsKept() throws {
        #expect(
            try OpenBLASCore.plan(loaded: "Zen", cpu: Self.epyc, userCoreType: nil, requested: nil)
                == .keep(chosenBy: "OpenBLAS"))
        // Haswell's kernels on an AMD CPU: the same instruction sets, no restart.
        #expect(
            try OpenBLASCore.plan(loaded: "Haswell", cpu: Self.epyc, userCoreType: nil, requested: nil)
                == .keep(chosenBy: "OpenBLAS"))
        #expect(
            try OpenBLASCore.plan(loaded: "Cooperlake", cpu: Self.xeon, userCoreType: nil, requested: nil)
                == .keep(chosenBy: "OpenBLAS"))
    }

    @Test func theUsersVariableWinsOverTheChoice() throws {
        #expect(
            try OpenBLASCore.plan(loaded: "Prescott", cpu: Self.xeon, userCoreType: "Prescott", requested: nil)
                == .keep(chosenBy: "OPENBLAS_CORETYPE"))
    }

    @Test func theFlagWinsOverTheVariable() throws {
        #expect(
            try OpenBLASCore.plan(loaded: "Prescott", cpu: Self.xeon, userCoreType: "Prescott", requested: "haswell")
                == .restart(core: "Haswell", chosenBy: "--openblas-core"))
        #expect(
            try OpenBLASCore.plan(loaded: "Zen", cpu: Self.epyc, userCoreType: nil, requested: "Zen")
                == .keep(chosenBy: "--openblas-core"))
    }

    @Test func aCoreTheCPUCannotRunOrThatDoesNotExistIsRefused() {
        #expect(throws: UsageError.self) {
            try OpenBLASCore.plan(loaded: "Zen", cpu: Self.epyc, userCoreType: nil, requested: "SkylakeX")
        }
        #expect(throws: UsageError.self) {
            try OpenBLASCore.plan(loaded: "Zen", cpu: Self.epyc, userCoreType: nil, requested: "Pentium")
        }
    }

    @Test func theFlagIsRemovedFromTheArguments() throws {
        #expect(
            try OpenBLASCore.splitOption(["run", "--openblas-core", "Zen", "--preset", "ci"])
                == (["run", "--preset", "ci"], "Zen"))
        #expect(try OpenBLASCore.splitOption(["run", "--openblas-core=haswell"]) == (["run"], "haswell"))
        #expect(
            try OpenBLASCore.splitOption(["eval", "--", "--openblas-core"]) == (["eval", "--", "--openblas-core"], nil))
        #expect(throws: UsageError.self) { try OpenBLASCore.splitOption(["run", "--openblas-core"]) }
    }
}
