/*
 * attn.c - reference banded attention (window / chunk / global causal,
 * GQA, query temperature), double scores and softmax.
 */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "ref/ref_internal.h"

/* attention: the contract above swacl_attn_args in internal.h.              */

/* First key a query at position p may see (docs/MODEL.md 1.5); last is p. */
static int span_lo(swacl_span span, int size, int p)
{
    switch (span) {
    case SWACL_SPAN_WINDOW: return p - size + 1 > 0 ? p - size + 1 : 0; /* W keys incl. self */
    case SWACL_SPAN_CHUNK: return (p / size) * size;                    /* same chunk */
    case SWACL_SPAN_GLOBAL:
    default: return 0; /* causal */
    }
}

static swacl_status attn_validate(swacl_backend *be, const swacl_attn_args *a)
{
    swacl_ctx *ctx = be->ctx;
    SWACL_FAIL_IF(ctx, !a, SWACL_INVALID_ARG, "ref attention: args is NULL");
    SWACL_FAIL_IF(ctx, a->B < 0 || a->T < 0, SWACL_INVALID_ARG, "ref attention: bad B=%d T=%d",
                  a->B, a->T);
    SWACL_FAIL_IF(ctx, a->d <= 0, SWACL_INVALID_ARG, "ref attention: head dim d=%d must be > 0",
                  a->d);
    SWACL_FAIL_IF(ctx, a->H <= 0 || a->Hkv <= 0 || a->H % a->Hkv != 0, SWACL_INVALID_ARG,
                  "ref attention: H=%d must be a positive multiple of Hkv=%d", a->H, a->Hkv);
    SWACL_FAIL_IF(ctx,
                  a->span != SWACL_SPAN_GLOBAL && a->span != SWACL_SPAN_WINDOW &&
                      a->span != SWACL_SPAN_CHUNK,
                  SWACL_INVALID_ARG, "ref attention: unknown span %d", (int)a->span);
    SWACL_FAIL_IF(ctx, a->span != SWACL_SPAN_GLOBAL && a->span_size <= 0, SWACL_INVALID_ARG,
                  "ref attention: span_size=%d must be > 0 for %s", a->span_size,
                  a->span == SWACL_SPAN_WINDOW ? "WINDOW" : "CHUNK");
    SWACL_FAIL_IF(ctx, (a->kc != NULL) != (a->vc != NULL), SWACL_INVALID_ARG,
                  "ref attention: kc and vc must be given together");
    SWACL_FAIL_IF(ctx, a->kc && a->cap <= 0, SWACL_INVALID_ARG,
                  "ref attention: cap=%d must be > 0 with a cache", a->cap);
    SWACL_FAIL_IF(ctx, a->B > 0 && (!a->pos0 || !a->n_new), SWACL_INVALID_ARG,
                  "ref attention: pos0 / n_new is NULL");

    const size_t rows = (size_t)a->B * a->T;
    const size_t qw = (size_t)a->H * a->d, kvw = (size_t)a->Hkv * a->d;
    SWACL_TRY(swacl_ref_need(be, "attention", "q", a->q, rows * qw));
    SWACL_TRY(swacl_ref_need(be, "attention", "k", a->k, rows * kvw));
    SWACL_TRY(swacl_ref_need(be, "attention", "v", a->v, rows * kvw));
    SWACL_TRY(swacl_ref_need(be, "attention", "out", a->out, rows * qw));
    if (a->kc) { /* an f16 cache holds 2-byte values: half as many floats' worth */
        const size_t n = (size_t)a->B * a->cap * kvw, nf = a->kv_f16 ? (n + 1) / 2 : n;
        SWACL_TRY(swacl_ref_need(be, "attention", "kc", a->kc, nf));
        SWACL_TRY(swacl_ref_need(be, "attention", "vc", a->vc, nf));
    }
    SWACL_FAIL_IF(ctx, a->out == a->q || a->out == a->k || a->out == a->v, SWACL_INVALID_ARG,
                  "ref attention: out must not alias q/k/v");

    for (int b = 0; b < a->B; b++) {
        int p0 = a->pos0[b], nn = a->n_new[b];
        SWACL_FAIL_IF(ctx, p0 < 0 || nn < 0 || nn > a->T, SWACL_INVALID_ARG,
                      "ref attention: sequence %d has pos0=%d n_new=%d (T=%d)", b, p0, nn, a->T);
        if (nn == 0) continue;
        /* lo(p) never decreases with p, so the first query needs the oldest key */
        int lo = span_lo(a->span, a->span_size, p0);
        if (lo < p0) {
            SWACL_FAIL_IF(ctx, !a->kc, SWACL_INVALID_ARG,
                          "ref attention: sequence %d needs cached keys %d..%d but no cache given",
                          b, lo, p0 - 1);
            SWACL_FAIL_IF(ctx, p0 - lo > a->cap, SWACL_INVALID_ARG,
                          "ref attention: sequence %d needs %d cached keys, cache holds %d", b,
                          p0 - lo, a->cap);
        }
    }
    return SWACL_OK;
}

