/*
 * matmul.c - reference matmul: y[M,N] (= or +=) x[M,K] w[N,K]^T + bias[N],
 * one double dot product per output (OpenMP over outputs).
 */
#include <omp.h>

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
    SWACL_TRY(swacl_ref_need(be, "matmul", "w", w, (size_t)N * K));
    if (bias) SWACL_TRY(swacl_ref_need(be, "matmul", "bias", bias, (size_t)N));
    SWACL_FAIL_IF(be->ctx, y == x || y == w, SWACL_INVALID_ARG,
                  "ref matmul: output must not alias an input");

    swacl_ref_gemm(M, N, K, fdata(x), fdata(w), bias ? fdata(bias) : NULL, fdata(y), accumulate,
                   nthreads(be));
    return SWACL_OK;
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
