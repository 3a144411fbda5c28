/*
 * matmul.cl - the kernels of the matmul op besides CLBlast's SGEMM (which
 * the host calls for M > GEMV_MAXM):
 *
 *   gemv_*     y[M,N] (+)= x[M,K] w[N,K]^T for M <= GEMV_MAXM (decode), in
 *              every storage type (below)
 *   bias_rows  y [M, N]: y[r*N + c] = bias[c] (mode 0), += bias[c]
 *              (mode 1), = 0 (mode 0 without bias); NDRange (N padded to
 *              ELT_LX, M). Runs before the GEMM, which then accumulates.
 */
/*
 * gemv_*: decode-sized matmuls, y[M,N] (+)= x[M,K] w[N,K]^T for M <= 8
 * (host/cl/matmul.c; CLBlast or the prefill GEMM for larger M). Bound by
 * reading W once: every kernel streams its W rows in 16-value vectors
 * (one AVX-512 register, or two AVX2 ones) and takes the rows of x one
 * after another (m outer), so the accumulators stay in registers and the
 * W rows, re-read for m > 0, come from the core's cache.
 *
 *   gemv_f32_r<R>  R = 1, 2, 4, 8 rows of W per work-item sharing each x
 *                  load (the per-device table picks R: host/cl/cl_params.c)
 *   gemv_<t>       t = f16, bf16, q8_0, q4_0: one row per work-item; the
 *                  decode is exactly swacl_row_decode (f16 by vload_half16,
 *                  core OpenCL 1.2; bf16 by a 16-bit shift; q8_0 / q4_0
 *                  blocks of 32 with an f16 scale d: q * d, (nibble - 8) * d)
 *
 * NDRange (ceil(N/R) padded to the local size), work-item i owns rows
 * R*i .. R*i+R-1 (past N: row N-1 recomputed, not stored).
 *
 * Measured on PoCL 3.1, 2-core EPYC (AVX-512), M = 1, N 2816 x K 1024,
 * W cycled over 256 MB so it streams from DRAM, GB of W per CPU-second
 * (the machine was shared; a streaming read of the same rows: 15-19):
 *   f32   old gemv_rows (float8, 1 row) 8-9; float16: R=1 11-14, R=4 14-15,
 *         R=8 15-17.5
 *   f16   old _k8 (uint pairs) 4.3; vload_half16 R=1 16 (R=4: 9)
 *   bf16  old _k8 9.3; widening ushort16 load R=1 18 (R=4: 8.5)
 *   q8_0  old (float8) 6.5-8.3; float16 R=1 10-12.6 (R=2..8: 4-5)
 *   q4_0  old 3.6; float16 R=1 4.5-5.2, 6.6 with the scale by h2f below
 *         (R=4: 2.8)
 * Both block types stay compute-bound (~8 G weights per core-second): an
 * int8 dot product over an x quantized per block (ggml's q8_0 x q8_0) was
 * tried, but LLVM 15 under PoCL 3.1 lowers the short16 pair sums to
 * vpmullw and permutes, not vpmaddwd, at half the float path's speed.
 * (More rows per work-item only helps f32: the packed decodes run out of
 * registers.) Versions: v2 (this); v1 was float8, one row per work-item.
 */

static inline float hsum16(float16 a)
{
    const float8 b = a.lo + a.hi;
    const float4 c = b.lo + b.hi;
    return (c.s0 + c.s1) + (c.s2 + c.s3);
}

/* one f16 scale by integer ops (exact: normal and subnormal halves scaled
 * by 2^112, Inf/NaN keep an all-ones exponent). PoCL's scalar vload_half
 * is a ~20-instruction software routine, half the block's cost; its
 * vector forms use vcvtph2ps, but a vload_half4 at the block start was
 * merged with the overlapping quant loads into word inserts. */
static inline float h2f(uint h)
{
    const uint m = (h & 0x7fffu) << 13;
    uint b = as_uint(as_float(m) * 0x1p112f);
    b = (h & 0x7c00u) == 0x7c00u ? m | 0x7f800000u : b;
    return as_float(b | ((h & 0x8000u) << 16));
}

