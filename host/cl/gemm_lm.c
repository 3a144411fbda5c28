/*
 * gemm_lm.c - launcher of the local-memory tiled GEMM for GPUs
 * (kernels_cl/gemm_lm.cl): y[M,N] (= or +=) x[M,K] w[N,K]^T (+ bias), W in
 * any storage type, one launch, no scratch. swacl_cl_gemm_own (gemm.c)
 * comes here when the backend's swacl_gemm_params say kern = LM.
 */
#include <stdio.h>

#include "cl/cl_ops.h"

int swacl_gemm_lm_fits(int ts, int wpt, size_t max_wg, uint64_t local_mem)
{
    if (ts < 8 || ts > 128 || wpt < 1 || wpt > 8 || ts % wpt) return 0;
    const size_t items = (size_t)(ts / wpt) * (size_t)(ts / wpt);
    const uint64_t lm = 2ull * 16 * (uint64_t)(ts + 1) * sizeof(float); /* gemm_lm.cl's tiles */
    return (!max_wg || items <= max_wg) && (!local_mem || lm <= local_mem);
}

swacl_status swacl_cl_gemm_lm(swacl_cl_be *be, swacl_buf *y, const swacl_buf *x,
                              const swacl_buf *w, const swacl_buf *bias, int M, int N, int K,
                              int accumulate)
{
    const swacl_gemm_params *gp = &be->gp;
    swacl_ctx *ctx = be->base.ctx;
    const swacl_device_info *info = &be->dev.info;
    SWACL_FAIL_IF(ctx, (int)w->wtype < 0 || (int)w->wtype >= SWACL_WT_COUNT, SWACL_INVALID_ARG,
                  "gemm_lm: weight type %d", (int)w->wtype);
    const int blocks = w->wtype == SWACL_WT_Q8_0 || w->wtype == SWACL_WT_Q4_0;
    SWACL_FAIL_IF(ctx, blocks && K % 32, SWACL_INVALID_ARG,
                  "gemm_lm: K = %d not a multiple of 32 for a block-quantised W", K);
    SWACL_FAIL_IF(ctx,
                  !swacl_gemm_lm_fits(gp->lm_ts, gp->lm_wpt, info->max_work_group_size,
                                      info->local_mem_bytes),
                  SWACL_INVALID_ARG,
                  "gemm_lm: tile %d / %d per work-item does not fit the device (work-group %zu, "
                  "local memory %llu bytes)",
                  gp->lm_ts, gp->lm_wpt, info->max_work_group_size,
                  (unsigned long long)info->local_mem_bytes);
    char opts[96];
    snprintf(opts, sizeof opts, "-DLM_TS=%d -DLM_WPT=%d -DLM_WT=%d", gp->lm_ts, gp->lm_wpt,
             w->wtype == SWACL_WT_AUTO ? (int)SWACL_WT_F32 : (int)w->wtype);
    cl_kernel k;
    SWACL_TRY(swacl_cl_kernel(be, "gemm_lm", opts, "gemm_lm", &k));
    const int mode = (accumulate ? 1 : 0) | (bias ? 2 : 0);
    cl_mem bm = bias ? bias->mem : y->mem;
    /* test_drop_k: the tuner's rejection test sums fewer terms on purpose */
    int kend = K - (gp->test_drop_k > 0 && gp->test_drop_k < K ? gp->test_drop_k : 0);
    swacl_karg a[] = {KA(y->mem), KA(x->mem), KA(w->mem), KA(bm), KA(M),
                      KA(N),      KA(K),      KA(kend),   KA(mode)};
    SWACL_TRY(swacl_cl_set_args(be, k, a, 9));
    const size_t ts = (size_t)gp->lm_ts, rt = ts / (size_t)gp->lm_wpt;
    size_t g[2] = {((size_t)N + ts - 1) / ts * rt, ((size_t)M + ts - 1) / ts * rt}, l[2] = {rt, rt};
    return swacl_cl_launch(be, k, 2, g, l);
}
