/*
 * matmul.c - reference matmul: y[M,N] (= or +=) x[M,K] w[N,K]^T + bias[N],
 * one double dot product per output (OpenMP over outputs); packed weights
 * (f16, bf16, q8_0, q4_0) decoded a row at a time.
 */
#include <omp.h>
#include <stdlib.h>

#include "ref/ref_internal.h"

/* matmul: y[M,N] (= or +=) x[M,K] w[N,K]^T + bias[N]                         */

swacl_status swacl_ref_matmul(swacl_backend *be, swacl_buf *y, const swacl_buf *x,
                              const swacl_buf *w, const swacl_buf *bias, int M, int N, int K,
                              int accumulate)
{
    SWACL_FAIL_IF(be->ctx, M < 0 || N < 0 || K < 0, SWACL_INVALID_ARG,
                  "ref matmul: negative shape M=%d N=%d K=%d", M, N, K);
    SWACL_TRY(swacl_ref_need(be, "matmul", "y", y, (size_t)M * N));
    SWACL_TRY(swacl_ref_need(be, "matmul", "x", x, (size_t)M * K));
    SWACL_TRY(swacl_ref_need_rows(be, "matmul", "w", w, (size_t)N, K));
    if (bias) SWACL_TRY(swacl_ref_need(be, "matmul", "bias", bias, (size_t)N));
    SWACL_FAIL_IF(be->ctx, y == x || y == w, SWACL_INVALID_ARG,
                  "ref matmul: output must not alias an input");

    if (w->wtype != SWACL_WT_F32) {
        int rc = swacl_ref_gemm_typed(M, N, K, fdata(x), w->wtype, w->data,
                                      bias ? fdata(bias) : NULL, fdata(y), accumulate, nthreads(be));
        SWACL_FAIL_IF(be->ctx, rc != 0, SWACL_OUT_OF_MEMORY, "ref matmul: out of host memory");
        return SWACL_OK;
    }
    swacl_ref_gemm(M, N, K, fdata(x), fdata(w), bias ? fdata(bias) : NULL, fdata(y), accumulate,
                   nthreads(be));
    return SWACL_OK;
}

/* The packed-weight GEMM: each W row decoded once (swacl_row_decode, the
 * values the device kernels compute), then the same double dot products.
 * -1 when out of memory for the decoded rows. */
int swacl_ref_gemm_typed(int M, int N, int K, const float *X, swacl_wtype wt, const void *W,
                         const float *Bs, float *Y, int accumulate, int threads)
{
    if (threads < 1) threads = omp_get_max_threads();
    const size_t rb = swacl_wtype_row_bytes(wt, K), kk = (size_t)(K ? K : 1);
    float *rows = malloc((size_t)threads * kk * sizeof *rows);
    if (!rows) return -1;
#pragma omp parallel for schedule(static) num_threads(threads)
    for (int n = 0; n < N; n++) {
        float *row = rows + (size_t)omp_get_thread_num() * kk;
        swacl_row_decode(wt, (const unsigned char *)W + (size_t)n * rb, row, K);
        for (int m = 0; m < M; m++) {
            double acc = dot_f64(X + (size_t)m * K, row, K);
            if (Bs) acc += Bs[n];
            float *yo = Y + (size_t)m * N + n;
            *yo = accumulate ? (float)((double)*yo + acc) : (float)acc;
        }
    }
    free(rows);
    return 0;
}

/* The one reference GEMM (also the GEMM tuner's check, host/tune/). */
void swacl_ref_gemm(int M, int N, int K, const float *X, const float *Wt, const float *Bs,
                    float *Y, int accumulate, int threads)
{
    if (threads < 1) threads = omp_get_max_threads();
    /* every (m, n) output is one independent dot product over K */
#pragma omp parallel for collapse(2) schedule(static) num_threads(threads)
    for (int m = 0; m < M; m++) {
        for (int n = 0; n < N; n++) {
            double acc = dot_f64(X + (size_t)m * K, Wt + (size_t)n * K, K);
            if (Bs) acc += Bs[n];
            float *yo = Y + (size_t)m * N + n;
            *yo = accumulate ? (float)((double)*yo + acc) : (float)acc;
        }
    }
}
