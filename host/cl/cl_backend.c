/*
 * cl_backend.c - struct swacl_backend_i on an OpenCL device.
 *
 * Buffers are cl_mem + size. Ops enqueue kernels from the kernels_cl/ files on the
 * device's in-order queue and never wait: finish() is the only clFinish.
 * Reads and writes of whole buffers are blocking (the caller's host memory
 * may go away on return).
 *
 * Kernels are created lazily per (file, options, name) and kept in a small
 * table; programs belong to the device (swacl_cl_program caches them).
 *
 * Small host arrays (ids, pos0 / n_new, row indices, RoPE frequencies) go
 * through a ring of backend-owned scratch buffers: each slot has a host
 * shadow and a device buffer, written with a non-blocking write whose event
 * is waited on only when the slot comes round again (SCRATCH_SLOTS ops
 * later), so uploads never stall the queue.
 *
 * Local sizes always divide the global sizes: global sizes are padded and
 * the kernels guard their index ranges (PoCL has no non-uniform groups).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl/cl_internal.h"
#include "common/env.h"

struct swacl_buf {
    cl_mem mem;
    size_t size;
    void *map;   /* host_alloc: the mapped host pointer */
};

#define KCACHE_MAX 48
#define SCRATCH_SLOTS 32

typedef struct {
    char file[16];
    char options[96];
    char name[32];
    cl_kernel kernel;
} kcache_entry;

typedef struct {
    cl_mem mem;
    size_t cap;   /* bytes of mem and host */
    void *host;
    cl_event ev;  /* last write from host into mem (or NULL) */
} scratch_slot;

typedef struct {
    swacl_backend base;
    swacl_cl_dev dev;
    int dev_open;
    kcache_entry kc[KCACHE_MAX];
    int n_kc;
    scratch_slot scratch[SCRATCH_SLOTS];
    int scratch_next;
    /* launch shapes chosen per device type */
    int attn_bq, attn_bk_small, attn_bk_large; /* BK for d <= 64 / d = 128 */
    int norm_per_row;                          /* norm_row vs norm_wg      */
    int attn_kind;                             /* ATTN_K_*: which attn.cl kernel */
    int attn_row_lx;
    int attn_blk_qb, attn_blk_kt, attn_blk_lx; /* attn_fwd_blk (v5) shape    */
    cl_mem attn_part;                          /* split-K partials, lazy     */
    size_t attn_part_bytes;
    /* buffers handed out and not yet freed: LSan cannot see a forgotten
     * cl_mem (its allocation stack is inside the driver, which the CI
     * suppressions cover), so the backend counts them itself */
    long live_bufs;
    size_t live_bytes;
} cl_be;

/* local sizes: must match the kernels' defaults or the -D options below */
#define ELT_LX 64
#define GEMV_MAXM 8  /* matches kernels_cl/gemv.cl */
#define GEMV_LX 16
#define EMB_LX 64
#define ROPE_LX 16
#define NORM_WG 64
#define NORM_ROW_LX 8

static size_t round_up(size_t x, size_t m) { return (x + m - 1) / m * m; }

/* ------------------------------------------------------------------------ */
/* kernels                                                                   */

static swacl_status get_kernel(cl_be *be, const char *file, const char *options, const char *name,
                               cl_kernel *out)
{
    swacl_ctx *ctx = be->base.ctx;
    for (int i = 0; i < be->n_kc; i++) {
        kcache_entry *e = &be->kc[i];
        if (!strcmp(e->name, name) && !strcmp(e->file, file) && !strcmp(e->options, options)) {
            *out = e->kernel;
            return SWACL_OK;
        }
    }
    SWACL_FAIL_IF(ctx, be->n_kc >= KCACHE_MAX, SWACL_INTERNAL,
                  "kernel cache full (%d entries) creating %s/%s", KCACHE_MAX, file, name);
    SWACL_FAIL_IF(ctx, strlen(file) >= sizeof be->kc[0].file ||
                           strlen(options) >= sizeof be->kc[0].options ||
                           strlen(name) >= sizeof be->kc[0].name,
                  SWACL_INTERNAL, "kernel key too long: %s|%s|%s", file, options, name);
    cl_program prog;
    SWACL_TRY(swacl_cl_program(ctx, &be->dev, file, options, &prog));
    cl_int err = CL_SUCCESS;
    cl_kernel k = clCreateKernel(prog, name, &err);
    if (err != CL_SUCCESS)
        return swacl_cl_fail(ctx, err, "clCreateKernel", __FILE__, __LINE__);
    kcache_entry *e = &be->kc[be->n_kc++];
    snprintf(e->file, sizeof e->file, "%s", file);
    snprintf(e->options, sizeof e->options, "%s", options);
    snprintf(e->name, sizeof e->name, "%s", name);
    e->kernel = k;
    *out = k;
    return SWACL_OK;
}

/* Set kernel args from a list of (size, pointer) pairs. */
typedef struct {
    size_t size;
    const void *ptr;
} karg;

#define KA(x) ((karg){sizeof(x), &(x)})

static swacl_status set_args(cl_be *be, cl_kernel k, const karg *a, int n)
{
    for (int i = 0; i < n; i++)
        SWACL_CL(be->base.ctx, clSetKernelArg(k, (cl_uint)i, a[i].size, a[i].ptr));
    return SWACL_OK;
}

static swacl_status launch(cl_be *be, cl_kernel k, cl_uint dims, const size_t *global,
                           const size_t *local)
{
    for (cl_uint i = 0; i < dims; i++)
        if (global[i] == 0) return SWACL_OK; /* nothing to do */
    SWACL_CL(be->base.ctx,
             clEnqueueNDRangeKernel(be->dev.queue, k, dims, NULL, global, local, 0, NULL, NULL));
    return SWACL_OK;
}

/* ------------------------------------------------------------------------ */
/* scratch uploads                                                           */

