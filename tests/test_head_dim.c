/*
 * test_head_dim.c - whole models at the head dims the OpenCL kernels build
 * for (any multiple of 4 from 4 to 256), device vs CPU reference: prefill
 * logits at every position, then a decode session step by step (the
 * window layer reads its ring cache, the global layer its full cache; one
 * case decodes past 1024 keys, so the global layer takes the split-K
 * path). Also: score soft-capping on the whole model, and a head_dim the
 * device cannot run refused at swacl_model_create, naming the value.
 *
 * Op-level coverage of the same head dims (every kernel variant, GQA,
 * W = 1, W >= L, ragged batches): the d4 .. d256 rows of host/ops/op_cases.c.
 *
 * Tolerance: the whole-model gate of test_model.c (NMSE <= 1e-6, elementwise
 * 1e-3 + 1e-3|r|): float32 kernels against double accumulation.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

#define NMSE_GATE 1e-6
#define ATOL 1e-3
#define RTOL 1e-3
#define W 4 /* window of layer 0 */

typedef struct {
    int d;         /* head_dim                                              */
    int B, T;      /* batch; tokens per sequence in all                     */
    int K;         /* the last K tokens are decoded one by one              */
    float softcap; /* attention score soft-cap (0: off)                     */
} hd_case;

/* Two layers (a window layer with RoPE HALF and per-head QK-norm, a global
 * layer with RoPE PAIR), H 4 over 2 KV heads, H*d != D. */
static swacl_config hd_config(int d, float softcap)
{
    swacl_preset_params p;
    memset(&p, 0, sizeof p);
    p.hidden_size = 64;
    p.n_heads = 4;
    p.n_kv_heads = 2;
    p.n_layers = 2;
    p.ffn_dim = 96;
    p.vocab_size = 97;
    swacl_config c;
    cr_assert(swacl_preset_ex("baseline", &p, &c) == SWACL_OK);
    c.head_dim = d;
    c.attn_scale = 0.0f; /* 1/sqrt(d) */
    c.attn_softcap = softcap;
    for (int i = 0; i < c.n_layers; i++) {
        swacl_layer_spec *l = &c.layers[i];
        memset(l, 0, sizeof *l);
        l->pos = i == 0 ? SWACL_POS_ROPE_HALF : SWACL_POS_ROPE_PAIR;
        l->rope_theta = 10000.0f;
        if (i == 0) {
            l->span = SWACL_SPAN_WINDOW;
            l->span_size = W;
            l->qk_norm = SWACL_QKNORM_RMS_HEAD;
        }
    }
    return c;
}

static float *forward(swacl_model *m, swacl_ctx *ctx, int B, int T, const int32_t *ids)
{
    const int V = swacl_output_size(swacl_model_config(m));
    float *out = malloc((size_t)B * T * V * sizeof *out);
    swacl_input in = {.batch = B, .seq = T, .ids = ids};
    cr_assert(swacl_model_forward(m, &in, 1, out) == SWACL_OK, "%s", swacl_ctx_errmsg(ctx));
    return out;
}

