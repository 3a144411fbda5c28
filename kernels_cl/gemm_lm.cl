/*
 * gemm_lm.cl - swacl's own prefill GEMM for GPUs: y[M,N] (= or +=)
 * x[M,K] w[N,K]^T (+ bias), float32 activations and accumulation, W read
 * in its storage type (LM_WT, swacl_wtype order) and decoded on the fly.
 * The host (host/cl/gemm_lm.c) calls it when the device's table row (or
 * its `swacl tune` file) says kern = lm (host/cl/cl_params.c).
 *
 * One work-group owns an LM_TS x LM_TS tile of y. Per K step of LM_TK it
 * stages the x tile (LM_TS rows x LM_TK) and the W tile (LM_TS rows x
 * LM_TK, decoded to float) in __local, k-major, one barrier on each side;
 * every work-item then fma-s its LM_WPT x LM_WPT register block out of
 * local memory (rows ty + i * LM_RT, columns tx + j * LM_RT: a work-group's
 * neighbours read neighbouring words, and the stores along N coalesce).
 * Each staged x value is reused LM_TS times, each W value LM_TS times,
 * against once per output in a plain dot product: the classic tiling of
 * GPU GEMMs (CLBlast's Xgemm is this with more knobs).
 *
 * Loads: consecutive work-items read consecutive k of one row (coalesced);
 * the +1 column of the tiles keeps the transposed stores conflict-free.
 * Edges: rows past M / columns past N read row M-1 / N-1 and are not
 * stored; k past kend reads zero, so K needs no multiple of LM_TK (block
 * types have K % 32 == 0, checked by the host). kend is K except in the
 * tuner's rejection test (gemm_params.test_drop_k).
 *
 * The decode is the one of gemm.cl's packing and matmul.cl's dequant_<t>
 * (f16 through vload_half: OpenCL 1.2 devices without cl_khr_fp16 work).
 * Speed on GPUs: unmeasured (no GPU on the development machine; PoCL
 * figures in bench/README.md are for information only).
 */
#ifndef LM_TS
#define LM_TS 64 /* tile rows (M) and columns (N) per work-group */
#endif
#ifndef LM_WPT
#define LM_WPT 4 /* rows and columns per work-item */
#endif
#ifndef LM_WT
#define LM_WT 1 /* swacl_wtype: 1 f32, 2 f16, 3 bf16, 4 q8_0, 5 q4_0 */
#endif
#define LM_TK 16
#if LM_TS % LM_WPT
#error "gemm_lm.cl: LM_WPT must divide LM_TS"
#endif
#define LM_RT (LM_TS / LM_WPT) /* work-items per dimension */
#define LM_NT (LM_RT * LM_RT)

/* element k of W row n (row bytes: swacl_wtype_row_bytes) */
static inline float lm_w(__global const uchar *w, int n, int K, int k)
{
#if LM_WT == 1 || LM_WT == 0
    return ((__global const float *)w)[(size_t)n * K + k];
#elif LM_WT == 2
    return vload_half((size_t)n * K + k, (__global const half *)w);
#elif LM_WT == 3
    return as_float((uint)((__global const ushort *)w)[(size_t)n * K + k] << 16);
#elif LM_WT == 4
    /* q8_0: blocks of 32 = f16 scale d + 32 int8; value q * d */
    __global const uchar *b = w + (size_t)n * (K / 32) * 34 + (size_t)(k / 32) * 34;
    return (float)((__global const char *)b)[2 + k % 32] * vload_half(0, (__global const half *)b);
#elif LM_WT == 5
    /* q4_0: blocks of 32 = f16 scale d + 16 bytes; element e < 16 is the low
     * nibble of byte e, e >= 16 the high nibble of byte e - 16 */
    __global const uchar *b = w + (size_t)n * (K / 32) * 18 + (size_t)(k / 32) * 18;
    const int e = k % 32;
    const uchar q = b[2 + (e & 15)];
    const int nib = e < 16 ? (q & 0x0f) : (q >> 4);
    return (float)(nib - 8) * vload_half(0, (__global const half *)b);
#else
#error "gemm_lm.cl: unknown LM_WT"
#endif
}

/* mode: bit 0 accumulate onto y, bit 1 add bias[n] (bias is y otherwise,
 * unread). Sums k = 0 .. kend-1 of rows of length K. */
__kernel __attribute__((reqd_work_group_size(LM_RT, LM_RT, 1)))
void gemm_lm(__global float *restrict y, __global const float *restrict x,
             __global const uchar *restrict w, __global const float *restrict bias, int M, int N,
             int K, int kend, int mode)
{
    __local float xs[LM_TK][LM_TS + 1];
    __local float ws[LM_TK][LM_TS + 1];
    const int tx = (int)get_local_id(0), ty = (int)get_local_id(1);
    const int n0 = (int)get_group_id(0) * LM_TS, m0 = (int)get_group_id(1) * LM_TS;
    const int lid = ty * LM_RT + tx;
    float acc[LM_WPT][LM_WPT];
#pragma unroll
    for (int i = 0; i < LM_WPT; i++)
#pragma unroll
        for (int j = 0; j < LM_WPT; j++) acc[i][j] = 0.0f;

    for (int k0 = 0; k0 < kend; k0 += LM_TK) {
        for (int e = lid; e < LM_TS * LM_TK; e += LM_NT) {
            const int r = e / LM_TK, c = e % LM_TK, k = k0 + c;
            const int m = min(m0 + r, M - 1), n = min(n0 + r, N - 1);
            xs[c][r] = k < kend ? x[(size_t)m * K + k] : 0.0f;
            ws[c][r] = k < kend ? lm_w(w, n, K, k) : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
#pragma unroll 4
        for (int kk = 0; kk < LM_TK; kk++) {
            float a[LM_WPT], b[LM_WPT];
#pragma unroll
            for (int i = 0; i < LM_WPT; i++) a[i] = xs[kk][ty + i * LM_RT];
#pragma unroll
            for (int j = 0; j < LM_WPT; j++) b[j] = ws[kk][tx + j * LM_RT];
#pragma unroll
            for (int i = 0; i < LM_WPT; i++)
#pragma unroll
                for (int j = 0; j < LM_WPT; j++) acc[i][j] = fma(a[i], b[j], acc[i][j]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

#pragma unroll
    for (int i = 0; i < LM_WPT; i++) {
        const int m = m0 + ty + i * LM_RT;
        if (m >= M) continue;
#pragma unroll
        for (int j = 0; j < LM_WPT; j++) {
            const int n = n0 + tx + j * LM_RT;
            if (n >= N) continue;
            float v = acc[i][j];
            if (mode & 2) v += bias[n];
            __global float *o = y + (size_t)m * N + n;
            *o = (mode & 1) ? *o + v : v;
        }
    }
}