static swacl_status upload_small(cl_be *be, const void *src, size_t bytes, cl_mem *out)
{
    swacl_ctx *ctx = be->base.ctx;
    scratch_slot *s = &be->scratch[be->scratch_next];
    be->scratch_next = (be->scratch_next + 1) % SCRATCH_SLOTS;
    if (s->ev) {
        /* the previous host->device copy from s->host must be complete */
        cl_int err = clWaitForEvents(1, &s->ev);
        clReleaseEvent(s->ev);
        s->ev = NULL;
        if (err != CL_SUCCESS) return swacl_cl_fail(ctx, err, "clWaitForEvents", __FILE__, __LINE__);
    }
    if (bytes == 0) bytes = 4;
    if (s->cap < bytes) {
        size_t cap = round_up(bytes > 256 ? bytes * 2 : 256, 64);
        void *h = realloc(s->host, cap);
        SWACL_FAIL_IF(ctx, !h, SWACL_OUT_OF_MEMORY, "scratch: out of host memory (%zu bytes)", cap);
        s->host = h;
        /* clReleaseMemObject defers the delete until queued users finish */
        if (s->mem) clReleaseMemObject(s->mem);
        s->mem = NULL;
        s->cap = 0;
        cl_int err = CL_SUCCESS;
        s->mem = clCreateBuffer(be->dev.context, CL_MEM_READ_ONLY, cap, NULL, &err);
        if (err != CL_SUCCESS) return swacl_cl_fail(ctx, err, "clCreateBuffer(scratch)", __FILE__, __LINE__);
        s->cap = cap;
    }
    memcpy(s->host, src, bytes);
    SWACL_CL(ctx, clEnqueueWriteBuffer(be->dev.queue, s->mem, CL_FALSE, 0, bytes, s->host, 0, NULL,
                                       &s->ev));
    *out = s->mem;
    return SWACL_OK;
}

/* pos0[B] then n_new[B] (n_new may be NULL: all T). */
static swacl_status upload_meta(cl_be *be, const int *pos0, const int *n_new, int B, int T,
                                cl_mem *out)
{
    int stackbuf[64] = {0};
    int *m = 2 * B <= 64 ? stackbuf : malloc(sizeof(int) * 2 * (size_t)B);
    SWACL_FAIL_IF(be->base.ctx, !m, SWACL_OUT_OF_MEMORY, "out of host memory");
    for (int b = 0; b < B; b++) {
        m[b] = pos0 ? pos0[b] : 0;
        m[B + b] = n_new ? n_new[b] : T;
    }
    swacl_status st = upload_small(be, m, sizeof(int) * 2 * (size_t)B, out);
    if (m != stackbuf) free(m);
    return st;
}

/* ------------------------------------------------------------------------ */
/* memory                                                                    */

static swacl_status check_buf(cl_be *be, const char *op, const char *what, const swacl_buf *b,
                              size_t n_floats)
{
    SWACL_FAIL_IF(be->base.ctx, !b, SWACL_INVALID_ARG, "%s: buffer %s is NULL", op, what);
    SWACL_FAIL_IF(be->base.ctx, n_floats > b->size / sizeof(float), SWACL_INVALID_ARG,
                  "%s: buffer %s holds %zu bytes, needs %zu", op, what, b->size,
                  n_floats * sizeof(float));
    return SWACL_OK;
}

/* A counted buffer of `bytes` (live_bufs: see cl_be) with the given flags. */
static swacl_status buf_new(cl_be *be, cl_mem_flags flags, size_t bytes, const char *what,
                            swacl_buf **out)
{
    swacl_ctx *ctx = be->base.ctx;
    *out = NULL;
    swacl_buf *b = calloc(1, sizeof *b);
    SWACL_FAIL_IF(ctx, !b, SWACL_OUT_OF_MEMORY, "out of host memory");
    cl_int err = CL_SUCCESS;
    b->mem = clCreateBuffer(be->dev.context, flags, bytes ? bytes : 4, NULL, &err);
    if (err != CL_SUCCESS) {
        free(b);
        return swacl_cl_fail(ctx, err, what, __FILE__, __LINE__);
    }
    b->size = bytes;
    be->live_bufs++;
    be->live_bytes += bytes;
    *out = b;
    return SWACL_OK;
}

static swacl_status cl_buf_alloc(swacl_backend *base, size_t bytes, swacl_buf **out)
{
    cl_be *be = (cl_be *)base;
    *out = NULL;
    SWACL_FAIL_IF(base->ctx, bytes > be->dev.info.max_alloc_bytes && be->dev.info.max_alloc_bytes,
                  SWACL_OUT_OF_MEMORY,
                  "buffer of %zu bytes exceeds the device's max allocation (%llu bytes)", bytes,
                  (unsigned long long)be->dev.info.max_alloc_bytes);
    return buf_new(be, CL_MEM_READ_WRITE, bytes, "clCreateBuffer", out);
}

static void cl_buf_free(swacl_backend *base, swacl_buf *b)
{
    cl_be *be = (cl_be *)base;
    if (!b) return;
    if (b->mem) clReleaseMemObject(b->mem);
    be->live_bufs--;
    be->live_bytes -= b->size;
    free(b);
}

static swacl_status cl_buf_write(swacl_backend *base, swacl_buf *b, size_t off, const void *src,
                                 size_t bytes)
{
    cl_be *be = (cl_be *)base;
    SWACL_FAIL_IF(base->ctx, !b || off > b->size || bytes > b->size - off, SWACL_INVALID_ARG,
                  "buf_write: %zu bytes at %zu outside a %zu-byte buffer", bytes, off,
                  b ? b->size : 0);
    if (!bytes) return SWACL_OK;
    SWACL_CL(base->ctx,
             clEnqueueWriteBuffer(be->dev.queue, b->mem, CL_TRUE, off, bytes, src, 0, NULL, NULL));
    return SWACL_OK;
}

static swacl_status cl_buf_read(swacl_backend *base, const swacl_buf *b, size_t off, void *dst,
                                size_t bytes)
{
    cl_be *be = (cl_be *)base;
    SWACL_FAIL_IF(base->ctx, !b || off > b->size || bytes > b->size - off, SWACL_INVALID_ARG,
                  "buf_read: %zu bytes at %zu outside a %zu-byte buffer", bytes, off,
                  b ? b->size : 0);
    if (!bytes) return SWACL_OK;
    SWACL_CL(base->ctx,
             clEnqueueReadBuffer(be->dev.queue, b->mem, CL_TRUE, off, bytes, dst, 0, NULL, NULL));
    return SWACL_OK;
}

