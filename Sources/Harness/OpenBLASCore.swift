import AttentionKernels
import CPUFeatures
import Foundation
import Reporting
import Results

/// Choosing OpenBLAS's kernel family ("core") for the CPU the process runs on.
///
/// Debian's OpenBLAS is built with `DYNAMIC_ARCH`: when it loads (before `main`) it reads cpuid and
/// picks one of its cores, or the one named by `OPENBLAS_CORETYPE`. On a CPU model newer than the
/// library it falls back to `Prescott` (SSE3), whose sgemm runs at a fifth of an AVX-512 machine's
/// speed. Since the choice is made at load time, correcting it means starting the process again
/// with `OPENBLAS_CORETYPE` set: ``prepare(_:)`` does that before anything else runs, unless the
/// user set the variable; `--openblas-core NAME` overrides both. The library does not check that
/// the CPU can run a core it is told to use (`SkylakeX` on an AVX2 CPU loads, then dies on its
/// first AVX-512 instruction), so attnbench never asks for one the CPU lacks.
public enum OpenBLASCore {
    /// The instruction sets of a core's sgemm, widest last: what the CPU must have to run it.
    public enum Level: Int, Comparable, Sendable, CustomStringConvertible {
        case sse = 0, avx, avx2, avx512
        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
        public var description: String { ["SSE", "AVX", "AVX2", "AVX-512"][rawValue] }
    }

    /// The x86-64 cores of OpenBLAS 0.3.21's `DYNAMIC_ARCH` build, by the level their kernels need.
    public static let levels: [String: Level] = {
        var table: [String: Level] = [:]
        for name in [
            "Unknown", "Katmai", "Coppermine", "Northwood", "Prescott", "Banias", "Atom", "Core2", "Penryn",
            "Dunnington", "Nehalem", "Athlon", "Opteron", "Opteron_SSE3", "Barcelona", "Nano", "Bobcat",
        ] {
            table[name] = .sse
        }
        for name in ["Sandybridge", "Bulldozer", "Piledriver", "Steamroller"] { table[name] = .avx }
        for name in ["Haswell", "Excavator", "Zen"] { table[name] = .avx2 }
        for name in ["SkylakeX", "Cooperlake"] { table[name] = .avx512 }
        return table
    }()

    /// A core's name as the table spells it ("zen" → "Zen"), or nil when it is not in the table.
    public static func canonicalName(_ name: String) -> String? {
        levels.keys.first { $0.lowercased() == name.lowercased() }
    }

    /// What the CPU supports, read with cpuid and xgetbv (``attnbench_read_cpu_features``).
    public struct CPU: Equatable, Sendable {
        public var vendor: String
        public var avx: Bool
        public var fma: Bool
        public var avx2: Bool
        public var avx512: Bool

        public init(vendor: String, avx: Bool, fma: Bool, avx2: Bool, avx512: Bool) {
            (self.vendor, self.avx, self.fma, self.avx2, self.avx512) = (vendor, avx, fma, avx2, avx512)
        }

        /// This machine's CPU.
        public static var current: CPU {
            var features = attnbench_cpu_features()
            attnbench_read_cpu_features(&features)
            let vendor = withUnsafeBytes(of: features.vendor) { bytes in
                String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            }
            return CPU(
                vendor: vendor, avx: features.avx != 0, fma: features.fma != 0, avx2: features.avx2 != 0,
                avx512: features.avx512 != 0)
        }

        /// The widest level it runs; nil off x86-64 (no vendor), where the table does not apply.
        public var level: Level? {
            guard !vendor.isEmpty else { return nil }
            if avx512 && avx2 && fma { return .avx512 }
            if avx2 && fma { return .avx2 }
            return avx ? .avx : .sse
        }

        /// The core to run: `SkylakeX` with AVX-512 (F, BW, VL, DQ); with AVX2 and FMA `Zen` on AMD
        /// and Hygon CPUs, `Haswell` on others; `Sandybridge` with AVX; `Prescott` otherwise.
        public var bestCore: String? {
            switch level {
            case nil: nil
            case .avx512: "SkylakeX"
            case .avx2: vendor == "AuthenticAMD" || vendor == "HygonGenuine" ? "Zen" : "Haswell"
            case .avx: "Sandybridge"
            case .sse: "Prescott"
            }
        }
    }

    /// What to do at start-up.
    public enum Plan: Equatable, Sendable {
        /// Run on the core loaded, recorded as chosen by `chosenBy`.
        case keep(chosenBy: String)
        /// Start the process again with `OPENBLAS_CORETYPE=core`, chosen by `chosenBy`.
        case restart(core: String, chosenBy: String)
    }

    /// The environment variables a restarted process reads: the core OpenBLAS loaded first, and
    /// who chose the one it restarted with.
    static let detectedVariable = "ATTNBENCH_OPENBLAS_DETECTED"
    static let chosenByVariable = "ATTNBENCH_OPENBLAS_CHOSEN_BY"

