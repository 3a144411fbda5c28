/*
 * hf_load.c - swacl_load_hf / swacl_save_hf: a Hugging Face model directory
 * (config.json + model.safetensors, or shards + model.safetensors.index.json)
 * <-> swacl_config + swacl_weights.
 *
 * Loading memory-maps every shard read-only, validates its header
 * (safetensors.c), maps config.json (hf_config.c), then stores each tensor
 * the config needs (swacl_config_tensors): 2-D ones in the requested type
 * (borrowed from the mapping when the file holds it, which the weights then
 * keep open), 1-D ones (norms, biases) as float32.
 * Tensors a config does not need (rotary buffers, a tied lm_head) are
 * ignored; a needed tensor that is absent or has the wrong shape is an error
 * naming it.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* madvise */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/file.h"
#include "model/gguf.h"
#include "model/hf.h"

#define MAX_SHARDS 1024

typedef struct {
    char path[4096];
    const char *fname; /* basename inside path */
    swacl_file_map m;
    swacl_st_file st;
} shard;

static swacl_status shard_open(shard *s, const char *dir, const char *file, char *err,
                               size_t err_len)
{
    memset(s, 0, sizeof *s);
    int n = snprintf(s->path, sizeof s->path, "%s/%s", dir, file);
    if (n < 0 || (size_t)n >= sizeof s->path) {
        swacl_format_msg(err, err_len, "path too long: %s/%s", dir, file);
        return SWACL_INVALID_ARG;
    }
    s->fname = s->path;
    SWACL_TRY(swacl_file_map_open(s->path, &s->m, err, err_len));
    static const uint8_t empty[1] = {0};
    return swacl_st_parse(s->m.map ? s->m.map : empty, s->m.len, s->path, &s->st, err, err_len);
}

static void shard_close(shard *s)
{
    swacl_st_free(&s->st);
    swacl_file_map_close(&s->m);
}

/* Shard file names from model.safetensors.index.json (deduplicated). */
static swacl_status index_shards(const char *dir, char ***names, int *n, char *err, size_t err_len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    uint8_t *buf;
    size_t len;
    SWACL_TRY(swacl_file_read_msg(path, SWACL_FILE_MAX_JSON, &buf, &len, err, err_len));
    cJSON *root = cJSON_ParseWithLength((const char *)buf, len);
    free(buf);
    if (root && swacl_json_last_wins(root) != 0) {
        cJSON_Delete(root);
        swacl_format_msg(err, err_len, "%s: out of memory", path);
        return SWACL_OUT_OF_MEMORY;
    }
    swacl_status st = SWACL_OK;
    char **list = NULL;
    int cnt = 0;
    const cJSON *wm = root ? cJSON_GetObjectItemCaseSensitive(root, "weight_map") : NULL;
    if (!cJSON_IsObject(wm)) {
        swacl_format_msg(err, err_len, "%s: not JSON with a 'weight_map' object", path);
        st = SWACL_FORMAT;
        goto out;
    }
    list = calloc(MAX_SHARDS, sizeof *list);
    if (!list) {
        st = SWACL_OUT_OF_MEMORY;
        goto out;
    }
    for (const cJSON *e = wm->child; e; e = e->next) {
        if (!cJSON_IsString(e) || !e->valuestring || !e->valuestring[0] ||
            strchr(e->valuestring, '/') || strchr(e->valuestring, '\\') ||
            strcmp(e->valuestring, "..") == 0 || strcmp(e->valuestring, ".") == 0) {
            swacl_format_msg(err, err_len, "%s: weight_map entry for '%.100s' is not a plain file name",
                             path, e->string ? e->string : "");
            st = SWACL_FORMAT;
            goto out;
        }
        int seen = 0;
        for (int i = 0; i < cnt && !seen; i++) seen = strcmp(list[i], e->valuestring) == 0;
        if (seen) continue;
        if (cnt == MAX_SHARDS) {
            swacl_format_msg(err, err_len, "%s: more than %d shards", path, MAX_SHARDS);
            st = SWACL_UNSUPPORTED;
            goto out;
        }
        list[cnt] = malloc(strlen(e->valuestring) + 1);
        if (!list[cnt]) {
            st = SWACL_OUT_OF_MEMORY;
            goto out;
        }
        strcpy(list[cnt++], e->valuestring);
    }
    if (cnt == 0) {
        swacl_format_msg(err, err_len, "%s: empty weight_map", path);
        st = SWACL_FORMAT;
    }
out:
    cJSON_Delete(root);
    if (st != SWACL_OK && list) {
        for (int i = 0; i < cnt; i++) free(list[i]);
        free(list);
        list = NULL;
        cnt = 0;
    }
    *names = list;
    *n = cnt;
    return st;
}

