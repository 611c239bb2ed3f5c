#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Creating the folder a file goes in, like `mkdir -p`, with errors as ``FileError``.
enum Folder {
    /// The folder part of `path`: `"a/b"` for `"a/b/c.csv"`, `"/"` for `"/c.csv"`, `""` (the
    /// current directory) for `"c.csv"`.
    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Creates the folder of `path` and any missing parents (mode 0755 less the umask). An
    /// existing entry is left as it is: when it is a file, opening the path reports `ENOTDIR`.
    static func create(containing path: String) throws(FileError) {
        try create(parent(of: path))
    }

    static func create(_ folder: String) throws(FileError) {
        var info = stat()
        if folder.isEmpty || stat(folder, &info) == 0 { return }
        let up = parent(of: folder)
        if up != folder { try create(up) }
        if mkdir(folder, 0o755) != 0 {
            let code = errno
            if code != EEXIST { throw FileError(action: "create the folder", path: folder, errno: code) }
        }
    }
}
