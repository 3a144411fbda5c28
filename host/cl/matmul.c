/*
 * matmul.c - the matmul launcher: y[M,N] (= or +=) x[M,K] w[N,K]^T + bias.
 * M <= GEMV_MAXM: the gemv_* kernels of kernels_cl/matmul.cl, which stream
 * W once, in every storage type; larger M: swacl's own GEMM (gemm.c,
 * kernels_cl/gemm.cl) where the device's table row picks it for the weight
 * type and shape, else CLBlast SGEMM (cl_gemm.c). For CLBlast and gemv a
 * bias (or y = 0 for K = 0) is written first by bias_rows and the product
 * accumulated onto it; packed weights for CLBlast are panels decoded by
 * dequant_<type> (matmul_packed).
 *
 * The decode fusions of the seam (matmul_multi, matmul_glu): q/k/v of one
 * input in one launch (gemv3_<t>) and gate + up + the gated activation in
 * one (gemv_glu_<t>), for M <= GEMV_MAXM with every W in one packed type
 * (f16, bf16, q8_0, q4_0); anything else (f32: its multi-row gemv;
 * prefill; mixed types) is the unfused matmul / act calls. A c168 decode
 * step saves 48 of its launches (4 per layer: 3 -> 1 twice).
 */
#include <stdio.h>

#include "cl/cl_ops.h"
#include "cl/cl_params.h"

/* local sizes and the gemv row limit: kernels_cl/matmul.cl defaults */
#define ELT_LX 64
#define GEMV_MAXM 8

/* y[M, N] = mode ? y + bias : bias (zeros when bias is NULL). */
static swacl_status bias_rows(swacl_cl_be *be, swacl_buf *y, const swacl_buf *bias, int M, int N,
                              int mode)
{
    cl_kernel k;
    SWACL_TRY(swacl_cl_kernel(be, "matmul", "", "bias_rows", &k));
    int has_bias = bias != NULL;
    cl_mem bm = bias ? bias->mem : y->mem;
    swacl_karg a[] = {KA(y->mem), KA(bm), KA(M), KA(N), KA(mode), KA(has_bias)};
    SWACL_TRY(swacl_cl_set_args(be, k, a, 6));
    size_t g[2] = {swacl_round_up((size_t)N, ELT_LX), (size_t)M}, l[2] = {ELT_LX, 1};
    return swacl_cl_launch(be, k, 2, g, l);
}

/* kernel name suffixes by swacl_wtype */
static const char *const k_tname[SWACL_WT_COUNT] = {"", "", "f16", "bf16", "q8_0", "q4_0"};

/* y (+)= x W^T for M <= GEMV_MAXM in W's storage type: gemv_<t> (f32:
 * gemv_f32_r<R>, R rows per work-item: be->gemv_rows, from the device's
 * table) */
static swacl_status gemv(swacl_cl_be *be, swacl_buf *y, const swacl_buf *x, const swacl_buf *w,
                         int M, int N, int K, int acc)
{
    const swacl_gemv_params *gp = swacl_gemv_params_row(&be->dev.info);
    const int rows = w->wtype == SWACL_WT_F32 ? be->gemv_rows : 1;
    char name[32];
    if (w->wtype == SWACL_WT_F32) snprintf(name, sizeof name, "gemv_f32_r%d", rows);
    else snprintf(name, sizeof name, "gemv_%s", k_tname[w->wtype]);
    cl_kernel k;
    SWACL_TRY(swacl_cl_kernel(be, "matmul", "", name, &k));
    swacl_karg a[] = {KA(y->mem), KA(x->mem), KA(w->mem), KA(M), KA(N), KA(K), KA(acc)};
    SWACL_TRY(swacl_cl_set_args(be, k, a, 7));
    size_t g = swacl_round_up(((size_t)N + rows - 1) / rows, (size_t)gp->lx), l = (size_t)gp->lx;
    return swacl_cl_launch(be, k, 1, &g, &l);
}

/* Rows of W decoded per CLBlast panel: bounds the float32 scratch to
 * PANEL_BYTES whatever the matrix (an lm_head can be 100x larger). */
#define PANEL_BYTES ((size_t)4 << 20) /* as gemm.c's: one shared mm_panel */

/* y (+)= x W^T for W in a packed type and M > GEMV_MAXM (prefill): W
 * decoded a panel of rows at a time into float32 scratch (dequant_<t>, exact) and multiplied there by CLBlast SGEMM into the
 * matching columns of y. The decode costs one pass over W per call, small
 * beside the 2*M flops per weight of a prefill GEMM. */
