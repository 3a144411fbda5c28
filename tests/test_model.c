/*
 * test_model.c - whole-model checks.
 *
 *   forward:    every preset: OpenCL device vs CPU reference, prefill,
 *               batch > 1, sequences longer than the window.
 *   session:    KV cache: decode after a prefill of t-1 tokens equals a
 *               prefill of t tokens (t < W, t = W, t = W+1, many wraps);
 *               chunked prefill equals one-shot; ragged batches; the
 *               temperature rules below and above the training length;
 *               rings cut by max_ctx < W (exact up to max_ctx, refused past
 *               it); steps whose sizes or positions would overflow.
 *
 * Tolerances: the device computes in float32 with CLBlast GEMMs, the
 * reference accumulates in double, so whole-model outputs agree to a few
 * float ulps per layer. The gate is NMSE <= 1e-6 (the bound), with
 * an elementwise |a-r| <= 1e-3 + 1e-3|r| on O(1) outputs. Device-vs-device
 * comparisons (decode vs prefill on the same backend) use the same gate:
 * the two paths run different kernels (cache reads vs fresh rows).
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "sched/sched.h" /* sched_step_check */

#define NMSE_GATE 1e-6
#define ATOL 1e-3
#define RTOL 1e-3

typedef struct {
    swacl_config cfg;
    swacl_weights *w;
    swacl_ctx *ctx;
    swacl_model *m;
} rig;

/* Small shapes so each case runs in about a second on PoCL. */
static swacl_config small_preset(const char *name, int window)
{
    swacl_preset_params p;
    memset(&p, 0, sizeof p);
    p.hidden_size = 128;
    p.n_heads = 4;
    p.n_layers = 4;
    p.ffn_dim = 256;
    p.vocab_size = 256;
    p.input_dim = 48;
    p.window = window;
    p.chunk = window;     /* irope-llama4: chunk spans as small as windows */
    p.train_len = 4;      /* temperature rules active past position 3 */
    swacl_config c;
    cr_assert(swacl_preset_ex(name, &p, &c) == SWACL_OK, "preset %s", name);
    return c;
}

static void rig_open(rig *r, swacl_ctx *ctx, const swacl_config *cfg, swacl_weights *w)
{
    r->cfg = *cfg;
    r->w = w;
    r->ctx = ctx;
    swacl_status st = swacl_model_create(ctx, cfg, w, &r->m);
    cr_assert(st == SWACL_OK, "model_create on %s: %s", swacl_ctx_device_name(ctx),
              swacl_ctx_errmsg(ctx));
}

static void rig_close(rig *r)
{
    swacl_model_destroy(r->m);
    swacl_ctx_destroy(r->ctx);
}

/* Inputs for B x T, seeded: ids or embeds depending on the config. */
static void make_input(const swacl_config *c, int B, int T, uint64_t seed, int32_t **ids,
                       float **emb)
{
    *ids = NULL;
    *emb = NULL;
    size_t n = (size_t)B * T;
    if (c->vocab_size > 0) {
        *ids = malloc(n * sizeof **ids);
        swacl_rng r = {seed};
        for (size_t i = 0; i < n; i++) (*ids)[i] = (int32_t)(swacl_rng_next(&r) % (uint64_t)c->vocab_size);
    } else {
        *emb = malloc(n * c->input_dim * sizeof **emb);
        fill_uniform(*emb, n * c->input_dim, seed, 1.0f);
    }
}

static float *forward(rig *r, int B, int T, const int32_t *ids, const float *emb, int all)
{
    int w = swacl_output_size(&r->cfg);
    float *out = malloc((size_t)B * (all ? T : 1) * w * sizeof *out);
    swacl_input in = {.batch = B, .seq = T, .ids = ids, .embeds = emb};
    swacl_status st = swacl_model_forward(r->m, &in, all, out);
    cr_assert(st == SWACL_OK, "forward on %s: %s", swacl_ctx_device_name(r->ctx),
              swacl_ctx_errmsg(r->ctx));
    return out;
}

