import Foundation
import Reporting
import Testing

@Suite struct AppendingFileTests {
    @Test func createsTheFolderAndTheFileAndAppends() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let file = try AppendingFile(path: folder.path + "/a/b/x.csv", truncate: false)
        try file.write("1\n")
        try file.write("µ\n")
        try file.sync()
        #expect(try folder.contents("a/b/x.csv") == "1\nµ\n")
        #expect(try file.length() == 5)
    }

    @Test func appendsToAnExistingFileOrEmptiesItWhenTruncating() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let path = folder.path + "/x.csv"
        try "old\n".write(toFile: path, atomically: false, encoding: .utf8)
        try AppendingFile(path: path, truncate: false).write("new\n")
        #expect(try folder.contents("x.csv") == "old\nnew\n")
        try AppendingFile(path: path, truncate: true).write("only\n")
        #expect(try folder.contents("x.csv") == "only\n")
    }

    @Test func readsAndCutsThroughTheSameDescriptorKeepingTheInode() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let path = folder.path + "/x.csv"
        try "a,b\n1,\"par".write(toFile: path, atomically: false, encoding: .utf8)
        let inode = try folder.inode("x.csv")
        let file = try AppendingFile(path: path, truncate: false, lock: .exclusive)
        let text = try file.readText()
        #expect(text == "a,b\n1,\"par")
        #expect(try file.readAll() == Array(text.utf8))
        try file.truncate(toLength: CSV.parse(text).completeLength)
        try file.write("2,3\n")
        #expect(try folder.contents("x.csv") == "a,b\n2,3\n")
        #expect(try folder.inode("x.csv") == inode)
    }

    @Test func textThatIsNotUTF8IsAUsageError() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let path = folder.path + "/x.csv"
        try Data([0x61, 0xFF, 0x0A]).write(to: URL(fileURLWithPath: path))
        let file = try AppendingFile(path: path, truncate: false)
        #expect(throws: UsageError("\(path) is not UTF-8 text; move it aside, or pass --overwrite to replace it")) {
            try file.readText()
        }
    }

    @Test func aSecondExclusiveWriterIsRefusedWithTheHoldersPIDAndTruncatesNothing() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let path = folder.path + "/x.csv"
        var first: AppendingFile? = try AppendingFile(path: path, truncate: true, lock: .exclusive)
        try first?.write("n\n1\n")
        // flock locks belong to open files, so a second open in this same process conflicts too.
        #expect(
            throws: UsageError(
                "\(path) is being written by another attnbench (PID \(getpid())); wait for it to finish, or pass --wait-lock"
            )
        ) {
            try AppendingFile(path: path, truncate: true, lock: .exclusive)
        }
        #expect(try folder.contents("x.csv") == "n\n1\n")
        first = nil  // the lock goes with the object: now a new writer gets it
        let second = try AppendingFile(path: path, truncate: false, lock: .exclusive)
        try second.write("2\n")
        #expect(try folder.contents("x.csv") == "n\n1\n2\n")
    }

    @Test func aWaitingWriterWaitsAndThenFollowsAReplacedFile() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let path = folder.path + "/x.csv"
        var first: AppendingFile? = try AppendingFile(path: path, truncate: true, lock: .exclusive)
        try first?.write("old\n")
        let done = DispatchSemaphore(value: 0)
        let outcome = Outcome()
        Thread.detachNewThread {
            do {
                let second = try AppendingFile(path: path, truncate: false, lock: .exclusiveWaiting)
                try second.write("new\n")
                outcome.set("written")
            } catch {
                outcome.set("\(error)")
            }
            done.signal()
        }
        #expect(done.wait(timeout: .now() + 0.3) == .timedOut)  // still waiting for the lock
        // The holder removes its file and releases the lock: the waiter must not write into the
        // removed file, but open (create) the one the path names now.
        try FileManager.default.removeItem(atPath: path)
        first = nil
        #expect(done.wait(timeout: .now() + 10) == .success)
        #expect(outcome.value == "written")
        #expect(try folder.contents("x.csv") == "new\n")
    }

    @Test func fileSystemFailuresAreOneLineFileErrors() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try "x".write(toFile: folder.path + "/plain", atomically: false, encoding: .utf8)
        #expect(
            throws: FileError("cannot open \(folder.path): Is a directory; it is a folder; give the path of a file")
        ) {
            try AppendingFile(path: folder.path, truncate: false)
        }
        #expect(
            throws: FileError(
                "cannot open \(folder.path)/plain/x.csv: Not a directory; a part of the path is a file, not a folder; choose another path"
            )
        ) {
            try AppendingFile(path: folder.path + "/plain/x.csv", truncate: false)
        }
        #expect(
            throws: FileError(
                "cannot create the folder \(folder.path)/plain/sub: Not a directory; a part of the path is a file, not a folder; choose another path"
            )
        ) {
            try AppendingFile(path: folder.path + "/plain/sub/x.csv", truncate: false)
        }
        #expect(
            throws: FileError(
                "cannot open \(folder.path)/new\\nline/x.csv: Not a directory; a part of the path is a file, not a folder; choose another path"
            )
        ) {
            try "x".write(toFile: folder.path + "/new\nline", atomically: false, encoding: .utf8)
            _ = try AppendingFile(path: folder.path + "/new\nline/x.csv", truncate: false)
        }
    }

    @Test(.enabled(if: FileManager.default.isWritableFile(atPath: "/dev/full")))
    func aFullDiskIsAFileErrorNotATrap() throws {
        let file = try AppendingFile(path: "/dev/full", truncate: false)
        #expect(
            throws: FileError("cannot write to /dev/full: No space left on device; free some disk space and run again")
        ) {
            try file.write("n,time_ms\n")
        }
        // The writer's clean-up after a failed header never removes what is not a regular file.
        #expect(throws: FileError.self) { try CSVWriter(file: file, columns: ["n"]) }
        #expect(FileManager.default.fileExists(atPath: "/dev/full"))
    }
}

/// A value set by another thread.
final class Outcome: @unchecked Sendable {
    private let lock = NSLock()
    private var stored = ""
    var value: String { lock.withLock { stored } }
    func set(_ text: String) { lock.withLock { stored = text } }
}
