/*
 * verify.c - checking a device's outputs against the CPU reference
 * (swacl.h "Checking against the reference"): a reference model of the
 * same config and weights runs the same calls, and each output is compared
 * with swacl_compare under one tolerance. The CLI's run --verify and
 * generate --verify use it. The default tolerance is NMSE plus an
 * elementwise bound calibrated to float32 rounding (docs/VERIFY.md).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct swacl_verifier {
    swacl_ctx *owner; /* errors go here (borrowed)                          */
    swacl_ctx *ref;   /* the CPU reference context, with owner's params     */
    swacl_model *m;
    swacl_session *s; /* when created with max_ctx > 0                      */
    int batch, width;
    swacl_tolerance tol;
    swacl_config cfg; /* for the calibrated bound */
    int max_ctx;
    swacl_verify_result res;
    float *buf;       /* reference output, then compacted rows (step)       */
    size_t buf_n;
};

swacl_tolerance swacl_tolerance_default(void)
{
    swacl_tolerance t = {sizeof t, 1e-6, -1.0, -1.0, 1.0, 0};
    return t;
}

static int explicit_bound(const swacl_tolerance *t) { return t->atol >= 0 || t->rtol >= 0; }

/* A reference failure as owner's message. */
static swacl_status ref_fail(swacl_verifier *v, swacl_status st, const char *what)
{
    return swacl_set_error(v->owner, st, "reference %s: %s", what, swacl_ctx_errmsg(v->ref));
}

static float *scratch(swacl_verifier *v, size_t n)
{
    if (n <= v->buf_n) return v->buf;
    float *b = realloc(v->buf, n * sizeof *b);
    if (!b) return NULL;
    v->buf = b;
    v->buf_n = n;
    return b;
}

/* Float32 unit roundoff (2^-24) and the multiple of it the calibrated bound
 * allows per sqrt(term) of accumulation depth (docs/VERIFY.md: measured on
 * every preset, correct runs use at most 3% of the bound, a 0.1% error in
 * any one kernel 5x or more of it). */
#define F32_U 5.9604644775390625e-8
#define CAL_C 8.0
/* f16's spacing relative to a value (2^-10): an f16 KV cache's rounding step */
#define F16_ULP 9.765625e-4

/* Accumulation depth of one output value at `keys` keys: the terms of every
 * dot product on its path through the layers (Q/K/V and output projections,
 * the attention keys, the FFN's two GEMMs) plus the input projection and the
 * head. Rounding errors of independent terms add in quadrature, so the
 * expected relative error grows as sqrt(depth) * u (docs/VERIFY.md). */
static double depth(const swacl_config *c, int keys)
{
    double d = c->input_dim + (c->output == SWACL_OUTPUT_LOGITS ? c->hidden_size : 0);
    for (int i = 0; i < c->n_layers; i++) {
        const swacl_layer_spec *l = &c->layers[i];
        int k = keys;
        if (l->span != SWACL_SPAN_GLOBAL && l->span_size > 0 && l->span_size < k) k = l->span_size;
        d += 2.0 * c->hidden_size + (double)c->n_heads * c->head_dim + c->ffn_dim + k;
    }
    return d > 1 ? d : 1;
}

/* Fold one comparison of n values (of calls that saw up to `keys` keys)
 * into the worst-so-far result. */
