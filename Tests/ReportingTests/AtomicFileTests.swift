import Foundation
import Reporting
import Testing

@Suite struct AtomicFileTests {
    @Test func writesANewFileCreatingItsFolderAndLeavesNoTemporaryFile() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try AtomicFile.write("set xlabel \"N\"\n", to: folder.path + "/Plots/x.gp", overwrite: false)
        #expect(try folder.contents("Plots/x.gp") == "set xlabel \"N\"\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path + "/Plots") == ["x.gp"])
    }

    @Test func refusesAnExistingFileUnlessOverwriting() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let path = folder.path + "/x.gp"
        try AtomicFile.write("old\n", to: path, overwrite: false)
        #expect(throws: UsageError("\(path) exists; pass --overwrite to replace it")) {
            try AtomicFile.write("new\n", to: path, overwrite: false)
        }
        #expect(try folder.contents("x.gp") == "old\n")
        try AtomicFile.write("new\n", to: path, overwrite: true)
        #expect(try folder.contents("x.gp") == "new\n")
        #expect(try folder.names() == ["x.gp"])
    }

    @Test func aFailureRemovesTheTemporaryFileAndKeepsTheDestination() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let path = folder.path + "/taken"
        try FileManager.default.createDirectory(atPath: path + "/inside", withIntermediateDirectories: true)
        #expect(throws: FileError("cannot write \(path): Is a directory; it is a folder; give the path of a file")) {
            try AtomicFile.write("x\n", to: path, overwrite: true)
        }
        #expect(try folder.names() == ["taken"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: path) == ["inside"])
        try "x".write(toFile: folder.path + "/plain", atomically: false, encoding: .utf8)
        #expect(
            throws: FileError(
                "cannot create \(folder.path)/plain/x.gp: Not a directory; a part of the path is a file, not a folder; choose another path"
            )
        ) {
            try AtomicFile.write("x\n", to: folder.path + "/plain/x.gp", overwrite: true)
        }
    }
}
