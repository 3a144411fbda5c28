/*
 * session.c - KV cache + chunked prefill + decode on top of the executor.
 *
 * Each layer's cache is [B, cap, Hkv*d] for K and for V, position p of a
 * sequence in slot p % cap:
 *   GLOBAL  cap = max_ctx   (slot p; bounds the context)
 *   WINDOW  cap = W         (a ring: a query at p needs keys p-W+1..p, and the
 *                            new keys of the current step come from the step
 *                            itself, so W cached positions always suffice)
 *   CHUNK   cap = C         (keys of the current chunk only)
 * The attention op reads positions < pos0 from the cache and the others from
 * the step's own rows; the cache is written after attention, so a step never
 * overwrites a key it still needs.
 */
#include <stdlib.h>
#include <string.h>

#include "graph/graph.h"

struct swacl_session {
    swacl_model *m;
    int B, max_ctx;
    swacl_kv_layer *kv;  /* [n_layers]                                       */
    int *pos;            /* [B] tokens cached per sequence                   */
    int *pos0, *n_new;   /* [B] step scratch                                 */
    uint64_t kv_bytes;
    int has_global;      /* any GLOBAL layer: max_ctx bounds the context     */
};

void swacl_session_destroy(swacl_session *s)
{
    if (!s) return;
    if (s->kv) {
        for (int l = 0; l < s->m->cfg.n_layers; l++) {
            if (s->kv[l].k) s->m->be->iface->buf_free(s->m->be, s->kv[l].k);
            if (s->kv[l].v) s->m->be->iface->buf_free(s->m->be, s->kv[l].v);
        }
    }
    free(s->kv);
    free(s->pos);
    free(s->pos0);
    free(s->n_new);
    free(s);
}

swacl_status swacl_session_create(swacl_model *m, int batch, int max_ctx, swacl_session **out)
{
    if (!out) return SWACL_INVALID_ARG;
    *out = NULL;
    if (!m) return SWACL_INVALID_ARG;
    if (batch < 1) return swacl_set_error(m->ctx, SWACL_INVALID_ARG, "session batch must be >= 1 (got %d)", batch);
    if (max_ctx < 1) return swacl_set_error(m->ctx, SWACL_INVALID_ARG, "session max_ctx must be >= 1 (got %d)", max_ctx);
    const swacl_config *c = &m->cfg;
    swacl_session *s = calloc(1, sizeof *s);
    if (!s) return swacl_set_error(m->ctx, SWACL_OUT_OF_MEMORY, "out of host memory");
    s->m = m;
    s->B = batch;
    s->max_ctx = max_ctx;
    s->kv = calloc((size_t)c->n_layers, sizeof *s->kv);
    s->pos = calloc((size_t)batch, sizeof *s->pos);
    s->pos0 = calloc((size_t)batch, sizeof *s->pos0);
    s->n_new = calloc((size_t)batch, sizeof *s->n_new);
    if (!s->kv || !s->pos || !s->pos0 || !s->n_new) {
        swacl_session_destroy(s);
        return swacl_set_error(m->ctx, SWACL_OUT_OF_MEMORY, "out of host memory");
    }
    const size_t width = (size_t)c->n_kv_heads * c->head_dim;
    for (int l = 0; l < c->n_layers; l++) {
        const swacl_layer_spec *ls = &c->layers[l];
        /* a ring never needs more than max_ctx slots either */
        int cap = swacl_layer_cache_cap(ls, max_ctx);
        if (ls->span == SWACL_SPAN_GLOBAL) s->has_global = 1;
        size_t bytes = (size_t)batch * (size_t)cap * width * sizeof(float);
        swacl_status st = m->be->iface->buf_alloc(m->be, bytes, &s->kv[l].k);
        if (st == SWACL_OK) st = m->be->iface->buf_alloc(m->be, bytes, &s->kv[l].v);
        if (st != SWACL_OK) {
            swacl_set_error(m->ctx, st, "allocating the layer-%d KV cache (%zu MiB x 2) failed: %s", l,
                            bytes >> 20, swacl_ctx_errmsg(m->ctx));
            swacl_session_destroy(s);
            return st;
        }
        s->kv[l].cap = cap;
        s->kv_bytes += 2 * bytes;
    }
    *out = s;
    return SWACL_OK;
}

int swacl_session_pos(const swacl_session *s, int b)
{
    return s && b >= 0 && b < s->B ? s->pos[b] : -1;
}

uint64_t swacl_session_kv_bytes(const swacl_session *s) { return s ? s->kv_bytes : 0; }

void swacl_session_reset(swacl_session *s)
{
    if (s) memset(s->pos, 0, (size_t)s->B * sizeof *s->pos);
}

