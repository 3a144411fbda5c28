/*
 * test_api.c - public-API error paths: configuration validation, presets,
 * context creation on a missing device, forward-pass argument checks,
 * status strings, NULL-safe destroys, and the recommended defaults.
 *
 * Everything here runs on the CPU reference ("ref") or needs no context at
 * all, so the suite passes on a machine without an OpenCL device.
 */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include <criterion/criterion.h>
#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "internal.h" /* swacl_set_error (the prefix test) */
#include "swacl.h"

/* Case-insensitive: does msg contain any of the '|'-separated words? */
static int mentions(const char *msg, const char *words)
{
    char lower[1024];
    size_t n = strlen(msg);
    if (n >= sizeof lower) n = sizeof lower - 1;
    for (size_t i = 0; i < n; i++) lower[i] = (char)tolower((unsigned char)msg[i]);
    lower[n] = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", words);
    for (char *w = buf; w && *w;) {
        char *bar = strchr(w, '|');
        if (bar) *bar = 0;
        if (strstr(lower, w)) return 1;
        w = bar ? bar + 1 : NULL;
    }
    return 0;
}

/* Validate cfg, expect INVALID_ARG and a message (on the context) naming
 * the problem. */
static void expect_invalid(const swacl_config *cfg, const char *words, const char *what)
{
    swacl_ctx *ctx = test_ref_ctx();
    swacl_status st = swacl_config_validate(ctx, cfg);
    cr_assert_eq(st, SWACL_INVALID_ARG, "%s: validate returned %d (%s)", what, (int)st,
                 swacl_status_string(st));
    char msg[512];
    memset(msg, 'x', sizeof msg);
    snprintf(msg, sizeof msg, "%s", swacl_ctx_errmsg(ctx));
    swacl_ctx_destroy(ctx);
    cr_assert(memchr(msg, 0, sizeof msg) != NULL, "%s: message not NUL-terminated", what);
    cr_assert(msg[0] != 0, "%s: empty message", what);
    cr_assert(mentions(msg, words), "%s: message '%s' does not mention any of '%s'", what, msg,
              words);
}

/* ------------------------------------------------------------------------ */
/* swacl_config_validate                                                     */

Test(config_validate, defaults_and_presets_are_valid)
{
    swacl_config c = swacl_recommended_defaults();
    swacl_ctx *ctx = test_ref_ctx();
    const char *msg = swacl_ctx_errmsg(ctx);
    cr_assert_eq(swacl_config_validate(ctx, &c), SWACL_OK, "defaults: %s", msg);
    const char *const *names = swacl_preset_names();
    cr_assert_not_null(names);
    cr_assert_not_null(names[0], "no presets");
    for (int i = 0; names[i]; i++) {
        cr_assert_eq(swacl_preset(names[i], &c), SWACL_OK, "preset %s", names[i]);
        cr_assert_eq(swacl_config_validate(ctx, &c), SWACL_OK, "preset %s: %s", names[i], msg);
    }
    swacl_ctx_destroy(ctx);
}

/* heads x head_dim need not equal hidden (Gemma 2: 8 x 256 vs 2304; Qwen 3
 * 0.6B: 16 x 128 vs 1024), so such a config is valid; a preset, which
 * derives head_dim = hidden / heads, still refuses a remainder. */
Test(config_validate, heads_times_head_dim_need_not_be_hidden)
{
    swacl_config c = swacl_recommended_defaults();
    c.hidden_size = 250; /* 4 heads */
    c.head_dim = 62;
    swacl_ctx *ctx = test_ref_ctx();
    cr_assert_eq(swacl_config_validate(ctx, &c), SWACL_OK, "%s", swacl_ctx_errmsg(ctx));
    c.head_dim = 0;
    expect_invalid(&c, "head_dim", "head_dim 0");
    swacl_config p;
    swacl_weights *w = NULL;
    swacl_preset_params pp = {.hidden_size = 250};
    cr_assert_eq(swacl_config_resolve(ctx, "rnope-swa", &pp, NULL, &p, &w), SWACL_INVALID_ARG);
    cr_assert(strstr(swacl_ctx_errmsg(ctx), "not divisible by n_heads 4") != NULL, "%s",
              swacl_ctx_errmsg(ctx));
}

