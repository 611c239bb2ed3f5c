import Foundation
import Reporting
import Testing

@Suite struct CSVWriterTests {
    @Test func writesTheHeaderThenRows() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let writer = try CSVWriter(
            file: AppendingFile(path: folder.path + "/x.csv", truncate: true), columns: ["n", "time_ms"])
        try writer.write(["512", "1.250000"])
        try writer.write(["1024", "say \"hi\", twice"])
        #expect(try folder.contents("x.csv") == "n,time_ms\n512,1.250000\n1024,\"say \"\"hi\"\", twice\"\n")
        #expect(
            try folder.contents("x.csv")
                == CSV.text(columns: ["n", "time_ms"], rows: [["512", "1.250000"], ["1024", "say \"hi\", twice"]]))
    }

    @Test func continuesAFileWithoutRepeatingTheHeader() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let path = folder.path + "/x.csv"
        try "n\n1\n".write(toFile: path, atomically: false, encoding: .utf8)
        let writer = try CSVWriter(file: AppendingFile(path: path, truncate: false), columns: ["n"], writeHeader: false)
        try writer.write(["2"])
        #expect(try folder.contents("x.csv") == "n\n1\n2\n")
    }
}