/* ------------------------------------------------------------------------ */
/* forward: device vs reference for every preset                             */

typedef struct {
    char preset[24];
    int window, B, T, all;
} fwd_case;

ParameterizedTestParameters(forward, device_vs_reference)
{
    static fwd_case cases[] = {
        {"rnope-swa", 16, 1, 40, 0}, {"rnope-swa", 128, 2, 37, 1}, /* T < W */
        {"swan", 8, 2, 33, 1},       {"cohere2", 8, 1, 45, 1},
        {"cohere2", 1, 2, 17, 0},    /* W = 1 */
        {"irope", 8, 2, 29, 1},      {"irope-llama4", 8, 1, 41, 1},
        {"baseline", 8, 3, 19, 1},
    };
    return cr_make_param_array(fwd_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(fwd_case *fc, forward, device_vs_reference, .timeout = 120)
{
    swacl_config c = small_preset(fc->preset, fc->window);
    swacl_weights *w = NULL;
    cr_assert(swacl_weights_create_random(&c, 7, &w) == SWACL_OK);
    rig dev, ref;
    rig_open(&dev, test_cl_ctx(), &c, w);
    rig_open(&ref, test_ref_ctx(), &c, w);
    int32_t *ids;
    float *emb;
    make_input(&c, fc->B, fc->T, 11, &ids, &emb);
    float *a = forward(&dev, fc->B, fc->T, ids, emb, fc->all);
    float *b = forward(&ref, fc->B, fc->T, ids, emb, fc->all);
    size_t n = (size_t)fc->B * (fc->all ? fc->T : 1) * swacl_output_size(&c);
    char what[96];
    snprintf(what, sizeof what, "%s W=%d B=%d T=%d", fc->preset, fc->window, fc->B, fc->T);
    expect_close(what, a, b, n, ATOL, RTOL, NMSE_GATE);
    free(a);
    free(b);
    free(ids);
    free(emb);
    rig_close(&dev);
    rig_close(&ref);
    swacl_weights_destroy(w);
}

/* ------------------------------------------------------------------------ */
/* session: decode == prefill                                                */

typedef struct {
    char preset[24];
    int window;
} sess_case;

ParameterizedTestParameters(session, decode_equals_prefill)
{
    static sess_case cases[] = {
        {"rnope-swa", 5}, {"swan", 6}, {"cohere2", 5}, {"irope", 5}, {"irope-llama4", 6}, {"baseline", 5},
    };
    return cr_make_param_array(sess_case, cases, sizeof cases / sizeof cases[0]);
}

/* Decode one token at a time and, at t in {W-1, W, W+1, 4W+3} (t counted in
 * tokens seen), compare with a fresh prefill of t tokens: on the device and
 * on the reference. */
ParameterizedTest(sess_case *sc, session, decode_equals_prefill, .timeout = 180)
{
    swacl_config c = small_preset(sc->preset, sc->window);
    swacl_weights *w = NULL;
    cr_assert(swacl_weights_create_random(&c, 3, &w) == SWACL_OK);
    const int W = sc->window, Tmax = 4 * W + 3, V = swacl_output_size(&c);
    const int checks[] = {W - 1, W, W + 1, 4 * W + 3};
    rig dev, ref;
    rig_open(&dev, test_cl_ctx(), &c, w);
    rig_open(&ref, test_ref_ctx(), &c, w);
    int32_t *ids;
    float *emb;
    make_input(&c, 1, Tmax, 5, &ids, &emb);
    const size_t din = c.input_dim > 0 ? (size_t)c.input_dim : 0;

    swacl_session *sd = NULL, *sr = NULL;
    cr_assert(swacl_session_create(dev.m, 1, Tmax, &sd) == SWACL_OK, "%s", swacl_ctx_errmsg(dev.ctx));
    cr_assert(swacl_session_create(ref.m, 1, Tmax, &sr) == SWACL_OK, "%s", swacl_ctx_errmsg(ref.ctx));
    /* prefill the first W-2 tokens in one go, then decode */
    int t0 = W - 2 > 0 ? W - 2 : 1;
    float *od = malloc(V * sizeof *od), *or_ = malloc(V * sizeof *or_);
    swacl_input in = {.batch = 1, .seq = t0, .ids = ids, .embeds = emb};
    cr_assert(swacl_session_prefill(sd, &in, 0, od) == SWACL_OK, "%s", swacl_ctx_errmsg(dev.ctx));
    cr_assert(swacl_session_prefill(sr, &in, 0, or_) == SWACL_OK, "%s", swacl_ctx_errmsg(ref.ctx));
    int ci = 0;
    for (int t = t0 + 1; t <= Tmax; t++) {
        const int32_t *pi = ids ? ids + (t - 1) : NULL;
        const float *pe = emb ? emb + (size_t)(t - 1) * din : NULL;
        cr_assert(swacl_session_step(sd, 1, NULL, pi, pe, od) == SWACL_OK, "%s", swacl_ctx_errmsg(dev.ctx));
        cr_assert(swacl_session_step(sr, 1, NULL, pi, pe, or_) == SWACL_OK, "%s", swacl_ctx_errmsg(ref.ctx));
        cr_assert_eq(swacl_session_pos(sd, 0), t);
        while (ci < 4 && checks[ci] < t) ci++;
        if (ci < 4 && checks[ci] == t) {
            float *full = forward(&ref, 1, t, ids, emb, 0);
            char what[96];
            snprintf(what, sizeof what, "%s W=%d decode@%d: device vs reference prefill", sc->preset, W, t);
            expect_close(what, od, full, V, ATOL, RTOL, NMSE_GATE);
            snprintf(what, sizeof what, "%s W=%d decode@%d: reference decode vs prefill", sc->preset, W, t);
            expect_close(what, or_, full, V, ATOL, RTOL, NMSE_GATE);
            free(full);
        }
    }
    free(od);
    free(or_);
    free(ids);
    free(emb);
    swacl_session_destroy(sd);
    swacl_session_destroy(sr);
    rig_close(&dev);
    rig_close(&ref);
    swacl_weights_destroy(w);
}

/* Chunked prefill (chunk 1, 3, W, W+1, T) == one-shot prefill, on the device. */
Test(session, chunked_prefill, .timeout = 180)
{
    const char *presets[] = {"cohere2", "rnope-swa", "irope-llama4"};
    for (int pi = 0; pi < 3; pi++) {
        const int W = 6, T = 29, B = 2;
        swacl_config c = small_preset(presets[pi], W);
        swacl_weights *w = NULL;
        cr_assert(swacl_weights_create_random(&c, 9, &w) == SWACL_OK);
        rig dev;
        rig_open(&dev, test_cl_ctx(), &c, w);
        int32_t *ids;
        float *emb;
        make_input(&c, B, T, 13, &ids, &emb);
        float *full = forward(&dev, B, T, ids, emb, 0);
        const int V = swacl_output_size(&c);
        const int chunks[] = {1, 3, W, W + 1, T};
        for (int k = 0; k < 5; k++) {
            swacl_session *s = NULL;
            cr_assert(swacl_session_create(dev.m, B, T, &s) == SWACL_OK);
            float *o = malloc((size_t)B * V * sizeof *o);
            swacl_input in = {.batch = B, .seq = T, .ids = ids, .embeds = emb};
            cr_assert(swacl_session_prefill(s, &in, chunks[k], o) == SWACL_OK, "%s", swacl_ctx_errmsg(dev.ctx));
            char what[96];
            snprintf(what, sizeof what, "%s chunk %d", presets[pi], chunks[k]);
            expect_close(what, o, full, (size_t)B * V, ATOL, RTOL, NMSE_GATE);
            free(o);
            swacl_session_destroy(s);
        }
        free(full);
        free(ids);
        free(emb);
        rig_close(&dev);
        swacl_weights_destroy(w);
    }
}

/* Batch of sequences with different lengths: one ragged step, then a decode
 * step, each sequence checked against its own single-sequence prefill. */
Test(session, ragged_batch, .timeout = 120)
{
    const int W = 4, B = 3, T = 9;
    const int lens[3] = {9, 2, 6};
    swacl_config c = small_preset("cohere2", W);
    swacl_weights *w = NULL;
    cr_assert(swacl_weights_create_random(&c, 21, &w) == SWACL_OK);
    rig dev, ref;
    rig_open(&dev, test_cl_ctx(), &c, w);
    rig_open(&ref, test_ref_ctx(), &c, w);
    const int V = swacl_output_size(&c);
    int32_t *ids;
    float *emb;
    make_input(&c, B, T + 1, 17, &ids, &emb); /* row b: T+1 tokens */
    int32_t *step_ids = malloc((size_t)B * T * sizeof *step_ids);
    for (int b = 0; b < B; b++) memcpy(step_ids + b * T, ids + b * (T + 1), T * sizeof *step_ids);
    swacl_session *s = NULL;
    cr_assert(swacl_session_create(dev.m, B, 32, &s) == SWACL_OK);
    float *o = malloc((size_t)B * V * sizeof *o);
    cr_assert(swacl_session_step(s, T, lens, step_ids, NULL, o) == SWACL_OK, "%s", swacl_ctx_errmsg(dev.ctx));
    for (int b = 0; b < B; b++) {
        float *one = forward(&ref, 1, lens[b], ids + b * (T + 1), NULL, 0);
        char what[64];
        snprintf(what, sizeof what, "ragged prefill seq %d (len %d)", b, lens[b]);
        expect_close(what, o + (size_t)b * V, one, V, ATOL, RTOL, NMSE_GATE);
        free(one);
    }
    /* decode: each sequence appends its next token */
    int32_t next[3];
    for (int b = 0; b < B; b++) next[b] = ids[b * (T + 1) + lens[b]];
    cr_assert(swacl_session_step(s, 1, NULL, next, NULL, o) == SWACL_OK, "%s", swacl_ctx_errmsg(dev.ctx));
    for (int b = 0; b < B; b++) {
        int32_t *seq = malloc((lens[b] + 1) * sizeof *seq);
        memcpy(seq, ids + b * (T + 1), lens[b] * sizeof *seq);
        seq[lens[b]] = next[b];
        float *one = forward(&ref, 1, lens[b] + 1, seq, NULL, 0);
        char what[64];
        snprintf(what, sizeof what, "ragged decode seq %d (len %d)", b, lens[b] + 1);
        expect_close(what, o + (size_t)b * V, one, V, ATOL, RTOL, NMSE_GATE);
        free(one);
        free(seq);
    }
    free(o);
    free(step_ids);
    free(ids);
    free(emb);
    swacl_session_destroy(s);
    rig_close(&dev);
    rig_close(&ref);
    swacl_weights_destroy(w);
}

/* The session refuses to grow a global layer past max_ctx, with a message. */
Test(session, max_ctx_is_enforced)
{
    swacl_config c = small_preset("cohere2", 4);
    swacl_weights *w = NULL;
    cr_assert(swacl_weights_create_random(&c, 1, &w) == SWACL_OK);
    rig ref;
    rig_open(&ref, test_ref_ctx(), &c, w);
    swacl_session *s = NULL;
    cr_assert(swacl_session_create(ref.m, 1, 4, &s) == SWACL_OK);
    int32_t ids[5] = {1, 2, 3, 4, 5};
    float *o = malloc(swacl_output_size(&c) * sizeof *o);
    cr_assert_eq(swacl_session_step(s, 5, NULL, ids, NULL, o), SWACL_INVALID_ARG);
    cr_assert(strstr(swacl_ctx_errmsg(ref.ctx), "max_ctx") != NULL, "%s", swacl_ctx_errmsg(ref.ctx));
    cr_assert_eq(swacl_session_step(s, 4, NULL, ids, NULL, o), SWACL_OK);
    free(o);
    swacl_session_destroy(s);
    rig_close(&ref);
    swacl_weights_destroy(w);
}

/* KV memory: window layers hold W positions whatever the context. */
Test(session, kv_bytes_window_constant)
{
    swacl_config c;
    cr_assert(swacl_preset("cohere2", &c) == SWACL_OK);
    swacl_config b;
    cr_assert(swacl_preset("baseline", &b) == SWACL_OK);
    uint64_t g1, w1, g2, w2;
    swacl_kv_bytes(&c, 1, 4096, &g1, &w1);
    swacl_kv_bytes(&c, 1, 32768, &g2, &w2);
    cr_assert_eq(w1, w2, "window bytes must not grow with context");
    cr_assert_eq(g2, 8 * g1);
    uint64_t hyb = swacl_kv_bytes(&c, 1, 32768, NULL, NULL);
    uint64_t base = swacl_kv_bytes(&b, 1, 32768, NULL, NULL);
    cr_assert(hyb * 10 <= base * 3, "cohere2 KV %llu > 30%% of baseline %llu",
              (unsigned long long)hyb, (unsigned long long)base);
}

/* ------------------------------------------------------------------------ */
/* session limits: rings cut by max_ctx, huge steps                          */

typedef struct {
    swacl_span span; /* every layer WINDOW or every layer CHUNK             */
    int on_device;
} cut_case;

ParameterizedTestParameters(session, ring_cut_by_max_ctx)
{
    static cut_case cases[] = {
        {SWACL_SPAN_WINDOW, 1}, {SWACL_SPAN_WINDOW, 0}, {SWACL_SPAN_CHUNK, 1}, {SWACL_SPAN_CHUNK, 0},
    };
    return cr_make_param_array(cut_case, cases, sizeof cases / sizeof cases[0]);
}

/* An all-window (all-chunk) model in a session with max_ctx < W: the ring
 * holds max_ctx slots, so every step up to max_ctx equals the uncached
 * forward of the prefix, and a step past max_ctx is refused (no silent
 * wrong output). With max_ctx == W the rings stream past max_ctx. Device
 * and reference alike. */
ParameterizedTest(cut_case *cc, session, ring_cut_by_max_ctx, .timeout = 120)
{
    const int W = 8, MAXC = 5, LONG = 2 * W + 3;
    swacl_config c = small_preset("rnope-swa", W);
    for (int l = 0; l < c.n_layers; l++) c.layers[l].span = cc->span;
    swacl_weights *w = NULL;
    cr_assert(swacl_weights_create_random(&c, 4, &w) == SWACL_OK);
    rig r;
    rig_open(&r, cc->on_device ? test_cl_ctx() : test_ref_ctx(), &c, w);
    const int V = swacl_output_size(&c);
    const size_t din = c.vocab_size > 0 ? 0 : (size_t)c.input_dim;
    int32_t *ids;
    float *emb;
    make_input(&c, 1, LONG, 8, &ids, &emb);
    float *o = malloc((size_t)V * sizeof *o);
    char what[128];

    swacl_session *s = NULL;
    cr_assert(swacl_session_create(r.m, 1, MAXC, &s) == SWACL_OK, "%s", swacl_ctx_errmsg(r.ctx));
    /* a prefill longer than max_ctx is refused before anything runs */
    swacl_input big = {.batch = 1, .seq = MAXC + 1, .ids = ids, .embeds = emb};
    cr_assert_eq(swacl_session_prefill(s, &big, 0, o), SWACL_INVALID_ARG);
    cr_assert(strstr(swacl_ctx_errmsg(r.ctx), "max_ctx") != NULL, "%s", swacl_ctx_errmsg(r.ctx));
    cr_assert_eq(swacl_session_pos(s, 0), 0);
    /* chunked prefill of 3, then single steps up to max_ctx */
    swacl_input in = {.batch = 1, .seq = 3, .ids = ids, .embeds = emb};
    cr_assert(swacl_session_prefill(s, &in, 2, o) == SWACL_OK, "%s", swacl_ctx_errmsg(r.ctx));
    for (int t = 3;; t++) {
        float *full = forward(&r, 1, t, ids, emb, 0);
        snprintf(what, sizeof what, "span %d max_ctx %d < W %d: session @%d vs forward (%s)", (int)cc->span,
                 MAXC, W, t, swacl_ctx_device_name(r.ctx));
        expect_close(what, o, full, (size_t)V, ATOL, RTOL, NMSE_GATE);
        free(full);
        if (t == MAXC) break;
        cr_assert(swacl_session_step(s, 1, NULL, ids ? ids + t : NULL, emb ? emb + (size_t)t * din : NULL, o) ==
                      SWACL_OK, "%s", swacl_ctx_errmsg(r.ctx));
    }
    /* past max_ctx: refused, nothing advanced, the session still usable */
    cr_assert_eq(swacl_session_step(s, 1, NULL, ids ? ids + MAXC : NULL, emb ? emb + MAXC * din : NULL, o),
                 SWACL_INVALID_ARG, "a step past max_ctx %d < W must be refused", MAXC);
    cr_assert(strstr(swacl_ctx_errmsg(r.ctx), "max_ctx") != NULL, "%s", swacl_ctx_errmsg(r.ctx));
    cr_assert_eq(swacl_session_pos(s, 0), MAXC);
    swacl_session_destroy(s);

    /* max_ctx == W: the rings are whole, the session streams past max_ctx */
    cr_assert(swacl_session_create(r.m, 1, W, &s) == SWACL_OK, "%s", swacl_ctx_errmsg(r.ctx));
    swacl_input all = {.batch = 1, .seq = LONG - 1, .ids = ids, .embeds = emb};
    cr_assert(swacl_session_prefill(s, &all, W - 1, o) == SWACL_OK, "%s", swacl_ctx_errmsg(r.ctx));
    cr_assert(swacl_session_step(s, 1, NULL, ids ? ids + LONG - 1 : NULL, emb ? emb + (size_t)(LONG - 1) * din : NULL,
                                 o) == SWACL_OK, "%s", swacl_ctx_errmsg(r.ctx));
    cr_assert_eq(swacl_session_pos(s, 0), LONG);
    float *full = forward(&r, 1, LONG, ids, emb, 0);
    snprintf(what, sizeof what, "span %d max_ctx == W %d: session @%d vs forward", (int)cc->span, W, LONG);
    expect_close(what, o, full, (size_t)V, ATOL, RTOL, NMSE_GATE);
    free(full);
    swacl_session_destroy(s);
    free(o);
    free(ids);
    free(emb);
    rig_close(&r);
    swacl_weights_destroy(w);
}

/* Steps whose sizes or positions would overflow are refused with
 * SWACL_INVALID_ARG before anything is read or allocated; ids past n_new[b]
 * (padding) are never read. */
Test(session, huge_steps_refused, .timeout = 60)
{
    const int W = 4;
    swacl_config c = small_preset("rnope-swa", W); /* all-window: an unbounded session */
    c.input_dim = 0; /* token ids instead of continuous inputs */
    c.vocab_size = 64;
    swacl_weights *w = NULL;
    cr_assert(swacl_weights_create_random(&c, 2, &w) == SWACL_OK);
    rig ref;
    rig_open(&ref, test_ref_ctx(), &c, w);
    const int V = swacl_output_size(&c);
    float *o = malloc(2 * (size_t)V * sizeof *o), *o1 = malloc((size_t)V * sizeof *o1);
    int32_t ids[2] = {3, -7}; /* ids[1]: padding, out of range on purpose */
    swacl_session *s = NULL;
    cr_assert(swacl_session_create(ref.m, 1, INT_MAX, &s) == SWACL_OK, "%s", swacl_ctx_errmsg(ref.ctx));
    const int n1[1] = {1}, nmax[1] = {INT_MAX};
    cr_assert_eq(swacl_session_step(s, INT_MAX, NULL, ids, NULL, o), SWACL_INVALID_ARG);
    cr_assert_eq(swacl_session_step(s, INT_MAX, n1, ids, NULL, o), SWACL_INVALID_ARG);
    cr_assert_eq(swacl_session_step(s, INT_MAX, nmax, ids, NULL, o), SWACL_INVALID_ARG);
    cr_assert(strstr(swacl_ctx_errmsg(ref.ctx), "too large") != NULL, "%s", swacl_ctx_errmsg(ref.ctx));
    cr_assert_eq(swacl_session_step(s, INT_MAX / 4 + 1, n1, ids, NULL, o), SWACL_INVALID_ARG);
    cr_assert_eq(swacl_session_step(s, 0, NULL, ids, NULL, o), SWACL_INVALID_ARG);
    cr_assert_eq(swacl_session_step(s, 1, nmax, ids, NULL, o), SWACL_INVALID_ARG);
    cr_assert_eq(swacl_session_pos(s, 0), 0, "refused steps do not advance");
    /* T = 2 with one new token: the padded id is not read (or validated) */
    cr_assert(swacl_session_step(s, 2, n1, ids, NULL, o) == SWACL_OK, "%s", swacl_ctx_errmsg(ref.ctx));
    swacl_session_reset(s);
    cr_assert(swacl_session_step(s, 1, NULL, ids, NULL, o1) == SWACL_OK, "%s", swacl_ctx_errmsg(ref.ctx));
    cr_assert_eq(memcmp(o, o1, (size_t)V * sizeof *o), 0, "padding changed the output");
    swacl_session_destroy(s);

    /* positions near INT_MAX, by the step check itself (no session gets
     * there in a test) */
    char why[256];
    int pos[2] = {INT_MAX - 1, 0}, nn[2] = {1, 1};
    cr_assert_eq(sched_step_check(1, 1, nn, pos, INT_MAX, 0, why, sizeof why), SWACL_OK, "%s", why);
    nn[0] = 2;
    cr_assert_eq(sched_step_check(1, 2, nn, pos, INT_MAX, 0, why, sizeof why), SWACL_INVALID_ARG);
    cr_assert(strstr(why, "positions") != NULL, "%s", why);
    cr_assert_eq(sched_step_check(1, 2, nn, pos, INT_MAX, 1, why, sizeof why), SWACL_INVALID_ARG);
    cr_assert(strstr(why, "max_ctx") != NULL, "%s", why);
    cr_assert_eq(sched_step_check(1, 2, NULL, pos, INT_MAX, 0, why, sizeof why), SWACL_INVALID_ARG);
    pos[0] = INT_MAX;
    nn[0] = 0;
    cr_assert_eq(sched_step_check(2, 1, nn, pos, INT_MAX, 1, why, sizeof why), SWACL_OK, "%s", why);
    nn[0] = INT_MAX;
    cr_assert_eq(sched_step_check(1, INT_MAX, nn, pos, INT_MAX, 0, why, sizeof why), SWACL_INVALID_ARG);
    pos[0] = 5;
    nn[0] = 3;
    cr_assert_eq(sched_step_check(1, 3, nn, pos, 8, 1, why, sizeof why), SWACL_OK, "%s", why);
    nn[0] = 4;
    cr_assert_eq(sched_step_check(1, 4, nn, pos, 8, 1, why, sizeof why), SWACL_INVALID_ARG);
    nn[0] = -1;
    cr_assert_eq(sched_step_check(1, 4, nn, pos, 8, 1, why, sizeof why), SWACL_INVALID_ARG);
    cr_assert_eq(sched_step_check(2, INT_MAX / 8 + 1, NULL, pos, INT_MAX, 0, why, sizeof why), SWACL_INVALID_ARG);
    free(o);
    free(o1);
    rig_close(&ref);
    swacl_weights_destroy(w);
}
