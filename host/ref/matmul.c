/*
 * matmul.c - reference matmul: y[M,N] (= or +=) x[M,K] w[N,K]^T + bias[N],
 * every output the double dot product of ref_internal.h's dot_f64 (eight
 * lanes l = k mod 8, each summed in k order, then one fixed tree), with
 * packed weights (f16, bf16, q8_0, q4_0) decoded by swacl_row_decode.
 *
 * Speed without changing one bit of the result: a float times a float is
 * exact in double, so converting x and the decoded w rows to double once
 * and multiplying in double gives the very products dot_f64 forms, and an
 * fma of an exact product rounds as the add does. The loops are then
 * register-tiled: a 4 x 4 block of outputs keeps its 4 x 4 x 8 lane sums in
 * registers while k runs, so each loaded x and w value feeds four outputs
 * (dot_f64 alone is load- and convert-bound, ~5 GFLOP/s on two cores).
 * Plain C loops of constant trip counts that the compiler vectorises;
 * on x86-64 the same source is also compiled for AVX2 and AVX-512 and
 * picked at run time. OpenMP over panels of 4 weight rows; x in blocks of
 * MC rows so its double copy stays small at long prompts.
 */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "ref/ref_internal.h"

enum {
    MR = 4,   /* rows of x per tile                                          */
    NR = 4,   /* rows of w per tile (one panel)                              */
    LN = 8,   /* dot_f64's lanes                                             */
    MC = 256, /* rows of x converted per block                               */
};

/* The tile: s[i][j][l] = sum over k = l (mod 8), k < K8, of x[i][k] w[j][k]
 * for mr (MR or 1) rows of x; K8 = K rounded down to a multiple of 8. */
#define REF_TILE(name, attr, mr)                                                               \
    attr static void name(const double *restrict x, size_t ldx, const double *restrict w,     \
                          size_t ldw, int K8, double *restrict out)                            \
    {                                                                                          \
        double s[mr][NR][LN];                                                                  \
        for (int i = 0; i < (mr); i++)                                                         \
            for (int j = 0; j < NR; j++)                                                       \
                for (int l = 0; l < LN; l++) s[i][j][l] = 0;                                   \
        for (int k = 0; k < K8; k += LN)                                                       \
            for (int i = 0; i < (mr); i++)                                                     \
                for (int j = 0; j < NR; j++)                                                   \
                    for (int l = 0; l < LN; l++)                                               \
                        s[i][j][l] += x[(size_t)i * ldx + k + l] * w[(size_t)j * ldw + k + l]; \
        memcpy(out, s, sizeof s);                                                              \
    }

typedef void (*tile_fn)(const double *restrict, size_t, const double *restrict, size_t, int,
                        double *restrict);

REF_TILE(tile4_base, , MR)
REF_TILE(tile1_base, , 1)
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define REF_X86 1
#define AVX2_ATTR __attribute__((target("avx2,fma")))
#define AVX512_ATTR __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")))
REF_TILE(tile4_avx2, AVX2_ATTR, MR)
REF_TILE(tile1_avx2, AVX2_ATTR, 1)
REF_TILE(tile4_avx512, AVX512_ATTR, MR)
REF_TILE(tile1_avx512, AVX512_ATTR, 1)
#endif

/* The widest variant this CPU runs (the same sums in every one). */
static void pick_tiles(tile_fn *t4, tile_fn *t1)
{
    *t4 = tile4_base, *t1 = tile1_base;
#ifdef REF_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw")) {
        *t4 = tile4_avx512, *t1 = tile1_avx512;
    } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        *t4 = tile4_avx2, *t1 = tile1_avx2;
    }
#endif
}

/* Output (m, n) from its lane sums s (dot_f64's tail and tree), + bias. */
static inline void finish(double *s, const double *x, const double *w, int K8, int K,
                          const float *Bs, int n, float *yo, int accumulate)
{
    for (int k = K8; k < K; k++) s[0] += x[k] * w[k];
    double acc = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    if (Bs) acc += Bs[n];
    *yo = accumulate ? (float)((double)*yo + acc) : (float)acc;
}

/* The double-accumulation GEMM over weight rows of type wt (F32 included).
 * 0, or -1 when out of memory for the double copies. */
