import Analysis
import AttentionTypes
import Figures
import Foundation
import Results
import Testing

/// A run with forward, backward and training-step rows: softmax ∝ n² (its step 3× its forward, heap
/// 2×), causal linear ∝ n (step 2.5×, heap 4×), n = 512…2048, batch 1.
func trainingTable() -> ResultTable {
    var rows: [ResultRow] = []
    for n in [512, 1024, 2048] {
        let x = Double(n) / 512
        for (mechanism, causal, seconds, heap) in [
            (Mechanism.standard, false, 0.01 * x * x, 4_000_000 * x * x), (.linear, true, 0.002 * x, 500_000 * x),
        ] {
            for (pass, time, memory) in [
                (Pass.forward, 1.0, 1.0), (.backward, mechanism == .standard ? 2.0 : 1.5, 1.5),
                (.train, mechanism == .standard ? 3.0 : 2.5, mechanism == .standard ? 2.0 : 4.0),
            ] {
                var r = ResultRow(
                    point: SweepPoint(
                        mechanism: mechanism, pass: pass, causal: causal, length: n, batch: 1, heads: 8, headDim: 64,
                        threads: 1),
                    status: .ok, seed: 42)
                (r.median, r.ciLow, r.ciHigh) = (seconds * time, seconds * time, seconds * time)
                r.peakHeapBytes = Int(heap * memory)
                rows.append(r)
            }
        }
    }
    return ResultTable(rows: rows, path: "train.csv")
}

/// The same kernels as "Transformers are RNNs" Figure 1 runs them: 65536 tokens per call, training steps.
func figure1Table() -> ResultTable {
    var rows: [ResultRow] = []
    for n in [512, 1024, 2048, 4096] {
        let batch = 65536 / n
        for (mechanism, perSample) in [
            (Mechanism.standard, 0.001 * Double(n * n) / 512 / 512), (.linear, 0.0002 * Double(n) / 512),
        ] {
            var r = ResultRow(
                point: SweepPoint(
                    mechanism: mechanism, pass: .train, length: n, batch: batch, heads: 8, headDim: 64, threads: 2),
                status: .ok, seed: 42)
            r.median = perSample * Double(batch)
            r.peakHeapBytes = Int(Double(batch) * (mechanism == .standard ? Double(n * n) : 256 * Double(n)))
            rows.append(r)
        }
    }
    rows.append(
        ResultRow(
            point: SweepPoint(
                mechanism: .standard, pass: .train, length: 8192, batch: 8, heads: 8, headDim: 64, threads: 2),
            status: .skipped, reason: "memory: needs 20 GiB > budget 12.0 GiB", seed: 42))
    return ResultTable(rows: rows, path: "rnn-figure1.csv")
}