void swacl_hf_collect(const char *name, int ndim, const int64_t *shape, void *user)
{
    swacl_hf_need *l = user;
    if (l->oom) return;
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        struct swacl_hf_need_t *t = realloc(l->t, (size_t)cap * sizeof *t);
        if (!t) {
            l->oom = 1;
            return;
        }
        l->t = t;
        l->cap = cap;
    }
    struct swacl_hf_need_t *e = &l->t[l->n++];
    snprintf(e->name, sizeof e->name, "%s", name);
    e->ndim = ndim;
    e->shape[0] = shape[0];
    e->shape[1] = ndim > 1 ? shape[1] : 0;
}

static void shape_str(char *buf, size_t len, int ndim, const int64_t *shape)
{
    size_t off = 0;
    off += (size_t)snprintf(buf, len, "[");
    for (int d = 0; d < ndim && off < len; d++)
        off += (size_t)snprintf(buf + off, len - off, "%s%lld", d ? ", " : "", (long long)shape[d]);
    if (off < len) snprintf(buf + off, len - off, "]");
}

/* Index of the first NaN/Inf in x[0..n), n when there is none. */
static size_t first_nonfinite(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return i;
    return n;
}

/* A 2-D tensor in storage type wt (the final type: the caller applies
 * swacl_wtype_for): borrowed from the mapping when the file already holds
 * that type at an aligned offset and may_borrow (*borrowed = 1), else
 * copied or encoded row by row from the file's bytes (file type ft, any
 * storage type). *bad = index of the first NaN/Inf of the file's values
 * (numel if none). */
static const swacl_wtype k_st_type[] = {SWACL_WT_F32, SWACL_WT_F16, SWACL_WT_BF16};

