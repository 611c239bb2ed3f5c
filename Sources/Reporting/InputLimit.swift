import Foundation

/// The largest input file attnbench reads whole: a sixteenth of the machine's memory, at least
/// 64 MiB. A parsed CSV takes several times its size in memory (a `String` per field, an array per
/// row), so a file past this would end in an allocation failure, a trap or the OOM killer, instead
/// of a message. Results, samples, metadata and preset files are a few megabytes even for large
/// sweeps.
public enum InputLimit {
    /// The bound in bytes.
    public static let bytes: Int = {
        let memory = ProcessInfo.processInfo.physicalMemory / 16
        return max(64 << 20, memory > UInt64(Int.max) ? Int.max : Int(memory))
    }()

    /// Refuses `path` when it is a regular file larger than ``bytes``, before a reader that takes
    /// a file whole (a `.npy` tensor) allocates for it. Anything else is left to the reader.
    /// - Throws: ``UsageError``.
    public static func check(_ path: String) throws(UsageError) {
        guard let size = try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int else { return }
        if size > bytes { throw tooLarge(path, size: size) }
    }

    /// The refusal of `path`, which holds at least `size` bytes.
    static func tooLarge(_ path: String, size: Int) -> UsageError {
        UsageError(
            "\(oneLine(path)) holds \(mebibytes(size)) or more, past the \(mebibytes(bytes)) attnbench reads (1/16 of this machine's memory); is it the right file?"
        )
    }

    private static func mebibytes(_ bytes: Int) -> String { "\(bytes >> 20) MiB" }
}
