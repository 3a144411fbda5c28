/*
 * kv_store.c - the KV-cache append launcher (kernels_cl/kv_store.cl).
 */
#include "cl/cl_ops.h"

#define KV_LX 64 /* local size: kernels_cl/kv_store.cl default */

swacl_status swacl_cl_op_kv_store(swacl_backend *base, swacl_buf *cache, const swacl_buf *src,
                                  int B, int T, int cap, int width, const int *pos0,
                                  const int *n_new, int f16)
{
    swacl_cl_be *be = (swacl_cl_be *)base;
    swacl_ctx *ctx = base->ctx;
    SWACL_FAIL_IF(ctx, B < 0 || T < 0 || cap < 1 || width < 0, SWACL_INVALID_ARG,
                  "kv_store: bad shape B=%d T=%d cap=%d width=%d", B, T, cap, width);
    if (B == 0 || T == 0 || width == 0) return SWACL_OK;
    SWACL_FAIL_IF(ctx, !pos0 || !n_new, SWACL_INVALID_ARG, "kv_store: pos0/n_new NULL");
    for (int b = 0; b < B; b++)
        SWACL_FAIL_IF(ctx, pos0[b] < 0 || n_new[b] < 0 || n_new[b] > T, SWACL_INVALID_ARG,
                      "kv_store: sequence %d has pos0 %d, n_new %d (T %d)", b, pos0[b], n_new[b],
                      T);
    const size_t nc = (size_t)B * cap * width; /* f16: 2-byte values */
    SWACL_TRY(swacl_cl_check_buf(be, "kv_store", "cache", cache, f16 ? (nc + 1) / 2 : nc));
    SWACL_TRY(swacl_cl_check_buf(be, "kv_store", "src", src, (size_t)B * T * width));
    cl_mem meta;
    SWACL_TRY(swacl_cl_upload_meta(be, pos0, n_new, B, T, &meta));
    cl_kernel k;
    SWACL_TRY(swacl_cl_kernel(be, "kv_store", "", f16 ? "kv_store_f16" : "kv_store", &k));
    swacl_karg a[] = {KA(cache->mem), KA(src->mem), KA(meta), KA(B), KA(T), KA(cap), KA(width)};
    SWACL_TRY(swacl_cl_set_args(be, k, a, 7));
    size_t g[3] = {swacl_round_up((size_t)width, KV_LX), (size_t)T, (size_t)B};
    size_t l[3] = {KV_LX, 1, 1};
    return swacl_cl_launch(be, k, 3, g, l);
}

swacl_status swacl_cl_kv_to_half(swacl_cl_be *be, cl_mem hk, cl_mem hv, cl_mem k, cl_mem v, size_t n)
{
    SWACL_FAIL_IF(be->base.ctx, n > 2147483647u, SWACL_INVALID_ARG, "kv_to_half: %zu values", n);
    cl_kernel kk;
    SWACL_TRY(swacl_cl_kernel(be, "kv_store", "", "kv_to_half", &kk));
    int ni = (int)n;
    swacl_karg a[] = {KA(hk), KA(hv), KA(k), KA(v), KA(ni)};
    SWACL_TRY(swacl_cl_set_args(be, kk, a, 5));
    size_t g[1] = {swacl_round_up(n, KV_LX)}, l[1] = {KV_LX};
    return swacl_cl_launch(be, kk, 1, g, l);
}