/* Row of key/value head kvh at absolute position j of sequence b: a new row
 * when j >= pos0[b], else cache slot j % cap. */
static const float *kv_row(const swacl_attn_args *a, const float *fresh, const float *cache, int b,
                           int kvh, int j)
{
    const size_t kvw = (size_t)a->Hkv * a->d;
    const int p0 = a->pos0[b];
    if (j >= p0) return fresh + ((size_t)b * a->T + (size_t)(j - p0)) * kvw + (size_t)kvh * a->d;
    return cache + ((size_t)b * a->cap + (size_t)(j % a->cap)) * kvw + (size_t)kvh * a->d;
}

/* kv_f16: n values as attention reads them, into a malloc'd float copy:
 * new rows (float) rounded to f16, cache rows (f16) decoded. NULL: OOM. */
static float *kv_as_read(const swacl_buf *buf, size_t n, int is_half)
{
    float *f = malloc((n ? n : 1) * sizeof *f);
    uint16_t *h = is_half ? NULL : malloc((n ? n : 1) * sizeof *h);
    if (f && (is_half || h)) {
        if (!is_half) swacl_row_encode(SWACL_WT_F16, fdata(buf), h, (int64_t)n);
        swacl_row_decode(SWACL_WT_F16, is_half ? (const void *)buf->data : h, f, (int64_t)n);
    } else {
        free(f);
        f = NULL;
    }
    free(h);
    return f;
}

/* Queries are processed in tiles of QTILE consecutive tokens of one head, so
 * each key / value row is read from memory once per tile instead of once per
 * query. The math per query is unchanged: scores, softmax, weighted sum. */
enum { QTILE = 16 };

