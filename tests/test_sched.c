/*
 * test_sched.c - the multi-device pipeline (host/sched/, include/swacl.h
 * "Pipeline").
 *
 *   split:    every preset, split several ways (all on one device, uneven,
 *             device order reversed, one layer per device): pipeline prefill
 *             (batch 4, 2 micro-batches) equals the single-device model and
 *             the CPU reference; pipeline decode (session: chunked prefill,
 *             single-token steps, a ragged step) equals the reference
 *             session.
 *   solo:     a one-stage pipeline session equals swacl_session on the
 *             same device (NMSE <= 1e-10): one executor behind both APIs.
 *   links:    three stages "a,a,b" with device-copy links (one shared
 *             OpenCL context) and with host-staged links: prefill and a
 *             decode session equal the reference; describe names each link.
 *   placement: auto (calibration cached as JSON, transfer costs counted), a
 *             placement that does not
 *             fit (fake memory budget), a device index that does not exist,
 *             bad SPECs: each a clear error.
 *
 * Devices: the pipeline's two devices are "0,1" when two OpenCL devices
 * exist (POCL_DEVICES="pthread pthread"), "0,ref" with one, "ref,ref" with
 * none (SWACL_REQUIRE_DEVICE=1 makes that a failure). Gates as
 * test_model.c: NMSE <= 1e-6 and |a-r| <= 1e-3 + 1e-3|r|.
 */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "sched/sched.h"

#define NMSE_GATE 1e-6
#define ATOL 1e-3
#define RTOL 1e-3

/* The pipeline API reports on the context a pipeline is created on; these
 * keep the checks below in their (devices, ..., base, &p, err) shape: each
 * pipeline gets a "ref" context made from base, destroyed with it. */
static swacl_status pipe_create_ex(const char *devices, const char *placement,
                                   const swacl_config *cfg, const swacl_weights *w,
                                   const swacl_ctx_params *base, const swacl_sched_opts *opts,
                                   swacl_pipeline **out, char *err, size_t err_len)
{
    swacl_ctx_params p = base ? *base : swacl_ctx_params_default();
    p.device = "ref";
    swacl_ctx *ctx = NULL;
    swacl_status st = swacl_ctx_create(&p, &ctx);
    if (st == SWACL_OK) st = swacl_pipeline_create_ex(ctx, devices, placement, cfg, w, opts, out);
    snprintf(err, err_len, "%s", ctx ? swacl_ctx_errmsg(ctx) : "out of memory");
    if (st != SWACL_OK) swacl_ctx_destroy(ctx);
    return st;
}

static swacl_status pipe_create(const char *devices, const char *placement,
                                const swacl_config *cfg, const swacl_weights *w,
                                const swacl_ctx_params *base, swacl_pipeline **out, char *err,
                                size_t err_len)
{
    return pipe_create_ex(devices, placement, cfg, w, base, NULL, out, err, err_len);
}

static const char *pipe_errmsg(const swacl_pipeline *p) { return swacl_ctx_errmsg(swacl_pipeline_ctx(p)); }

static void pipe_destroy(swacl_pipeline *p)
{
    swacl_ctx *ctx = swacl_pipeline_ctx(p);
    swacl_pipeline_destroy(p); /* before its context */
    swacl_ctx_destroy(ctx);
}

static swacl_config small_preset(const char *name, int window, int layers)
{
    swacl_preset_params p;
    memset(&p, 0, sizeof p);
    p.hidden_size = 128;
    p.n_heads = 4;
    p.n_layers = layers;
    p.ffn_dim = 256;
    p.vocab_size = 256;
    p.input_dim = 48;
    p.window = window;
    p.chunk = window;
    p.train_len = 4;
    swacl_config c;
    cr_assert(swacl_preset_ex(name, &p, &c) == SWACL_OK, "preset %s", name);
    return c;
}

static void make_input(const swacl_config *c, int B, int T, uint64_t seed, int32_t **ids, float **emb)
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

/* The two device selectors this machine offers (see the header). */
static void two_devices(char *a, char *b, size_t len)
{
    swacl_device_info *list = NULL;
    int n = 0;
    if (swacl_devices_list(NULL, &list, &n) != SWACL_OK) n = 0;
    const char *req = getenv("SWACL_REQUIRE_DEVICE");
    if (n == 0 && req && req[0] == '1') cr_assert_fail("no OpenCL device (SWACL_REQUIRE_DEVICE=1)");
    snprintf(a, len, "%s", n >= 1 ? "0" : "ref");
    snprintf(b, len, "%s", n >= 2 ? "1" : "ref");
    swacl_devices_free(list);
}

static swacl_ctx_params test_params(void)
{
    swacl_ctx_params p = swacl_ctx_params_default();
    return p; /* cache dir from $SWACL_CACHE_DIR as every other test */
}

/* ------------------------------------------------------------------------ */
/* split: pipeline == single device == reference                             */

typedef struct {
    char preset[24];
    int split; /* 0 all on one, 1 uneven, 2 reversed order, 3 one layer per device */
} split_case;

ParameterizedTestParameters(split, equals_single_device)
{
    static split_case cases[6 * 4];
    const char *const *names = swacl_preset_names();
    int n = 0;
    for (int i = 0; names[i] && n + 4 <= (int)(sizeof cases / sizeof cases[0]); i++)
        for (int s = 0; s < 4; s++) {
            snprintf(cases[n].preset, sizeof cases[n].preset, "%s", names[i]);
            cases[n++].split = s;
        }
    return cr_make_param_array(split_case, cases, n);
}

