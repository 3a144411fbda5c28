/*
 * gemm.cl - swacl's own prefill GEMM: y[M,N] (= or +=) x[M,K] w[N,K]^T
 * (+ bias), float32 activations and accumulation, W in any storage type
 * (swacl_wtype, host/model/quant.c). The host (host/cl/gemm.c) calls it for
 * M > GEMV_MAXM when the device's table row says so (host/cl/cl_params.c).
 *
 * BLAS-style, in two kernels per panel of W rows (bounded scratch):
 *
 *   gemm_pack_<t>  W rows n0 .. n0+rows-1 decoded to float32 k-major
 *                  micro-panels p[j][k][16] (row n0 + 16j + c at lane c;
 *                  rows past the panel are zeros). NDRange (ceil(K/8) padded
 *                  to ELT_LX, ceil(rows/16)): one item decodes 8 k of 16
 *                  rows and writes 128 contiguous floats. One pass over W,
 *                  like OpenBLAS packing B; the decode is exactly
 *                  dequant_<t> of matmul.cl.
 *   gemm_mk        the register-blocked micro-kernel: work-item (i, j) owns
 *                  the GEMM_MR x 16 tile of y at rows GEMM_MR*i, columns
 *                  n0 + 16j; per k it broadcasts GEMM_MR values of x and
 *                  fma-s them into 2*GEMM_MR float8 accumulators against
 *                  the two float8 of p[j][k] (GEMM_MR 6: 12 accumulators + 2
 *                  W + 1 broadcast = 15 of AVX2's 16 ymm registers). i is
 *                  the fastest dimension, so consecutive work-groups share
 *                  one micro-panel (K * 64 bytes, L2-resident) while x
 *                  streams. No barriers, no __local (docs/PERF.md 3).
 *
 * Why explicit float8 + fma and unrolled named slots (not arrays): the
 * lesson of attn_fwd_blk (attn.cl v5): PoCL's work-group vectoriser does
 * nothing for this shape, mad() becomes mul + add, and accumulator arrays
 * end up on the stack. Measured figures: docs/PERF.md 3.1, bench/README.md.
 *
 * Tunables (-D, from the table row): GEMM_MR rows per work-item (1..12: 2*MR + 3
 * vector registers; AVX2 has 16, AVX-512VL 32 ymm);
 * the K block (host argument kc) and the group size are host choices.
 * Any M, N, K: rows past M read row M-1 and are not stored, columns past
 * N are zero panels and not stored, K has no tile.
 */
#ifndef GEMM_MR
#define GEMM_MR 6
#endif
#ifndef GEMM_VW
#define GEMM_VW 8
#endif
#if GEMM_VW != 8 && GEMM_VW != 16
#error "gemm.cl: GEMM_VW must be 8 or 16"
#endif
#if GEMM_MR < 1 || GEMM_MR > 24 || (GEMM_VW == 8 && GEMM_MR > 12)
#error "gemm.cl: GEMM_MR must be 1..12 (GEMM_VW 8) or 1..24 (GEMM_VW 16)"
#endif
#ifndef ELT_LX
#define ELT_LX 64
#endif

/* ---- the micro-kernel ---------------------------------------------------- */

#if GEMM_VW == 8
/* slot s: x row pointer, two accumulators (columns 0-7, 8-15) */
#define MK_DECL(s)                                                            \
    __global const float *x##s = x + (size_t)min(m0 + s, M - 1) * K + k0;    \
    float8 a##s##0 = (float8)(0.0f), a##s##1 = (float8)(0.0f);
