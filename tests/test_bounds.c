/*
 * test_bounds.c - issue 14, bounds: every count or size from outside is
 * checked where it enters the library, before anything is allocated or
 * handed to OpenMP, with a message naming the value and the limit:
 *   - swacl_ctx_params.threads (libgomp crashed at 100000, aborted at INT_MAX)
 *   - batch x seq, inputs and outputs (swacl_input_check / swacl_input_load)
 *   - size overrides with a loaded model (refused, not ignored)
 *   - cached calibration times (absurd ones are measured again)
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "sched/sched.h"

static swacl_status ref_ctx_threads(int threads, swacl_ctx **ctx)
{
    swacl_ctx_params p = swacl_ctx_params_default();
    p.device = "ref";
    p.threads = threads;
    return swacl_ctx_create(&p, ctx);
}

Test(bounds, threads)
{
    const int bad[] = {-1, SWACL_MAX_THREADS + 1, 100000, INT_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        swacl_ctx *ctx = NULL;
        cr_assert_eq(ref_ctx_threads(bad[i], &ctx), SWACL_INVALID_ARG, "threads %d", bad[i]);
        char want[64];
        snprintf(want, sizeof want, "threads = %d: must be in 0..%d", bad[i], SWACL_MAX_THREADS);
        cr_expect(strstr(swacl_ctx_errmsg(ctx), want), "%s", swacl_ctx_errmsg(ctx));
        swacl_ctx_destroy(ctx);
    }
    const int good[] = {0, 1, SWACL_MAX_THREADS};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        swacl_ctx *ctx = NULL;
        cr_expect_eq(ref_ctx_threads(good[i], &ctx), SWACL_OK, "threads %d: %s", good[i],
                     swacl_ctx_errmsg(ctx));
        swacl_ctx_destroy(ctx);
    }
}

Test(bounds, input_sizes)
{
    swacl_ctx *ctx = test_ref_ctx();
    swacl_config tok, cont;
    cr_assert_eq(swacl_preset("cohere2", &tok), SWACL_OK);   /* token ids, vocab 2048 */
    cr_assert_eq(swacl_preset("rnope-swa", &cont), SWACL_OK); /* continuous inputs     */
    const int V = swacl_output_size(&tok);
    struct {
        const swacl_config *c;
        int64_t b, t;
        int all;
        swacl_status want;
        const char *msg;
    } cases[] = {
        {&tok, 1, 1, 0, SWACL_OK, NULL},
        {&tok, 1, SWACL_MAX_TOKENS, 0, SWACL_OK, NULL},
        {&tok, 0, 8, 0, SWACL_INVALID_ARG, "both must be >= 1"},
        {&tok, 8, -1, 0, SWACL_INVALID_ARG, "both must be >= 1"},
        {&tok, 2, 1073741823, 0, SWACL_INVALID_ARG,
         "batch 2 x seq 1073741823 = 2147483646 tokens: the limit is 536870911 tokens"},
        {&tok, 1, (int64_t)1 << 31, 0, SWACL_INVALID_ARG, "seq 2147483648"},
        /* factors that would overflow int64 if multiplied first */
        {&tok, INT64_MAX, INT64_MAX, 0, SWACL_INVALID_ARG, "the limit is 536870911 tokens"},
        /* every position's logits: 2^20 x 2048 = 2^31 fits, 2^22 x 2048 does not */
        {&tok, 1, 1 << 20, 1, SWACL_OK, NULL},
        {&tok, 4, 1 << 20, 1, SWACL_INVALID_ARG, "output of 4194304 rows x 2048"},
        /* continuous inputs: tokens x input_dim */
        {&cont, 1, 1 << 20, 0, SWACL_OK, NULL},
        {&cont, 1, SWACL_MAX_TOKENS, 0, SWACL_INVALID_ARG, "inputs of 536870911 tokens x"},
    };
    cr_assert_eq(V, 2048);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        swacl_status st = swacl_input_check(ctx, cases[i].c, cases[i].b, cases[i].t, cases[i].all);
        cr_expect_eq(st, cases[i].want, "case %zu: %s", i, swacl_ctx_errmsg(ctx));
        if (cases[i].msg)
            cr_expect(strstr(swacl_ctx_errmsg(ctx), cases[i].msg), "case %zu: '%s' lacks '%s'", i,
                      swacl_ctx_errmsg(ctx), cases[i].msg);
    }
    /* swacl_input_load refuses before allocating (8.6 GB of ids here) */
    swacl_input in;
    cr_expect_eq(swacl_input_load(ctx, &tok, NULL, NULL, 2, 1073741823, 1, &in), SWACL_INVALID_ARG);
    cr_expect(strstr(swacl_ctx_errmsg(ctx), "2147483646 tokens"), "%s", swacl_ctx_errmsg(ctx));
    cr_expect_null(in.ids);
    cr_expect_eq(swacl_input_load(ctx, &tok, NULL, NULL, 2, 16, 1, &in), SWACL_OK);
    cr_expect(in.batch == 2 && in.seq == 16 && in.ids);
    swacl_input_free(&in);
    swacl_ctx_destroy(ctx);
}

