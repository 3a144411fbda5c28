/*
 * bench_start.c - cold vs warm start: what a user waits for before the
 * first output, once with an empty program-binary cache (every kernel
 * compiles) and once with the cache that first run filled.
 */
#define _XOPEN_SOURCE 700

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_internal.h"
#include "common/env.h"

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* ctx create + model create + a 64-token forward on a fresh context using
 * cache dir `cache`; errors are copied to err_ctx. */
static swacl_status one_start(swacl_ctx *err_ctx, const char *device, const char *cache,
                              const swacl_config *cfg, const swacl_weights *w, double *secs,
                              double *compile_s, int *hits, int *misses)
{
    swacl_ctx_params p = swacl_ctx_params_default();
    p.device = device;
    p.cache_dir = cache;
    swacl_ctx *ctx = NULL;
    swacl_model *m = NULL;
    int32_t ids[64];
    float *out = malloc((size_t)swacl_output_size(cfg) * sizeof *out);
    swacl_bench_random_ids(ids, 64, cfg->vocab_size, 5);
    double t0 = swacl_now();
    swacl_status st = out ? swacl_ctx_create(&p, &ctx) : SWACL_OUT_OF_MEMORY;
    if (st == SWACL_OK) st = swacl_model_create(ctx, cfg, w, &m);
    swacl_input in = {1, 64, ids, NULL};
    if (st == SWACL_OK) st = swacl_model_forward(m, &in, 0, out);
    *secs = swacl_now() - t0;
    if (ctx) *compile_s = swacl_ctx_compile_seconds(ctx, hits, misses);
    if (st != SWACL_OK)
        swacl_set_error(err_ctx, st, "%s", ctx ? swacl_ctx_errmsg(ctx) : "out of host memory");
    swacl_model_destroy(m);
    swacl_ctx_destroy(ctx);
    free(out);
    return st;
}

swacl_status swacl_bench_start(swacl_ctx *ctx, const char *device,
                               const swacl_bench_params *params, swacl_bench_start_result *out)
{
    if (!out) return swacl_set_error(ctx, SWACL_INVALID_ARG, "bench start: NULL argument");
    memset(out, 0, sizeof *out);
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/swacl-bench-XXXXXX", swacl_env_tmpdir());
    if (!mkdtemp(dir))
        return swacl_set_error(ctx, SWACL_IO, "%s", strerror(errno));
    swacl_config cfg;
    swacl_weights *w = NULL;
    swacl_status st = swacl_preset("cohere2", &cfg);
    if (st == SWACL_OK) st = swacl_weights_create_random(&cfg, 3, &w);
    if (st != SWACL_OK)
        swacl_set_error(ctx, st, "bench start: cohere2 weights: %s", swacl_status_string(st));
    if (st == SWACL_OK)
        st = one_start(ctx, device, dir, &cfg, w, &out->cold_s, &out->cold_compile_s,
                       &out->cold_cache_hits, &out->cold_cache_misses);
    if (st == SWACL_OK)
        st = one_start(ctx, device, dir, &cfg, w, &out->warm_s, &out->warm_compile_s,
                       &out->warm_cache_hits, &out->warm_cache_misses);
    if (st == SWACL_OK)
        swacl_bench_say(params ? params->progress : NULL, params ? params->user : NULL,
                        "start: cold %.2f s (compile %.2f s, %d builds), warm %.2f s "
                        "(compile %.2f s, %d cache hits)",
                        out->cold_s, out->cold_compile_s, out->cold_cache_misses, out->warm_s,
                        out->warm_compile_s, out->warm_cache_hits);
    swacl_weights_destroy(w);
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    return st;
}
