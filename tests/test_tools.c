/*
 * test_tools.c - the library's helpers for tools (swacl.h "Host helpers"
 * and the tuner's argument checks): swacl_compare, token-id text, the
 * sampler, the seeded random stream, a forward pass's input (file or
 * random), a tool's config (preset or checkpoint), the one-stage pipeline
 * over a model, the layer pattern, the verifier against the CPU reference,
 * swacl_tune_gemm's usage errors. None needs an OpenCL device.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "swacl.h"
#include "internal.h" /* swacl_rng: the reference sampler below */

static swacl_ctx *host_ctx(void)
{
    swacl_ctx_params p = swacl_ctx_params_default();
    p.device = "ref";
    swacl_ctx *ctx = NULL;
    cr_assert(swacl_ctx_create(&p, &ctx) == SWACL_OK);
    return ctx;
}

Test(tools, compare)
{
    const float a[] = {1.0f, 2.5f, NAN, 4.0f, 0.0f};
    const float r[] = {1.0f, 2.0f, 3.0f, INFINITY, 0.1f};
    swacl_compare_result c = swacl_compare(a, r, 5, 0.2, 0.0);
    cr_expect(c.nonfinite == 2, "nonfinite %zu", c.nonfinite);
    cr_expect(fabs(c.max_abs_err - 0.5) < 1e-6 && c.worst == 1, "max %g at %zu", c.max_abs_err,
              c.worst);
    cr_expect(c.n_bad == 1, "n_bad %zu (only |2.5-2| > 0.2)", c.n_bad);
    double nmse = (0.25 + 0.01) / (1.0 + 4.0 + 0.01);
    cr_expect(fabs(c.nmse - nmse) < 1e-6, "nmse %g, want %g", c.nmse, nmse);
    const float z[] = {0, 0}, y[] = {0.5f, 0};
    c = swacl_compare(y, z, 2, 0, 0);
    cr_expect(fabs(c.nmse - 0.25) < 1e-9, "all-zero reference: plain sum of squares");
}

Test(tools, ids_parse)
{
    swacl_ctx *ctx = host_ctx();
    int32_t *ids = NULL;
    int B = 0, T = 0;
    cr_assert(swacl_ids_parse(ctx, "1 2 3\n4,5,6\n\n", "t", 10, &ids, &B, &T) == SWACL_OK, "%s",
              swacl_ctx_errmsg(ctx));
    cr_expect(B == 2 && T == 3 && ids[0] == 1 && ids[3] == 4 && ids[5] == 6);
    swacl_free(ids);
    cr_expect(swacl_ids_parse(ctx, "1 2\n3", "f", 10, &ids, &B, &T) == SWACL_FORMAT);
    cr_expect(strstr(swacl_ctx_errmsg(ctx), "f:2:") != NULL, "%s", swacl_ctx_errmsg(ctx));
    cr_expect(swacl_ids_parse(ctx, "1,x,3", "--prompt-ids", 10, &ids, &B, &T) == SWACL_FORMAT);
    cr_expect(strstr(swacl_ctx_errmsg(ctx), "'x'") != NULL, "%s", swacl_ctx_errmsg(ctx));
    cr_expect(swacl_ids_parse(ctx, "9 10", "v", 10, &ids, &B, &T) == SWACL_FORMAT, "id == vocab");
    cr_expect(swacl_ids_parse(ctx, " \n ", "e", 10, &ids, &B, &T) == SWACL_FORMAT, "no ids");
    cr_expect(swacl_ids_parse(ctx, "1", "c", 0, &ids, &B, &T) == SWACL_INVALID_ARG, "no vocab");
    cr_expect(ids == NULL);
    cr_expect(swacl_ids_read(ctx, "/nonexistent/ids.txt", 10, &ids, &B, &T) == SWACL_IO);
    swacl_ctx_destroy(ctx);
}

