/*
 * bench_internal.h - helpers shared by the benchmark files of host/bench/
 * (the public calls are in include/swacl.h, "Benchmarks and device probes").
 *
 *   probe.c          device facts, peak probes (kernels_cl/probe.cl), host sgemm
 *   bench_ops.c      the op benchmark: BENCH rows of host/ops/op_cases.c, timed
 *   bench_e2e.c      prefill / decode tokens/s
 *   bench_start.c    cold vs warm start
 *   bench_pipeline.c the layer pipeline vs each device alone; device lists
 *   bench_report.c   the whole `swacl bench` run as one JSON report; its plot
 *   bench_common.c   these helpers
 */
#ifndef SWACL_BENCH_INTERNAL_H
#define SWACL_BENCH_INTERNAL_H

#include "internal.h"

/* Median of v[0..n) (sorts v). n >= 1. */
double swacl_bench_median(double *v, int n);
/* printf-style progress line through fn (NULL: nothing). */
void swacl_bench_say(swacl_bench_progress_fn fn, void *user, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* n seeded random token ids in [0, vocab). */
void swacl_bench_random_ids(int32_t *ids, int n, int vocab, uint64_t seed);

#endif /* SWACL_BENCH_INTERNAL_H */
