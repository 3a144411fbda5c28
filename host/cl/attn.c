/*
 * attn.c - the attention launcher (kernels_cl/attn.cl): attn_fwd (TILED),
 * attn_fwd_row (ROW) or attn_fwd_blk (BLK) with the shapes of the
 * backend's kernel parameters, and the split-K decode path (attn_split_blk
 * + attn_merge) for one query over a long key range on every device.
 * Each program is built for the call's head_dim (-DHEAD_DIM) and, when the
 * scores are soft-capped, with -DATTN_SOFTCAP=1 (the cap is an argument).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cl/cl_ops.h"
#include "cl/cl_params.h"

#define ATTN_SPLIT_MIN_KEYS 1024 /* T == 1 key ranges longer than this split */
#define ATTN_SPLIT_MIN_CHUNK 256

static int gcd_int(int a, int b)
{
    while (b) {
        int t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Split-K decode: T == 1, keys [lo, p] of each query cut into chunks of
 * `chunk` keys, one attn_split_blk work-item per (chunk, head block, seq),
 * then attn_merge. max_range: the longest key range over the batch. */
static swacl_status attn_split(swacl_cl_be *be, const swacl_attn_args *a, cl_mem meta, cl_mem km,
                               cl_mem vm, cl_mem kcm, cl_mem vcm, int cap, int span, int S,
                               int max_range)
{
    swacl_ctx *ctx = be->base.ctx;
    int hq = gcd_int(a->H / a->Hkv, 8); /* heads per work-item: one position */
    int nhb = a->H / hq;
    /* enough work-items to fill the device: ~4 per compute unit */
    int cu = be->dev.info.compute_units > 0 ? be->dev.info.compute_units : 1;
    int want = (4 * cu + a->B * nhb - 1) / (a->B * nhb);
    if (want < 1) want = 1;
    int chunk = (max_range + want - 1) / want;
    if (chunk < ATTN_SPLIT_MIN_CHUNK) chunk = ATTN_SPLIT_MIN_CHUNK;
    chunk = (chunk + 31) / 32 * 32;
    int nsplit = (max_range + chunk - 1) / chunk;
    size_t bytes = (size_t)a->B * a->H * nsplit * (a->d + 2) * sizeof(float);
    if (be->attn_part_bytes < bytes) {
        /* clReleaseMemObject defers the delete until queued users finish */
        if (be->attn_part) clReleaseMemObject(be->attn_part);
        be->attn_part = NULL;
        be->attn_part_bytes = 0;
        cl_int err = CL_SUCCESS;
        be->attn_part = clCreateBuffer(be->dev.context, CL_MEM_READ_WRITE, bytes, NULL, &err);
        if (err != CL_SUCCESS)
            return swacl_cl_fail(ctx, err, "clCreateBuffer(attention partials)", __FILE__,
                                 __LINE__);
        be->attn_part_bytes = bytes;
    }
    char opts[128];
    snprintf(opts, sizeof opts, "-DHEAD_DIM=%d -DATTN_QB=%d -DATTN_HQ=%d -DATTN_KT=32%s%s", a->d,
             hq < 2 ? 2 : hq, hq, a->softcap > 0 ? " -DATTN_SOFTCAP=1" : "",
             a->kv_f16 ? " -DATTN_KV_HALF=1" : "");
    cl_kernel k;
    SWACL_TRY(swacl_cl_kernel(be, "attn", opts, "attn_split_blk", &k));
    int temp = (int)a->temp;
    float scale = a->scale, p0 = a->temp_p0, p1 = a->temp_p1, sc = a->softcap;
    swacl_karg ka[] = {KA(a->q->mem), KA(km),        KA(vm),            KA(kcm),
                       KA(vcm),       KA(meta),      KA(be->attn_part), KA(a->B),
                       KA(a->T),      KA(a->H),      KA(a->Hkv),        KA(cap),
                       KA(span),      KA(S),         KA(scale),         KA(temp),
                       KA(p0),        KA(p1),        KA(sc),            KA(nsplit),
                       KA(chunk)};
    SWACL_TRY(swacl_cl_set_args(be, k, ka, 21));
    size_t g[3] = {(size_t)nsplit, (size_t)nhb, (size_t)a->B};
    size_t l[3] = {1, 1, 1};
    SWACL_TRY(swacl_cl_launch(be, k, 3, g, l));
    cl_kernel kmg;
    snprintf(opts, sizeof opts, "-DHEAD_DIM=%d", a->d);
    SWACL_TRY(swacl_cl_kernel(be, "attn", opts, "attn_merge", &kmg));
    swacl_karg kb[] = {KA(be->attn_part), KA(meta), KA(a->out->mem), KA(a->B),
                       KA(a->T),          KA(a->H), KA(nsplit)};
    SWACL_TRY(swacl_cl_set_args(be, kmg, kb, 7));
    size_t gm[2] = {(size_t)a->H, (size_t)a->B};
    size_t lm[2] = {1, 1};
    return swacl_cl_launch(be, kmg, 2, gm, lm);
}

swacl_status swacl_cl_op_attention(swacl_backend *base, const swacl_attn_args *a)
{
    swacl_cl_be *be = (swacl_cl_be *)base;
    swacl_ctx *ctx = base->ctx;
    SWACL_FAIL_IF(ctx, !a, SWACL_INVALID_ARG, "attention: args are NULL");
    SWACL_FAIL_IF(ctx, !swacl_cl_head_dim_ok(a->d), SWACL_UNSUPPORTED,
                  "attention: head_dim %d is not supported by the OpenCL backend (multiples of 4 "
                  "from %d to %d)",
                  a->d, SWACL_CL_HEAD_DIM_MIN, SWACL_CL_HEAD_DIM_MAX);
    SWACL_FAIL_IF(ctx, !(a->softcap >= 0.0f) || isinf(a->softcap), SWACL_INVALID_ARG,
                  "attention: softcap %g must be finite and >= 0 (0 = off)", (double)a->softcap);
    SWACL_FAIL_IF(
        ctx, a->B < 0 || a->T < 0 || a->H <= 0 || a->Hkv <= 0 || a->H % a->Hkv, SWACL_INVALID_ARG,
        "attention: bad shape B=%d T=%d H=%d Hkv=%d (Hkv must divide H)", a->B, a->T, a->H, a->Hkv);
    SWACL_FAIL_IF(ctx,
                  a->span != SWACL_SPAN_GLOBAL && a->span != SWACL_SPAN_WINDOW &&
                      a->span != SWACL_SPAN_CHUNK,
                  SWACL_INVALID_ARG, "attention: unknown span %d", (int)a->span);
    SWACL_FAIL_IF(ctx, a->span != SWACL_SPAN_GLOBAL && a->span_size < 1, SWACL_INVALID_ARG,
                  "attention: span_size %d must be >= 1", a->span_size);
    SWACL_FAIL_IF(ctx,
                  a->temp != SWACL_TEMP_NONE && a->temp != SWACL_TEMP_LLAMA4 &&
                      a->temp != SWACL_TEMP_LOG_RATIO,
                  SWACL_INVALID_ARG, "attention: unknown temperature rule %d", (int)a->temp);
    SWACL_FAIL_IF(ctx, a->temp != SWACL_TEMP_NONE && !(a->temp_p0 > 0.0f), SWACL_INVALID_ARG,
                  "attention: temperature p0 %g must be > 0", (double)a->temp_p0);
    if (a->B == 0 || a->T == 0) return SWACL_OK;
    SWACL_FAIL_IF(ctx, !a->pos0 || !a->n_new, SWACL_INVALID_ARG, "attention: pos0/n_new NULL");
    int need_cache = 0, max_range = 0;
    for (int b = 0; b < a->B; b++) {
        SWACL_FAIL_IF(ctx, a->pos0[b] < 0 || a->n_new[b] < 0 || a->n_new[b] > a->T,
                      SWACL_INVALID_ARG, "attention: sequence %d has pos0 %d, n_new %d (T %d)", b,
                      a->pos0[b], a->n_new[b], a->T);
        /* the first query of b has the smallest lo: the cache is read
         * only when that lo lies before pos0 (e.g. never for W = 1) */
        int p = a->pos0[b], lo = 0;
        if (a->span == SWACL_SPAN_WINDOW) lo = p - a->span_size + 1 > 0 ? p - a->span_size + 1 : 0;
        if (a->span == SWACL_SPAN_CHUNK) lo = p / a->span_size * a->span_size;
        if (a->n_new[b] > 0 && lo < p) need_cache = 1;
        if (a->n_new[b] > 0 && p - lo + 1 > max_range) max_range = p - lo + 1;
    }
    size_t rows = (size_t)a->B * a->T;
    SWACL_TRY(swacl_cl_check_buf(be, "attention", "q", a->q, rows * a->H * a->d));
    SWACL_TRY(swacl_cl_check_buf(be, "attention", "k", a->k, rows * a->Hkv * a->d));
    SWACL_TRY(swacl_cl_check_buf(be, "attention", "v", a->v, rows * a->Hkv * a->d));
    SWACL_TRY(swacl_cl_check_buf(be, "attention", "out", a->out, rows * a->H * a->d));
    if (need_cache) {
        SWACL_FAIL_IF(ctx, a->cap < 1, SWACL_INVALID_ARG,
                      "attention: pos0 > 0 needs a cache (cap %d)", a->cap);
        size_t cn = (size_t)a->B * a->cap * a->Hkv * a->d;
        if (a->kv_f16) cn = (cn + 1) / 2; /* 2-byte values */
        SWACL_TRY(swacl_cl_check_buf(be, "attention", "kc", a->kc, cn));
        SWACL_TRY(swacl_cl_check_buf(be, "attention", "vc", a->vc, cn));
    }
    cl_mem meta;
    SWACL_TRY(swacl_cl_upload_meta(be, a->pos0, a->n_new, a->B, a->T, &meta));
    cl_mem km = a->k->mem, vm = a->v->mem;
    if (a->kv_f16) { /* the kernels read f16 only: the new rows as f16 too */
        size_t n = rows * a->Hkv * a->d, bytes = n * 2;
        if (be->attn_kvh_bytes < bytes) {
            if (be->attn_kh) clReleaseMemObject(be->attn_kh); /* deferred past queued users */
            if (be->attn_vh) clReleaseMemObject(be->attn_vh);
            be->attn_kh = be->attn_vh = NULL;
            be->attn_kvh_bytes = 0;
            cl_int err = CL_SUCCESS, err2 = CL_SUCCESS;
            be->attn_kh = clCreateBuffer(be->dev.context, CL_MEM_READ_WRITE, bytes, NULL, &err);
            if (err == CL_SUCCESS)
                be->attn_vh = clCreateBuffer(be->dev.context, CL_MEM_READ_WRITE, bytes, NULL, &err2);
            if (err != CL_SUCCESS || err2 != CL_SUCCESS)
                return swacl_cl_fail(ctx, err != CL_SUCCESS ? err : err2,
                                     "clCreateBuffer(attention f16 K/V)", __FILE__, __LINE__);
            be->attn_kvh_bytes = bytes;
        }
        SWACL_TRY(swacl_cl_kv_to_half(be, be->attn_kh, be->attn_vh, km, vm, n));
        km = be->attn_kh;
        vm = be->attn_vh;
    }
    cl_mem kcm = need_cache ? a->kc->mem : km;
    cl_mem vcm = need_cache ? a->vc->mem : vm;
    int cap = need_cache ? a->cap : 1;
    int span = (int)a->span, S = a->span != SWACL_SPAN_GLOBAL ? a->span_size : 1;
    /* one decode token with a long key range: split the keys (any device) */
    if (a->T == 1 && max_range > ATTN_SPLIT_MIN_KEYS)
        return attn_split(be, a, meta, km, vm, kcm, vcm, cap, span, S, max_range);
    char opts[128];
    const char *kname;
    size_t lx, gx, gy = (size_t)a->H;
    const swacl_kernel_params *kp = &be->kp;
    if (kp->attn == SWACL_ATTN_KERNEL_BLK) {
        int qb = swacl_attn_blk_qb(kp, a->d);
        int hq = gcd_int(a->H / a->Hkv, qb); /* heads of one KV group per work-item */
        snprintf(opts, sizeof opts, "-DHEAD_DIM=%d -DATTN_QB=%d -DATTN_HQ=%d -DATTN_KT=%d", a->d,
                 qb, hq, kp->attn_blk_kt);
        kname = "attn_fwd_blk";
        lx = (size_t)kp->attn_blk_lx;
        gx = swacl_round_up((size_t)((a->T + qb / hq - 1) / (qb / hq)), lx);
        gy = (size_t)(a->H / hq);
    } else if (kp->attn == SWACL_ATTN_KERNEL_ROW) {
        snprintf(opts, sizeof opts, "-DHEAD_DIM=%d -DATTN_ROW_LX=%d", a->d, kp->attn_row_lx);
        kname = "attn_fwd_row";
        lx = (size_t)kp->attn_row_lx;
        gx = swacl_round_up((size_t)a->T, lx);
    } else {
        int bk = swacl_attn_tiled_bk(kp, a->d, be->dev.info.local_mem_bytes);
        snprintf(opts, sizeof opts, "-DHEAD_DIM=%d -DATTN_BQ=%d -DATTN_BK=%d", a->d, kp->attn_bq,
                 bk);
        kname = "attn_fwd";
        lx = (size_t)kp->attn_bq;
        gx = swacl_round_up((size_t)a->T, lx);
    }
    if (a->softcap > 0) {
        size_t n = strlen(opts);
        snprintf(opts + n, sizeof opts - n, " -DATTN_SOFTCAP=1");
    }
    if (a->kv_f16) {
        size_t n = strlen(opts);
        snprintf(opts + n, sizeof opts - n, " -DATTN_KV_HALF=1");
    }
    cl_kernel k;
    SWACL_TRY(swacl_cl_kernel(be, "attn", opts, kname, &k));
    int temp = (int)a->temp;
    float scale = a->scale, p0 = a->temp_p0, p1 = a->temp_p1, sc = a->softcap;
    swacl_karg ka[] = {KA(a->q->mem), KA(km),          KA(vm),        KA(kcm),  KA(vcm),
                       KA(meta),      KA(a->out->mem), KA(a->B),      KA(a->T), KA(a->H),
                       KA(a->Hkv),    KA(cap),         KA(span),      KA(S),    KA(scale),
                       KA(temp),      KA(p0),          KA(p1),        KA(sc)};
    SWACL_TRY(swacl_cl_set_args(be, k, ka, 19));
    size_t g[3] = {gx, gy, (size_t)a->B};
    size_t l[3] = {lx, 1, 1};
    return swacl_cl_launch(be, k, 3, g, l);
}
