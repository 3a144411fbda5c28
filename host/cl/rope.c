/*
 * rope.c - the RoPE launcher (kernels_cl/rope.cl): the caller's double
 * inverse frequencies, uploaded as float hi + lo pairs, turn into a cos/sin
 * table per row (rope_table), which rope_apply_tab applies to the heads.
 *
 * The backend keeps the last SWACL_CL_ROPE_TABS tables with the inputs
 * they came from (positions, frequencies, mscale): a model step calls RoPE
 * for q and k of every RoPE layer with the same inputs, so the table is
 * built once per step (twice for models with two thetas) and each further
 * call is one streaming pass over x. Kernels on the in-order queue run in
 * order, so rewriting a table cannot race the launches that read it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cl/cl_ops.h"

#define ROPE_LX 8 /* local size: kernels_cl/rope.cl default */

/* The table for key (building it when it is not cached); *out its buffer. */
static swacl_status rope_table(swacl_cl_be *be, const void *key, size_t key_len, int B, int T,
                               int nhalf, float mscale, const int *pos0, const float *tab,
                               cl_mem *out)
{
    swacl_ctx *ctx = be->base.ctx;
    swacl_cl_rope_tab *t = be->rope_tab;
    for (int i = 0; i < SWACL_CL_ROPE_TABS; i++) {
        if (t[i].key && t[i].key_len == key_len && memcmp(t[i].key, key, key_len) == 0) {
            if (i) { /* most recent first */
                swacl_cl_rope_tab hit = t[i];
                memmove(t + 1, t, sizeof *t * (size_t)i);
                t[0] = hit;
            }
            *out = t[0].mem;
            return SWACL_OK;
        }
    }
    /* reuse the least recent slot */
    swacl_cl_rope_tab e = t[SWACL_CL_ROPE_TABS - 1];
    memmove(t + 1, t, sizeof *t * (SWACL_CL_ROPE_TABS - 1));
    free(e.key);
    e.key = NULL;
    e.key_len = 0;
    t[0] = e;
    const int rows = B * T;
    const size_t bytes = sizeof(float) * 2 * (size_t)rows * nhalf;
    if (t[0].cap < bytes) {
        if (t[0].mem) clReleaseMemObject(t[0].mem); /* deferred past queued readers */
        t[0].mem = NULL;
        t[0].cap = 0;
        cl_int err = CL_SUCCESS;
        t[0].mem = clCreateBuffer(be->dev.context, CL_MEM_READ_WRITE, bytes, NULL, &err);
        if (err != CL_SUCCESS)
            return swacl_cl_fail(ctx, err, "clCreateBuffer(rope table)", __FILE__, __LINE__);
        t[0].cap = bytes;
    }
    cl_mem tm, pm;
    SWACL_TRY(swacl_cl_upload(be, tab, sizeof(float) * 2 * (size_t)nhalf, &tm));
    SWACL_TRY(swacl_cl_upload(be, pos0, sizeof(int) * (size_t)B, &pm));
    cl_kernel k;
    SWACL_TRY(swacl_cl_kernel(be, "rope", "", "rope_table", &k));
    swacl_karg a[] = {KA(t[0].mem), KA(pm), KA(tm), KA(rows), KA(T), KA(nhalf), KA(mscale)};
    SWACL_TRY(swacl_cl_set_args(be, k, a, 7));
    size_t g = swacl_round_up((size_t)rows, ROPE_LX), l = ROPE_LX;
    SWACL_TRY(swacl_cl_launch(be, k, 1, &g, &l));
    /* the key is stored only once the table is queued */
    t[0].key = malloc(key_len);
    SWACL_FAIL_IF(ctx, !t[0].key, SWACL_OUT_OF_MEMORY, "out of host memory");
    memcpy(t[0].key, key, key_len);
    t[0].key_len = key_len;
    *out = t[0].mem;
    return SWACL_OK;
}

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
    /* the key: B, T, pairs, mscale, pos0[B], then the double inv_freq split
     * into float hi + lo (what the table kernel reads) */
    int nhalf = r->rot / 2;
    float mscale = r->mscale;
    size_t head = 3 * sizeof(int) + sizeof(float) + sizeof(int) * (size_t)B;
    size_t key_len = head + sizeof(float) * 2 * (size_t)nhalf;
    unsigned char *key = malloc(key_len);
    SWACL_FAIL_IF(ctx, !key, SWACL_OUT_OF_MEMORY, "out of host memory");
    int dims[3] = {B, T, nhalf};
    memcpy(key, dims, sizeof dims);
    memcpy(key + sizeof dims, &mscale, sizeof mscale);
    memcpy(key + sizeof dims + sizeof mscale, pos0, sizeof(int) * (size_t)B);
    float *tab = (float *)(void *)(key + head); /* head is a multiple of 4 */
    for (int i = 0; i < nhalf; i++) {
        double f = r->inv_freq[i];
        float hi = (float)f, lo = (float)(f - (double)hi);
        memcpy(&tab[2 * i], &hi, sizeof hi);
        memcpy(&tab[2 * i + 1], &lo, sizeof lo);
    }
    cl_mem cs;
    swacl_status st = rope_table(be, key, key_len, B, T, nhalf, mscale, pos0, tab, &cs);
    free(key);
    SWACL_TRY(st);
    cl_kernel k;
    SWACL_TRY(swacl_cl_kernel(be, "rope", "", "rope_apply_tab", &k));
    int half_layout = layout == SWACL_POS_ROPE_HALF;
    int rows = B * T;
    swacl_karg a[] = {KA(x->mem), KA(cs), KA(rows), KA(nh), KA(d), KA(half_layout), KA(nhalf)};
    SWACL_TRY(swacl_cl_set_args(be, k, a, 7));
    size_t g = swacl_round_up((size_t)rows, ROPE_LX), l = ROPE_LX;
    return swacl_cl_launch(be, k, 1, &g, &l);
}
