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
    size_t src_rows = src->size / sizeof(float) / (size_t)width;
    for (int i = 0; i < n; i++)
        SWACL_FAIL_IF(ctx, idx[i] < 0 || (size_t)idx[i] >= src_rows, SWACL_INVALID_ARG,
                      "%s: index %d at %d outside the %zu source rows", op, idx[i], i, src_rows);
    cl_mem im;
    SWACL_TRY(swacl_cl_upload(be, idx, sizeof(int) * (size_t)n, &im));
    cl_kernel k;
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
