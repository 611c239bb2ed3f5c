import Foundation
import Profiling
import Testing

/// Parsing `/proc/self/status` lines the way the kernel prints them.
@Suite struct RSSProbeTests {
    /// A status file as Linux prints it: `VmHWM:\t%8lu kB`, the value right-aligned in 8 columns.
    static func status(hwm: String, rss: String = "1234") -> String {
        func line(_ key: String, _ value: String) -> String {
            "\(key):\t" + String(repeating: " ", count: max(0, 8 - value.count)) + value + " kB"
        }
        return [
            "Name:\tattnbench", "State:\tR (running)", line("VmPeak", "99999999"), line("VmHWM", hwm),
            line("VmRSS", rss), "Threads:\t3", "",
        ].joined(separator: "\n")
    }

    /// Every width from 1 to 12 digits: padded with spaces below 8, nothing but the tab from 8 on.
    @Test(arguments: 1...12)
    func everyWidthParses(digits: Int) throws {
        let value = String("918273645546".prefix(digits))
        let text = Self.status(hwm: value)
        #expect(try RSSProbe.bytes("VmHWM", in: text) == Int(value)! * 1024)
        #expect(try RSSProbe.bytes("VmRSS", in: text) == 1234 * 1024)
    }

    /// The two lines of the report, verbatim: 8 digits leave no space after the tab.
    @Test func theReportedLinesParse() throws {
        #expect(try RSSProbe.bytes("VmHWM", in: "VmHWM:\t12634356 kB") == 12_634_356 * 1024)
        #expect(try RSSProbe.bytes("VmHWM", in: "VmHWM:\t    1234 kB") == 1234 * 1024)
    }

    /// /proc/meminfo pads with spaces instead of a tab.
    @Test func spacesParseToo() throws {
        #expect(
            try RSSProbe.bytes("MemAvailable", in: "MemTotal:       24577744 kB\nMemAvailable:   24123780 kB\n")
                == 24_123_780 * 1024)
    }

    /// The real file, read once: both lines parse, and the high-water mark is at least the current RSS
    /// (the kernel prints max(hiwater, rss)).
    @Test func theRealStatusFileParses() throws {
        let text = try String(contentsOfFile: RSSProbe.statusPath, encoding: .utf8)
        let (peak, current) = (try RSSProbe.bytes("VmHWM", in: text), try RSSProbe.bytes("VmRSS", in: text))
        #expect(current > 1 << 20 && peak >= current)
        #expect(try RSSProbe.peakBytes() > 1 << 20)
    }

    @Test(arguments: [
        ("Name:\tx\nVmRSS:\t 12 kB", "/proc/self/status has no VmHWM line"),
        ("VmHWMX:\t 12 kB", "/proc/self/status has no VmHWM line"),
        ("VmHWM:\t  abc kB", #"/proc/self/status: cannot read "VmHWM:\t  abc kB", expected "VmHWM: <number> kB""#),
        ("VmHWM:\t 12 MB", #"/proc/self/status: cannot read "VmHWM:\t 12 MB", expected "VmHWM: <number> kB""#),
        ("VmHWM:\t12", #"/proc/self/status: cannot read "VmHWM:\t12", expected "VmHWM: <number> kB""#),
        ("VmHWM:\t-12 kB", #"/proc/self/status: cannot read "VmHWM:\t-12 kB", expected "VmHWM: <number> kB""#),
        (
            "VmHWM:\t99999999999999999 kB",
            "/proc/self/status: VmHWM of 99999999999999999 kB does not fit in a byte count"
        ),
    ])
    func malformedLinesSayWhatIsWrong(text: String, message: String) {
        let error = #expect(throws: RSSProbe.Unavailable.self) { try RSSProbe.bytes("VmHWM", in: text) }
        #expect(error?.description == message)
    }
}
