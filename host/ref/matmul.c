/*
 * matmul.c - reference matmul: y[M,N] (= or +=) x[M,K] w[N,K]^T + bias[N],
 * every output the plain double dot product: acc = 0, then acc += x[k] w[k]
 * for k = 0 .. K-1 in order, + bias (ref_dot_seq in ref_internal.h), with
 * packed weights (f16, bf16, q8_0, q4_0) decoded by swacl_row_decode.
 *
 * Speed without changing one bit of that: a float times a float is exact in
 * double, so the products are formed from double copies of x and w, and an
 * fma of an exact product rounds as the add does. Each output keeps its own
 * accumulator, so any tiling of the outputs gives the same bits. The tile:
 * MR rows of x (packed k-major, MR contiguous doubles per k) x NR rows of w
 * (packed k-major as well), MR x NR accumulators that stay in registers
 * while k runs; the innermost loop runs over the MR contiguous rows, so the
 * compiler turns it into vector fmas of x against one broadcast w value.
 * Plain C loops of constant trip counts; on x86-64 the same source is also
 * compiled for AVX2 and AVX-512 (target attributes, a tile shape each that
 * fits its register file) and the widest is picked at run time. OpenMP over
 * panels of NR weight rows; x in blocks of MC rows, k in blocks of KC so a
 * panel's slice stays in L1 while the row tiles stream past it.
 */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "ref/ref_internal.h"

enum {
    MC = 256, /* rows of x packed per block                                  */
    KC = 256, /* k per pass over the row tiles (NR x KC doubles <= 16 KiB)   */
    RN = 8,   /* rows of w per few-rows pass (chains: fma latency x units)   */
    FEW = 4,  /* M below this: the few-rows path                             */
};

/* The tile: c[j][i] += sum over k < kc of xp[k][i] wp[k][j], each c in k
 * order (fma_ is mul + add or fma: the same bits, the product is exact).
 * The j loop is unrolled so c lives in mr x nr / lanes vector registers. */
#define REF_TILE(name, attr, mr, nr, fma_)                                                   \
    attr static void name(const double *restrict xp, const double *restrict wp, int kc,    \
                          double *restrict c)                                              \
    {                                                                                      \
        double s[nr][mr];                                                                  \
        memcpy(s, c, sizeof s);                                                            \
        for (int k = 0; k < kc; k++) {                                                     \
            const double *restrict xk = xp + (size_t)k * (mr);                             \
            const double *restrict wk = wp + (size_t)k * (nr);                             \
            _Pragma("GCC unroll 16") for (int j = 0; j < (nr); j++)                       \
                for (int i = 0; i < (mr); i++) s[j][i] = fma_(xk[i], wk[j], s[j][i]);      \
        }                                                                                  \
        memcpy(c, s, sizeof s);                                                            \
    }

/* Few rows of x (the head at the last position): packing w costs more than
 * the sums, so RN decoded float rows of w against one row of x, RN
 * independent chains (the fma latency hidden), each in k order: the same
 * bits as the tile. s[j] = sum over k < K of x[k] w[j][k]. */
#define REF_ROWS(name, attr, fma_)                                                           \
    attr static void name(const double *restrict x, const float *restrict w, int K,         \
                          double *restrict s)                                              \
    {                                                                                      \
        double a[RN] = {0};                                                                \
        for (int k = 0; k < K; k++) {                                                      \
            const double xk = x[k];                                                        \
            for (int j = 0; j < RN; j++) a[j] = fma_(xk, (double)w[(size_t)j * K + k], a[j]); \
        }                                                                                  \
        memcpy(s, a, sizeof a);                                                            \
    }

#define MUL_ADD(a, b, c) ((c) + (a) * (b))

typedef void (*tile_fn)(const double *restrict, const double *restrict, int, double *restrict);
typedef void (*rows_fn)(const double *restrict, const float *restrict, int, double *restrict);
typedef struct {
    tile_fn tile;
    int mr, nr;
    rows_fn rows;
} tile_kind;

REF_TILE(tile_base, , 4, 4, MUL_ADD)
REF_ROWS(rows_base, , MUL_ADD)
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define REF_X86 1
#define AVX2_ATTR __attribute__((target("avx2,fma")))
#define AVX512_ATTR __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")))
REF_TILE(tile_avx2, AVX2_ATTR, 8, 4, fma)     /* 8 ymm accumulators  */
REF_TILE(tile_avx512, AVX512_ATTR, 16, 8, fma) /* 16 zmm accumulators */
REF_ROWS(rows_avx2, AVX2_ATTR, fma)
REF_ROWS(rows_avx512, AVX512_ATTR, fma)
#endif

