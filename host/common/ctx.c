/*
 * ctx.c - the context: one backend (OpenCL device or CPU reference) plus the
 * last error message. A failed create still hands back an error-only context
 * so the caller can read why (sqlite3_open style).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <stddef.h>

#include "cl/cl_params.h"
#include "internal.h"

/* The smallest struct_size accepted: the first layout that had the field
 * (this one). A later header appends fields and keeps this value, so its
 * library can still read callers built against this header. */
#define CTX_PARAMS_MIN_SIZE offsetof(swacl_ctx_params, lazy_weights)

swacl_ctx_params swacl_ctx_params_default(void)
{
    swacl_ctx_params p;
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    return p;
}

/* Keep a copy of the creation parameters, strings included: the caller's
 * strings are borrowed only for the duration of swacl_ctx_create. */
static swacl_status remember_params(swacl_ctx *ctx, const swacl_ctx_params *params)
{
    ctx->params = params ? *params : swacl_ctx_params_default();
    const char **fields[3] = {&ctx->params.device, &ctx->params.kernel_dir,
                              &ctx->params.cache_dir};
    for (int i = 0; i < 3; i++) {
        if (!*fields[i]) continue;
        size_t n = strlen(*fields[i]) + 1;
        ctx->param_strs[i] = malloc(n);
        if (!ctx->param_strs[i]) return SWACL_OUT_OF_MEMORY;
        memcpy(ctx->param_strs[i], *fields[i], n);
        *fields[i] = ctx->param_strs[i];
    }
    return SWACL_OK;
}

swacl_status swacl_ctx_create(const swacl_ctx_params *params, swacl_ctx **out)
{
    return swacl_ctx_create_shared(params, NULL, out);
}

swacl_status swacl_ctx_create_shared(const swacl_ctx_params *params, const swacl_share *share,
                                     swacl_ctx **out)
{
    if (!out) return SWACL_INVALID_ARG;
    *out = NULL;
    swacl_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return SWACL_OUT_OF_MEMORY;
    *out = ctx;
    swacl_ctx_params p = swacl_ctx_params_default();
    if (params) {
        /* a caller's struct may be shorter (an older header): its fields over
         * the defaults; a longer one comes from a newer header */
        size_t n = params->struct_size ? params->struct_size : sizeof p;
        if (n < CTX_PARAMS_MIN_SIZE || n > sizeof p)
            return swacl_set_error(ctx, SWACL_INVALID_ARG,
                                   "params.struct_size = %zu: this library takes %zu..%zu (set it "
                                   "with swacl_ctx_params_default())",
                                   n, (size_t)CTX_PARAMS_MIN_SIZE, sizeof p);
        memcpy(&p, params, n);
        p.struct_size = sizeof p;
    }
    SWACL_TRY(swacl_kernel_params_check(ctx, &p.kernels));
    SWACL_FAIL_IF(ctx, p.kv_type != SWACL_WT_AUTO && p.kv_type != SWACL_WT_F32 && p.kv_type != SWACL_WT_F16,
                  SWACL_INVALID_ARG, "kv_type %d: the KV cache is stored as f32 or f16 (or AUTO)",
                  (int)p.kv_type);
    if (remember_params(ctx, &p) != SWACL_OK) {
        *out = NULL;
        swacl_ctx_destroy(ctx);
        return SWACL_OUT_OF_MEMORY;
    }
    p = ctx->params;
    /* a fixed bound, not the core count: libgomp crashes (100000) or aborts
     * with its own out-of-memory message (INT_MAX) on absurd team sizes */
    if (p.threads < 0 || p.threads > SWACL_MAX_THREADS)
        return swacl_set_error(ctx, SWACL_INVALID_ARG, "threads = %d: must be in 0..%d (0 = all cores)",
                               p.threads, SWACL_MAX_THREADS);
    swacl_status st;
    if (p.device && strcasecmp(p.device, "ref") == 0) {
        ctx->is_ref = 1;
        st = swacl_ref_backend_create(ctx, p.threads, &ctx->be);
        snprintf(ctx->device_name, sizeof ctx->device_name, "cpu-reference");
    } else {
        st = swacl_cl_backend_create(ctx, &p, share, &ctx->be);
        if (st == SWACL_OK)
            snprintf(ctx->device_name, sizeof ctx->device_name, "%s",
                     swacl_cl_backend_device_name(ctx->be));
    }
    if (st != SWACL_OK) {
        ctx->be = NULL;
        if (!ctx->errmsg[0])
            swacl_set_error(ctx, st, "creating the %s backend failed: %s",
                            ctx->is_ref ? "reference" : "OpenCL", swacl_status_string(st));
        return st;
    }
    ctx->errmsg[0] = 0;
    return SWACL_OK;
}

void swacl_ctx_destroy(swacl_ctx *ctx)
{
    if (!ctx) return;
    if (ctx->be) ctx->be->iface->free(ctx->be);
    for (int i = 0; i < 3; i++) free(ctx->param_strs[i]);
    free(ctx);
}

swacl_status swacl_ctx_kernel_params(swacl_ctx *ctx, swacl_kernel_params *out)
{
    if (!ctx) return SWACL_INVALID_ARG;
    SWACL_FAIL_IF(ctx, !out, SWACL_INVALID_ARG, "swacl_ctx_kernel_params: out is NULL");
    SWACL_FAIL_IF(ctx, !ctx->be, SWACL_INVALID_ARG,
                  "swacl_ctx_kernel_params: the context failed to open a device");
    const swacl_kernel_params *k = swacl_cl_backend_kernel_params(ctx->be);
    SWACL_FAIL_IF(ctx, !k, SWACL_UNSUPPORTED,
                  "swacl_ctx_kernel_params: the %s backend runs no OpenCL kernels",
                  ctx->be->iface->name);
    *out = *k;
    return SWACL_OK;
}

const char *swacl_ctx_device_name(const swacl_ctx *ctx) { return ctx ? ctx->device_name : ""; }

int swacl_ctx_is_reference(const swacl_ctx *ctx) { return ctx ? ctx->is_ref : 0; }

double swacl_ctx_compile_seconds(const swacl_ctx *ctx, int *cache_hits, int *cache_misses)
{
    if (cache_hits) *cache_hits = 0;
    if (cache_misses) *cache_misses = 0;
    if (!ctx || !ctx->be || ctx->is_ref) return 0.0;
    return swacl_cl_backend_compile_seconds(ctx->be, cache_hits, cache_misses);
}

/* The enumeration lives with the OpenCL backend; its message goes to ctx. */
swacl_status swacl_devices_list(swacl_ctx *ctx, swacl_device_info **out, int *n)
{
    char err[1024] = "";
    swacl_status st = swacl_cl_devices_list(out, n, err, sizeof err);
    return st == SWACL_OK ? SWACL_OK : swacl_copy_error(ctx, st, err);
}
