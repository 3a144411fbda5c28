/*
 * weights.c - host weights: a list of named tensors, each in its storage
 * type (model/quant.c); random weights are float32.
 * Random weights are seeded per tensor (seed, tensor index), so a preset's
 * weights are the same on every machine and every run.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

const swacl_tensor *swacl_weights_find(const swacl_weights *w, const char *name)
{
    if (!w || !name) return NULL;
    for (int i = 0; i < w->n; i++)
        if (strcmp(w->t[i].name, name) == 0) return &w->t[i];
    return NULL;
}

swacl_status swacl_weights_add(swacl_weights *w, const char *name, int ndim,
                               const int64_t *shape, swacl_tensor **out)
{
    swacl_tensor *t = NULL;
    SWACL_TRY(swacl_weights_add_meta(w, name, ndim, shape, &t));
    const size_t bytes = (size_t)(t->numel ? t->numel : 1) * sizeof(float);
    float *data = swacl_weight_alloc(bytes);
    if (!data) {
        w->n--;
        return SWACL_OUT_OF_MEMORY;
    }
    memset(data, 0, bytes);
    swacl_tensor_set(t, SWACL_WT_F32, data, (size_t)t->numel * sizeof(float), 1);
    if (out) *out = t;
    return SWACL_OK;
}

swacl_status swacl_weights_add_meta(swacl_weights *w, const char *name, int ndim,
                                    const int64_t *shape, swacl_tensor **out)
{
    if (!w || !name || ndim < 0 || ndim > 4 || strlen(name) >= sizeof w->t[0].name)
        return SWACL_INVALID_ARG;
    int64_t numel = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 0 || (shape[d] > 0 && numel > INT64_MAX / 4 / shape[d]))
            return SWACL_INVALID_ARG;
        numel *= shape[d];
    }
    if (w->n == w->cap) {
        int cap = w->cap ? 2 * w->cap : 64;
        swacl_tensor *t = realloc(w->t, (size_t)cap * sizeof *t);
        if (!t) return SWACL_OUT_OF_MEMORY;
        w->t = t;
        w->cap = cap;
    }
    swacl_tensor *t = &w->t[w->n];
    memset(t, 0, sizeof *t);
    strcpy(t->name, name);
    t->ndim = ndim;
    for (int d = 0; d < ndim; d++) t->shape[d] = shape[d];
    t->numel = numel;
    w->n++;
    if (out) *out = t;
    return SWACL_OK;
}

void swacl_weights_retain(swacl_weights *w)
{
    if (w) __atomic_add_fetch(&w->refs, 1, __ATOMIC_ACQ_REL);
}

/* The caller's destroy and each borrowing model's release: the last frees. */
void swacl_weights_destroy(swacl_weights *w)
{
    if (!w || __atomic_fetch_sub(&w->refs, 1, __ATOMIC_ACQ_REL) > 0) return;
    for (int i = 0; i < w->n; i++)
        if (w->t[i].owned) free((void *)w->t[i].bytes);
    free(w->t);
    for (int i = 0; i < w->n_maps; i++) munmap(w->maps[i].addr, w->maps[i].len);
    free(w->maps);
    free(w);
}

int swacl_weights_count(const swacl_weights *w) { return w ? w->n : 0; }

const char *swacl_weights_name(const swacl_weights *w, int i, int *ndim, int64_t shape[4],
                               const float **data)
{
    if (!w || i < 0 || i >= w->n) return NULL;
    const swacl_tensor *t = &w->t[i];
    if (data && swacl_tensor_realize(w, t) != SWACL_OK) { /* out of memory: no data */
        *data = NULL;
        data = NULL;
    }
    if (ndim) *ndim = t->ndim;
    if (shape)
        for (int d = 0; d < 4; d++) shape[d] = d < t->ndim ? t->shape[d] : 1;
    if (data) *data = t->data;
    return t->name;
}

typedef struct {
    swacl_weights *w;
    uint64_t seed;
    swacl_status st;
    int lazy;
} rand_state;

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

/* Tensor i's seeded values into data (the stream depends on seed and i
 * only, so a tensor made alone equals the one made with all the others). */
