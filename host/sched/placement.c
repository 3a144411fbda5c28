/*
 * placement.c - where each layer runs (the pipeline's counterpart of
 * ggml's scheduler passes; run.c executes the result):
 *
 *   1. SPEC   "0-3:0,4-7:1": layer ranges -> index into the device list,
 *             validated (each layer once, in order, one contiguous range
 *             per device).
 *   2. auto   calibrate every device once (one window layer + one global
 *             layer of the model's shapes at a small seq, timed through the
 *             same executor), cache the seconds as JSON beside the program
 *             binaries, then split contiguous ranges to minimise the
 *             slowest stage (dynamic programming over split points) subject
 *             to each stage fitting its device's memory.
 *   3. fit    weights + activations (+ KV, sized by kv.c) of a stage
 *             against the device's global memory, largest buffer against
 *             max alloc.
 */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file.h"
#include "common/env.h"
#include "sched/sched.h"

/* ------------------------------------------------------------------------ */
/* 1. SPEC                                                                   */

static int parse_uint(const char **p, int *v)
{
    const char *s = *p;
    if (*s < '0' || *s > '9') return -1;
    long x = 0;
    while (*s >= '0' && *s <= '9') {
        x = x * 10 + (*s - '0');
        if (x > 1000000) return -1;
        s++;
    }
    *v = (int)x;
    *p = s;
    return 0;
}

swacl_status sched_parse_spec(const char *spec, int n_layers, int n_dev, int *dev_of_layer,
                              char *err, size_t err_len)
{
#define BAD(...) do { swacl_format_msg(err, err_len, __VA_ARGS__); return SWACL_INVALID_ARG; } while (0)
    if (!spec || !*spec) BAD("empty placement spec (want e.g. \"0-%d:0\")", n_layers - 1);
    const char *p = spec;
    int next = 0, last_dev = -1, item = 0;
    int *used = calloc((size_t)n_dev, sizeof *used);
    if (!used) BAD("out of host memory");
    swacl_status st = SWACL_OK;
    while (*p) {
        int a, b, d;
        item++;
        if (parse_uint(&p, &a) != 0) {
            swacl_format_msg(err, err_len, "placement '%s': item %d: expected a layer number", spec, item);
            goto bad;
        }
        b = a;
        if (*p == '-') {
            p++;
            if (parse_uint(&p, &b) != 0) {
                swacl_format_msg(err, err_len, "placement '%s': item %d: expected a layer after '-'", spec, item);
                goto bad;
            }
        }
        if (*p != ':') {
            swacl_format_msg(err, err_len, "placement '%s': item %d: expected ':DEVICE' after the layers "
                             "(format L0-L1:DEV,...)", spec, item);
            goto bad;
        }
        p++;
        if (parse_uint(&p, &d) != 0) {
            swacl_format_msg(err, err_len, "placement '%s': item %d: expected a device index after ':'", spec, item);
            goto bad;
        }
        if (*p == ',') {
            p++;
            if (!*p) {
                swacl_format_msg(err, err_len, "placement '%s': trailing ','", spec);
                goto bad;
            }
        } else if (*p) {
            swacl_format_msg(err, err_len, "placement '%s': unexpected '%c' in item %d", spec, *p, item);
            goto bad;
        }
        if (b < a) {
            swacl_format_msg(err, err_len, "placement '%s': range %d-%d is reversed", spec, a, b);
            goto bad;
        }
        if (a != next) {
            if (a < next)
                swacl_format_msg(err, err_len, "placement '%s': layer %d is placed twice (or out of order)", spec, a);
            else
                swacl_format_msg(err, err_len, "placement '%s': layer %d is not placed (ranges must cover 0-%d in order)",
                                 spec, next, n_layers - 1);
            goto bad;
        }
        if (b >= n_layers) {
            swacl_format_msg(err, err_len, "placement '%s': layer %d does not exist (the model has %d layers: 0-%d)",
                             spec, b, n_layers, n_layers - 1);
            goto bad;
        }
        if (d >= n_dev) {
            swacl_format_msg(err, err_len, "placement '%s': device %d is not in the device list (%d device%s: 0-%d)",
                             spec, d, n_dev, n_dev == 1 ? "" : "s", n_dev - 1);
            goto bad;
        }
        if (used[d] && d != last_dev) {
            swacl_format_msg(err, err_len, "placement '%s': device %d gets two separate layer ranges "
                             "(each device takes one contiguous range)", spec, d);
            goto bad;
        }
        used[d] = 1;
        last_dev = d;
        for (int l = a; l <= b; l++) dev_of_layer[l] = d;
        next = b + 1;
    }
    if (next != n_layers) {
        swacl_format_msg(err, err_len, "placement '%s': layers %d-%d are not placed (the model has %d layers)",
                         spec, next, n_layers - 1, n_layers);
        goto bad;
    }
    free(used);
    return st;
bad:
    free(used);
    return SWACL_INVALID_ARG;
#undef BAD
}

