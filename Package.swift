// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "attnbench",
    products: [
        .executable(name: "attnbench", targets: ["attnbench"]),
        // Usable as a dependency: no unsafe flags here. The Makefile adds the tuning flags
        // (`-target-cpu native`, `-enforce-exclusivity=unchecked`) to release builds it makes;
        // README "Using the kernels from another package" says how a dependent can do the same.
        .library(name: "AttentionKernels", targets: ["AttentionKernels"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")
    ],
    targets: [
        // MARK: - C libraries (one module each, imported by exactly one Swift file)
        .systemLibrary(
            name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "CJemalloc", pkgConfig: "jemalloc", providers: [.apt(["libjemalloc-dev"])]),

        // MARK: - Public API
        // The names shared by kernels and results (mechanism, projection sharing); no C, no files.
        .target(name: "AttentionTypes"),
        // The kernels: tensors, BLAS, vector helpers, the mechanisms with their backward passes and
        // cost models. No timing, no files, no reference.
        .target(name: "AttentionKernels", dependencies: ["AttentionTypes", "CBLAS"]),
        // The post-LN encoder layer (BERT, RoBERTa) around any kernel: forward, backward, cost.
        .target(name: "EncoderLayer", dependencies: ["AttentionKernels"]),
        // Token-by-token generation: KV cache, RNN state, recomputation; one layer or a stack.
        .target(name: "Decoding", dependencies: ["AttentionKernels", "EncoderLayer"]),

        // MARK: - Implementation details
        // The Float64 reference and the verification of every kernel, layer and decoder against it:
        // the test oracle, not part of the library product.
        .target(name: "AttentionReference", dependencies: ["AttentionKernels", "EncoderLayer", "Decoding"]),

        // MARK: - Results and their analysis (C-free: link neither OpenBLAS nor jemalloc)
        // CSV reader/writer, files, gnuplot string helpers, error types; knows nothing about attention.
        .target(name: "Reporting"),
        // The results schema: typed point keys, one row type per file with one column table,
        // tables, run metadata, statistics and fits.
        .target(name: "Results", dependencies: ["AttentionTypes", "Reporting"]),
        // Series, speed-ups, Table 3 cells, decode curves, exponents, and the regression check.
        .target(name: "Analysis", dependencies: ["Results", "AttentionTypes"]),
        // gnuplot scripts and the Markdown report, from an analysis.
        .target(name: "Figures", dependencies: ["Analysis", "Results", "Reporting", "AttentionTypes"]),
        // Results in other tools' formats: Google Benchmark JSON, Bencher, github-action-benchmark.
        .target(name: "Exports", dependencies: ["Results", "Reporting"]),

        // MARK: - Measuring
        // cpuid and xgetbv: the instruction sets this CPU runs (to choose OpenBLAS's core).
        .target(name: "CPUFeatures"),
        // perf_event_open: hardware counters (cycles, instructions, LLC misses) where a PMU is exposed.
        .target(name: "CPerfEvents"),
        // jemalloc's options for this process (its malloc_conf): freed buffers come back warm.
        .target(name: "JemallocConfig"),
        // jemalloc probe, RSS probe, the stopwatch, getrusage and perf counters; linking it makes jemalloc
        // the process's malloc.
        .target(name: "Profiling", dependencies: ["CJemalloc", "JemallocConfig", "CPerfEvents"]),
        // NumPy .npy reader/writer.
        .target(name: "TensorIO"),
        // Sweeps: grids, presets, the memory guard, the per-point measurement, results files, metadata.
        .target(
            name: "Harness",
            dependencies: [
                "AttentionKernels", "EncoderLayer", "Decoding", "AttentionReference", "AttentionTypes", "CPUFeatures",
                "Profiling", "Results", "Reporting",
            ]),

        // MARK: - Executable
        .executableTarget(
            name: "attnbench",
            dependencies: [
                "AttentionKernels", "EncoderLayer", "Decoding", "AttentionReference", "AttentionTypes", "Profiling",
                "TensorIO", "Reporting", "Results", "Analysis", "Harness", "Figures", "Exports",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        .target(
            name: "_TestSupport", dependencies: ["AttentionKernels"], path: "Tests/_TestSupport"),
        // A seeded generator for the fuzz tests of bundles that link no kernels.
        .target(name: "_SeededRandom", path: "Tests/_SeededRandom"),

        // MARK: - Unit test bundles
        .testTarget(
            name: "AttentionKernelsTests",
            dependencies: ["AttentionKernels", "AttentionReference", "Profiling", "_TestSupport"]),
        .testTarget(
            name: "EncoderLayerTests",
            dependencies: ["EncoderLayer", "AttentionKernels", "AttentionReference", "Profiling", "_TestSupport"]),
        .testTarget(
            name: "DecodingTests",
            dependencies: [
                "Decoding", "EncoderLayer", "AttentionKernels", "AttentionReference", "Profiling", "_TestSupport",
            ]),
        .testTarget(name: "ProfilingTests", dependencies: ["Profiling"]),
        .testTarget(name: "ReportingTests", dependencies: ["Reporting", "_SeededRandom"]),
        .testTarget(name: "ResultsTests", dependencies: ["Results", "Reporting", "AttentionTypes"]),
        .testTarget(
            name: "AnalysisTests",
            dependencies: ["Analysis", "Results", "AttentionTypes", "Reporting", "_SeededRandom"]),
        .testTarget(
            name: "FiguresTests",
            dependencies: ["Figures", "Analysis", "Results", "Reporting", "AttentionTypes", "_SeededRandom"]),
        .testTarget(name: "ExportsTests", dependencies: ["Exports", "Results", "Reporting", "_SeededRandom"]),
        .testTarget(
            name: "HarnessTests",
            dependencies: [
                "Harness", "Results", "Analysis", "Reporting", "Profiling", "AttentionKernels", "EncoderLayer",
                "Decoding",
                "AttentionReference", "_SeededRandom",
            ]),
        .testTarget(name: "TensorIOTests", dependencies: ["TensorIO", "_SeededRandom"]),
        .testTarget(
            name: "CLITests",
            dependencies: ["attnbench", "Harness", "Results", "TensorIO", "Reporting", "_TestSupport", "_SeededRandom"]),
    ]
)