Test(config_validate, heads_not_divisible_by_kv_heads)
{
    swacl_config c = swacl_recommended_defaults();
    c.n_kv_heads = 3; /* 4 heads */
    expect_invalid(&c, "kv", "4 heads / 3 kv heads");
}

Test(config_validate, zero_kv_heads)
{
    swacl_config c = swacl_recommended_defaults();
    c.n_kv_heads = 0;
    expect_invalid(&c, "kv", "0 kv heads");
}

Test(config_validate, window_zero)
{
    swacl_config c = swacl_recommended_defaults();
    cr_assert_eq(c.layers[2].span, SWACL_SPAN_WINDOW);
    c.layers[2].span_size = 0;
    expect_invalid(&c, "window|span", "window 0 on layer 2");
}

Test(config_validate, chunk_zero)
{
    swacl_config c = swacl_recommended_defaults();
    c.layers[0].span = SWACL_SPAN_CHUNK;
    c.layers[0].span_size = 0;
    expect_invalid(&c, "chunk|span", "chunk 0 on layer 0");
}

Test(config_validate, n_layers_zero)
{
    swacl_config c = swacl_recommended_defaults();
    c.n_layers = 0;
    expect_invalid(&c, "layer", "n_layers 0");
}

Test(config_validate, n_layers_too_many)
{
    swacl_config c = swacl_recommended_defaults();
    c.n_layers = SWACL_MAX_LAYERS + 1;
    expect_invalid(&c, "layer", "n_layers > SWACL_MAX_LAYERS");
}

Test(config_validate, no_vocab_and_no_input_dim)
{
    swacl_config c = swacl_recommended_defaults();
    c.vocab_size = 0;
    c.input_dim = 0;
    expect_invalid(&c, "vocab|input", "vocab 0 and input_dim 0");
}

Test(config_validate, null_config_and_null_ctx)
{
    cr_assert_eq(swacl_config_validate(NULL, NULL), SWACL_INVALID_ARG);
    swacl_config c = swacl_recommended_defaults();
    c.n_layers = 0;
    /* no context to report to must not crash: the status alone */
    cr_assert_eq(swacl_config_validate(NULL, &c), SWACL_INVALID_ARG);
    swacl_ctx *ctx = test_ref_ctx();
    cr_assert_eq(swacl_config_validate(ctx, NULL), SWACL_INVALID_ARG);
    cr_assert(swacl_ctx_errmsg(ctx)[0] != 0, "no message for a NULL config");
    swacl_ctx_destroy(ctx);
}

/* ------------------------------------------------------------------------ */
/* swacl_config struct_size (the ABI guard)                                  */

Test(config_size, init_is_neutral_and_sized)
{
    swacl_config c;
    memset(&c, 0xab, sizeof c);
    swacl_config_init(&c);
    cr_assert_eq(c.struct_size, (uint32_t)sizeof c);
    cr_assert_eq(c.n_layers, 0);
    cr_assert_eq(c.logit_scale, 1.0f);
    cr_assert_eq(c.attn_scale, 0.0f);
    cr_assert_eq(c.layers[0].span, SWACL_SPAN_GLOBAL);
    cr_assert_eq(c.layers[0].temp, SWACL_TEMP_NONE);
    /* presets, the defaults and the loader all fill struct_size */
    swacl_config d = swacl_recommended_defaults();
    cr_assert_eq(d.struct_size, (uint32_t)sizeof d);
    cr_assert_eq(swacl_preset("cohere2", &d), SWACL_OK);
    cr_assert_eq(d.struct_size, (uint32_t)sizeof d);
}

