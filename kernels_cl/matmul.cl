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

/*
 * Packed weights (swacl_wtype, host/model/quant.c): one W row of K values
 * is swacl_wtype_row_bytes bytes; the decode is exactly swacl_row_decode
 * (f16 by vload_half: core OpenCL 1.2, no cl_khr_fp16 needed; bf16 by a
 * 16-bit shift; q8_0 / q4_0 blocks of 32 with an f16 scale d, values
 * q * d and (nibble - 8) * d, products exact in float).
 *
 *   gemv_<t>     as gemv_rows with W in type t: each row decoded once per
 *                work-item, 8 values at a time (block types: 32 at a time,
 *                the block's dot product scaled by d once); gemv_<t>_k8
 *                for f16 / bf16 rows with K % 8 == 0 (uint pairs, below):
 *                vload_half8 and the widening bf16 load ran below f32 speed
 *                on PoCL
 *   dequant_<t>  out[r, k] = decode(w row n0 + r)[k] for r < rows: the
 *                float32 panel the host hands to CLBlast for prefill GEMMs
 *                (M > GEMV_MAXM); NDRange (K/8 padded to ELT_LX, rows)
 */
#define W8_F16(row, k) vload_half8(0, (__global const half *)(row) + (k))
#define W8_BF16(row, k)                                                       \
    as_float8(convert_uint8(vload8(0, (__global const ushort *)(row) + (k))) << 16)

#define GEMV_BODY_FLOAT(W8, W1)                                               \
    const int n = (int)get_global_id(0);                                     \
    if (n >= N) return;                                                      \
    float8 acc[GEMV_MAXM];                                                   \
    float tail[GEMV_MAXM];                                                   \
    for (int m = 0; m < GEMV_MAXM; m++) {                                    \
        acc[m] = (float8)(0.0f);                                             \
        tail[m] = 0.0f;                                                      \
    }                                                                        \
    __global const uchar *wr = w + (size_t)n * K * 2;                        \
    int k = 0;                                                               \
    for (; k + 8 <= K; k += 8) {                                             \
        const float8 wv = W8(wr, k);                                         \
        for (int m = 0; m < M; m++) acc[m] = fma(vload8(0, x + (size_t)m * K + k), wv, acc[m]); \
    }                                                                        \
    for (; k < K; k++) {                                                     \
        const float wk = W1(wr, k);                                          \
        for (int m = 0; m < M; m++) tail[m] = fma(x[(size_t)m * K + k], wk, tail[m]); \
    }                                                                        \
    for (int m = 0; m < M; m++) {                                            \
        const float8 a = acc[m];                                             \
        const float s = ((a.s0 + a.s1) + (a.s2 + a.s3)) + ((a.s4 + a.s5) + (a.s6 + a.s7)) + tail[m]; \
        __global float *yo = y + (size_t)m * N + n;                          \
        *yo = accumulate ? *yo + s : s;                                      \
    }

#define W1_F16(row, k) vload_half((k), (__global const half *)(row))
#define W1_BF16(row, k) as_float((uint)((__global const ushort *)(row))[k] << 16)

__kernel void gemv_f16(__global float *restrict y, __global const float *restrict x,
                       __global const uchar *restrict w, int M, int N, int K, int accumulate)
{
    GEMV_BODY_FLOAT(W8_F16, W1_F16)
}

__kernel void gemv_bf16(__global float *restrict y, __global const float *restrict x,
                        __global const uchar *restrict w, int M, int N, int K, int accumulate)
{
    GEMV_BODY_FLOAT(W8_BF16, W1_BF16)
}

/* Even K (K % 8 == 0, rows 4-byte aligned): one uint holds elements 2i (low
 * half) and 2i+1 (high half), so both decode with integer ops on whole
 * lanes, no widening: bf16 is the top half of a float; f16 moves its
 * exponent and mantissa up 13 bits and scales by 2^112 (exact for normal
 * and subnormal halves), Inf/NaN keep an all-ones exponent. x is split
 * into even and odd lanes to match. */
