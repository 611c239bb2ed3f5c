/// Bad input from the user (a malformed value, a corrupt file, contradictory flags): what is wrong
/// and what to do, in one line. The CLI exits 64 (`EX_USAGE`) on it.
public struct UsageError: Error, CustomStringConvertible, Equatable, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The file system failed (unwritable folder, disk full, EIO): the path, the reason and what to do,
/// in one line. The CLI exits 74 (`EX_IOERR`) on it.
public struct FileError: Error, CustomStringConvertible, Equatable, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
