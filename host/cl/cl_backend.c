/*
 * cl_backend.c - struct swacl_backend_i on an OpenCL device.
 *
 * Buffers are cl_mem + size. Ops enqueue kernels from the kernels_cl/ files
 * on the device's in-order queue and never wait: finish() is the only
 * clFinish.
 * Reads and writes of whole buffers are blocking (the caller's host memory
 * may go away on return).
 *
 * Kernels are created lazily per (file, options, name) and kept in a small
 * table; programs belong to the device (swacl_cl_program caches them).
 *
 * Small host arrays (ids, pos0 / n_new, row indices, RoPE frequencies) go
 * through a ring of backend-owned scratch buffers: each slot has a host
 * shadow and a device buffer, written with a non-blocking write whose event
 * is waited on only when the slot comes round again (SWACL_CL_SCRATCH_SLOTS
 * ops later), so uploads never stall the queue.
 *
 * The ops themselves are launched from one file each (cl_ops.h lists
 * them); kernel variants and launch shapes come from the device class's row
 * of the parameter table with the context's overrides (cl_params.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl/cl_ops.h"
#include "cl/cl_params.h"
#include "cl/cl_tune_own.h"
#include "common/env.h"

/* ------------------------------------------------------------------------ */
/* kernels                                                                   */

swacl_status swacl_cl_kernel(swacl_cl_be *be, const char *file, const char *options,
                             const char *name, cl_kernel *out)
{
    swacl_ctx *ctx = be->base.ctx;
    for (int i = 0; i < be->n_kc; i++) {
        swacl_cl_kentry *e = &be->kc[i];
        if (!strcmp(e->name, name) && !strcmp(e->file, file) && !strcmp(e->options, options)) {
            *out = e->kernel;
            return SWACL_OK;
        }
    }
    SWACL_FAIL_IF(ctx, be->n_kc >= SWACL_CL_KCACHE_MAX, SWACL_INTERNAL,
                  "kernel cache full (%d entries) creating %s/%s", SWACL_CL_KCACHE_MAX, file, name);
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
    swacl_cl_kentry *e = &be->kc[be->n_kc++];
    snprintf(e->file, sizeof e->file, "%s", file);
    snprintf(e->options, sizeof e->options, "%s", options);
    snprintf(e->name, sizeof e->name, "%s", name);
    e->kernel = k;
    *out = k;
    return SWACL_OK;
}

swacl_status swacl_cl_set_args(swacl_cl_be *be, cl_kernel k, const swacl_karg *a, int n)
{
    for (int i = 0; i < n; i++)
        SWACL_CL(be->base.ctx, clSetKernelArg(k, (cl_uint)i, a[i].size, a[i].ptr));
    return SWACL_OK;
}

