/*
 * bench_start.c - cold vs warm start: what a user waits for from the
 * command to its exit, once with an empty program-binary cache (every
 * kernel compiles) and once with the cache that first run filled, with the
 * warm run split by phase (load, context, model, forward, teardown).
 */
#define _XOPEN_SOURCE 700

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench_internal.h"
#include "common/env.h"

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* (load model_dir +) ctx create + model create + a 64-token forward +
 * teardown on a fresh context using cache dir `cache`; cfg / w: the preset
 * when model_dir is NULL. Phases go to r (warm_*), errors to err_ctx. */
static swacl_status one_start(swacl_ctx *err_ctx, const char *device, const char *cache,
                              const char *model_dir, const swacl_config *pcfg,
                              const swacl_weights *pw, swacl_bench_start_result *r,
                              double *secs, double *compile_s, int *hits, int *misses)
{
    swacl_ctx_params p = swacl_ctx_params_default();
    p.device = device;
    p.cache_dir = cache;
    swacl_ctx *ctx = NULL;
    swacl_model *m = NULL;
    swacl_config lcfg;
    swacl_weights *lw = NULL;
    const swacl_config *cfg = pcfg;
    const swacl_weights *w = pw;
    float *out = NULL;
    int32_t ids[64];
    double c0 = cpu_now(), t0 = swacl_now(), t = t0, tn;
    swacl_status st = SWACL_OK;
    if (model_dir) {
        st = swacl_load_hf(err_ctx, model_dir, &lcfg, &lw);
        cfg = &lcfg;
        w = lw;
    }
    tn = swacl_now(), r->warm_load_s = tn - t, t = tn;
    if (st == SWACL_OK) st = swacl_ctx_create(&p, &ctx);
    tn = swacl_now(), r->warm_ctx_s = tn - t, t = tn;
    if (st == SWACL_OK) st = swacl_model_create(ctx, cfg, w, &m);
    tn = swacl_now(), r->warm_model_s = tn - t, t = tn;
    if (st == SWACL_OK && !(out = malloc((size_t)swacl_output_size(cfg) * sizeof *out)))
        st = SWACL_OUT_OF_MEMORY;
    if (st == SWACL_OK) {
        swacl_bench_random_ids(ids, 64, cfg->vocab_size, 5);
        swacl_input in = {1, 64, ids, NULL};
        st = swacl_model_forward(m, &in, 0, out);
    }
    tn = swacl_now(), r->warm_forward_s = tn - t, t = tn;
    if (ctx) *compile_s = swacl_ctx_compile_seconds(ctx, hits, misses);
    if (st != SWACL_OK && ctx && model_dir == NULL)
        swacl_set_error(err_ctx, st, "%s", swacl_ctx_errmsg(ctx));
    else if (st != SWACL_OK && ctx)
        swacl_set_error(err_ctx, st, "%s: %s", model_dir, swacl_ctx_errmsg(ctx));
    else if (st == SWACL_OUT_OF_MEMORY)
        swacl_set_error(err_ctx, st, "out of host memory");
    swacl_model_destroy(m);
    swacl_ctx_destroy(ctx);
    swacl_weights_destroy(lw);
    free(out);
    tn = swacl_now(), r->warm_teardown_s = tn - t;
    *secs = tn - t0;
    r->warm_cpu_s = cpu_now() - c0;
    return st;
}

swacl_status swacl_bench_start_model(swacl_ctx *ctx, const char *device, const char *model_dir,
                                     const swacl_bench_params *params,
                                     swacl_bench_start_result *out)
{
    if (!out) return swacl_set_error(ctx, SWACL_INVALID_ARG, "bench start: NULL argument");
    memset(out, 0, sizeof *out);
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/swacl-bench-XXXXXX", swacl_env_tmpdir());
    if (!mkdtemp(dir))
        return swacl_set_error(ctx, SWACL_IO, "%s", strerror(errno));
    swacl_config cfg;
    swacl_weights *w = NULL;
    swacl_status st = SWACL_OK;
    if (!model_dir) {
        st = swacl_preset("cohere2", &cfg);
        if (st == SWACL_OK) st = swacl_weights_create_random(&cfg, 3, &w);
        if (st != SWACL_OK)
            swacl_set_error(ctx, st, "bench start: cohere2 weights: %s", swacl_status_string(st));
    }
    /* the cold run's phases are overwritten by the warm run's */
    if (st == SWACL_OK)
        st = one_start(ctx, device, dir, model_dir, &cfg, w, out, &out->cold_s,
                       &out->cold_compile_s, &out->cold_cache_hits, &out->cold_cache_misses);
    if (st == SWACL_OK)
        st = one_start(ctx, device, dir, model_dir, &cfg, w, out, &out->warm_s,
                       &out->warm_compile_s, &out->warm_cache_hits, &out->warm_cache_misses);
    if (st == SWACL_OK)
        swacl_bench_say(params ? params->progress : NULL, params ? params->user : NULL,
                        "start: cold %.2f s (compile %.2f s, %d builds), warm %.2f s "
                        "(compile %.2f s, %d cache hits; load %.2f, context %.2f, model %.2f, "
                        "forward %.2f, teardown %.2f; CPU %.2f s)",
                        out->cold_s, out->cold_compile_s, out->cold_cache_misses, out->warm_s,
                        out->warm_compile_s, out->warm_cache_hits, out->warm_load_s,
                        out->warm_ctx_s, out->warm_model_s, out->warm_forward_s,
                        out->warm_teardown_s, out->warm_cpu_s);
    swacl_weights_destroy(w);
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    return st;
}

swacl_status swacl_bench_start(swacl_ctx *ctx, const char *device,
                               const swacl_bench_params *params, swacl_bench_start_result *out)
{
    return swacl_bench_start_model(ctx, device, NULL, params, out);
}