swacl_status swacl_ref_attention(swacl_backend *be, const swacl_attn_args *a)
{
    SWACL_TRY(attn_validate(be, a));
    const int B = a->B, T = a->T, H = a->H, Hkv = a->Hkv, d = a->d;
    const int group = H / Hkv; /* GQA: query heads per KV head */
    const size_t qw = (size_t)H * d;
    const int ntiles = (T + QTILE - 1) / QTILE;

    /* longest key range of any query, plus QTILE-1 for the spread of a tile:
     * the row stride of the per-thread score matrix [QTILE][stride] */
    int maxkeys = 1;
    for (int b = 0; b < B; b++) {
        int n = a->pos0[b] + a->n_new[b]; /* keys 0..p for the last query */
        if (a->span != SWACL_SPAN_GLOBAL && n > a->span_size) n = a->span_size;
        if (n > maxkeys) maxkeys = n;
    }
    const size_t stride = (size_t)maxkeys + QTILE;
    const int nt = nthreads(be);
    const size_t per_thread = QTILE * stride + (size_t)QTILE * d; /* scores, output acc */
    double *scratch = malloc((size_t)nt * per_thread * sizeof(double));
    SWACL_FAIL_IF(be->ctx, !scratch, SWACL_OUT_OF_MEMORY,
                  "ref attention: cannot allocate %zu bytes of scratch",
                  (size_t)nt * per_thread * sizeof(double));

    const float *Q = fdata(a->q), *K = fdata(a->k), *V = fdata(a->v);
    const float *KC = a->kc ? fdata(a->kc) : NULL, *VC = a->vc ? fdata(a->vc) : NULL;
    float *O = fdata(a->out);
    float *rd[4] = {NULL, NULL, NULL, NULL}; /* kv_f16: K, V, KC, VC as read */
    if (a->kv_f16) {
        const size_t nkv = (size_t)B * T * Hkv * d, nc = a->kc ? (size_t)B * a->cap * Hkv * d : 0;
        rd[0] = kv_as_read(a->k, nkv, 0);
        rd[1] = kv_as_read(a->v, nkv, 0);
        rd[2] = nc ? kv_as_read(a->kc, nc, 1) : NULL;
        rd[3] = nc ? kv_as_read(a->vc, nc, 1) : NULL;
        if (!rd[0] || !rd[1] || (nc && (!rd[2] || !rd[3]))) {
            for (int i = 0; i < 4; i++) free(rd[i]);
            free(scratch);
            return swacl_set_error(be->ctx, SWACL_OUT_OF_MEMORY, "ref attention: out of host memory");
        }
        K = rd[0], V = rd[1], KC = rd[2], VC = rd[3];
    }

#pragma omp parallel for collapse(3) schedule(dynamic, 1) num_threads(nt)
    for (int b = 0; b < B; b++) {
        for (int h = 0; h < H; h++) {
            for (int tile = 0; tile < ntiles; tile++) {
                const int t0 = tile * QTILE;
                const int nq = T - t0 < QTILE ? T - t0 : QTILE;
                int nv = a->n_new[b] - t0; /* valid queries in this tile */
                nv = nv < 0 ? 0 : (nv > nq ? nq : nv);
                /* padding rows t >= n_new[b]: zeros */
                for (int i = nv; i < nq; i++)
                    memset(O + ((size_t)b * T + t0 + i) * qw + (size_t)h * d, 0,
                           (size_t)d * sizeof(float));
                if (nv == 0) continue;

                double *S = scratch + (size_t)omp_get_thread_num() * per_thread;
                double *acc = S + QTILE * stride;
                const int kvh = h / group;
                const int p0 = a->pos0[b];
                /* per query: position p, first key lo, q row, q multiplier */
                int lo[QTILE] = {0}, pos[QTILE] = {0};
                const float *q[QTILE];
                double qs[QTILE];
                for (int i = 0; i < nv; i++) {
                    pos[i] = p0 + t0 + i;
                    lo[i] = span_lo(a->span, a->span_size, pos[i]);
                    q[i] = Q + ((size_t)b * T + t0 + i) * qw + (size_t)h * d;
                    /* query temperature s(p) multiplies q; scale multiplies logits */
                    qs[i] = (double)swacl_temp_factor(a->temp, a->temp_p0, a->temp_p1, pos[i]) *
                            (double)a->scale;
                }
                /* keys any query of the tile sees: jlo .. jhi; S[i][j - jlo] */
                const int jlo = lo[0], jhi = pos[nv - 1];

                /* scores: s_ij = qs_i * <q_i, k_j> for lo_i <= j <= p_i,
                 * soft-capped to c tanh(s / c) when softcap c > 0 */
                const double cap = a->softcap;
                for (int j = jlo; j <= jhi; j++) {
                    const float *kj = kv_row(a, K, KC, b, kvh, j);
                    for (int i = 0; i < nv; i++)
                        if (j >= lo[i] && j <= pos[i]) {
                            double sij = qs[i] * dot_f64(q[i], kj, d);
                            S[i * stride + (size_t)(j - jlo)] = cap > 0 ? cap * tanh(sij / cap) : sij;
                        }
                }
                /* softmax per query, max subtracted, normalised in place */
                for (int i = 0; i < nv; i++) {
                    double *si = S + i * stride - jlo; /* si[j] for lo_i <= j <= p_i */
                    double mx = -INFINITY, sum = 0;
                    for (int j = lo[i]; j <= pos[i]; j++) mx = si[j] > mx ? si[j] : mx;
                    for (int j = lo[i]; j <= pos[i]; j++) sum += (si[j] = exp(si[j] - mx));
                    for (int j = lo[i]; j <= pos[i]; j++) si[j] /= sum;
                }
                /* out_i = sum_j P_ij v_j */
                memset(acc, 0, (size_t)nv * d * sizeof(double));
                for (int j = jlo; j <= jhi; j++) {
                    const float *vj = kv_row(a, V, VC, b, kvh, j);
                    for (int i = 0; i < nv; i++) {
                        if (j < lo[i] || j > pos[i]) continue;
                        const double pij = S[i * stride + (size_t)(j - jlo)];
                        double *ai = acc + (size_t)i * d;
                        for (int e = 0; e < d; e++) ai[e] += pij * (double)vj[e];
                    }
                }
                for (int i = 0; i < nv; i++) {
                    float *o = O + ((size_t)b * T + t0 + i) * qw + (size_t)h * d;
                    for (int e = 0; e < d; e++) o[e] = (float)acc[(size_t)i * d + e];
                }
            }
        }
    }
    for (int i = 0; i < 4; i++) free(rd[i]);
    free(scratch);
    return SWACL_OK;
}