Test(tools, sampler_and_random)
{
    swacl_ctx *ctx = host_ctx();
    const float logits[] = {0.1f, 3.0f, -1.0f, 2.9f};
    swacl_sample_params greedy = {0, 0, 1.0}, topk1 = {1.0, 1, 1.0}, hot = {1.0, 0, 1.0};
    swacl_sampler *s = NULL, *s2 = NULL;
    cr_assert(swacl_sampler_create(ctx, &greedy, 4, 7, &s) == SWACL_OK);
    cr_expect(swacl_sampler_next(s, logits) == 1);
    swacl_sampler_destroy(s);
    cr_assert(swacl_sampler_create(ctx, &topk1, 4, 7, &s) == SWACL_OK);
    for (int i = 0; i < 20; i++) cr_expect(swacl_sampler_next(s, logits) == 1, "top_k 1");
    swacl_sampler_destroy(s);
    cr_assert(swacl_sampler_create(ctx, &hot, 4, 99, &s) == SWACL_OK);
    cr_assert(swacl_sampler_create(ctx, &hot, 4, 99, &s2) == SWACL_OK);
    for (int i = 0; i < 50; i++) {
        int32_t a = swacl_sampler_next(s, logits);
        cr_expect(a == swacl_sampler_next(s2, logits) && a >= 0 && a < 4, "same seed, same ids");
    }
    swacl_sampler_destroy(s);
    swacl_sampler_destroy(s2);
    swacl_sample_params bad = {1.0, 0, 0.0};
    cr_expect(swacl_sampler_create(ctx, &bad, 4, 1, &s) == SWACL_INVALID_ARG && !s, "top_p 0");

    uint64_t st1 = 5, st2 = 5;
    int32_t i1[8], i2[8];
    float f1[8];
    swacl_random_ids(&st1, 3, i1, 8);
    swacl_random_ids(&st2, 3, i2, 8);
    cr_expect(!memcmp(i1, i2, sizeof i1) && st1 == st2 && st1 != 5, "deterministic, advances");
    swacl_random_uniform(&st1, f1, 8);
    for (int i = 0; i < 8; i++) cr_expect(i1[i] >= 0 && i1[i] < 3 && f1[i] >= -1 && f1[i] < 1);
    swacl_ctx_destroy(ctx);
}

/* The sampler as it was, by a full qsort of the vocabulary: the selection
 * (top-k heap, radix sort) must pick exactly the same ids. */
typedef struct {
    float p;
    int id;
} ref_cand;

static int ref_desc(const void *a, const void *b)
{
    float x = ((const ref_cand *)a)->p, y = ((const ref_cand *)b)->p;
    return x < y ? 1 : x > y ? -1 : ((const ref_cand *)a)->id - ((const ref_cand *)b)->id;
}

static int32_t ref_sample(const swacl_sample_params *sp, swacl_rng *rng, const float *logits,
                          int V, ref_cand *buf)
{
    float mx = logits[0];
    for (int i = 1; i < V; i++) mx = logits[i] > mx ? logits[i] : mx;
    double sum = 0;
    for (int i = 0; i < V; i++) {
        buf[i].id = i;
        buf[i].p = expf((float)((logits[i] - mx) / sp->temperature));
        sum += buf[i].p;
    }
    qsort(buf, (size_t)V, sizeof *buf, ref_desc);
    int n = sp->top_k > 0 && sp->top_k < V ? sp->top_k : V;
    double keep = 0;
    int m = 0;
    for (; m < n; m++) {
        keep += buf[m].p / sum;
        if (keep >= sp->top_p) {
            m++;
            break;
        }
    }
    if (m > n) m = n;
    double tot = 0;
    for (int i = 0; i < m; i++) tot += buf[i].p;
    double r = (0.5 + 0.5 * (double)swacl_rng_uniform(rng)) * tot, acc = 0;
    for (int i = 0; i < m; i++) {
        acc += buf[i].p;
        if (r < acc) return buf[i].id;
    }
    return buf[m - 1].id;
}