#define ROWS_1(X) X(0)
#define ROWS_2(X) X(0) X(1)
#define ROWS_4(X) X(0) X(1) X(2) X(3)
#define ROWS_8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)

#define GEMV_ARGS                                                             \
    __global float *restrict y, __global const float *restrict x,            \
        __global const uchar *restrict w, int M, int N, int K, int accumulate
#define DECL_ROW(r)                                                           \
    __global const uchar *w##r = w + (size_t)min(n0 + r, N - 1) * RB;         \
    float16 a##r;                                                            \
    float t##r;
#define ZERO(r)                                                               \
    a##r = (float16)(0.0f);                                                  \
    t##r = 0.0f;
#define STORE(r)                                                              \
    if (n0 + r < N) {                                                        \
        const float s = hsum16(a##r) + t##r;                                 \
        __global float *yo = y + (size_t)m * N + n0 + r;                     \
        *yo = accumulate ? *yo + s : s;                                      \
    }
#define FMA16(r) a##r = fma(WL16(w##r, k), xv, a##r);
#define FMA1(r) t##r = fma(WL1(w##r, k), xk, t##r);

/* float types: WL16(row, k) = float16 of elements k..k+15, WL1 one value;
 * ES bytes per element; K % 16 tail one value at a time */
#define GEMV_FLOAT(NAME, ES, ROWS, R)                                         \
    __kernel void NAME(GEMV_ARGS)                                            \
    {                                                                        \
        const int n0 = (int)get_global_id(0) * (R);                          \
        if (n0 >= N) return;                                                 \
        const size_t RB = (size_t)K * (ES);                                  \
        ROWS(DECL_ROW)                                                       \
        for (int m = 0; m < M; m++) {                                        \
            __global const float *xm = x + (size_t)m * K;                    \
            ROWS(ZERO)                                                       \
            int k = 0;                                                       \
            for (; k + 16 <= K; k += 16) {                                   \
                const float16 xv = vload16(0, xm + k);                       \
                ROWS(FMA16)                                                  \
            }                                                                \
            for (; k < K; k++) {                                             \
                const float xk = xm[k];                                      \
                ROWS(FMA1)                                                   \
            }                                                                \
            ROWS(STORE)                                                      \
        }                                                                    \
    }

#define WL16(row, k) vload16(0, (__global const float *)(row) + (k))
#define WL1(row, k) ((__global const float *)(row))[k]
GEMV_FLOAT(gemv_f32_r1, 4, ROWS_1, 1)
GEMV_FLOAT(gemv_f32_r2, 4, ROWS_2, 2)
GEMV_FLOAT(gemv_f32_r4, 4, ROWS_4, 4)
GEMV_FLOAT(gemv_f32_r8, 4, ROWS_8, 8)
#undef WL16
#undef WL1

#define WL16(row, k) vload_half16(0, (__global const half *)(row) + (k))
#define WL1(row, k) vload_half((k), (__global const half *)(row))
GEMV_FLOAT(gemv_f16, 2, ROWS_1, 1)
#undef WL16
#undef WL1

#define WL16(row, k)                                                          \
    as_float16(convert_uint16(vload16(0, (__global const ushort *)(row) + (k))) << 16)
#define WL1(row, k) as_float((uint)((__global const ushort *)(row))[k] << 16)
GEMV_FLOAT(gemv_bf16, 2, ROWS_1, 1)
#undef WL16
#undef WL1

/* block types (K % 32 == 0): the x block (x0, x1) loaded once per block;
 * one block's unscaled dot product in 16 lanes, then scaled by d once */
#define Q8_DOT(r)                                                             \
    {                                                                        \
        __global const uchar *b = w##r + (size_t)ib * 34;                    \
        const float d = h2f(*(__global const ushort *)b);             \
        float16 p = convert_float16(vload16(0, (__global const char *)b + 2)) * x0; \
        p = fma(convert_float16(vload16(0, (__global const char *)b + 18)), x1, p); \
        a##r = fma(p, (float16)(d), a##r);                                   \
    }
/* nibble - 8 folded out: sum((q - 8) x) = sum(q x) - 8 sum(x), xs the
 * block's 8 x (per lane), shared by the rows */
#define Q4_DOT(r)                                                             \
    {                                                                        \
        __global const uchar *b = w##r + (size_t)ib * 18;                    \
        const float d = h2f(*(__global const ushort *)b);             \
        const uchar16 q = vload16(0, b + 2);                                 \
        float16 p = fma(convert_float16(q & (uchar16)(0x0f)), x0, -xs);      \
        p = fma(convert_float16(q >> (uchar16)(4)), x1, p);                  \
        a##r = fma(p, (float16)(d), a##r);                                   \
    }
#define GEMV_BLOCK(NAME, BB, DOT, XS, ROWS, R)                                \
    __kernel void NAME(GEMV_ARGS)                                            \
    {                                                                        \
        const int n0 = (int)get_global_id(0) * (R);                          \
        if (n0 >= N) return;                                                 \
        const int nb = K / 32;                                               \
        const size_t RB = (size_t)nb * (BB);                                 \
        ROWS(DECL_ROW)                                                       \
        for (int m = 0; m < M; m++) {                                        \
            __global const float *xm = x + (size_t)m * K;                    \
            ROWS(ZERO)                                                       \
            for (int ib = 0; ib < nb; ib++) {                                \
                const float16 x0 = vload16(0, xm + ib * 32);                 \
                const float16 x1 = vload16(1, xm + ib * 32);                 \
                XS                                                           \
                ROWS(DOT)                                                    \
            }                                                                \
            ROWS(STORE)                                                      \
        }                                                                    \
    }

GEMV_BLOCK(gemv_q8_0, 34, Q8_DOT, , ROWS_1, 1)
GEMV_BLOCK(gemv_q4_0, 18, Q4_DOT, const float16 xs = 8.0f * (x0 + x1);, ROWS_1, 1)

/*
 * Decode fusions (host/cl/matmul.c), M <= GEMV_MAXM, packed W types
 * (f32 keeps its multi-row gemv_f32_r<R>): one launch instead of two or
 * three, the same per-row dot products as gemv_<t> (rowdot_<t>).
 *
 *   gemv3_<t>     y0/y1/y2 [M, N0/N1/N2] = x w0/w1/w2^T: q, k and v of one
 *                 input; NDRange N0+N1+N2 (padded), item n picks its matrix
 *   gemv_glu_<t>  y [M, F] = act(x wg^T, x wu^T), act SwiGLU (kind 0) or
 *                 tanh GeGLU (kind 1): gate and up rows one after the other
 *                 (two rows at once run out of registers, as R > 1 above)
 * rb = bytes of one W row (swacl_wtype_row_bytes).
 */
#define ROWDOT_FLOAT(T)                                                       \
    static inline float rowdot_##T(__global const uchar *w0, __global const float *xm, int K) \
    {                                                                        \
        float16 a0 = (float16)(0.0f);                                        \
        float t0 = 0.0f;                                                     \
        int k = 0;                                                           \
        for (; k + 16 <= K; k += 16) {                                       \
            const float16 xv = vload16(0, xm + k);                           \
            FMA16(0)                                                         \
        }                                                                    \
        for (; k < K; k++) {                                                 \
            const float xk = xm[k];                                          \
            FMA1(0)                                                          \
        }                                                                    \
        return hsum16(a0) + t0;                                              \
    }
#define ROWDOT_BLOCK(T, DOT, XS)                                              \
    static inline float rowdot_##T(__global const uchar *w0, __global const float *xm, int K) \
    {                                                                        \
        float16 a0 = (float16)(0.0f);                                        \
        for (int ib = 0; ib < K / 32; ib++) {                                \
            const float16 x0 = vload16(0, xm + ib * 32);                     \
            const float16 x1 = vload16(1, xm + ib * 32);                     \
            XS                                                               \
            DOT(0)                                                           \
        }                                                                    \
        return hsum16(a0);                                                   \
    }

#define WL16(row, k) vload_half16(0, (__global const half *)(row) + (k))
#define WL1(row, k) vload_half((k), (__global const half *)(row))
ROWDOT_FLOAT(f16)
#undef WL16
#undef WL1
#define WL16(row, k)                                                          \
    as_float16(convert_uint16(vload16(0, (__global const ushort *)(row) + (k))) << 16)
#define WL1(row, k) as_float((uint)((__global const ushort *)(row))[k] << 16)
ROWDOT_FLOAT(bf16)
#undef WL16
#undef WL1
ROWDOT_BLOCK(q8_0, Q8_DOT, )
ROWDOT_BLOCK(q4_0, Q4_DOT, const float16 xs = 8.0f * (x0 + x1);)

/* the act op's formulas (kernels_cl/act.cl) */
#define GLU_SWIGLU(g, u) ((g) / (1.0f + exp(-(g))) * (u))
#define GLU_GEGLU_TANH(g, u) \
    (0.5f * (g) * (1.0f + tanh(0.79788456080286536f * ((g) + 0.044715f * (g) * (g) * (g)))) * (u))

#define GEMV_FUSED(T)                                                         \
    __kernel void gemv3_##T(__global float *restrict y0, __global float *restrict y1, \
                            __global float *restrict y2, __global const float *restrict x, \
                            __global const uchar *restrict w0, __global const uchar *restrict w1, \
                            __global const uchar *restrict w2, int M, int N0, int N1, int N2, \
                            int K, ulong rb)                                 \
    {                                                                        \
        int n = (int)get_global_id(0), N = N0;                               \
        __global float *y = y0;                                              \
        __global const uchar *w = w0;                                        \
        if (n >= N0) {                                                       \
            n -= N0, N = N1, y = y1, w = w1;                                 \
            if (n >= N1) {                                                   \
                n -= N1, N = N2, y = y2, w = w2;                             \
                if (n >= N2) return;                                         \
            }                                                                \
        }                                                                    \
        __global const uchar *wr = w + (size_t)n * rb;                       \
        for (int m = 0; m < M; m++)                                          \
            y[(size_t)m * N + n] = rowdot_##T(wr, x + (size_t)m * K, K);     \
    }                                                                        \
    __kernel void gemv_glu_##T(__global float *restrict y, __global const float *restrict x, \
                               __global const uchar *restrict wg,            \
                               __global const uchar *restrict wu, int M, int F, int K, \
                               ulong rb, int kind)                           \
    {                                                                        \
        const int n = (int)get_global_id(0);                                 \
        if (n >= F) return;                                                  \
        __global const uchar *gr = wg + (size_t)n * rb, *ur = wu + (size_t)n * rb; \
        for (int m = 0; m < M; m++) {                                        \
            __global const float *xm = x + (size_t)m * K;                    \
            const float g = rowdot_##T(gr, xm, K), u = rowdot_##T(ur, xm, K); \
            y[(size_t)m * F + n] = kind ? GLU_GEGLU_TANH(g, u) : GLU_SWIGLU(g, u); \
        }                                                                    \
    }
