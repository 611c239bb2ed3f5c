#include "JemallocConfig.h"

// jemalloc reads this global at start-up (see "TUNING" in jemalloc(3): "the string pointed to by
// the global variable malloc_conf"). Settings, and why:
// - oversize_threshold:0: no separate arena for allocations over 8 MiB. That arena purges freed
//   pages at once, so every n x n score buffer would be page-faulted in again on every call.
// - dirty_decay_ms:-1, muzzy_decay_ms:-1: freed pages are kept and reused, never returned to the
//   OS, so per-call buffers come back warm (no page fault per call), as in a long-running process.
//   The resident set therefore stays at the run's high-water mark.
// Allocation sizes, and so jemalloc's thread.peak, are unaffected.
const char *malloc_conf = "oversize_threshold:0,dirty_decay_ms:-1,muzzy_decay_ms:-1";

const char *attnbench_malloc_conf(void) { return malloc_conf; }