Test(config_size, hand_built_after_init_is_valid)
{
    swacl_config c;
    swacl_config_init(&c);
    c.vocab_size = 50;
    c.hidden_size = 32;
    c.n_heads = 2;
    c.n_kv_heads = 1;
    c.head_dim = 16;
    c.ffn_dim = 64;
    c.final_norm = 1;
    c.n_layers = 2;
    c.layers[0].span = SWACL_SPAN_WINDOW;
    c.layers[0].span_size = 4;
    c.layers[0].pos = SWACL_POS_ROPE_HALF;
    c.layers[0].rope_theta = 10000.0f;
    swacl_ctx *ctx = test_ref_ctx();
    cr_assert_eq(swacl_config_validate(ctx, &c), SWACL_OK, "%s", swacl_ctx_errmsg(ctx));
    cr_assert_eq(swacl_output_size(&c), 50);
    swacl_ctx_destroy(ctx);
}

/* A config without (or with a wrong) struct_size is refused by every entry
 * point that takes one, with the one message. */
Test(config_size, wrong_size_is_rejected_everywhere)
{
    static const char *const want = "swacl_config not initialised (call swacl_config_init)";
    swacl_config good = swacl_recommended_defaults();
    swacl_weights *w = NULL;
    cr_assert_eq(swacl_weights_create_random(&good, 1, &w), SWACL_OK);
    const uint32_t sizes[] = {0, 4, (uint32_t)sizeof good - 4, (uint32_t)sizeof good + 4};
    swacl_ctx *ctx = test_ref_ctx();
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        swacl_config c = good;
        c.struct_size = sizes[i];
        cr_assert_eq(swacl_config_validate(ctx, &c), SWACL_INVALID_ARG, "size %u", sizes[i]);
        cr_assert(strstr(swacl_ctx_errmsg(ctx), want), "size %u: '%s'", sizes[i],
                  swacl_ctx_errmsg(ctx));
        swacl_model *m = NULL;
        cr_assert_eq(swacl_model_create(ctx, &c, w, &m), SWACL_INVALID_ARG, "size %u", sizes[i]);
        cr_assert_null(m);
        cr_assert(strstr(swacl_ctx_errmsg(ctx), want), "model_create: '%s'", swacl_ctx_errmsg(ctx));
        swacl_pipeline *p = NULL;
        cr_assert_eq(swacl_pipeline_create(ctx, "ref", "auto", &c, w, &p), SWACL_INVALID_ARG);
        cr_assert_null(p);
        cr_assert(strstr(swacl_ctx_errmsg(ctx), want), "pipeline: '%s'", swacl_ctx_errmsg(ctx));
        swacl_weights *w2 = NULL;
        cr_assert_eq(swacl_weights_create_random(&c, 1, &w2), SWACL_INVALID_ARG);
        cr_assert_null(w2);
        cr_assert_eq(swacl_output_size(&c), 0);
        cr_assert_eq(swacl_kv_bytes(&c, 1, 64, NULL, NULL), 0u);
    }
    swacl_weights_destroy(w);
    swacl_ctx_destroy(ctx);
}

/* ------------------------------------------------------------------------ */
/* The error channel                                                         */

/* Prefixing the context's own message ("while X: %s", swacl_ctx_errmsg)
 * must give the prefix + the old text, not a garbled overlap. */
Test(errors, set_error_prefixes_its_own_message)
{
    swacl_ctx *ctx = test_ref_ctx();
    swacl_set_error(ctx, SWACL_IO, "cannot open '%s'", "/no/such/file");
    cr_assert_eq(swacl_set_error(ctx, SWACL_IO, "loading the model: %s", swacl_ctx_errmsg(ctx)),
                 SWACL_IO);
    cr_assert_str_eq(swacl_ctx_errmsg(ctx), "loading the model: cannot open '/no/such/file'");
    swacl_set_error(ctx, SWACL_IO, "%s / %s", swacl_ctx_errmsg(ctx), swacl_ctx_errmsg(ctx));
    cr_assert_str_eq(swacl_ctx_errmsg(ctx),
                     "loading the model: cannot open '/no/such/file' / "
                     "loading the model: cannot open '/no/such/file'");
    /* an over-long message is truncated, NUL-terminated */
    char big[3 * SWACL_ERRMSG_LEN / 2];
    memset(big, 'y', sizeof big - 1);
    big[sizeof big - 1] = 0;
    swacl_set_error(ctx, SWACL_INTERNAL, "%s", big);
    cr_assert_eq(strlen(swacl_ctx_errmsg(ctx)), (size_t)SWACL_ERRMSG_LEN - 1);
    swacl_set_error(NULL, SWACL_INTERNAL, "no context: %s", "ignored"); /* NULL-safe */
    swacl_ctx_destroy(ctx);
}