ParameterizedTest(split_case *sc, split, equals_single_device, .timeout = 300)
{
    const int W = 5;
    swacl_config c = small_preset(sc->preset, W, 4);
    swacl_weights *w = NULL;
    cr_assert(swacl_weights_create_random(&c, 7, &w) == SWACL_OK);
    char a[16], b[16], devs[64];
    two_devices(a, b, sizeof a);
    static const char *const specs[] = {"0-3:0", "0:0,1-3:1", "0-1:1,2-3:0", "0:0,1:1,2:2,3:3"};
    if (sc->split == 3) snprintf(devs, sizeof devs, "%s,%s,%s,%s", a, b, a, b);
    else snprintf(devs, sizeof devs, "%s,%s", a, b);
    swacl_ctx_params base = test_params();
    swacl_pipeline *p = NULL;
    char err[1024];
    swacl_status st = pipe_create(devs, specs[sc->split], &c, w, &base, &p, err, sizeof err);
    cr_assert(st == SWACL_OK, "pipeline %s on %s: %s", specs[sc->split], devs, err);
    swacl_pipeline_set_micro_batches(p, 2);

    /* describe: the stages cover the layers in order */
    swacl_pipeline_stage stg[8];
    int ns = 0;
    cr_assert(swacl_pipeline_describe(p, stg, 8, &ns) == SWACL_OK);
    cr_assert(ns >= 1 && ns <= 4);
    int next = 0;
    for (int i = 0; i < ns && i < 8; i++) {
        cr_expect_eq(stg[i].layer_begin, next, "stage %d starts at %d", i, stg[i].layer_begin);
        next = stg[i].layer_end;
    }
    cr_expect_eq(next, c.n_layers);

    /* prefill: batch 4, all positions, 2 micro-batches */
    const int B = 4, T = 11, V = swacl_output_size(&c);
    int32_t *ids;
    float *emb;
    make_input(&c, B, T, 11, &ids, &emb);
    size_t n = (size_t)B * T * V;
    float *op = malloc(n * sizeof *op), *od = malloc(n * sizeof *od), *orf = malloc(n * sizeof *orf);
    swacl_input in = {.batch = B, .seq = T, .ids = ids, .embeds = emb};
    st = swacl_pipeline_forward(p, &in, 1, op);
    cr_assert(st == SWACL_OK, "pipeline forward: %s", pipe_errmsg(p));
    swacl_ctx_params dp = base;
    dp.device = a;
    swacl_ctx *dctx = NULL, *rctx = test_ref_ctx();
    cr_assert(swacl_ctx_create(&dp, &dctx) == SWACL_OK, "%s", swacl_ctx_errmsg(dctx));
    swacl_model *md = NULL, *mr = NULL;
    cr_assert(swacl_model_create(dctx, &c, w, &md) == SWACL_OK, "%s", swacl_ctx_errmsg(dctx));
    cr_assert(swacl_model_create(rctx, &c, w, &mr) == SWACL_OK, "%s", swacl_ctx_errmsg(rctx));
    cr_assert(swacl_model_forward(md, &in, 1, od) == SWACL_OK, "%s", swacl_ctx_errmsg(dctx));
    cr_assert(swacl_model_forward(mr, &in, 1, orf) == SWACL_OK, "%s", swacl_ctx_errmsg(rctx));
    char what[160];
    snprintf(what, sizeof what, "%s [%s] on %s: prefill vs single device", sc->preset, specs[sc->split], devs);
    expect_close(what, op, od, n, ATOL, RTOL, NMSE_GATE);
    snprintf(what, sizeof what, "%s [%s] on %s: prefill vs reference", sc->preset, specs[sc->split], devs);
    expect_close(what, op, orf, n, ATOL, RTOL, NMSE_GATE);

    /* busy time was accounted on every stage */
    cr_assert(swacl_pipeline_describe(p, stg, 8, &ns) == SWACL_OK);
    for (int i = 0; i < ns; i++) cr_expect(stg[i].busy_s > 0, "stage %d busy %g", i, stg[i].busy_s);

    /* decode: batch 2 (one sequence per micro-batch), chunked prefill of 4
     * tokens, single-token steps past the window, one ragged 2-token step */
    const int SB = 2, Tmax = 16;
    int32_t *sid;
    float *semb;
    make_input(&c, SB, Tmax, 23, &sid, &semb);
    const size_t din = c.vocab_size > 0 ? 0 : (size_t)c.input_dim;
    swacl_pipeline_session *ps = NULL;
    swacl_session *rs = NULL;
    cr_assert(swacl_pipeline_session_create(p, SB, Tmax, &ps) == SWACL_OK, "%s", pipe_errmsg(p));
    cr_assert(swacl_session_create(mr, SB, Tmax, &rs) == SWACL_OK, "%s", swacl_ctx_errmsg(rctx));
    float *sp = malloc((size_t)SB * V * sizeof *sp), *sr = malloc((size_t)SB * V * sizeof *sr);
    /* step buffers [SB, Tstep] gathered from the [SB, Tmax] stream */
    int32_t *bid = sid ? malloc((size_t)SB * 4 * sizeof *bid) : NULL;
    float *bem = semb ? malloc((size_t)SB * 4 * din * sizeof *bem) : NULL;
    int pos[2] = {0, 0};
    const int steps[][3] = {{4, 4, 4}, {1, 1, 1}, {1, 1, 1}, {2, 2, 1}, {1, 1, 1}, {1, 1, 1},
                            {1, 1, 1}, {1, 0, 1}, {1, 1, 1}, {1, 1, 1}};
    for (size_t si = 0; si < sizeof steps / sizeof steps[0]; si++) {
        const int Ts = steps[si][0];
        int nn[2] = {steps[si][1], steps[si][2]};
        for (int bb = 0; bb < SB; bb++)
            for (int t = 0; t < Ts; t++) {
                int src = pos[bb] + t < Tmax ? pos[bb] + t : Tmax - 1;
                if (bid) bid[bb * Ts + t] = sid[bb * Tmax + src];
                if (bem) memcpy(bem + ((size_t)bb * Ts + t) * din, semb + ((size_t)bb * Tmax + src) * din,
                                din * sizeof *bem);
            }
        if (si == 0) {
            swacl_input pin = {.batch = SB, .seq = Ts, .ids = bid, .embeds = bem};
            st = swacl_pipeline_session_prefill(ps, &pin, 3, sp);
            cr_assert(st == SWACL_OK, "pipeline prefill: %s", pipe_errmsg(p));
            cr_assert(swacl_session_prefill(rs, &pin, 3, sr) == SWACL_OK, "%s", swacl_ctx_errmsg(rctx));
        } else {
            st = swacl_pipeline_session_step(ps, Ts, nn, bid, bem, sp);
            cr_assert(st == SWACL_OK, "pipeline step %zu: %s", si, pipe_errmsg(p));
            cr_assert(swacl_session_step(rs, Ts, nn, bid, bem, sr) == SWACL_OK, "%s", swacl_ctx_errmsg(rctx));
        }
        for (int bb = 0; bb < SB; bb++) {
            pos[bb] += si == 0 ? Ts : nn[bb];
            cr_assert_eq(swacl_pipeline_session_pos(ps, bb), pos[bb]);
            if (si > 0 && nn[bb] == 0) continue; /* row unspecified */
            snprintf(what, sizeof what, "%s [%s] on %s: decode seq %d @%d vs reference", sc->preset,
                     specs[sc->split], devs, bb, pos[bb]);
            expect_close(what, sp + (size_t)bb * V, sr + (size_t)bb * V, (size_t)V, ATOL, RTOL, NMSE_GATE);
        }
    }
    free(bid);
    free(bem);
    free(sp);
    free(sr);
    free(sid);
    free(semb);
    swacl_pipeline_session_destroy(ps);
    swacl_session_destroy(rs);
    free(op);
    free(od);
    free(orf);
    free(ids);
    free(emb);
    swacl_model_destroy(md);
    swacl_model_destroy(mr);
    swacl_ctx_destroy(dctx);
    swacl_ctx_destroy(rctx);
    pipe_destroy(p);
    swacl_weights_destroy(w);
}