#define PAIR_LO_BF16(v) as_float4((v) << 16)
#define PAIR_HI_BF16(v) as_float4((v) & (uint4)(0xffff0000u))

static inline float4 h2f4(uint4 h)
{
    const uint4 m = (h & (uint4)(0x7fffu)) << 13;
    uint4 b = as_uint4(as_float4(m) * 0x1p112f);
    b = select(b, m | (uint4)(0x7f800000u), (h & (uint4)(0x7c00u)) == (uint4)(0x7c00u));
    return as_float4(b | ((h & (uint4)(0x8000u)) << 16));
}
#define PAIR_LO_F16(v) h2f4((v) & (uint4)(0xffffu))
#define PAIR_HI_F16(v) h2f4((v) >> 16)

#define GEMV_BODY_PAIRS(LO, HI)                                               \
    const int n = (int)get_global_id(0);                                     \
    if (n >= N) return;                                                      \
    float4 ae[GEMV_MAXM], ao[GEMV_MAXM];                                     \
    for (int m = 0; m < GEMV_MAXM; m++) ae[m] = ao[m] = (float4)(0.0f);      \
    __global const uint *wr = (__global const uint *)(w + (size_t)n * K * 2); \
    int k = 0;                                                               \
    for (; k + 32 <= K; k += 32) { /* 32 per trip: the loop, not the load, \
                                      bounded the 8-wide version */         \
        const uint16 v = vload16(0, wr + k / 2);                             \
        const float4 e0 = LO(v.s0123), o0 = HI(v.s0123);                     \
        const float4 e1 = LO(v.s4567), o1 = HI(v.s4567);                     \
        const float4 e2 = LO(v.s89ab), o2 = HI(v.s89ab);                     \
        const float4 e3 = LO(v.scdef), o3 = HI(v.scdef);                     \
        for (int m = 0; m < M; m++) {                                        \
            __global const float *xm = x + (size_t)m * K + k;                \
            const float8 x0 = vload8(0, xm), x1 = vload8(1, xm);             \
            const float8 x2 = vload8(2, xm), x3 = vload8(3, xm);             \
            float4 se = fma(x0.even, e0, ae[m]), so = fma(x0.odd, o0, ao[m]); \
            se = fma(x1.even, e1, se);                                       \
            so = fma(x1.odd, o1, so);                                        \
            se = fma(x2.even, e2, se);                                       \
            so = fma(x2.odd, o2, so);                                        \
            ae[m] = fma(x3.even, e3, se);                                    \
            ao[m] = fma(x3.odd, o3, so);                                     \
        }                                                                    \
    }                                                                        \
    for (; k < K; k += 8) {                                                  \
        const uint4 v = vload4(0, wr + k / 2);                               \
        const float4 we = LO(v), wo = HI(v);                                 \
        for (int m = 0; m < M; m++) {                                        \
            const float8 xv = vload8(0, x + (size_t)m * K + k);              \
            ae[m] = fma(xv.even, we, ae[m]);                                 \
            ao[m] = fma(xv.odd, wo, ao[m]);                                  \
        }                                                                    \
    }                                                                        \
    for (int m = 0; m < M; m++) {                                            \
        const float4 a = ae[m] + ao[m];                                      \
        const float s = (a.s0 + a.s1) + (a.s2 + a.s3);                       \
        __global float *yo = y + (size_t)m * N + n;                          \
        *yo = accumulate ? *yo + s : s;                                      \
    }

__kernel void gemv_bf16_k8(__global float *restrict y, __global const float *restrict x,
                           __global const uchar *restrict w, int M, int N, int K, int accumulate)
{
    GEMV_BODY_PAIRS(PAIR_LO_BF16, PAIR_HI_BF16)
}

__kernel void gemv_f16_k8(__global float *restrict y, __global const float *restrict x,
                          __global const uchar *restrict w, int M, int N, int K, int accumulate)
{
    GEMV_BODY_PAIRS(PAIR_LO_F16, PAIR_HI_F16)
}