ParameterizedTestParameters(head_dim, device_vs_reference)
{
    static hd_case cases[] = {
        {16, 2, 10, 3, 0.0f},  {48, 2, 10, 3, 0.0f},  {80, 2, 9, 3, 0.0f},
        {96, 2, 9, 3, 0.0f},   {256, 1, 8, 3, 0.0f},  {12, 2, 8, 3, 0.0f}, /* float4 path */
        {64, 2, 10, 3, 0.5f},  {48, 1, 9, 3, 2.0f}, /* soft-capped scores */
        {80, 1, 1030, 2, 0.0f}, /* decode past 1024 keys: split-K */
    };
    return cr_make_param_array(hd_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(hd_case *hc, head_dim, device_vs_reference, .timeout = 300)
{
    swacl_config c = hd_config(hc->d, hc->softcap);
    swacl_weights *w = NULL;
    cr_assert(swacl_weights_create_random(&c, 31, &w) == SWACL_OK);
    const int B = hc->B, T = hc->T, K = hc->K, V = c.vocab_size;
    int32_t *ids = malloc((size_t)B * T * sizeof *ids);
    swacl_rng rng = {41};
    for (int i = 0; i < B * T; i++) ids[i] = (int32_t)(swacl_rng_next(&rng) % (uint64_t)V);

    swacl_ctx *cd = test_cl_ctx(), *cr = test_ref_ctx();
    swacl_model *md = NULL, *mr = NULL;
    cr_assert(swacl_model_create(cd, &c, w, &md) == SWACL_OK, "d=%d: %s", hc->d,
              swacl_ctx_errmsg(cd));
    cr_assert(swacl_model_create(cr, &c, w, &mr) == SWACL_OK, "d=%d: %s", hc->d,
              swacl_ctx_errmsg(cr));
    char what[128];
    /* whole-sequence prefill (the long case checks it through the session) */
    if (T <= 64) {
        float *a = forward(md, cd, B, T, ids), *b = forward(mr, cr, B, T, ids);
        snprintf(what, sizeof what, "d=%d softcap %g prefill B=%d T=%d", hc->d,
                 (double)hc->softcap, B, T);
        expect_close(what, a, b, (size_t)B * T * V, ATOL, RTOL, NMSE_GATE);
        free(a);
        free(b);
    }

    swacl_session *sd = NULL, *sr = NULL;
    cr_assert(swacl_session_create(md, B, T, &sd) == SWACL_OK, "%s", swacl_ctx_errmsg(cd));
    cr_assert(swacl_session_create(mr, B, T, &sr) == SWACL_OK, "%s", swacl_ctx_errmsg(cr));
    int32_t *pre = malloc((size_t)B * (T - K) * sizeof *pre);
    for (int s = 0; s < B; s++)
        memcpy(pre + (size_t)s * (T - K), ids + (size_t)s * T, (size_t)(T - K) * sizeof *pre);
    float *od = malloc((size_t)B * V * sizeof *od), *or_ = malloc((size_t)B * V * sizeof *or_);
    swacl_input pin = {.batch = B, .seq = T - K, .ids = pre};
    cr_assert(swacl_session_prefill(sd, &pin, 0, od) == SWACL_OK, "%s", swacl_ctx_errmsg(cd));
    cr_assert(swacl_session_prefill(sr, &pin, 0, or_) == SWACL_OK, "%s", swacl_ctx_errmsg(cr));
    snprintf(what, sizeof what, "d=%d session prefill of %d", hc->d, T - K);
    expect_close(what, od, or_, (size_t)B * V, ATOL, RTOL, NMSE_GATE);
    for (int t = T - K; t < T; t++) {
        int32_t tok[2];
        for (int s = 0; s < B; s++) tok[s] = ids[(size_t)s * T + t];
        cr_assert(swacl_session_step(sd, 1, NULL, tok, NULL, od) == SWACL_OK, "%s",
                  swacl_ctx_errmsg(cd));
        cr_assert(swacl_session_step(sr, 1, NULL, tok, NULL, or_) == SWACL_OK, "%s",
                  swacl_ctx_errmsg(cr));
        snprintf(what, sizeof what, "d=%d softcap %g decode t=%d", hc->d, (double)hc->softcap, t);
        expect_close(what, od, or_, (size_t)B * V, ATOL, RTOL, NMSE_GATE);
    }
    free(od);
    free(or_);
    free(pre);
    free(ids);
    swacl_session_destroy(sd);
    swacl_session_destroy(sr);
    swacl_model_destroy(md);
    swacl_model_destroy(mr);
    swacl_ctx_destroy(cd);
    swacl_ctx_destroy(cr);
    swacl_weights_destroy(w);
}

/* The soft-cap changes the result (so the cases above test it): the same
 * model without it differs on the reference. */
Test(head_dim, softcap_binds)
{
    swacl_config a = hd_config(64, 0.5f), b = hd_config(64, 0.0f);
    swacl_weights *w = NULL;
    cr_assert(swacl_weights_create_random(&a, 31, &w) == SWACL_OK);
    swacl_ctx *cr = test_ref_ctx();
    swacl_model *ma = NULL, *mb = NULL;
    cr_assert(swacl_model_create(cr, &a, w, &ma) == SWACL_OK, "%s", swacl_ctx_errmsg(cr));
    cr_assert(swacl_model_create(cr, &b, w, &mb) == SWACL_OK, "%s", swacl_ctx_errmsg(cr));
    int32_t ids[10];
    for (int i = 0; i < 10; i++) ids[i] = (i * 13 + 2) % a.vocab_size;
    float *x = forward(ma, cr, 1, 10, ids), *y = forward(mb, cr, 1, 10, ids);
    double diff = 0;
    for (int i = 0; i < 10 * a.vocab_size; i++) diff += (x[i] - y[i]) * (double)(x[i] - y[i]);
    cr_assert(diff > 1e-6, "soft-cap 0.5 leaves the logits unchanged (sum sq diff %g)", diff);
    free(x);
    free(y);
    swacl_model_destroy(ma);
    swacl_model_destroy(mb);
    swacl_ctx_destroy(cr);
    swacl_weights_destroy(w);
}

/* A head_dim the kernels are not built for fails at swacl_model_create
 * with SWACL_UNSUPPORTED naming the value and what is supported; the
 * reference runs the same config. */
Test(head_dim, unsupported_refused_at_create)
{
    const int bad[] = {6, 2, 260, 264};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        swacl_config c = hd_config(bad[i], 0.0f);
        swacl_weights *w = NULL;
        cr_assert(swacl_weights_create_random(&c, 3, &w) == SWACL_OK);
        swacl_ctx *cd = test_cl_ctx(), *cr = test_ref_ctx();
        swacl_model *m = (swacl_model *)&c; /* must be reset to NULL */
        swacl_status st = swacl_model_create(cd, &c, w, &m);
        cr_assert_eq(st, SWACL_UNSUPPORTED, "head_dim %d: %s (%s)", bad[i],
                     swacl_status_string(st), swacl_ctx_errmsg(cd));
        cr_assert_null(m);
        char want[32];
        snprintf(want, sizeof want, "head_dim %d ", bad[i]);
        const char *msg = swacl_ctx_errmsg(cd);
        cr_assert(strstr(msg, want) && strstr(msg, "multiples of 4 from 4 to 256"),
                  "message: %s", msg);
        cr_assert(swacl_model_create(cr, &c, w, &m) == SWACL_OK, "ref, head_dim %d: %s", bad[i],
                  swacl_ctx_errmsg(cr));
        swacl_model_destroy(m);
        swacl_ctx_destroy(cd);
        swacl_ctx_destroy(cr);
        swacl_weights_destroy(w);
    }
}