/* The device-free calls report on the context they are given. */
Test(errors, device_free_calls_report_on_ctx)
{
    swacl_ctx *ctx = test_ref_ctx();
    swacl_config c;
    swacl_weights *w = NULL;
    swacl_status st = swacl_load_hf(ctx, "/no/such/swacl/model", &c, &w);
    cr_assert_eq(st, SWACL_IO, "got %d", (int)st);
    cr_assert_null(w);
    cr_assert(strstr(swacl_ctx_errmsg(ctx), "config.json"), "'%s'", swacl_ctx_errmsg(ctx));
    /* NULL ctx: the status alone */
    cr_assert_eq(swacl_load_hf(NULL, "/no/such/swacl/model", &c, &w), SWACL_IO);
    swacl_device_info *list = NULL;
    int n = -1;
    cr_assert_eq(swacl_devices_list(ctx, NULL, &n), SWACL_INVALID_ARG);
    cr_assert(swacl_ctx_errmsg(ctx)[0] != 0);
    cr_assert_eq(swacl_devices_list(ctx, &list, &n), SWACL_OK, "%s", swacl_ctx_errmsg(ctx));
    cr_assert(n >= 0);
    swacl_devices_free(list);
    swacl_ctx_destroy(ctx);
}

/* A pipeline's stages inherit its context's creation parameters, and its
 * (and its sessions') errors land on that context. */
Test(errors, pipeline_reports_on_its_ctx)
{
    swacl_ctx_params p = swacl_ctx_params_default();
    char dev[8] = "ref"; /* the ctx copies its strings: clobbering ours is safe */
    p.device = dev;
    p.threads = 1;
    swacl_ctx *ctx = NULL;
    cr_assert_eq(swacl_ctx_create(&p, &ctx), SWACL_OK);
    memset(dev, 0, sizeof dev);
    cr_assert(swacl_ctx_is_reference(ctx));
    swacl_config c = swacl_recommended_defaults();
    c.n_layers = 2;
    swacl_weights *w = NULL;
    cr_assert_eq(swacl_weights_create_random(&c, 3, &w), SWACL_OK);

    swacl_pipeline *pl = NULL;
    cr_assert_eq(swacl_pipeline_create(ctx, "ref", "0-1:0,2-2:0", &c, w, &pl), SWACL_INVALID_ARG);
    cr_assert_null(pl);
    cr_assert(swacl_ctx_errmsg(ctx)[0] != 0, "no message for a bad SPEC");
    cr_assert_eq(swacl_pipeline_create(ctx, "ref,ref", "0-0:0,1-1:1", &c, w, &pl), SWACL_OK, "%s",
                 swacl_ctx_errmsg(ctx));
    swacl_weights_destroy(w); /* copied: the pipeline does not need it any more */

    swacl_pipeline_stage st[4];
    int n = 0;
    cr_assert_eq(swacl_pipeline_describe(pl, st, 4, &n), SWACL_OK);
    cr_assert_eq(n, 2);
    cr_assert_eq(swacl_pipeline_describe(pl, NULL, 4, &n), SWACL_INVALID_ARG);
    cr_assert(swacl_ctx_errmsg(ctx)[0] != 0);

    float out[2 * 256];
    cr_assert_eq(swacl_pipeline_forward(pl, NULL, 0, out), SWACL_INVALID_ARG);
    cr_assert(swacl_ctx_errmsg(ctx)[0] != 0, "no message for a NULL input");
    swacl_pipeline_session *ps = NULL;
    cr_assert_eq(swacl_pipeline_session_create(pl, 0, 16, &ps), SWACL_INVALID_ARG);
    cr_assert(strstr(swacl_ctx_errmsg(ctx), "batch"), "'%s'", swacl_ctx_errmsg(ctx));
    cr_assert_eq(swacl_pipeline_session_create(pl, 1, 16, &ps), SWACL_OK, "%s",
                 swacl_ctx_errmsg(ctx));
    float emb[1 * 4 * 128];
    for (size_t i = 0; i < sizeof emb / sizeof emb[0]; i++) emb[i] = (float)(i % 7) * 0.1f;
    swacl_input in = {2, 4, NULL, emb}; /* batch 2 > the session's 1 */
    cr_assert_eq(swacl_pipeline_session_prefill(ps, &in, 0, out), SWACL_INVALID_ARG);
    cr_assert(strstr(swacl_ctx_errmsg(ctx), "batch"), "'%s'", swacl_ctx_errmsg(ctx));
    in.batch = 1;
    cr_assert_eq(swacl_pipeline_session_prefill(ps, &in, 2, out), SWACL_OK, "%s",
                 swacl_ctx_errmsg(ctx));
    cr_assert_eq(swacl_pipeline_session_pos(ps, 0), 4);
    swacl_pipeline_session_destroy(ps);
    swacl_pipeline_destroy(pl);
    swacl_ctx_destroy(ctx);
}

