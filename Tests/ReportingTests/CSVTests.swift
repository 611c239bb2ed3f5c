import Reporting
import Testing

@Suite struct CSVTests {
    @Test func fieldsAreQuotedOnlyWhenNeeded() {
        #expect(CSV.line(["a", "b c", "1.5"]) == "a,b c,1.5\n")
        #expect(
            CSV.line(["k >= n, skipped", "say \"hi\"", "two\nlines", "cr\r", ""])
                == "\"k >= n, skipped\",\"say \"\"hi\"\"\",\"two\nlines\",\"cr\r\",\n")
    }

    @Test func textIsTheHeaderThenOneLinePerRow() {
        #expect(
            CSV.text(columns: ["n", "time_ms"], rows: [["512", "1.250000"], ["1024", ""]])
                == "n,time_ms\n512,1.250000\n1024,\n")
        #expect(CSV.text(columns: ["n"], rows: []) == "n\n")
    }

    @Test func parseRoundTripsEscapedFields() throws {
        let rows = [["mechanism", "reason"], ["standard", "memory: a, b"], ["linear", "say \"x\"\nok"], ["", ""]]
        let text = rows.map(CSV.line).joined()
        let parsed = try CSV.parse(text)
        #expect(parsed.rows == rows)
        #expect(parsed.unterminated == nil)
        #expect(parsed.completeLength == text.utf8.count)
    }

    @Test func anUnterminatedLastLineIsReportedSeparately() throws {
        let parsed = try CSV.parse("a,b\n1,2\n3,")
        #expect(parsed.rows == [["a", "b"], ["1", "2"]])
        #expect(parsed.unterminated == ["3", ""])
        #expect(parsed.completeLength == 8)
    }

    @Test func aFileCutInsideAQuotedFieldHasAnUnterminatedLastLine() throws {
        let parsed = try CSV.parse("a,b\n1,\"par")
        #expect(parsed.rows == [["a", "b"]])
        #expect(parsed.unterminated == ["1", "par"])
        #expect(parsed.completeLength == 4)
        let inALineBreak = try CSV.parse("a,b\n1,\"two\nli")
        #expect(inALineBreak.rows == [["a", "b"]])
        #expect(inALineBreak.unterminated == ["1", "two\nli"])
        #expect(try CSV.parse("a,b\n\"").unterminated == [""])
    }

    @Test func completeLengthCountsUTF8Bytes() throws {
        let parsed = try CSV.parse("µ,×\n1,2")  // µ and × are two bytes each
        #expect(parsed.completeLength == 6)
    }

    @Test func crlfLineEndingsReadLikeLF() throws {
        let text = "a,b\r\n1,\"x\r\ny\"\r\n2,3\r\n"
        let parsed = try CSV.parse(text)
        #expect(parsed.rows == [["a", "b"], ["1", "x\r\ny"], ["2", "3"]])
        #expect(parsed.unterminated == nil)
        #expect(parsed.completeLength == text.utf8.count)
        let cut = try CSV.parse("a,b\r\n1,2\r")  // cut between CR and LF
        #expect(cut.rows == [["a", "b"]])
        #expect(cut.unterminated == ["1", "2"])
        #expect(cut.completeLength == 5)
    }

    @Test func aQuoteInsideAnUnquotedFieldIsAnError() {
        #expect(throws: CSVError("line 1: a quote inside an unquoted field")) { try CSV.parse("a,b\"c\n") }
        #expect(throws: CSVError("line 4: a quote inside an unquoted field")) { try CSV.parse("a\n\"x\ny\"\nb\"\n") }
    }
}
