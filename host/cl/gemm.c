/*
 * gemm.c - launcher of swacl's own prefill GEMM (kernels_cl/gemm.cl):
 * y[M,N] (= or +=) x[M,K] w[N,K]^T (+ bias), W in any storage type.
 * matmul.c dispatches here for M > GEMV_MAXM when the device's table row
 * (cl_params.c, swacl_gemm_params) picks the own kernel for that weight
 * type and shape; CLBlast (cl_gemm.c) otherwise.
 *
 * Per panel of W rows (PANEL_BYTES of float32 scratch, the backend's
 * mm_panel): gemm_pack_<t> decodes the rows into k-major 16-wide micro-
 * panels, then gemm_mk multiplies x against them, writing that panel's
 * columns of y with the bias and accumulate epilogue, one launch per K
 * block (kc) and M block (mc): an mc x kc block of x (512 KiB at 512 x
 * 256) stays in L2 while every micro-panel passes over it; unblocked, an
 * 8192-row x streamed from memory once per micro-panel and ran at 0.4x
 * OpenBLAS instead of 0.6-0.7x (bench_gemm). The in-order queue orders the
 * next panel's pack after this panel's product.
 */
#include <stdio.h>

#include "cl/cl_ops.h"

#define ELT_LX 64
#define NR 16 /* columns per micro-panel: gemm.cl's two float8 */

/* float32 scratch per panel: bounds memory whatever the matrix (an lm_head
 * can be 100x larger); at K = 1024 a panel is 4096 rows. 16 MiB, not 4:
 * at 4 MiB the 512-row down projection (K 2816: 368-row panels, 3 panels x
 * 11 K blocks of launches, x re-read per panel) read 0.51-0.63x OpenBLAS
 * against 0.68-0.85x at 16 MiB (bench_gemm --m 512, quiet, one session);
 * the 12 MiB it costs stays resident for the run (bench/README.md) */
#define PANEL_BYTES ((size_t)16 << 20)

static const char *const k_tname[SWACL_WT_COUNT] = {"f32", "f32", "f16", "bf16", "q8_0", "q4_0"};

int swacl_cl_gemm_own_ok(const swacl_gemm_params *gp, swacl_wtype wt, int M, int N, int K)
{
    if (!gp || M <= 0 || N <= 0 || K <= 0) return 0;
    const int packed = wt != SWACL_WT_F32 && wt != SWACL_WT_AUTO;
    if (!(packed ? gp->own_packed : gp->own_f32)) return 0;
    /* shape class: below min_mnk flops CLBlast's direct kernel is as good
     * and the pack is not amortised */
    const double mnk = (double)M * N * K;
    return mnk >= (double)gp->min_mnk;
}

/* one gemm_mk launch over rows m0 .. m0+mrows-1 of y */
static swacl_status gemm_mk_launch(swacl_cl_be *be, cl_kernel km, swacl_buf *y, const swacl_buf *x,
                                   cl_mem tmp, cl_mem bm, int m0, int mrows, int N, int K, int n0,
                                   int rows, int k0, int kc, int md, size_t pj)
{
    const swacl_gemm_params *gp = &be->gp;
    const int mend = m0 + mrows;
    swacl_karg b[] = {KA(y->mem), KA(x->mem), KA(tmp), KA(bm), KA(m0), KA(mend), KA(N),
                      KA(K),      KA(n0),     KA(rows), KA(k0), KA(kc), KA(md)};
    SWACL_TRY(swacl_cl_set_args(be, km, b, 13));
    const size_t lx = (size_t)gp->lx;
    size_t g2[2] = {swacl_round_up(((size_t)mrows + gp->mr - 1) / gp->mr, lx), pj}, l2[2] = {lx, 1};
    return swacl_cl_launch(be, km, 2, g2, l2);
}