static swacl_status store_typed(swacl_tensor *t, const uint8_t *src, swacl_wtype ft, swacl_wtype wt,
                                int may_borrow, int *borrowed, size_t *bad)
{
    const int64_t K = t->shape[1], rows = t->shape[0];
    const size_t ib = swacl_wtype_row_bytes(ft, K), ob = swacl_wtype_row_bytes(wt, K);
    float *row = malloc((size_t)(K ? K : 1) * sizeof *row);
    if (!row) return SWACL_OUT_OF_MEMORY;
    /* borrowed only where a device can use the pages in place; else one
     * aligned copy, and the file's pages under it are dropped after it */
    *borrowed = may_borrow && wt == ft && (uintptr_t)src % 128 == 0; /* PoCL's CL_DEVICE_MEM_BASE_ADDR_ALIGN */
    uint8_t *out = *borrowed ? NULL : swacl_weight_alloc((size_t)rows * ob);
    if (!*borrowed && !out) {
        free(row);
        return SWACL_OUT_OF_MEMORY;
    }
    *bad = (size_t)t->numel;
    /* a copy drops the file's pages as it goes (every 8 MiB), so the file
     * and its copy are never both resident: pages wholly inside the tensor */
    uintptr_t dropped = ((uintptr_t)src + 4095) / 4096 * 4096;
    int64_t r0 = 0;
    if (wt == ft && (ft == SWACL_WT_Q8_0 || ft == SWACL_WT_Q4_0)) {
        /* as stored: block scales have no cheap bit test, so decode to check
         * (re-encoding a decoded block need not give its bytes back) */
        for (int64_t r = 0; r < rows && *bad == (size_t)t->numel; r++) {
            swacl_row_decode(ft, src + (size_t)r * ib, row, K);
            for (int64_t k = 0; k < K; k++)
                if (!isfinite(row[k])) {
                    *bad = (size_t)(r * K + k);
                    break;
                }
        }
    } else if (wt == ft) { /* as stored: a bit test and a copy, no decode (start-up) */
        *bad = swacl_wtype_first_nonfinite(ft, src, (size_t)t->numel);
    }
    if (wt == ft) {
        const size_t chunk = (size_t)8 << 20;
        for (size_t o = 0; out && o < (size_t)rows * ob; o += chunk) {
            size_t len = (size_t)rows * ob - o < chunk ? (size_t)rows * ob - o : chunk;
#ifdef MADV_POPULATE_READ
            /* map the chunk's file pages in one call, not one fault per page */
            uintptr_t pb = ((uintptr_t)src + o) / 4096 * 4096;
            madvise((void *)pb, (uintptr_t)src + o + len - pb, MADV_POPULATE_READ);
#endif
            memcpy(out + o, src + o, len);
            uintptr_t end = ((uintptr_t)src + o + len) / 4096 * 4096;
            if (end > dropped) {
                madvise((void *)dropped, end - dropped, MADV_DONTNEED);
                dropped = end;
            }
        }
        r0 = rows; /* done */
    }
    for (int64_t r = r0; r < rows; r++) {
        swacl_row_decode(ft, src + (size_t)r * ib, row, K);
        for (int64_t k = 0; k < K && *bad == (size_t)t->numel; k++)
            if (!isfinite(row[k])) *bad = (size_t)(r * K + k);
        if (out) swacl_row_encode(wt, row, out + (size_t)r * ob, K);
        uintptr_t end = ((uintptr_t)src + (size_t)(r + 1) * ib) / 4096 * 4096;
        if (out && (end - dropped >= ((uintptr_t)8 << 20) || r + 1 == rows) && end > dropped) {
            madvise((void *)dropped, end - dropped, MADV_DONTNEED);
            dropped = end;
        }
    }
    free(row);
    if (*borrowed) swacl_tensor_set(t, wt, src, (size_t)rows * ob, 0);
    else swacl_tensor_set(t, wt, out, (size_t)rows * ob, 1);
    return SWACL_OK;
}

swacl_status swacl_tensor_load(swacl_tensor *t, int allow_nonfinite)
{
    const swacl_tensor was = *t; /* pending: restored when the values are refused */
    size_t bad = (size_t)t->numel;
    int borrowed = 0;
    swacl_status st = SWACL_OK;
    if (t->ndim == 2) {
        st = store_typed(t, t->src, t->src_type, t->type, !t->src_copy && !t->src_heads, &borrowed,
                         &bad);
        /* GGUF q/k rows back from llama.cpp's RoPE permutation (rows are
         * whole in every storage type, so before or after encoding alike) */
        if (st == SWACL_OK && t->src_heads &&
            swacl_gguf_unpermute_rows((void *)t->bytes, t->src_heads,
                                      (int)(t->shape[0] / t->src_heads),
                                      swacl_wtype_row_bytes(t->type, t->shape[1])) != 0)
            st = SWACL_OUT_OF_MEMORY;
    } else { /* 1-D: float32 */
        float *x = swacl_weight_alloc((size_t)(t->numel ? t->numel : 1) * sizeof *x);
        if (!x) return SWACL_OUT_OF_MEMORY;
        swacl_row_decode(t->src_type, t->src, x, t->numel);
        bad = first_nonfinite(x, (size_t)t->numel);
        swacl_tensor_set(t, SWACL_WT_F32, x, (size_t)t->numel * sizeof *x, 1);
    }
    if (st == SWACL_OK && !allow_nonfinite && bad < (size_t)t->numel) st = SWACL_FORMAT;
    if (st != SWACL_OK) {
        if (t->owned && t->bytes != was.bytes) free((void *)t->bytes);
        *t = was;
        return st;
    }
    t->pending = 0;
    return SWACL_OK;
}