@Suite struct TrainingFiguresTests {
    @Test func theTrainingFigureDrawsEachKernelsStepAgainstItsForward() throws {
        let plotter = Plotter(analysis: Analysis(table: trainingTable()), source: "train.csv", machine: "Test CPU")
        let script = try #require(plotter.render().files["training.gp"])
        #expect(
            script.contains(
                "set multiplot layout 1,2 title \"Training step (solid) against the forward pass (dashed), batch 1 — Test CPU, 1 thread, attention core, fp32 forward + backward\""
            ))
        #expect(
            script.contains(
                "DATA index 0 using 1:3 with linespoints pt 7 ps 0.8 lw 2 lc rgb \"#c0392b\" title \"softmax ∝ n^{2.00 ± 0.00}\""
            ))
        #expect(
            script.contains("DATA index 1 using 1:2 with linespoints pt 6 ps 0.6 lw 1 dt 2 lc rgb \"#16a085\" notitle"))
        let data = try #require(plotter.render().files["training.dat"])
        #expect(
            data.hasPrefix(
                "# softmax (n, forward_ms, train_ms, backward_ms, forward_heap_MiB, train_heap_MiB)\n512 10 30 20 3.8147 7.62939\n"
            ))
        // One-pass figures keep to the forward pass.
        let scaling = try #require(plotter.render().files["scaling.dat"])
        #expect(scaling.components(separatedBy: "\n\n\n").count == 1 && !scaling.contains("train"))
    }

    @Test func theReportComparesBackwardAndStepWithTheForward() {
        let md = Report(analysis: Analysis(table: trainingTable()), source: "train.csv", metadata: nil).markdown()
        #expect(
            md.contains(
                "one layer, forward passes, backward passes (given a saved forward), training steps (forward + backward), fp32"
            ))
        #expect(
            md.contains(
                "| softmax | 1 | 2048 | 160.000 | 320.000 | 480.000 | 2.00× | 3.00× | 61.04 MiB | 122.07 MiB | 2.00× |")
        )
        #expect(
            md.contains(
                "| linear causal | 1 | 512 | 2.000 | 3.000 | 5.000 | 1.50× | 2.50× | 0.48 MiB | 1.91 MiB | 4.00× |"))
        #expect(md.contains("| linear causal train | 1 | 512–2048 | 1.00 ± 0.00 |"))
    }

    /// Figure 1 at pass = train says so, fits each curve's per-sample exponent and ends softmax at its
    /// memory limit; the report has the same fits.
    @Test func figure1ShowsTrainingStepsPerSampleWithFittedExponents() throws {
        let plotter = Plotter(analysis: Analysis(table: figure1Table()), source: "rnn-figure1.csv", machine: "Test CPU")
        let script = try #require(plotter.render().files["rnn-figure1.gp"])
        #expect(
            script.contains("per sample, batch ∝ 1/N — Test CPU, 2 threads, attention core, fp32 forward + backward\""))
        #expect(script.contains("title \"softmax ∝ N^{2.00 ± 0.00}\""))
        #expect(script.contains("title \"linear ∝ N^{1.00 ± 0.00}\""))
        #expect(script.contains("softmax: N ≥ 8192 over the memory budget"))
        let md = Report(analysis: plotter.analysis, source: "rnn-figure1.csv", metadata: nil).markdown()
        #expect(md.contains("Each point is a training step (the forward pass that keeps what the backward reads"))
        #expect(md.contains("| softmax | 512–4096 | 2.00 ± 0.00 | 2.00 ± 0.00 | 64.000 ms | 16.00 MiB |"))
        #expect(md.contains("| linear | 512–4096 | 1.00 ± 0.00 | 1.00 ± 0.00 | 1.600 ms | 1.00 MiB |"))
        #expect(md.contains("Softmax stops at N = 8192"))
        #expect(!md.contains("## Training"))  // no forward rows to compare the steps with
        #expect(script.contains("Transformers are RNNs") && script.contains("Figure 1: per sample"))
        #expect(md.contains("## \"Transformers are RNNs\" Figure 1: per sample, batch ∝ 1/N"))
    }

    /// Only the paper's experiment is named after it: the same curves timed forward only, or at one
    /// batch, are a `per-sample` figure whose title says it is not Figure 1's setup, and a run that
    /// draws one removes the other's stale files (its name is in `skipped`).
    @Test func otherSetupsAreNotTitledFigure1() throws {
        let forward = ResultTable(
            rows: figure1Table().rows.map { row in
                var r = row
                r.point.pass = .forward
                return r
            }, path: "forward.csv")
        let out = Plotter(analysis: Analysis(table: forward), source: "forward.csv", machine: "Test CPU").render()
        #expect(out.files["rnn-figure1.gp"] == nil)
        let script = try #require(out.files["per-sample.gp"])
        #expect(!script.contains("Transformers are RNNs"))
        #expect(script.contains("Per sample against N, batch ∝ 1/N (not Figure 1's setup"))
        #expect(out.skipped.contains("rnn-figure1"))
        let md = Report(analysis: Analysis(table: forward), source: "forward.csv", metadata: nil).markdown()
        #expect(!md.contains("Transformers are RNNs\" Figure 1: per sample"))
        let canonical = Plotter(analysis: Analysis(table: figure1Table()), source: "f.csv", machine: "T").render()
        #expect(canonical.skipped.contains("per-sample") && canonical.files["per-sample.gp"] == nil)
    }
}

/// Figure properties every script must keep, read from the gnuplot text.
@Suite struct FigureStyleTests {
    /// The style triples (colour, point type, dash) of one `plot` command's curves, in order.
    static func styles(_ script: String) -> [[String]] {
        var commands: [String] = []
        var current: String?
        for line in script.split(separator: "\n", omittingEmptySubsequences: false) {
            let text = line.trimmingCharacters(in: .whitespaces)
            if current == nil && text.hasPrefix("plot ") { current = "" }
            guard current != nil else { continue }
            current! += " " + text
            if !text.hasSuffix("\\") {
                commands.append(current!)
                current = nil
            }
        }
        return commands.map { command in
            command.components(separatedBy: "with linespoints").dropFirst().map { curve in
                let words = curve.split(separator: " ")
                func after(_ key: String) -> String {
                    words.firstIndex(of: Substring(key)).map { words.index(after: $0) }.map { String(words[$0]) } ?? "-"
                }
                return "\(after("rgb")) pt \(after("pt")) dt \(after("dt"))"
            }
        }
    }