/* Variant isa (0 plain, 1 AVX2, 2 AVX-512; -1 the widest this CPU runs),
 * 0; -1 when this CPU does not run it. The same sums in every one. */
static int pick_tile(int isa, tile_kind *t)
{
    *t = (tile_kind){tile_base, 4, 4, rows_base};
    int best = 0;
#ifdef REF_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw"))
        best = 2;
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        best = 1;
    if (isa < 0) isa = best;
    if (isa == 2 && best >= 2) *t = (tile_kind){tile_avx512, 16, 8, rows_avx512};
    else if (isa == 1 && best >= 1) *t = (tile_kind){tile_avx2, 8, 4, rows_avx2};
#else
    if (isa < 0) isa = best;
#endif
    return isa > best ? -1 : 0;
}

/* Output (m, n) from its sum acc: + bias, then = or +=. */
static inline void store(float *yo, double acc, const float *Bs, int n, int accumulate)
{
    if (Bs) acc += Bs[n];
    *yo = accumulate ? (float)((double)*yo + acc) : (float)acc;
}

/* gemm_tiled for M < FEW: no packing, RN rows of w at a time. */
static int gemm_few(const tile_kind *tk, int M, int N, int K, const float *X, swacl_wtype wt,
                    const void *W, const float *Bs, float *Y, int accumulate, int threads)
{
    const size_t kk = (size_t)(K ? K : 1), rb = swacl_wtype_row_bytes(wt, K);
    double *xd = malloc((size_t)M * kk * sizeof *xd);
    float *wf = malloc((size_t)threads * RN * kk * sizeof *wf);
    int ok = xd && wf;
    for (size_t i = 0; ok && i < (size_t)M * K; i++) xd[i] = X[i];
    const int panels = ok ? (N + RN - 1) / RN : 0;
#pragma omp parallel for schedule(dynamic, 8) num_threads(threads)
    for (int p = 0; p < panels; p++) {
        float *wp = wf + (size_t)omp_get_thread_num() * RN * kk;
        const int n0 = p * RN, nb = N - n0 < RN ? N - n0 : RN;
        for (int j = 0; j < RN; j++) {
            if (j < nb) swacl_row_decode(wt, (const unsigned char *)W + (size_t)(n0 + j) * rb, wp + (size_t)j * K, K);
            else memset(wp + (size_t)j * K, 0, (size_t)K * sizeof *wp); /* summed, never stored */
        }
        for (int m = 0; m < M; m++) {
            double s[RN];
            tk->rows(xd + (size_t)m * K, wp, K, s);
            for (int j = 0; j < nb; j++)
                store(Y + (size_t)m * N + n0 + j, s[j], Bs, n0 + j, accumulate);
        }
    }
    free(xd);
    free(wf);
    return ok ? 0 : -1;
}

/* The double-accumulation GEMM over weight rows of type wt (F32 included).
 * 0, -1 when out of memory for the double copies, -2 when this CPU does not
 * run variant isa. */