/* Keep shard s's mapping alive in w (its tensors borrow from it). */
static swacl_status keep_map(swacl_weights *w, shard *s)
{
    if (!s->m.map) return SWACL_OK;
    struct swacl_weights_map *m = realloc(w->maps, (size_t)(w->n_maps + 1) * sizeof *m);
    if (!m) return SWACL_OUT_OF_MEMORY;
    w->maps = m;
    m[w->n_maps].addr = s->m.map;
    m[w->n_maps++].len = s->m.len;
    s->m.map = NULL; /* shard_close must not unmap it now */
    return SWACL_OK;
}

static swacl_status load_hf(const char *dir, int allow_nonfinite, swacl_wtype wtype, int lazy,
                            swacl_config *cfg, swacl_weights **out, char *err, size_t err_len)
{
    if (err && err_len) err[0] = 0;
    if (!dir || !cfg || !out) {
        swacl_format_msg(err, err_len, "swacl_load_hf: NULL argument");
        return SWACL_INVALID_ARG;
    }
    *out = NULL;
    swacl_status st;
    char path[4096];
    uint8_t *cj = NULL;
    size_t cj_len = 0;
    char **names = NULL;
    int n_names = 0;
    shard *sh = NULL;
    int n_sh = 0;
    swacl_hf_need need = {0, 0, NULL, 0};
    swacl_weights *w = NULL;
    swacl_hf_map map;
    swacl_config c;

    snprintf(path, sizeof path, "%s/config.json", dir);
    SWACL_TRY_GOTO(st, swacl_file_read_msg(path, SWACL_FILE_MAX_JSON, &cj, &cj_len, err, err_len),
                   done);
    {
        char e2[768];
        st = swacl_hf_config_parse((const char *)cj, cj_len, &c, &map, e2, sizeof e2);
        if (st != SWACL_OK) {
            swacl_format_msg(err, err_len, "%s/%s", dir, e2);
            goto done;
        }
    }

    /* shards */
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    if (swacl_file_present(path)) {
        SWACL_TRY_GOTO(st, index_shards(dir, &names, &n_names, err, err_len), done);
    } else {
        snprintf(path, sizeof path, "%s/model.safetensors", dir);
        if (!swacl_file_present(path)) {
            swacl_format_msg(err, err_len,
                             "%s: no model.safetensors or model.safetensors.index.json", dir);
            st = SWACL_IO;
            goto done;
        }
        names = calloc(1, sizeof *names);
        if (!names || !(names[0] = malloc(sizeof "model.safetensors"))) {
            st = SWACL_OUT_OF_MEMORY;
            goto done;
        }
        strcpy(names[0], "model.safetensors");
        n_names = 1;
    }
    sh = calloc((size_t)n_names, sizeof *sh);
    if (!sh) {
        st = SWACL_OUT_OF_MEMORY;
        goto done;
    }
    for (; n_sh < n_names; n_sh++) {
        st = shard_open(&sh[n_sh], dir, names[n_sh], err, err_len);
        if (st != SWACL_OK) {
            n_sh++; /* close it too */
            goto done;
        }
    }

    /* tensors */
    swacl_config_tensors(&c, swacl_hf_collect, &need);
    if (need.oom) {
        st = SWACL_OUT_OF_MEMORY;
        goto done;
    }
    w = calloc(1, sizeof *w);
    if (!w) {
        st = SWACL_OUT_OF_MEMORY;
        goto done;
    }
    for (int i = 0; i < need.n; i++) {
        const struct swacl_hf_need_t *nd = &need.t[i];
        char cand[8][192];
        int nc = swacl_hf_name_candidates(&map, nd->name, cand, 8);
        const swacl_st_entry *e = NULL;
        const shard *s = NULL;
        for (int k = 0; k < nc && !e; k++)
            for (int j = 0; j < n_sh && !e; j++)
                if ((e = swacl_st_find(&sh[j].st, cand[k])) != NULL) s = &sh[j];
        /* Phi-3: q/k/v (gate/up) are row ranges of qkv_proj (gate_up_proj),
         * converted straight from the mapped file, no fused copy */
        char fused[192];
        int64_t row0 = 0, fused_rows = 0;
        swacl_st_entry part;
        if (!e && swacl_hf_fused_part(&map, &c, nd->name, fused, &row0, &fused_rows)) {
            nc = swacl_hf_name_candidates(&map, fused, cand, 8);
            for (int k = 0; k < nc && !e; k++)
                for (int j = 0; j < n_sh && !e; j++)
                    if ((e = swacl_st_find(&sh[j].st, cand[k])) != NULL) s = &sh[j];
            if (e && !(e->ndim == 2 && e->shape[0] == fused_rows && e->shape[1] == nd->shape[1])) {
                char a[128];
                shape_str(a, sizeof a, e->ndim, e->shape);
                swacl_format_msg(err, err_len,
                                 "%s: tensor '%s' has shape %s, config.json implies [%lld, %lld]",
                                 s->fname, e->name, a, (long long)fused_rows,
                                 (long long)nd->shape[1]);
                st = SWACL_FORMAT;
                goto done;
            }
            if (e) {
                const uint64_t esz = e->dtype == SWACL_ST_F32 ? 4 : e->dtype == SWACL_ST_OTHER ? 0 : 2;
                part = *e;
                part.begin = e->begin + (uint64_t)row0 * (uint64_t)nd->shape[1] * esz;
                part.shape[0] = nd->shape[0];
                part.numel = (uint64_t)nd->shape[0] * (uint64_t)nd->shape[1];
                part.end = part.begin + part.numel * esz;
                e = &part;
            }
        }
        if (!e) {
            swacl_format_msg(err, err_len, "%s: missing tensor '%s' (model_type %s)", dir, nd->name,
                             map.model_type);
            st = SWACL_FORMAT;
            goto done;
        }
        int ok = e->ndim == nd->ndim && e->shape[0] == nd->shape[0] &&
                 (nd->ndim < 2 || e->shape[1] == nd->shape[1]);
        if (!ok) {
            char a[128], b[128];
            shape_str(a, sizeof a, e->ndim, e->shape);
            shape_str(b, sizeof b, nd->ndim, nd->shape);
            swacl_format_msg(err, err_len, "%s: tensor '%s' has shape %s, config.json implies %s",
                             s->fname, e->name, a, b);
            st = SWACL_FORMAT;
            goto done;
        }
        swacl_tensor *t;
        if (lazy && e->dtype != SWACL_ST_OTHER) { /* read on first use (swacl_tensor_load) */
            SWACL_TRY_GOTO(st, swacl_weights_add_meta(w, nd->name, nd->ndim, nd->shape, &t), done);
            SWACL_TRY_GOTO(st, keep_map(w, &sh[s - sh]), done);
            t->pending = 2;
            t->src = s->st.data + e->begin;
            t->src_type = k_st_type[e->dtype];
            t->type = nd->ndim == 2 ? swacl_wtype_for(nd->name, 2, nd->shape[1],
                                                      wtype == SWACL_WT_AUTO ? t->src_type : wtype)
                                    : SWACL_WT_F32;
            continue;
        }
        const int packed = nd->ndim == 2 && e->dtype != SWACL_ST_OTHER;
        st = packed ? swacl_weights_add_meta(w, nd->name, nd->ndim, nd->shape, &t)
                    : swacl_weights_add(w, nd->name, nd->ndim, nd->shape, &t);
        if (st != SWACL_OK) {
            swacl_format_msg(err, err_len, "%s: cannot allocate tensor '%s'", dir, nd->name);
            goto done;
        }
        size_t bad;
        float badv = 0;
        if (packed) { /* matmul / embedding: typed */
            int borrowed = 0;
            const swacl_wtype ft = k_st_type[e->dtype];
            SWACL_TRY_GOTO(st, store_typed(t, s->st.data + e->begin, ft,
                                           swacl_wtype_for(t->name, 2, t->shape[1],
                                                           wtype == SWACL_WT_AUTO ? ft : wtype),
                                           1, &borrowed, &bad), done);
            if (borrowed) SWACL_TRY_GOTO(st, keep_map(w, &sh[s - sh]), done);
            if (bad < (size_t)t->numel) {
                float tmp[1];
                swacl_st_entry one = *e;
                one.numel = 1;
                one.begin = e->begin + bad * (e->dtype == SWACL_ST_F32 ? 4 : 2);
                swacl_st_to_f32(&s->st, &one, tmp, s->fname, err, err_len);
                badv = tmp[0];
            }
        } else {
            SWACL_TRY_GOTO(st, swacl_st_to_f32(&s->st, e, t->data, s->fname, err, err_len), done);
            bad = first_nonfinite(t->data, (size_t)t->numel);
            if (bad < (size_t)t->numel) badv = t->data[bad];
        }
        if (allow_nonfinite) bad = (size_t)t->numel;
        if (bad < (size_t)t->numel) { /* would run and "pass" as a constant output (issue 14) */
            swacl_format_msg(err, err_len,
                             "%s: tensor '%s' has a non-finite value (%s) at index %zu "
                             "(allow_nonfinite / --allow-nonfinite loads it anyway)",
                             s->fname, e->name, isnan(badv) ? "NaN" : badv > 0 ? "+Inf" : "-Inf",
                             bad);
            st = SWACL_FORMAT;
            goto done;
        }
    }
    w->allow_nonfinite = allow_nonfinite;
    *cfg = c;
    *out = w;
    w = NULL;
    st = SWACL_OK;
done:
    if (st == SWACL_OUT_OF_MEMORY && err && err_len && !err[0])
        swacl_format_msg(err, err_len, "%s: out of memory", dir);
    swacl_weights_destroy(w);
    for (int i = 0; i < n_sh; i++) shard_close(&sh[i]);
    free(sh);
    for (int i = 0; i < n_names; i++) free(names[i]);
    free(names);
    free(need.t);
    free(cj);
    return st;
}

