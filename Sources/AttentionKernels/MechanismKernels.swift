/// The kernel side of a mechanism: how to build its kernel, its cost model and its Float64
/// reference. Each mechanism declares one beside its kernel (`<Kernel>+Mechanism.swift`, e.g.
/// ``standard`` in `SoftmaxAttention+Mechanism.swift`), its C-free half being
/// ``MechanismDescriptor``; ``registry`` names them all, and ``Mechanism/kernels`` finds one.
public struct MechanismKernels: Sendable {
    public let descriptor: MechanismDescriptor
    /// Builds the kernel (``makeAttentionKernel(_:settings:projections:seed:)``) for the settings'
    /// causal form and axes: it throws for a causal form it lacks; `projections` (Linformer's E and
    /// F) reach only mechanisms with a k axis; `seed` seeds the kernel's own random projections,
    /// drawn for head dimension `headDim`.
    public let make:
        @Sendable (
            _ settings: MechanismSettings, _ projections: LinformerProjections?, _ seed: UInt64, _ headDim: Int
        ) throws(KernelConfigurationError) -> any AttentionKernel
    /// The kernel with explicit query×key tiles (`eval --blocks`), for mechanisms that tile; nil otherwise.
    public let makeTiled: (@Sendable (_ causal: Bool, _ blocks: FlashAttention.Blocks) -> any AttentionKernel)?
    /// The analytic cost of one call of a pass at `threads` workers, without building the kernel
    /// (no allocation): sweep planning and the memory guard.
    public let cost:
        @Sendable (_ settings: MechanismSettings, _ shape: AttentionShape, _ pass: Pass, _ threads: Int)
            -> AttentionCost
    /// The costs of the core inside an encoder layer (``CoreCost``), without building it.
    public let coreCost:
        @Sendable (_ settings: MechanismSettings, _ shape: AttentionShape, _ threads: Int)
            -> CoreCost
    /// The causal core a decoding encoder stack runs (``LayerGeneration``); nil when it does not decode.
    /// It takes the point's settings, the seed of the core's own random projections and d.
    public let decodeCore: (@Sendable (MechanismSettings, UInt64, Int) -> any DifferentiableAttention)?
    /// The kernels `verify` checks for this mechanism on a shape (every causal form and variant;
    /// Linformer's projections seeded with k = `projectedLength` from `seed`), in the order it prints them.
    public let verificationKernels:
        @Sendable (_ shape: AttentionShape, _ projectedLength: Int, _ seed: UInt64)
            -> [any AttentionKernel]
    /// The encoder stacks `verify` and the layer tests check for this mechanism: each variant's name
    /// and its L cores, one per layer (`Verification.layerCores` lists every mechanism's).
    public let layerCores: @Sendable (_ settings: LayerCoreSettings) -> [NamedCores]

    /// A variant's name and its cores, one per layer.
    public typealias NamedCores = (name: String, cores: [any DifferentiableAttention])

    public init(
        _ descriptor: MechanismDescriptor,
        make:
            @escaping @Sendable (MechanismSettings, LinformerProjections?, UInt64, Int) throws(KernelConfigurationError)
            ->
            any AttentionKernel,
        makeTiled: (@Sendable (Bool, FlashAttention.Blocks) -> any AttentionKernel)? = nil,
        cost: @escaping @Sendable (MechanismSettings, AttentionShape, Pass, Int) -> AttentionCost,
        coreCost: @escaping @Sendable (MechanismSettings, AttentionShape, Int) -> CoreCost,
        decodeCore: (@Sendable (MechanismSettings, UInt64, Int) -> any DifferentiableAttention)? = nil,
        verificationKernels: @escaping @Sendable (AttentionShape, Int, UInt64) -> [any AttentionKernel],
        layerCores: @escaping @Sendable (LayerCoreSettings) -> [NamedCores]
    ) {
        self.descriptor = descriptor
        (self.make, self.makeTiled, self.cost, self.coreCost) = (make, makeTiled, cost, coreCost)
        (self.decodeCore, self.verificationKernels) = (decodeCore, verificationKernels)
        self.layerCores = layerCores
    }

    /// What ``layerCores`` builds its stacks for: L = `layers` cores (of `heads` heads) on sequences of
    /// `length`; Linformer's E, F with k = min(`projectedLength`, n), seeded per layer from `seed &+ l`;
    /// flash's tiles `flashBlocks`.
    public struct LayerCoreSettings: Sendable {
        public var layers: Int
        public var heads: Int
        /// d, for cores whose parameters depend on it (Performer's features).
        public var headDim: Int
        public var length: Int
        public var projectedLength: Int
        public var seed: UInt64
        public var flashBlocks: FlashAttention.Blocks

        public init(
            layers: Int, heads: Int, headDim: Int, length: Int, projectedLength: Int, seed: UInt64,
            flashBlocks: FlashAttention.Blocks
        ) {
            (self.layers, self.heads, self.length, self.projectedLength) = (layers, heads, length, projectedLength)
            self.headDim = headDim
            (self.seed, self.flashBlocks) = (seed, flashBlocks)
        }

        /// The same core in every layer, `name`d.
        public func same(_ name: String, _ core: any DifferentiableAttention) -> NamedCores {
            (name, (0..<layers).map { _ in core })
        }
    }

    public var mechanism: Mechanism { descriptor.mechanism }

    /// Every mechanism's kernels: the same mechanisms as ``MechanismDescriptor/registry``. Adding a
    /// mechanism is its own files plus one line here (and one there).
    public static let registry: [MechanismKernels] = [.standard, .linformer, .linear, .flash, .reformer, .performer]

    static let byName: [Mechanism: MechanismKernels] = Dictionary(registry.map { ($0.mechanism, $0) }) { a, _ in
        preconditionFailure("mechanism '\(a.mechanism)' is registered twice in MechanismKernels.registry")
    }
}

/// A mechanism's settings beyond the shape, as a sweep point holds them: causal, and the values of
/// its axes (``MechanismDescriptor/axes``; nil for a mechanism without that axis).
public struct MechanismSettings: Sendable, Equatable {
    public var causal: Bool
    /// Linformer's k (nil: k = 1 in a cost model).
    public var projectedLength: Int?
    /// Linformer's sharing (nil: key-value in a cost model).
    public var sharing: ProjectionSharing?
    /// Reformer's hashing rounds, buckets and chunk (nil: the kernel's defaults, 1, 64 and 32).
    public var hashRounds: Int?
    public var buckets: Int?
    public var chunk: Int?
    /// Performer's feature count m (nil: the kernel's default, 256).
    public var features: Int?

    public init(
        causal: Bool = false, projectedLength: Int? = nil, sharing: ProjectionSharing? = nil,
        hashRounds: Int? = nil, buckets: Int? = nil, chunk: Int? = nil, features: Int? = nil
    ) {
        (self.causal, self.projectedLength, self.sharing) = (causal, projectedLength, sharing)
        (self.hashRounds, self.buckets, self.chunk, self.features) = (hashRounds, buckets, chunk, features)
    }
}

extension Mechanism {
    /// The kernel side of this mechanism (its ``MechanismKernels/registry`` entry).
    public var kernels: MechanismKernels {
        guard let kernels = MechanismKernels.byName[self] else {
            preconditionFailure(
                "mechanism '\(rawValue)' is in MechanismDescriptor.registry but not in MechanismKernels.registry")
        }
        return kernels
    }
}
