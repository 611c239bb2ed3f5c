import Foundation
import Profiling
import Results

#if canImport(Glibc)
    import Glibc
#endif

extension Machine {
    public static func current() -> Machine {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        func field(_ name: String) -> String? {
            cpuinfo.split(separator: "\n").first { $0.hasPrefix(name) }
                .map { String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespaces) }
        }
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let node = withUnsafeBytes(of: &name.nodename) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let governor = try? String(
            contentsOfFile: "/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", encoding: .utf8)
        return Machine(
            cpuModel: field("model name") ?? "unknown", logicalCores: ProcessInfo.processInfo.activeProcessorCount,
            memoryTotalBytes: Int(ProcessInfo.processInfo.physicalMemory), kernel: release,
            governor: governor?.trimmingCharacters(in: .whitespacesAndNewlines),
            hostName: node.split(separator: ".").first.map(String.init),
            mhzPerCPU: field("cpu MHz").flatMap(Double.init).map { Int($0.rounded()) },
            caches: caches())
    }

    /// The 1-, 5- and 15-minute load averages from `/proc/loadavg`; nil when it cannot be read.
    public static func loadAverage() -> [Double]? {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ").prefix(3).compactMap { Double($0) }
        return fields.count == 3 ? fields : nil
    }

    /// How many cores other processes kept busy over `seconds`, while this one waits: the change in
    /// the non-idle jiffies of `/proc/stat`'s `cpu` line (user, nice, system, irq, softirq, steal)
    /// over the change in all of them, times the cores, less this process's own CPU time over the
    /// same window (`getrusage`: OpenBLAS's worker threads spin for a while after they start).
    /// nil when /proc/stat cannot be read.
    public static func busyCores(over seconds: Double = 0.25) -> Double? {
        func ownCPUSeconds() -> Double {
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            let time = { (t: timeval) in Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
            return time(usage.ru_utime) + time(usage.ru_stime)
        }
        func sample() -> (busy: Double, total: Double)? {
            guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
                let line = text.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") })
            else { return nil }
            let fields = line.split(separator: " ").dropFirst().compactMap { Double($0) }
            guard fields.count >= 5 else { return nil }
            let total = fields.prefix(8).reduce(0, +)
            return (total - fields[3] - fields[4], total)  // idle and iowait are not busy
        }
        let (start, own) = (Date(), ownCPUSeconds())
        guard let a = sample() else { return nil }
        Thread.sleep(forTimeInterval: seconds)
        guard let b = sample(), b.total > a.total else { return nil }
        let cores = Double(ProcessInfo.processInfo.activeProcessorCount)
        let ownCores = (ownCPUSeconds() - own) / max(Date().timeIntervalSince(start), 1e-3)
        return max(0, (b.busy - a.busy) / (b.total - a.total) * cores - ownCores)
    }

    /// Cores kept busy by other work from which a run calls the machine busy.
    public static let busyCoresLimit = 0.25

    /// `MemAvailable` from /proc/meminfo: what can be allocated without swapping, right now.
    public static func availableMemoryBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
        return try? RSSProbe.bytes("MemAvailable", in: text, file: "/proc/meminfo")
    }

    /// CPU 0's caches from `/sys/devices/system/cpu/cpu0/cache/index*` (`level`, `type`, `size` like
    /// `32K`, `shared_cpu_list` like `0-1,4`); nil when the kernel does not expose them.
    static func caches(folder: String = "/sys/devices/system/cpu/cpu0/cache") -> [Cache]? {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return nil }
        let caches = entries.filter { $0.hasPrefix("index") }.sorted().compactMap { entry -> Cache? in
            func read(_ file: String) -> String? {
                (try? String(contentsOfFile: "\(folder)/\(entry)/\(file)", encoding: .utf8))?.trimmingCharacters(
                    in: .whitespacesAndNewlines)
            }
            guard let type = read("type"), let level = read("level").flatMap({ Int($0) }),
                let size = read("size").flatMap(sizeBytes)
            else { return nil }
            return Cache(
                type: type, level: level, sizeBytes: size, sharedBy: read("shared_cpu_list").map(cpuCount) ?? 1)
        }
        return caches.isEmpty ? nil : caches
    }

    /// `32K` → 32768, `1M` → 1048576, `512` → 512.
    static func sizeBytes(_ text: String) -> Int? {
        let multipliers: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
        if let last = text.last, let multiplier = multipliers[last] {
            return Int(text.dropLast()).map { $0 * multiplier }
        }
        return Int(text)
    }

    /// The number of CPUs in a list like `0-3,8,10-11` (7).
    static func cpuCount(_ list: String) -> Int {
        list.split(separator: ",").reduce(0) { total, part in
            let ends = part.split(separator: "-").compactMap { Int($0) }
            return total + (ends.count == 2 ? max(ends[1] - ends[0] + 1, 0) : ends.count == 1 ? 1 : 0)
        }
    }
}
