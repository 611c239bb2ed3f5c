#ifndef ATTNBENCH_PERF_EVENTS_H
#define ATTNBENCH_PERF_EVENTS_H

#include <stdint.h>

/// The hardware events attnbench counts, as `perf_event_attr` (type, config) pairs of
/// `PERF_TYPE_HARDWARE`: the kernel maps each to the CPU's own event.
typedef enum {
    /// PERF_COUNT_HW_CPU_CYCLES: core cycles (not reference cycles: they follow the clock's changes).
    attnbench_perf_cycles = 0,
    /// PERF_COUNT_HW_INSTRUCTIONS: instructions retired.
    attnbench_perf_instructions = 1,
    /// PERF_COUNT_HW_CACHE_MISSES: "usually last-level cache misses" (perf_event_open(2)); on x86 the
    /// kernel maps it to the LLC-miss event (LONGEST_LAT_CACHE.MISS on Intel).
    attnbench_perf_llc_misses = 2,
} attnbench_perf_event;

/// One counter's reading: its count and, for a counter the kernel multiplexed, how long it was
/// enabled and how long it actually ran (PERF_FORMAT_TOTAL_TIME_ENABLED | _RUNNING, nanoseconds).
typedef struct {
    uint64_t value;
    uint64_t time_enabled;
    uint64_t time_running;
} attnbench_perf_reading;

/// Opens a counter of `event` for thread `tid` on any CPU, counting user space only (exclude_kernel
/// and exclude_hv, so it is allowed at perf_event_paranoid 2 without privileges), enabled at once,
/// inherited by threads `tid` creates later. Returns the file descriptor, or -1 with the errno in
/// `*error` (ENOENT or EOPNOTSUPP: no PMU, as in VMs without a virtual PMU; EACCES or EPERM: the
/// paranoid level or a seccomp filter; ENOSYS: no perf_event_open at all). The corresponding
/// system call is perf_event_open(2), made with syscall(2) since glibc has no wrapper.
int attnbench_perf_open(attnbench_perf_event event, int tid, int *error);

/// Reads the counter `fd` into `*out`: 0, or -1 with the errno in `*error` (a short read is EIO).
int attnbench_perf_read(int fd, attnbench_perf_reading *out, int *error);

#endif
