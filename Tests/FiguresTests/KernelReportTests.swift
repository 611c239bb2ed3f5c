import Figures
import Testing

@Suite struct KernelReportTests {
    /// Standard at 1.1× and 1.3× its GEMMs: one of two points holds the 1.2× target and the miss is
    /// named; causal ÷ non-causal linear and 2-thread ÷ 1-thread are read from the matching points.
    @Test func targetsAreJudgedFromTheRunsPoints() {
        let points = [
            KernelReport.Point(kernel: "standard", n: 2048, threads: 1, seconds: 1.1, gemmSeconds: 1, efficiency: 0.5),
            KernelReport.Point(
                kernel: "standard", n: 2048, threads: 2, seconds: 0.65, gemmSeconds: 0.5, efficiency: 0.4),
            KernelReport.Point(
                kernel: "linear", n: 2048, threads: 1, seconds: 0.01, gemmSeconds: 0.008, efficiency: 0.61),
            KernelReport.Point(
                kernel: "linear causal", n: 2048, threads: 1, seconds: 0.02, gemmSeconds: nil, efficiency: 0.3),
        ]
        let text = KernelReport(header: ["Machine: T."], points: points).markdown()
        let rows = text.split(separator: "\n").map(String.init)
        #expect(rows.contains("- Machine: T."))
        #expect(
            rows.contains(
                "| standard ≤ 1.2× its own two GEMMs | time ÷ GEMMs' time | 1 of 2 points | 1.100–1.300 | standard n=2048 t=2: 1.300 |"
            ))
        #expect(
            rows.contains("| linear ≥ 60% of the sgemm ceiling | GF/s ÷ ceiling | 1 of 1 points | 0.610–0.610 | none |")
        )
        #expect(
            rows.contains(
                "| causal linear ≤ 1.5× non-causal | causal ÷ non-causal time | 0 of 1 points | 2.000–2.000 | n=2048 t=1: 2.000 |"
            ))
        #expect(
            rows.contains(
                "| 2 threads ≤ 0.65× 1 thread at n ≥ 2048 | 2-thread ÷ 1-thread time | 1 of 1 points | 0.591–0.591 | none |"
            ))
        #expect(rows.contains("| flash ≥ 75% of the sgemm ceiling | GF/s ÷ ceiling | not measured | – | – |"))
        #expect(rows.contains("| 2048 | 1 | – | 2.00 | – |"))
    }
}