/* ------------------------------------------------------------------------ */
/* solo: a one-stage pipeline is the single-device session                   */

typedef struct {
    char preset[24];
    int on_device;
} solo_case;

/* The same executor on the same device: NMSE alone is the gate. */
static void expect_nmse(const char *what, const float *got, const float *ref, size_t n, double max_nmse)
{
    cmp_result r = cmp_arrays(got, ref, n, 0, 0);
    cr_assert(r.nonfinite == 0 && r.nmse <= max_nmse, "%s: nmse %.3e > %.0e (%d non-finite)", what, r.nmse,
              max_nmse, r.nonfinite);
}

ParameterizedTestParameters(solo, pipeline_session_equals_session)
{
    static solo_case cases[] = {{"cohere2", 1}, {"rnope-swa", 1}, {"irope-llama4", 1}, {"cohere2", 0},
                                {"rnope-swa", 0}};
    return cr_make_param_array(solo_case, cases, sizeof cases / sizeof cases[0]);
}

/* One device, all layers: swacl_pipeline_session_* and swacl_session_* on
 * the same device run the same executor, so their outputs agree to NMSE
 * <= 1e-10 (chunked prefill, decode past the window, a ragged step), and
 * both refuse a step past max_ctx the same way. */
ParameterizedTest(solo_case *sc, solo, pipeline_session_equals_session, .timeout = 120)
{
    const int W = 4, B = 2, MAXC = 13;
    swacl_config c = small_preset(sc->preset, W, 4);
    swacl_weights *w = NULL;
    cr_assert(swacl_weights_create_random(&c, 5, &w) == SWACL_OK);
    char a[16], b[16];
    two_devices(a, b, sizeof a);
    const char *dev = sc->on_device ? a : "ref";
    swacl_ctx_params base = test_params();
    swacl_pipeline *p = NULL;
    char err[1024];
    cr_assert(pipe_create(dev, "0-3:0", &c, w, &base, &p, err, sizeof err) == SWACL_OK, "%s", err);
    swacl_ctx_params dp = base;
    dp.device = dev;
    swacl_ctx *ctx = NULL;
    swacl_model *m = NULL;
    cr_assert(swacl_ctx_create(&dp, &ctx) == SWACL_OK, "%s", swacl_ctx_errmsg(ctx));
    cr_assert(swacl_model_create(ctx, &c, w, &m) == SWACL_OK, "%s", swacl_ctx_errmsg(ctx));
    swacl_pipeline_session *ps = NULL;
    swacl_session *s = NULL;
    cr_assert(swacl_pipeline_session_create(p, B, MAXC, &ps) == SWACL_OK, "%s", pipe_errmsg(p));
    cr_assert(swacl_session_create(m, B, MAXC, &s) == SWACL_OK, "%s", swacl_ctx_errmsg(ctx));

    const int V = swacl_output_size(&c);
    int32_t *ids;
    float *emb;
    make_input(&c, B, MAXC, 31, &ids, &emb);
    const size_t din = c.vocab_size > 0 ? 0 : (size_t)c.input_dim;
    float *op = malloc((size_t)B * V * sizeof *op), *os = malloc((size_t)B * V * sizeof *os);
    /* prefill 5 tokens in chunks of 2 (ids [B, MAXC]: repack the first 5) */
    const int T0 = 5;
    int32_t *pid = ids ? malloc((size_t)B * T0 * sizeof *pid) : NULL;
    float *pem = emb ? malloc((size_t)B * T0 * din * sizeof *pem) : NULL;
    for (int bb = 0; bb < B; bb++) {
        if (pid) memcpy(pid + bb * T0, ids + bb * MAXC, T0 * sizeof *pid);
        if (pem) memcpy(pem + (size_t)bb * T0 * din, emb + (size_t)bb * MAXC * din, T0 * din * sizeof *pem);
    }
    swacl_input in = {.batch = B, .seq = T0, .ids = pid, .embeds = pem};
    cr_assert(swacl_pipeline_session_prefill(ps, &in, 2, op) == SWACL_OK, "%s", pipe_errmsg(p));
    cr_assert(swacl_session_prefill(s, &in, 2, os) == SWACL_OK, "%s", swacl_ctx_errmsg(ctx));
    char what[128];
    snprintf(what, sizeof what, "%s on %s: prefill", sc->preset, dev);
    expect_nmse(what, op, os, (size_t)B * V, 1e-10);
    /* decode: one token per step, sequence 1 skipping one step */
    int pos[2] = {T0, T0};
    for (int step = 0; pos[0] < MAXC; step++) {
        int nn[2] = {1, step == 2 ? 0 : 1};
        int32_t sid[2];
        float *sem = emb ? malloc((size_t)B * din * sizeof *sem) : NULL;
        for (int bb = 0; bb < B; bb++) {
            if (ids) sid[bb] = ids[bb * MAXC + pos[bb]];
            if (sem) memcpy(sem + bb * din, emb + ((size_t)bb * MAXC + pos[bb]) * din, din * sizeof *sem);
        }
        cr_assert(swacl_pipeline_session_step(ps, 1, nn, ids ? sid : NULL, sem, op) == SWACL_OK, "%s",
                  pipe_errmsg(p));
        cr_assert(swacl_session_step(s, 1, nn, ids ? sid : NULL, sem, os) == SWACL_OK, "%s", swacl_ctx_errmsg(ctx));
        free(sem);
        for (int bb = 0; bb < B; bb++) {
            pos[bb] += nn[bb];
            cr_assert_eq(swacl_pipeline_session_pos(ps, bb), pos[bb]);
            cr_assert_eq(swacl_session_pos(s, bb), pos[bb]);
            if (!nn[bb]) continue; /* row unspecified */
            snprintf(what, sizeof what, "%s on %s: seq %d @%d", sc->preset, dev, bb, pos[bb]);
            expect_nmse(what, op + (size_t)bb * V, os + (size_t)bb * V, (size_t)V, 1e-10);
        }
    }
    /* sequence 0 is at max_ctx: a model with a global layer refuses the
     * next step through both APIs; an all-window one (whole rings, W <
     * max_ctx) streams on, the two still equal */
    int nn[2] = {1, 1};
    int32_t sid[2] = {1, 1};
    float *sem = emb ? calloc((size_t)B * din, sizeof *sem) : NULL;
    const int bounded = sched_kv_bounded(&c, MAXC);
    cr_expect_eq(bounded, strcmp(sc->preset, "rnope-swa") != 0);
    const swacl_status want = bounded ? SWACL_INVALID_ARG : SWACL_OK;
    cr_expect_eq(swacl_pipeline_session_step(ps, 1, nn, ids ? sid : NULL, sem, op), want, "%s",
                 pipe_errmsg(p));
    cr_expect_eq(swacl_session_step(s, 1, nn, ids ? sid : NULL, sem, os), want, "%s", swacl_ctx_errmsg(ctx));
    if (bounded) {
        cr_expect(strstr(pipe_errmsg(p), "max_ctx") != NULL, "%s", pipe_errmsg(p));
        cr_expect(strstr(swacl_ctx_errmsg(ctx), "max_ctx") != NULL, "%s", swacl_ctx_errmsg(ctx));
    } else {
        snprintf(what, sizeof what, "%s on %s: past max_ctx", sc->preset, dev);
        expect_nmse(what, op, os, (size_t)B * V, 1e-10);
    }
    free(sem);
    free(pid);
    free(pem);
    free(op);
    free(os);
    free(ids);
    free(emb);
    swacl_pipeline_session_destroy(ps);
    swacl_session_destroy(s);
    swacl_model_destroy(m);
    swacl_ctx_destroy(ctx);
    pipe_destroy(p);
    swacl_weights_destroy(w);
}