/* Public entry points: the parsers above write into a buffer (they also run
 * under the fuzzer, without a context); the message ends up on ctx. */
swacl_status swacl_load_hf(swacl_ctx *ctx, const char *dir, swacl_config *cfg, swacl_weights **out)
{
    char err[2048] = "";
    const swacl_ctx_params *p = ctx ? swacl_ctx_params_of(ctx) : NULL;
    swacl_wtype wt = p && (int)p->weights > 0 && p->weights < SWACL_WT_COUNT ? p->weights
                                                                            : SWACL_WT_AUTO;
    char gguf[4096];
    const int g = swacl_gguf_resolve(dir, gguf, sizeof gguf, err, sizeof err);
    swacl_status st = g < 0 ? SWACL_INVALID_ARG
                      : g   ? swacl_gguf_load(gguf, p && p->allow_nonfinite, p && p->lazy_weights, cfg, out,
                                            err, sizeof err)
                            : load_hf(dir, p && p->allow_nonfinite, wt, p && p->lazy_weights, cfg, out, err,
                                      sizeof err);
    /* GGUF tensors arrive as stored (F32 ones as float32): --weights then
     * re-encodes them like any checkpoint */
    if (st == SWACL_OK && g > 0 && wt != SWACL_WT_AUTO) {
        st = swacl_weights_convert(ctx, *out, wt);
        if (st != SWACL_OK) {
            swacl_weights_destroy(*out);
            *out = NULL;
            return st;
        }
    }
    return st == SWACL_OK ? SWACL_OK : swacl_copy_error(ctx, st, err);
}