#define MK_STEP(s)                                                            \
    {                                                                        \
        const float8 xb = (float8)(x##s[k]);                                 \
        a##s##0 = fma(xb, w0, a##s##0);                                      \
        a##s##1 = fma(xb, w1, a##s##1);                                      \
    }
#define MK_STORE(s)                                                           \
    if (m0 + s < M) mk_store(y + (size_t)(m0 + s) * N + nc, a##s##0, a##s##1, bv0, bv1, nv, mode);
#else
/* slot s: x row pointer, one float16 accumulator (AVX-512: one zmm) */
#define MK_DECL(s)                                                            \
    __global const float *x##s = x + (size_t)min(m0 + s, M - 1) * K + k0;    \
    float16 a##s = (float16)(0.0f);
#define MK_STEP(s) a##s = fma((float16)(x##s[k]), w, a##s);
#define MK_STORE(s)                                                           \
    if (m0 + s < M) mk_store(y + (size_t)(m0 + s) * N + nc, a##s.lo, a##s.hi, bv0, bv1, nv, mode);
#endif

#if GEMM_MR > 1
#define MK_1(F) F(1)
#else
#define MK_1(F)
#endif
#if GEMM_MR > 2
#define MK_2(F) F(2)
#else
#define MK_2(F)
#endif
#if GEMM_MR > 3
#define MK_3(F) F(3)
#else
#define MK_3(F)
#endif
#if GEMM_MR > 4
#define MK_4(F) F(4)
#else
#define MK_4(F)
#endif
#if GEMM_MR > 5
#define MK_5(F) F(5)
#else
#define MK_5(F)
#endif
#if GEMM_MR > 6
#define MK_6(F) F(6)
#else
#define MK_6(F)
#endif
#if GEMM_MR > 7
#define MK_7(F) F(7)
#else
#define MK_7(F)
#endif
#if GEMM_MR > 8
#define MK_8(F) F(8)
#else
#define MK_8(F)
#endif
#if GEMM_MR > 9
#define MK_9(F) F(9)
#else
#define MK_9(F)
#endif
#if GEMM_MR > 10
#define MK_10(F) F(10)
#else
#define MK_10(F)
#endif
#if GEMM_MR > 11
#define MK_11(F) F(11)
#else
#define MK_11(F)
#endif
#if GEMM_MR > 12
#define MK_12(F) F(12)
#else
#define MK_12(F)
#endif
#if GEMM_MR > 13
#define MK_13(F) F(13)
#else
#define MK_13(F)
#endif
#if GEMM_MR > 14
#define MK_14(F) F(14)
#else
#define MK_14(F)
#endif
#if GEMM_MR > 15
#define MK_15(F) F(15)
#else
#define MK_15(F)
#endif
#if GEMM_MR > 16
#define MK_16(F) F(16)
#else
#define MK_16(F)
#endif
#if GEMM_MR > 17
#define MK_17(F) F(17)
#else
#define MK_17(F)
#endif
#if GEMM_MR > 18
#define MK_18(F) F(18)
#else
#define MK_18(F)
#endif
#if GEMM_MR > 19
#define MK_19(F) F(19)
#else
#define MK_19(F)
#endif
#if GEMM_MR > 20
#define MK_20(F) F(20)
#else
#define MK_20(F)
#endif
#if GEMM_MR > 21
#define MK_21(F) F(21)
#else
#define MK_21(F)
#endif
#if GEMM_MR > 22
#define MK_22(F) F(22)
#else
#define MK_22(F)
#endif
#if GEMM_MR > 23
#define MK_23(F) F(23)
#else
#define MK_23(F)
#endif
#define MK_ALL(F) F(0) MK_1(F) MK_2(F) MK_3(F) MK_4(F) MK_5(F) MK_6(F) MK_7(F) MK_8(F) MK_9(F) MK_10(F) MK_11(F) MK_12(F) MK_13(F) MK_14(F) MK_15(F) MK_16(F) MK_17(F) MK_18(F) MK_19(F) MK_20(F) MK_21(F) MK_22(F) MK_23(F)

/* 16 columns of one y row: (mode & 1) accumulates onto y; bias values
 * bv0/bv1 (zeros without a bias); nv < 16 stores only the first nv */
static inline void mk_store(__global float *yr, float8 a0, float8 a1, float8 bv0, float8 bv1,
                            int nv, int mode)
{
    a0 += bv0;
    a1 += bv1;
    if (nv >= 16) {
        if (mode & 1) {
            a0 += vload8(0, yr);
            a1 += vload8(1, yr);
        }
        vstore8(a0, 0, yr);
        vstore8(a1, 1, yr);
        return;
    }
    float t[16];
    vstore8(a0, 0, t);
    vstore8(a1, 1, t);
    for (int c = 0; c < nv; c++) yr[c] = (mode & 1) ? yr[c] + t[c] : t[c];
}

/* mode: bit 0 accumulate onto y, bit 1 add bias[n] (bias is y otherwise,
 * unread). N is y's row length; the panel covers columns n0 .. n0+rows-1;
 * this launch sums k0 .. k0+kc-1 (the host splits K into blocks so one
 * micro-panel slice and the x tiles stay in L1; later blocks accumulate). */
__kernel void gemm_mk(__global float *restrict y, __global const float *restrict x,
                      __global const float *restrict p, __global const float *restrict bias,
                      int mbeg, int M, int N, int K, int n0, int rows, int k0, int kc,
                      int mode)
{
    /* rows mbeg .. M-1 of y: the host's M block (gemm.c) */
    const int m0 = mbeg + (int)get_global_id(0) * GEMM_MR;
    const int j = (int)get_global_id(1);
    if (m0 >= M || j * 16 >= rows) return;
    __global const float *pw = p + ((size_t)j * K + k0) * 16;
    MK_ALL(MK_DECL)
    for (int k = 0; k < kc; k++) {
#if GEMM_VW == 8
        const float8 w0 = vload8(0, pw + (size_t)k * 16), w1 = vload8(1, pw + (size_t)k * 16);
#else
        const float16 w = vload16(0, pw + (size_t)k * 16);
#endif
        MK_ALL(MK_STEP)
    }
    const int nc = n0 + j * 16;
    const int nv = min(16, rows - j * 16);
    float8 bv0 = (float8)(0.0f), bv1 = (float8)(0.0f);
    if (mode & 2) {
        if (nv >= 16) {
            bv0 = vload8(0, bias + nc);
            bv1 = vload8(1, bias + nc);
        } else {
            float t[16];
            for (int c = 0; c < 16; c++) t[c] = c < nv ? bias[nc + c] : 0.0f;
            bv0 = vload8(0, t);
            bv1 = vload8(1, t);
        }
    }
    MK_ALL(MK_STORE)
}

/* ---- packing: decode 8 values of a W row at k (k % 8 == 0, k + 8 <= K) -- */

/* row r of W in each type (row bytes: swacl_wtype_row_bytes) */
#define ROW_F32(w, r, K) ((__global const uchar *)(w) + (size_t)(r) * (K) * 4)
#define ROW_16(w, r, K) ((w) + (size_t)(r) * (K) * 2)
#define ROW_Q8(w, r, K) ((w) + (size_t)(r) * ((K) / 32) * 34)
#define ROW_Q4(w, r, K) ((w) + (size_t)(r) * ((K) / 32) * 18)

#define W8_F32(row, k) vload8(0, (__global const float *)(row) + (k))
#define W1_F32(row, k) ((__global const float *)(row))[k]
#define W8_F16(row, k) vload_half8(0, (__global const half *)(row) + (k))
#define W1_F16(row, k) vload_half((k), (__global const half *)(row))
#define W8_BF16(row, k)                                                       \
    as_float8(convert_uint8(vload8(0, (__global const ushort *)(row) + (k))) << 16)
#define W1_BF16(row, k) as_float((uint)((__global const ushort *)(row))[k] << 16)

/* q8_0: blocks of 32 = f16 scale d + 32 int8; value q * d */
static inline float8 w8_q8(__global const uchar *row, int k)
{
    __global const uchar *b = row + (size_t)(k / 32) * 34;
    const float d = vload_half(0, (__global const half *)b);
    return convert_float8(vload8(0, (__global const char *)b + 2 + k % 32)) * d;
}
/* q4_0: blocks of 32 = f16 scale d + 16 bytes; element e < 16 is the low
 * nibble of byte e, element e >= 16 the high nibble of byte e - 16; value
 * (nibble - 8) * d */
static inline float8 w8_q4(__global const uchar *row, int k)
{
    __global const uchar *b = row + (size_t)(k / 32) * 18;
    const float d = vload_half(0, (__global const half *)b);
    const int e = k % 32;
    const uchar8 q = vload8(0, b + 2 + (e & 15));
    const uchar8 nib = e < 16 ? (q & (uchar8)(0x0f)) : (q >> (uchar8)(4));
    return (convert_float8(nib) - 8.0f) * d;
}
#define W8_Q8(row, k) w8_q8((row), (k))
#define W8_Q4(row, k) w8_q4((row), (k))
#define W1_NONE(row, k) 0.0f /* block types: K % 32 == 0, no tail */

/* item (g, j): k = 8g .. 8g+7 of micro-panel j (rows n0 + 16j + c) */
#define PACK_BODY(WT, ROW, W8, W1)                                            \
    const int g = (int)get_global_id(0), j = (int)get_global_id(1);          \
    const int k = g * 8;                                                     \
    if (k >= K || j * 16 >= rows) return;                                    \
    __global float *o = p + ((size_t)j * K + k) * 16;                        \
    if (k + 8 <= K) {                                                        \
        float8 v[16];                                                        \
        _Pragma("unroll") for (int c = 0; c < 16; c++) {                     \
            const int r = j * 16 + c;                                        \
            v[c] = r < rows ? W8(ROW(w, n0 + r, K), k) : (float8)(0.0f);     \
        }                                                                    \
        vstore16((float16)(v[0].s0, v[1].s0, v[2].s0, v[3].s0, v[4].s0, v[5].s0, v[6].s0, \
                           v[7].s0, v[8].s0, v[9].s0, v[10].s0, v[11].s0, v[12].s0,     \
                           v[13].s0, v[14].s0, v[15].s0), 0, o);                        \
        vstore16((float16)(v[0].s1, v[1].s1, v[2].s1, v[3].s1, v[4].s1, v[5].s1, v[6].s1, \
                           v[7].s1, v[8].s1, v[9].s1, v[10].s1, v[11].s1, v[12].s1,     \
                           v[13].s1, v[14].s1, v[15].s1), 1, o);                        \
        vstore16((float16)(v[0].s2, v[1].s2, v[2].s2, v[3].s2, v[4].s2, v[5].s2, v[6].s2, \
                           v[7].s2, v[8].s2, v[9].s2, v[10].s2, v[11].s2, v[12].s2,     \
                           v[13].s2, v[14].s2, v[15].s2), 2, o);                        \
        vstore16((float16)(v[0].s3, v[1].s3, v[2].s3, v[3].s3, v[4].s3, v[5].s3, v[6].s3, \
                           v[7].s3, v[8].s3, v[9].s3, v[10].s3, v[11].s3, v[12].s3,     \
                           v[13].s3, v[14].s3, v[15].s3), 3, o);                        \
        vstore16((float16)(v[0].s4, v[1].s4, v[2].s4, v[3].s4, v[4].s4, v[5].s4, v[6].s4, \
                           v[7].s4, v[8].s4, v[9].s4, v[10].s4, v[11].s4, v[12].s4,     \
                           v[13].s4, v[14].s4, v[15].s4), 4, o);                        \
        vstore16((float16)(v[0].s5, v[1].s5, v[2].s5, v[3].s5, v[4].s5, v[5].s5, v[6].s5, \
                           v[7].s5, v[8].s5, v[9].s5, v[10].s5, v[11].s5, v[12].s5,     \
                           v[13].s5, v[14].s5, v[15].s5), 5, o);                        \
        vstore16((float16)(v[0].s6, v[1].s6, v[2].s6, v[3].s6, v[4].s6, v[5].s6, v[6].s6, \
                           v[7].s6, v[8].s6, v[9].s6, v[10].s6, v[11].s6, v[12].s6,     \
                           v[13].s6, v[14].s6, v[15].s6), 6, o);                        \
        vstore16((float16)(v[0].s7, v[1].s7, v[2].s7, v[3].s7, v[4].s7, v[5].s7, v[6].s7, \
                           v[7].s7, v[8].s7, v[9].s7, v[10].s7, v[11].s7, v[12].s7,     \
                           v[13].s7, v[14].s7, v[15].s7), 7, o);                        \
    } else {                                                                 \
        for (int kk = k; kk < K; kk++)                                       \
            for (int c = 0; c < 16; c++) {                                   \
                const int r = j * 16 + c;                                    \
                o[(kk - k) * 16 + c] = r < rows ? W1(ROW(w, n0 + r, K), kk) : 0.0f; \
            }                                                                \
    }

__kernel __attribute__((reqd_work_group_size(ELT_LX, 1, 1)))
void gemm_pack_f32(__global float *restrict p, __global const uchar *restrict w, int n0,
                   int rows, int K)
{
    PACK_BODY(f32, ROW_F32, W8_F32, W1_F32)
}

__kernel __attribute__((reqd_work_group_size(ELT_LX, 1, 1)))
void gemm_pack_f16(__global float *restrict p, __global const uchar *restrict w, int n0,
                   int rows, int K)
{
    PACK_BODY(f16, ROW_16, W8_F16, W1_F16)
}

__kernel __attribute__((reqd_work_group_size(ELT_LX, 1, 1)))
void gemm_pack_bf16(__global float *restrict p, __global const uchar *restrict w, int n0,
                    int rows, int K)
{
    PACK_BODY(bf16, ROW_16, W8_BF16, W1_BF16)
}

__kernel __attribute__((reqd_work_group_size(ELT_LX, 1, 1)))
void gemm_pack_q8_0(__global float *restrict p, __global const uchar *restrict w, int n0,
                    int rows, int K)
{
    PACK_BODY(q8_0, ROW_Q8, W8_Q8, W1_NONE)
}

__kernel __attribute__((reqd_work_group_size(ELT_LX, 1, 1)))
void gemm_pack_q4_0(__global float *restrict p, __global const uchar *restrict w, int n0,
                    int rows, int K)
{
    PACK_BODY(q4_0, ROW_Q4, W8_Q4, W1_NONE)
}
