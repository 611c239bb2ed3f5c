import Foundation

/// Facts about the machine a run was measured on (read by the harness from /proc, /sys and uname).
/// Fields added after the first version are optional, so older metadata still reads.
public struct Machine: Codable, Equatable, Sendable {
    /// One CPU cache as Linux describes it (`/sys/devices/system/cpu/cpu0/cache/index*`).
    public struct Cache: Codable, Equatable, Sendable {
        /// `Data`, `Instruction` or `Unified`.
        public var type: String
        public var level: Int
        public var sizeBytes: Int
        /// Logical CPUs sharing it.
        public var sharedBy: Int

        public init(type: String, level: Int, sizeBytes: Int, sharedBy: Int) {
            (self.type, self.level, self.sizeBytes, self.sharedBy) = (type, level, sizeBytes, sharedBy)
        }
    }

    public var cpuModel: String
    public var logicalCores: Int
    public var memoryTotalBytes: Int
    public var kernel: String
    /// cpufreq governor of CPU 0, when the kernel exposes one (VMs often do not).
    public var governor: String?
    /// The short host name (`hostname -s`): which node of a cluster measured a shard.
    public var hostName: String?
    /// `cpu MHz` of the first processor in /proc/cpuinfo, rounded.
    public var mhzPerCPU: Int?
    /// CPU 0's caches, by level.
    public var caches: [Cache]?

    public init(
        cpuModel: String, logicalCores: Int, memoryTotalBytes: Int, kernel: String, governor: String?,
        hostName: String? = nil, mhzPerCPU: Int? = nil, caches: [Cache]? = nil
    ) {
        (self.cpuModel, self.logicalCores, self.memoryTotalBytes, self.kernel, self.governor) =
            (cpuModel, logicalCores, memoryTotalBytes, kernel, governor)
        (self.hostName, self.mhzPerCPU, self.caches) = (hostName, mhzPerCPU, caches)
    }
}
