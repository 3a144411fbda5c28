/*
 * norm.c - the norm launcher: norm_row or norm_wg (kernels_cl/norm.cl) as
 * the backend's kernel parameters say, with their local size as -D option.
 */
#include <stdio.h>

#include "cl/cl_ops.h"

swacl_status swacl_cl_op_norm(swacl_backend *base, swacl_norm kind, swacl_buf *y,
                              const swacl_buf *x, const swacl_buf *w, const swacl_buf *b, int rows,
                              int n, float eps)
{
    swacl_cl_be *be = (swacl_cl_be *)base;
    swacl_ctx *ctx = base->ctx;
    SWACL_FAIL_IF(
        ctx, kind != SWACL_NORM_RMS && kind != SWACL_NORM_LAYER && kind != SWACL_NORM_LAYER_NOBIAS,
        SWACL_INVALID_ARG, "norm: unknown kind %d", (int)kind);
    SWACL_FAIL_IF(ctx, rows < 0 || n <= 0, SWACL_INVALID_ARG, "norm: bad shape rows=%d n=%d", rows,
                  n);
    if (rows == 0) return SWACL_OK;
    SWACL_TRY(swacl_cl_check_buf(be, "norm", "x", x, (size_t)rows * n));
    SWACL_TRY(swacl_cl_check_buf(be, "norm", "y", y, (size_t)rows * n));
    if (w) SWACL_TRY(swacl_cl_check_buf(be, "norm", "w", w, (size_t)n));
    if (b) SWACL_TRY(swacl_cl_check_buf(be, "norm", "b", b, (size_t)n));
    int layer = kind != SWACL_NORM_RMS;
    int has_w = w != NULL, has_b = b != NULL && kind == SWACL_NORM_LAYER;
    cl_mem wm = w ? w->mem : x->mem, bm = has_b ? b->mem : x->mem;
    const int per_row = be->kp.norm == SWACL_NORM_KERNEL_ROW;
    const int lx = per_row ? be->kp.norm_row_lx : be->kp.norm_wg_lx;
    char opts[48];
    snprintf(opts, sizeof opts, per_row ? "-DNORM_ROW_LX=%d" : "-DNORM_WG=%d", lx);
    cl_kernel k;
    SWACL_TRY(swacl_cl_kernel(be, "norm", opts, per_row ? "norm_row" : "norm_wg", &k));
    swacl_karg a[] = {KA(y->mem), KA(x->mem), KA(wm),    KA(bm),    KA(rows),
                      KA(n),      KA(eps),    KA(layer), KA(has_w), KA(has_b)};
    SWACL_TRY(swacl_cl_set_args(be, k, a, 10));
    /* norm_row: a work-item per row; norm_wg: a work-group per row */
    size_t l = (size_t)lx;
    size_t g = per_row ? swacl_round_up((size_t)rows, l) : (size_t)rows * l;
    return swacl_cl_launch(be, k, 1, &g, &l);
}