static int fits_all(int dev, int l0, int l1, void *user)
{
    (void)dev, (void)l0, (void)l1, (void)user;
    return 1;
}

/* ------------------------------------------------------------------------ */
/* links: device copy (shared context) vs host staging                       */

typedef struct {
    int host_links;   /* swacl_sched_opts.host_links                        */
    int micro;        /* micro-batches: 2 (uneven: 2 + 3 sequences) or 5    */
} link_case;

ParameterizedTestParameters(links, agree_with_single_device)
{
    static link_case cases[] = {{0, 2}, {0, 5}, {1, 2}, {1, 5}};
    return cr_make_param_array(link_case, cases, sizeof cases / sizeof cases[0]);
}

/* How x reaches a stage on device `to` from one on `from`. */
static const char *expected_link(const char *from, const char *to, int host_links)
{
    int rf = !strcmp(from, "ref"), rt = !strcmp(to, "ref");
    if (rf && rt) return "host";
    if (rf || rt || host_links) return "host-pinned";
    return "device-copy"; /* PoCL: every device on one platform */
}

/* Three stages "a,a,b" (the same device twice, then the other): prefill and
 * a decode session equal the single device / the reference; describe names
 * the transfer each stage gets. Uneven micro-batches make a stage grow its
 * activations between micro-batches while the next stage copies them. */
