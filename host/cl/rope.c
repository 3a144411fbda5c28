/*
 * rope.c - the RoPE launcher (kernels_cl/rope.cl): the caller's double
 * inverse frequencies, uploaded as float hi + lo pairs.
 */
#include <math.h>
#include <stdlib.h>

#include "cl/cl_ops.h"

#define ROPE_LX 16 /* local size: kernels_cl/rope.cl default */

swacl_status swacl_cl_op_rope(swacl_backend *base, swacl_buf *x, int B, int T, int nh, int d,
                              const int *pos0, const swacl_rope_args *r)
{
    swacl_cl_be *be = (swacl_cl_be *)base;
    swacl_ctx *ctx = base->ctx;
    SWACL_FAIL_IF(ctx, !r, SWACL_INVALID_ARG, "rope: no arguments");
    const swacl_pos layout = r->layout;
    if (layout == SWACL_POS_NONE) return SWACL_OK;
    SWACL_FAIL_IF(ctx, layout != SWACL_POS_ROPE_PAIR && layout != SWACL_POS_ROPE_HALF,
                  SWACL_INVALID_ARG, "rope: unknown layout %d", (int)layout);
    SWACL_FAIL_IF(ctx, B < 0 || T < 0 || nh < 0 || d <= 0 || d % 2, SWACL_INVALID_ARG,
                  "rope: bad shape B=%d T=%d nh=%d d=%d (d must be even)", B, T, nh, d);
    SWACL_FAIL_IF(ctx, r->rot < 2 || r->rot > d || r->rot % 2 || !r->inv_freq, SWACL_INVALID_ARG,
                  "rope: rotated lanes %d must be even and in 2..%d, with a frequency table",
                  r->rot, d);
    if (B == 0 || T == 0 || nh == 0) return SWACL_OK;
    SWACL_FAIL_IF(ctx, !pos0, SWACL_INVALID_ARG, "rope: pos0 is NULL");
    SWACL_TRY(swacl_cl_check_buf(be, "rope", "x", x, (size_t)B * T * nh * d));
    /* the host's double inv_freq, split into float hi + lo */
    int half = r->rot / 2;
    float *tab = malloc(sizeof(float) * 2 * (size_t)half);
    SWACL_FAIL_IF(ctx, !tab, SWACL_OUT_OF_MEMORY, "out of host memory");
    for (int i = 0; i < half; i++) {
        double f = r->inv_freq[i];
        float hi = (float)f;
        tab[2 * i] = hi;
        tab[2 * i + 1] = (float)(f - (double)hi);
    }
    cl_mem tm, pm;
    swacl_status st = swacl_cl_upload(be, tab, sizeof(float) * 2 * (size_t)half, &tm);
    free(tab);
    SWACL_TRY(st);
    SWACL_TRY(swacl_cl_upload(be, pos0, sizeof(int) * (size_t)B, &pm));
    cl_kernel k;
    SWACL_TRY(swacl_cl_kernel(be, "rope", "", "rope_apply", &k));
    int half_layout = layout == SWACL_POS_ROPE_HALF;
    int rot = r->rot;
    float mscale = r->mscale;
    swacl_karg a[] = {KA(x->mem), KA(pm), KA(tm),          KA(T),
                      KA(nh),     KA(d),  KA(half_layout), KA(rot), KA(mscale)};
    SWACL_TRY(swacl_cl_set_args(be, k, a, 9));
    size_t g[3] = {swacl_round_up((size_t)half, ROPE_LX), 1,
                   (size_t)B * T}; /* heads looped in-kernel */
    size_t l[3] = {ROPE_LX, 1, 1};
    return swacl_cl_launch(be, k, 3, g, l);
}