static void fill_random(const swacl_tensor *t, uint64_t seed, int i, float *data)
{
    const char *name = t->name;
    swacl_rng r = {seed * 0x9E3779B97F4A7C15ull + (uint64_t)(i + 1) * 0xD1B54A32D192ED03ull};
    /* Norm gains near 1 and small biases keep activations O(1) through many
     * layers while still making every parameter matter in comparisons. */
    int is_norm = strstr(name, "norm") != NULL;
    float lo, scale;
    if (is_norm && ends_with(name, ".weight")) {
        lo = 1.0f;
        scale = 0.1f;
    } else if (ends_with(name, ".bias")) {
        lo = 0.0f;
        scale = 0.05f;
    } else if (strstr(name, "embed_tokens")) {
        lo = 0.0f;
        scale = 1.0f;
    } else { /* linear [out, in]: uniform(-1,1)/sqrt(in), like nn.Linear */
        lo = 0.0f;
        scale = 1.0f / sqrtf((float)t->shape[t->ndim - 1]);
    }
    for (int64_t k = 0; k < t->numel; k++) data[k] = lo + scale * swacl_rng_uniform(&r);
}

static void add_random(const char *name, int ndim, const int64_t *shape, void *user)
{
    rand_state *rs = user;
    if (rs->st != SWACL_OK) return;
    swacl_tensor *t = NULL;
    if (rs->lazy) { /* made on first use */
        rs->st = swacl_weights_add_meta(rs->w, name, ndim, shape, &t);
        if (rs->st == SWACL_OK) t->pending = 1, t->type = SWACL_WT_F32;
        return;
    }
    rs->st = swacl_weights_add(rs->w, name, ndim, shape, &t);
    if (rs->st != SWACL_OK) return;
    fill_random(t, rs->seed, rs->w->n - 1, t->data);
}

swacl_status swacl_tensor_realize(const swacl_weights *cw, const swacl_tensor *ct)
{
    if (!cw || !ct || !ct->pending) return SWACL_OK;
    swacl_tensor *t = (swacl_tensor *)ct; /* a cache filled on first use */
    if (t->pending == 2) return swacl_tensor_load(t, cw->allow_nonfinite);
    const size_t bytes = (size_t)(t->numel ? t->numel : 1) * sizeof(float);
    float *data = swacl_weight_alloc(bytes);
    if (!data) return SWACL_OUT_OF_MEMORY;
    fill_random(t, cw->seed, (int)(t - cw->t), data);
    const swacl_wtype want = t->type;
    swacl_tensor_set(t, SWACL_WT_F32, data, (size_t)t->numel * sizeof(float), 1);
    t->pending = 0;
    return swacl_tensor_encode(t, want);
}

uint64_t swacl_weights_owned_bytes(const swacl_weights *w)
{
    uint64_t n = 0;
    for (int i = 0; w && i < w->n; i++)
        if (w->t[i].owned) n += w->t[i].nbytes;
    return n;
}

static swacl_status create_random(const swacl_config *cfg, uint64_t seed, int lazy,
                                  swacl_weights **out)
{
    if (!cfg || !out) return SWACL_INVALID_ARG;
    *out = NULL;
    if (swacl_config_check(cfg, NULL, 0) != SWACL_OK) return SWACL_INVALID_ARG;
    swacl_weights *w = calloc(1, sizeof *w);
    if (!w) return SWACL_OUT_OF_MEMORY;
    w->seed = seed;
    rand_state rs = {w, seed, SWACL_OK, lazy};
    swacl_config_tensors(cfg, add_random, &rs);
    if (rs.st != SWACL_OK) {
        swacl_weights_destroy(w);
        return rs.st;
    }
    *out = w;
    return SWACL_OK;
}

swacl_status swacl_weights_create_random(const swacl_config *cfg, uint64_t seed,
                                         swacl_weights **out)
{
    return create_random(cfg, seed, 0, out);
}

swacl_status swacl_weights_create_seeded(const swacl_config *cfg, uint64_t seed,
                                         swacl_weights **out)
{
    return create_random(cfg, seed, 1, out);
}
