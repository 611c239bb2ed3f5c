import Analysis
import Figures
import Testing

@Suite struct ClaimsReportTests {
    /// One row per claim, cells escaped, the verdict counts above the table and the sources below.
    @Test func theLedgerIsOneTableRowPerClaim() {
        let claim = Claim(
            source: "Linformer Table 3", claim: "time saved, n = 512 (k = 128)", paper: "1.5×",
            paperSetting: "whole model, 16 GB V100", ours: "1.1×", ourSetting: "one encoder layer, a|b CPU",
            ratio: nil, verdict: .sameDirection, why: "outside\nthe band", detail: "REPORT-linformer-table3.md")
        let text = ClaimsReport(claims: [claim], sources: ["`Results/linformer-table3.csv` (x; commit 0123456789)"])
            .markdown()
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.first == "# Claims ledger")
        #expect(lines.contains("**1 claims**: 0 reproduced, 1 same direction only, 0 not reproduced, 0 not measured."))
        #expect(
            lines.contains(
                "| [Linformer Table 3](REPORT-linformer-table3.md) | time saved, n = 512 (k = 128) | 1.5× | "
                    + "whole model, 16 GB V100 | 1.1× | one encoder layer, a\\|b CPU | **same direction only** | outside the band |"
            ))
        #expect(lines.suffix(3) == ["Read from:", "- `Results/linformer-table3.csv` (x; commit 0123456789)", ""])
        #expect(
            lines.contains(
                "- **reproduced**: a ratio within ×1.25 of the paper's (ours ÷ paper in [0.8, 1.25]) at the "
                    + "paper's scope; an exponent within ±0.25."))
    }
}