/* one block of 32 as four float8 (unscaled) and its scale */
#define Q8_BLOCK(b, d, w0, w1, w2, w3)                                        \
    const float d = vload_half(0, (__global const half *)(b));               \
    const char16 qa = vload16(0, (__global const char *)(b) + 2);             \
    const char16 qb = vload16(0, (__global const char *)(b) + 18);            \
    const float8 w0 = convert_float8(qa.lo), w1 = convert_float8(qa.hi);      \
    const float8 w2 = convert_float8(qb.lo), w3 = convert_float8(qb.hi);
#define Q4_BLOCK(b, d, w0, w1, w2, w3)                                        \
    const float d = vload_half(0, (__global const half *)(b));               \
    const uchar16 q = vload16(0, (b) + 2);                                   \
    const float16 lo = convert_float16(q & (uchar16)(0x0f)) - 8.0f;          \
    const float16 hi = convert_float16(q >> (uchar16)(4)) - 8.0f;            \
    const float8 w0 = lo.lo, w1 = lo.hi, w2 = hi.lo, w3 = hi.hi;

#define GEMV_BODY_BLOCK(BLOCK, BB)                                            \
    const int n = (int)get_global_id(0);                                     \
    if (n >= N) return;                                                      \
    float8 acc[GEMV_MAXM];                                                   \
    for (int m = 0; m < GEMV_MAXM; m++) acc[m] = (float8)(0.0f);             \
    const int nb = K / 32;                                                   \
    __global const uchar *wr = w + (size_t)n * nb * (BB);                    \
    for (int ib = 0; ib < nb; ib++) {                                        \
        __global const uchar *b = wr + (size_t)ib * (BB);                    \
        BLOCK(b, d, w0, w1, w2, w3)                                          \
        for (int m = 0; m < M; m++) {                                        \
            __global const float *xm = x + (size_t)m * K + ib * 32;          \
            float8 p = vload8(0, xm) * w0;                                   \
            p = fma(vload8(1, xm), w1, p);                                   \
            p = fma(vload8(2, xm), w2, p);                                   \
            p = fma(vload8(3, xm), w3, p);                                   \
            acc[m] = fma(p, (float8)(d), acc[m]);                            \
        }                                                                    \
    }                                                                        \
    for (int m = 0; m < M; m++) {                                            \
        const float8 a = acc[m];                                             \
        const float s = ((a.s0 + a.s1) + (a.s2 + a.s3)) + ((a.s4 + a.s5) + (a.s6 + a.s7)); \
        __global float *yo = y + (size_t)m * N + n;                          \
        *yo = accumulate ? *yo + s : s;                                      \
    }

__kernel void gemv_q8_0(__global float *restrict y, __global const float *restrict x,
                        __global const uchar *restrict w, int M, int N, int K, int accumulate)
{
    GEMV_BODY_BLOCK(Q8_BLOCK, 34)
}

__kernel void gemv_q4_0(__global float *restrict y, __global const float *restrict x,
                        __global const uchar *restrict w, int M, int N, int K, int accumulate)
{
    GEMV_BODY_BLOCK(Q4_BLOCK, 18)
}

#ifndef ELT_LX
#define ELT_LX 64
#endif

/* work-item (g, r): values 8g..8g+7 of row r (K % 8 == 0 for float types
 * here; the host decodes other K through the one-value tail kernels) */
__kernel __attribute__((reqd_work_group_size(ELT_LX, 1, 1)))
void dequant_f16(__global float *restrict out, __global const uchar *restrict w, int n0,
                 int rows, int K)
{
    const int g = (int)get_global_id(0), r = (int)get_global_id(1);
    if (g * 8 >= K || r >= rows) return;
    __global const uchar *wr = w + (size_t)(n0 + r) * K * 2;
    if (g * 8 + 8 <= K) vstore8(W8_F16(wr, g * 8), 0, out + (size_t)r * K + g * 8);
    else
        for (int k = g * 8; k < K; k++) out[(size_t)r * K + k] = W1_F16(wr, k);
}

