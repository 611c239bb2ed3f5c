import AttentionTypes
import Foundation
import Harness
import Profiling
import Results
import Testing

/// The counters of a point's timed calls, end to end: the operating system's always, the hardware's
/// when perf_event_open works (faked here) and `unavailable` when it fails (as on these VMs).
@Suite(.serialized) struct CounterColumnsTests {
    static let point = SweepPoint(mechanism: .standard, length: 32, batch: 1, heads: 2, headDim: 8, threads: 1)

    static func runner(_ system: HardwareCounters.System) -> PointRunner {
        var runner = PointRunner(
            policy: TimingPolicy(warmups: 0, minReps: 3, minSeconds: 0, maxSeconds: 1), seed: 7, ceilings: [:])
        runner.hardwareCounters = system
        return runner
    }

    static let noPMU = HardwareCounters.System(
        open: { _, _ in .failure(.init(ENOENT)) }, read: { _ in .failure(.init(EBADF)) }, close: { _ in })

    /// perf_event_open failing (ENOENT: no PMU) leaves a measured row whose `hw_counters` says
    /// `unavailable`, hardware columns empty, the reason in the row's note, and the operating
    /// system's counters filled (never negative), for forward and decode points alike.
    @Test func withoutAPMURowsSayUnavailable() throws {
        var decode = Self.point
        (decode.mode, decode.causal, decode.decoder, decode.prompt) = (.decode, true, .kvCache, 1)
        for point in [Self.point, decode] {
            let row = try Self.runner(Self.noPMU).measure(point)
            #expect(row.isOK && (row.reps ?? 0) >= 3)
            #expect(row.hardwareCounters == .unavailable)
            #expect(row.cyclesPerCall == nil && row.instructionsPerCall == nil && row.llcMissesPerCall == nil)
            #expect(row.hardwareCountersNote?.contains("perf_event_open(cycles, thread ") == true)
            #expect(row.hardwareCountersNote?.contains("failed with ENOENT") == true)
            for value in [
                row.minorFaultsPerCall, row.majorFaultsPerCall, row.voluntarySwitchesPerCall,
                row.involuntarySwitchesPerCall, row.userCPUPerCall, row.systemCPUPerCall,
            ] {
                #expect((value ?? -1) >= 0, "\(point.label): a counter is missing or negative")
            }
            let fields = row.fields
            #expect(fields[ResultRow.columns.firstIndex(of: "hw_counters") ?? 0] == "unavailable")
            #expect(row.calls?.allSatisfy { $0.counters?.system != nil && $0.counters?.hardware == nil } == true)
        }
    }

    /// The kernel of this machine, whatever it offers: the row is measured, and `hw_counters` is
    /// `measured` with counts or `unavailable` with a reason — never a crash, never half of each.
    @Test func theRealKernelGivesOneOrTheOther() throws {
        let row = try Self.runner(.kernel).measure(Self.point)
        switch row.hardwareCounters {
        case .measured: #expect(row.cyclesPerCall != nil && row.hardwareCountersNote == nil)
        case .unavailable: #expect(row.cyclesPerCall == nil && row.hardwareCountersNote != nil)
        case nil: Issue.record("a measured row without hw_counters")
        }
    }

    /// A fake PMU whose counts grow by a fixed step per read: every timed call sees one step (its
    /// two reads), summed over the counters' threads, and the row is `measured`.
    @Test func aWorkingPMUFillsTheHardwareColumns() throws {
        final class Clock: @unchecked Sendable { var reads: UInt64 = 0 }
        let clock = Clock()
        let system = HardwareCounters.System(
            open: { _, tid in .success(tid) },
            read: { _ in
                clock.reads += 1
                return .success((value: clock.reads * 1000, enabled: 1, running: 1))
            }, close: { _ in })
        let row = try Self.runner(system).measure(Self.point)
        #expect(row.hardwareCounters == .measured && row.hardwareCountersNote == nil)
        let (cycles, instructions, misses) = (
            try #require(row.cyclesPerCall), try #require(row.instructionsPerCall), try #require(row.llcMissesPerCall)
        )
        #expect(cycles > 0 && instructions > 0 && misses > 0)
    }

    /// A sweep says why hardware counters are unavailable once per run, in its log and sidecar,
    /// however many points it measures.
    @Test func aSweepSaysWhyOnce() throws {
        let path = temporaryPath("counters.csv")
        defer { for p in [path] + ResultsFile.sidecars(of: path) { try? FileManager.default.removeItem(atPath: p) } }
        var sweep = testSweep(try tinySpec(), output: path)
        sweep.hardwareCounters = Self.noPMU
        let summary = try sweep.run()
        #expect(summary.measured > 1)
        let metadata = try #require(try RunMetadata.read(from: RunMetadata.path(forCSV: path)))
        let notes = (metadata.sessions.last?.warnings ?? []).filter { $0.hasPrefix("hardware counters unavailable") }
        #expect(notes.count == 1)
        let table = try ResultTable(path: path)
        #expect(table.measured.allSatisfy { $0.hardwareCounters == .unavailable && $0.userCPUPerCall != nil })
        #expect(table.rows.filter { !$0.isOK }.allSatisfy { $0.hardwareCounters == nil })
    }
}
