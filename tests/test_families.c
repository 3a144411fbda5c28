/*
 * test_families.c - the model-family features of config 0.2 on the whole
 * model: OpenCL device vs CPU reference, prefill at every position and a
 * decode session step by step, on configs that switch the features on in
 * combinations no preset has:
 *
 *   sandwich   Gemma-like: pre + post norms with (1 + w) weights, embeddings
 *              x sqrt(D), tanh GeGLU, per-head QK-norm, H*d != D, sliding
 *              layers with their own theta, global layers with linear
 *              scaling, attention score soft-capping (cap 3) and final logit
 *              soft-capping (binding: cap 8)
 *   post       OLMo-like: post norms only, QK-norm over the whole
 *              projection, YaRN with an attention factor
 *   bias       Qwen 2-like: q/k/v biases without an o bias, dynamic NTK
 *              past the trained length, Llama 3 bands
 *   partial    Phi-3-like partial RoPE (16 of 32 lanes), pair and half
 *
 * Also: swacl_save_hf / swacl_load_hf round-trip every new field.
 *
 * Tolerance: the whole-model gate of test_model.c (NMSE <= 1e-6, elementwise
 * 1e-3 + 1e-3|r|): the device runs float32 kernels, the reference double
 * accumulation.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

#define NMSE_GATE 1e-6
#define ATOL 1e-3
#define RTOL 1e-3
#define W 6 /* window of the sliding layers */

typedef struct {
    char name[16];
    int B, T;
} fam_case;

static void set_rope(swacl_config *c, int i, swacl_pos pos, float theta)
{
    c->layers[i].pos = pos;
    c->layers[i].rope_theta = theta;
}

static swacl_config family(const char *name)
{
    swacl_preset_params p;
    memset(&p, 0, sizeof p);
    p.hidden_size = 96;
    p.n_heads = 4;
    p.n_kv_heads = 2;
    p.n_layers = 4;
    p.ffn_dim = 160;
    p.vocab_size = 200;
    swacl_config c;
    cr_assert(swacl_preset_ex("baseline", &p, &c) == SWACL_OK);
    c.head_dim = 32; /* H*d = 128 != D = 96, as Gemma and Qwen 3 */
    c.norm = SWACL_NORM_RMS;
    c.norm_eps = 1e-6f;
    c.block = SWACL_BLOCK_SEQUENTIAL;
    c.logit_scale = 1.0f;
    for (int i = 0; i < c.n_layers; i++) {
        swacl_layer_spec *l = &c.layers[i];
        memset(l, 0, sizeof *l);
        if (i % 2 == 0) {
            l->span = SWACL_SPAN_WINDOW;
            l->span_size = W;
        }
    }
    if (!strcmp(name, "sandwich")) {
        c.norm_place = SWACL_NORMS_SANDWICH;
        c.norm_unit_offset = 1;
        c.embed_scale = sqrtf(96.0f);
        c.ffn = SWACL_FFN_GEGLU_TANH;
        c.final_softcap = 8.0f;
        c.attn_softcap = 3.0f; /* binds: random-weight scores reach well past 3 */
        c.attn_scale = 1.0f / sqrtf(24.0f); /* query_pre_attn_scalar 24 */
        for (int i = 0; i < c.n_layers; i++) {
            c.layers[i].qk_norm = SWACL_QKNORM_RMS_HEAD;
            set_rope(&c, i, SWACL_POS_ROPE_HALF, i % 2 == 0 ? 10000.0f : 1e6f);
            if (i % 2) {
                c.rope[i].type = SWACL_ROPE_LINEAR;
                c.rope[i].factor = 8.0f;
            }
        }
    } else if (!strcmp(name, "post")) {
        c.norm_place = SWACL_NORMS_POST;
        for (int i = 0; i < c.n_layers; i++) {
            c.layers[i].qk_norm = SWACL_QKNORM_RMS_FULL;
            set_rope(&c, i, SWACL_POS_ROPE_HALF, 500000.0f);
            c.rope[i].type = SWACL_ROPE_YARN;
            c.rope[i].factor = 4.0f;
            c.rope[i].original_max_pos = 16;
            c.rope[i].attention_factor = 1.2f;
        }
    } else if (!strcmp(name, "bias")) {
        c.attn_bias = 1;
        c.attn_out_bias = 0;
        for (int i = 0; i < c.n_layers; i++) {
            set_rope(&c, i, SWACL_POS_ROPE_HALF, 10000.0f);
            swacl_rope_scaling *r = &c.rope[i];
            r->type = i % 2 ? SWACL_ROPE_LLAMA3 : SWACL_ROPE_DYNAMIC;
            r->factor = i % 2 ? 8.0f : 2.0f;
            r->original_max_pos = 12; /* the sequences run past it */
        }
    } else { /* partial */
        for (int i = 0; i < c.n_layers; i++) {
            set_rope(&c, i, i % 2 ? SWACL_POS_ROPE_PAIR : SWACL_POS_ROPE_HALF, 10000.0f);
            c.rope[i].rotary_dim = 16;
        }
    }
    swacl_ctx *ctx = test_ref_ctx();
    cr_assert(swacl_config_validate(ctx, &c) == SWACL_OK, "%s: %s", name, swacl_ctx_errmsg(ctx));
    swacl_ctx_destroy(ctx);
    return c;
}