/* ------------------------------------------------------------------------ */
/* Presets, defaults, output size                                            */

Test(preset, unknown_name)
{
    swacl_config c;
    cr_assert_eq(swacl_preset("no-such-preset", &c), SWACL_INVALID_ARG);
    cr_assert_eq(swacl_preset("", &c), SWACL_INVALID_ARG);
    cr_assert_eq(swacl_preset(NULL, &c), SWACL_INVALID_ARG);
}

Test(preset, documented_names_exist)
{
    static const char *const want[] = {"rnope-swa", "swan", "cohere2", "irope", "baseline"};
    swacl_config c;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        cr_assert_eq(swacl_preset(want[i], &c), SWACL_OK, "preset %s", want[i]);
}

Test(preset, recommended_defaults)
{
    swacl_config c = swacl_recommended_defaults();
    cr_assert_eq(c.hidden_size, 256);
    cr_assert_eq(c.n_heads, 4);
    cr_assert_eq(c.n_layers, 6);
    cr_assert_eq(c.output, SWACL_OUTPUT_LAST_HIDDEN);
    for (int i = 0; i < c.n_layers; i++) {
        cr_assert_eq(c.layers[i].span, SWACL_SPAN_WINDOW, "layer %d", i);
        cr_assert_eq(c.layers[i].span_size, 128, "layer %d", i);
    }
}

Test(preset, output_size)
{
    swacl_config c = swacl_recommended_defaults();
    cr_assert_eq(swacl_output_size(&c), 256); /* LAST_HIDDEN: hidden */
    c.output = SWACL_OUTPUT_LOGITS;
    c.vocab_size = 1000;
    cr_assert_eq(swacl_output_size(&c), 1000);
    const char *const *names = swacl_preset_names();
    for (int i = 0; names[i]; i++) {
        cr_assert_eq(swacl_preset(names[i], &c), SWACL_OK);
        int want = c.output == SWACL_OUTPUT_LAST_HIDDEN ? c.hidden_size : c.vocab_size;
        cr_assert_eq(swacl_output_size(&c), want, "preset %s", names[i]);
    }
}

/* ------------------------------------------------------------------------ */
/* Status strings, NULL-safe destroys                                        */

