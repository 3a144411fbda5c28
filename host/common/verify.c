/*
 * verify.c - checking a device's outputs against the CPU reference
 * (swacl.h "Checking against the reference"): a reference model of the
 * same config and weights runs the same calls, and each output is compared
 * with swacl_compare under one tolerance. The CLI's run --verify and
 * generate --verify use it; the tolerance is a struct so a calibrated
 * elementwise bound can replace today's defaults without touching callers.
 */
#include <math.h>
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
    swacl_verify_result res;
    float *buf;       /* reference output, then compacted rows (step)       */
    size_t buf_n;
};

swacl_tolerance swacl_tolerance_default(void)
{
    swacl_tolerance t = {sizeof t, 1e-6, -1.0, -1.0};
    return t;
}

static int elementwise(const swacl_tolerance *t) { return t->atol >= 0 || t->rtol >= 0; }

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

/* Fold one comparison of n values into the worst-so-far result. */
static void fold(swacl_verifier *v, const float *out, const float *ref, size_t n)
{
    const swacl_tolerance *t = &v->tol;
    const int ew = elementwise(t);
    swacl_compare_result c = swacl_compare(out, ref, n, ew ? fmax(t->atol, 0) : 0,
                                           ew ? fmax(t->rtol, 0) : 0);
    swacl_verify_result *r = &v->res;
    r->checks++;
    r->max_abs_err = fmax(r->max_abs_err, c.max_abs_err);
    r->nmse = fmax(r->nmse, c.nmse);
    r->nonfinite += c.nonfinite;
    if (ew) r->n_bad += c.n_bad;
    r->ok = r->nonfinite == 0 && r->nmse <= t->nmse && r->n_bad == 0;
}

swacl_status swacl_verifier_create(swacl_ctx *ctx, const swacl_config *cfg,
                                   const swacl_weights *weights, const swacl_tolerance *tol,
                                   int batch, int max_ctx, swacl_verifier **out)
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
    v->batch = batch;
    v->width = swacl_output_size(cfg);
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
    size_t n = (size_t)in->batch * (size_t)(all_positions ? in->seq : 1) * (size_t)v->width;
    float *ref = scratch(v, n);
    if (!ref) return swacl_set_error(v->owner, SWACL_OUT_OF_MEMORY, "reference forward: out of memory");
    double t0 = swacl_now();
    swacl_status st = swacl_model_forward(v->m, in, all_positions, ref);
    v->res.ref_seconds += swacl_now() - t0;
    if (st != SWACL_OK) return ref_fail(v, st, "forward");
    fold(v, out, ref, n);
    return SWACL_OK;
}

swacl_status swacl_verifier_prefill(swacl_verifier *v, const swacl_input *in, int chunk,
                                    const float *out)
{
    if (!v) return SWACL_INVALID_ARG;
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
    fold(v, out, ref, n);
    return SWACL_OK;
}

swacl_status swacl_verifier_step(swacl_verifier *v, int T, const int *n_new, const int32_t *ids,
                                 const float *embeds, const float *out)
{
    if (!v) return SWACL_INVALID_ARG;
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
        fold(v, out, ref, n);
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
    if (k) fold(v, ref + n, ref, k * w);
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
    swacl_status st = swacl_verifier_create(ctx, cfg, weights, tol, 0, 0, &v);
    if (st == SWACL_OK) st = swacl_verifier_forward(v, in, all_positions, out);
    if (st == SWACL_OK) *res = swacl_verifier_result(v);
    swacl_verifier_destroy(v);
    return st;
}
