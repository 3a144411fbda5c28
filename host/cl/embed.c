/*
 * embed.c - the embed and gather_rows launchers: one row gather kernel
 * (kernels_cl/embed.cl), indices checked on the host and uploaded.
 */
#include "cl/cl_ops.h"

#define EMB_LX 64 /* local size: kernels_cl/embed.cl default */

static swacl_status gather(swacl_cl_be *be, const char *op, swacl_buf *dst, const swacl_buf *src,
                           const int *idx, int n, int width)
{
    swacl_ctx *ctx = be->base.ctx;
    SWACL_FAIL_IF(ctx, n < 0 || width < 0, SWACL_INVALID_ARG, "%s: bad shape n=%d width=%d", op, n,
                  width);
    if (n == 0 || width == 0) return SWACL_OK;
    SWACL_FAIL_IF(ctx, !idx, SWACL_INVALID_ARG, "%s: index array is NULL", op);
    SWACL_TRY(swacl_cl_check_buf(be, op, "dst", dst, (size_t)n * width));
    SWACL_FAIL_IF(ctx, !src, SWACL_INVALID_ARG, "%s: src is NULL", op);
    SWACL_FAIL_IF(ctx, !swacl_wtype_fits(src->wtype, width), SWACL_INVALID_ARG,
                  "%s: a %s table needs width %% 32 == 0 (width=%d)", op,
                  swacl_wtype_name(src->wtype), width);
    size_t src_rows = src->size / swacl_wtype_row_bytes(src->wtype, width);
    for (int i = 0; i < n; i++)
        SWACL_FAIL_IF(ctx, idx[i] < 0 || (size_t)idx[i] >= src_rows, SWACL_INVALID_ARG,
                      "%s: index %d at %d outside the %zu source rows", op, idx[i], i, src_rows);
    cl_mem im;
    SWACL_TRY(swacl_cl_upload(be, idx, sizeof(int) * (size_t)n, &im));
    cl_kernel k;
    if (src->wtype != SWACL_WT_F32) { /* a packed embedding table: decode rows (matmul.cl) */
        int wt = (int)src->wtype, blocks = wt == SWACL_WT_Q8_0 || wt == SWACL_WT_Q4_0;
        SWACL_TRY(swacl_cl_kernel(be, "matmul", "", "embed_packed", &k));
        swacl_karg a[] = {KA(dst->mem), KA(src->mem), KA(im), KA(n), KA(width), KA(wt)};
        SWACL_TRY(swacl_cl_set_args(be, k, a, 6));
        size_t gx = blocks ? (size_t)width / 32 : ((size_t)width + 7) / 8;
        size_t g[2] = {swacl_round_up(gx, EMB_LX), (size_t)n}, l[2] = {EMB_LX, 1};
        return swacl_cl_launch(be, k, 2, g, l);
    }
    SWACL_TRY(swacl_cl_kernel(be, "embed", "", "gather_rows", &k));
    swacl_karg a[] = {KA(dst->mem), KA(src->mem), KA(im), KA(n), KA(width)};
    SWACL_TRY(swacl_cl_set_args(be, k, a, 5));
    size_t g[2] = {swacl_round_up((size_t)width, EMB_LX), (size_t)n}, l[2] = {EMB_LX, 1};
    return swacl_cl_launch(be, k, 2, g, l);
}

swacl_status swacl_cl_op_embed(swacl_backend *base, swacl_buf *out, const swacl_buf *table,
                               const int32_t *ids, int n, int D)
{
    return gather((swacl_cl_be *)base, "embed", out, table, (const int *)ids, n, D);
}

swacl_status swacl_cl_op_gather_rows(swacl_backend *base, swacl_buf *dst, const swacl_buf *src,
                                     const int *rows, int n, int width)
{
    return gather((swacl_cl_be *)base, "gather_rows", dst, src, rows, n, width);
}