ParameterizedTest(link_case *lc, links, agree_with_single_device, .timeout = 300)
{
    swacl_config c = small_preset("cohere2", 5, 4);
    swacl_weights *w = NULL;
    cr_assert(swacl_weights_create_random(&c, 9, &w) == SWACL_OK);
    char a[16], b[16], devs[64];
    two_devices(a, b, sizeof a);
    snprintf(devs, sizeof devs, "%s,%s,%s", a, a, b);
    swacl_ctx_params base = test_params();
    swacl_sched_opts o;
    memset(&o, 0, sizeof o);
    o.host_links = lc->host_links;
    swacl_pipeline *p = NULL;
    char err[1024];
    swacl_status st = pipe_create_ex(devs, "0:0,1-2:1,3:2", &c, w, &base, &o, &p, err, sizeof err);
    cr_assert(st == SWACL_OK, "pipeline on %s: %s", devs, err);
    swacl_pipeline_set_micro_batches(p, lc->micro);
    swacl_pipeline_stage stg[4];
    int ns = 0;
    cr_assert(swacl_pipeline_describe(p, stg, 4, &ns) == SWACL_OK);
    cr_assert_eq(ns, 3);
    cr_expect_str_eq(stg[0].transfer_in, "");
    cr_expect_str_eq(stg[1].transfer_in, expected_link(a, a, lc->host_links), "stage 1 on %s", devs);
    cr_expect_str_eq(stg[2].transfer_in, expected_link(a, b, lc->host_links), "stage 2 on %s", devs);

    const int B = 5, T = 7, V = swacl_output_size(&c);
    int32_t *ids;
    float *emb;
    make_input(&c, B, T, 5, &ids, &emb);
    swacl_input in = {.batch = B, .seq = T, .ids = ids, .embeds = emb};
    size_t n = (size_t)B * T * V;
    float *op = malloc(n * sizeof *op), *orf = malloc(n * sizeof *orf);
    swacl_ctx *rctx = test_ref_ctx();
    swacl_model *mr = NULL;
    cr_assert(swacl_model_create(rctx, &c, w, &mr) == SWACL_OK, "%s", swacl_ctx_errmsg(rctx));
    cr_assert(swacl_model_forward(mr, &in, 1, orf) == SWACL_OK, "%s", swacl_ctx_errmsg(rctx));
    char what[160];
    for (int rep = 0; rep < 2; rep++) { /* twice: the second reuses every buffer */
        memset(op, 0, n * sizeof *op);
        st = swacl_pipeline_forward(p, &in, 1, op);
        cr_assert(st == SWACL_OK, "pipeline forward: %s", pipe_errmsg(p));
        snprintf(what, sizeof what, "links %s host_links=%d micro=%d: prefill #%d vs reference", devs,
                 lc->host_links, lc->micro, rep);
        expect_close(what, op, orf, n, ATOL, RTOL, NMSE_GATE);
    }
    cr_assert(swacl_pipeline_describe(p, stg, 4, &ns) == SWACL_OK);
    for (int i = 0; i < ns; i++) cr_expect(stg[i].busy_s > 0, "stage %d busy %g", i, stg[i].busy_s);

    /* decode: prefill 5 tokens in chunks of 2, then 3 single-token steps */
    swacl_pipeline_session *ps = NULL;
    swacl_session *rs = NULL;
    cr_assert(swacl_pipeline_session_create(p, B, 16, &ps) == SWACL_OK, "%s", pipe_errmsg(p));
    cr_assert(swacl_session_create(mr, B, 16, &rs) == SWACL_OK, "%s", swacl_ctx_errmsg(rctx));
    float *sp = malloc((size_t)B * V * sizeof *sp), *sr = malloc((size_t)B * V * sizeof *sr);
    const size_t din = c.vocab_size > 0 ? 0 : (size_t)c.input_dim;
    int32_t *bid = ids ? malloc((size_t)B * 5 * sizeof *bid) : NULL;
    float *bem = emb ? malloc((size_t)B * 5 * din * sizeof *bem) : NULL;
    for (int s0 = 0; s0 < T; s0 = s0 == 0 ? 5 : s0 + 1) {
        const int Ts = s0 == 0 ? 5 : 1;
        for (int bb = 0; bb < B; bb++)
            for (int t = 0; t < Ts; t++) {
                if (bid) bid[bb * Ts + t] = ids[bb * T + s0 + t];
                if (bem) memcpy(bem + ((size_t)bb * Ts + t) * din, emb + ((size_t)bb * T + s0 + t) * din,
                                din * sizeof *bem);
            }
        swacl_input si = {.batch = B, .seq = Ts, .ids = bid, .embeds = bem};
        st = swacl_pipeline_session_prefill(ps, &si, 2, sp);
        cr_assert(st == SWACL_OK, "pipeline session at %d: %s", s0, pipe_errmsg(p));
        cr_assert(swacl_session_prefill(rs, &si, 2, sr) == SWACL_OK, "%s", swacl_ctx_errmsg(rctx));
        snprintf(what, sizeof what, "links %s host_links=%d micro=%d: decode @%d vs reference", devs,
                 lc->host_links, lc->micro, s0 + Ts);
        expect_close(what, sp, sr, (size_t)B * V, ATOL, RTOL, NMSE_GATE);
    }
    free(bid);
    free(bem);
    free(sp);
    free(sr);
    swacl_pipeline_session_destroy(ps);
    swacl_session_destroy(rs);
    free(op);
    free(orf);
    free(ids);
    free(emb);
    swacl_model_destroy(mr);
    swacl_ctx_destroy(rctx);
    pipe_destroy(p);
    swacl_weights_destroy(w);
}

