import Foundation

/// The process's resident set size from `/proc/self/status`, and its high-water mark.
///
/// What ``peakBytes()`` covers: the most physical memory the whole process held since the last
/// ``resetPeak()`` (`VmHWM`): every thread, OpenBLAS's own mmap'd buffers, the binary, the inputs,
/// and pages the allocator keeps after a free. Resetting writes `5` to `/proc/self/clear_refs`
/// (see proc_pid_clear_refs(5)), which sets VmHWM back to the current RSS.
public enum RSSProbe {
    /// Why a figure could not be read: one line, naming the file and what was wrong.
    public struct Unavailable: Error, CustomStringConvertible, Equatable {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    /// The file ``peakBytes()`` and ``currentBytes()`` read.
    public static let statusPath = "/proc/self/status"
    static let clearRefsPath = "/proc/self/clear_refs"

    /// Sets the high-water mark to the current RSS.
    public static func resetPeak() throws(Unavailable) {
        guard let handle = FileHandle(forWritingAtPath: clearRefsPath) else {
            throw Unavailable(
                "cannot open \(clearRefsPath) for writing, so VmHWM cannot be reset (not Linux, or /proc is read-only here)"
            )
        }
        defer { try? handle.close() }
        do { try handle.write(contentsOf: Data("5".utf8)) } catch {
            throw Unavailable("writing 5 to \(clearRefsPath) failed: \(error.localizedDescription)")
        }
    }

    /// Peak resident bytes since the last reset (`VmHWM`).
    public static func peakBytes() throws(Unavailable) -> Int { try bytes("VmHWM", in: status(), file: statusPath) }

    /// Resident bytes now (`VmRSS`).
    public static func currentBytes() throws(Unavailable) -> Int { try bytes("VmRSS", in: status(), file: statusPath) }

    /// The value of the line `key:` in the text of a `/proc` file such as `/proc/self/status` or
    /// `/proc/meminfo`, in bytes. The kernel prints `VmHWM:\t    1234 kB`: a tab, the number
    /// right-aligned in 8 columns (so no space at all from 8 digits on), a space and `kB`; fields are
    /// therefore split on any run of whitespace. `file` only names the source in errors.
    public static func bytes(_ key: String, in text: String, file: String = statusPath) throws(Unavailable) -> Int {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(key + ":") }) else {
            throw Unavailable("\(file) has no \(key) line")
        }
        let fields = line.split(whereSeparator: \.isWhitespace)
        guard fields.count == 3, fields[2] == "kB", let kib = Int(fields[1]), kib >= 0 else {
            throw Unavailable(
                "\(file): cannot read \"\(line.debugDescription.dropFirst().dropLast())\", expected \"\(key): <number> kB\""
            )
        }
        let (bytes, overflow) = kib.multipliedReportingOverflow(by: 1024)
        guard !overflow else { throw Unavailable("\(file): \(key) of \(kib) kB does not fit in a byte count") }
        return bytes
    }

    private static func status() throws(Unavailable) -> String {
        do { return try String(contentsOfFile: statusPath, encoding: .utf8) } catch {
            throw Unavailable("cannot read \(statusPath): \(error.localizedDescription)")
        }
    }
}
