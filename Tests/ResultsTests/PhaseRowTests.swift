import AttentionTypes
import Results
import Testing

/// The profile's two CSVs: exact text, read back, and the roofline's derived columns.
@Suite struct PhaseRowTests {
    static let point = SweepPoint(mechanism: .standard, length: 512, batch: 1, heads: 8, headDim: 64, threads: 1)

    @Test func phaseRowsWriteAndReadBack() throws {
        var row = PhaseRow(point: Self.point, level: "core", phase: "dQ = dS·K, dK = dSᵀ·Q")
        (row.reps, row.median, row.ciLow, row.ciHigh, row.share) = (5, 0.0125, 0.012, 0.013, 0.25)
        (row.phaseGflop, row.phaseBytes, row.gflops) = (0.5, 2e6, 40)
        (row.callMedian, row.instrumentedMedian, row.overhead, row.busyThreads) = (0.05, 0.0505, 0.01, 0.998)
        let text = RowFile.text([row], PhaseRow.table)
        let lines = text.split(separator: "\n")
        #expect(
            lines[0].hasSuffix(
                "threads,level,phase,reps,time_median_ms,time_ci95_low_ms,time_ci95_high_ms,share,phase_gflop,phase_bytes,gflops,call_median_ms,instrumented_median_ms,overhead,busy_threads"
            ))
        #expect(
            lines[1].hasSuffix(
                ",1,core,\"dQ = dS·K, dK = dSᵀ·Q\",5,12.500000,12.000000,13.000000,0.2500,0.5,2e+06,40.000,50.000000,50.500000,0.0100,0.998"
            ))
        let read = try RowFile.parse(text, source: "test", columns: PhaseRow.table, empty: .empty)
        #expect(read.count == 1 && read[0].phase == row.phase && read[0].point == row.point && read[0].share == 0.25)
    }

    @Test func aRooflineRowDerivesItsRoofAndBound() {
        var memory = RooflineRow(point: Self.point)
        (memory.modelGflop, memory.trafficBytes, memory.gflops) = (1, 1e9, 4)
        (memory.ceilingGflops, memory.bandwidthGBs) = (100, 10)
        memory.derive()
        #expect(memory.intensity == 1 && memory.roofGflops == 10 && memory.bound == "memory")
        #expect(memory.roofFraction == 0.4)
        var compute = memory
        compute.trafficBytes = 1e7  // 100 FLOP per byte: 1000 GF/s of bandwidth, over the 100 GF/s ceiling
        compute.derive()
        #expect(compute.roofGflops == 100 && compute.bound == "compute" && compute.roofFraction == 0.04)
        var unknown = RooflineRow(point: Self.point)
        unknown.derive()
        #expect(unknown.intensity == nil && unknown.roofGflops == nil && unknown.bound.isEmpty)
    }
}