/* "N.K" selectors: two one-compute-unit sub-devices of one device share a
 * context (device-copy link) and the pipeline over them equals the
 * reference; a sub-device index past the partition is a clear error. */
Test(links, sub_devices, .timeout = 300)
{
    swacl_device_info *list = NULL;
    int n = 0, big = -1;
    char err[1024];
    if (swacl_devices_list(NULL, &list, &n) != SWACL_OK) n = 0;
    for (int i = 0; i < n && big < 0; i++)
        if (list[i].compute_units >= 2) big = list[i].index;
    swacl_devices_free(list);
    if (big < 0) cr_skip_test("no OpenCL device with 2 or more compute units to partition");
    swacl_config c = small_preset("rnope-swa", 5, 4);
    swacl_weights *w = NULL;
    cr_assert(swacl_weights_create_random(&c, 13, &w) == SWACL_OK);
    char devs[64];
    snprintf(devs, sizeof devs, "%d.0,%d.1", big, big);
    swacl_ctx_params base = test_params();
    swacl_pipeline *p = NULL;
    swacl_status st = pipe_create(devs, "0-1:0,2-3:1", &c, w, &base, &p, err, sizeof err);
    cr_assert(st == SWACL_OK, "pipeline on %s: %s", devs, err);
    swacl_pipeline_stage stg[2];
    int ns = 0;
    cr_assert(swacl_pipeline_describe(p, stg, 2, &ns) == SWACL_OK);
    cr_assert_eq(ns, 2);
    cr_expect_str_eq(stg[1].transfer_in, "device-copy", "%s", devs);
    cr_expect(strstr(stg[0].device_name, "[sub 0, 1 CU]") != NULL, "name '%s'", stg[0].device_name);
    cr_expect(strstr(stg[1].device_name, "[sub 1, 1 CU]") != NULL, "name '%s'", stg[1].device_name);
    const int B = 3, T = 9, V = swacl_output_size(&c);
    int32_t *ids;
    float *emb;
    make_input(&c, B, T, 4, &ids, &emb);
    swacl_input in = {.batch = B, .seq = T, .ids = ids, .embeds = emb};
    float *op = malloc((size_t)B * V * sizeof *op), *orf = malloc((size_t)B * V * sizeof *orf);
    swacl_ctx *rctx = test_ref_ctx();
    swacl_model *mr = NULL;
    cr_assert(swacl_model_create(rctx, &c, w, &mr) == SWACL_OK, "%s", swacl_ctx_errmsg(rctx));
    cr_assert(swacl_model_forward(mr, &in, 0, orf) == SWACL_OK, "%s", swacl_ctx_errmsg(rctx));
    st = swacl_pipeline_forward(p, &in, 0, op);
    cr_assert(st == SWACL_OK, "forward: %s", pipe_errmsg(p));
    expect_close("sub-device pipeline vs reference", op, orf, (size_t)B * V, ATOL, RTOL, NMSE_GATE);
    pipe_destroy(p);

    /* past the partition: named, and no device opened */
    snprintf(devs, sizeof devs, "%d.0,%d.99", big, big);
    st = pipe_create(devs, "auto", &c, w, &base, &p, err, sizeof err);
    cr_expect_eq(st, SWACL_NO_DEVICE, "%s: %s", devs, swacl_status_string(st));
    cr_expect(p == NULL);
    cr_expect(strstr(err, "sub-device") && strstr(err, "does not exist"), "message: %s", err);
    free(op);
    free(orf);
    free(ids);
    free(emb);
    swacl_model_destroy(mr);
    swacl_ctx_destroy(rctx);
    swacl_weights_destroy(w);
}

/* The split counts transfers: a stage that receives x pays t_in, one that
 * sends it pays t_out, so a slow link keeps layers together. */
Test(placement, split_counts_transfers)
{
    const int L = 4;
    double cost[2 * 4] = {1, 1, 1, 1, 1, 1, 1, 1};
    int dol[4];
    cr_assert_eq(sched_split(2, L, cost, NULL, NULL, fits_all, NULL, dol), 0);
    cr_expect(dol[0] == 0 && dol[1] == 0 && dol[2] == 1 && dol[3] == 1, "free transfers: 2 + 2");
    /* receiving costs 3: 2 + (2 + 3) = 5 > 4 on one device */
    double t_in[2] = {3, 3}, t_out[2] = {0, 0};
    cr_assert_eq(sched_split(2, L, cost, t_in, t_out, fits_all, NULL, dol), 0);
    for (int l = 0; l < L; l++) cr_expect_eq(dol[l], 0, "slow link: layer %d on device %d", l, dol[l]);
    /* cheap transfers: 3 layers + send (0.5) vs 1 layer + receive (0.5)
     * loses to 2 + 0.5 both sides */
    double t_in2[2] = {0.5, 0.5}, t_out2[2] = {0.5, 0.5};
    cr_assert_eq(sched_split(2, L, cost, t_in2, t_out2, fits_all, NULL, dol), 0);
    cr_expect(dol[0] == 0 && dol[1] == 0 && dol[2] == 1 && dol[3] == 1, "cheap link: 2 + 2");
}

/* Under MPI every rank must take a layer: the slow link above put all on
 * device 0, nonempty keeps one stage per device (and fails when it can't). */
