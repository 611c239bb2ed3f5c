import Analysis
import AttentionTypes
import Foundation
import Results

extension Report {
    /// The decode section: tokens per second, speed-up and peak heap per N next to the paper's
    /// image-generation speed-ups, and the per-token latency slopes. Empty without decode rows.
    func decode() -> String {
        let speedups = analysis.decodeSpeedups()
        guard !speedups.isEmpty else { return "" }
        let p = speedups[0].points[0].linear.point
        var md = """
            ## Decoding: KV-cache softmax against the RNN state ("Transformers are RNNs" §4.2)

            Generating N tokens one at a time through one causal attention layer (b = \(p.batch), h = \(p.heads), d = \(p.headDim), a \(p.prompt ?? 1)-token prompt), each output fed back through fixed random projections as the next token's query, key and value. Softmax keeps a key/value cache (step i reads all i cached rows: O(i·d)); linear attention keeps s_i, z_i (O(d²) per step, whatever i). Tokens/s count every sequence of the batch; the speed-up is softmax's time for the whole sequence ÷ linear's. Peak heap is jemalloc's thread.peak over one generation, with the cost model's figure in brackets (thread.peak resolves about 100 KB, so the RNN state's few tens of KB read as noise around it).

            | threads | N | softmax tokens/s | linear tokens/s | speed-up | paper | softmax peak heap (model) | linear peak heap (model) |
            |---|---|---|---|---|---|---|---|

            """
        for s in speedups {
            for point in s.points {
                let paper = analysis.paperGeneration.first { $0.tokens == point.n }.map { String(format: "%.0f× (%@)", $0.speedup, $0.dataset) } ?? ""
                md += "| \(point.linear.point.threads) | \(point.n) | \(Self.rate(point.softmax)) | \(Self.rate(point.linear)) | "
                md += String(format: "%.1f×", point.speedup) + " | \(paper) | \(Self.heap(point.softmax)) | \(Self.heap(point.linear)) |\n"
            }
        }
        md += """

            The paper's ratios are images per second of whole 8- and 16-layer models on a GPU (softmax at batch 1 on CIFAR-10, linear at 4), and it does not say whether its softmax baseline cached keys and values. With a cache, the ratio grows like N/d (softmax's step ∝ i·d against linear's ∝ d², plus the projections both pay); this table is that ratio for one layer on this CPU.

            ### Per-token latency against position

            The latency of one decode step (all sequences of the batch; the slowest worker when threads split the heads), median over a window of steps and all repetitions, from `\(TokenLatencyRow.path(forCSV: source))`. Slopes are fitted on log–log axes, with a 95% interval, over positions N/64…N (and ≥ 16), and over the first four octaves of that range, N/64…N/4; a and b are a least-squares fit of latency = a + b·position over N/64…N/4. Softmax with a cache should have slope 1 (b is then the cost of reading one cached token's key and value in every head), linear attention slope 0. The softmax cache is 2·h·d·4 = \(Self.cacheBytesPerPosition(p)) bytes per position; where it outgrows a cache level, b steps up and the slope over the whole range exceeds 1.

            | curve | N | slope, N/64…N | slope, N/64…N/4 | a (µs) | b (ns per position) | last step (µs) |
            |---|---|---|---|---|---|---|

            """
        for c in analysis.decodeLatencyCurves() {
            let line = c.lowerLine
            md += "| \(c.label) | \(c.row.point.length) | \(Self.fit(c.fit)) | \(Self.fit(c.lowerFit)) | "
            md += line.map { Self.noNegativeZero(String(format: "%.2f | %.2f", $0.intercept * 1e6, $0.slope * 1e9)) } ?? "– | –"
            md += String(format: " | %.1f |\n", (c.samples.last?.median ?? 0) * 1e6)
        }
        return md
    }

    /// 2·h·d·4, in `Double` so that no h and d read from a CSV can overflow it.
    static func cacheBytesPerPosition(_ p: SweepPoint) -> String {
        String(format: "%.0f", 2 * Double(p.heads) * Double(p.headDim) * 4)
    }

    static func rate(_ row: ResultRow) -> String {
        row.tokensPerSecond.map { String(format: "%.0f", $0) } ?? "–"
    }

    static func heap(_ row: ResultRow) -> String {
        func mib(_ bytes: Int?) -> String { bytes.map { formatMiB($0, decimals: 3) } ?? "–" }
        return "\(mib(row.peakHeapBytes)) (\(mib(row.modelBytes)))"
    }
}
