// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "attnbench",
    products: [
        .executable(name: "attnbench", targets: ["attnbench"]),
        .library(name: "AttentionKernels", targets: ["AttentionKernels"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // MARK: - C libraries (one module each, imported by exactly one Swift file)
        .systemLibrary(
            name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "CJemalloc", pkgConfig: "jemalloc", providers: [.apt(["libjemalloc-dev"])]),

        // MARK: - Public API
        // Kernels, cost model and the Float64 reference: no timing, no files.
        .target(
            name: "AttentionKernels", dependencies: ["CBLAS"],
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked", "-target-cpu", "native"])]),
        // jemalloc's options for this process (its malloc_conf): freed buffers come back warm.
        .target(name: "JemallocConfig"),
        // jemalloc probe; linking it makes jemalloc the process's malloc.
        .target(name: "Profiling", dependencies: ["CJemalloc", "JemallocConfig"]),
        // NumPy .npy reader/writer.
        .target(name: "TensorIO"),
        // CSV writer and reader; knows nothing about attention or C.
        .target(name: "Reporting"),
        // Sweeps: grids, presets, the per-point measurement, CSV rows, run metadata.
        .target(name: "Harness", dependencies: ["AttentionKernels", "Profiling", "Reporting"]),
        // gnuplot scripts and the Markdown report, from a results table.
        .target(name: "Figures", dependencies: ["Harness", "Reporting", "AttentionKernels"]),

        // MARK: - Executable
        .executableTarget(
            name: "attnbench",
            dependencies: [
                "AttentionKernels", "Profiling", "TensorIO", "Reporting", "Harness", "Figures",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // MARK: - Implementation details
        .target(
            name: "_TestSupport", dependencies: ["AttentionKernels"], path: "Tests/_TestSupport"),

        // MARK: - Unit test bundles
        .testTarget(
            name: "AttentionKernelsTests",
            dependencies: ["AttentionKernels", "Profiling", "_TestSupport"]),
        .testTarget(name: "ProfilingTests", dependencies: ["Profiling"]),
        .testTarget(name: "ReportingTests", dependencies: ["Reporting"]),
        .testTarget(name: "FiguresTests", dependencies: ["Figures", "Harness", "AttentionKernels", "Reporting"]),
        .testTarget(name: "HarnessTests", dependencies: ["Harness", "Reporting", "Profiling", "AttentionKernels"]),
        .testTarget(name: "TensorIOTests", dependencies: ["TensorIO"]),
        .testTarget(name: "CLITests", dependencies: ["attnbench", "Harness", "TensorIO", "Reporting", "_TestSupport"]),
    ]
)
