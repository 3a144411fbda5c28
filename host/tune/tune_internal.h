/*
 * tune_internal.h - the GEMM tuner's pieces (host/tune/): tune_bench.c
 * opens the device, holds the inputs and references and measures one
 * shape; tune_gemm.c runs the search over the candidate sets.
 */
#ifndef SWACL_TUNE_INTERNAL_H
#define SWACL_TUNE_INTERNAL_H

#include "cl/cl_internal.h"

#define FORCE_DIRECT 100000 /* switch size: 1e15 > any m*n*k here */

typedef struct {
    int M, N, K;
    int search; /* used in the search phases */
} tshape;

typedef struct {
    swacl_ctx *ctx;
    const swacl_tune_gemm_params *p; /* NULL in a probe */
    swacl_cl_dev *dev;
    int n;         /* shapes; index n is the odd check-only shape */
    tshape sh[SWACL_TUNE_MAX_SHAPES + 1];
    float **ref;   /* n + 1 references */
    float *hA, *hW, *hC;
    cl_mem A, W, C;
} tbench;

/* Parse "M,N,K;M,N,K" (also ' ' or '/' between shapes), all searched.
 * The count, -1 on error. */
int swacl_tune_parse_shapes(const char *s, tshape *out, int cap);
/* The layer GEMMs of cfg, (N, K) deduplicated in order: q (Q, D), k/v
 * (KV, D), o (D, Q), FFN up/gate (F, D), down (D, F), at each of the
 * n_rows M values (search: M 1, 512, 2048). out holds 5 * n_rows. */
int swacl_tune_model_shapes(const swacl_config *c, const int *rows, int n_rows, tshape *out);

/* A progress line through p->progress (nothing without one). */
void swacl_tune_note(const tbench *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Open device (never through a backend: no tune file is applied), seeded
 * inputs for the b->n shapes + the odd one, their references. */
swacl_status swacl_tune_bench_open(tbench *b, const char *device);
void swacl_tune_bench_close(tbench *b);
/* Check shape i (i == b->n: the odd shape), then time it when min_s > 0.
 * 0 ok (*sec = best seconds per call), -1 wrong, -2 CLBlast / OpenCL error
 * (message on ctx). */
int swacl_tune_measure(tbench *b, int i, double min_s, double *sec, double *max_err);
/* Best seconds of OpenBLAS sgemm on shape s (C: host scratch). */
double swacl_tune_time_openblas(const tbench *b, const tshape *s, float *C, double min_s);
/* Compile + check a set in a child (p->probe_exe). 0 ok, -1 rejected. */
int swacl_tune_probe_child(const tbench *b, const swacl_tune_params *t, char *why,
                           size_t why_len);
/* A set as one line: all Xgemm values, and XgemmDirect's in a short form. */
void swacl_tune_fmt_x(char *buf, size_t len, const size_t *x);
void swacl_tune_fmt_d(char *buf, size_t len, const size_t *d);

#endif /* SWACL_TUNE_INTERNAL_H */
