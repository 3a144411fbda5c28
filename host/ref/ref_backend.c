/*
 * ref_backend.c - the CPU reference backend ("ref"): buffers, the vtable and
 * construction. The ops live one per file, named like their kernels_cl/
 * file (matmul.c, norm.c, rope.c, attn.c, act.c, add.c, scale.c, embed.c,
 * kv_store.c): plain C loops, double accumulation for every dot product and
 * every norm statistic. It is the oracle the OpenCL backend is checked against, so the
 * math is kept visible (docs/MODEL.md 1.2-1.6) rather than clever.
 *
 * Speed: OpenMP over output elements (matmul), rows (norm, rope) and
 * (sequence, head, tile of 16 queries) (attention, so each key row is read
 * once per tile); dot products use eight independent double accumulators
 * for instruction-level parallelism. An 8-layer hidden-256 model at T = 4096
 * takes about 10 CPU-seconds (all-window) to 24 (all-global) per forward.
 *
 * Buffers are host memory: struct swacl_buf = malloc'd bytes + size. Every op
 * checks that its buffers are large enough for the shapes it is given, so a
 * shape bug in the graph shows up here as SWACL_INVALID_ARG with a message
 * instead of as a silent out-of-bounds access.
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/env.h"
#include "ref/ref_internal.h"

/* Check that buf exists and holds at least n floats. */
swacl_status swacl_ref_need(swacl_backend *be, const char *op, const char *what,
                            const swacl_buf *buf, size_t n)
{
    if (!buf)
        return swacl_set_error(be->ctx, SWACL_INVALID_ARG, "ref %s: buffer '%s' is NULL", op, what);
    if (buf->bytes / sizeof(float) < n)
        return swacl_set_error(be->ctx, SWACL_INVALID_ARG,
                               "ref %s: buffer '%s' holds %zu bytes, needs %zu floats (%zu bytes)",
                               op, what, buf->bytes, n, n * sizeof(float));
    return SWACL_OK;
}

swacl_status swacl_ref_need_rows(swacl_backend *be, const char *op, const char *what,
                                 const swacl_buf *w, size_t rows, int K)
{
    if (!w || w->wtype == SWACL_WT_F32 || w->wtype == SWACL_WT_AUTO)
        return swacl_ref_need(be, op, what, w, rows * (size_t)K);
    SWACL_FAIL_IF(be->ctx, !swacl_wtype_fits(w->wtype, K), SWACL_INVALID_ARG,
                  "ref %s: '%s' is %s, whose rows need K %% 32 == 0 (K=%d)", op, what,
                  swacl_wtype_name(w->wtype), K);
    const size_t need = rows * swacl_wtype_row_bytes(w->wtype, K);
    SWACL_FAIL_IF(be->ctx, w->bytes < need, SWACL_INVALID_ARG,
                  "ref %s: buffer '%s' holds %zu bytes, needs %zu (%zu rows of %d %s values)", op,
                  what, w->bytes, need, rows, K, swacl_wtype_name(w->wtype));
    return SWACL_OK;
}

/* ------------------------------------------------------------------------ */
/* Memory.                                                                   */

static swacl_status ref_buf_alloc(swacl_backend *be, size_t bytes, swacl_buf **out)
{
    if (!out) return swacl_set_error(be->ctx, SWACL_INVALID_ARG, "ref buf_alloc: out is NULL");
    *out = NULL;
    swacl_buf *b = malloc(sizeof *b);
    /* calloc: fresh buffers read as zeros (deterministic); >= 1 byte so a
     * zero-size buffer is still a valid pointer */
    unsigned char *d = b ? calloc(bytes ? bytes : 1, 1) : NULL;
    if (!b || !d) {
        free(b);
        return swacl_set_error(be->ctx, SWACL_OUT_OF_MEMORY,
                               "ref buf_alloc: cannot allocate %zu bytes of host memory", bytes);
    }
    b->bytes = bytes;
    b->data = d;
    b->wtype = SWACL_WT_F32;
    b->borrowed = 0;
    ((ref_backend *)be)->live_bufs++;
    ((ref_backend *)be)->live_bytes += bytes;
    *out = b;
    return SWACL_OK;
}

static void ref_buf_free(swacl_backend *be, swacl_buf *buf)
{
    if (!buf) return;
    ((ref_backend *)be)->live_bufs--;
    ((ref_backend *)be)->live_bytes -= buf->bytes;
    if (!buf->borrowed) free(buf->data);
    free(buf);
}

/* off + bytes <= size, written so that it cannot overflow. */
static int in_range(const swacl_buf *buf, size_t off, size_t bytes)
{
    return off <= buf->bytes && bytes <= buf->bytes - off;
}

static swacl_status ref_buf_write(swacl_backend *be, swacl_buf *buf, size_t off_bytes,
                                  const void *src, size_t bytes)
{
    SWACL_FAIL_IF(be->ctx, !buf || (!src && bytes), SWACL_INVALID_ARG,
                  "ref buf_write: NULL buffer or source");
    SWACL_FAIL_IF(be->ctx, !in_range(buf, off_bytes, bytes), SWACL_INVALID_ARG,
                  "ref buf_write: range [%zu, %zu + %zu) outside a buffer of %zu bytes", off_bytes,
                  off_bytes, bytes, buf->bytes);
    if (bytes) memcpy(buf->data + off_bytes, src, bytes);
    return SWACL_OK;
}

