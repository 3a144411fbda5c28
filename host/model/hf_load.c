/*
 * hf_load.c - swacl_load_hf / swacl_save_hf: a Hugging Face model directory
 * (config.json + model.safetensors, or shards + model.safetensors.index.json)
 * <-> swacl_config + swacl_weights.
 *
 * Loading memory-maps every shard read-only, validates its header
 * (safetensors.c), maps config.json (hf_config.c), then converts each
 * tensor the config needs (swacl_config_tensors) to float32 exactly once.
 * Tensors a config does not need (rotary buffers, a tied lm_head) are
 * ignored; a needed tensor that is absent or has the wrong shape is an error
 * naming it.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "model/hf.h"

#define MAX_SHARDS 1024

swacl_status swacl_read_file(const char *path, uint8_t **buf, size_t *len, char *err,
                             size_t err_len)
{
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        swacl_format_msg(err, err_len, "cannot open %s: %s", path, strerror(errno));
        return SWACL_IO;
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *b = malloc(cap + 1);
    while (b) {
        size_t r = fread(b + n, 1, cap - n, f);
        n += r;
        if (n < cap) break;
        uint8_t *nb = realloc(b, 2 * cap + 1);
        if (!nb) {
            free(b);
            b = NULL;
            break;
        }
        b = nb;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (!b) {
        swacl_format_msg(err, err_len, "%s: out of memory", path);
        return SWACL_OUT_OF_MEMORY;
    }
    if (bad) {
        free(b);
        swacl_format_msg(err, err_len, "%s: read error", path);
        return SWACL_IO;
    }
    b[n] = 0;
    *buf = b;
    *len = n;
    return SWACL_OK;
}

typedef struct {
    char path[4096];
    const char *fname; /* basename inside path */
    void *map;
    size_t len;
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
    int fd = open(s->path, O_RDONLY);
    if (fd < 0) {
        swacl_format_msg(err, err_len, "cannot open %s: %s", s->path, strerror(errno));
        return SWACL_IO;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        swacl_format_msg(err, err_len, "%s: not a regular file", s->path);
        return SWACL_IO;
    }
    s->len = (size_t)sb.st_size;
    if (s->len > 0) {
        s->map = mmap(NULL, s->len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (s->map == MAP_FAILED) {
            s->map = NULL;
            close(fd);
            swacl_format_msg(err, err_len, "cannot mmap %s: %s", s->path, strerror(errno));
            return SWACL_IO;
        }
    }
    close(fd);
    static const uint8_t empty[1] = {0};
    return swacl_st_parse(s->map ? s->map : empty, s->len, s->path, &s->st, err, err_len);
}

static void shard_close(shard *s)
{
    swacl_st_free(&s->st);
    if (s->map) munmap(s->map, s->len);
    s->map = NULL;
}

