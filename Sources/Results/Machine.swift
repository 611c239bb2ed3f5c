import Foundation

/// Facts about the machine a run was measured on (read by the harness from /proc and uname).
public struct Machine: Codable, Equatable, Sendable {
    public var cpuModel: String
    public var logicalCores: Int
    public var memoryTotalBytes: Int
    public var kernel: String
    /// cpufreq governor of CPU 0, when the kernel exposes one (VMs often do not).
    public var governor: String?

    public init(cpuModel: String, logicalCores: Int, memoryTotalBytes: Int, kernel: String, governor: String?) {
        (self.cpuModel, self.logicalCores, self.memoryTotalBytes, self.kernel, self.governor) =
            (cpuModel, logicalCores, memoryTotalBytes, kernel, governor)
    }
}