Test(tools, sampler_matches_full_sort)
{
    swacl_ctx *ctx = host_ctx();
    const int vocabs[] = {1, 2, 5, 17, 100, 4099, 32000};
    const double temps[] = {0.3, 1.0, 2.5}, top_ps[] = {1.0, 0.9, 0.5, 1e-6};
    uint64_t st = 12345;
    int checked = 0, distinct_deep = 0;
    for (size_t iv = 0; iv < sizeof vocabs / sizeof *vocabs; iv++) {
        const int V = vocabs[iv];
        float *logits = malloc((size_t)V * sizeof *logits);
        ref_cand *buf = malloc((size_t)V * sizeof *buf);
        cr_assert(logits && buf);
        /* kinds: continuous, heavy ties (few distinct values), a -INF tail */
        for (int kind = 0; kind < 3; kind++) {
            swacl_random_uniform(&st, logits, (size_t)V);
            for (int i = 0; i < V; i++) {
                if (kind == 0) logits[i] *= 8.0f;
                if (kind == 1) logits[i] = floorf(logits[i] * 3.0f);
                if (kind == 2 && i % 3 == 1) logits[i] = -INFINITY;
            }
            const int ks[] = {0, 1, 2, V / 16, V / 16 + 1, V - 1, V, V + 5};
            for (size_t it = 0; it < sizeof temps / sizeof *temps; it++)
                for (size_t ik = 0; ik < sizeof ks / sizeof *ks; ik++)
                    for (size_t ip = 0; ip < sizeof top_ps / sizeof *top_ps; ip++) {
                        swacl_sample_params sp = {temps[it], ks[ik], top_ps[ip]};
                        swacl_sampler *s = NULL;
                        const uint64_t seed = 1000 + (uint64_t)checked;
                        cr_assert(swacl_sampler_create(ctx, &sp, V, seed, &s) == SWACL_OK);
                        swacl_rng rng = {.s = seed};
                        for (int d = 0; d < 4; d++) {
                            const int32_t a = swacl_sampler_next(s, logits);
                            const int32_t b = ref_sample(&sp, &rng, logits, V, buf);
                            cr_expect(a == b, "V %d kind %d T %g k %d p %g draw %d: %d vs %d", V,
                                      kind, sp.temperature, sp.top_k, sp.top_p, d, a, b);
                            distinct_deep += b != buf[0].id;
                            checked++;
                        }
                        swacl_sampler_destroy(s);
                    }
        }
        free(logits);
        free(buf);
    }
    /* not only ever the most likely id: the order past the first matters */
    cr_expect(distinct_deep > checked / 4, "%d of %d draws past the top", distinct_deep, checked);
    swacl_ctx_destroy(ctx);
}

Test(tools, config_pattern)
{
    swacl_config cfg;
    cr_assert(swacl_preset("cohere2", &cfg) == SWACL_OK);
    char buf[512], tiny[12];
    swacl_config_pattern(&cfg, buf, sizeof buf);
    cr_expect(strchr(buf, 'G') && strstr(buf, "W") && strstr(buf, "+rope"), "%s", buf);
    swacl_config_pattern(&cfg, tiny, sizeof tiny);
    cr_expect(strstr(tiny, "...") && strlen(tiny) < sizeof tiny, "truncated: '%s'", tiny);
}

Test(tools, tune_gemm_usage_errors)
{
    swacl_ctx *ctx = host_ctx();
    swacl_tune_gemm_params p = swacl_tune_gemm_params_default();
    swacl_tune_gemm_result r;
    p.shapes = "1,2";
    cr_expect(swacl_tune_gemm(ctx, &p, &r) == SWACL_INVALID_ARG);
    cr_expect(strstr(swacl_ctx_errmsg(ctx), "--shapes") != NULL, "%s", swacl_ctx_errmsg(ctx));
    p.shapes = "8,8,8";
    p.device = "ref";
    cr_expect(swacl_tune_gemm(ctx, &p, &r) == SWACL_INVALID_ARG, "ref has no GEMM to tune");
    p.device = NULL;
    p.budget_s = -1;
    cr_expect(swacl_tune_gemm(ctx, &p, &r) == SWACL_INVALID_ARG);
    cr_expect(swacl_tune_gemm_probe(ctx, NULL, "1,2,x") == SWACL_INVALID_ARG);
    swacl_ctx_destroy(ctx);
}

/* A small token model with random weights, for the verifier tests. */
static void small_model(swacl_config *cfg, swacl_weights **w)
{
    swacl_preset_params pp = {.hidden_size = 64, .n_heads = 2, .n_kv_heads = 1, .n_layers = 2,
                              .ffn_dim = 96, .vocab_size = 40, .window = 4};
    cr_assert(swacl_preset_ex("cohere2", &pp, cfg) == SWACL_OK);
    cr_assert(swacl_weights_create_random(cfg, 3, w) == SWACL_OK);
}