Test(placement, split_nonempty)
{
    const int L = 4;
    double cost[2 * 4] = {1, 1, 1, 1, 1, 1, 1, 1}, t_in[2] = {3, 3}, t_out[2] = {0, 0};
    int dol[4];
    cr_assert_eq(sched_split_ex(2, L, cost, t_in, t_out, fits_all, NULL, 1, dol), 0);
    int n1 = 0;
    for (int l = 0; l < L; l++) n1 += dol[l] == 1;
    cr_expect(dol[0] == 0 && n1 >= 1 && dol[L - 1] == 1, "each device a layer: %d %d %d %d", dol[0], dol[1],
              dol[2], dol[3]);
    /* a very slow device 0 still keeps layer 0 */
    double skew[2 * 4] = {100, 100, 100, 100, 1, 1, 1, 1};
    cr_assert_eq(sched_split_ex(2, L, skew, NULL, NULL, fits_all, NULL, 1, dol), 0);
    cr_expect(dol[0] == 0 && dol[1] == 1 && dol[2] == 1 && dol[3] == 1, "slow device 0: one layer");
    double cost5[5 * 4];
    for (int i = 0; i < 5 * 4; i++) cost5[i] = 1;
    cr_expect_eq(sched_split_ex(5, L, cost5, NULL, NULL, fits_all, NULL, 1, dol), -1, "5 devices, 4 layers");
}

/* ------------------------------------------------------------------------ */
/* placement                                                                 */

static swacl_weights *weights_for(const swacl_config *c)
{
    swacl_weights *w = NULL;
    cr_assert(swacl_weights_create_random(c, 3, &w) == SWACL_OK);
    return w;
}

Test(placement, auto_balances_and_caches, .timeout = 300)
{
    swacl_config c = small_preset("rnope-swa", 8, 6);
    swacl_weights *w = weights_for(&c);
    char dir[] = "/tmp/swacl-sched-test-XXXXXX";
    cr_assert(mkdtemp(dir) != NULL);
    char a[16], b[16], devs[40];
    two_devices(a, b, sizeof a);
    snprintf(devs, sizeof devs, "%s,%s", a, b);
    swacl_ctx_params base = test_params();
    base.cache_dir = dir;
    char err[1024], path[256];
    for (int round = 0; round < 2; round++) { /* round 1 reads the cache */
        swacl_pipeline *p = NULL;
        swacl_status st = pipe_create(devs, "auto", &c, w, &base, &p, err, sizeof err);
        cr_assert(st == SWACL_OK, "auto on %s: %s", devs, err);
        swacl_pipeline_stage stg[4];
        int ns = 0, next = 0;
        cr_assert(swacl_pipeline_describe(p, stg, 4, &ns) == SWACL_OK);
        for (int i = 0; i < ns; i++) {
            cr_expect_eq(stg[i].layer_begin, next);
            cr_expect(stg[i].layer_end > stg[i].layer_begin);
            next = stg[i].layer_end;
        }
        cr_expect_eq(next, c.n_layers);
        pipe_destroy(p);
        snprintf(path, sizeof path, "%s/sched-calib.json", dir);
        cr_assert(access(path, R_OK) == 0, "calibration cache %s not written", path);
    }
    /* "all" works on whatever this machine has */
    swacl_pipeline *p = NULL;
    cr_assert(pipe_create("all", NULL, &c, w, &base, &p, err, sizeof err) == SWACL_OK, "%s", err);
    pipe_destroy(p);
    remove(path);
    rmdir(dir);
    swacl_weights_destroy(w);
}

Test(placement, does_not_fit)
{
    swacl_config c = small_preset("cohere2", 8, 4);
    swacl_weights *w = weights_for(&c);
    swacl_ctx_params base = test_params();
    base.cache_dir = "off";
    swacl_sched_opts o;
    memset(&o, 0, sizeof o);
    o.mem_limit = 64 << 10; /* 64 KiB per device: one layer is ~400 KiB */
    swacl_pipeline *p = NULL;
    char err[1024];
    swacl_status st = pipe_create_ex("ref,ref", "0-1:0,2-3:1", &c, w, &base, &o, &p, err, sizeof err);
    cr_assert_eq(st, SWACL_OUT_OF_MEMORY, "status %d: %s", st, err);
    cr_assert_null(p);
    cr_expect(strstr(err, "do not fit device 0") && strstr(err, "bytes") && strstr(err, "cpu-reference"), "%s", err);
    st = pipe_create_ex("ref,ref", "auto", &c, w, &base, &o, &p, err, sizeof err);
    cr_assert_eq(st, SWACL_OUT_OF_MEMORY, "status %d: %s", st, err);
    cr_expect(strstr(err, "no placement") && strstr(err, "bytes"), "%s", err);

    /* weights fit, a long session's KV cache does not */
    o.mem_limit = 0;
    o.plan_rows = 16;
    uint64_t need = sched_stage_bytes(&c, 0, 2, 16, 0, 0, NULL);
    uint64_t need2 = sched_stage_bytes(&c, 2, 4, 16, 0, 0, NULL);
    o.mem_limit = (need > need2 ? need : need2) + (1 << 20);
    st = pipe_create_ex("ref,ref", "0-1:0,2-3:1", &c, w, &base, &o, &p, err, sizeof err);
    cr_assert_eq(st, SWACL_OK, "%s", err);
    swacl_pipeline_session *s = NULL;
    st = swacl_pipeline_session_create(p, 4, 1 << 16, &s);
    cr_assert_eq(st, SWACL_OUT_OF_MEMORY, "status %d", st);
    cr_assert_null(s);
    cr_expect(strstr(pipe_errmsg(p), "KV cache") && strstr(pipe_errmsg(p), "bytes"), "%s",
              pipe_errmsg(p));
    cr_assert_eq(swacl_pipeline_session_create(p, 1, 64, &s), SWACL_OK, "%s", pipe_errmsg(p));
    swacl_pipeline_session_destroy(s);
    pipe_destroy(p);
    swacl_weights_destroy(w);
}

