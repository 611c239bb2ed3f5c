import Foundation

/// The process's resident set size from `/proc/self/status`, and its high-water mark.
///
/// What ``peakBytes()`` covers: the most physical memory the whole process held since the last
/// ``resetPeak()`` (`VmHWM`): every thread, OpenBLAS's own mmap'd buffers, the binary, the inputs,
/// and pages the allocator keeps after a free. Resetting writes `5` to `/proc/self/clear_refs`
/// (see proc_pid_clear_refs(5)), which sets VmHWM back to the current RSS.
public enum RSSProbe {
    public struct Unavailable: Error, CustomStringConvertible {
        public let description: String
    }

    /// Sets the high-water mark to the current RSS.
    public static func resetPeak() throws(Unavailable) {
        guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else {
            throw Unavailable(description: "cannot open /proc/self/clear_refs for writing")
        }
        defer { try? handle.close() }
        do { try handle.write(contentsOf: Data("5".utf8)) } catch {
            throw Unavailable(description: "writing /proc/self/clear_refs failed: \(error)")
        }
    }

    /// Peak resident bytes since the last reset (`VmHWM`).
    public static func peakBytes() throws(Unavailable) -> Int { try status("VmHWM") }

    /// Resident bytes now (`VmRSS`).
    public static func currentBytes() throws(Unavailable) -> Int { try status("VmRSS") }

    private static func status(_ key: String) throws(Unavailable) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else {
            throw Unavailable(description: "cannot read /proc/self/status")
        }
        for line in text.split(separator: "\n") where line.hasPrefix(key + ":") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count >= 2, let kib = Int(fields[1]) { return kib * 1024 }
        }
        throw Unavailable(description: "/proc/self/status has no \(key)")
    }
}
