import ArgumentParser
import AttentionKernels
import Figures
import Foundation
import Harness
import Reporting
import Results

/// `attnbench kernels`: each kernel against its own GEMMs and the sgemm ceiling, at 1 and 2 threads.
struct Kernels: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time each kernel against its own GEMMs, the sgemm ceiling and 1 thread (make bench-kernels).",
        discussion:
            "B=1, H=8, d=64 by default. Ratios are measured in one run, so they survive a noisy machine better than times."
    )

    @Option(help: "Sequence lengths n.") var n = "1024...8192"
    @Option(help: "Thread counts.") var threads = "1,2"
    @Option(help: "Heads.") var heads = 8
    @Option(help: "Head dimension d.") var headDim = 64
    @Option(help: "Measure each configuration this many times and keep the best median.") var cycles = 2
    @Option(
        help: "Flash attention tilings to time, as query×key rows (e.g. 64x512,128x256); default: the kernel's own.")
    var flashBlocks: String?
    @Option(help: "What computes flash attention's tile products: simd (its micro-kernels), blas, or both (simd,blas).")
    var flashProducts = "simd"
    @Option(help: "Only the kernels whose label starts with one of these (e.g. flash,linear); default: all.")
    var only: String?
    @Option(help: "CSV to write.") var output = "Results/kernels.csv"
    @Option(
        help: "Also write the targets judged from this run as Markdown (make bench-kernels: Results/REPORT-kernels.md)."
    )
    var report: String?
    @Flag(help: "Replace the CSV when it exists.") var overwrite = false
    @Flag(help: "Allow a debug build.") var allowDebug = false

    func run() throws {
        try reportingUsageErrors {
            if buildConfiguration == "debug" && !allowDebug {
                throw UsageError("kernels needs a release build (`make build`), or --allow-debug")
            }
            let lengths = try ValueList.integers(n, axis: "n")
            let threadCounts = try ValueList.integers(threads, axis: "threads")
            guard heads >= 1, headDim >= 1 else {
                throw UsageError("--heads and --head-dim must be at least 1, got \(heads) and \(headDim)")
            }
            guard (1...1000).contains(cycles) else {
                throw UsageError("--cycles must be between 1 and 1000, got \(cycles)")
            }
            if let t = threadCounts.first(where: { $0 > SweepPoint.maximumThreads }) {
                throw UsageError("--threads: \(t) is more than \(SweepPoint.maximumThreads) threads")
            }
            // The memory guard, as in `run`: nothing is allocated that the cost model puts over 60% of
            // the available memory.
            let budget = SweepSpec().effectiveMemoryBudget()
            for length in lengths {
                let shape = AttentionShape(batch: 1, heads: heads, length: length, headDim: headDim)
                let bytes = KernelBench.predictedBytes(shape, threads: threadCounts.max() ?? 1)
                guard bytes <= budget else {
                    throw UsageError(
                        "n=\(length) needs \(bytes == Int.max ? "over 8 EiB" : formatBytes(bytes)), over the memory budget \(formatBytes(budget)) (60% of the available memory); lower --n, --heads or --head-dim"
                    )
                }
            }
            var bench = KernelBench()
            bench.policy.cycles = cycles
            if let flashBlocks { bench.flashBlocks = try Self.tilings(flashBlocks) }
            bench.flashProducts = try ValueList.names(flashProducts, axis: "flash-products") {
                FlashAttention.Products(rawValue: $0)
            }
            bench.only = only.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
            try OutputFile.checkWritable(output, overwrite: overwrite)
            if let report {
                try OutputFile.checkWritable(report, overwrite: overwrite)
                try OutputFile.checkDistinct([output, report], inputs: [])
            }
            // The tree as it was when measuring began (the run's own outputs make it dirty later).
            let (loadBefore, startedAt, git) = (Machine.loadAverage(), Date(), RunMetadata.git())
            var lines: [[String]] = []
            var ceilings: [Int: Double] = [:]
            for t in threadCounts { ceilings[t] = Calibration.sgemmGflops(threads: t) }
            print(
                String(
                    format: "%-16@ %6@ %3@ %10@ %10@ %7@ %8@ %6@", "kernel" as NSString, "n" as NSString,
                    "t" as NSString,
                    "time ms" as NSString, "gemm ms" as NSString, "ratio" as NSString, "GF/s" as NSString,
                    "eff" as NSString))
            var all: [KernelBench.Row] = []
            for length in lengths {
                for t in threadCounts {
                    let shape = AttentionShape(batch: 1, heads: heads, length: length, headDim: headDim)
                    let ceiling = ceilings[t] ?? .nan
                    for row in try bench.measure(shape: shape, threads: t, ceiling: ceiling) {
                        lines.append(KernelBench.fields(row, shape: shape, ceiling: ceiling))
                        all.append(row)
                        print(
                            String(
                                format: "%-16@ %6d %3d %10.2f %10@ %7@ %8.1f %6.3f", row.kernel as NSString, row.n,
                                row.threads,
                                row.seconds * 1e3,
                                (row.gemmSeconds.map { String(format: "%.2f", $0 * 1e3) } ?? "-") as NSString,
                                (row.ratio.map { String(format: "%.2f", $0) } ?? "-") as NSString, row.gflops,
                                row.efficiency))
                    }
                }
            }
            try OutputFile.write(
                CSV.line(KernelBench.columns) + lines.map(CSV.line).joined(), to: output, overwrite: overwrite)
            print("OpenBLAS core: \(OpenBLASCore.record.summary)")
            print(
                "sgemm ceiling: "
                    + ceilings.sorted { $0.key < $1.key }.map {
                        String(format: "%.1f GF/s at %d thread(s)", $0.value, $0.key)
                    }.joined(separator: ", "))
            if threadCounts.contains(1), threadCounts.contains(2) {
                for kernel in Set(all.map(\.kernel)).sorted() {
                    let scaling = lengths.filter { $0 >= 2048 }.compactMap { n -> String? in
                        guard let one = all.first(where: { $0.kernel == kernel && $0.n == n && $0.threads == 1 }),
                            let two = all.first(where: { $0.kernel == kernel && $0.n == n && $0.threads == 2 })
                        else { return nil }
                        return String(format: "n=%d %.2f", n, two.seconds / one.seconds)
                    }
                    print("2-thread ÷ 1-thread time, \(kernel): \(scaling.joined(separator: ", "))")
                }
            }
            for n in lengths {
                for t in threadCounts {
                    if let c = all.first(where: { $0.kernel == "flash" && $0.n == n && $0.threads == t }),
                        let l = all.first(where: { $0.kernel == "standard" && $0.n == n && $0.threads == t })
                    {
                        print(String(format: "flash ÷ standard, n=%d t=%d: %.2f", n, t, c.seconds / l.seconds))
                    }
                    if let c = all.first(where: { $0.kernel == "linear causal" && $0.n == n && $0.threads == t }),
                        let l = all.first(where: { $0.kernel == "linear" && $0.n == n && $0.threads == t })
                    {
                        print(
                            String(format: "causal ÷ non-causal linear, n=%d t=%d: %.2f", n, t, c.seconds / l.seconds))
                    }
                }
            }
            if let report {
                let machine = Machine.current()
                let load = { (l: [Double]?) in
                    l.map { $0.map { String(format: "%.2f", $0) }.joined(separator: " ") } ?? "?"
                }
                let header = [
                    "Machine: \(machine.cpuModel), \(machine.logicalCores) logical cores; OpenBLAS core: \(OpenBLASCore.record.summary).",
                    "sgemm ceiling: "
                        + ceilings.sorted { $0.key < $1.key }.map {
                            String(format: "%.1f GF/s at %d thread(s)", $0.value, $0.key)
                        }
                        .joined(separator: ", ") + ".",
                    "Measured \(ISO8601DateFormatter().string(from: startedAt)), \(cycles) cycle(s), by commit \(git.commit ?? "unknown")"
                        + "\(git.dirty == true ? " with uncommitted changes" : "") (\(buildConfiguration) build); load average "
                        + "\(load(loadBefore)) before, \(load(Machine.loadAverage())) after.",
                ]
                let points = all.map {
                    KernelReport.Point(
                        kernel: $0.kernel, n: $0.n, threads: $0.threads, seconds: $0.seconds,
                        gemmSeconds: $0.gemmSeconds,
                        efficiency: $0.efficiency)
                }
                try OutputFile.write(
                    KernelReport(header: header, points: points).markdown(), to: report, overwrite: overwrite)
                print("kernels: wrote \(report)")
            }
            print("kernels: wrote \(output)")
        }
    }

    /// `64x512,128x256` → tilings (query rows × key rows, each at least 1).
    static func tilings(_ text: String) throws(UsageError) -> [FlashAttention.Blocks] {
        var result: [FlashAttention.Blocks] = []
        for item in text.split(separator: ",") {
            let parts = item.trimmingCharacters(in: .whitespaces).lowercased().split(separator: "x")
            guard parts.count == 2, let query = Int(parts[0]), let key = Int(parts[1]), query >= 1, key >= 1,
                query <= 1 << 16, key <= 1 << 16
            else {
                throw UsageError("'\(item)' is not a flash tiling QUERYxKEY with both 1…65536 (e.g. 64x512)")
            }
            result.append(FlashAttention.Blocks(query: query, key: key))
        }
        guard !result.isEmpty else { throw UsageError("no flash tiling given; write QUERYxKEY, e.g. 64x512") }
        return result
    }
}