/* ------------------------------------------------------------------------ */
/* ops                                                                       */

/* y[M, N] = mode ? y + bias : bias (zeros when bias is NULL). */
static swacl_status bias_rows(cl_be *be, swacl_buf *y, const swacl_buf *bias, int M, int N,
                              int mode)
{
    cl_kernel k;
    SWACL_TRY(get_kernel(be, "act", "", "bias_rows", &k));
    int has_bias = bias != NULL;
    cl_mem bm = bias ? bias->mem : y->mem;
    karg a[] = {KA(y->mem), KA(bm), KA(M), KA(N), KA(mode), KA(has_bias)};
    SWACL_TRY(set_args(be, k, a, 6));
    size_t g[2] = {round_up((size_t)N, ELT_LX), (size_t)M}, l[2] = {ELT_LX, 1};
    return launch(be, k, 2, g, l);
}

static swacl_status cl_matmul(swacl_backend *base, swacl_buf *y, const swacl_buf *x,
                              const swacl_buf *w, const swacl_buf *bias, int M, int N, int K,
                              int accumulate)
{
    cl_be *be = (cl_be *)base;
    swacl_ctx *ctx = base->ctx;
    SWACL_FAIL_IF(ctx, M < 0 || N < 0 || K < 0, SWACL_INVALID_ARG,
                  "matmul: negative shape M=%d N=%d K=%d", M, N, K);
    if (M == 0 || N == 0) return SWACL_OK;
    SWACL_TRY(check_buf(be, "matmul", "y", y, (size_t)M * N));
    if (K > 0) {
        SWACL_TRY(check_buf(be, "matmul", "x", x, (size_t)M * K));
        SWACL_TRY(check_buf(be, "matmul", "w", w, (size_t)N * K));
    }
    if (bias) SWACL_TRY(check_buf(be, "matmul", "bias", bias, (size_t)N));
    float beta = accumulate ? 1.0f : 0.0f;
    if (bias || (K == 0 && !accumulate)) {
        /* y = bias (or 0), or y += bias, then accumulate the product */
        SWACL_TRY(bias_rows(be, y, bias, M, N, accumulate));
        beta = 1.0f;
    }
    if (K == 0) return SWACL_OK;
    if (M <= GEMV_MAXM) {
        /* decode-sized products: a matrix-vector kernel that streams W once
         * beats CLBlast's large-tile GEMMs by an order of magnitude here */
        cl_kernel k;
        SWACL_TRY(get_kernel(be, "gemv", "", "gemv_rows", &k));
        int acc = beta != 0.0f;
        karg a[] = {KA(y->mem), KA(x->mem), KA(w->mem), KA(M), KA(N), KA(K), KA(acc)};
        SWACL_TRY(set_args(be, k, a, 7));
        size_t g = round_up((size_t)N, GEMV_LX), l = GEMV_LX;
        return launch(be, k, 1, &g, &l);
    }
    return swacl_cl_sgemm(ctx, &be->dev, 1, M, N, K, 1.0f, x->mem, 0, (size_t)K, w->mem, 0,
                          (size_t)K, beta, y->mem, 0, (size_t)N);
}

static swacl_status cl_norm(swacl_backend *base, swacl_norm kind, swacl_buf *y,
                            const swacl_buf *x, const swacl_buf *w, const swacl_buf *b, int rows,
                            int n, float eps)
{
    cl_be *be = (cl_be *)base;
    swacl_ctx *ctx = base->ctx;
    SWACL_FAIL_IF(ctx, kind != SWACL_NORM_RMS && kind != SWACL_NORM_LAYER &&
                           kind != SWACL_NORM_LAYER_NOBIAS,
                  SWACL_INVALID_ARG, "norm: unknown kind %d", (int)kind);
    SWACL_FAIL_IF(ctx, rows < 0 || n <= 0, SWACL_INVALID_ARG, "norm: bad shape rows=%d n=%d",
                  rows, n);
    if (rows == 0) return SWACL_OK;
    SWACL_TRY(check_buf(be, "norm", "x", x, (size_t)rows * n));
    SWACL_TRY(check_buf(be, "norm", "y", y, (size_t)rows * n));
    if (w) SWACL_TRY(check_buf(be, "norm", "w", w, (size_t)n));
    if (b) SWACL_TRY(check_buf(be, "norm", "b", b, (size_t)n));
    int layer = kind != SWACL_NORM_RMS;
    int has_w = w != NULL, has_b = b != NULL && kind == SWACL_NORM_LAYER;
    cl_mem wm = w ? w->mem : x->mem, bm = has_b ? b->mem : x->mem;
    cl_kernel k;
    const char *name = be->norm_per_row ? "norm_row" : "norm_wg";
    SWACL_TRY(get_kernel(be, "norm", "", name, &k));
    karg a[] = {KA(y->mem), KA(x->mem), KA(wm),  KA(bm),    KA(rows),
                KA(n),      KA(eps),    KA(layer), KA(has_w), KA(has_b)};
    SWACL_TRY(set_args(be, k, a, 10));
    size_t g, l;
    if (be->norm_per_row) {
        g = round_up((size_t)rows, NORM_ROW_LX);
        l = NORM_ROW_LX;
    } else {
        g = (size_t)rows * NORM_WG;
        l = NORM_WG;
    }
    return launch(be, k, 1, &g, &l);
}

