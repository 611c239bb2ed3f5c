import AttentionTypes
import Foundation
import Reporting
import Results
import Testing

@Suite struct SampleRowTests {
    let point = SweepPoint(mechanism: .linear, length: 512, batch: 2, heads: 4, headDim: 32, threads: 1)

    /// Repetitions are numbered over all cycles; the cycle column says where each came from.
    @Test func repetitionsAreNumberedOverCycles() {
        let call = { (s: Double) in CallTime(seconds: s, cpuSeconds: s * 2) }
        let samples = RepetitionSample.numbering([[call(1), call(2)], [], [call(3)]])
        #expect(samples.map(\.repetition) == [1, 2, 3])
        #expect(samples.map(\.cycle) == [1, 1, 3])
        #expect(samples.map(\.time.seconds) == [1, 2, 3])
    }

    /// The exact text of a row, and a round trip through the file's column table.
    @Test func rowsAreExactTextAndRoundTrip() throws {
        let rows = SampleRow.rows(
            point,
            [
                RepetitionSample(repetition: 1, cycle: 1, time: CallTime(seconds: 0.001234567891, cpuSeconds: 0.0025)),
                RepetitionSample(repetition: 2, cycle: 2, time: CallTime(seconds: 2, cpuSeconds: nil)),
            ])
        let text = RowFile.text(rows, SampleRow.table)
        // The key columns are whatever SweepPoint's are; the sample columns follow them.
        #expect(
            text == CSV.line(RowFile.header(SweepPoint.columns) + ["repetition", "cycle", "seconds", "cpu_seconds"])
                + CSV.line(point.keyFields + ["1", "1", "0.001234568", "0.002500000"])
                + CSV.line(point.keyFields + ["2", "2", "2.000000000", ""]))
        let read = try RowFile.parse(text, source: "s.csv", columns: SampleRow.table, empty: rows[0])
        #expect(read.map(\.point) == [point, point])
        #expect(read[1].sample == rows[1].sample)
        #expect(read[0].sample.time.seconds == 0.001234568)
    }

    /// A point written again (a resumed run re-measured it) starts afresh at repetition 1: the
    /// reader keeps only its last measurement, even when that one is shorter.
    @Test func aRemeasuredPointKeepsItsLastMeasurementOnly() {
        let other = SweepPoint(mechanism: .standard, length: 512, batch: 2, heads: 4, headDim: 32, threads: 1)
        func rows(_ p: SweepPoint, _ seconds: [Double]) -> [SampleRow] {
            SampleRow.rows(p, RepetitionSample.numbering([seconds.map { CallTime(seconds: $0, cpuSeconds: nil) }]))
        }
        let all = rows(point, [1, 2, 3, 4]) + rows(other, [9]) + rows(point, [5, 6])
        let read = SampleRow.lastMeasurements(all)
        #expect(read[point]?.map(\.time.seconds) == [5, 6])
        #expect(read[other]?.map(\.time.seconds) == [9])
    }

    @Test func aMissingFileHasNoSamplesAndAnotherSchemaIsRefused() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "attnbench-samples-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try SampleRow.read(dir.appendingPathComponent("none.samples.csv").path).isEmpty)
        let old = dir.appendingPathComponent("old.samples.csv").path
        try "mechanism,n,rep,seconds\nlinear,64,1,0.1\n".write(toFile: old, atomically: true, encoding: .utf8)
        let error = #expect(throws: UsageError.self) { try SampleRow.read(old) }
        #expect(error?.description.contains("different schema") == true)
        #expect(SampleRow.path(forCSV: "Results/x.csv") == "Results/x.samples.csv")
    }

    /// Names list the key columns, leave out empty and default ones, and shorten batch, heads, threads.
    @Test func benchmarkNamesAreStableAndReadable() {
        #expect(
            SweepPoint(mechanism: .standard, length: 4096, batch: 1, heads: 8, headDim: 64, threads: 2).benchmarkName
                == "standard/n=4096/b=1/h=8/d=64/t=2")
        #expect(
            SweepPoint(mechanism: .standard, causal: true, length: 4096, batch: 1, heads: 8, headDim: 64, threads: 2)
                .benchmarkName
                == "standard/causal/n=4096/b=1/h=8/d=64/t=2")
        #expect(
            SweepPoint(
                mechanism: .linformer, sharing: .keyValue, length: 4096, projectedLength: 128, batch: 1, heads: 8,
                headDim: 64, threads: 2
            ).benchmarkName == "linformer/sharing=key-value/n=4096/k=128/b=1/h=8/d=64/t=2")
        #expect(
            SweepPoint(
                mechanism: .linear, mode: .decode, causal: true, length: 784, prompt: 1, batch: 1, heads: 8,
                headDim: 32,
                threads: 2
            ).benchmarkName == "linear/mode=decode/causal/n=784/prompt=1/b=1/h=8/d=32/t=2")
    }

    /// The grid's identity changes with any point, its order or its count; equal grids agree.
    @Test func gridIdentityFollowsThePointsAndTheirOrder() {
        let a = SweepPoint(mechanism: .standard, length: 512, batch: 1, heads: 2, headDim: 8, threads: 1)
        var b = a
        b.length = 1024
        let grid = GridIdentity([a, b])
        #expect(grid == GridIdentity([a, b]))
        #expect(grid.points == 2 && grid.digest.count == 16)
        #expect(grid != GridIdentity([b, a]))
        #expect(grid != GridIdentity([a]))
        var c = b
        c.threads = 2
        #expect(grid != GridIdentity([a, c]))
    }
}