Test(status, every_code_has_a_string)
{
#define CHECK(name, val, str)                                                \
    do {                                                                     \
        const char *s = swacl_status_string(SWACL_##name);                   \
        cr_assert_not_null(s, #name);                                        \
        cr_assert(s[0] != 0, #name " has an empty string");                  \
        cr_assert_str_eq(s, str);                                            \
    } while (0);
    SWACL_STATUS_MAP(CHECK)
#undef CHECK
    const char *u = swacl_status_string((swacl_status)-12345);
    cr_assert_not_null(u);
    cr_assert(u[0] != 0);
}

Test(status, version)
{
    cr_assert_eq(swacl_version_number(), SWACL_VERSION_NUMBER);
}

Test(lifecycle, destroy_accepts_null)
{
    swacl_ctx_destroy(NULL);
    swacl_model_destroy(NULL);
    swacl_weights_destroy(NULL);
    swacl_devices_free(NULL);
    swacl_session_destroy(NULL);
    swacl_pipeline_destroy(NULL);
    swacl_pipeline_session_destroy(NULL);
}

/* ------------------------------------------------------------------------ */
/* Contexts                                                                  */

Test(ctx, unknown_device)
{
    swacl_ctx_params p = swacl_ctx_params_default();
    p.device = "nosuch";
    p.cache_dir = "off";
    swacl_ctx *ctx = NULL;
    swacl_status st = swacl_ctx_create(&p, &ctx);
    cr_assert_eq(st, SWACL_NO_DEVICE, "got %d (%s)", (int)st, swacl_status_string(st));
    if (ctx) {
        const char *m = swacl_ctx_errmsg(ctx);
        cr_assert_not_null(m);
        cr_assert(strstr(m, "nosuch") != NULL, "errmsg '%s' does not name the device", m);
    }
    swacl_ctx_destroy(ctx);
}

Test(ctx, reference_context)
{
    swacl_ctx_params p = swacl_ctx_params_default();
    p.device = "ref";
    p.threads = 1;
    swacl_ctx *ctx = NULL;
    cr_assert_eq(swacl_ctx_create(&p, &ctx), SWACL_OK);
    cr_assert(swacl_ctx_is_reference(ctx));
    cr_assert_not_null(swacl_ctx_device_name(ctx));
    cr_assert_str_eq(swacl_ctx_errmsg(ctx), "");
    swacl_ctx_destroy(ctx);
}

/* ------------------------------------------------------------------------ */
/* Forward-pass argument checks (on the reference: no device needed)         */

typedef struct {
    swacl_ctx *ctx;
    swacl_weights *w;
    swacl_model *m;
    swacl_config cfg;
} fixture;

/* A tiny token-id model on the reference. */
static fixture make_model(void)
{
    fixture f;
    memset(&f, 0, sizeof f);
    swacl_preset_params pp;
    memset(&pp, 0, sizeof pp);
    pp.hidden_size = 64;
    pp.n_heads = 2;
    pp.n_kv_heads = 1;
    pp.n_layers = 4;
    pp.ffn_dim = 128;
    pp.vocab_size = 100;
    pp.window = 4;
    cr_assert_eq(swacl_preset_ex("cohere2", &pp, &f.cfg), SWACL_OK);
    f.ctx = test_ref_ctx();
    cr_assert_eq(swacl_config_validate(f.ctx, &f.cfg), SWACL_OK, "%s", swacl_ctx_errmsg(f.ctx));
    cr_assert_eq(f.cfg.vocab_size, 100);
    cr_assert_eq(swacl_weights_create_random(&f.cfg, 7, &f.w), SWACL_OK);
    cr_assert_eq(swacl_model_create(f.ctx, &f.cfg, f.w, &f.m), SWACL_OK, "%s",
                 swacl_ctx_errmsg(f.ctx));
    return f;
}

static void free_model(fixture *f)
{
    swacl_model_destroy(f->m);
    swacl_weights_destroy(f->w);
    swacl_ctx_destroy(f->ctx);
}

/* Destroying a context before its model is a caller bug that the reference
 * backend reports as the OpenCL one does: a warning naming the buffers, and
 * an abort under SWACL_STRICT_LEAKS=1 (as CI runs). */
Test(lifecycle, ctx_destroyed_before_model_is_reported, .signal = SIGABRT)
{
    setenv("SWACL_STRICT_LEAKS", "1", 1);
    fixture f = make_model();
    swacl_weights_destroy(f.w);
    swacl_ctx_destroy(f.ctx); /* f.m still holds buffers: aborts here */
}

Test(forward, valid_call_succeeds)
{
    fixture f = make_model();
    int32_t ids[2 * 8];
    for (int i = 0; i < 16; i++) ids[i] = (i * 37) % 100;
    float *out = calloc((size_t)2 * 100, sizeof *out);
    swacl_input in = {2, 8, ids, NULL};
    cr_assert_eq(swacl_model_forward(f.m, &in, 0, out), SWACL_OK, "%s", swacl_ctx_errmsg(f.ctx));
    free(out);
    free_model(&f);
}

Test(forward, bad_arguments)
{
    fixture f = make_model();
    int32_t ids[16];
    for (int i = 0; i < 16; i++) ids[i] = i;
    float *out = calloc((size_t)16 * 100, sizeof *out);
    swacl_status st;

    swacl_input in = {1, 0, ids, NULL};
    st = swacl_model_forward(f.m, &in, 0, out);
    cr_assert_eq(st, SWACL_INVALID_ARG, "seq 0: %d", (int)st);

    in = (swacl_input){0, 8, ids, NULL};
    st = swacl_model_forward(f.m, &in, 0, out);
    cr_assert_eq(st, SWACL_INVALID_ARG, "batch 0: %d", (int)st);

    in = (swacl_input){-1, 8, ids, NULL};
    st = swacl_model_forward(f.m, &in, 0, out);
    cr_assert_eq(st, SWACL_INVALID_ARG, "batch -1: %d", (int)st);

    ids[5] = 100; /* == vocab */
    in = (swacl_input){1, 8, ids, NULL};
    st = swacl_model_forward(f.m, &in, 0, out);
    cr_assert_eq(st, SWACL_INVALID_ARG, "token id == vocab: %d", (int)st);
    cr_assert(swacl_ctx_errmsg(f.ctx)[0] != 0, "no message for an out-of-range id");

    ids[5] = -1;
    st = swacl_model_forward(f.m, &in, 0, out);
    cr_assert_eq(st, SWACL_INVALID_ARG, "token id -1: %d", (int)st);
    ids[5] = 5;

    in = (swacl_input){1, 8, NULL, NULL}; /* no ids for a token model */
    st = swacl_model_forward(f.m, &in, 0, out);
    cr_assert_eq(st, SWACL_INVALID_ARG, "missing ids: %d", (int)st);

    in = (swacl_input){1, 8, ids, NULL};
    st = swacl_model_forward(f.m, &in, 0, NULL);
    cr_assert_eq(st, SWACL_INVALID_ARG, "out NULL: %d", (int)st);
    st = swacl_model_forward(f.m, NULL, 0, out);
    cr_assert_eq(st, SWACL_INVALID_ARG, "input NULL: %d", (int)st);

    /* the model still works after the rejected calls */
    st = swacl_model_forward(f.m, &in, 0, out);
    cr_assert_eq(st, SWACL_OK, "%s", swacl_ctx_errmsg(f.ctx));
    free(out);
    free_model(&f);
}

Test(model, create_rejects_invalid_config)
{
    swacl_ctx *ctx = test_ref_ctx();
    swacl_config c = swacl_recommended_defaults();
    swacl_weights *w = NULL;
    cr_assert_eq(swacl_weights_create_random(&c, 1, &w), SWACL_OK);
    c.n_kv_heads = 3;
    swacl_model *m = NULL;
    swacl_status st = swacl_model_create(ctx, &c, w, &m);
    cr_assert_eq(st, SWACL_INVALID_ARG, "got %d", (int)st);
    cr_assert_null(m);
    cr_assert(swacl_ctx_errmsg(ctx)[0] != 0);
    swacl_weights_destroy(w);
    swacl_ctx_destroy(ctx);
}