static void fold(swacl_verifier *v, const float *out, const float *ref, size_t n, int keys)
{
    const swacl_tolerance *t = &v->tol;
    double atol = 0, rtol = 0;
    int ew = 1;
    if (explicit_bound(t)) {
        atol = fmax(t->atol, 0);
        rtol = fmax(t->rtol, 0);
    } else if (t->calibrated > 0) {
        /* rtol from the depth; atol the same relative size of the output's
         * RMS, so values near zero (cancellation) are judged on the scale of
         * the output rather than their own */
        double ss = 0;
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (isfinite(ref[i])) ss += (double)ref[i] * ref[i], m++;
        const double dep = depth(&v->cfg, keys);
        rtol = t->calibrated * CAL_C * F32_U * sqrt(dep);
        /* An f16 KV cache: device and reference round K and V that differ
         * by ~delta = u*sqrt(depth) to f16, and where the two straddle a
         * rounding boundary (a fraction delta/ulp of the values) they store
         * values one f16 ulp apart: an rms difference of sqrt(delta*ulp)
         * per value, sqrt(ulp/delta) times delta (docs/VERIFY.md). */
        if (v->s && swacl_session_kv_type(v->s) == SWACL_WT_F16) rtol *= sqrt(F16_ULP / (F32_U * sqrt(dep)));
        atol = rtol * (m ? sqrt(ss / (double)m) : 0);
    } else {
        ew = 0;
    }
    swacl_compare_result c = swacl_compare(out, ref, n, atol, rtol);
    swacl_verify_result *r = &v->res;
    r->checks++;
    r->max_abs_err = fmax(r->max_abs_err, c.max_abs_err);
    r->nmse = fmax(r->nmse, c.nmse);
    r->nonfinite += c.nonfinite;
    for (size_t i = 0; i < n; i++) r->nonfinite_out += !isfinite(out[i]);
    if (ew) {
        r->n_bad += c.n_bad;
        r->atol = atol;
        r->rtol = rtol;
        for (size_t i = 0; i < n; i++) {
            const double e = fabs((double)out[i] - ref[i]), b = atol + rtol * fabs((double)ref[i]);
            if (isfinite(e)) r->bound_ratio = fmax(r->bound_ratio, b > 0 ? e / b : (e > 0) * INFINITY);
        }
    }
    r->ok = r->nonfinite == 0 && r->nmse <= t->nmse && r->n_bad == 0;
}

const char *swacl_verify_describe(const swacl_verify_result *r, double nmse_tol, char *buf,
                                  size_t len)
{
    if (!buf || !len) return buf;
    if (!r || r->ok) {
        snprintf(buf, len, "ok");
    } else if (r->nonfinite) {
        size_t ref_only = r->nonfinite - (r->nonfinite_out < r->nonfinite ? r->nonfinite_out : r->nonfinite);
        if (r->nonfinite_out)
            snprintf(buf, len, "%zu non-finite values in the device output", r->nonfinite_out);
        else
            snprintf(buf, len, "%zu non-finite values in the reference output", ref_only);
    } else if (r->n_bad) {
        snprintf(buf, len,
                 "%zu values over the elementwise bound |a-r| <= %.2e + %.2e*|r| (worst %.1fx "
                 "of it; max_abs_err %.3e), nmse %.3e (tol %.1e)",
                 r->n_bad, r->atol, r->rtol, r->bound_ratio, r->max_abs_err, r->nmse, nmse_tol);
    } else {
        snprintf(buf, len, "nmse %.3e > tol %.1e (max_abs_err %.3e)", r->nmse, nmse_tol,
                 r->max_abs_err);
    }
    return buf;
}

static void add_numel(const char *name, int ndim, const int64_t *shape, void *user)
{
    (void)name;
    uint64_t n = 1;
    for (int d = 0; d < ndim; d++) n *= (uint64_t)shape[d];
    *(uint64_t *)user += n;
}

uint64_t swacl_verify_mem_estimate(const swacl_config *c, uint64_t tokens)
{
    if (!c) return 0;
    uint64_t numel = 0;
    swacl_config_tensors(c, add_numel, &numel);
    /* per token: x, residual, norm, o (4 D); q, k, v, attention (2 H d +
     * 2 Hkv d); gate, up, act (3 F); every layer's K and V; the output row */
    const uint64_t D = (uint64_t)c->hidden_size, hd = (uint64_t)c->head_dim;
    const uint64_t per = 4 * D + 2 * ((uint64_t)c->n_heads + (uint64_t)c->n_kv_heads) * hd +
                         3 * (uint64_t)c->ffn_dim + (uint64_t)c->n_layers * 2 * (uint64_t)c->n_kv_heads * hd +
                         (uint64_t)swacl_output_size(c);
    return 4 * (numel + tokens * per);
}

/* MemAvailable of /proc/meminfo in bytes; 0 when unknown. */
static uint64_t mem_available(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    unsigned long long kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) break;
    if (f) fclose(f);
    return (uint64_t)kb * 1024;
}

/* 1 when the reference over `tokens` fits v->tol.mem_limit; else v->res
 * says skipped and why. */
static int fits(swacl_verifier *v, uint64_t tokens)
{
    const uint64_t need = swacl_verify_mem_estimate(&v->cfg, tokens);
    const uint64_t lim = v->tol.mem_limit ? v->tol.mem_limit : mem_available();
    if (!lim || need <= lim) return 1;
    v->res.skipped = 1;
    snprintf(v->res.skip_reason, sizeof v->res.skip_reason,
             "the CPU reference needs about %.4g MiB (weights as float32 + activations of %llu tokens), "
             "more than the %.4g MiB %s", need / 1048576.0, (unsigned long long)tokens, lim / 1048576.0,
             v->tol.mem_limit ? "allowed (mem_limit)" : "available (MemAvailable)");
    return 0;
}

