/*
 * kv.c - KV-cache sizing and allocation: the only place that decides how
 * many slots a layer's cache has (sessions, swacl_kv_bytes and the
 * pipeline's fit check all ask here).
 *
 * Each layer's cache is [B, cap, Hkv*d] for K and for V, position p of a
 * sequence in slot p % cap:
 *   GLOBAL  cap = max_ctx          (slot p; bounds the context)
 *   WINDOW  cap = min(W, max_ctx)  (a ring: a query at p needs keys
 *                                   p-W+1..p, and the new keys of the
 *                                   current step come from the step itself,
 *                                   so W cached positions always suffice)
 *   CHUNK   cap = min(C, max_ctx)  (keys of the current chunk only)
 * A ring cut below its span by max_ctx (max_ctx < W) holds every position
 * only up to max_ctx, so such a session is bounded like a global one
 * (sched_kv_bounded); an uncut ring streams without bound.
 * The attention op reads positions < pos0 from the cache and the others
 * from the step's own rows; the cache is written after attention, so a step
 * never overwrites a key it still needs.
 */
#include "sched/sched.h"

int swacl_layer_cache_cap(const swacl_layer_spec *l, int n_ctx)
{
    if (l->span == SWACL_SPAN_GLOBAL) return n_ctx;
    return l->span_size < n_ctx ? l->span_size : n_ctx;
}

int sched_kv_bounded(const swacl_config *c, int max_ctx)
{
    for (int l = 0; l < c->n_layers; l++)
        if (c->layers[l].span == SWACL_SPAN_GLOBAL || c->layers[l].span_size > max_ctx) return 1;
    return 0;
}

/* K (or V) bytes of one layer: batch x cap x Hkv*d values of 4 bytes
 * (2 for an f16 cache). */
static uint64_t layer_bytes(const swacl_config *c, int l, int batch, int max_ctx, int f16)
{
    return (uint64_t)batch * (uint64_t)swacl_layer_cache_cap(&c->layers[l], max_ctx) *
           (uint64_t)c->n_kv_heads * (uint64_t)c->head_dim * (f16 ? 2u : 4u);
}

uint64_t sched_kv_range_bytes(const swacl_config *c, int l0, int l1, int batch, int max_ctx,
                              int f16, uint64_t *max_buf)
{
    uint64_t total = 0, biggest = 0;
    if (batch > 0 && max_ctx > 0)
        for (int l = l0; l < l1 && l < SWACL_MAX_LAYERS; l++) {
            uint64_t one = layer_bytes(c, l, batch, max_ctx, f16);
            total += 2 * one;
            if (one > biggest) biggest = one;
        }
    if (max_buf) *max_buf = biggest;
    return total;
}

uint64_t swacl_kv_bytes(const swacl_config *c, int batch, int n_ctx, uint64_t *global_bytes,
                        uint64_t *window_bytes)
{
    return swacl_kv_bytes_ex(c, SWACL_WT_F32, batch, n_ctx, global_bytes, window_bytes);
}

uint64_t swacl_kv_bytes_ex(const swacl_config *c, int kv_type, int batch, int n_ctx,
                           uint64_t *global_bytes, uint64_t *window_bytes)
{
    uint64_t g = 0, w = 0;
    if (swacl_config_size_ok(c) && batch > 0 && n_ctx > 0) {
        for (int l = 0; l < c->n_layers && l < SWACL_MAX_LAYERS; l++) {
            uint64_t b = sched_kv_range_bytes(c, l, l + 1, batch, n_ctx, kv_type == SWACL_WT_F16, NULL);
            if (c->layers[l].span == SWACL_SPAN_GLOBAL) g += b;
            else w += b;
        }
    }
    if (global_bytes) *global_bytes = g;
    if (window_bytes) *window_bytes = w;
    return g + w;
}

swacl_status sched_kv_alloc(swacl_backend *be, const swacl_config *c, int l, int batch,
                            int max_ctx, int f16, swacl_kv_layer *kv, uint64_t *bytes)
{
    const uint64_t one = layer_bytes(c, l, batch, max_ctx, f16);
    *bytes = 2 * one;
    kv->k = kv->v = NULL;
    kv->f16 = f16;
    kv->cap = swacl_layer_cache_cap(&c->layers[l], max_ctx);
    if ((uint64_t)(size_t)one != one) return SWACL_OUT_OF_MEMORY; /* 32-bit hosts */
    swacl_status st = be->iface->buf_alloc(be, (size_t)one, &kv->k);
    if (st == SWACL_OK) st = be->iface->buf_alloc(be, (size_t)one, &kv->v);
    if (st != SWACL_OK) sched_kv_free(be, kv);
    return st;
}

void sched_kv_free(swacl_backend *be, swacl_kv_layer *kv)
{
    if (kv->k) be->iface->buf_free(be, kv->k);
    if (kv->v) be->iface->buf_free(be, kv->v);
    kv->k = kv->v = NULL;
}