__kernel __attribute__((reqd_work_group_size(ELT_LX, 1, 1)))
void dequant_bf16(__global float *restrict out, __global const uchar *restrict w, int n0,
                  int rows, int K)
{
    const int g = (int)get_global_id(0), r = (int)get_global_id(1);
    if (g * 8 >= K || r >= rows) return;
    __global const uchar *wr = w + (size_t)(n0 + r) * K * 2;
    if (g * 8 + 8 <= K) vstore8(W8_BF16(wr, g * 8), 0, out + (size_t)r * K + g * 8);
    else
        for (int k = g * 8; k < K; k++) out[(size_t)r * K + k] = W1_BF16(wr, k);
}

/* block types: work-item (g, r) decodes block g of row r (32 values) */
#define DEQUANT_BLOCK_BODY(BLOCK, BB)                                         \
    const int g = (int)get_global_id(0), r = (int)get_global_id(1);          \
    if (g >= K / 32 || r >= rows) return;                                    \
    __global const uchar *b = w + ((size_t)(n0 + r) * (K / 32) + g) * (BB);  \
    BLOCK(b, d, w0, w1, w2, w3)                                              \
    __global float *o = out + (size_t)r * K + g * 32;                        \
    vstore8(w0 * d, 0, o);                                                   \
    vstore8(w1 * d, 1, o);                                                   \
    vstore8(w2 * d, 2, o);                                                   \
    vstore8(w3 * d, 3, o);

__kernel __attribute__((reqd_work_group_size(ELT_LX, 1, 1)))
void dequant_q8_0(__global float *restrict out, __global const uchar *restrict w, int n0,
                  int rows, int K)
{
    DEQUANT_BLOCK_BODY(Q8_BLOCK, 34)
}

__kernel __attribute__((reqd_work_group_size(ELT_LX, 1, 1)))
void dequant_q4_0(__global float *restrict out, __global const uchar *restrict w, int n0,
                  int rows, int K)
{
    DEQUANT_BLOCK_BODY(Q4_BLOCK, 18)
}

/* embed over a packed table: dst[i, :] = decode(table row idx[i]); the
 * work-item layout of dequant_<t> with the row taken from idx */
__kernel __attribute__((reqd_work_group_size(ELT_LX, 1, 1)))
void embed_packed(__global float *restrict dst, __global const uchar *restrict w,
                  __global const int *restrict idx, int n, int D, int wt)
{
    const int g = (int)get_global_id(0), i = (int)get_global_id(1);
    if (i >= n) return;
    const size_t row = (size_t)idx[i];
    __global float *o = dst + (size_t)i * D;
    if (wt == 2 || wt == 3) { /* f16 / bf16: 8 values per item */
        if (g * 8 >= D) return;
        __global const uchar *wr = w + row * D * 2;
        for (int k = g * 8; k < D && k < g * 8 + 8; k++)
            o[k] = wt == 2 ? W1_F16(wr, k) : W1_BF16(wr, k);
        return;
    }
    if (g >= D / 32) return;
    if (wt == 4) {
        __global const uchar *b = w + (row * (D / 32) + g) * 34;
        Q8_BLOCK(b, d, w0, w1, w2, w3)
        vstore8(w0 * d, 0, o + g * 32);
        vstore8(w1 * d, 1, o + g * 32);
        vstore8(w2 * d, 2, o + g * 32);
        vstore8(w3 * d, 3, o + g * 32);
    } else {
        __global const uchar *b = w + (row * (D / 32) + g) * 18;
        Q4_BLOCK(b, d, w0, w1, w2, w3)
        vstore8(w0 * d, 0, o + g * 32);
        vstore8(w1 * d, 1, o + g * 32);
        vstore8(w2 * d, 2, o + g * 32);
        vstore8(w3 * d, 3, o + g * 32);
    }
}

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
