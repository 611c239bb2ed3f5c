#include "PerfEvents.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#if defined(__linux__)
#include <linux/perf_event.h>
#include <sys/syscall.h>

int attnbench_perf_open(attnbench_perf_event event, int tid, int *error) {
    static const uint64_t configs[] = {
        PERF_COUNT_HW_CPU_CYCLES, PERF_COUNT_HW_INSTRUCTIONS, PERF_COUNT_HW_CACHE_MISSES};
    if ((unsigned)event >= sizeof configs / sizeof configs[0]) {
        *error = EINVAL;
        return -1;
    }
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_HARDWARE;
    attr.config = configs[event];
    attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
    attr.disabled = 0;  // counting from now: the caller reads before and after, and takes the difference
    attr.inherit = 1;   // threads this one starts later count too (their counts join this fd's on read)
    attr.exclude_kernel = 1;
    attr.exclude_hv = 1;
    // pid = tid, cpu = -1: this thread wherever it runs; group_fd = -1: a counter of its own, since
    // inherited counters cannot be read as a group.
    long fd = syscall(SYS_perf_event_open, &attr, (pid_t)tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
    if (fd < 0) {
        *error = errno;
        return -1;
    }
    return (int)fd;
}

int attnbench_perf_read(int fd, attnbench_perf_reading *out, int *error) {
    uint64_t buffer[3];
    ssize_t got = read(fd, buffer, sizeof buffer);
    if (got < 0) {
        *error = errno;
        return -1;
    }
    if (got != (ssize_t)sizeof buffer) {
        *error = EIO;
        return -1;
    }
    out->value = buffer[0];
    out->time_enabled = buffer[1];
    out->time_running = buffer[2];
    return 0;
}
#else
int attnbench_perf_open(attnbench_perf_event event, int tid, int *error) {
    (void)event;
    (void)tid;
    *error = ENOSYS;
    return -1;
}

int attnbench_perf_read(int fd, attnbench_perf_reading *out, int *error) {
    (void)fd;
    memset(out, 0, sizeof *out);
    *error = ENOSYS;
    return -1;
}
#endif