static swacl_status cl_rope(swacl_backend *base, swacl_buf *x, int B, int T, int nh, int d,
                            const int *pos0, swacl_pos layout, float theta)
{
    cl_be *be = (cl_be *)base;
    swacl_ctx *ctx = base->ctx;
    if (layout == SWACL_POS_NONE) return SWACL_OK;
    SWACL_FAIL_IF(ctx, layout != SWACL_POS_ROPE_PAIR && layout != SWACL_POS_ROPE_HALF,
                  SWACL_INVALID_ARG, "rope: unknown layout %d", (int)layout);
    SWACL_FAIL_IF(ctx, B < 0 || T < 0 || nh < 0 || d <= 0 || d % 2, SWACL_INVALID_ARG,
                  "rope: bad shape B=%d T=%d nh=%d d=%d (d must be even)", B, T, nh, d);
    SWACL_FAIL_IF(ctx, !(theta > 0.0f), SWACL_INVALID_ARG, "rope: theta %g must be > 0",
                  (double)theta);
    if (B == 0 || T == 0 || nh == 0) return SWACL_OK;
    SWACL_FAIL_IF(ctx, !pos0, SWACL_INVALID_ARG, "rope: pos0 is NULL");
    SWACL_TRY(check_buf(be, "rope", "x", x, (size_t)B * T * nh * d));
    /* inv_freq_i = theta^(-2i/d) in double, split into float hi + lo */
    int half = d / 2;
    float *tab = malloc(sizeof(float) * 2 * (size_t)half);
    SWACL_FAIL_IF(ctx, !tab, SWACL_OUT_OF_MEMORY, "out of host memory");
    for (int i = 0; i < half; i++) {
        double f = pow((double)theta, -2.0 * i / (double)d);
        float hi = (float)f;
        tab[2 * i] = hi;
        tab[2 * i + 1] = (float)(f - (double)hi);
    }
    cl_mem tm, pm;
    swacl_status st = upload_small(be, tab, sizeof(float) * 2 * (size_t)half, &tm);
    free(tab);
    SWACL_TRY(st);
    SWACL_TRY(upload_small(be, pos0, sizeof(int) * (size_t)B, &pm));
    cl_kernel k;
    SWACL_TRY(get_kernel(be, "rope", "", "rope_apply", &k));
    int half_layout = layout == SWACL_POS_ROPE_HALF;
    karg a[] = {KA(x->mem), KA(pm), KA(tm), KA(T), KA(nh), KA(d), KA(half_layout)};
    SWACL_TRY(set_args(be, k, a, 7));
    size_t g[3] = {round_up((size_t)half, ROPE_LX), 1, (size_t)B * T}; /* heads looped in-kernel */
    size_t l[3] = {ROPE_LX, 1, 1};
    return launch(be, k, 3, g, l);
}

/* attention kernels (kernels_cl/attn.cl versions) */
enum { ATTN_K_TILED = 0, ATTN_K_ROW = 1, ATTN_K_BLK = 2 };
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
static swacl_status attn_split(cl_be *be, const swacl_attn_args *a, cl_mem meta, cl_mem kcm,
                               cl_mem vcm, int cap, int span, int S, int max_range)
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
    char opts[96];
    snprintf(opts, sizeof opts, "-DHEAD_DIM=%d -DATTN_QB=%d -DATTN_HQ=%d -DATTN_KT=32", a->d,
             hq < 2 ? 2 : hq, hq);
    cl_kernel k;
    SWACL_TRY(get_kernel(be, "attn", opts, "attn_split_blk", &k));
    int temp = (int)a->temp;
    float scale = a->scale, p0 = a->temp_p0, p1 = a->temp_p1;
    karg ka[] = {KA(a->q->mem), KA(a->k->mem), KA(a->v->mem), KA(kcm),    KA(vcm),
                 KA(meta),      KA(be->attn_part), KA(a->B),  KA(a->T),   KA(a->H),
                 KA(a->Hkv),    KA(cap),       KA(span),      KA(S),      KA(scale),
                 KA(temp),      KA(p0),        KA(p1),        KA(nsplit), KA(chunk)};
    SWACL_TRY(set_args(be, k, ka, 20));
    size_t g[3] = {(size_t)nsplit, (size_t)nhb, (size_t)a->B};
    size_t l[3] = {1, 1, 1};
    SWACL_TRY(launch(be, k, 3, g, l));
    cl_kernel km;
    snprintf(opts, sizeof opts, "-DHEAD_DIM=%d", a->d);
    SWACL_TRY(get_kernel(be, "attn", opts, "attn_merge", &km));
    karg kb[] = {KA(be->attn_part), KA(meta), KA(a->out->mem), KA(a->B), KA(a->T), KA(a->H),
                 KA(nsplit)};
    SWACL_TRY(set_args(be, km, kb, 7));
    size_t gm[2] = {(size_t)a->H, (size_t)a->B};
    size_t lm[2] = {1, 1};
    return launch(be, km, 2, gm, lm);
}