/* Shard file names from model.safetensors.index.json (deduplicated). */
static swacl_status index_shards(const char *dir, char ***names, int *n, char *err, size_t err_len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    uint8_t *buf;
    size_t len;
    SWACL_TRY(swacl_read_file(path, &buf, &len, err, err_len));
    cJSON *root = cJSON_ParseWithLength((const char *)buf, len);
    free(buf);
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

/* Collected canonical tensor list. */
typedef struct {
    int n, cap;
    struct need {
        char name[96];
        int ndim;
        int64_t shape[2];
    } *t;
    int oom;
} need_list;

static void collect(const char *name, int ndim, const int64_t *shape, void *user)
{
    need_list *l = user;
    if (l->oom) return;
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        struct need *t = realloc(l->t, (size_t)cap * sizeof *t);
        if (!t) {
            l->oom = 1;
            return;
        }
        l->t = t;
        l->cap = cap;
    }
    struct need *e = &l->t[l->n++];
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

static swacl_status load_hf(const char *dir, swacl_config *cfg, swacl_weights **out, char *err,
                           size_t err_len)
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
    need_list need = {0, 0, NULL, 0};
    swacl_weights *w = NULL;
    swacl_hf_map map;
    swacl_config c;

    snprintf(path, sizeof path, "%s/config.json", dir);
    SWACL_TRY_GOTO(st, swacl_read_file(path, &cj, &cj_len, err, err_len), done);
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
    if (access(path, F_OK) == 0) {
        SWACL_TRY_GOTO(st, index_shards(dir, &names, &n_names, err, err_len), done);
    } else {
        snprintf(path, sizeof path, "%s/model.safetensors", dir);
        if (access(path, F_OK) != 0) {
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
    swacl_config_tensors(&c, collect, &need);
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
        const struct need *nd = &need.t[i];
        char cand[8][192];
        int nc = swacl_hf_name_candidates(&map, nd->name, cand, 8);
        const swacl_st_entry *e = NULL;
        const shard *s = NULL;
        for (int k = 0; k < nc && !e; k++)
            for (int j = 0; j < n_sh && !e; j++)
                if ((e = swacl_st_find(&sh[j].st, cand[k])) != NULL) s = &sh[j];
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
        st = swacl_weights_add(w, nd->name, nd->ndim, nd->shape, &t);
        if (st != SWACL_OK) {
            swacl_format_msg(err, err_len, "%s: cannot allocate tensor '%s'", dir, nd->name);
            goto done;
        }
        SWACL_TRY_GOTO(st, swacl_st_to_f32(&s->st, e, t->data, s->fname, err, err_len), done);
    }
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

/* ------------------------------------------------------------------------ */

static swacl_status write_all(FILE *f, const void *p, size_t n, const char *path, char *err,
                              size_t err_len)
{
    if (n && fwrite(p, 1, n, f) != n) {
        swacl_format_msg(err, err_len, "write error on %s: %s", path, strerror(errno));
        return SWACL_IO;
    }
    return SWACL_OK;
}

static swacl_status save_hf(const char *dir, const swacl_config *cfg, const swacl_weights *w,
                           char *err, size_t err_len)
{
    if (err && err_len) err[0] = 0;
    if (!dir || !cfg || !w) {
        swacl_format_msg(err, err_len, "swacl_save_hf: NULL argument");
        return SWACL_INVALID_ARG;
    }
    char msg[256];
    if (swacl_config_check(cfg, msg, sizeof msg) != SWACL_OK) {
        swacl_format_msg(err, err_len, "swacl_save_hf: invalid configuration: %s", msg);
        return SWACL_INVALID_ARG;
    }
    need_list need = {0, 0, NULL, 0};
    swacl_config_tensors(cfg, collect, &need);
    if (need.oom) {
        free(need.t);
        return SWACL_OUT_OF_MEMORY;
    }
    swacl_status st = SWACL_OK;
    const swacl_tensor **ts = calloc((size_t)(need.n ? need.n : 1), sizeof *ts);
    char *cfg_json = NULL, *hdr = NULL;
    cJSON *h = NULL;
    FILE *f = NULL;
    char path[4096];
    if (!ts) {
        st = SWACL_OUT_OF_MEMORY;
        goto done;
    }
    for (int i = 0; i < need.n; i++) {
        ts[i] = swacl_weights_find(w, need.t[i].name);
        if (!ts[i] || ts[i]->ndim != need.t[i].ndim || ts[i]->shape[0] != need.t[i].shape[0] ||
            (ts[i]->ndim > 1 && ts[i]->shape[1] != need.t[i].shape[1])) {
            swacl_format_msg(err, err_len, "swacl_save_hf: weights lack tensor '%s' of the config's shape",
                             need.t[i].name);
            st = SWACL_INVALID_ARG;
            goto done;
        }
    }
    if (swacl_mkdir_p(dir) != 0) {
        swacl_format_msg(err, err_len, "cannot create directory %s: %s", dir, strerror(errno));
        st = SWACL_IO;
        goto done;
    }

    /* config.json */
    cfg_json = swacl_hf_config_write(cfg);
    if (!cfg_json) {
        st = SWACL_OUT_OF_MEMORY;
        goto done;
    }
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (!(f = fopen(path, "wb"))) {
        swacl_format_msg(err, err_len, "cannot create %s: %s", path, strerror(errno));
        st = SWACL_IO;
        goto done;
    }
    SWACL_TRY_GOTO(st, write_all(f, cfg_json, strlen(cfg_json), path, err, err_len), done);
    SWACL_TRY_GOTO(st, write_all(f, "\n", 1, path, err, err_len), done);
    if (fclose(f) != 0) {
        f = NULL;
        swacl_format_msg(err, err_len, "write error on %s", path);
        st = SWACL_IO;
        goto done;
    }
    f = NULL;

    /* model.safetensors: F32, tensors back to back in config order */
    h = cJSON_CreateObject();
    cJSON *meta = h ? cJSON_AddObjectToObject(h, "__metadata__") : NULL;
    if (!meta) {
        st = SWACL_OUT_OF_MEMORY;
        goto done;
    }
    cJSON_AddStringToObject(meta, "format", "pt");
    uint64_t off = 0;
    for (int i = 0; i < need.n; i++) {
        cJSON *e = cJSON_CreateObject();
        if (!e) {
            st = SWACL_OUT_OF_MEMORY;
            goto done;
        }
        cJSON_AddItemToObject(h, ts[i]->name, e);
        cJSON_AddStringToObject(e, "dtype", "F32");
        cJSON *s = cJSON_AddArrayToObject(e, "shape");
        for (int d = 0; s && d < ts[i]->ndim; d++)
            cJSON_AddItemToArray(s, cJSON_CreateNumber((double)ts[i]->shape[d]));
        cJSON *o = cJSON_AddArrayToObject(e, "data_offsets");
        uint64_t bytes = (uint64_t)ts[i]->numel * 4;
        if (o) {
            cJSON_AddItemToArray(o, cJSON_CreateNumber((double)off));
            cJSON_AddItemToArray(o, cJSON_CreateNumber((double)(off + bytes)));
        }
        off += bytes;
    }
    hdr = cJSON_PrintUnformatted(h);
    if (!hdr) {
        st = SWACL_OUT_OF_MEMORY;
        goto done;
    }
    size_t hl = strlen(hdr), padded = (hl + 7) / 8 * 8;
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (!(f = fopen(path, "wb"))) {
        swacl_format_msg(err, err_len, "cannot create %s: %s", path, strerror(errno));
        st = SWACL_IO;
        goto done;
    }
    uint8_t len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (uint8_t)((uint64_t)padded >> (8 * i));
    SWACL_TRY_GOTO(st, write_all(f, len8, 8, path, err, err_len), done);
    SWACL_TRY_GOTO(st, write_all(f, hdr, hl, path, err, err_len), done);
    SWACL_TRY_GOTO(st, write_all(f, "        ", padded - hl, path, err, err_len), done);
    for (int i = 0; i < need.n; i++) {
        /* little-endian float32, byte by byte in blocks */
        uint8_t blk[4096];
        const float *x = ts[i]->data;
        int64_t n = ts[i]->numel;
        for (int64_t j = 0; j < n;) {
            size_t k = 0;
            for (; k + 4 <= sizeof blk && j < n; k += 4, j++) {
                uint32_t u;
                memcpy(&u, &x[j], 4);
                blk[k] = (uint8_t)u;
                blk[k + 1] = (uint8_t)(u >> 8);
                blk[k + 2] = (uint8_t)(u >> 16);
                blk[k + 3] = (uint8_t)(u >> 24);
            }
            SWACL_TRY_GOTO(st, write_all(f, blk, k, path, err, err_len), done);
        }
    }
    if (fclose(f) != 0) {
        f = NULL;
        swacl_format_msg(err, err_len, "write error on %s", path);
        st = SWACL_IO;
        goto done;
    }
    f = NULL;
done:
    if (f) fclose(f);
    if (st == SWACL_OUT_OF_MEMORY && err && err_len && !err[0])
        swacl_format_msg(err, err_len, "swacl_save_hf: out of memory");
    cJSON_Delete(h);
    free(hdr);
    free(cfg_json);
    free(ts);
    free(need.t);
    return st;
}

/* Public entry points: the parsers above write into a buffer (they also run
 * under the fuzzer, without a context); the message ends up on ctx. */
swacl_status swacl_load_hf(swacl_ctx *ctx, const char *dir, swacl_config *cfg, swacl_weights **out)
{
    char err[2048] = "";
    swacl_status st = load_hf(dir, cfg, out, err, sizeof err);
    return st == SWACL_OK ? SWACL_OK : swacl_copy_error(ctx, st, err);
}

swacl_status swacl_save_hf(swacl_ctx *ctx, const char *dir, const swacl_config *cfg,
                           const swacl_weights *w)
{
    char err[2048] = "";
    swacl_status st = save_hf(dir, cfg, w, err, sizeof err);
    return st == SWACL_OK ? SWACL_OK : swacl_copy_error(ctx, st, err);
}
