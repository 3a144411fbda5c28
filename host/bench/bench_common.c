/*
 * bench_common.c - small helpers of the benchmarks (bench_internal.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench/bench_internal.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double swacl_bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

void swacl_bench_say(swacl_bench_progress_fn fn, void *user, const char *fmt, ...)
{
    if (!fn) return;
    char line[4096]; /* the pipeline description can be 2 KiB */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fn(line, user);
}

void swacl_bench_random_ids(int32_t *ids, int n, int vocab, uint64_t seed)
{
    swacl_rng r = {seed};
    for (int i = 0; i < n; i++) ids[i] = (int32_t)(swacl_rng_next(&r) % (uint64_t)vocab);
}