static swacl_status cl_attention(swacl_backend *base, const swacl_attn_args *a)
{
    cl_be *be = (cl_be *)base;
    swacl_ctx *ctx = base->ctx;
    SWACL_FAIL_IF(ctx, !a, SWACL_INVALID_ARG, "attention: args are NULL");
    SWACL_FAIL_IF(ctx, a->d != 32 && a->d != 64 && a->d != 128, SWACL_UNSUPPORTED,
                  "attention: head_dim %d is not supported by the OpenCL backend (32, 64 or 128)",
                  a->d);
    SWACL_FAIL_IF(ctx, a->B < 0 || a->T < 0 || a->H <= 0 || a->Hkv <= 0 || a->H % a->Hkv,
                  SWACL_INVALID_ARG,
                  "attention: bad shape B=%d T=%d H=%d Hkv=%d (Hkv must divide H)", a->B, a->T,
                  a->H, a->Hkv);
    SWACL_FAIL_IF(ctx, a->span != SWACL_SPAN_GLOBAL && a->span != SWACL_SPAN_WINDOW &&
                           a->span != SWACL_SPAN_CHUNK,
                  SWACL_INVALID_ARG, "attention: unknown span %d", (int)a->span);
    SWACL_FAIL_IF(ctx, a->span != SWACL_SPAN_GLOBAL && a->span_size < 1, SWACL_INVALID_ARG,
                  "attention: span_size %d must be >= 1", a->span_size);
    SWACL_FAIL_IF(ctx, a->temp != SWACL_TEMP_NONE && a->temp != SWACL_TEMP_LLAMA4 &&
                           a->temp != SWACL_TEMP_LOG_RATIO,
                  SWACL_INVALID_ARG, "attention: unknown temperature rule %d", (int)a->temp);
    SWACL_FAIL_IF(ctx, a->temp != SWACL_TEMP_NONE && !(a->temp_p0 > 0.0f), SWACL_INVALID_ARG,
                  "attention: temperature p0 %g must be > 0", (double)a->temp_p0);
    if (a->B == 0 || a->T == 0) return SWACL_OK;
    SWACL_FAIL_IF(ctx, !a->pos0 || !a->n_new, SWACL_INVALID_ARG, "attention: pos0/n_new NULL");
    int need_cache = 0, max_range = 0;
    for (int b = 0; b < a->B; b++) {
        SWACL_FAIL_IF(ctx, a->pos0[b] < 0 || a->n_new[b] < 0 || a->n_new[b] > a->T,
                      SWACL_INVALID_ARG, "attention: sequence %d has pos0 %d, n_new %d (T %d)",
                      b, a->pos0[b], a->n_new[b], a->T);
        /* the first query of b has the smallest lo: the cache is read
         * only when that lo lies before pos0 (e.g. never for W = 1) */
        int p = a->pos0[b], lo = 0;
        if (a->span == SWACL_SPAN_WINDOW) lo = p - a->span_size + 1 > 0 ? p - a->span_size + 1 : 0;
        if (a->span == SWACL_SPAN_CHUNK) lo = p / a->span_size * a->span_size;
        if (a->n_new[b] > 0 && lo < p) need_cache = 1;
        if (a->n_new[b] > 0 && p - lo + 1 > max_range) max_range = p - lo + 1;
    }
    size_t rows = (size_t)a->B * a->T;
    SWACL_TRY(check_buf(be, "attention", "q", a->q, rows * a->H * a->d));
    SWACL_TRY(check_buf(be, "attention", "k", a->k, rows * a->Hkv * a->d));
    SWACL_TRY(check_buf(be, "attention", "v", a->v, rows * a->Hkv * a->d));
    SWACL_TRY(check_buf(be, "attention", "out", a->out, rows * a->H * a->d));
    if (need_cache) {
        SWACL_FAIL_IF(ctx, a->cap < 1, SWACL_INVALID_ARG,
                      "attention: pos0 > 0 needs a cache (cap %d)", a->cap);
        size_t cn = (size_t)a->B * a->cap * a->Hkv * a->d;
        SWACL_TRY(check_buf(be, "attention", "kc", a->kc, cn));
        SWACL_TRY(check_buf(be, "attention", "vc", a->vc, cn));
    }
    cl_mem meta;
    SWACL_TRY(upload_meta(be, a->pos0, a->n_new, a->B, a->T, &meta));
    cl_mem kcm = need_cache ? a->kc->mem : a->k->mem;
    cl_mem vcm = need_cache ? a->vc->mem : a->v->mem;
    int cap = need_cache ? a->cap : 1;
    int span = (int)a->span, S = a->span != SWACL_SPAN_GLOBAL ? a->span_size : 1;
    /* one decode token with a long key range: split the keys (any device) */
    if (a->T == 1 && max_range > ATTN_SPLIT_MIN_KEYS)
        return attn_split(be, a, meta, kcm, vcm, cap, span, S, max_range);
    char opts[96];
    const char *kname;
    size_t lx, gx, gy = (size_t)a->H;
    if (be->attn_kind == ATTN_K_BLK) {
        int qb = be->attn_blk_qb;
        int hq = gcd_int(a->H / a->Hkv, qb); /* heads of one KV group per work-item */
        snprintf(opts, sizeof opts, "-DHEAD_DIM=%d -DATTN_QB=%d -DATTN_HQ=%d -DATTN_KT=%d", a->d,
                 qb, hq, be->attn_blk_kt);
        kname = "attn_fwd_blk";
        lx = (size_t)be->attn_blk_lx;
        gx = round_up((size_t)((a->T + qb / hq - 1) / (qb / hq)), lx);
        gy = (size_t)(a->H / hq);
    } else if (be->attn_kind == ATTN_K_ROW) {
        snprintf(opts, sizeof opts, "-DHEAD_DIM=%d -DATTN_ROW_LX=%d", a->d, be->attn_row_lx);
        kname = "attn_fwd_row";
        lx = (size_t)be->attn_row_lx;
        gx = round_up((size_t)a->T, lx);
    } else {
        int bk = a->d >= 128 ? be->attn_bk_large : be->attn_bk_small;
        snprintf(opts, sizeof opts, "-DHEAD_DIM=%d -DATTN_BQ=%d -DATTN_BK=%d", a->d, be->attn_bq,
                 bk);
        kname = "attn_fwd";
        lx = (size_t)be->attn_bq;
        gx = round_up((size_t)a->T, lx);
    }
    cl_kernel k;
    SWACL_TRY(get_kernel(be, "attn", opts, kname, &k));
    int temp = (int)a->temp;
    float scale = a->scale, p0 = a->temp_p0, p1 = a->temp_p1;
    karg ka[] = {KA(a->q->mem), KA(a->k->mem), KA(a->v->mem), KA(kcm),   KA(vcm),
                 KA(meta),      KA(a->out->mem), KA(a->B),    KA(a->T),  KA(a->H),
                 KA(a->Hkv),    KA(cap),       KA(span),      KA(S),     KA(scale),
                 KA(temp),      KA(p0),        KA(p1)};
    SWACL_TRY(set_args(be, k, ka, 18));
    size_t g[3] = {gx, gy, (size_t)a->B};
    size_t l[3] = {lx, 1, 1};
    return launch(be, k, 3, g, l);
}

