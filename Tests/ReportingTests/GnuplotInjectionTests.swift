import Foundation
import Reporting
import Testing

/// Scripts made from hostile strings, rendered by the real gnuplot: none of them may run a
/// command. Each case has its own temporary working directory holding the data file; `MARK` in a
/// case is replaced by the absolute path of a marker file that the injected command would create.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/gnuplot"), "needs /usr/bin/gnuplot"))
struct GnuplotInjectionTests {
    static let gnuplot = "/usr/bin/gnuplot"

    static let poisons = [
        "x\"\nsystem(\"touch MARK\")\n#",  // a line break ends the string, the comment, the line
        "x`touch MARK`y",  // backquote substitution, done even inside double quotes
        "x\\\"; system(\"touch MARK\"); print \"",  // a backslash to undo the quote's escape
        "x\nsystem('touch MARK'); '",  // single quotes and a semicolon
        "x\r\nsystem(\"touch MARK\")\r\n",  // CRLF
        "x\\\nsystem(\"touch MARK\")",  // a backslash continuing a line
        "x \\",  // a comment ending in a backslash swallows the next line
        "<touch MARK;",  // a data file name starting with `<` is a shell command
        "|touch MARK;",  // an output file name starting with `|` is a shell command
    ]

    @Test(arguments: poisons)
    func aPoisonedFolderNameTitleAndSourceRunNothing(_ poison: String) throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let marker = directory.appendingPathComponent("pwned").path
        let text = poison.replacingOccurrences(of: "MARK", with: marker)
        let body = """
            set title "\(Gnuplot.escape(text))"
            plot DATA using 1:2 with lines title "\(Gnuplot.escape(text))"
            """
        let script = Gnuplot.script(
            folder: text, name: text, title: text, source: text, width: 320, height: 240, body: body)
        let base = directory.path + "/" + text + "/" + text
        try FileManager.default.createDirectory(
            atPath: (base as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try "1 2\n2 3\n".write(toFile: base + ".dat", atomically: false, encoding: .utf8)

        let result = try Self.runGnuplot(script, in: directory)

        #expect(!FileManager.default.fileExists(atPath: marker))
        #expect(result.status == 0, "gnuplot failed: \(result.errors)")
        #expect(FileManager.default.fileExists(atPath: base + ".png"))
        #expect(FileManager.default.fileExists(atPath: base + ".svg"))
    }

    /// The check above is not vacuous: the same string put into the script unescaped does run.
    @Test func anUnescapedPoisonRunsItsCommand() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let marker = directory.appendingPathComponent("pwned").path
        let text = Self.poisons[0].replacingOccurrences(of: "MARK", with: marker)
        _ = try Self.runGnuplot("FOLDER = \"\(text)\"\n", in: directory)
        #expect(FileManager.default.fileExists(atPath: marker))
    }

    @Test func aLiteralReadsBackAsTheSameString() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let text = "a\"b\\c`d$e@f'g;#_^{}\nh\ri\tj\u{1}7\u{1B}x\u{7F}0 µ×—÷"
        _ = try Self.runGnuplot("set print \"out.txt\"\nprint \(Gnuplot.literal(text))\n", in: directory)
        let printed = try Data(contentsOf: directory.appendingPathComponent("out.txt"))
        #expect(printed == Data((text + "\n").utf8))
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gnuplot-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs `gnuplot <script file>` with `directory` as its working directory.
    static func runGnuplot(_ script: String, in directory: URL) throws -> (status: Int32, errors: String) {
        let file = directory.appendingPathComponent("script.gp")
        try script.write(to: file, atomically: false, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: gnuplot)
        process.arguments = [file.path]
        process.currentDirectoryURL = directory
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }
}
