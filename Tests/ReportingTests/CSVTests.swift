import Reporting
import Testing

@Suite struct CSVTests {
    @Test func fieldsAreQuotedOnlyWhenNeeded() {
        #expect(CSV.line(["a", "b c", "1.5"]) == "a,b c,1.5\n")
        #expect(CSV.line(["k >= n, skipped", "say \"hi\"", "two\nlines", ""]) == "\"k >= n, skipped\",\"say \"\"hi\"\"\",\"two\nlines\",\n")
    }

    @Test func writerEmitsHeaderThenRows() {
        var writer = CSVWriter(output: "", columns: ["n", "time_ms"])
        writer.write(["512", "1.250000"])
        writer.write(["1024", ""])
        #expect(writer.output == "n,time_ms\n512,1.250000\n1024,\n")
    }

    @Test func parseRoundTripsEscapedFields() throws {
        let rows = [["mechanism", "reason"], ["standard", "memory: a, b"], ["linear", "say \"x\"\nok"], ["", ""]]
        let text = rows.map(CSV.line).joined()
        let parsed = try CSV.parse(text)
        #expect(parsed.rows == rows)
        #expect(parsed.unterminated == nil)
    }

    @Test func anUnterminatedLastLineIsReportedSeparately() throws {
        let parsed = try CSV.parse("a,b\n1,2\n3,")
        #expect(parsed.rows == [["a", "b"], ["1", "2"]])
        #expect(parsed.unterminated == ["3", ""])
    }

    @Test func malformedQuotingIsAnError() {
        #expect(throws: CSVError.self) { try CSV.parse("a,\"b\n") }
        #expect(throws: CSVError.self) { try CSV.parse("a,b\"c\n") }
    }
}