static swacl_status ref_buf_read(swacl_backend *be, const swacl_buf *buf, size_t off_bytes,
                                 void *dst, size_t bytes)
{
    SWACL_FAIL_IF(be->ctx, !buf || (!dst && bytes), SWACL_INVALID_ARG,
                  "ref buf_read: NULL buffer or destination");
    SWACL_FAIL_IF(be->ctx, !in_range(buf, off_bytes, bytes), SWACL_INVALID_ARG,
                  "ref buf_read: range [%zu, %zu + %zu) outside a buffer of %zu bytes", off_bytes,
                  off_bytes, bytes, buf->bytes);
    if (bytes) memcpy(dst, buf->data + off_bytes, bytes);
    return SWACL_OK;
}

/* Host memory is the reference's memory: a borrowed weight is read in place. */
static swacl_status ref_weight_create(swacl_backend *be, swacl_wtype wt, const void *src,
                                      size_t bytes, int may_borrow, swacl_buf **out, int *borrowed)
{
    SWACL_FAIL_IF(be->ctx, (int)wt <= 0 || wt >= SWACL_WT_COUNT, SWACL_INVALID_ARG,
                  "ref weight_create: bad storage type %d", (int)wt);
    if (borrowed) *borrowed = 0;
    if (may_borrow && src && bytes) {
        swacl_buf *b = malloc(sizeof *b);
        SWACL_FAIL_IF(be->ctx, !b, SWACL_OUT_OF_MEMORY, "ref weight_create: out of host memory");
        *b = (swacl_buf){bytes, (unsigned char *)(uintptr_t)src, wt, 1};
        ((ref_backend *)be)->live_bufs++;
        ((ref_backend *)be)->live_bytes += bytes;
        if (borrowed) *borrowed = 1;
        *out = b;
        return SWACL_OK;
    }
    SWACL_TRY(ref_buf_alloc(be, bytes, out));
    (*out)->wtype = wt;
    if (bytes) memcpy((*out)->data, src, bytes);
    return SWACL_OK;
}

/* Synchronous backend: nothing is ever queued. */
static swacl_status ref_finish(swacl_backend *be)
{
    (void)be;
    return SWACL_OK;
}

/* ------------------------------------------------------------------------ */
/* Construction.                                                             */

static void ref_free(swacl_backend *be)
{
    const ref_backend *rb = (const ref_backend *)be;
    if (rb->live_bufs != 0) {
        /* as the OpenCL backend: the caller's model/session handles now
         * dangle (their buffers leak; destroying them would touch freed
         * memory) */
        fprintf(stderr,
                "swacl: warning: %ld reference buffer(s) (%zu bytes) were still allocated when the "
                "context was destroyed; destroy models and sessions first\n",
                rb->live_bufs, rb->live_bytes);
        const char *strict = swacl_env(SWACL_ENV_STRICT_LEAKS);
        if (strict && strict[0] == '1') abort(); /* CI: make it a failure */
    }
    free(be);
}

static const struct swacl_backend_i ref_iface = {
    /* .name        = */ "ref",
    /* .free        = */ ref_free,
    /* .buf_alloc   = */ ref_buf_alloc,
    /* .buf_free    = */ ref_buf_free,
    /* .buf_write   = */ ref_buf_write,
    /* .buf_read    = */ ref_buf_read,
    /* .weight_create = */ ref_weight_create,
    /* .matmul      = */ swacl_ref_matmul,
    /* .norm        = */ swacl_ref_norm,
    /* .rope        = */ swacl_ref_rope,
    /* .attention   = */ swacl_ref_attention,
    /* .act         = */ swacl_ref_act,
    /* .add         = */ swacl_ref_add,
    /* .scale       = */ swacl_ref_scale,
    /* .softcap     = */ swacl_ref_softcap,
    /* .embed       = */ swacl_ref_embed,
    /* .gather_rows = */ swacl_ref_gather_rows,
    /* .kv_store    = */ swacl_ref_kv_store,
    /* .finish      = */ ref_finish,
    /* transfers: the pipeline stages a reference stage through host memory */
    /* .peer        = */ NULL,
    /* .copy_peer   = */ NULL,
    /* .mark        = */ NULL,
    /* .wait        = */ NULL,
    /* .elapsed     = */ NULL,
    /* .event_free  = */ NULL,
    /* .host_alloc  = */ NULL,
    /* .host_free   = */ NULL,
    /* .check_config = */ NULL, /* the reference runs every valid config */
    /* .matmul_multi = */ swacl_ref_matmul_multi,
    /* .matmul_glu  = */ swacl_ref_matmul_glu,
};

swacl_status swacl_ref_backend_create(swacl_ctx *ctx, int threads, swacl_backend **out)
{
    if (!out) return swacl_set_error(ctx, SWACL_INVALID_ARG, "ref backend: out is NULL");
    *out = NULL;
    SWACL_FAIL_IF(ctx, threads < 0, SWACL_INVALID_ARG, "ref backend: threads=%d must be >= 0",
                  threads);
    ref_backend *rb = calloc(1, sizeof *rb);
    SWACL_FAIL_IF(ctx, !rb, SWACL_OUT_OF_MEMORY, "ref backend: out of memory");
    rb->base.iface = &ref_iface;
    rb->base.ctx = ctx;
    rb->threads = threads > 0 ? threads : omp_get_max_threads();
    if (rb->threads < 1) rb->threads = 1;
    *out = &rb->base;
    return SWACL_OK;
}