/* tokens: what the memory estimate counts (the session's, or the forward's) */
static swacl_status verifier_create(swacl_ctx *ctx, const swacl_config *cfg, const swacl_weights *weights,
                                    const swacl_tolerance *tol, int batch, int max_ctx, uint64_t tokens,
                                    swacl_verifier **out)
{
    SWACL_FAIL_IF(ctx, !out, SWACL_INVALID_ARG, "swacl_verifier_create: out is NULL");
    *out = NULL;
    SWACL_FAIL_IF(ctx, !cfg || !weights, SWACL_INVALID_ARG,
                  "swacl_verifier_create: cfg and weights are required");
    SWACL_FAIL_IF(ctx, max_ctx > 0 && batch < 1, SWACL_INVALID_ARG,
                  "swacl_verifier_create: batch %d with a session (max_ctx %d)", batch, max_ctx);
    swacl_verifier *v = calloc(1, sizeof *v);
    if (!v) return swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "swacl_verifier_create: out of memory");
    v->owner = ctx;
    v->tol = swacl_tolerance_default();
    if (tol) { /* the fields the caller's header has; newer ones keep the defaults */
        size_t n = tol->struct_size ? tol->struct_size : sizeof *tol;
        memcpy(&v->tol, tol, n < sizeof *tol ? n : sizeof *tol);
        v->tol.struct_size = sizeof v->tol;
    }
    v->res.ok = 1;
    v->cfg = *cfg;
    v->max_ctx = max_ctx;
    v->batch = batch;
    v->width = swacl_output_size(cfg);
    if (!fits(v, tokens)) {
        *out = v; /* a verifier that compares nothing */
        return SWACL_OK;
    }
    const swacl_ctx_params *pp = swacl_ctx_params_of(ctx);
    swacl_ctx_params p = pp ? *pp : swacl_ctx_params_default();
    p.device = "ref";
    swacl_status st = swacl_ctx_create(&p, &v->ref);
    if (st == SWACL_OK && (st = swacl_model_create(v->ref, cfg, weights, &v->m)) == SWACL_OK &&
        max_ctx > 0)
        st = swacl_session_create(v->m, batch, max_ctx, &v->s);
    if (st != SWACL_OK) {
        if (v->ref) ref_fail(v, st, "model");
        else swacl_set_error(ctx, st, "reference context: out of memory");
        swacl_verifier_destroy(v);
        return st;
    }
    *out = v;
    return SWACL_OK;
}

swacl_status swacl_verifier_create(swacl_ctx *ctx, const swacl_config *cfg,
                                   const swacl_weights *weights, const swacl_tolerance *tol,
                                   int batch, int max_ctx, swacl_verifier **out)
{
    const uint64_t tokens = max_ctx > 0 && batch > 0 ? (uint64_t)batch * (uint64_t)max_ctx : 0;
    return verifier_create(ctx, cfg, weights, tol, batch, max_ctx, tokens, out);
}

void swacl_verifier_destroy(swacl_verifier *v)
{
    if (!v) return;
    swacl_session_destroy(v->s);
    swacl_model_destroy(v->m);
    swacl_ctx_destroy(v->ref);
    free(v->buf);
    free(v);
}

swacl_status swacl_verifier_forward(swacl_verifier *v, const swacl_input *in, int all_positions,
                                    const float *out)
{
    if (!v) return SWACL_INVALID_ARG;
    SWACL_FAIL_IF(v->owner, !in || !out || in->batch < 1 || in->seq < 1, SWACL_INVALID_ARG,
                  "swacl_verifier_forward: an input of B, T >= 1 and out are required");
    if (v->res.skipped || !fits(v, (uint64_t)in->batch * (uint64_t)in->seq)) return SWACL_OK;
    size_t n = (size_t)in->batch * (size_t)(all_positions ? in->seq : 1) * (size_t)v->width;
    float *ref = scratch(v, n);
    if (!ref) return swacl_set_error(v->owner, SWACL_OUT_OF_MEMORY, "reference forward: out of memory");
    double t0 = swacl_now();
    swacl_status st = swacl_model_forward(v->m, in, all_positions, ref);
    v->res.ref_seconds += swacl_now() - t0;
    if (st != SWACL_OK) return ref_fail(v, st, "forward");
    fold(v, out, ref, n, in->seq);
    return SWACL_OK;
}