/* ------------------------------------------------------------------------ */
/* 3. Memory: what a stage holds.                                            */

uint64_t sched_stage_bytes(const swacl_config *c, int l0, int l1, int plan_rows, int kv_batch,
                           int kv_ctx, uint64_t *max_buf)
{
    uint64_t maxt = 0;
    uint64_t bytes = swacl_model_range_bytes(c, l0, l1, &maxt);
    /* activations: x, h [R, D]; q, a [R, H*d]; k, v [R, Hkv*d]; g, u [R, F];
     * inp [R, Din] (ensure_scratch in graph/model.c) */
    const uint64_t R = (uint64_t)(plan_rows > 0 ? plan_rows : 512);
    const uint64_t Q = (uint64_t)c->n_heads * c->head_dim, KV = (uint64_t)c->n_kv_heads * c->head_dim;
    const uint64_t din = c->input_dim > 0 ? (uint64_t)c->input_dim : 1;
    uint64_t per_row = 2 * (uint64_t)c->hidden_size + 2 * Q + 2 * KV + 2 * (uint64_t)c->ffn_dim + din;
    bytes += R * per_row * sizeof(float);
    uint64_t biggest = R * (c->ffn_dim > c->hidden_size ? (uint64_t)c->ffn_dim : (uint64_t)c->hidden_size) * 4;
    if (l1 == c->n_layers && c->output == SWACL_OUTPUT_LOGITS) {
        uint64_t lg = R * (uint64_t)c->vocab_size * sizeof(float);
        bytes += lg;
        if (lg > biggest) biggest = lg;
    }
    if (kv_batch > 0) {
        uint64_t kv_max = 0;
        bytes += sched_kv_range_bytes(c, l0, l1, kv_batch, kv_ctx, 0, &kv_max); /* f32: an upper bound */
        if (kv_max > biggest) biggest = kv_max;
    }
    if (maxt > biggest) biggest = maxt;
    if (max_buf) *max_buf = biggest;
    return bytes;
}

/* ------------------------------------------------------------------------ */
/* 2. auto: the balanced split.                                              */

int sched_split(int n_dev, int n_layers, const double *cost, const double *t_in,
                const double *t_out, sched_fit_fn fits, void *user, int *dev_of_layer)
{
    return sched_split_ex(n_dev, n_layers, cost, t_in, t_out, fits, user, 0, dev_of_layer);
}

