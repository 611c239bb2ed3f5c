#ifndef ATTNBENCH_CPU_FEATURES_H
#define ATTNBENCH_CPU_FEATURES_H

/// What this CPU can run, read with `cpuid` and, for the AVX and AVX-512 registers, with `xgetbv`
/// (a feature counts only when the operating system saves its registers). All zero off x86-64.
typedef struct {
    /// "GenuineIntel", "AuthenticAMD", "HygonGenuine", ...; empty off x86-64.
    char vendor[13];
    int sse42;
    int avx;
    int fma;
    int avx2;
    /// AVX-512 F, BW, VL and DQ together (what OpenBLAS's SkylakeX kernels use), with the opmask
    /// and zmm state enabled by the OS.
    int avx512;
    /// AVX-512 BF16 (Cooper Lake and later).
    int avx512bf16;
    /// cpuid leaf 1: family (with the extended family) and model (with the extended model).
    int family;
    int model;
} attnbench_cpu_features;

/// Fills `out`; the corresponding instructions are `cpuid` (leaves 0, 1, 7.0, 7.1) and `xgetbv`.
void attnbench_read_cpu_features(attnbench_cpu_features *out);

#endif