static swacl_status cl_act(swacl_backend *base, swacl_ffn kind, swacl_buf *out,
                           const swacl_buf *gate, const swacl_buf *up, size_t n)
{
    cl_be *be = (cl_be *)base;
    swacl_ctx *ctx = base->ctx;
    SWACL_FAIL_IF(ctx, kind != SWACL_FFN_SWIGLU && kind != SWACL_FFN_GELU, SWACL_INVALID_ARG,
                  "act: unknown kind %d", (int)kind);
    if (n == 0) return SWACL_OK;
    SWACL_TRY(check_buf(be, "act", "out", out, n));
    SWACL_TRY(check_buf(be, "act", "gate", gate, n));
    cl_ulong nn = n;
    cl_kernel k;
    if (kind == SWACL_FFN_SWIGLU) {
        SWACL_TRY(check_buf(be, "act", "up", up, n));
        SWACL_TRY(get_kernel(be, "act", "", "act_swiglu", &k));
        karg a[] = {KA(out->mem), KA(gate->mem), KA(up->mem), KA(nn)};
        SWACL_TRY(set_args(be, k, a, 4));
    } else {
        SWACL_TRY(get_kernel(be, "act", "", "act_gelu", &k));
        karg a[] = {KA(out->mem), KA(gate->mem), KA(nn)};
        SWACL_TRY(set_args(be, k, a, 3));
    }
    size_t g = round_up(n, ELT_LX), l = ELT_LX;
    return launch(be, k, 1, &g, &l);
}

static swacl_status cl_add(swacl_backend *base, swacl_buf *y, const swacl_buf *x, size_t n)
{
    cl_be *be = (cl_be *)base;
    if (n == 0) return SWACL_OK;
    SWACL_TRY(check_buf(be, "add", "y", y, n));
    SWACL_TRY(check_buf(be, "add", "x", x, n));
    cl_kernel k;
    SWACL_TRY(get_kernel(be, "act", "", "elt_add", &k));
    cl_ulong nn = n;
    karg a[] = {KA(y->mem), KA(x->mem), KA(nn)};
    SWACL_TRY(set_args(be, k, a, 3));
    size_t g = round_up(n, ELT_LX), l = ELT_LX;
    return launch(be, k, 1, &g, &l);
}

static swacl_status cl_scale(swacl_backend *base, swacl_buf *y, float s, size_t n)
{
    cl_be *be = (cl_be *)base;
    if (n == 0) return SWACL_OK;
    SWACL_TRY(check_buf(be, "scale", "y", y, n));
    cl_kernel k;
    SWACL_TRY(get_kernel(be, "act", "", "elt_scale", &k));
    cl_ulong nn = n;
    karg a[] = {KA(y->mem), KA(s), KA(nn)};
    SWACL_TRY(set_args(be, k, a, 3));
    size_t g = round_up(n, ELT_LX), l = ELT_LX;
    return launch(be, k, 1, &g, &l);
}

static swacl_status gather(cl_be *be, const char *op, swacl_buf *dst, const swacl_buf *src,
                           const int *idx, int n, int width)
{
    swacl_ctx *ctx = be->base.ctx;
    SWACL_FAIL_IF(ctx, n < 0 || width < 0, SWACL_INVALID_ARG, "%s: bad shape n=%d width=%d", op,
                  n, width);
    if (n == 0 || width == 0) return SWACL_OK;
    SWACL_FAIL_IF(ctx, !idx, SWACL_INVALID_ARG, "%s: index array is NULL", op);
    SWACL_TRY(check_buf(be, op, "dst", dst, (size_t)n * width));
    SWACL_FAIL_IF(ctx, !src, SWACL_INVALID_ARG, "%s: src is NULL", op);
    size_t src_rows = src->size / sizeof(float) / (size_t)width;
    for (int i = 0; i < n; i++)
        SWACL_FAIL_IF(ctx, idx[i] < 0 || (size_t)idx[i] >= src_rows, SWACL_INVALID_ARG,
                      "%s: index %d at %d outside the %zu source rows", op, idx[i], i, src_rows);
    cl_mem im;
    SWACL_TRY(upload_small(be, idx, sizeof(int) * (size_t)n, &im));
    cl_kernel k;
    SWACL_TRY(get_kernel(be, "embed", "", "gather_rows", &k));
    karg a[] = {KA(dst->mem), KA(src->mem), KA(im), KA(n), KA(width)};
    SWACL_TRY(set_args(be, k, a, 5));
    size_t g[2] = {round_up((size_t)width, EMB_LX), (size_t)n}, l[2] = {EMB_LX, 1};
    return launch(be, k, 2, g, l);
}

static swacl_status cl_embed(swacl_backend *base, swacl_buf *out, const swacl_buf *table,
                             const int32_t *ids, int n, int D)
{
    return gather((cl_be *)base, "embed", out, table, (const int *)ids, n, D);
}

static swacl_status cl_gather_rows(swacl_backend *base, swacl_buf *dst, const swacl_buf *src,
                                   const int *rows, int n, int width)
{
    return gather((cl_be *)base, "gather_rows", dst, src, rows, n, width);
}

static swacl_status cl_kv_store(swacl_backend *base, swacl_buf *cache, const swacl_buf *src,
                                int B, int T, int cap, int width, const int *pos0,
                                const int *n_new)
{
    cl_be *be = (cl_be *)base;
    swacl_ctx *ctx = base->ctx;
    SWACL_FAIL_IF(ctx, B < 0 || T < 0 || cap < 1 || width < 0, SWACL_INVALID_ARG,
                  "kv_store: bad shape B=%d T=%d cap=%d width=%d", B, T, cap, width);
    if (B == 0 || T == 0 || width == 0) return SWACL_OK;
    SWACL_FAIL_IF(ctx, !pos0 || !n_new, SWACL_INVALID_ARG, "kv_store: pos0/n_new NULL");
    for (int b = 0; b < B; b++)
        SWACL_FAIL_IF(ctx, pos0[b] < 0 || n_new[b] < 0 || n_new[b] > T, SWACL_INVALID_ARG,
                      "kv_store: sequence %d has pos0 %d, n_new %d (T %d)", b, pos0[b],
                      n_new[b], T);
    SWACL_TRY(check_buf(be, "kv_store", "cache", cache, (size_t)B * cap * width));
    SWACL_TRY(check_buf(be, "kv_store", "src", src, (size_t)B * T * width));
    cl_mem meta;
    SWACL_TRY(upload_meta(be, pos0, n_new, B, T, &meta));
    cl_kernel k;
    SWACL_TRY(get_kernel(be, "embed", "", "kv_store", &k));
    karg a[] = {KA(cache->mem), KA(src->mem), KA(meta), KA(B), KA(T), KA(cap), KA(width)};
    SWACL_TRY(set_args(be, k, a, 7));
    size_t g[3] = {round_up((size_t)width, EMB_LX), (size_t)T, (size_t)B};
    size_t l[3] = {EMB_LX, 1, 1};
    return launch(be, k, 3, g, l);
}

