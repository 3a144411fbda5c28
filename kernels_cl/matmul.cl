/*
 * matmul.cl - the kernels of the matmul op besides CLBlast's SGEMM (which
 * the host calls for M > GEMV_MAXM):
 *
 *   gemv_rows  y[M,N] (+)= x[M,K] w[N,K]^T for a few rows M (decode steps)
 *   bias_rows  y [M, N]: y[r*N + c] = bias[c] (mode 0), += bias[c]
 *              (mode 1), = 0 (mode 0 without bias); NDRange (N padded to
 *              ELT_LX, M). Runs before the GEMM, which then accumulates.
 *
 * gemv_rows:
 * CLBlast's GEMM routines are built for large tiles: for M = 1 its direct
 * kernel ran at 0.2-0.5 GFLOP/s on PoCL, so a decode step spent most of its
 * time in seven tiny GEMMs per layer. A decode GEMM is a matrix-vector
 * product bound by reading W once; this kernel reads each W row once with
 * float8 loads and applies it to all M (<= GEMV_MAXM) rows of x.
 *
 * NDRange (ceil(N/GEMV_LX)*GEMV_LX), local (GEMV_LX); work-item n owns
 * column n of y. Accumulation in float8 lanes, then a horizontal sum.
 * Versions: v1 (this) one output column per work-item.
 */
#ifndef GEMV_MAXM
#define GEMV_MAXM 8 /* rows handled per launch (host splits larger M) */
#endif

__kernel void gemv_rows(__global float *restrict y, __global const float *restrict x,
                        __global const float *restrict w, int M, int N, int K, int accumulate)
{
    const int n = (int)get_global_id(0);
    if (n >= N) return;
    __global const float *wr = w + (size_t)n * K;
    float8 acc[GEMV_MAXM];
    float tail[GEMV_MAXM];
    for (int m = 0; m < GEMV_MAXM; m++) {
        acc[m] = (float8)(0.0f);
        tail[m] = 0.0f;
    }
    int k = 0;
    for (; k + 8 <= K; k += 8) {
        const float8 wv = vload8(0, wr + k);
        for (int m = 0; m < M; m++) acc[m] = fma(vload8(0, x + (size_t)m * K + k), wv, acc[m]);
    }
    for (; k < K; k++) {
        const float wk = wr[k];
        for (int m = 0; m < M; m++) tail[m] = fma(x[(size_t)m * K + k], wk, tail[m]);
    }
    for (int m = 0; m < M; m++) {
        const float8 a = acc[m];
        const float s = ((a.s0 + a.s1) + (a.s2 + a.s3)) + ((a.s4 + a.s5) + (a.s6 + a.s7)) + tail[m];
        __global float *yo = y + (size_t)m * N + n;
        *yo = accumulate ? *yo + s : s;
    }
}

#ifndef ELT_LX
#define ELT_LX 64
#endif

__kernel __attribute__((reqd_work_group_size(ELT_LX, 1, 1)))
void bias_rows(__global float *y, __global const float *bias, int M, int N, int mode,
               int has_bias)
{
    const int c = (int)get_global_id(0);
    const int r = (int)get_global_id(1);
    if (c >= N || r >= M) return;
    const float bv = has_bias ? bias[c] : 0.0f;
    __global float *yp = y + (size_t)r * N + c;
    if (mode) *yp += bv;
    else *yp = bv;
}
