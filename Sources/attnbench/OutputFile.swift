import Foundation
import Harness
import Reporting

#if canImport(Glibc)
    import Glibc
#endif

/// The rules every file a command writes in one go follows (a report, plots, max-batch results,
/// `eval`'s output, a baseline): an existing file is replaced only with `--overwrite`; an output
/// that is one of the command's inputs is refused (even through another path or a link); the text
/// goes to a temporary file that is renamed into place, so a failure leaves the old file whole; a
/// results CSV that a run is writing (or one of its sidecars) is refused (``WriterLock``).
enum OutputFile {
    /// Refuses `path` when it exists and `overwrite` is false, when it is one of `inputs`, when it
    /// cannot be created (a folder, `/proc/x`, a read-only file system: a ``FileError``), or when
    /// another process holds the lock on it or on the results CSV it is a sidecar of; otherwise
    /// takes those locks until the process exits.
    static func checkWritable(_ path: String, overwrite: Bool, inputs: [String] = []) throws {
        for input in inputs where sameFile(path, input) {
            throw UsageError("the output \(path) is also an input (\(input)); write to another file")
        }
        if !overwrite && FileManager.default.fileExists(atPath: path) {
            throw UsageError("\(path) already exists; pass --overwrite to replace it, or choose another --output")
        }
        try AtomicFile.checkCreatable(path)  // an unwritable path fails now, not after hours of measuring
        for file in [path] + resultsFiles(owning: path) { try WriterLock.hold(file) }
    }

    /// Refuses, before anything is measured or written, outputs of one command that name one file
    /// (`--out g/dq.npy` beside `--grads-dir g`), and an output that is one of `inputs` (a preset
    /// file, with or without `--overwrite`). Paths are compared as ``sameFile(_:_:)`` does.
    static func checkDistinct(_ outputs: [String], inputs: [String]) throws {
        for (i, output) in outputs.enumerated() {
            for input in inputs where sameFile(output, input) {
                throw UsageError("the output \(output) is also an input (\(input)); write to another file")
            }
            for other in outputs[..<i] where sameFile(output, other) {
                throw UsageError(
                    "two outputs of this command name one file (\(other) and \(output)); choose other paths")
            }
        }
    }

    /// The results CSVs `path` is a sidecar of: `r.csv` and `r` for `r.meta.json`, `r.samples.csv`…
    static func resultsFiles(owning path: String) -> [String] {
        // The sidecars of the empty name are the bare suffixes: ".meta.json", ".samples.csv"…
        ResultsFile.sidecars(of: "").filter { path.hasSuffix($0) }.flatMap { suffix in
            let base = String(path.dropLast(suffix.count))
            return [base + ".csv", base]
        }
    }

    /// Writes `data` to `path` through a temporary file in the same folder (see ``checkWritable``).
    static func write(_ data: Data, to path: String, overwrite: Bool, inputs: [String] = []) throws {
        try checkWritable(path, overwrite: overwrite, inputs: inputs)
        try AtomicFile.write(bytes: [UInt8](data), to: path, overwrite: overwrite)
    }

    static func write(_ text: String, to path: String, overwrite: Bool, inputs: [String] = []) throws {
        try write(Data(text.utf8), to: path, overwrite: overwrite, inputs: inputs)
    }

    /// Whether two paths name one file: the same device and inode when both exist, else the same
    /// absolute, standardised path.
    static func sameFile(_ a: String, _ b: String) -> Bool {
        var sa = stat()
        var sb = stat()
        if stat(a, &sa) == 0 && stat(b, &sb) == 0 { return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino }
        func absolute(_ p: String) -> String {
            URL(fileURLWithPath: p).standardizedFileURL.resolvingSymlinksInPath().path
        }
        return absolute(a) == absolute(b)
    }
}
