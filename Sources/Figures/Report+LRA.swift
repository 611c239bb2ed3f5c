import Analysis
import Foundation
import Results

/// Long Range Arena's efficiency table (its §3.4, Table 2) beside the run's training steps.
extension Report {
    /// The LRA section: per mechanism and n, training steps per second and the speed-up over the
    /// Transformer; the heap of one step at the measured batch and at the paper's 32 (from the
    /// allocation replay), each as the Transformer's over the mechanism's; the paper's ratios beside.
    func lraTable2() -> String {
        guard analysis.isLRASetup else { return "" }
        let cells = analysis.lraTable2()
        guard !cells.isEmpty else { return "" }
        let paper = Dictionary(
            analysis.paperLRA.map { ("\($0.mechanism),\($0.n)", $0) }, uniquingKeysWith: { a, _ in a })
        func paperRatio(_ cell: LRACell, _ value: (PaperLRACell) -> Double, inverse: Bool) -> String {
            guard let own = paper["\(cell.mechanism.rawValue),\(cell.n)"],
                let base = paper["standard,\(cell.n)"], value(own) > 0, value(base) > 0
            else { return "–" }
            return String(format: "%.2f×", inverse ? value(base) / value(own) : value(own) / value(base))
        }
        func ratio(_ x: Double?) -> String { x.map { String(format: "%.2f×", $0) } ?? "–" }
        func gib(_ x: Double?) -> String { x.map { String(format: "%.2f GiB", $0 / Double(1 << 30)) } ?? "–" }
        let batches = Set(cells.map(\.batch)).sorted().map(String.init).joined(separator: ", ")
        var md = """
            ## LRA Table 2: training steps relative to the Transformer

            Long Range Arena's efficiency table (§3.4): training steps of its text model (\(analysis.scopeText)), \
            here on the CPU at batch \(batches), beside the paper's batch of 32 on 4x4 TPU V3 chips. Only ratios to the \
            Transformer (standard attention) compare across the two machines: speed-up = the Transformer's step time ÷ \
            the mechanism's; memory = the Transformer's heap ÷ the mechanism's (the paper's per-device GB, ours jemalloc's \
            peak of one step, this thread's allocations). Batch 32's heap is the allocation replay's (`max-batch \
            --predict`: fixed + 32 × per sample, both measured by jemalloc at two batches), not a run: the Transformer's \
            does not fit this machine at the longer lengths.

            | mechanism | n | steps/s (batch \(batches)) | speed-up (paper) | heap of a step | memory ratio | heap at batch 32 | memory ratio at 32 (paper) |
            |---|---|---|---|---|---|---|---|

            """
        for c in cells {
            md +=
                "| \(c.label) | \(c.n) | \(String(format: "%.3g", c.stepsPerSecond)) | \(ratio(c.speedup)) (\(paperRatio(c, \.stepsPerSecond, inverse: false))) "
                + "| \(gib(c.peakHeapBytes.map(Double.init))) | \(ratio(c.memoryRatio)) | \(gib(c.batch32Bytes)) "
                + "| \(ratio(c.batch32Ratio)) (\(paperRatio(c, \.memoryGB, inverse: true))) |\n"
        }
        return md
    }
}