GEMV_FUSED(f16)
GEMV_FUSED(bf16)
GEMV_FUSED(q8_0)
GEMV_FUSED(q4_0)

/*
 * Packed weights (swacl_wtype, host/model/quant.c): one W row of K values
 * is swacl_wtype_row_bytes bytes; the decode is exactly swacl_row_decode
 * (f16 by vload_half: core OpenCL 1.2, no cl_khr_fp16 needed; bf16 by a
 * 16-bit shift; q8_0 / q4_0 blocks of 32 with an f16 scale d, values
 * q * d and (nibble - 8) * d, products exact in float).
 *
 *   dequant_<t>  out[r, k] = decode(w row n0 + r)[k] for r < rows: the
 *                float32 panel the host hands to CLBlast for prefill GEMMs
 *                (M > GEMV_MAXM); NDRange (K/8 padded to ELT_LX, rows)
 */
#define W8_F16(row, k) vload_half8(0, (__global const half *)(row) + (k))
#define W8_BF16(row, k)                                                       \
    as_float8(convert_uint8(vload8(0, (__global const ushort *)(row) + (k))) << 16)

#define W1_F16(row, k) vload_half((k), (__global const half *)(row))
#define W1_BF16(row, k) as_float((uint)((__global const ushort *)(row))[k] << 16)

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