Test(placement, unknown_device)
{
    swacl_config c = small_preset("baseline", 8, 2);
    swacl_weights *w = weights_for(&c);
    swacl_pipeline *p = NULL;
    char err[1024];
    swacl_status st = pipe_create("ref,97", "auto", &c, w, NULL, &p, err, sizeof err);
    cr_assert_eq(st, SWACL_NO_DEVICE, "status %d: %s", st, err);
    cr_assert_null(p);
    cr_expect(strstr(err, "device index 97 does not exist") != NULL, "%s", err);
    st = pipe_create("ref,,ref", "auto", &c, w, NULL, &p, err, sizeof err);
    cr_assert_eq(st, SWACL_INVALID_ARG, "status %d: %s", st, err);
    cr_expect(strstr(err, "empty") != NULL, "%s", err);
    swacl_weights_destroy(w);
}

Test(placement, bad_specs)
{
    swacl_config c = small_preset("swan", 8, 4);
    swacl_weights *w = weights_for(&c);
    static const struct {
        const char *spec, *want;
    } bad[] = {
        {"0-2:0", "layers 3-3 are not placed"},
        {"0-1:0,3:1", "layer 2 is not placed"},
        {"0-2:0,2-3:1", "layer 2 is placed twice"},
        {"0-4:0", "layer 4 does not exist"},
        {"0-3:2", "device 2 is not in the device list"},
        {"0:0,1:1,2-3:0", "device 0 gets two separate layer ranges"},
        {"3-0:0", "reversed"},
        {"0-3", "expected ':DEVICE'"},
        {"0-3:", "expected a device index"},
        {"0-1:0,", "trailing ','"},
        {"a-3:0", "expected a layer number"},
        {"0-1:0;2-3:1", "unexpected ';'"},
        {"", "empty placement spec"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        swacl_pipeline *p = NULL;
        char err[1024] = "";
        /* an empty string means auto in the API; test the parser directly */
        if (!bad[i].spec[0]) {
            int dl[4];
            cr_expect_eq(sched_parse_spec("", 4, 2, dl, err, sizeof err), SWACL_INVALID_ARG);
        } else {
            swacl_status st = pipe_create("ref,ref", bad[i].spec, &c, w, NULL, &p, err, sizeof err);
            cr_expect_eq(st, SWACL_INVALID_ARG, "spec '%s': status %d (%s)", bad[i].spec, st, err);
            cr_expect_null(p);
            pipe_destroy(p);
        }
        cr_expect(strstr(err, bad[i].want) != NULL, "spec '%s': message '%s' lacks '%s'", bad[i].spec, err,
                  bad[i].want);
    }
    /* adjacent ranges on one device merge into one stage */
    swacl_pipeline *p = NULL;
    char err[1024];
    cr_assert(pipe_create("ref,ref", "0-1:1,2:1,3:0", &c, w, NULL, &p, err, sizeof err) == SWACL_OK,
              "%s", err);
    swacl_pipeline_stage stg[4];
    int ns = 0;
    swacl_pipeline_describe(p, stg, 4, &ns);
    cr_expect_eq(ns, 2);
    cr_expect(stg[0].device == 1 && stg[0].layer_begin == 0 && stg[0].layer_end == 3);
    cr_expect(stg[1].device == 0 && stg[1].layer_begin == 3 && stg[1].layer_end == 4);
    pipe_destroy(p);
    swacl_weights_destroy(w);
}

/* A stage failing mid-run: the others are woken and joined, the error names
 * the stage, and the pipeline still works afterwards. */
Test(placement, stage_failure_aborts)
{
    swacl_config c = small_preset("irope", 8, 4);
    swacl_weights *w = weights_for(&c);
    swacl_ctx_params base = test_params();
    int32_t *ids;
    float *emb;
    make_input(&c, 4, 6, 1, &ids, &emb);
    swacl_input in = {.batch = 4, .seq = 6, .ids = ids, .embeds = emb};
    float *out = malloc((size_t)4 * swacl_output_size(&c) * sizeof *out);
    for (int fs = 1; fs <= 3; fs++) {
        swacl_sched_opts o;
        memset(&o, 0, sizeof o);
        o.fail_stage = fs;
        swacl_pipeline *p = NULL;
        char err[1024];
        cr_assert(pipe_create_ex("ref,ref,ref", "0:0,1-2:1,3:2", &c, w, &base, &o, &p, err,
                                           sizeof err) == SWACL_OK, "%s", err);
        swacl_pipeline_set_micro_batches(p, 4);
        swacl_status st = swacl_pipeline_forward(p, &in, 0, out);
        cr_expect_eq(st, SWACL_INTERNAL, "fail_stage %d: status %d", fs, st);
        char want[32];
        snprintf(want, sizeof want, "stage %d ", fs - 1);
        cr_expect(strstr(pipe_errmsg(p), want) && strstr(pipe_errmsg(p), "injected"), "%s",
                  pipe_errmsg(p));
        swacl_pipeline_session *s = NULL;
        cr_assert(swacl_pipeline_session_create(p, 4, 16, &s) == SWACL_OK);
        cr_expect_eq(swacl_pipeline_session_step(s, 6, NULL, ids, emb, out), SWACL_INTERNAL);
        cr_expect_eq(swacl_pipeline_session_pos(s, 0), 0, "a failed step does not advance");
        swacl_pipeline_session_destroy(s);
        pipe_destroy(p);
    }
    free(out);
    free(ids);
    free(emb);
    swacl_weights_destroy(w);
}
