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
    /// - Returns: the folders this call created, outermost first, for ``remove(_:)`` on failure.
    @discardableResult
    static func create(containing path: String) throws(FileError) -> [String] {
        try create(parent(of: path))
    }

    @discardableResult
    static func create(_ folder: String) throws(FileError) -> [String] {
        var info = stat()
        if folder.isEmpty || stat(folder, &info) == 0 { return [] }
        let up = parent(of: folder)
        var created = up != folder ? try create(up) : []
        if mkdir(folder, 0o755) != 0 {
            let code = errno
            if code != EEXIST {
                remove(created)
                throw FileError(action: "create the folder", path: folder, errno: code)
            }
        } else {
            created.append(folder)
        }
        return created
    }

    /// Removes folders ``create(_:)`` made, innermost first, when they are still empty (best
    /// effort): a command that fails leaves no folder behind.
    static func remove(_ created: [String]) {
        for folder in created.reversed() { rmdir(folder) }
    }

    /// Refuses a path that names a folder by its spelling (`out/`, `.`, `..`, `out/.`), before
    /// anything is created: such a path can only be a folder, never the file a command writes.
    static func checkNamesFile(_ path: String) throws(UsageError) {
        let last = path.split(separator: "/", omittingEmptySubsequences: false).last ?? ""
        guard path.hasSuffix("/") || last == "." || last == ".." || path.isEmpty else { return }
        throw UsageError(
            "the output \(oneLine(path)) names a folder; give the path of a file (e.g. \(oneLine(path.hasSuffix("/") ? path : path + "/"))results.csv)"
        )
    }
}
