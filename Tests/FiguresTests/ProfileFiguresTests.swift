import AttentionTypes
import Figures
import Results
import Testing

/// The profile's figures and report from a small synthetic profile: exact data files, the plot
/// lines, and the layer crossover read from the rows.
@Suite struct ProfileFiguresTests {
    static func row(_ n: Int, _ level: String, _ phase: String, _ ms: Double, scope: Scope = .core) -> PhaseRow {
        var point = SweepPoint(mechanism: .standard, length: n, batch: 1, heads: 8, headDim: 64, threads: 1)
        point.scope = scope
        if scope == .layer { (point.layers, point.ffnMultiplier) = (1, 4) }
        var row = PhaseRow(point: point, level: level, phase: phase)
        row.median = ms / 1e3
        row.callMedian = 0.010 * Double(n / 512)
        return row
    }

    /// Shares as the profiler writes them: each median over its level's sum.
    static func withShares(_ rows: [PhaseRow]) -> [PhaseRow] {
        rows.map { row in
            var row = row
            let level = rows.filter { $0.point == row.point && $0.level == row.level }
            row.share = (row.median ?? 0) / level.compactMap(\.median).reduce(0, +)
            return row
        }
    }

    static let core = withShares([
        row(512, "core", "QKᵀ", 4), row(512, "core", "softmax", 2), row(512, "core", "other", 2),
        row(1024, "core", "QKᵀ", 16), row(1024, "core", "softmax", 12), row(1024, "core", "other", 4),
    ])

    @Test func phaseBarsHaveOneDataFilePerPanelInCallOrder() {
        var figures = ProfileFigures(phases: Self.core, roofline: [], source: "test.csv", machine: "test machine")
        figures.folder = "Plots/test"
        let files = figures.render()
        #expect(
            files["phases-forward-1.dat"]
                == "n\t\"QKᵀ\"\t\"softmax\"\t\"other\"\n512\t50.000\t25.000\t25.000\n1024\t50.000\t37.500\t12.500\n"
        )
        #expect(files["phases-forward-1-calls.dat"] == "0\t10\n1\t20\n")
        let script = files["phases-forward.gp"] ?? ""
        #expect(script.contains("COLORS = \"#4e79a7 #f28e2b #bab0ac\""))  // phases in order, `other` grey
        #expect(
            script.contains(
                "plot for [i=2:4] PANEL using i:xtic(1) title columnheader(i) lc rgb word(COLORS, i - 1), \\"))
        #expect(script.contains("set title \"standard\" font \",10\""))
        #expect(script.contains("     CALLS using 1:(106):(sprintf(\"%.3g ms\", $2)) with labels font \",7\" notitle"))
        #expect(files["roofline.gp"] == nil)  // no roofline rows, no figure
    }

    @Test func theReportFindsWhereTheCoreOvertakesTheFFN() {
        let layer = Self.withShares([
            Self.row(512, "layer", "attention core", 3, scope: .layer),
            Self.row(512, "layer", "FFN, residual, LayerNorm", 5, scope: .layer),
            Self.row(1024, "layer", "attention core", 9, scope: .layer),
            Self.row(1024, "layer", "FFN, residual, LayerNorm", 8, scope: .layer),
        ])
        let md = ProfileReport(phases: layer, roofline: [], source: "test.csv", machine: "m").markdown()
        #expect(md.contains("| standard layer ffn=4 b=1 h=8 d=64 t=1 | 512: 0.60, 1024: 1.12 | n = 1024 |"))
        #expect(md.contains("| 1024 | 20 | 52.9% | 47.1% | – |"))
    }
}
