/*
 * matmul_fused.c - the decode fusions of the backend seam (internal.h):
 * q/k/v of one input in one launch (gemv3_<t>) and gate + up + the gated
 * activation in one (gemv_glu_<t>), kernels_cl/matmul.cl. Taken for
 * M <= GEMV_MAXM with every W in one packed type (f16, bf16, q8_0, q4_0);
 * anything else (f32: its multi-row gemv; prefill; mixed types) is the
 * unfused matmul / act calls. A decode step saves 48 of its launches
 * (4 per layer: q/k/v 3 -> 1, gate/up/act 3 -> 1).
 */
#include <stdio.h>

#include "cl/cl_ops.h"
#include "cl/cl_params.h"

#define GEMV_MAXM 8 /* host/cl/matmul.c */

static const char *const k_tname[SWACL_WT_COUNT] = {"", "", "f16", "bf16", "q8_0", "q4_0"};

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