swacl_status swacl_session_step(swacl_session *s, int T, const int *n_new, const int32_t *ids,
                                const float *embeds, float *out)
{
    if (!s) return SWACL_INVALID_ARG;
    swacl_model *m = s->m;
    const swacl_config *c = &m->cfg;
    if (!out) return swacl_set_error(m->ctx, SWACL_INVALID_ARG, "output buffer is NULL");
    if (T < 1) return swacl_set_error(m->ctx, SWACL_INVALID_ARG, "step length must be >= 1 (got %d)", T);
    for (int b = 0; b < s->B; b++) {
        int nb = n_new ? n_new[b] : T;
        if (nb < 0 || nb > T)
            return swacl_set_error(m->ctx, SWACL_INVALID_ARG, "n_new[%d] = %d is outside 0..%d", b, nb, T);
        if (s->has_global && s->pos[b] + nb > s->max_ctx)
            return swacl_set_error(m->ctx, SWACL_INVALID_ARG,
                                   "sequence %d would reach %d tokens, past the session's max_ctx %d",
                                   b, s->pos[b] + nb, s->max_ctx);
        s->pos0[b] = s->pos[b];
        s->n_new[b] = nb;
    }
    /* validate the used ids / inputs */
    swacl_input in = {.batch = s->B, .seq = T, .ids = ids, .embeds = embeds};
    if (c->vocab_size > 0 && ids) {
        for (int b = 0; b < s->B; b++)
            for (int t = 0; t < s->n_new[b]; t++) {
                int32_t id = ids[(size_t)b * T + t];
                if (id < 0 || id >= c->vocab_size)
                    return swacl_set_error(m->ctx, SWACL_INVALID_ARG,
                                           "token id %d (sequence %d, position %d) is outside [0, %d)",
                                           id, b, t, c->vocab_size);
            }
    } else {
        SWACL_TRY(swacl_graph_check_input(m, &in));
    }
    /* padded rows (t >= n_new[b]) still flow through the per-row ops: give
     * them a valid id so the embedding lookup stays in bounds */
    int32_t *ids_safe = NULL;
    if (ids) {
        ids_safe = malloc((size_t)s->B * T * sizeof *ids_safe);
        if (!ids_safe) return swacl_set_error(m->ctx, SWACL_OUT_OF_MEMORY, "out of host memory");
        for (int b = 0; b < s->B; b++)
            for (int t = 0; t < T; t++)
                ids_safe[(size_t)b * T + t] = t < s->n_new[b] ? ids[(size_t)b * T + t] : 0;
    }
    swacl_step st = {
        .B = s->B, .T = T, .pos0 = s->pos0, .n_new = s->n_new,
        .ids = ids_safe, .embeds = embeds, .kv = s->kv,
        .layer_begin = 0, .layer_end = c->n_layers, .all_positions = 0,
    };
    swacl_status rc = swacl_graph_step(m, &st, out);
    free(ids_safe);
    if (rc != SWACL_OK) return rc;
    for (int b = 0; b < s->B; b++) s->pos[b] += s->n_new[b];
    return SWACL_OK;
}

swacl_status swacl_session_prefill(swacl_session *s, const swacl_input *in, int chunk, float *out)
{
    if (!s) return SWACL_INVALID_ARG;
    swacl_model *m = s->m;
    const swacl_config *c = &m->cfg;
    SWACL_TRY(swacl_graph_check_input(m, in));
    if (in->batch != s->B)
        return swacl_set_error(m->ctx, SWACL_INVALID_ARG, "input batch %d != session batch %d", in->batch, s->B);
    if (chunk < 0) return swacl_set_error(m->ctx, SWACL_INVALID_ARG, "chunk must be >= 0 (got %d)", chunk);
    const int T = in->seq, Tc = chunk > 0 && chunk < T ? chunk : T;
    const size_t din = c->vocab_size > 0 ? 0 : (size_t)c->input_dim;
    int32_t *ids = NULL;
    float *emb = NULL;
    if (Tc < T) { /* repack [B, T] into [B, Tc] slices */
        if (c->vocab_size > 0) ids = malloc((size_t)s->B * Tc * sizeof *ids);
        else emb = malloc((size_t)s->B * Tc * din * sizeof *emb);
        if (!ids && !emb) return swacl_set_error(m->ctx, SWACL_OUT_OF_MEMORY, "out of host memory");
    }
    swacl_status rc = SWACL_OK;
    for (int t0 = 0; t0 < T && rc == SWACL_OK; t0 += Tc) {
        int n = T - t0 < Tc ? T - t0 : Tc;
        const int32_t *pi = in->ids;
        const float *pe = in->embeds;
        if (Tc < T) {
            for (int b = 0; b < s->B; b++) {
                if (ids)
                    memcpy(ids + (size_t)b * Tc, in->ids + (size_t)b * T + t0, (size_t)n * sizeof *ids);
                else
                    memcpy(emb + (size_t)b * Tc * din, in->embeds + ((size_t)b * T + t0) * din,
                           (size_t)n * din * sizeof *emb);
            }
            pi = ids;
            pe = emb;
        }
        /* n_new = n for every sequence (the last chunk may be short) */
        int *nn = malloc((size_t)s->B * sizeof *nn);
        if (!nn) {
            rc = swacl_set_error(m->ctx, SWACL_OUT_OF_MEMORY, "out of host memory");
            break;
        }
        for (int b = 0; b < s->B; b++) nn[b] = n;
        rc = swacl_session_step(s, Tc < T ? Tc : T, nn, pi, pe, out);
        free(nn);
    }
    free(ids);
    free(emb);
    return rc;
}