Test(tools, verify_forward)
{
    swacl_ctx *ctx = host_ctx();
    swacl_config cfg;
    swacl_weights *w = NULL;
    small_model(&cfg, &w);
    const int V = swacl_output_size(&cfg), B = 2, T = 6;
    int32_t ids[12];
    uint64_t rs = 11;
    swacl_random_ids(&rs, cfg.vocab_size, ids, 12);
    swacl_input in = {B, T, ids, NULL};
    float *out = calloc((size_t)B * T * V, sizeof *out);
    swacl_model *m = NULL;
    cr_assert(swacl_model_create(ctx, &cfg, w, &m) == SWACL_OK);
    cr_assert(swacl_model_forward(m, &in, 1, out) == SWACL_OK);

    swacl_tolerance def = swacl_tolerance_default();
    cr_expect(def.struct_size == sizeof def && def.nmse == 1e-6 && def.atol < 0 && def.rtol < 0 &&
                  def.calibrated == 1.0,
              "defaults: nmse 1e-6, the calibrated elementwise bound");
    swacl_verify_result r;
    cr_assert(swacl_verify_forward(ctx, &cfg, w, &in, 1, out, NULL, &r) == SWACL_OK, "%s",
              swacl_ctx_errmsg(ctx));
    cr_expect(r.ok && r.checks == 1 && r.nmse < 1e-12 && r.nonfinite == 0 && r.n_bad == 0,
              "the reference against itself: nmse %g", r.nmse);
    cr_expect(r.ref_seconds > 0);

    /* one element off by 1: within a loose nmse, caught elementwise */
    out[5] += 1.0f;
    swacl_tolerance loose = def, ew = def, old = {0, 1.0, -1, -1, 0, 0}; /* struct_size 0: this header's */
    loose.nmse = ew.nmse = 1.0;
    loose.calibrated = 0; /* nmse only */
    ew.atol = 0.5;
    cr_assert(swacl_verify_forward(ctx, &cfg, w, &in, 1, out, &loose, &r) == SWACL_OK);
    cr_expect(r.ok && r.n_bad == 0 && fabs(r.max_abs_err - 1.0) < 1e-3, "max %g", r.max_abs_err);
    cr_assert(swacl_verify_forward(ctx, &cfg, w, &in, 1, out, &old, &r) == SWACL_OK);
    cr_expect(r.ok, "struct_size 0 reads the whole struct");
    cr_assert(swacl_verify_forward(ctx, &cfg, w, &in, 1, out, &ew, &r) == SWACL_OK);
    cr_expect(!r.ok && r.n_bad == 1, "atol 0.5: n_bad %zu", r.n_bad);
    cr_assert(swacl_verify_forward(ctx, &cfg, w, &in, 1, out, NULL, &r) == SWACL_OK);
    cr_expect(!r.ok && r.nmse > 1e-6, "default bound: nmse %g", r.nmse);
    cr_expect(r.n_bad >= 1 && r.rtol > 0 && r.rtol < 1e-3 && r.atol > 0 && r.bound_ratio > 1,
              "the calibrated bound catches it: n_bad %zu rtol %g", r.n_bad, r.rtol);
    out[0] = NAN;
    cr_assert(swacl_verify_forward(ctx, &cfg, w, &in, 1, out, &loose, &r) == SWACL_OK);
    cr_expect(!r.ok && r.nonfinite == 1, "a NaN fails");
    char msg[256];
    cr_expect(r.nonfinite_out == 1 &&
                  strstr(swacl_verify_describe(&r, 1.0, msg, sizeof msg), "1 non-finite values in the device output"),
              "%s", msg);

    /* usage errors land on ctx */
    swacl_input bad = {0, T, ids, NULL};
    cr_expect(swacl_verify_forward(ctx, &cfg, w, &bad, 1, out, NULL, &r) == SWACL_INVALID_ARG);
    cr_expect(strstr(swacl_ctx_errmsg(ctx), "swacl_verifier_forward") != NULL, "%s",
              swacl_ctx_errmsg(ctx));
    swacl_model_destroy(m);
    swacl_weights_destroy(w);
    free(out);
    swacl_ctx_destroy(ctx);
}