static swacl_status cl_finish(swacl_backend *base)
{
    cl_be *be = (cl_be *)base;
    SWACL_CL(base->ctx, clFinish(be->dev.queue));
    return SWACL_OK;
}

/* ------------------------------------------------------------------------ */
/* transfers between pipeline stages                                         */

static const struct swacl_backend_i cl_iface;

static int cl_peer(const swacl_backend *a, const swacl_backend *b)
{
    if (!a || !b || a->iface != &cl_iface || b->iface != &cl_iface) return 0;
    return ((const cl_be *)a)->dev.context == ((const cl_be *)b)->dev.context;
}

static swacl_status cl_copy_peer(swacl_backend *base, swacl_buf *dst, const swacl_buf *src,
                                 size_t bytes, swacl_event *after)
{
    cl_be *be = (cl_be *)base;
    SWACL_FAIL_IF(base->ctx, !dst || !src || bytes > dst->size || bytes > src->size,
                  SWACL_INVALID_ARG, "copy_peer: %zu bytes between buffers of %zu and %zu", bytes,
                  src ? src->size : 0, dst ? dst->size : 0);
    if (!bytes) return SWACL_OK;
    cl_event w = (cl_event)after;
    SWACL_CL(base->ctx, clEnqueueCopyBuffer(be->dev.queue, src->mem, dst->mem, 0, 0, bytes,
                                            w ? 1 : 0, w ? &w : NULL, NULL));
    return SWACL_OK;
}

static swacl_status cl_mark(swacl_backend *base, swacl_event **ev)
{
    cl_be *be = (cl_be *)base;
    cl_event e = NULL;
    *ev = NULL;
    SWACL_CL(base->ctx, clEnqueueMarkerWithWaitList(be->dev.queue, 0, NULL, &e));
    cl_int err = clFlush(be->dev.queue); /* other queues may wait on e */
    if (err != CL_SUCCESS) {
        clReleaseEvent(e);
        return swacl_cl_fail(base->ctx, err, "clFlush", __FILE__, __LINE__);
    }
    *ev = (swacl_event *)e;
    return SWACL_OK;
}

static swacl_status cl_wait(swacl_backend *base, swacl_event *ev)
{
    cl_event e = (cl_event)ev;
    if (!e) return SWACL_OK;
    SWACL_CL(base->ctx, clWaitForEvents(1, &e));
    return SWACL_OK;
}

static double cl_elapsed(swacl_backend *base, swacl_event *a, swacl_event *b)
{
    (void)base;
    cl_ulong ta = 0, tb = 0;
    cl_event eb = (cl_event)b;
    if (!a || !b || clWaitForEvents(1, &eb) != CL_SUCCESS ||
        clGetEventProfilingInfo((cl_event)a, CL_PROFILING_COMMAND_END, sizeof ta, &ta, NULL) != CL_SUCCESS ||
        clGetEventProfilingInfo((cl_event)b, CL_PROFILING_COMMAND_END, sizeof tb, &tb, NULL) != CL_SUCCESS ||
        tb < ta)
        return -1.0;
    return (double)(tb - ta) * 1e-9;
}

static void cl_event_free(swacl_event *ev)
{
    if (ev) clReleaseEvent((cl_event)ev);
}

static swacl_status cl_host_alloc(swacl_backend *base, size_t bytes, swacl_buf **out, void **ptr)
{
    cl_be *be = (cl_be *)base;
    *ptr = NULL;
    /* ALLOC_HOST_PTR + map: page-locked memory on discrete GPUs, so reads
     * and writes through it run at DMA speed instead of via a bounce buffer */
    SWACL_TRY(buf_new(be, CL_MEM_READ_WRITE | CL_MEM_ALLOC_HOST_PTR, bytes,
                      "clCreateBuffer(pinned staging)", out));
    swacl_buf *b = *out;
    cl_int err = CL_SUCCESS;
    b->map = clEnqueueMapBuffer(be->dev.queue, b->mem, CL_TRUE, CL_MAP_READ | CL_MAP_WRITE, 0,
                                b->size ? b->size : 4, 0, NULL, NULL, &err);
    if (err != CL_SUCCESS || !b->map) {
        b->map = NULL;
        cl_buf_free(base, b);
        *out = NULL;
        return swacl_cl_fail(base->ctx, err != CL_SUCCESS ? err : CL_MAP_FAILURE,
                             "clEnqueueMapBuffer(pinned staging)", __FILE__, __LINE__);
    }
    *ptr = b->map;
    return SWACL_OK;
}

static void cl_host_free(swacl_backend *base, swacl_buf *b)
{
    cl_be *be = (cl_be *)base;
    if (!b) return;
    if (b->map) {
        /* wait for the unmap only, not for the whole queue */
        cl_event ev = NULL;
        if (clEnqueueUnmapMemObject(be->dev.queue, b->mem, b->map, 0, NULL, &ev) == CL_SUCCESS) {
            clWaitForEvents(1, &ev);
            clReleaseEvent(ev);
        }
    }
    cl_buf_free(base, b);
}