Test(bounds, overrides_with_a_model)
{
    swacl_ctx *ctx = test_ref_ctx();
    const char *dir = SWACL_SOURCE_DIR "/tests/fixtures/llama";
    swacl_preset_params pp;
    memset(&pp, 0, sizeof pp);
    swacl_config cfg;
    swacl_weights *w = NULL;
    cr_assert_eq(swacl_config_resolve(ctx, NULL, &pp, dir, &cfg, &w), SWACL_OK, "%s",
                 swacl_ctx_errmsg(ctx));
    swacl_weights_destroy(w);
    w = NULL;
    pp.n_layers = 3;
    pp.window = 8;
    cr_expect_eq(swacl_config_resolve(ctx, "cohere2", &pp, dir, &cfg, &w), SWACL_INVALID_ARG);
    cr_expect(strstr(swacl_ctx_errmsg(ctx), "apply to presets only"), "%s", swacl_ctx_errmsg(ctx));
    cr_expect_null(w);
    swacl_ctx_destroy(ctx);
}

/* Overwrite every number of every entry of the calibration cache with v. */
static void poison_calib(const char *path, double v)
{
    FILE *f = fopen(path, "rb");
    cr_assert(f, "%s", path);
    char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    cJSON *j = cJSON_Parse(buf);
    cr_assert(j);
    cJSON *e, *x;
    cJSON_ArrayForEach(e, j) cJSON_ArrayForEach(x, e) if (strcmp(x->string, "seq"))
        cJSON_SetNumberValue(x, v);
    char *txt = cJSON_Print(j);
    f = fopen(path, "wb");
    cr_assert(f && txt);
    fputs(txt, f);
    fclose(f);
    free(txt);
    cJSON_Delete(j);
}

Test(bounds, calibration_cache_values, .timeout = 300)
{
    swacl_ctx *ctx = test_ref_ctx();
    swacl_config c;
    swacl_preset_params pp;
    memset(&pp, 0, sizeof pp);
    pp.hidden_size = 64;
    pp.n_heads = 2;
    pp.n_kv_heads = 1;
    pp.ffn_dim = 64;
    pp.window = 8;
    cr_assert_eq(swacl_preset_ex("cohere2", &pp, &c), SWACL_OK);
    char dir[] = "/tmp/swacl-bounds-XXXXXX", path[256];
    cr_assert(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/sched-calib.json", dir);
    sched_calib cal;
    int cached = -1;
    cr_assert_eq(sched_calibrate(ctx, &c, dir, 16, &cal, &cached), SWACL_OK, "%s",
                 swacl_ctx_errmsg(ctx));
    cr_expect_eq(cached, 0);
    cr_assert_eq(sched_calibrate(ctx, &c, dir, 16, &cal, &cached), SWACL_OK);
    cr_expect_eq(cached, 1, "a sane entry is read back");
    const double absurd[] = {1e300, -1.0, 0.0, 1e6};
    for (size_t i = 0; i < sizeof absurd / sizeof absurd[0]; i++) {
        poison_calib(path, absurd[i]);
        cr_assert_eq(sched_calibrate(ctx, &c, dir, 16, &cal, &cached), SWACL_OK);
        cr_expect_eq(cached, 0, "time %g: measured again, not used", absurd[i]);
        cr_expect(isfinite(cal.window_s) && cal.window_s > 0 && cal.window_s < 86400 &&
                      isfinite(cal.global_s) && cal.global_s > 0 && cal.global_s < 86400 &&
                      cal.xfer_host_s >= 0 && cal.xfer_host_s < 86400 && cal.xfer_copy_s >= 0 &&
                      cal.xfer_copy_s < 86400,
                  "time %g: window %g global %g host %g copy %g", absurd[i], cal.window_s,
                  cal.global_s, cal.xfer_host_s, cal.xfer_copy_s);
        cr_assert_eq(sched_calibrate(ctx, &c, dir, 16, &cal, &cached), SWACL_OK);
        cr_expect_eq(cached, 1, "time %g: the new measurement replaced the entry", absurd[i]);
    }
    remove(path);
    rmdir(dir);
    swacl_ctx_destroy(ctx);
}