Test(tools, verifier_session)
{
    swacl_ctx *ctx = host_ctx();
    swacl_config cfg;
    swacl_weights *w = NULL;
    small_model(&cfg, &w);
    const int V = swacl_output_size(&cfg), B = 2, P = 5, max_ctx = 12;
    int32_t ids[2 * 5];
    uint64_t rs = 4;
    swacl_random_ids(&rs, cfg.vocab_size, ids, 10);
    swacl_model *m = NULL;
    swacl_session *s = NULL;
    swacl_verifier *v = NULL;
    float *out = calloc((size_t)B * V, sizeof *out);
    cr_assert(swacl_model_create(ctx, &cfg, w, &m) == SWACL_OK);
    cr_assert(swacl_session_create(m, B, max_ctx, &s) == SWACL_OK);
    cr_assert(swacl_verifier_create(ctx, &cfg, w, NULL, B, max_ctx, &v) == SWACL_OK, "%s",
              swacl_ctx_errmsg(ctx));
    cr_expect(swacl_verifier_result(v).ok && swacl_verifier_result(v).checks == 0);

    swacl_input in = {B, P, ids, NULL};
    cr_assert(swacl_session_prefill(s, &in, 2, out) == SWACL_OK);
    cr_assert(swacl_verifier_prefill(v, &in, 2, out) == SWACL_OK, "%s", swacl_ctx_errmsg(ctx));
    int32_t next[2] = {1, 2};
    for (int t = 0; t < 3; t++) {
        cr_assert(swacl_session_step(s, 1, NULL, next, NULL, out) == SWACL_OK);
        cr_assert(swacl_verifier_step(v, 1, NULL, next, NULL, out) == SWACL_OK);
    }
    /* sequence 0 takes no token: its (unspecified) row is left out */
    const int n_new[2] = {0, 1};
    cr_assert(swacl_session_step(s, 1, n_new, next, NULL, out) == SWACL_OK);
    for (int i = 0; i < V; i++) out[i] = NAN;
    cr_assert(swacl_verifier_step(v, 1, n_new, next, NULL, out) == SWACL_OK);
    swacl_verify_result r = swacl_verifier_result(v);
    cr_expect(r.ok && r.checks == 5 && r.nmse < 1e-12 && r.nonfinite == 0,
              "lockstep: %d checks, nmse %g", r.checks, r.nmse);
    /* a wrong step is remembered: the result is the worst so far */
    out[V] += 10.0f;
    cr_assert(swacl_session_step(s, 1, NULL, next, NULL, out) == SWACL_OK);
    out[V] += 10.0f;
    cr_assert(swacl_verifier_step(v, 1, NULL, next, NULL, out) == SWACL_OK);
    cr_assert(swacl_session_step(s, 1, NULL, next, NULL, out) == SWACL_OK);
    cr_assert(swacl_verifier_step(v, 1, NULL, next, NULL, out) == SWACL_OK);
    r = swacl_verifier_result(v);
    cr_expect(!r.ok && r.checks == 7 && r.max_abs_err > 9, "max %g", r.max_abs_err);
    swacl_verifier_destroy(v);

    /* no session: prefill / step are usage errors on ctx */
    cr_assert(swacl_verifier_create(ctx, &cfg, w, NULL, B, 0, &v) == SWACL_OK);
    cr_expect(swacl_verifier_step(v, 1, NULL, next, NULL, out) == SWACL_INVALID_ARG);
    cr_expect(strstr(swacl_ctx_errmsg(ctx), "no session") != NULL, "%s", swacl_ctx_errmsg(ctx));
    swacl_verifier_destroy(v);
    swacl_verifier *v2 = (swacl_verifier *)1;
    cr_expect(swacl_verifier_create(ctx, NULL, w, NULL, 1, 0, &v2) == SWACL_INVALID_ARG && !v2);
    swacl_session_destroy(s);
    swacl_model_destroy(m);
    swacl_weights_destroy(w);
    free(out);
    swacl_ctx_destroy(ctx);
}