static int gemm_tiled(int isa, int M, int N, int K, const float *X, swacl_wtype wt,
                      const void *W, const float *Bs, float *Y, int accumulate, int threads)
{
    tile_kind tk;
    if (pick_tile(isa, &tk) != 0) return -2;
    if (threads < 1) threads = omp_get_max_threads();
    if (M == 0 || N == 0) return 0;
    if (M < FEW) return gemm_few(&tk, M, N, K, X, wt, W, Bs, Y, accumulate, threads);
    const int mr = tk.mr, nr = tk.nr;
    const size_t kk = (size_t)K, rb = swacl_wtype_row_bytes(wt, K);
    const int mc = M < MC ? M : MC, tiles_max = (mc + mr - 1) / mr;
    const int panels = (N + nr - 1) / nr;
    /* x: per tile of mr rows, k-major (zero rows pad the last tile) */
    double *xp = malloc((size_t)tiles_max * mr * (kk ? kk : 1) * sizeof *xp);
    /* per thread: a panel of nr decoded rows k-major, the tiles' sums, one float row */
    const size_t wsz = (size_t)nr * (kk ? kk : 1), csz = (size_t)tiles_max * mr * nr;
    double *wd = malloc((size_t)threads * wsz * sizeof *wd);
    double *cd = malloc((size_t)threads * csz * sizeof *cd);
    float *fr = malloc((size_t)threads * (kk ? kk : 1) * sizeof *fr);
    int ok = xp && wd && cd && fr;
    for (int m0 = 0; ok && m0 < M; m0 += mc) {
        const int mb = M - m0 < mc ? M - m0 : mc, tiles = (mb + mr - 1) / mr;
        /* x's copy here, not in the parallel region: one barrier per block
         * (on a shared machine each one waits for a descheduled thread) */
        for (int t = 0; t < tiles; t++) {
            double *xt = xp + (size_t)t * mr * kk;
            for (int i = 0; i < mr; i++) {
                const int m = t * mr + i;
                const float *xr = X + (size_t)(m0 + m) * K;
                for (size_t k = 0; k < kk; k++) xt[k * mr + i] = m < mb ? xr[k] : 0.0;
            }
        }
#pragma omp parallel num_threads(threads)
        {
            const int th = omp_get_thread_num();
            double *wp = wd + (size_t)th * wsz, *c = cd + (size_t)th * csz;
            float *row = fr + (size_t)th * (kk ? kk : 1);
            /* dynamic: on a shared machine a descheduled thread's panels
             * go to the others instead of stalling the loop's barrier */
#pragma omp for schedule(dynamic, 2) nowait
            for (int p = 0; p < panels; p++) {
                const int n0 = p * nr, nb = N - n0 < nr ? N - n0 : nr;
                for (int j = 0; j < nr; j++) {
                    if (j < nb) {
                        swacl_row_decode(wt, (const unsigned char *)W + (size_t)(n0 + j) * rb, row, K);
                        for (size_t k = 0; k < kk; k++) wp[k * nr + j] = row[k];
                    } else { /* padding columns: summed, never stored */
                        for (size_t k = 0; k < kk; k++) wp[k * nr + j] = 0;
                    }
                }
                memset(c, 0, (size_t)tiles * mr * nr * sizeof *c);
                for (int k0 = 0; k0 < K; k0 += KC) {
                    const int kc = K - k0 < KC ? K - k0 : KC;
                    for (int t = 0; t < tiles; t++)
                        tk.tile(xp + ((size_t)t * kk + k0) * mr, wp + (size_t)k0 * nr, kc,
                                c + (size_t)t * mr * nr);
                }
                for (int m = 0; m < mb; m++) {
                    const double *cm = c + (size_t)(m / mr) * mr * nr + m % mr;
                    float *yr = Y + (size_t)(m0 + m) * N + n0;
                    for (int j = 0; j < nb; j++)
                        store(yr + j, cm[(size_t)j * mr], Bs, n0 + j, accumulate);
                }
            }
        }
    }
    free(xp);
    free(wd);
    free(cd);
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
    return gemm_tiled(-1, M, N, K, X, wt, W, Bs, Y, accumulate, threads);
}

int swacl_ref_gemm_isa(int isa, int M, int N, int K, const float *X, swacl_wtype wt,
                       const void *W, const float *Bs, float *Y, int accumulate, int threads)
{
    if (wt == SWACL_WT_AUTO) wt = SWACL_WT_F32;
    return gemm_tiled(isa, M, N, K, X, wt, W, Bs, Y, accumulate, threads);
}

/* The one reference GEMM (also the GEMM tuner's check, host/tune/); out of
 * memory for the tiled copies, the same sums one ref_dot_seq at a time. */
void swacl_ref_gemm(int M, int N, int K, const float *X, const float *Wt, const float *Bs,
                    float *Y, int accumulate, int threads)
{
    if (gemm_tiled(-1, M, N, K, X, SWACL_WT_F32, Wt, Bs, Y, accumulate, threads) == 0) return;
    if (threads < 1) threads = omp_get_max_threads();
#pragma omp parallel for collapse(2) schedule(static) num_threads(threads)
    for (int m = 0; m < M; m++) {
        for (int n = 0; n < N; n++) {
            double acc = ref_dot_seq(X + (size_t)m * K, Wt + (size_t)n * K, K);
            if (Bs) acc += Bs[n];
            float *yo = Y + (size_t)m * N + n;
            *yo = accumulate ? (float)((double)*yo + acc) : (float)acc;
        }
    }
}
