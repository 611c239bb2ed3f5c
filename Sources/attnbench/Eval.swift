import ArgumentParser
import AttentionKernels
import Foundation
import Harness
import Reporting
import Results
import TensorIO

/// `attnbench eval`: one mechanism on user tensors, for cross-checking with NumPy or PyTorch.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Run one mechanism on .npy inputs and write the output (and, with --grad-out, the gradients) as .npy.",
        discussion: """
            Q, K and V are float32 arrays of shape [B, H, n, d] or [n, d]; the output has the same \
            shape. Linformer takes E and F as [k, n] (shared by all heads) or [H, k, n] (one per head); \
            --e alone means E = F (key-value sharing). Without --e, seeded projections are made from \
            --projected-length, --sharing and --seed. With --grad-out dO.npy (the shape of Q) it runs a \
            training step, the forward pass then the backward pass for dO = ∂L/∂out, and writes \
            ∂L/∂Q, ∂L/∂K, ∂L/∂V to dq.npy, dk.npy, dv.npy in --grads-dir (and ∂L/∂E to de.npy with --e, \
            ∂L/∂F to df.npy with --f, shaped like them; with --e alone, de.npy is the gradient of the \
            one shared matrix, both paths summed).
            """)

    @Option(help: "\(MechanismDescriptor.names()).")
    var mechanism: Mechanism

    @Flag(help: "Causal masking (\(MechanismDescriptor.names(of: Eval.causalMechanisms, conjunction: "and")) only).")
    var causal = false

    @Option(name: .customLong("q"), help: "Queries (.npy).") var qPath: String
    @Option(name: .customLong("k"), help: "Keys (.npy).") var kPath: String
    @Option(name: .customLong("v"), help: "Values (.npy).") var vPath: String
    @Option(name: .customLong("e"), help: "Linformer key projection E (.npy).") var ePath: String?
    @Option(name: .customLong("f"), help: "Linformer value projection F (.npy).") var fPath: String?
    @Option(help: "Linformer k for seeded projections (when --e is not given).") var projectedLength: Int?
    @Option(help: "Linformer sharing for seeded projections: none, headwise, key-value.")
    var sharing: ProjectionSharing = .headwise
    @Option(help: "Seed for Linformer's projections, Reformer's rotations and Performer's features.") var seed: UInt64 =
        42
    @Option(help: "Reformer's hashing rounds (default 1).") var hashRounds: Int?
    @Option(help: "Reformer's buckets per round, even (default 64).") var buckets: Int?
    @Option(help: "Reformer's sorted tokens per chunk (default 32).") var chunk: Int?
    @Option(help: "Performer's random features m (default 256).") var features: Int?
    @Option(
        name: .customLong("random-out"),
        help:
            "Write the mechanism's own random projections (.npy): Performer's W = d^(-1/4)·ω [m, d], Reformer's rotations [rounds, d, buckets/2]."
    )
    var randomOutPath: String?
    @Option(help: "Flash attention's tiles as QUERYxKEY rows, e.g. 16x32 (default: the kernel's own).")
    var blocks: String?
    @Option(name: .customLong("out"), help: "Output file (.npy).") var outPath: String
    @Option(
        name: .customLong("grad-out"),
        help: "Upstream gradient dO = ∂L/∂out (.npy, the shape of --q): also run the backward pass.")
    var gradOutPath: String?
    @Option(help: "Folder for the gradients (dq.npy, dk.npy, dv.npy; de.npy, df.npy with --e, --f); needs --grad-out.")
    var gradsDir: String?
    @Option(help: "Threads for OpenBLAS and the kernels' parallel loops.") var threads: Int = 1
    @Option(
        help:
            "Heap the call may need, e.g. 12G (default: 60% of available memory); checked with the cost model before anything is allocated."
    )
    var memoryBudget: String?
    @Flag(help: "Replace --out when it exists.") var overwrite = false

    func validate() throws {
        guard (1...SweepPoint.maximumThreads).contains(threads) else {
            throw ValidationError("--threads must be between 1 and \(SweepPoint.maximumThreads), got \(threads)")
        }
        let descriptor = mechanism.descriptor
        let projected = MechanismDescriptor.registry.filter { $0.axes.contains(.projectedLength) }
        if !descriptor.axes.contains(.projectedLength) && (ePath != nil || fPath != nil || projectedLength != nil) {
            let names = MechanismDescriptor.names(of: projected)
            throw ValidationError("--e, --f and --projected-length are for --mechanism \(names) only")
        }
        if fPath != nil && ePath == nil { throw ValidationError("--f needs --e") }
        if (gradOutPath == nil) != (gradsDir == nil) {
            throw ValidationError(
                "--grad-out and --grads-dir go together: dO to differentiate with, and a folder for the gradients")
        }
        if blocks != nil && mechanism.kernels.makeTiled == nil {
            let tiled = MechanismKernels.registry.filter { $0.makeTiled != nil }.map(\.descriptor)
            throw ValidationError("--blocks is for --mechanism \(MechanismDescriptor.names(of: tiled)) only")
        }
        if descriptor.axes.contains(.projectedLength) && ePath == nil && projectedLength == nil {
            throw ValidationError("\(mechanism.rawValue) needs --e (and optionally --f) or --projected-length K")
        }
        if let k = projectedLength, k < 1 { throw ValidationError("--projected-length must be at least 1") }
        let axes: [(String, Int?, MechanismAxis, ClosedRange<Int>)] = [
            ("--hash-rounds", hashRounds, .hashRounds, 1...1024), ("--buckets", buckets, .buckets, 2...(1 << 20)),
            ("--chunk", chunk, .chunk, 1...(1 << 20)), ("--features", features, .features, 1...(1 << 20)),
        ]
        for (flag, value, axis, range) in axes {
            guard let value else { continue }
            guard descriptor.axes.contains(axis) else {
                let owners = MechanismDescriptor.registry.filter { $0.axes.contains(axis) }
                throw ValidationError("\(flag) is for --mechanism \(MechanismDescriptor.names(of: owners)) only")
            }
            guard range.contains(value) else {
                throw ValidationError(
                    "\(flag) must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
            }
        }
        if let buckets, buckets % 2 != 0 { throw ValidationError("--buckets must be even, got \(buckets)") }
        if randomOutPath != nil && !(descriptor.axes.contains(.features) || descriptor.axes.contains(.hashRounds)) {
            throw ValidationError("--random-out is for mechanisms with random projections (performer, reformer)")
        }
        if !descriptor.supports.causal && causal {
            let others = MechanismDescriptor.names(of: Self.causalMechanisms)
            throw ValidationError(
                "\(descriptor.title) has no causal form (the paper defines none); drop --causal or use \(others)")
        }
        if !descriptor.supports.backward && gradOutPath != nil {
            throw ValidationError("\(descriptor.title) has no backward pass, so --grad-out cannot be used with it")
        }
    }

    func run() throws {
        try reportingUsageErrors {
            if threads > ProcessInfo.processInfo.activeProcessorCount {
                FileHandle.standardError.write(
                    Data(
                        "attnbench: warning: --threads \(threads) is more than the \(ProcessInfo.processInfo.activeProcessorCount) cores of this machine\n"
                            .utf8))
            }
            ComputeThreads.set(threads)
            let inputs = [qPath, kPath, vPath] + [ePath, fPath, gradOutPath].compactMap { $0 }
            let gradientFiles = gradientPaths
            let outputs = [outPath] + gradientFiles.map(\.path) + [randomOutPath].compactMap { $0 }
            try OutputFile.checkDistinct(outputs, inputs: inputs)
            for path in outputs {
                try OutputFile.checkWritable(path, overwrite: overwrite, inputs: inputs)
            }
            var budgetSpec = SweepSpec()
            if let memoryBudget { try budgetSpec.apply("memory-budget", memoryBudget) }
            let budget = budgetSpec.effectiveMemoryBudget()
            let q = try loadAttentionInput(qPath, "q")
            let k = try loadAttentionInput(kPath, "k")
            let v = try loadAttentionInput(vPath, "v")
            guard k.shape == q.shape, v.shape == q.shape else {
                throw UsageError("q, k and v must have one shape: q \(q.shape), k \(k.shape), v \(v.shape)")
            }
            let outputGradient = try gradOutPath.map { try loadAttentionInput($0, "dO") }
            if let outputGradient, outputGradient.shape != q.shape {
                throw UsageError(
                    "dO (\(gradOutPath ?? "")) has shape \(outputGradient.shape) but q has \(q.shape): the gradient of the output has the output's shape"
                )
            }
            let shape = AttentionShape(of: q.tensor)
            guard shape.headDim >= 1, shape.length >= 1 else {
                throw UsageError("q has shape \(q.shape): n and d must be at least 1")
            }
            if let kp = projectedLength, ePath == nil {
                // Seeded projections are allocated before the call: check them against the budget first.
                let bytes = LinformerAttention.cost(for: shape, projectedLength: kp, sharing: sharing).parameterBytes
                guard bytes <= budget else {
                    throw UsageError(
                        "--projected-length \(kp) needs \(formatBytes(bytes)) of projections, over the memory budget \(formatBytes(budget)); lower it or raise --memory-budget"
                    )
                }
            }
            let settings = MechanismSettings(
                causal: causal, hashRounds: hashRounds, buckets: buckets, chunk: chunk, features: features)
            let parameters = mechanism.kernels.cost(settings, shape, .forward, threads).parameterBytes
            guard ePath != nil || parameters <= budget else {
                throw UsageError(
                    "\(mechanism.rawValue)'s parameters need \(formatBytes(parameters)), over the memory budget \(formatBytes(budget)); lower them or raise --memory-budget"
                )
            }
            let kernel = try makeKernel(shape: shape, settings: settings)
            if let randomOutPath,
                let random = (kernel as? any RandomlyProjected)?.randomProjection(headDim: shape.headDim)
            {
                try OutputFile.write(
                    NPY.encode(NPYArray(shape: random.shape, scalars: random.scalars)), to: randomOutPath,
                    overwrite: overwrite, inputs: inputs)
            }
            guard let outputGradient else {
                let cost = kernel.cost(for: shape)
                guard cost.callPeakBytes <= budget else {
                    throw UsageError(
                        "\(kernel.name) on \(shape) needs \(formatBytes(cost.callPeakBytes)) for one call, over the memory budget \(formatBytes(budget)); use smaller inputs or raise --memory-budget"
                    )
                }
                let out = kernel(q: q.tensor, k: k.tensor, v: v.tensor)
                try OutputFile.write(
                    NPY.encode(NPYArray(shape: q.shape, scalars: out.scalars)), to: outPath, overwrite: overwrite,
                    inputs: inputs)
                return
            }
            guard let differentiable = kernel as? any DifferentiableAttention else {
                throw UsageError("\(kernel.name) has no backward pass, so --grad-out cannot be used with it")
            }
            let cost = differentiable.cost(for: shape, pass: .train)
            guard cost.callPeakBytes <= budget else {
                throw UsageError(
                    "a training step of \(kernel.name) on \(shape) needs \(formatBytes(cost.callPeakBytes)), over the memory budget \(formatBytes(budget)); use smaller inputs or raise --memory-budget"
                )
            }
            let (out, gradients) = differentiable.trainingStep(
                q: q.tensor, k: k.tensor, v: v.tensor, outputGradient: outputGradient.tensor)
            let computed = Dictionary(gradients.named.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
            var files = [(outPath, NPYArray(shape: q.shape, scalars: out.scalars))]
            for (name, path) in gradientFiles {
                guard let tensor = computed[name] else { throw UsageError("\(kernel.name) computes no \(name)") }
                // dq, dk, dv in the inputs' own shape ([n, d] stays [n, d]); de, df in E's and F's.
                files.append(
                    (
                        path,
                        NPYArray(
                            shape: ["dq", "dk", "dv"].contains(name) ? q.shape : tensor.shape, scalars: tensor.scalars)
                    ))
            }
            for (path, array) in files {
                try OutputFile.write(NPY.encode(array), to: path, overwrite: overwrite, inputs: inputs)
            }
        }
    }

    /// The mechanisms with a causal form, in registry order.
    static var causalMechanisms: [MechanismDescriptor] { MechanismDescriptor.registry.filter(\.supports.causal) }

    /// The gradient files `--grads-dir` gets: dq, dk, dv, then de with --e and df with --f.
    private var gradientPaths: [(name: String, path: String)] {
        guard let gradsDir else { return [] }
        let names = ["dq", "dk", "dv"] + (ePath == nil ? [] : ["de"]) + (fPath == nil ? [] : ["df"])
        let folder = gradsDir.hasSuffix("/") ? gradsDir : gradsDir + "/"
        return names.map { ($0, folder + "\($0).npy") }
    }

    private func makeKernel(shape: AttentionShape, settings: MechanismSettings) throws -> any AttentionKernel {
        var projections: LinformerProjections?
        if mechanism.descriptor.axes.contains(.projectedLength) {
            if let ePath {
                for path in [ePath] + [fPath].compactMap({ $0 }) { try InputLimit.check(path) }
                let e = try NPY.read(contentsOf: URL(fileURLWithPath: ePath))
                let f = try fPath.map { try NPY.read(contentsOf: URL(fileURLWithPath: $0)) }
                for (label, array) in [("E", e), ("F", f ?? e)] {
                    guard array.shape.last == shape.length else {
                        throw UsageError(
                            "\(label) has shape \(array.shape) but the sequence has n=\(shape.length): its last dimension must be n"
                        )
                    }
                }
                let eTensor = Tensor(shape: e.shape, scalars: e.scalars, label: "loaded E")
                let fTensor = f.map { Tensor(shape: $0.shape, scalars: $0.scalars, label: "loaded F") } ?? eTensor
                projections = try LinformerProjections(e: eTensor, f: fTensor, heads: shape.heads)
            } else if let projectedLength {
                projections = LinformerProjections.seeded(
                    k: projectedLength, length: shape.length, heads: shape.heads, sharing: sharing, seed: seed)
            }
        }
        if let blocks, let makeTiled = mechanism.kernels.makeTiled {
            let tilings = try Kernels.tilings(blocks)
            guard tilings.count == 1 else { throw UsageError("--blocks takes one tiling, got '\(blocks)'") }
            return makeTiled(causal, tilings[0])
        }
        return try makeAttentionKernel(
            mechanism, settings: settings, projections: projections, seed: seed, headDim: shape.headDim)
    }

    /// Reads an attention input, `[B, H, n, d]` or `[n, d]` (taken as B = H = 1).
    private func loadAttentionInput(_ path: String, _ label: String) throws -> (tensor: Tensor, shape: [Int]) {
        try InputLimit.check(path)
        let array = try NPY.read(contentsOf: URL(fileURLWithPath: path))
        let dims: [Int]
        switch array.shape.count {
        case 4: dims = array.shape
        case 2: dims = [1, 1] + array.shape
        default: throw UsageError("\(label) (\(path)) has shape \(array.shape); expected [B, H, n, d] or [n, d]")
        }
        return (Tensor(shape: dims, scalars: array.scalars, label: "loaded input"), array.shape)
    }
}

extension Mechanism: ExpressibleByArgument {}
extension ProjectionSharing: ExpressibleByArgument {}