Test(tools, input_load)
{
    swacl_ctx *ctx = host_ctx();
    swacl_config tok, cont;
    cr_assert(swacl_preset("cohere2", &tok) == SWACL_OK);
    cr_assert(swacl_preset("rnope-swa", &cont) == SWACL_OK);
    swacl_input in, in2;
    /* random: the seeded stream, same state same input */
    cr_assert(swacl_input_load(ctx, &tok, NULL, NULL, 2, 3, 9, &in) == SWACL_OK);
    cr_assert(swacl_input_load(ctx, &tok, NULL, NULL, 2, 3, 9, &in2) == SWACL_OK);
    int32_t want[6];
    uint64_t st = 9;
    swacl_random_ids(&st, tok.vocab_size, want, 6);
    cr_expect(in.batch == 2 && in.seq == 3 && in.ids && !in.embeds);
    cr_expect(!memcmp(in.ids, want, sizeof want) && !memcmp(in.ids, in2.ids, sizeof want));
    swacl_input_free(&in);
    swacl_input_free(&in2);
    cr_expect(in.ids == NULL && in.embeds == NULL);
    cr_assert(swacl_input_load(ctx, &cont, NULL, NULL, 1, 4, 9, &in) == SWACL_OK);
    cr_expect(in.embeds && !in.ids && in.embeds[4 * cont.input_dim - 1] >= -1.0f);
    swacl_input_free(&in);
    cr_expect(swacl_input_load(ctx, &tok, NULL, NULL, 0, 4, 9, &in) == SWACL_INVALID_ARG);

    /* files: ids text and a .npy [B, T, input_dim]; B and T are the file's */
    char dir[] = "/tmp/swacl_tools_XXXXXX", ids_path[64], npy_path[64];
    cr_assert(mkdtemp(dir) != NULL);
    snprintf(ids_path, sizeof ids_path, "%s/ids.txt", dir);
    snprintf(npy_path, sizeof npy_path, "%s/x.npy", dir);
    FILE *f = fopen(ids_path, "w");
    cr_assert(f);
    fputs("1 2 3 4\n5 6 7 8\n9 10 11 12\n", f);
    fclose(f);
    cr_assert(swacl_input_load(ctx, &tok, ids_path, NULL, 1, 1, 0, &in) == SWACL_OK, "%s",
              swacl_ctx_errmsg(ctx));
    cr_expect(in.batch == 3 && in.seq == 4 && in.ids[11] == 12);
    swacl_input_free(&in);
    const int D = cont.input_dim;
    float *x = calloc((size_t)2 * 5 * (D + 1), sizeof *x); /* room for bad_shape too */
    x[7] = 0.5f;
    int64_t shape[3] = {2, 5, D}, bad_shape[3] = {2, 5, D + 1};
    cr_assert(swacl_npy_save(ctx, npy_path, x, 3, shape) == SWACL_OK);
    cr_assert(swacl_input_load(ctx, &cont, NULL, npy_path, 1, 1, 0, &in) == SWACL_OK, "%s",
              swacl_ctx_errmsg(ctx));
    cr_expect(in.batch == 2 && in.seq == 5 && in.embeds[7] == 0.5f);
    swacl_input_free(&in);

    /* the wrong kind of file for the model, both files, a bad shape */
    cr_expect(swacl_input_load(ctx, &cont, ids_path, NULL, 1, 1, 0, &in) == SWACL_INVALID_ARG);
    cr_expect(strstr(swacl_ctx_errmsg(ctx), "continuous") != NULL, "%s", swacl_ctx_errmsg(ctx));
    cr_expect(swacl_input_load(ctx, &tok, NULL, npy_path, 1, 1, 0, &in) == SWACL_INVALID_ARG);
    cr_expect(swacl_input_load(ctx, &tok, ids_path, npy_path, 1, 1, 0, &in) == SWACL_INVALID_ARG);
    cr_assert(swacl_npy_save(ctx, npy_path, x, 3, bad_shape) == SWACL_OK);
    cr_expect(swacl_input_load(ctx, &cont, NULL, npy_path, 1, 1, 0, &in) == SWACL_FORMAT);
    cr_expect(strstr(swacl_ctx_errmsg(ctx), "shape must be") != NULL, "%s", swacl_ctx_errmsg(ctx));
    cr_expect(in.ids == NULL && in.embeds == NULL, "nothing to free after a failure");
    free(x);
    remove(ids_path);
    remove(npy_path);
    rmdir(dir);
    swacl_ctx_destroy(ctx);
}

