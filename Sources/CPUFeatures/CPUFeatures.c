#include "CPUFeatures.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

// The extended control register XCR0: which register states the OS saves on a context switch.
static unsigned long long xcr0(void) {
    unsigned int eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

void attnbench_read_cpu_features(attnbench_cpu_features *out) {
    memset(out, 0, sizeof *out);
    unsigned int a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return;
    unsigned int maxLeaf = a;
    memcpy(out->vendor, &b, 4);
    memcpy(out->vendor + 4, &d, 4);
    memcpy(out->vendor + 8, &c, 4);
    out->vendor[12] = 0;

    __get_cpuid(1, &a, &b, &c, &d);
    unsigned int family = (a >> 8) & 0xf, model = (a >> 4) & 0xf;
    if (family == 0xf) family += (a >> 20) & 0xff;
    if (family == 0x6 || family >= 0xf) model |= ((a >> 16) & 0xf) << 4;
    out->family = (int)family;
    out->model = (int)model;
    out->sse42 = (c >> 20) & 1;
    int osxsave = (c >> 27) & 1;
    unsigned long long xcr = osxsave ? xcr0() : 0;
    int ymmState = (xcr & 0x6) == 0x6;          // XMM and YMM
    int zmmState = (xcr & 0xe6) == 0xe6;        // and opmask, ZMM_Hi256, Hi16_ZMM
    out->avx = ((c >> 28) & 1) && ymmState;
    out->fma = ((c >> 12) & 1) && out->avx;

    if (maxLeaf >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        out->avx2 = ((b >> 5) & 1) && out->avx;
        int f = (b >> 16) & 1, dq = (b >> 17) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1;
        out->avx512 = f && dq && bw && vl && zmmState;
        unsigned int subleaves = a;
        if (subleaves >= 1) {
            __cpuid_count(7, 1, a, b, c, d);
            out->avx512bf16 = ((a >> 5) & 1) && out->avx512;
        }
    }
}
#else
void attnbench_read_cpu_features(attnbench_cpu_features *out) { memset(out, 0, sizeof *out); }
#endif