static float *prefill(swacl_model *m, swacl_ctx *ctx, int B, int T, const int32_t *ids)
{
    const int V = swacl_output_size(swacl_model_config(m));
    float *out = malloc((size_t)B * T * V * sizeof *out);
    swacl_input in = {.batch = B, .seq = T, .ids = ids};
    cr_assert(swacl_model_forward(m, &in, 1, out) == SWACL_OK, "%s", swacl_ctx_errmsg(ctx));
    return out;
}

ParameterizedTestParameters(families, device_vs_reference)
{
    static fam_case cases[] = {
        {"sandwich", 2, 3 * W + 2}, {"post", 2, 3 * W + 1}, {"bias", 2, 3 * W + 4}, {"partial", 3, 3 * W},
    };
    return cr_make_param_array(fam_case, cases, sizeof cases / sizeof cases[0]);
}

/* Prefill (every position) and decode (prefill T-6, then 6 single steps)
 * on both backends. Decode is compared device vs reference; and, except
 * for dynamic NTK (whose frequencies follow the context length by design),
 * the reference decode vs its own prefill. */
ParameterizedTest(fam_case *fc, families, device_vs_reference, .timeout = 240)
{
    swacl_config c = family(fc->name);
    swacl_weights *w = NULL;
    cr_assert(swacl_weights_create_random(&c, 17, &w) == SWACL_OK);
    const int B = fc->B, T = fc->T, V = c.vocab_size, K = 6;
    int32_t *ids = malloc((size_t)B * T * sizeof *ids);
    swacl_rng rng = {23};
    for (int i = 0; i < B * T; i++) ids[i] = (int32_t)(swacl_rng_next(&rng) % (uint64_t)V);

    swacl_ctx *cd = test_cl_ctx(), *cr = test_ref_ctx();
    swacl_model *md = NULL, *mr = NULL;
    cr_assert(swacl_model_create(cd, &c, w, &md) == SWACL_OK, "%s", swacl_ctx_errmsg(cd));
    cr_assert(swacl_model_create(cr, &c, w, &mr) == SWACL_OK, "%s", swacl_ctx_errmsg(cr));
    float *a = prefill(md, cd, B, T, ids), *b = prefill(mr, cr, B, T, ids);
    char what[96];
    snprintf(what, sizeof what, "%s prefill B=%d T=%d", fc->name, B, T);
    expect_close(what, a, b, (size_t)B * T * V, ATOL, RTOL, NMSE_GATE);
    /* the soft-cap binds: every logit inside [-8, 8], some beyond 6 */
    if (c.final_softcap > 0) {
        double mx = 0;
        for (size_t i = 0; i < (size_t)B * T * V; i++) mx = fmax(mx, fabs(b[i]));
        cr_assert(mx <= 8.0 && mx > 6.0, "%s: max |logit| %g with cap 8", fc->name, mx);
    }

    swacl_session *sd = NULL, *sr = NULL;
    cr_assert(swacl_session_create(md, B, T, &sd) == SWACL_OK, "%s", swacl_ctx_errmsg(cd));
    cr_assert(swacl_session_create(mr, B, T, &sr) == SWACL_OK, "%s", swacl_ctx_errmsg(cr));
    int32_t *pre = malloc((size_t)B * (T - K) * sizeof *pre);
    for (int s = 0; s < B; s++) memcpy(pre + (size_t)s * (T - K), ids + (size_t)s * T, (size_t)(T - K) * 4);
    float *od = malloc((size_t)B * V * sizeof *od), *or_ = malloc((size_t)B * V * sizeof *or_);
    swacl_input pin = {.batch = B, .seq = T - K, .ids = pre};
    cr_assert(swacl_session_prefill(sd, &pin, 0, od) == SWACL_OK, "%s", swacl_ctx_errmsg(cd));
    cr_assert(swacl_session_prefill(sr, &pin, 0, or_) == SWACL_OK, "%s", swacl_ctx_errmsg(cr));
    const int dynamic = c.rope[0].type == SWACL_ROPE_DYNAMIC;
    float *want = malloc((size_t)B * V * sizeof *want);
    for (int t = T - K; t < T; t++) {
        int32_t tok[4];
        for (int s = 0; s < B; s++) tok[s] = ids[(size_t)s * T + t];
        cr_assert(swacl_session_step(sd, 1, NULL, tok, NULL, od) == SWACL_OK, "%s", swacl_ctx_errmsg(cd));
        cr_assert(swacl_session_step(sr, 1, NULL, tok, NULL, or_) == SWACL_OK, "%s", swacl_ctx_errmsg(cr));
        snprintf(what, sizeof what, "%s decode t=%d: device vs reference", fc->name, t);
        expect_close(what, od, or_, (size_t)B * V, ATOL, RTOL, NMSE_GATE);
        if (!dynamic) {
            for (int s = 0; s < B; s++)
                memcpy(want + (size_t)s * V, b + ((size_t)s * T + t) * V, (size_t)V * sizeof *want);
            snprintf(what, sizeof what, "%s decode t=%d: reference decode vs prefill", fc->name, t);
            expect_close(what, or_, want, (size_t)B * V, ATOL, RTOL, NMSE_GATE);
        }
    }
    free(want);
    free(od);
    free(or_);
    free(pre);
    swacl_session_destroy(sd);
    swacl_session_destroy(sr);
    free(a);
    free(b);
    free(ids);
    swacl_model_destroy(md);
    swacl_model_destroy(mr);
    swacl_ctx_destroy(cd);
    swacl_ctx_destroy(cr);
    swacl_weights_destroy(w);
}