swacl_status swacl_verifier_prefill(swacl_verifier *v, const swacl_input *in, int chunk,
                                    const float *out)
{
    if (!v) return SWACL_INVALID_ARG;
    if (v->res.skipped) return SWACL_OK; /* the reference did not fit */
    SWACL_FAIL_IF(v->owner, !v->s, SWACL_INVALID_ARG,
                  "swacl_verifier_prefill: the verifier has no session (max_ctx 0)");
    SWACL_FAIL_IF(v->owner, !in || !out, SWACL_INVALID_ARG,
                  "swacl_verifier_prefill: in and out are required");
    size_t n = (size_t)v->batch * (size_t)v->width;
    float *ref = scratch(v, n);
    if (!ref) return swacl_set_error(v->owner, SWACL_OUT_OF_MEMORY, "reference prefill: out of memory");
    double t0 = swacl_now();
    swacl_status st = swacl_session_prefill(v->s, in, chunk, ref);
    v->res.ref_seconds += swacl_now() - t0;
    if (st != SWACL_OK) return ref_fail(v, st, "prefill");
    fold(v, out, ref, n, v->max_ctx); /* keys: up to the session's length */
    return SWACL_OK;
}

swacl_status swacl_verifier_step(swacl_verifier *v, int T, const int *n_new, const int32_t *ids,
                                 const float *embeds, const float *out)
{
    if (!v) return SWACL_INVALID_ARG;
    if (v->res.skipped) return SWACL_OK; /* the reference did not fit */
    SWACL_FAIL_IF(v->owner, !v->s, SWACL_INVALID_ARG,
                  "swacl_verifier_step: the verifier has no session (max_ctx 0)");
    SWACL_FAIL_IF(v->owner, !out, SWACL_INVALID_ARG, "swacl_verifier_step: out is required");
    const size_t w = (size_t)v->width, n = (size_t)v->batch * w;
    /* [0, n): the reference's rows; [n, 2n): out's rows that were stepped */
    float *ref = scratch(v, 2 * n);
    if (!ref) return swacl_set_error(v->owner, SWACL_OUT_OF_MEMORY, "reference step: out of memory");
    double t0 = swacl_now();
    swacl_status st = swacl_session_step(v->s, T, n_new, ids, embeds, ref);
    v->res.ref_seconds += swacl_now() - t0;
    if (st != SWACL_OK) return ref_fail(v, st, "step");
    if (!n_new) {
        fold(v, out, ref, n, v->max_ctx);
        return SWACL_OK;
    }
    /* rows of sequences that took no token are unspecified: leave them out */
    size_t k = 0;
    for (int b = 0; b < v->batch; b++) {
        if (n_new[b] == 0) continue;
        memmove(ref + k * w, ref + (size_t)b * w, w * sizeof *ref);
        memcpy(ref + n + k * w, out + (size_t)b * w, w * sizeof *ref);
        k++;
    }
    if (k) fold(v, ref + n, ref, k * w, v->max_ctx);
    return SWACL_OK;
}

swacl_verify_result swacl_verifier_result(const swacl_verifier *v)
{
    swacl_verify_result r = {0};
    return v ? v->res : r;
}

swacl_status swacl_verify_forward(swacl_ctx *ctx, const swacl_config *cfg,
                                  const swacl_weights *weights, const swacl_input *in,
                                  int all_positions, const float *out, const swacl_tolerance *tol,
                                  swacl_verify_result *res)
{
    SWACL_FAIL_IF(ctx, !res, SWACL_INVALID_ARG, "swacl_verify_forward: res is NULL");
    memset(res, 0, sizeof *res);
    swacl_verifier *v = NULL;
    const uint64_t tokens = in && in->batch > 0 && in->seq > 0 ? (uint64_t)in->batch * (uint64_t)in->seq : 0;
    swacl_status st = verifier_create(ctx, cfg, weights, tol, 0, 0, tokens, &v);
    if (st == SWACL_OK) st = swacl_verifier_forward(v, in, all_positions, out);
    if (st == SWACL_OK) *res = swacl_verifier_result(v);
    swacl_verifier_destroy(v);
    return st;
}