static int gemm_tiled(int M, int N, int K, const float *X, swacl_wtype wt, const void *W,
                      const float *Bs, float *Y, int accumulate, int threads)
{
    if (threads < 1) threads = omp_get_max_threads();
    if (M == 0 || N == 0) return 0;
    tile_fn t4, t1;
    pick_tiles(&t4, &t1);
    const size_t kk = (size_t)(K ? K : 1), rb = swacl_wtype_row_bytes(wt, K);
    const int K8 = K / LN * LN, mc = M < MC ? M : MC, panels = (N + NR - 1) / NR;
    double *xd = malloc((size_t)mc * kk * sizeof *xd);
    /* per thread: a panel of NR decoded rows in double, one float row */
    double *wd = malloc((size_t)threads * NR * kk * sizeof *wd);
    float *fr = malloc((size_t)threads * kk * sizeof *fr);
    int ok = xd && wd && fr;
    for (int m0 = 0; ok && m0 < M; m0 += mc) {
        const int mb = M - m0 < mc ? M - m0 : mc;
#pragma omp parallel num_threads(threads)
        {
#pragma omp for schedule(static)
            for (int m = 0; m < mb; m++)
                for (int k = 0; k < K; k++)
                    xd[(size_t)m * kk + k] = X[(size_t)(m0 + m) * K + k];
            double *wp = wd + (size_t)omp_get_thread_num() * NR * kk;
            float *row = fr + (size_t)omp_get_thread_num() * kk;
            double s[MR * NR * LN];
            /* dynamic: on a shared machine a descheduled thread's panels
             * go to the others instead of stalling the loop's barrier */
#pragma omp for schedule(dynamic, 2)
            for (int p = 0; p < panels; p++) {
                const int n0 = p * NR, nr = N - n0 < NR ? N - n0 : NR;
                for (int j = 0; j < NR; j++) {
                    if (j < nr) {
                        swacl_row_decode(wt, (const unsigned char *)W + (size_t)(n0 + j) * rb, row, K);
                        for (int k = 0; k < K; k++) wp[(size_t)j * kk + k] = row[k];
                    } else { /* padding rows: their sums are computed, never stored */
                        memset(wp + (size_t)j * kk, 0, kk * sizeof *wp);
                    }
                }
                for (int i0 = 0; i0 < mb; i0 += MR) {
                    const int ir = mb - i0 < MR ? 1 : MR;
                    for (int i = i0; i < i0 + MR && i < mb; i += ir) {
                        (ir == MR ? t4 : t1)(xd + (size_t)i * kk, kk, wp, kk, K8, s);
                        for (int a = 0; a < ir; a++)
                            for (int j = 0; j < nr; j++)
                                finish(s + ((size_t)a * NR + j) * LN, xd + (size_t)(i + a) * kk,
                                       wp + (size_t)j * kk, K8, K, Bs, n0 + j,
                                       Y + (size_t)(m0 + i + a) * N + n0 + j, accumulate);
                    }
                }
            }
        }
    }
    free(xd);
    free(wd);
    free(fr);
    return ok ? 0 : -1;
}

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
    int rc = swacl_ref_gemm_typed(M, N, K, fdata(x), w->wtype, w->data, bias ? fdata(bias) : NULL,
                                  fdata(y), accumulate, nthreads(be));
    SWACL_FAIL_IF(be->ctx, rc != 0, SWACL_OUT_OF_MEMORY, "ref matmul: out of host memory");
    return SWACL_OK;
}

swacl_status swacl_ref_matmul_multi(swacl_backend *be, int n, swacl_buf *const *y,
                                    const swacl_buf *x, const swacl_buf *const *w, const int *N,
                                    int M, int K)
{
    SWACL_FAIL_IF(be->ctx, n < 1 || n > 3, SWACL_INVALID_ARG, "ref matmul_multi: n = %d", n);
    for (int i = 0; i < n; i++) SWACL_TRY(swacl_ref_matmul(be, y[i], x, w[i], NULL, M, N[i], K, 0));
    return SWACL_OK;
}

swacl_status swacl_ref_matmul_glu(swacl_backend *be, swacl_ffn kind, swacl_buf *y, swacl_buf *tmp,
                                  const swacl_buf *x, const swacl_buf *wg, const swacl_buf *wu,
                                  int M, int F, int K)
{
    SWACL_FAIL_IF(be->ctx, kind != SWACL_FFN_SWIGLU && kind != SWACL_FFN_GEGLU_TANH,
                  SWACL_INVALID_ARG, "ref matmul_glu: kind %d is not gated", (int)kind);
    SWACL_TRY(swacl_ref_matmul(be, y, x, wg, NULL, M, F, K, 0));
    SWACL_TRY(swacl_ref_matmul(be, tmp, x, wu, NULL, M, F, K, 0));
    return swacl_ref_act(be, kind, y, y, tmp, (size_t)M * F);
}

int swacl_ref_gemm_typed(int M, int N, int K, const float *X, swacl_wtype wt, const void *W,
                         const float *Bs, float *Y, int accumulate, int threads)
{
    if (wt == SWACL_WT_AUTO) wt = SWACL_WT_F32;
    return gemm_tiled(M, N, K, X, wt, W, Bs, Y, accumulate, threads);
}

/* The one reference GEMM (also the GEMM tuner's check, host/tune/); out of
 * memory for the tiled copies, the same sums one dot_f64 at a time. */
void swacl_ref_gemm(int M, int N, int K, const float *X, const float *Wt, const float *Bs,
                    float *Y, int accumulate, int threads)
{
    if (gemm_tiled(M, N, K, X, SWACL_WT_F32, Wt, Bs, Y, accumulate, threads) == 0) return;
    if (threads < 1) threads = omp_get_max_threads();
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
