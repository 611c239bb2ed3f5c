/// CSV text that no writer produces (a stray quote), with the line it is on: bad input, so the
/// CLI treats it like a ``UsageError`` (exit 64). It names no file: callers prefix the path and
/// say what to do (move the file aside, or overwrite it).
public struct CSVError: Error, CustomStringConvertible, Equatable, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
