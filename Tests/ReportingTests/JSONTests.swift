import Foundation
import Reporting
import Testing

@Suite struct JSONTests {
    /// Keys stay in the order given; numbers, strings and nesting are written as RFC 8259 JSON.
    @Test func documentIsExactText() {
        let doc = JSON.object([
            ("name", .string("standard/n=512")), ("real_time", .number(0.00125)), ("tiny", .number(1e-5)),
            ("big", .number(2.5e20)),
            ("count", .integer(-3)), ("ok", .bool(true)), ("none", .null), ("empty", .array([])),
            ("nested", .object([("a", .array([.integer(1), .number(1)]))])),
        ])
        #expect(
            doc.text == """
                {
                  "name": "standard/n=512",
                  "real_time": 0.00125,
                  "tiny": 1e-05,
                  "big": 2.5e+20,
                  "count": -3,
                  "ok": true,
                  "none": null,
                  "empty": [],
                  "nested": {
                    "a": [
                      1,
                      1.0
                    ]
                  }
                }

                """)
    }

    /// Quotes, backslashes and control characters are escaped; NaN and infinities, which JSON cannot
    /// hold, become null; a JSON parser reads every value back.
    @Test func escapesAndNonFiniteNumbersParse() throws {
        let nasty = "a\"b\\c\nd\te\u{1}f é"
        #expect(JSON.quoted(nasty) == "\"a\\\"b\\\\c\\nd\\te\\u0001f é\"")
        let doc = JSON.object([(nasty, .string(nasty)), ("nan", .number(.nan)), ("inf", .number(-.infinity))])
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(doc.text.utf8)) as? [String: Any])
        #expect(parsed[nasty] as? String == nasty)
        #expect(parsed["nan"] is NSNull && parsed["inf"] is NSNull)
    }
}