    /// Within one panel no two curves share colour, point type and dash: softmax and flash (two reds)
    /// differ in point type, and each legend sits below its panels in the per-n figures.
    @Test func curvesOfOnePanelAreDistinct() throws {
        let tables = [figure1Table(), sampleTable()]
        for table in tables {
            let out = Plotter(analysis: Analysis(table: table), source: "t.csv", machine: "T").render()
            for (name, script) in out.files where name.hasSuffix(".gp") {
                for panel in Self.styles(script) where !panel.isEmpty {
                    #expect(Set(panel).count == panel.count, "\(name): \(panel)")
                }
            }
        }
        let figure = try #require(
            Plotter(analysis: Analysis(table: figure1Table()), source: "t.csv", machine: "T").render().files[
                "rnn-figure1.gp"])
        #expect(figure.contains("set key below"))
        #expect(Self.styles(figure).map(\.count) == [2, 2])  // two curves in each of two panels
        #expect(
            Plotter.pointType(SweepPoint(mechanism: .standard, length: 1, batch: 1, heads: 1, headDim: 1, threads: 1))
                != Plotter.pointType(
                    SweepPoint(mechanism: .flash, length: 1, batch: 1, heads: 1, headDim: 1, threads: 1)))
    }

    /// Every figure's legend sits outside the data (below the panels, or right of them), and the
    /// decode figures tell their decoders' curves apart too.
    @Test func legendsSitOutsideTheData() {
        let plotters =
            [trainingTable(), figure1Table(), sampleTable()].map {
                Plotter(analysis: Analysis(table: $0), source: "t.csv", machine: "T")
            } + [decodePlotter()]
        var scripts = 0
        for plotter in plotters {
            for (name, script) in plotter.render().files where name.hasSuffix(".gp") {
                scripts += 1
                let keys = script.split(separator: "\n").filter {
                    $0.trimmingCharacters(in: .whitespaces).hasPrefix("set key")
                }
                for key in keys {
                    #expect(key.contains("below") || key.contains("outside"), "\(name): \(key)")
                }
                for panel in Self.styles(script) where !panel.isEmpty {
                    #expect(Set(panel).count == panel.count, "\(name): \(panel)")
                }
            }
        }
        #expect(scripts >= 8)
    }

    /// The panels of the scaling grid share their y-range, row by row: powers of two around every
    /// value of the row, from the smallest time (2 ms here, n = 512's linear) to the largest (160 ms, standard at n = 2048).
    @Test func scalingPanelsShareTheirRange() throws {
        let script = try #require(
            Plotter(analysis: Analysis(table: sampleTable()), source: "t.csv", machine: "T").render().files[
                "scaling.gp"])
        let ranges = script.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { $0.hasPrefix("set yrange") }
        #expect(ranges.first == "set yrange [2:256]")  // linear at 512: 2 ms; standard at 2048: 160 ms
        #expect(ranges.count == 2)
        #expect(Plotter.logRange([0.3, 5, .nan, 0]) == "[0.25:8]")
        #expect(Plotter.logRange([4]) == "[4:8]")
        #expect(Plotter.logRange([.nan]) == "[*:*]")
    }

    /// Eight lengths in each of three panels would run their tick labels together ("163843276865536"):
    /// the grid slants them; three lengths stay level.
    @Test func crowdedLengthLabelsAreSlanted() throws {
        var rows: [ResultRow] = []
        for n in (9...16).map({ 1 << $0 }) {
            for k in [nil, 128, 256, 512] as [Int?] {
                let point = SweepPoint(
                    mechanism: k == nil ? .standard : .linformer, sharing: k == nil ? nil : .keyValue, length: n,
                    projectedLength: k, batch: 1, heads: 8, headDim: 64, threads: 2)
                var r = ResultRow(point: point, status: .ok, seed: 42)
                r.median = Double(n) * 1e-6
                r.peakHeapBytes = n * 1024
                rows.append(r)
            }
        }
        let crowded = try #require(
            Plotter(analysis: Analysis(table: ResultTable(rows: rows)), source: "t.csv", machine: "T").render().files[
                "scaling.gp"])
        #expect(crowded.contains("set xtics rotate by 45 right"))
        let level = try #require(
            Plotter(analysis: Analysis(table: sampleTable()), source: "t.csv", machine: "T").render().files[
                "scaling.gp"])
        #expect(!level.contains("rotate"))
    }
}