int sched_split_ex(int n_dev, int n_layers, const double *cost, const double *t_in,
                   const double *t_out, sched_fit_fn fits, void *user, int nonempty, int *dev_of_layer)
{
    if (nonempty && n_dev > n_layers) return -1;
    /* best[k][l]: slowest stage when devices 0..k-1 took layers 0..l-1;
     * from[k][l]: where device k-1's range starts. */
    const size_t W = (size_t)n_layers + 1;
    double *best = malloc((size_t)(n_dev + 1) * W * sizeof *best);
    int *from = malloc((size_t)(n_dev + 1) * W * sizeof *from);
    if (!best || !from) {
        free(best);
        free(from);
        return -1;
    }
    for (size_t i = 0; i < (size_t)(n_dev + 1) * W; i++) best[i] = DBL_MAX, from[i] = -1;
    best[0] = 0; /* no device, no layer */
    for (int k = 1; k <= n_dev; k++) {
        const double *ck = cost + (size_t)(k - 1) * n_layers;
        for (int l = 0; l <= n_layers; l++) {
            double sum = 0;
            /* device k-1 takes [j, l); j walks down so sum grows */
            for (int j = l; j >= 0; j--) {
                if (j < l) sum += ck[j];
                double prev = best[(size_t)(k - 1) * W + j];
                if (prev == DBL_MAX) continue;
                if (j == l && nonempty) continue;
                if (j < l && !fits(k - 1, j, l, user)) continue;
                /* a non-empty stage after layer 0 receives x, one before
                 * the last layer sends it on */
                double t = sum;
                if (j < l && j > 0 && t_in) t += t_in[k - 1];
                if (j < l && l < n_layers && t_out) t += t_out[k - 1];
                double v = prev > t ? prev : t;
                /* strict '<' with j walking down: among equals keep the
                 * largest j, i.e. the earliest devices take more layers */
                if (v < best[(size_t)k * W + l] - 1e-12) {
                    best[(size_t)k * W + l] = v;
                    from[(size_t)k * W + l] = j;
                }
            }
        }
    }
    int rc = 0;
    if (best[(size_t)n_dev * W + n_layers] == DBL_MAX) {
        rc = -1;
    } else {
        int l = n_layers;
        for (int k = n_dev; k >= 1; k--) {
            int j = from[(size_t)k * W + l];
            for (int i = j; i < l; i++) dev_of_layer[i] = k - 1;
            l = j;
        }
    }
    free(best);
    free(from);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* 2. auto: calibration and its cache.                                       */

void sched_cache_dir(const swacl_ctx_params *p, char *dst, size_t len)
{
    swacl_env_cache_dir(p ? p->cache_dir : NULL, dst, len);
}

static cJSON *read_json(const char *path)
{
    /* through the one bounded reader: a FIFO or a /dev/zero link here must
     * not hang or fill memory; any failure only costs a re-calibration */
    uint8_t *buf = NULL;
    size_t n = 0;
    char err[256];
    if (swacl_file_read_msg(path, SWACL_FILE_MAX_CALIB, &buf, &n, err, sizeof err) != SWACL_OK)
        return NULL;
    cJSON *j = sched_calib_parse((const char *)buf, n);
    free(buf);
    return j;
}

/* The calibration model: two layers of cfg's shapes (its first window-like
 * layer, then its first global layer), continuous input of width D so the
 * input and output layers cost nothing worth measuring. */
static swacl_config calib_config(const swacl_config *cfg)
{
    swacl_config c = *cfg;
    int iw = -1, ig = -1;
    for (int l = 0; l < cfg->n_layers; l++) {
        if (cfg->layers[l].span == SWACL_SPAN_GLOBAL && ig < 0) ig = l;
        if (cfg->layers[l].span != SWACL_SPAN_GLOBAL && iw < 0) iw = l;
    }
    c.n_layers = 2;
    c.layers[0] = cfg->layers[iw >= 0 ? iw : 0];
    c.layers[1] = cfg->layers[ig >= 0 ? ig : 0];
    c.vocab_size = 0;
    c.input_dim = cfg->hidden_size;
    c.output = SWACL_OUTPUT_LAST_HIDDEN;
    c.tied_embeddings = 0;
    return c;
}

static double time_layer(swacl_model *m, swacl_step *s, int layer, int reps, swacl_status *st)
{
    double best = 1e30;
    s->layer_begin = layer;
    s->layer_end = layer + 1;
    s->x_loaded = 1;
    for (int r = 0; r < reps && *st == SWACL_OK; r++) {
        double t0 = swacl_now();
        *st = swacl_graph_step(m, s, NULL); /* ends with finish() */
        double dt = swacl_now() - t0;
        if (dt < best) best = dt;
    }
    return best;
}

/* Best-of-reps seconds to stage x [T, D] through the host (write + read,
 * both blocking) and to copy it on the device (0 when the backend cannot). */
static void time_transfers(swacl_model *m, int T, int reps, double *t_host, double *t_copy,
                           swacl_status *st)
{
    swacl_backend *be = m->be;
    const struct swacl_backend_i *f = be->iface;
    const size_t bytes = (size_t)T * m->cfg.hidden_size * sizeof(float);
    float *h = malloc(bytes);
    if (!h) {
        *st = swacl_set_error(m->ctx, SWACL_OUT_OF_MEMORY, "out of host memory");
        return;
    }
    *t_host = *t_copy = 1e30;
    for (int r = 0; r < reps && *st == SWACL_OK; r++) {
        double t0 = swacl_now();
        *st = swacl_graph_x_read(m, T, h);
        if (*st == SWACL_OK) *st = swacl_graph_x_write(m, T, h);
        if (*st == SWACL_OK) *st = f->finish(be);
        double t1 = swacl_now();
        if (t1 - t0 < *t_host) *t_host = t1 - t0;
        if (*st != SWACL_OK || !f->copy_peer) continue;
        *st = f->copy_peer(be, m->h, m->x, bytes, NULL); /* h is [T, D] too */
        if (*st == SWACL_OK) *st = f->finish(be);
        if (swacl_now() - t1 < *t_copy) *t_copy = swacl_now() - t1;
    }
    if (!f->copy_peer) *t_copy = 0;
    free(h);
}

swacl_status sched_calibrate(swacl_ctx *ctx, const swacl_config *cfg, const char *cache_dir,
                             int seq, sched_calib *cal, int *cached)
{
    double *t_window = &cal->window_s, *t_global = &cal->global_s;
    const int T = seq > 0 ? seq : 64;
    const swacl_config c = calib_config(cfg);
    const swacl_layer_spec *lw = &c.layers[0], *lg = &c.layers[1];
    char key[768], path[4200] = "";
    snprintf(key, sizeof key, "%s|D%d H%d Hkv%d d%d F%d ffn%d|w%d:%d:%d|g%d:%d:%d|T%d",
             swacl_ctx_device_name(ctx), c.hidden_size, c.n_heads, c.n_kv_heads, c.head_dim,
             c.ffn_dim, (int)c.ffn, (int)lw->span, lw->span_size, (int)lw->pos, (int)lg->span,
             lg->span_size, (int)lg->pos, T);
    *cached = 0;
    if (cache_dir && *cache_dir) {
        snprintf(path, sizeof path, "%s/sched-calib.json", cache_dir);
        cJSON *j = read_json(path);
        sched_calib got;
        if (sched_calib_entry(j, key, &got) == 0) {
            *cal = got;
            *cached = 1;
        }
        cJSON_Delete(j);
        if (*cached) return SWACL_OK;
    }

    /* measure: one full forward (compiles the kernels), then each layer */
    swacl_weights *w = NULL;
    swacl_model *m = NULL;
    float *in = NULL, *out = NULL;
    int pos0 = 0, n_new = T;
    swacl_status st = swacl_weights_create_random(&c, 17, &w);
    if (st != SWACL_OK) return swacl_set_error(ctx, st, "calibration weights: %s", swacl_status_string(st));
    st = swacl_model_create(ctx, &c, w, &m);
    in = malloc((size_t)T * c.hidden_size * sizeof *in);
    out = malloc((size_t)c.hidden_size * sizeof *out);
    if (st == SWACL_OK && (!in || !out)) st = swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "out of host memory");
    if (st == SWACL_OK) {
        swacl_rng r = {5};
        for (size_t i = 0; i < (size_t)T * c.hidden_size; i++) in[i] = swacl_rng_uniform(&r);
        swacl_step s = {.B = 1, .T = T, .pos0 = &pos0, .n_new = &n_new, .embeds = in,
                        .layer_begin = 0, .layer_end = 2};
        st = swacl_graph_step(m, &s, out);
        for (int rep = 0; rep < 2 && st == SWACL_OK; rep++) {
            /* restart from the input each round so x stays O(1) */
            s.x_loaded = 0;
            s.layer_begin = 0;
            s.layer_end = 0;
            st = swacl_graph_step(m, &s, NULL);
            if (st != SWACL_OK) break;
            double tw = time_layer(m, &s, 0, 3, &st);
            double tg = time_layer(m, &s, 1, 3, &st);
            if (rep == 0 || tw < *t_window) *t_window = tw;
            if (rep == 0 || tg < *t_global) *t_global = tg;
        }
        if (st == SWACL_OK) time_transfers(m, T, 3, &cal->xfer_host_s, &cal->xfer_copy_s, &st);
    }
    free(in);
    free(out);
    swacl_model_destroy(m);
    swacl_weights_destroy(w);
    if (st != SWACL_OK) return st;
    if (*t_window <= 0) *t_window = 1e-9;
    if (*t_global <= 0) *t_global = 1e-9;

    /* cache: read-modify-write, tmp + rename (a failure only costs a rerun) */
    if (path[0] && swacl_mkdir_p(cache_dir) == 0) {
        cJSON *j = read_json(path);
        if (!j) j = cJSON_CreateObject();
        cJSON *e = cJSON_CreateObject();
        if (j && e) {
            cJSON_AddNumberToObject(e, "window_s", *t_window);
            cJSON_AddNumberToObject(e, "global_s", *t_global);
            cJSON_AddNumberToObject(e, "xfer_host_s", cal->xfer_host_s);
            cJSON_AddNumberToObject(e, "xfer_copy_s", cal->xfer_copy_s);
            cJSON_AddNumberToObject(e, "seq", T);
            cJSON_DeleteItemFromObjectCaseSensitive(j, key);
            cJSON_AddItemToObject(j, key, e);
            e = NULL;
            char *txt = cJSON_Print(j);
            char tmp[4300];
            snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
            FILE *f = txt ? fopen(tmp, "wb") : NULL;
            if (f) {
                int ok = fputs(txt, f) >= 0;
                ok = fclose(f) == 0 && ok;
                if (!ok || rename(tmp, path) != 0) remove(tmp);
            }
            free(txt);
        }
        cJSON_Delete(e);
        cJSON_Delete(j);
    }
    return SWACL_OK;
}
