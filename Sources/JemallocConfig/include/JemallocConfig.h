#ifndef ATTNBENCH_JEMALLOC_CONFIG_H
#define ATTNBENCH_JEMALLOC_CONFIG_H
/// The options this process gives jemalloc (its `malloc_conf`).
const char *attnbench_malloc_conf(void);
#endif