    /// The decision, from the core loaded, the CPU, the user's `OPENBLAS_CORETYPE` (nil when unset
    /// or empty) and `--openblas-core` (nil when not given).
    /// - Throws: ``UsageError`` when `--openblas-core` names a core that is not OpenBLAS's or that
    ///   this CPU cannot run.
    public static func plan(loaded: String, cpu: CPU, userCoreType: String?, requested: String?) throws -> Plan {
        if let requested {
            guard let core = canonicalName(requested) else {
                let names = levels.keys.sorted().joined(separator: ", ")
                throw UsageError("--openblas-core \(requested) is not a core of OpenBLAS 0.3.21; use one of \(names)")
            }
            if let have = cpu.level, let need = levels[core], need > have {
                throw UsageError(
                    "--openblas-core \(core) needs \(need) instructions this CPU lacks (its best core is "
                        + "\(cpu.bestCore ?? "?")); OpenBLAS would stop on an illegal instruction")
            }
            return canonicalName(loaded) == core
                ? .keep(chosenBy: "--openblas-core")
                : .restart(core: core, chosenBy: "--openblas-core")
        }
        if userCoreType != nil { return .keep(chosenBy: "OPENBLAS_CORETYPE") }
        guard let best = cpu.bestCore, let bestLevel = levels[best] else { return .keep(chosenBy: "OpenBLAS") }
        let loadedLevel = canonicalName(loaded).flatMap { levels[$0] } ?? .sse
        return loadedLevel < bestLevel ? .restart(core: best, chosenBy: "attnbench") : .keep(chosenBy: "OpenBLAS")
    }

    /// The record of this process's core, set by ``prepare(_:)``; OpenBLAS's own choice when
    /// `prepare` did not run.
    public nonisolated(unsafe) private(set) static var record = OpenBLASCoreRecord(
        detected: BLAS.coreName, running: BLAS.coreName, best: CPU.current.bestCore, chosenBy: "OpenBLAS")

    /// Run first in `main`: removes `--openblas-core NAME` (or `=NAME`) from `arguments`, restarts
    /// the process on a better core when OpenBLAS picked an older one than the CPU runs (or on the
    /// named core), and sets ``record``. Returns the arguments left; a warning, if any, is in
    /// ``record`` and printed once to stderr by the caller.
    /// - Throws: ``UsageError`` for a bad `--openblas-core`.
    public static func prepare(_ arguments: [String]) throws -> [String] {
        let (rest, requested) = try splitOption(arguments)
        let environment = ProcessInfo.processInfo.environment
        let cpu = CPU.current
        let loaded = BLAS.coreName
        if let chosenBy = environment[chosenByVariable], let detected = environment[detectedVariable] {
            // The restarted process: check that OpenBLAS took the core it was asked for.
            let asked = environment["OPENBLAS_CORETYPE"] ?? ""
            var record = OpenBLASCoreRecord(detected: detected, running: loaded, best: cpu.bestCore, chosenBy: chosenBy)
            if canonicalName(asked) != canonicalName(loaded) {
                record.warning = "OpenBLAS was asked for its \(asked) kernels and runs \(loaded)"
            } else {
                record.warning = belowBest(record, cpu: cpu)
            }
            self.record = record
            // A process this one starts chooses afresh, seeing OPENBLAS_CORETYPE as set by its user.
            unsetenv(detectedVariable)
            unsetenv(chosenByVariable)
            return rest
        }
        let userCoreType = environment["OPENBLAS_CORETYPE"].flatMap { $0.isEmpty ? nil : $0 }
        switch try plan(loaded: loaded, cpu: cpu, userCoreType: userCoreType, requested: requested) {
        case .keep(let chosenBy):
            var record = OpenBLASCoreRecord(detected: loaded, running: loaded, best: cpu.bestCore, chosenBy: chosenBy)
            record.warning = belowBest(record, cpu: cpu)
            self.record = record
        case .restart(let core, let chosenBy):
            setenv("OPENBLAS_CORETYPE", core, 1)
            setenv(detectedVariable, loaded, 1)
            setenv(chosenByVariable, chosenBy, 1)
            execv("/proc/self/exe", CommandLine.unsafeArgv)
            // Only reached when exec failed: carry on with the core loaded, and say so.
            let reason = String(cString: strerror(errno))
            unsetenv("OPENBLAS_CORETYPE")
            unsetenv(detectedVariable)
            unsetenv(chosenByVariable)
            var record = OpenBLASCoreRecord(detected: loaded, running: loaded, best: cpu.bestCore, chosenBy: "OpenBLAS")
            record.warning =
                "could not restart on OpenBLAS's \(core) kernels (\(reason)); "
                + (belowBest(record, cpu: cpu) ?? "running \(loaded)")
            self.record = record
        }
        return rest
    }

    /// `arguments` without `--openblas-core NAME` or `--openblas-core=NAME` (before a `--`), and the
    /// name given (the last one, when given twice).
    /// - Throws: ``UsageError`` when the option has no value.
    public static func splitOption(_ arguments: [String]) throws -> (rest: [String], requested: String?) {
        var rest: [String] = []
        var requested: String?
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" {
                rest += arguments[index...]
                break
            }
            if argument == "--openblas-core" {
                guard index + 1 < arguments.count else {
                    throw UsageError("--openblas-core needs a core name, e.g. Haswell")
                }
                requested = arguments[index + 1]
                index += 2
                continue
            }
            if argument.hasPrefix("--openblas-core=") {
                requested = String(argument.dropFirst("--openblas-core=".count))
            } else {
                rest.append(argument)
            }
            index += 1
        }
        return (rest, requested)
    }

    /// The warning for a run on a core older than the CPU's best, or nil.
    static func belowBest(_ record: OpenBLASCoreRecord, cpu: CPU) -> String? {
        guard let best = cpu.bestCore, let bestLevel = levels[best] else { return nil }
        let level = canonicalName(record.running).flatMap { levels[$0] } ?? .sse
        if let need = canonicalName(record.running).flatMap({ levels[$0] }), let have = cpu.level, need > have {
            return "OpenBLAS runs its \(record.running) kernels, which need instructions this CPU lacks "
                + "(its best is \(best)): expect a crash; unset OPENBLAS_CORETYPE"
        }
        guard level < bestLevel else { return nil }
        return "OpenBLAS runs its \(record.running) kernels (set by \(record.chosenBy)), older than this CPU's best "
            + "(\(best)): times and efficiencies are not this machine's; pass --openblas-core \(best)"
    }
}