static swacl_status matmul_packed(swacl_cl_be *be, swacl_buf *y, const swacl_buf *x,
                                  const swacl_buf *w, int M, int N, int K, int acc)
{
    swacl_ctx *ctx = be->base.ctx;
    char name[32];
    int panel = (int)(PANEL_BYTES / ((size_t)K * sizeof(float)));
    if (panel < 16) panel = 16;
    if (panel > N) panel = N;
    cl_mem tmp;
    SWACL_TRY(swacl_cl_panel(be, (size_t)panel * K * sizeof(float), &tmp));
    cl_kernel kd;
    snprintf(name, sizeof name, "dequant_%s", k_tname[w->wtype]);
    SWACL_TRY(swacl_cl_kernel(be, "matmul", "", name, &kd));
    const int blocks = w->wtype == SWACL_WT_Q8_0 || w->wtype == SWACL_WT_Q4_0;
    const size_t gx = blocks ? (size_t)K / 32 : ((size_t)K + 7) / 8;
    for (int n0 = 0; n0 < N; n0 += panel) {
        int rows = N - n0 < panel ? N - n0 : panel;
        swacl_karg a[] = {KA(tmp), KA(w->mem), KA(n0), KA(rows), KA(K)};
        SWACL_TRY(swacl_cl_set_args(be, kd, a, 5));
        size_t g[2] = {swacl_round_up(gx, ELT_LX), (size_t)rows}, l[2] = {ELT_LX, 1};
        SWACL_TRY(swacl_cl_launch(be, kd, 2, g, l));
        SWACL_TRY(swacl_cl_sgemm(ctx, &be->dev, 1, M, rows, K, 1.0f, x->mem, 0, (size_t)K, tmp,
                                 0, (size_t)K, acc ? 1.0f : 0.0f, y->mem, (size_t)n0,
                                 (size_t)N));
    }
    return SWACL_OK;
}

swacl_status swacl_cl_op_matmul(swacl_backend *base, swacl_buf *y, const swacl_buf *x,
                                const swacl_buf *w, const swacl_buf *bias, int M, int N, int K,
                                int accumulate)
{
    swacl_cl_be *be = (swacl_cl_be *)base;
    swacl_ctx *ctx = base->ctx;
    SWACL_FAIL_IF(ctx, M < 0 || N < 0 || K < 0, SWACL_INVALID_ARG,
                  "matmul: negative shape M=%d N=%d K=%d", M, N, K);
    if (M == 0 || N == 0) return SWACL_OK;
    SWACL_TRY(swacl_cl_check_buf(be, "matmul", "y", y, (size_t)M * N));
    if (K > 0) {
        SWACL_TRY(swacl_cl_check_buf(be, "matmul", "x", x, (size_t)M * K));
        SWACL_TRY(swacl_cl_check_rows(be, "matmul", "w", w, (size_t)N, K));
    }
    if (bias) SWACL_TRY(swacl_cl_check_buf(be, "matmul", "bias", bias, (size_t)N));
    if (M > GEMV_MAXM && swacl_cl_gemm_own_ok(&be->gp, w->wtype, M, N, K))
        return swacl_cl_gemm_own(be, y, x, w, bias, M, N, K, accumulate);
    float beta = accumulate ? 1.0f : 0.0f;
    if (bias || (K == 0 && !accumulate)) {
        /* y = bias (or 0), or y += bias, then accumulate the product */
        SWACL_TRY(bias_rows(be, y, bias, M, N, accumulate));
        beta = 1.0f;
    }
    if (K == 0) return SWACL_OK;
    /* decode-sized products: kernels that stream W once beat CLBlast's
     * large-tile GEMMs by an order of magnitude here */
    if (M <= GEMV_MAXM) return gemv(be, y, x, w, M, N, K, beta != 0.0f);
    if (w->wtype != SWACL_WT_F32) return matmul_packed(be, y, x, w, M, N, K, beta != 0.0f);
    return swacl_cl_sgemm(ctx, &be->dev, 1, M, N, K, 1.0f, x->mem, 0, (size_t)K, w->mem, 0,
                          (size_t)K, beta, y->mem, 0, (size_t)N);
}

/* ------------------------------------------------------------------------ */
/* Decode fusions.                                                           */

static int fusable(swacl_wtype t, int M, int K)
{
    return M >= 1 && M <= GEMV_MAXM && K > 0 && t > SWACL_WT_F32 && t < SWACL_WT_COUNT;
}