swacl_status swacl_cl_gemm_own(swacl_cl_be *be, swacl_buf *y, const swacl_buf *x,
                               const swacl_buf *w, const swacl_buf *bias, int M, int N, int K,
                               int accumulate)
{
    const swacl_gemm_params *gp = &be->gp;
    if (gp->kern == SWACL_GEMM_KERN_LM) /* GPUs: local-memory tiles, gemm_lm.c */
        return swacl_cl_gemm_lm(be, y, x, w, bias, M, N, K, accumulate);
    swacl_ctx *ctx = be->base.ctx;
    SWACL_FAIL_IF(ctx, (int)w->wtype < 0 || (int)w->wtype >= SWACL_WT_COUNT, SWACL_INVALID_ARG,
                  "gemm: weight type %d", (int)w->wtype);
    const int blocks = w->wtype == SWACL_WT_Q8_0 || w->wtype == SWACL_WT_Q4_0;
    SWACL_FAIL_IF(ctx, blocks && K % 32, SWACL_INVALID_ARG,
                  "gemm: K = %d not a multiple of 32 for a block-quantised W", K);
    int panel = (int)(PANEL_BYTES / ((size_t)K * sizeof(float))) / NR * NR;
    if (panel < NR) panel = NR;
    if (panel > N) panel = (int)swacl_round_up((size_t)N, NR);
    cl_mem tmp;
    SWACL_TRY(swacl_cl_panel(be, (size_t)panel * K * sizeof(float), &tmp));
    char name[32], opts[64];
    snprintf(name, sizeof name, "gemm_pack_%s", k_tname[w->wtype]);
    cl_kernel kp, km;
    SWACL_TRY(swacl_cl_kernel(be, "gemm", "", name, &kp));
    snprintf(opts, sizeof opts, "-DGEMM_MR=%d -DGEMM_VW=%d", gp->mr, gp->vw == 16 ? 16 : 8);
    SWACL_TRY(swacl_cl_kernel(be, "gemm", opts, "gemm_mk", &km));
    const int mode = (accumulate ? 1 : 0) | (bias ? 2 : 0);
    cl_mem bm = bias ? bias->mem : y->mem;
    /* a K block of at least kc / 2: no sliver block at the end */
    int kb = gp->kc > 0 && gp->kc < K ? gp->kc : K;
    if (kb < K) {
        int nb = (K + kb - 1) / kb;
        kb = (K + nb - 1) / nb;
    }
    /* M block: a multiple of mr rows, so only the last block is ragged */
    int mb = gp->mc > 0 && gp->mc < M && M >= gp->mc_min_m ? gp->mc / gp->mr * gp->mr : M;
    if (mb < gp->mr) mb = gp->mr < M ? gp->mr : M;
    for (int n0 = 0; n0 < N; n0 += panel) {
        int rows = N - n0 < panel ? N - n0 : panel;
        const size_t pj = ((size_t)rows + NR - 1) / NR;
        swacl_karg a[] = {KA(tmp), KA(w->mem), KA(n0), KA(rows), KA(K)};
        SWACL_TRY(swacl_cl_set_args(be, kp, a, 5));
        size_t g[2] = {swacl_round_up(((size_t)K + 7) / 8, ELT_LX), pj}, l[2] = {ELT_LX, 1};
        SWACL_TRY(swacl_cl_launch(be, kp, 2, g, l));
        /* M blocks outside K blocks: the block's rows of y (mc x panel
         * floats, 5.8 MB at 512 x 2816) stay in L3 between the K blocks'
         * accumulate passes instead of going to memory and back per block */
        for (int m0 = 0; m0 < M; m0 += mb) {
            int mrows = M - m0 < mb ? M - m0 : mb;
            for (int k0 = 0; k0 < K; k0 += kb) {
                int kc = K - k0 < kb ? K - k0 : kb;
                /* the first K block writes (or accumulates) and adds the
                 * bias, later ones accumulate */
                int md = k0 == 0 ? mode : 1;
                SWACL_TRY(gemm_mk_launch(be, km, y, x, tmp, bm, m0, mrows, N, K, n0, rows, k0,
                                         kc, md, pj));
            }
        }
    }
    return SWACL_OK;
}