Test(tools, config_resolve)
{
    swacl_ctx *ctx = host_ctx();
    swacl_config cfg;
    swacl_weights *w = (swacl_weights *)1;
    swacl_preset_params pp = {.n_layers = 3, .window = 16};
    cr_assert(swacl_config_resolve(ctx, "cohere2", &pp, NULL, &cfg, &w) == SWACL_OK, "%s",
              swacl_ctx_errmsg(ctx));
    cr_expect(w == NULL && cfg.n_layers == 3 && cfg.layers[0].span_size == 16, "preset + overrides");
    cr_expect(swacl_config_resolve(ctx, "nosuch", NULL, NULL, &cfg, &w) == SWACL_INVALID_ARG);
    cr_expect(strstr(swacl_ctx_errmsg(ctx), "unknown preset 'nosuch' (valid: rnope-swa,") != NULL,
              "%s", swacl_ctx_errmsg(ctx));
    pp.n_layers = SWACL_MAX_LAYERS + 1;
    cr_expect(swacl_config_resolve(ctx, "cohere2", &pp, NULL, &cfg, &w) == SWACL_INVALID_ARG);
    cr_expect(strstr(swacl_ctx_errmsg(ctx), "invalid size override") != NULL, "%s",
              swacl_ctx_errmsg(ctx));
    swacl_preset_params heads = {.n_heads = 3};
    cr_expect(swacl_config_resolve(ctx, "rnope-swa", &heads, NULL, &cfg, &w) == SWACL_INVALID_ARG);
    cr_expect(strstr(swacl_ctx_errmsg(ctx), "invalid configuration for preset 'rnope-swa'") != NULL,
              "%s", swacl_ctx_errmsg(ctx));

    /* a checkpoint directory: written by swacl_save_hf, read back with its weights */
    char dir[] = "/tmp/swacl_resolve_XXXXXX", p[96];
    cr_assert(mkdtemp(dir) != NULL);
    swacl_config small;
    swacl_weights *sw = NULL;
    pp.n_layers = 2;
    cr_assert(swacl_config_resolve(ctx, "cohere2", &pp, NULL, &small, &w) == SWACL_OK);
    cr_assert(swacl_weights_create_random(&small, 5, &sw) == SWACL_OK);
    cr_assert(swacl_save_hf(ctx, dir, &small, sw) == SWACL_OK, "%s", swacl_ctx_errmsg(ctx));
    cr_assert(swacl_config_resolve(ctx, "ignored", NULL, dir, &cfg, &w) == SWACL_OK, "%s",
              swacl_ctx_errmsg(ctx));
    cr_expect(w != NULL && cfg.n_layers == 2 && swacl_weights_count(w) == swacl_weights_count(sw));
    swacl_weights_destroy(w);
    swacl_weights_destroy(sw);
    cr_expect(swacl_config_resolve(ctx, NULL, NULL, "/nonexistent/model", &cfg, &w) == SWACL_IO);
    cr_expect(strstr(swacl_ctx_errmsg(ctx), "cannot load /nonexistent/model: ") != NULL && !w,
              "%s", swacl_ctx_errmsg(ctx));
    snprintf(p, sizeof p, "%s/config.json", dir);
    remove(p);
    snprintf(p, sizeof p, "%s/model.safetensors", dir);
    remove(p);
    rmdir(dir);
    swacl_ctx_destroy(ctx);
}

