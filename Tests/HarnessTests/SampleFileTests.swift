import Foundation
import Harness
import Reporting
import Results
import Testing

/// Raw samples through a real sweep: every repetition of every cycle, the sidecar rules, resume.
@Suite(.serialized) struct SampleFileTests {
    /// Each measured point has its repetitions of both cycles; its row's statistics are one cycle's
    /// (the fastest median), the samples hold them all.
    @Test func aSweepKeepsEveryRepetitionOfEveryCycle() throws {
        let dir = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = "\(dir)/run.csv"
        var spec = try tinySpec()
        try spec.apply("cycles", "2")
        _ = try testSweep(spec, output: path).run()
        let table = try ResultTable(path: path)
        let samples = try SampleRow.read(SampleRow.path(forCSV: path))
        #expect(Set(samples.keys) == Set(table.measured.map(\.point)))
        for row in table.measured {
            let mine = try #require(samples[row.point])
            #expect(mine.map(\.repetition) == Array(1...mine.count))
            let cycles = Dictionary(grouping: mine, by: \.cycle).mapValues { $0.map(\.time.seconds) }
            #expect(Set(cycles.keys) == [1, 2])
            #expect(mine.allSatisfy { $0.time.seconds > 0 && ($0.time.cpuSeconds ?? -1) >= 0 })
            // The row is the cycle with the lowest median, to the CSV's 6 decimals of a millisecond.
            let medians = cycles.mapValues { SampleStatistics($0)?.median ?? .infinity }
            let fastest = try #require(medians.min { $0.value < $1.value })
            #expect(abs((row.median ?? 0) - fastest.value) < 1e-9, "\(row.point.label)")
            #expect(row.reps == cycles[fastest.key]?.count)
        }
    }

    /// A run that died between a point's samples and its row re-measures the point on resume; the
    /// reader then sees that point's new samples only.
    @Test func aResumedRunReplacesARemeasuredPointsSamples() throws {
        let dir = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = "\(dir)/run.csv"
        let spec = try tinySpec()
        _ = try testSweep(spec, output: path).run()
        let before = try String(contentsOfFile: SampleRow.path(forCSV: path), encoding: .utf8).split(separator: "\n")
            .count
        var lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        let last = try #require(ResultRow(fields: try CSV.parse(lines.removeLast() + "\n").rows[0]))
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        var resumed = testSweep(spec, output: path)
        resumed.resume = true
        #expect(try resumed.run().measured == 1)
        let text = try String(contentsOfFile: SampleRow.path(forCSV: path), encoding: .utf8)
        let row = try #require(try ResultTable(path: path).byKey[last.point])
        let samples = try #require(try SampleRow.read(SampleRow.path(forCSV: path))[last.point])
        #expect(text.split(separator: "\n").count == before + samples.count)  // appended, not rewritten
        #expect(samples.count == row.reps && samples.map(\.repetition) == Array(1...samples.count))
        #expect(abs((SampleStatistics(samples.map(\.time.seconds))?.median ?? 0) - (row.median ?? 1)) < 1e-9)
    }

    /// A samples file left by another run is never replaced without --overwrite.
    @Test func anExistingSamplesFileIsRefusedWithoutOverwrite() throws {
        let dir = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = "\(dir)/run.csv"
        try "precious\n".write(toFile: SampleRow.path(forCSV: path), atomically: true, encoding: .utf8)
        let error = #expect(throws: UsageError.self) { try ResultsFile(path: path, resume: false, overwrite: false) }
        #expect(error?.description.contains("run.samples.csv already exists") == true)
        #expect(try String(contentsOfFile: SampleRow.path(forCSV: path), encoding: .utf8) == "precious\n")
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}

@Suite(.serialized) struct BaselineSampleTests {
    /// A baseline keeps, per point, the row of the run with the median time, and that run's samples
    /// of the point: their median is the row's.
    @Test func aBaselineKeepsTheSamplesOfTheRowsItKeeps() throws {
        var baseline = Baseline(spec: try tinySpec(), runs: 3, buildConfiguration: "test")
        baseline.ceiling = { _ in 100 }
        let (rows, samples, metadata) = try baseline.measure()
        let byPoint = SampleRow.lastMeasurements(samples)
        let measured = rows.filter(\.isOK)
        #expect(!measured.isEmpty && Set(byPoint.keys) == Set(measured.map(\.point)))
        for row in measured {
            let mine = try #require(byPoint[row.point]).map(\.time.seconds)
            #expect(mine.count == row.reps)
            #expect(abs((SampleStatistics(mine)?.median ?? 0) - (row.median ?? 1)) < 1e-9, "\(row.point.label)")
        }
        #expect(metadata?.sessions.count == 3)
    }
}
