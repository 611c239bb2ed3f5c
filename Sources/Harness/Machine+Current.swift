#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Profiling
import Results

extension Machine {
    public static func current() -> Machine {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespaces) }
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let governor = try? String(contentsOfFile: "/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", encoding: .utf8)
        return Machine(
            cpuModel: model ?? "unknown", logicalCores: ProcessInfo.processInfo.activeProcessorCount,
            memoryTotalBytes: Int(ProcessInfo.processInfo.physicalMemory), kernel: release,
            governor: governor?.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// `MemAvailable` from /proc/meminfo: what can be allocated without swapping, right now.
    public static func availableMemoryBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
        return try? RSSProbe.bytes("MemAvailable", in: text, file: "/proc/meminfo")
    }
}