Test(tools, pipeline_solo)
{
    swacl_ctx *ctx = host_ctx();
    swacl_config cfg;
    swacl_weights *w = NULL;
    small_model(&cfg, &w);
    const int V = swacl_output_size(&cfg), B = 2, T = 5;
    int32_t ids[10];
    uint64_t rs = 8;
    swacl_random_ids(&rs, cfg.vocab_size, ids, 10);
    swacl_input in = {B, T, ids, NULL};
    float *a = calloc((size_t)B * T * V, sizeof *a), *b = calloc((size_t)B * T * V, sizeof *b);
    swacl_model *m = NULL;
    swacl_pipeline *p = NULL;
    cr_assert(swacl_model_create(ctx, &cfg, w, &m) == SWACL_OK);
    cr_expect(swacl_pipeline_solo(NULL, &p) == SWACL_INVALID_ARG && p == NULL);
    cr_assert(swacl_pipeline_solo(m, &p) == SWACL_OK);

    /* the same forward as the model's, bit for bit */
    cr_assert(swacl_model_forward(m, &in, 1, a) == SWACL_OK);
    cr_assert(swacl_pipeline_forward(p, &in, 1, b) == SWACL_OK, "%s", swacl_ctx_errmsg(ctx));
    cr_expect(!memcmp(a, b, (size_t)B * T * V * sizeof *a), "solo pipeline == model forward");
    swacl_pipeline_stage st[2];
    int n = 0;
    cr_assert(swacl_pipeline_describe(p, st, 2, &n) == SWACL_OK);
    cr_expect(n == 1 && st[0].layer_begin == 0 && st[0].layer_end == cfg.n_layers);
    cr_expect(!strcmp(st[0].device_name, "cpu-reference"), "%s", st[0].device_name);

    /* sessions: the same KV bytes and outputs as a swacl_session */
    swacl_session *s = NULL;
    swacl_pipeline_session *ps = NULL;
    cr_assert(swacl_session_create(m, B, 16, &s) == SWACL_OK);
    cr_assert(swacl_pipeline_session_create(p, B, 16, &ps) == SWACL_OK);
    cr_expect(swacl_pipeline_session_kv_bytes(ps) == swacl_session_kv_bytes(s) &&
              swacl_pipeline_session_kv_bytes(ps) > 0 && swacl_pipeline_session_kv_bytes(NULL) == 0);
    cr_assert(swacl_session_prefill(s, &in, 2, a) == SWACL_OK);
    cr_assert(swacl_pipeline_session_prefill(ps, &in, 2, b) == SWACL_OK);
    cr_assert(swacl_session_step(s, 1, NULL, ids, NULL, a) == SWACL_OK);
    cr_assert(swacl_pipeline_session_step(ps, 1, NULL, ids, NULL, b) == SWACL_OK);
    cr_expect(!memcmp(a, b, (size_t)B * V * sizeof *a), "solo session == session");
    /* errors go to the model's context */
    cr_expect(swacl_pipeline_forward(p, &in, 0, NULL) == SWACL_INVALID_ARG);
    cr_expect(strstr(swacl_ctx_errmsg(ctx), "NULL") != NULL, "%s", swacl_ctx_errmsg(ctx));
    swacl_pipeline_session_destroy(ps);
    swacl_session_destroy(s);
    swacl_pipeline_destroy(p);
    swacl_model_destroy(m);
    swacl_weights_destroy(w);
    free(a);
    free(b);
    swacl_ctx_destroy(ctx);
}

/* swacl_report_print: scalars as aligned key/value lines, arrays of objects
 * as tables, bytes humanised; anything but one JSON object is refused. */
Test(tools, report_print)
{
    const char *json = "{\"device\":\"x\",\"kv_bytes\":2048,\"ok\":true,\"n\":3,"
                       "\"rows\":[{\"a\":1,\"b\":\"long-cell\"},{\"a\":22,\"b\":\"z\"}]}";
    FILE *f = tmpfile();
    cr_assert(f != NULL);
    cr_assert_eq(swacl_report_print(NULL, json, f), SWACL_OK);
    char buf[1024];
    size_t n = (size_t)ftell(f);
    rewind(f);
    cr_assert(n < sizeof buf && fread(buf, 1, n, f) == n);
    buf[n] = 0;
    fclose(f);
    cr_expect(strstr(buf, "device    x\n") != NULL, "%s", buf);
    cr_expect(strstr(buf, "kv_bytes  2.0 KiB\n") != NULL, "%s", buf);
    cr_expect(strstr(buf, "ok        yes\n") != NULL, "%s", buf);
    cr_expect(strstr(buf, "rows:\na   b\n1   long-cell\n22  z\n") != NULL, "%s", buf);
    swacl_ctx_params p = swacl_ctx_params_default();
    p.device = "ref";
    swacl_ctx *ctx = NULL;
    cr_assert_eq(swacl_ctx_create(&p, &ctx), SWACL_OK);
    cr_expect_eq(swacl_report_print(ctx, "[1,2]", stdout), SWACL_FORMAT);
    cr_expect(strstr(swacl_ctx_errmsg(ctx), "object") != NULL, "%s", swacl_ctx_errmsg(ctx));
    cr_expect_eq(swacl_report_print(ctx, "{\"a\":", stdout), SWACL_FORMAT);
    cr_expect_eq(swacl_report_print(ctx, NULL, stdout), SWACL_INVALID_ARG);
    swacl_ctx_destroy(ctx);
}