swacl_status swacl_cl_launch(swacl_cl_be *be, cl_kernel k, cl_uint dims, const size_t *global,
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

swacl_status swacl_cl_upload(swacl_cl_be *be, const void *src, size_t bytes, cl_mem *out)
{
    swacl_ctx *ctx = be->base.ctx;
    if (be->meta_slot == be->scratch_next) be->meta_valid = 0; /* overwritten below */
    swacl_cl_scratch *s = &be->scratch[be->scratch_next];
    be->scratch_next = (be->scratch_next + 1) % SWACL_CL_SCRATCH_SLOTS;
    if (s->ev) {
        /* the previous host->device copy from s->host must be complete */
        cl_int err = clWaitForEvents(1, &s->ev);
        clReleaseEvent(s->ev);
        s->ev = NULL;
        if (err != CL_SUCCESS) return swacl_cl_fail(ctx, err, "clWaitForEvents", __FILE__, __LINE__);
    }
    if (bytes == 0) bytes = 4;
    if (s->cap < bytes) {
        size_t cap = swacl_round_up(bytes > 256 ? bytes * 2 : 256, 64);
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

/* pos0[B] then n_new[B] (n_new may be NULL: all T). The same values as
 * the last call reuse its buffer while its slot holds them: a decode step
 * has ~3 of these per layer (KV store, attention), each upload a command
 * on the queue. The queue is in order, so readers queued before a slot's
 * next write still see the old values. */
swacl_status swacl_cl_upload_meta(swacl_cl_be *be, const int *pos0, const int *n_new, int B, int T,
                                  cl_mem *out)
{
    int stackbuf[64] = {0};
    int *m = 2 * B <= 64 ? stackbuf : malloc(sizeof(int) * 2 * (size_t)B);
    SWACL_FAIL_IF(be->base.ctx, !m, SWACL_OUT_OF_MEMORY, "out of host memory");
    for (int b = 0; b < B; b++) {
        m[b] = pos0 ? pos0[b] : 0;
        m[B + b] = n_new ? n_new[b] : T;
    }
    const size_t bytes = sizeof(int) * 2 * (size_t)B;
    if (m == stackbuf && be->meta_valid && be->meta_n == 2 * B &&
        memcmp(be->meta_val, m, bytes) == 0) {
        *out = be->scratch[be->meta_slot].mem;
        return SWACL_OK;
    }
    const int slot = be->scratch_next;
    swacl_status st = swacl_cl_upload(be, m, bytes, out);
    be->meta_valid = st == SWACL_OK && m == stackbuf;
    if (be->meta_valid) {
        be->meta_slot = slot;
        be->meta_n = 2 * B;
        memcpy(be->meta_val, m, bytes);
    }
    if (m != stackbuf) free(m);
    return st;
}

/* ------------------------------------------------------------------------ */
/* memory                                                                    */

swacl_status swacl_cl_check_buf(swacl_cl_be *be, const char *op, const char *what,
                                const swacl_buf *b, size_t n_floats)
{
    SWACL_FAIL_IF(be->base.ctx, !b, SWACL_INVALID_ARG, "%s: buffer %s is NULL", op, what);
    SWACL_FAIL_IF(be->base.ctx, n_floats > b->size / sizeof(float), SWACL_INVALID_ARG,
                  "%s: buffer %s holds %zu bytes, needs %zu", op, what, b->size,
                  n_floats * sizeof(float));
    return SWACL_OK;
}

swacl_status swacl_cl_check_rows(swacl_cl_be *be, const char *op, const char *what,
                                 const swacl_buf *w, size_t rows, int K)
{
    if (!w || w->wtype == SWACL_WT_F32) return swacl_cl_check_buf(be, op, what, w, rows * (size_t)K);
    SWACL_FAIL_IF(be->base.ctx, !swacl_wtype_fits(w->wtype, K), SWACL_INVALID_ARG,
                  "%s: %s is %s, whose rows need K %% 32 == 0 (K=%d)", op, what,
                  swacl_wtype_name(w->wtype), K);
    const size_t need = rows * swacl_wtype_row_bytes(w->wtype, K);
    SWACL_FAIL_IF(be->base.ctx, w->size < need, SWACL_INVALID_ARG,
                  "%s: buffer %s holds %zu bytes, needs %zu (%zu rows of %d %s values)", op, what,
                  w->size, need, rows, K, swacl_wtype_name(w->wtype));
    return SWACL_OK;
}

swacl_status swacl_cl_panel(swacl_cl_be *be, size_t bytes, cl_mem *out)
{
    if (be->mm_panel_bytes < bytes) {
        /* clReleaseMemObject defers the delete until queued users finish */
        if (be->mm_panel) clReleaseMemObject(be->mm_panel);
        be->mm_panel = NULL;
        be->mm_panel_bytes = 0;
        cl_int err = CL_SUCCESS;
        be->mm_panel = clCreateBuffer(be->dev.context, CL_MEM_READ_WRITE, bytes, NULL, &err);
        if (err != CL_SUCCESS)
            return swacl_cl_fail(be->base.ctx, err, "clCreateBuffer(matmul panel)", __FILE__,
                                 __LINE__);
        be->mm_panel_bytes = bytes;
    }
    *out = be->mm_panel;
    return SWACL_OK;
}

/* A counted buffer of `bytes` (live_bufs: see swacl_cl_be) with the given flags. */
static swacl_status buf_new(swacl_cl_be *be, cl_mem_flags flags, size_t bytes, const char *what,
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
    b->wtype = SWACL_WT_F32;
    be->live_bufs++;
    be->live_bytes += bytes;
    *out = b;
    return SWACL_OK;
}

static swacl_status cl_buf_alloc(swacl_backend *base, size_t bytes, swacl_buf **out)
{
    swacl_cl_be *be = (swacl_cl_be *)base;
    *out = NULL;
    SWACL_FAIL_IF(base->ctx, bytes > be->dev.info.max_alloc_bytes && be->dev.info.max_alloc_bytes,
                  SWACL_OUT_OF_MEMORY,
                  "buffer of %zu bytes exceeds the device's max allocation (%llu bytes)", bytes,
                  (unsigned long long)be->dev.info.max_alloc_bytes);
    return buf_new(be, CL_MEM_READ_WRITE, bytes, "clCreateBuffer", out);
}

/* 1 when the device reads host memory directly (CPU devices, integrated
 * GPUs) and p meets its base-address alignment: then CL_MEM_USE_HOST_PTR
 * lets the buffer live in p's pages (PoCL uses an aligned host pointer as
 * the buffer's storage) instead of a second copy. */
static int can_use_host_ptr(const swacl_cl_be *be, const void *p)
{
    cl_bool unified = CL_FALSE;
    cl_uint align_bits = 0;
    if (clGetDeviceInfo(be->dev.device, CL_DEVICE_HOST_UNIFIED_MEMORY, sizeof unified, &unified,
                        NULL) != CL_SUCCESS ||
        clGetDeviceInfo(be->dev.device, CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof align_bits,
                        &align_bits, NULL) != CL_SUCCESS)
        return 0;
    size_t align = align_bits >= 8 ? align_bits / 8 : 1;
    return unified == CL_TRUE && (uintptr_t)p % align == 0;
}

/* Weights are read-only on the device: in the host's pages where the device
 * shares them (may_borrow), else uploaded by the create itself
 * (COPY_HOST_PTR: no staging copy, no separate write). */
static swacl_status cl_weight_create(swacl_backend *base, swacl_wtype wt, const void *src,
                                     size_t bytes, int may_borrow, swacl_buf **out, int *borrowed)
{
    swacl_cl_be *be = (swacl_cl_be *)base;
    *out = NULL;
    if (borrowed) *borrowed = 0;
    SWACL_FAIL_IF(base->ctx, (int)wt <= 0 || wt >= SWACL_WT_COUNT, SWACL_INVALID_ARG,
                  "weight_create: bad storage type %d", (int)wt);
    SWACL_FAIL_IF(base->ctx, bytes > be->dev.info.max_alloc_bytes && be->dev.info.max_alloc_bytes,
                  SWACL_OUT_OF_MEMORY,
                  "weight buffer of %zu bytes exceeds the device's max allocation (%llu bytes)",
                  bytes, (unsigned long long)be->dev.info.max_alloc_bytes);
    swacl_ctx *ctx = base->ctx;
    swacl_buf *b = calloc(1, sizeof *b);
    SWACL_FAIL_IF(ctx, !b, SWACL_OUT_OF_MEMORY, "out of host memory");
    cl_int err = CL_SUCCESS;
    static const float zero = 0;
    const int lend = may_borrow && bytes && can_use_host_ptr(be, src);
    b->mem = clCreateBuffer(be->dev.context,
                            CL_MEM_READ_ONLY | (lend ? CL_MEM_USE_HOST_PTR : CL_MEM_COPY_HOST_PTR),
                            bytes ? bytes : 4, (void *)(bytes ? src : &zero), &err);
    if (err != CL_SUCCESS) {
        free(b);
        return swacl_cl_fail(ctx, err, "clCreateBuffer(weights)", __FILE__, __LINE__);
    }
    b->size = bytes;
    b->wtype = wt;
    if (borrowed) *borrowed = lend;
    be->live_bufs++;
    be->live_bytes += bytes;
    *out = b;
    return SWACL_OK;
}

static void cl_buf_free(swacl_backend *base, swacl_buf *b)
{
    swacl_cl_be *be = (swacl_cl_be *)base;
    if (!b) return;
    if (b->mem) clReleaseMemObject(b->mem);
    be->live_bufs--;
    be->live_bytes -= b->size;
    free(b);
}

static swacl_status cl_buf_write(swacl_backend *base, swacl_buf *b, size_t off, const void *src,
                                 size_t bytes)
{
    swacl_cl_be *be = (swacl_cl_be *)base;
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
    swacl_cl_be *be = (swacl_cl_be *)base;
    SWACL_FAIL_IF(base->ctx, !b || off > b->size || bytes > b->size - off, SWACL_INVALID_ARG,
                  "buf_read: %zu bytes at %zu outside a %zu-byte buffer", bytes, off,
                  b ? b->size : 0);
    if (!bytes) return SWACL_OK;
    SWACL_CL(base->ctx,
             clEnqueueReadBuffer(be->dev.queue, b->mem, CL_TRUE, off, bytes, dst, 0, NULL, NULL));
    return SWACL_OK;
}

static swacl_status cl_finish(swacl_backend *base)
{
    swacl_cl_be *be = (swacl_cl_be *)base;
    SWACL_CL(base->ctx, clFinish(be->dev.queue));
    return SWACL_OK;
}

/* ------------------------------------------------------------------------ */
/* transfers between pipeline stages                                         */

static const struct swacl_backend_i cl_iface;

static int cl_peer(const swacl_backend *a, const swacl_backend *b)
{
    if (!a || !b || a->iface != &cl_iface || b->iface != &cl_iface) return 0;
    return ((const swacl_cl_be *)a)->dev.context == ((const swacl_cl_be *)b)->dev.context;
}

static swacl_status cl_copy_peer(swacl_backend *base, swacl_buf *dst, const swacl_buf *src,
                                 size_t bytes, swacl_event *after)
{
    swacl_cl_be *be = (swacl_cl_be *)base;
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
    swacl_cl_be *be = (swacl_cl_be *)base;
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
    swacl_cl_be *be = (swacl_cl_be *)base;
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
    swacl_cl_be *be = (swacl_cl_be *)base;
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
    swacl_cl_be *be = (swacl_cl_be *)base;
    if (!be) return;
    if (be->dev_open && be->dev.queue) clFinish(be->dev.queue);
    for (int i = 0; i < SWACL_CL_SCRATCH_SLOTS; i++) {
        swacl_cl_scratch *s = &be->scratch[i];
        if (s->ev) clReleaseEvent(s->ev);
        if (s->mem) clReleaseMemObject(s->mem);
        free(s->host);
    }
    if (be->attn_part) clReleaseMemObject(be->attn_part);
    if (be->attn_kh) clReleaseMemObject(be->attn_kh);
    if (be->attn_vh) clReleaseMemObject(be->attn_vh);
    if (be->mm_panel) clReleaseMemObject(be->mm_panel);
    for (int i = 0; i < SWACL_CL_ROPE_TABS; i++) {
        if (be->rope_tab[i].mem) clReleaseMemObject(be->rope_tab[i].mem);
        free(be->rope_tab[i].key);
    }
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

/* What the kernels cannot run, refused when the model is created rather
 * than at its first forward pass. */
static swacl_status cl_check_config(swacl_backend *base, const swacl_config *c)
{
    swacl_cl_be *be = (swacl_cl_be *)base;
    SWACL_FAIL_IF(base->ctx, !swacl_cl_head_dim_ok(c->head_dim), SWACL_UNSUPPORTED,
                  "head_dim %d is not supported by the OpenCL device '%s' (supported: multiples "
                  "of 4 from %d to %d)",
                  c->head_dim, be->dev.info.name, SWACL_CL_HEAD_DIM_MIN, SWACL_CL_HEAD_DIM_MAX);
    return SWACL_OK;
}

static const struct swacl_backend_i cl_iface = {
    .name = "opencl",
    .free = cl_free,
    .buf_alloc = cl_buf_alloc,
    .buf_free = cl_buf_free,
    .buf_write = cl_buf_write,
    .buf_read = cl_buf_read,
    .weight_create = cl_weight_create,
    .matmul = swacl_cl_op_matmul,
    .norm = swacl_cl_op_norm,
    .rope = swacl_cl_op_rope,
    .attention = swacl_cl_op_attention,
    .act = swacl_cl_op_act,
    .add = swacl_cl_op_add,
    .scale = swacl_cl_op_scale,
    .softcap = swacl_cl_op_softcap,
    .embed = swacl_cl_op_embed,
    .gather_rows = swacl_cl_op_gather_rows,
    .kv_store = swacl_cl_op_kv_store,
    .finish = cl_finish,
    .peer = cl_peer,
    .copy_peer = cl_copy_peer,
    .mark = cl_mark,
    .wait = cl_wait,
    .elapsed = cl_elapsed,
    .event_free = cl_event_free,
    .host_alloc = cl_host_alloc,
    .host_free = cl_host_free,
    .check_config = cl_check_config,
    .matmul_multi = swacl_cl_op_matmul_multi,
    .matmul_glu = swacl_cl_op_matmul_glu,
};

swacl_status swacl_cl_backend_create(swacl_ctx *ctx, const swacl_ctx_params *p,
                                     const swacl_share *share, swacl_backend **out)
{
    *out = NULL;
    swacl_cl_be *be = calloc(1, sizeof *be);
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
    /* kernel variants and launch shapes: the device class's table row with
     * the context's overrides (p->kernels, range-checked by ctx create) */
    st = swacl_kernel_params_resolve(ctx, &be->dev.info, &p->kernels, &be->kp, &be->kp_row);
    be->gp = *swacl_gemm_params_row(&be->dev.info);
    swacl_cl_gemm_own_apply(&be->dev, &be->gp); /* `swacl tune --own`'s file, if any */
    if (st != SWACL_OK) {
        cl_free(&be->base);
        return st;
    }
    be->gemv_rows = swacl_gemv_params_row(&be->dev.info)->f32_rows;
    if (be->dev.verbose)
        fprintf(stderr,
                "swacl: kernel parameters (row '%s'): attention %s (bq %d bk %d/%d, row lx %d, "
                "blk qb %d kt %d lx %d), norm %s (wg %d, row lx %d)\n",
                be->kp_row, swacl_attn_kernel_name(be->kp.attn), be->kp.attn_bq, be->kp.attn_bk,
                be->kp.attn_bk_d128, be->kp.attn_row_lx, be->kp.attn_blk_qb, be->kp.attn_blk_kt,
                be->kp.attn_blk_lx, swacl_norm_kernel_name(be->kp.norm), be->kp.norm_wg_lx,
                be->kp.norm_row_lx);
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
    const swacl_cl_be *be = (const swacl_cl_be *)base;
    if (hits) *hits = be->dev.cache_hits;
    if (misses) *misses = be->dev.cache_misses;
    return be->dev.compile_seconds;
}

const swacl_kernel_params *swacl_cl_backend_kernel_params(const swacl_backend *base)
{
    if (!base || base->iface != &cl_iface) return NULL;
    return &((const swacl_cl_be *)base)->kp;
}

swacl_gemm_params *swacl_cl_backend_gemm_params(swacl_backend *base)
{
    if (!base || base->iface != &cl_iface) return NULL;
    return &((swacl_cl_be *)base)->gp;
}

swacl_status swacl_cl_backend_force_gemv_rows(swacl_backend *base, int rows)
{
    if (!base || base->iface != &cl_iface || (rows != 1 && rows != 2 && rows != 4 && rows != 8))
        return SWACL_INVALID_ARG;
    ((swacl_cl_be *)base)->gemv_rows = rows;
    return SWACL_OK;
}

const char *swacl_cl_backend_device_name(const swacl_backend *base)
{
    if (!base || base->iface != &cl_iface) return "";
    return ((const swacl_cl_be *)base)->dev.info.name;
}

swacl_cl_dev *swacl_cl_backend_dev(swacl_backend *base)
{
    if (!base || base->iface != &cl_iface) return NULL;
    return &((swacl_cl_be *)base)->dev;
}