static void cl_free(swacl_backend *base)
{
    cl_be *be = (cl_be *)base;
    if (!be) return;
    if (be->dev_open && be->dev.queue) clFinish(be->dev.queue);
    for (int i = 0; i < SCRATCH_SLOTS; i++) {
        scratch_slot *s = &be->scratch[i];
        if (s->ev) clReleaseEvent(s->ev);
        if (s->mem) clReleaseMemObject(s->mem);
        free(s->host);
    }
    if (be->attn_part) clReleaseMemObject(be->attn_part);
    for (int i = 0; i < be->n_kc; i++) clReleaseKernel(be->kc[i].kernel);
    if (be->dev_open) swacl_cl_dev_close(&be->dev);
    if (be->live_bufs != 0) {
        /* a model or session outlived its context: its buffers are gone with
         * the OpenCL context, but the caller's handles now dangle */
        fprintf(stderr,
                "swacl: warning: %ld device buffer(s) (%zu bytes) were still allocated when the "
                "context was destroyed; destroy models and sessions first\n",
                be->live_bufs, be->live_bytes);
        const char *strict = swacl_env(SWACL_ENV_STRICT_LEAKS);
        if (strict && strict[0] == '1') abort(); /* CI: make it a failure */
    }
    free(be);
}

static const struct swacl_backend_i cl_iface = {
    .name = "opencl",
    .free = cl_free,
    .buf_alloc = cl_buf_alloc,
    .buf_free = cl_buf_free,
    .buf_write = cl_buf_write,
    .buf_read = cl_buf_read,
    .matmul = cl_matmul,
    .norm = cl_norm,
    .rope = cl_rope,
    .attention = cl_attention,
    .act = cl_act,
    .add = cl_add,
    .scale = cl_scale,
    .embed = cl_embed,
    .gather_rows = cl_gather_rows,
    .kv_store = cl_kv_store,
    .finish = cl_finish,
    .peer = cl_peer,
    .copy_peer = cl_copy_peer,
    .mark = cl_mark,
    .wait = cl_wait,
    .elapsed = cl_elapsed,
    .event_free = cl_event_free,
    .host_alloc = cl_host_alloc,
    .host_free = cl_host_free,
};

swacl_status swacl_cl_backend_create(swacl_ctx *ctx, const swacl_ctx_params *p,
                                     const swacl_share *share, swacl_backend **out)
{
    *out = NULL;
    cl_be *be = calloc(1, sizeof *be);
    SWACL_FAIL_IF(ctx, !be, SWACL_OUT_OF_MEMORY, "out of host memory");
    be->base.iface = &cl_iface;
    be->base.ctx = ctx;
    swacl_status st = swacl_cl_dev_open_shared(ctx, p, share, &be->dev);
    if (st != SWACL_OK) {
        free(be);
        return st;
    }
    be->dev_open = 1;
    /* CLBlast GEMM parameters from `swacl tune`, if this device has any */
    swacl_cl_tune_apply(ctx, &be->dev);
    if (be->dev.is_cpu) {
        /* PoCL-style CPU runtimes: small barrier groups (PERF.md 3) */
        be->attn_bq = 16;
        be->attn_bk_small = 32;
        be->attn_bk_large = 32;
        be->norm_per_row = 1;
        /* attn_fwd_blk (v5): explicit float8, register-blocked, no barriers;
         * several times faster than v2 / v3 on PoCL 3.1 (see attn.cl) */
        be->attn_kind = ATTN_K_BLK;
    } else {
        be->attn_bq = 32;
        be->attn_bk_small = 32;
        be->attn_bk_large = 16; /* 2 * 16 * 128 * 4 B = 16 KiB of local memory */
        be->norm_per_row = 0;
        be->attn_kind = ATTN_K_TILED;
    }
    be->attn_row_lx = 8;
    be->attn_blk_qb = 4;
    be->attn_blk_kt = 32;
    be->attn_blk_lx = 1;
    /* SWACL_ATTN_KERNEL=tiled|row overrides the per-device choice (tests
     * use it to cover both kernels on one device). Read once, here. */
    const char *ak = getenv("SWACL_ATTN_KERNEL");
    if (ak && !strcmp(ak, "tiled")) be->attn_kind = ATTN_K_TILED;
    if (ak && !strcmp(ak, "row")) be->attn_kind = ATTN_K_ROW;
    if (ak && !strcmp(ak, "blk")) be->attn_kind = ATTN_K_BLK;
    /* SWACL_NORM_KERNEL=row|wg: norm_row (one work-item per row, CPUs) or
     * norm_wg (work-group tree reduction, GPUs); tests cover both here */
    const char *nk = getenv("SWACL_NORM_KERNEL");
    if (nk && !strcmp(nk, "row")) be->norm_per_row = 1;
    if (nk && !strcmp(nk, "wg")) be->norm_per_row = 0;
    /* SWACL_ATTN_BLK=qb,kt,lx: attn_fwd_blk shape (benchmarks / tuning) */
    const char *ab = getenv("SWACL_ATTN_BLK");
    int qb, kt, lx;
    if (ab && sscanf(ab, "%d,%d,%d", &qb, &kt, &lx) == 3 && qb >= 2 && qb % 2 == 0 && qb <= 16 &&
        kt >= 8 && kt % 8 == 0 && kt <= 128 && lx >= 1 && lx <= 64) {
        be->attn_blk_qb = qb;
        be->attn_blk_kt = kt;
        be->attn_blk_lx = lx;
    }
    *out = &be->base;
    return SWACL_OK;
}

double swacl_cl_backend_compile_seconds(const swacl_backend *base, int *hits, int *misses)
{
    if (!base || base->iface != &cl_iface) {
        if (hits) *hits = 0;
        if (misses) *misses = 0;
        return 0.0;
    }
    const cl_be *be = (const cl_be *)base;
    if (hits) *hits = be->dev.cache_hits;
    if (misses) *misses = be->dev.cache_misses;
    return be->dev.compile_seconds;
}

const char *swacl_cl_backend_device_name(const swacl_backend *base)
{
    if (!base || base->iface != &cl_iface) return "";
    return ((const cl_be *)base)->dev.info.name;
}

swacl_cl_dev *swacl_cl_backend_dev(swacl_backend *base)
{
    if (!base || base->iface != &cl_iface) return NULL;
    return &((cl_be *)base)->dev;
}
