#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Bad input: a malformed argument or file, a destination that already exists, a file another
/// process is writing. `description` is one line saying what is wrong and what to do; the CLI
/// prints it and exits 64 (`EX_USAGE`).
public struct UsageError: Error, CustomStringConvertible, Equatable, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A fault of the machine under the benchmark, not of its input: a library the process measures
/// with fails (a jemalloc `mallctl` that returns an error code, OpenBLAS not running the threads it
/// was set to). `description` is one line naming the library, the call and what to check; the CLI
/// exits 70 (`EX_SOFTWARE`): not 64, since nothing the user gave is wrong, and not 71
/// (`EX_OSERR`), which sysexits keeps for failed system calls (fork, pipe), while these are
/// user-space libraries linked into the process that refuse or ignore a request.
public protocol MachineFault: Error, CustomStringConvertible {}

/// A failure of the file system itself: a folder that cannot be created, a file that cannot be
/// opened, read, written, locked or synced (`EACCES`, `EISDIR`, `ENOSPC`, `EIO`…). `description`
/// is one line naming the path, the OS reason and what to do; the CLI exits 74 (`EX_IOERR`).
public struct FileError: Error, CustomStringConvertible, Equatable, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }

    /// "cannot `action` `path`: `strerror(code)`; `advice for code`", e.g.
    /// `cannot write to Results/x.csv: No space left on device; free some disk space and run again`.
    /// Control characters in `path` are shown as escapes (`\n`), so the message stays one line.
    public init(action: String, path: String, errno code: Int32) {
        self.init("cannot \(action) \(oneLine(path)): \(String(cString: strerror(code))); \(Self.advice(code))")
    }

    /// What the user can do about an `errno`.
    static func advice(_ code: Int32) -> String {
        switch code {
        case ENOSPC, EDQUOT: "free some disk space and run again"
        case EACCES, EPERM: "check the permissions of the path, or choose another path"
        case EROFS: "the file system is read-only; choose another path"
        case EISDIR: "it is a folder; give the path of a file"
        case ENOTDIR: "a part of the path is a file, not a folder; choose another path"
        case ENOENT: "check that the path exists"
        case ENAMETOOLONG: "choose a shorter path"
        case EIO: "the storage device reported an error; check it and run again"
        default: "check the path and the disk, then run again"
        }
    }
}

/// `text` with its control characters written as visible escapes (`\n`, `\r`, `\t`, `\u{1B}`), so
/// a path holding a line break still makes a one-line message.
func oneLine(_ text: String) -> String {
    replacingScalars(of: text) { scalar in
        switch scalar {
        case "\n": "\\n"
        case "\r": "\\r"
        case "\t": "\\t"
        case _ where scalar.properties.generalCategory == .control:
            "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
        default: nil
        }
    }
}

/// The escape both a JSON string and a gnuplot double-quoted string read for `\` `"` and the line
/// breaks and tab (`\\`, `\"`, `\n`, `\r`, `\t`), or nil for any other scalar.
func cEscape(_ scalar: Unicode.Scalar) -> String? {
    switch scalar {
    case "\\": "\\\\"
    case "\"": "\\\""
    case "\n": "\\n"
    case "\r": "\\r"
    case "\t": "\\t"
    default: nil
    }
}

/// `text` with every Unicode scalar that `replacement` maps to a string replaced by that string, the
/// others kept: the one loop behind the escaping of messages, JSON strings and gnuplot strings.
func replacingScalars(of text: String, _ replacement: (Unicode.Scalar) -> String?) -> String {
    var out = ""
    for scalar in text.unicodeScalars {
        if let replaced = replacement(scalar) { out += replaced } else { out.unicodeScalars.append(scalar) }
    }
    return out
}