/* Dynamic NTK changes the frequencies once the context passes the trained
 * length, and only then: a prefill of T <= original_max_pos equals the
 * default rule's, a longer one does not. */
Test(families, dynamic_ntk_switches_at_trained_length)
{
    swacl_config c = family("bias"), d = c;
    for (int i = 0; i < c.n_layers; i++) d.rope[i].type = SWACL_ROPE_DEFAULT;
    swacl_weights *w = NULL;
    cr_assert(swacl_weights_create_random(&c, 5, &w) == SWACL_OK);
    swacl_ctx *ctx = test_ref_ctx();
    int32_t ids[24];
    for (int i = 0; i < 24; i++) ids[i] = (i * 37 + 5) % c.vocab_size;
    for (int i = 1; i < c.n_layers; i += 2) c.rope[i].type = d.rope[i].type = SWACL_ROPE_DEFAULT;
    swacl_model *mc = NULL, *md = NULL;
    cr_assert(swacl_model_create(ctx, &c, w, &mc) == SWACL_OK, "%s", swacl_ctx_errmsg(ctx));
    cr_assert(swacl_model_create(ctx, &d, w, &md) == SWACL_OK, "%s", swacl_ctx_errmsg(ctx));
    for (int T = 12; T <= 13; T++) {
        float *x = prefill(mc, ctx, 1, T, ids), *y = prefill(md, ctx, 1, T, ids);
        double diff = 0;
        for (int i = 0; i < T * c.vocab_size; i++) diff = fmax(diff, fabs(x[i] - y[i]));
        if (T == 12)
            cr_assert(diff == 0, "T=12 (= trained length): dynamic differs from default by %g", diff);
        else
            cr_assert(diff > 1e-4, "T=13: dynamic equals default (diff %g)", diff);
        free(x);
        free(y);
    }
    swacl_model_destroy(mc);
    swacl_model_destroy(md);
    swacl_ctx_destroy(ctx);
    swacl_weights_destroy(w);
}

Test(families, save_load_roundtrip)
{
    const char *names[] = {"sandwich", "post", "bias", "partial"};
    for (int k = 0; k < 4; k++) {
        swacl_config c = family(names[k]), back;
        swacl_weights *w = NULL, *w2 = NULL;
        cr_assert(swacl_weights_create_random(&c, 9, &w) == SWACL_OK);
        char dir[] = "/tmp/swacl_fam_XXXXXX";
        cr_assert(mkdtemp(dir) != NULL);
        swacl_ctx *ctx = test_ref_ctx();
        cr_assert(swacl_save_hf(ctx, dir, &c, w) == SWACL_OK, "%s", swacl_ctx_errmsg(ctx));
        cr_assert(swacl_load_hf(ctx, dir, &back, &w2) == SWACL_OK, "%s", swacl_ctx_errmsg(ctx));
        cr_assert(memcmp(&c, &back, sizeof c) == 0 ||
                      (c.norm_place == back.norm_place && c.norm_unit_offset == back.norm_unit_offset &&
                       c.embed_scale == back.embed_scale && c.final_softcap == back.final_softcap &&
                       c.attn_out_bias == back.attn_out_bias && c.ffn == back.ffn &&
                       memcmp(c.rope, back.rope, sizeof c.rope[0] * (size_t)c.n_layers) == 0 &&
                       memcmp(c.layers, back.layers, sizeof c.layers[0] * (size_t)c.n_layers) == 0),
                  "%s: config changed across save/load", names[k]);
        char cmd[64];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        cr_assert(system(cmd) == 0);
        swacl_ctx_destroy(ctx);
        swacl_weights_destroy(w);
        swacl_weights_destroy(w2);
    }
}