swacl_status swacl_cl_op_matmul_multi(swacl_backend *base, int n, swacl_buf *const *y,
                                      const swacl_buf *x, const swacl_buf *const *w,
                                      const int *N, int M, int K)
{
    swacl_cl_be *be = (swacl_cl_be *)base;
    SWACL_FAIL_IF(base->ctx, n < 1 || n > 3, SWACL_INVALID_ARG, "matmul_multi: n = %d", n);
    int same = fusable(w[0]->wtype, M, K) && n > 1;
    for (int i = 0; i < n; i++) same = same && w[i]->wtype == w[0]->wtype && N[i] > 0;
    if (!same) {
        for (int i = 0; i < n; i++)
            SWACL_TRY(swacl_cl_op_matmul(base, y[i], x, w[i], NULL, M, N[i], K, 0));
        return SWACL_OK;
    }
    SWACL_TRY(swacl_cl_check_buf(be, "matmul_multi", "x", x, (size_t)M * K));
    for (int i = 0; i < n; i++) {
        SWACL_TRY(swacl_cl_check_buf(be, "matmul_multi", "y", y[i], (size_t)M * N[i]));
        SWACL_TRY(swacl_cl_check_rows(be, "matmul_multi", "w", w[i], (size_t)N[i], K));
    }
    char name[32];
    snprintf(name, sizeof name, "gemv3_%s", k_tname[w[0]->wtype]);
    cl_kernel k;
    SWACL_TRY(swacl_cl_kernel(be, "matmul", "", name, &k));
    /* n = 2: the third matrix is empty (N2 = 0, buffers repeated) */
    const int n2 = n > 2 ? N[2] : 0;
    cl_mem y2 = (n > 2 ? y[2] : y[1])->mem, w2 = (n > 2 ? w[2] : w[1])->mem;
    cl_ulong rb = swacl_wtype_row_bytes(w[0]->wtype, K);
    swacl_karg a[] = {KA(y[0]->mem), KA(y[1]->mem), KA(y2),   KA(x->mem), KA(w[0]->mem),
                      KA(w[1]->mem), KA(w2),        KA(M),    KA(N[0]),   KA(N[1]),
                      KA(n2),        KA(K),         KA(rb)};
    SWACL_TRY(swacl_cl_set_args(be, k, a, 13));
    const swacl_gemv_params *gp = swacl_gemv_params_row(&be->dev.info);
    size_t g = swacl_round_up((size_t)N[0] + N[1] + n2, (size_t)gp->lx), l = (size_t)gp->lx;
    return swacl_cl_launch(be, k, 1, &g, &l);
}

swacl_status swacl_cl_op_matmul_glu(swacl_backend *base, swacl_ffn kind, swacl_buf *y,
                                    swacl_buf *tmp, const swacl_buf *x, const swacl_buf *wg,
                                    const swacl_buf *wu, int M, int F, int K)
{
    swacl_cl_be *be = (swacl_cl_be *)base;
    SWACL_FAIL_IF(base->ctx, kind != SWACL_FFN_SWIGLU && kind != SWACL_FFN_GEGLU_TANH,
                  SWACL_INVALID_ARG, "matmul_glu: kind %d is not gated", (int)kind);
    if (!fusable(wg->wtype, M, K) || wu->wtype != wg->wtype || F < 1) {
        SWACL_TRY(swacl_cl_op_matmul(base, y, x, wg, NULL, M, F, K, 0));
        SWACL_TRY(swacl_cl_op_matmul(base, tmp, x, wu, NULL, M, F, K, 0));
        return swacl_cl_op_act(base, kind, y, y, tmp, (size_t)M * F);
    }
    SWACL_TRY(swacl_cl_check_buf(be, "matmul_glu", "x", x, (size_t)M * K));
    SWACL_TRY(swacl_cl_check_buf(be, "matmul_glu", "y", y, (size_t)M * F));
    SWACL_TRY(swacl_cl_check_rows(be, "matmul_glu", "wg", wg, (size_t)F, K));
    SWACL_TRY(swacl_cl_check_rows(be, "matmul_glu", "wu", wu, (size_t)F, K));
    char name[32];
    snprintf(name, sizeof name, "gemv_glu_%s", k_tname[wg->wtype]);
    cl_kernel k;
    SWACL_TRY(swacl_cl_kernel(be, "matmul", "", name, &k));
    cl_ulong rb = swacl_wtype_row_bytes(wg->wtype, K);
    int geglu = kind == SWACL_FFN_GEGLU_TANH;
    swacl_karg a[] = {KA(y->mem), KA(x->mem), KA(wg->mem), KA(wu->mem), KA(M),
                      KA(F),      KA(K),      KA(rb),      KA(geglu)};
    SWACL_TRY(swacl_cl_set_args(be, k, a, 9));
    const swacl_gemv_params *gp = swacl_gemv_params_row(&be->dev.info);
    size_t g = swacl_round_up((size_t)F, (size_t)gp->lx), l = (size_t)gp->lx;
    return swacl_cl_launch(be, k, 1, &g, &l);
}
