/*
 * pipeline.c - the layer graph across several devices (include/swacl.h,
 * "Pipeline"; placement.c decides where each layer runs).
 *
 * A stage = a context on one device + a model holding only its contiguous
 * layer range (graph/model.c: swacl_model_create_range). A call cuts the
 * batch into micro-batches of whole sequences; stage k's host thread takes
 * micro-batch i from its bounded queue, writes the staged residual x into
 * its device, runs its layers (swacl_graph_step with x_loaded), reads x
 * back into the micro-batch's host staging slice and hands the index to
 * stage k+1. The last stage runs the head into the caller's output slice.
 * So stage k works on micro-batch i while stage k+1 works on i-1: the
 * devices overlap, each with its own in-order queue, and the only
 * synchronisation is the hand-off of one micro-batch (no global barrier per
 * op). Sessions keep one KV cache per (micro-batch, layer) on the stage
 * that owns the layer, so the micro-batch cut is fixed per session.
 *
 * Errors: the first failing stage records "stage k (device ..., layers
 * a-b): <its context message>" and raises an abort flag that wakes every
 * waiting thread; every thread is joined before the call returns.
 */
#define _DEFAULT_SOURCE
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "sched/pipeline_api.h"

#define QCAP 2 /* micro-batches in flight between two stages */

typedef struct {
    int dev;                 /* index into the device list                  */
    int l0, l1;              /* layers [l0, l1)                             */
    swacl_ctx *ctx;
    swacl_model *m;
    uint64_t weight_bytes;
    double busy_s;           /* device seconds (host seconds for ref)       */
    int link_in;             /* SCHED_LINK_*: how x reaches this stage      */
} stage;

typedef struct {
    char sel[64];            /* selector ("0", "ref", ...)                  */
    char name[256];
    uint64_t mem, max_alloc; /* budget the fit check uses                   */
} device;

struct sched_pipeline {
    swacl_config cfg;
    int n_dev;
    device *dev;
    int n_stages;
    stage *st;               /* [n_stages] in layer order                   */
    int *stage_of_layer;     /* [n_layers]                                  */
    int micro_batches;       /* 0 = auto                                    */
    int plan_rows;
    int fail_stage;          /* test hook (swacl_sched_opts)                */
    swacl_share *share;      /* shared OpenCL contexts (NULL: none)         */
    swacl_buf *pin;          /* host-link staging: pinned, of pin_be        */
    swacl_backend *pin_be;
    float *pin_ptr;          /* mapped pin, or malloc'd when pin is NULL    */
    size_t pin_bytes;
    char errmsg[SWACL_ERRMSG_LEN];
};

/* ------------------------------------------------------------------------ */
/* Devices.                                                                  */

static uint64_t host_ram(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);
    return pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : (uint64_t)1 << 34;
}

static int all_digits(const char *s)
{
    if (!*s) return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s)) return 0;
    return 1;
}

/* Split the device list; "all" = every OpenCL device (ref when none). */
static swacl_status parse_devices(const char *devices, const swacl_device_info *cl, int n_cl,
                                  device **out, int *n_out, char *err, size_t err_len)
{
    *out = NULL;
    *n_out = 0;
    if (!devices || !*devices) devices = "all";
    int cap = 1;
    for (const char *p = devices; *p; p++) cap += *p == ',';
    if (!strcasecmp(devices, "all")) cap = n_cl > 0 ? n_cl : 1;
    device *d = calloc((size_t)cap, sizeof *d);
    if (!d) return SWACL_OUT_OF_MEMORY;
    int n = 0;
    if (!strcasecmp(devices, "all")) {
        for (int i = 0; i < n_cl; i++) snprintf(d[n++].sel, sizeof d->sel, "%d", cl[i].index);
        if (n == 0) snprintf(d[n++].sel, sizeof d->sel, "ref");
    } else {
        const char *p = devices;
        while (n < cap) {
            const char *e = strchr(p, ',');
            size_t len = e ? (size_t)(e - p) : strlen(p);
            while (len && isspace((unsigned char)*p)) p++, len--;
            while (len && isspace((unsigned char)p[len - 1])) len--;
            if (len == 0 || len >= sizeof d->sel) {
                swacl_format_msg(err, err_len, "device list '%s': item %d is %s", devices, n + 1,
                                 len ? "too long" : "empty");
                free(d);
                return SWACL_INVALID_ARG;
            }
            memcpy(d[n].sel, p, len);
            d[n].sel[len] = 0;
            if (all_digits(d[n].sel)) {
                int idx = atoi(d[n].sel), found = 0;
                for (int i = 0; i < n_cl; i++) found |= cl[i].index == idx;
                if (!found) {
                    if (n_cl > 0)
                        swacl_format_msg(err, err_len, "device index %d does not exist: this machine has %d "
                                         "OpenCL device%s (indices 0-%d; `swacl devices` lists them)",
                                         idx, n_cl, n_cl == 1 ? "" : "s", n_cl - 1);
                    else
                        swacl_format_msg(err, err_len, "device index %d does not exist: no OpenCL device "
                                         "found (use \"ref\" for the CPU reference)", idx);
                    free(d);
                    return SWACL_NO_DEVICE;
                }
            }
            n++;
            if (!e) break;
            p = e + 1;
        }
    }
    *out = d;
    *n_out = n;
    return SWACL_OK;
}

/* Memory of a device once its context exists (by index, else by name). */
static void device_memory(device *d, const swacl_ctx *ctx, const swacl_device_info *cl, int n_cl,
                          uint64_t mem_limit)
{
    snprintf(d->name, sizeof d->name, "%s", swacl_ctx_device_name(ctx));
    d->mem = d->max_alloc = 0;
    if (swacl_ctx_is_reference(ctx)) {
        d->mem = d->max_alloc = host_ram();
    } else {
        int idx = all_digits(d->sel) ? atoi(d->sel) : -1;
        for (int i = 0; i < n_cl && !d->mem; i++)
            if (idx >= 0 ? cl[i].index == idx : !strcmp(cl[i].name, d->name)) {
                d->mem = cl[i].global_mem_bytes;
                d->max_alloc = cl[i].max_alloc_bytes;
            }
        if (!d->mem) d->mem = d->max_alloc = host_ram();
    }
    if (mem_limit && mem_limit < d->mem) d->mem = mem_limit;
    if (mem_limit && mem_limit < d->max_alloc) d->max_alloc = mem_limit;
}

/* ------------------------------------------------------------------------ */
/* Fit check.                                                                */

typedef struct {
    const swacl_config *cfg;
    const device *dev;
    int plan_rows;
} fit_ctx;

static int fits(int k, int l0, int l1, void *user)
{
    const fit_ctx *f = user;
    uint64_t maxb = 0, b = sched_stage_bytes(f->cfg, l0, l1, f->plan_rows, 0, 0, &maxb);
    return b <= f->dev[k].mem && maxb <= f->dev[k].max_alloc;
}

static swacl_status fit_error(const swacl_config *cfg, const device *d, int k, int l0, int l1,
                              int plan_rows, int kv_batch, int kv_ctx, char *err, size_t err_len)
{
    uint64_t maxb = 0, b = sched_stage_bytes(cfg, l0, l1, plan_rows, kv_batch, kv_ctx, &maxb);
    if (b > d->mem)
        swacl_format_msg(err, err_len, "layers %d-%d do not fit device %d ('%s' %s): they need %llu bytes "
                         "(weights %llu + activations%s), the device has %llu bytes", l0, l1 - 1, k, d->sel,
                         d->name, (unsigned long long)b,
                         (unsigned long long)swacl_model_range_bytes(cfg, l0, l1, NULL),
                         kv_batch ? " + KV cache" : "", (unsigned long long)d->mem);
    else if (maxb > d->max_alloc)
        swacl_format_msg(err, err_len, "layers %d-%d do not fit device %d ('%s' %s): a %llu-byte buffer "
                         "exceeds its max allocation of %llu bytes", l0, l1 - 1, k, d->sel, d->name,
                         (unsigned long long)maxb, (unsigned long long)d->max_alloc);
    else
        return SWACL_OK;
    return SWACL_OUT_OF_MEMORY;
}

/* ------------------------------------------------------------------------ */
/* Create / destroy / describe.                                              */

void sched_pipeline_destroy(sched_pipeline *p)
{
    if (!p) return;
    if (p->pin) p->pin_be->iface->host_free(p->pin_be, p->pin);
    else free(p->pin_ptr);
    for (int i = 0; i < p->n_stages; i++) {
        swacl_model_destroy(p->st[i].m);
        swacl_ctx_destroy(p->st[i].ctx);
    }
    free(p->st);
    free(p->dev);
    free(p->stage_of_layer);
    swacl_share_destroy(p->share);
    free(p);
}

const char *sched_pipeline_errmsg(const sched_pipeline *p) { return p ? p->errmsg : "no pipeline"; }

void sched_pipeline_set_micro_batches(sched_pipeline *p, int n)
{
    if (p) p->micro_batches = n > 0 ? n : 0;
}

swacl_status sched_pipeline_describe(const sched_pipeline *p, swacl_pipeline_stage *stages, int max,
                                     int *n)
{
    if (!p || !n || (max > 0 && !stages)) return SWACL_INVALID_ARG;
    for (int i = 0; i < p->n_stages && i < max; i++) {
        const stage *s = &p->st[i];
        swacl_pipeline_stage *o = &stages[i];
        memset(o, 0, sizeof *o);
        o->device = s->dev;
        snprintf(o->selector, sizeof o->selector, "%s", p->dev[s->dev].sel);
        snprintf(o->device_name, sizeof o->device_name, "%s", p->dev[s->dev].name);
        o->layer_begin = s->l0;
        o->layer_end = s->l1;
        o->weight_bytes = s->weight_bytes;
        o->busy_s = s->busy_s;
        snprintf(o->transfer_in, sizeof o->transfer_in, "%s", i ? sched_link_name(s->link_in) : "");
    }
    *n = p->n_stages;
    return SWACL_OK;
}

swacl_status sched_pipeline_create_ex(const char *devices, const char *placement,
                                      const swacl_config *cfg, const swacl_weights *weights,
                                      const swacl_ctx_params *base, const swacl_sched_opts *opts,
                                      sched_pipeline **out, char *err, size_t err_len)
{
    char dummy[8];
    if (!err || !err_len) err = dummy, err_len = sizeof dummy;
    err[0] = 0;
    if (!out) return SWACL_INVALID_ARG;
    *out = NULL;
    if (!cfg || !weights) {
        swacl_format_msg(err, err_len, "swacl_pipeline_create: NULL config or weights");
        return SWACL_INVALID_ARG;
    }
    char why[256];
    if (swacl_config_check(cfg, why, sizeof why) != SWACL_OK) {
        swacl_format_msg(err, err_len, "invalid config: %s", why);
        return SWACL_INVALID_ARG;
    }
    swacl_sched_opts o;
    memset(&o, 0, sizeof o);
    if (opts) o = *opts;
    const int L = cfg->n_layers;
    const int is_auto = !placement || !*placement || !strcasecmp(placement, "auto");

    swacl_status st = SWACL_OK;
    swacl_device_info *cl = NULL;
    int n_cl = 0;
    swacl_ctx **ctxs = NULL;
    int *dev_of_layer = NULL;
    double *cost = NULL;
    sched_pipeline *p = calloc(1, sizeof *p);
    if (!p) return SWACL_OUT_OF_MEMORY;
    p->cfg = *cfg;
    p->plan_rows = o.plan_rows > 0 ? o.plan_rows : 512;
    p->fail_stage = o.fail_stage;

    /* OpenCL enumeration failing (no ICD) only matters for numeric indices */
    char lerr[256];
    if (swacl_cl_devices_list(&cl, &n_cl, lerr, sizeof lerr) != SWACL_OK) {
        cl = NULL;
        n_cl = 0;
    }
    SWACL_TRY_GOTO(st, parse_devices(devices, cl, n_cl, &p->dev, &p->n_dev, err, err_len), fail);
    dev_of_layer = malloc((size_t)L * sizeof *dev_of_layer);
    p->stage_of_layer = malloc((size_t)L * sizeof *p->stage_of_layer);
    ctxs = calloc((size_t)p->n_dev, sizeof *ctxs);
    if (!dev_of_layer || !p->stage_of_layer || !ctxs) {
        st = SWACL_OUT_OF_MEMORY;
        swacl_format_msg(err, err_len, "out of host memory");
        goto fail;
    }
    /* a bad SPEC fails before any device is opened */
    if (!is_auto) SWACL_TRY_GOTO(st, sched_parse_spec(placement, L, p->n_dev, dev_of_layer, err, err_len), fail);

    /* devices of one platform share a context, so activations move by
     * device copy (SWACL_PIPELINE_LINK=host or opts.host_links: never) */
    const char *lk = getenv("SWACL_PIPELINE_LINK");
    if (!o.host_links && !(lk && !strcasecmp(lk, "host")) && p->n_dev > 1) {
        const char **sels = malloc((size_t)p->n_dev * sizeof *sels);
        if (sels) {
            for (int k = 0; k < p->n_dev; k++) sels[k] = p->dev[k].sel;
            if (swacl_share_create(sels, p->n_dev, &p->share, lerr, sizeof lerr) != SWACL_OK)
                p->share = NULL; /* host links then; not an error */
            free(sels);
        }
    }
    for (int k = 0; k < p->n_dev; k++) {
        swacl_ctx_params cp = base ? *base : swacl_ctx_params_default();
        cp.device = p->dev[k].sel;
        st = swacl_ctx_create_shared(&cp, p->share, &ctxs[k]);
        if (st != SWACL_OK) {
            swacl_format_msg(err, err_len, "device %d ('%s'): %s", k, p->dev[k].sel,
                             ctxs[k] ? swacl_ctx_errmsg(ctxs[k]) : swacl_status_string(st));
            if (st == SWACL_INVALID_ARG) st = SWACL_NO_DEVICE;
            goto fail;
        }
        device_memory(&p->dev[k], ctxs[k], cl, n_cl, o.mem_limit);
    }

    fit_ctx fc = {cfg, p->dev, p->plan_rows};
    if (is_auto) {
        char cache[4096];
        sched_cache_dir(base, cache, sizeof cache);
        /* per device: seconds per layer [n_dev][L], then x in / out [n_dev] each */
        cost = malloc((size_t)p->n_dev * (L + 2) * sizeof *cost);
        if (!cost) {
            st = SWACL_OUT_OF_MEMORY;
            swacl_format_msg(err, err_len, "out of host memory");
            goto fail;
        }
        double *lc = cost, *t_in = cost + (size_t)p->n_dev * L, *t_out = t_in + p->n_dev;
        for (int k = 0; k < p->n_dev; k++) {
            sched_calib cal;
            memset(&cal, 0, sizeof cal);
            int cached = 0;
            st = sched_calibrate(ctxs[k], cfg, cache, o.calib_seq, &cal, &cached);
            const double tw = cal.window_s, tg = cal.global_s;
            if (st != SWACL_OK) {
                swacl_format_msg(err, err_len, "calibrating device %d ('%s'): %s", k, p->dev[k].sel,
                                 swacl_ctx_errmsg(ctxs[k]));
                goto fail;
            }
            /* a device sharing a context with another list entry takes x by
             * device copy; else x goes through the host: read by the sender,
             * written by the receiver (about half the round trip each) */
            int shared = 0;
            for (int q = 0; q < p->n_dev; q++) {
                const swacl_backend *a = ctxs[k]->be, *b = ctxs[q]->be;
                shared |= q != k && a->iface->peer && a->iface->peer(a, b);
            }
            t_in[k] = shared ? cal.xfer_copy_s : 0.5 * cal.xfer_host_s;
            t_out[k] = shared ? 0.0 : 0.5 * cal.xfer_host_s;
            if (o.verbose || (base && base->verbose))
                fprintf(stderr, "swacl: sched: device %d (%s): window layer %.3f ms, global layer %.3f ms, "
                        "x in %.3f ms, out %.3f ms (%s)%s\n", k, p->dev[k].name, tw * 1e3, tg * 1e3,
                        t_in[k] * 1e3, t_out[k] * 1e3, shared ? "device copy" : "via host",
                        cached ? " (cached)" : "");
            for (int l = 0; l < L; l++)
                lc[(size_t)k * L + l] = cfg->layers[l].span == SWACL_SPAN_GLOBAL ? tg : tw;
        }
        if (sched_split(p->n_dev, L, lc, t_in, t_out, fits, &fc, dev_of_layer) != 0) {
            /* name the tightest device: the whole model on the largest one */
            int big = 0;
            for (int k = 1; k < p->n_dev; k++) big = p->dev[k].mem > p->dev[big].mem ? k : big;
            uint64_t need = sched_stage_bytes(cfg, 0, L, p->plan_rows, 0, 0, NULL);
            swacl_format_msg(err, err_len, "no placement of the %d layers fits the %d device%s: the whole model "
                             "needs %llu bytes; the largest device %d ('%s' %s) has %llu bytes", L, p->n_dev,
                             p->n_dev == 1 ? "" : "s", (unsigned long long)need, big, p->dev[big].sel,
                             p->dev[big].name, (unsigned long long)p->dev[big].mem);
            st = SWACL_OUT_OF_MEMORY;
            goto fail;
        }
    }

    /* stages: maximal runs of one device, in layer order */
    p->st = calloc((size_t)p->n_dev, sizeof *p->st);
    if (!p->st) {
        st = SWACL_OUT_OF_MEMORY;
        swacl_format_msg(err, err_len, "out of host memory");
        goto fail;
    }
    for (int l = 0; l < L;) {
        int k = dev_of_layer[l], e = l;
        while (e < L && dev_of_layer[e] == k) e++;
        SWACL_TRY_GOTO(st, fit_error(cfg, &p->dev[k], k, l, e, p->plan_rows, 0, 0, err, err_len), fail);
        stage *s = &p->st[p->n_stages++];
        s->dev = k;
        s->l0 = l;
        s->l1 = e;
        s->ctx = ctxs[k];
        ctxs[k] = NULL; /* the stage owns it now */
        s->weight_bytes = swacl_model_range_bytes(cfg, l, e, NULL);
        for (int i = l; i < e; i++) p->stage_of_layer[i] = p->n_stages - 1;
        st = swacl_model_create_range(s->ctx, cfg, weights, l, e, &s->m);
        if (st != SWACL_OK) {
            swacl_format_msg(err, err_len, "device %d ('%s' %s), layers %d-%d: %s", k, p->dev[k].sel,
                             p->dev[k].name, l, e - 1, swacl_ctx_errmsg(s->ctx));
            goto fail;
        }
        if (p->n_stages > 1) {
            const swacl_backend *prev = p->st[p->n_stages - 2].m->be, *cur = s->m->be;
            s->link_in = cur->iface->peer && cur->iface->peer(cur, prev) ? SCHED_LINK_DEVICE
                         : (cur->iface->host_alloc || prev->iface->host_alloc) ? SCHED_LINK_PINNED
                                                                               : SCHED_LINK_HOST;
        }
        l = e;
    }
    if (o.verbose || (base && base->verbose))
        for (int i = 0; i < p->n_stages; i++)
            fprintf(stderr, "swacl: sched: stage %d: layers %d-%d on device %d (%s)%s%s\n", i, p->st[i].l0,
                    p->st[i].l1 - 1, p->st[i].dev, p->dev[p->st[i].dev].name, i ? ", input by " : "",
                    i ? sched_link_name(p->st[i].link_in) : "");
    st = SWACL_OK;
fail:
    if (ctxs)
        for (int k = 0; k < p->n_dev; k++) swacl_ctx_destroy(ctxs[k]); /* devices left without layers */
    free(ctxs);
    free(cost);
    free(dev_of_layer);
    swacl_devices_free(cl);
    if (st != SWACL_OK) {
        if (!err[0]) swacl_format_msg(err, err_len, "%s", swacl_status_string(st));
        sched_pipeline_destroy(p);
        return st;
    }
    *out = p;
    return SWACL_OK;
}

/* ------------------------------------------------------------------------ */
/* Execution: one thread per stage, bounded queues of micro-batch indices.   */

typedef struct {
    int b0, nb;              /* sequences [b0, b0+nb)                       */
    const int *pos0, *n_new; /* [nb]                                        */
    const int32_t *ids;      /* [nb*T] or NULL                              */
    const float *embeds;     /* [nb*T, Din] or NULL                         */
    swacl_kv_layer *kv;      /* [n_layers] for this micro-batch, or NULL    */
    float *x;                /* host staging [nb*T, D] (host links)         */
    float *out;              /* output slice                                */
    swacl_event *ready;      /* device link: the producer's x is complete   */
} mb_job;

typedef struct {
    int ring[QCAP], head, count;
} queue;

typedef struct run run;
typedef struct {
    run *r;
    int k;                   /* stage index                                 */
} worker;

struct run {
    sched_pipeline *p;
    int T, all_positions, n_mb;
    mb_job *jobs;
    queue *q;                /* [n_stages]: q[k] feeds stage k (k >= 1)     */
    /* device links: stage k+1 publishes the event of its copy out of stage
     * k's x; stage k's queue waits for it before overwriting x           */
    swacl_event **xfree;     /* [n_stages]                                  */
    int *xfree_seq;          /* [n_stages] copies published so far          */
    swacl_event **ev_a, **ev_b; /* [n_stages * n_mb] busy-time marks        */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int abort;
    swacl_status st;         /* first failure                               */
};

static int q_push(run *r, int k, int mb)
{
    pthread_mutex_lock(&r->mu);
    while (!r->abort && r->q[k].count == QCAP) pthread_cond_wait(&r->cv, &r->mu);
    int ok = !r->abort;
    if (ok) {
        queue *q = &r->q[k];
        q->ring[(q->head + q->count) % QCAP] = mb;
        q->count++;
        pthread_cond_broadcast(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
    return ok ? 0 : -1;
}

static int q_pop(run *r, int k)
{
    pthread_mutex_lock(&r->mu);
    while (!r->abort && r->q[k].count == 0) pthread_cond_wait(&r->cv, &r->mu);
    int mb = -1;
    if (!r->abort) {
        queue *q = &r->q[k];
        mb = q->ring[q->head];
        q->head = (q->head + 1) % QCAP;
        q->count--;
        pthread_cond_broadcast(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
    return mb;
}

/* Stage k+1 has queued its copy of stage k's x for one more micro-batch. */
static void xfree_put(run *r, int k, swacl_event *ev)
{
    pthread_mutex_lock(&r->mu);
    r->xfree[k] = ev; /* the previous one was taken: strict alternation */
    r->xfree_seq[k]++;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

/* Stage k, about to start micro-batch i: the event of stage k+1's copy of
 * micro-batch i-1 (NULL when aborted), once that copy is queued. */
static swacl_event *xfree_take(run *r, int k, int i)
{
    pthread_mutex_lock(&r->mu);
    while (!r->abort && r->xfree_seq[k] < i) pthread_cond_wait(&r->cv, &r->mu);
    swacl_event *ev = NULL;
    if (!r->abort) {
        ev = r->xfree[k];
        r->xfree[k] = NULL;
    }
    pthread_mutex_unlock(&r->mu);
    return ev;
}

static void fail_run(run *r, int k, swacl_status st)
{
    pthread_mutex_lock(&r->mu);
    if (!r->abort) {
        const stage *s = &r->p->st[k];
        swacl_format_msg(r->p->errmsg, sizeof r->p->errmsg, "stage %d (device %d '%s' %s, layers %d-%d): %s",
                         k, s->dev, r->p->dev[s->dev].sel, r->p->dev[s->dev].name, s->l0, s->l1 - 1,
                         swacl_ctx_errmsg(s->ctx));
        r->st = st;
        r->abort = 1;
    }
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

/* One stage's loop over the micro-batches. Device links chain the queues
 * with events, and a thread waits only for one event of its neighbour:
 *   producer k:   [wait free(i-1)] mark_a  layers  ready(i)  mark_b
 *   consumer k+1: [wait ready(i)]  mark_a  copy x_k -> x_k+1  free(i)  layers
 * so stage k computes micro-batch i while stage k+1 computes i-1, and no
 * stage ever finishes its queue (only the last stage's read of the output
 * blocks). A host link reads x into pinned host memory (a blocking read)
 * and the next stage writes it from there. */
static void *stage_main(void *arg)
{
    worker *w = arg;
    run *r = w->r;
    sched_pipeline *p = r->p;
    const int k = w->k, last = k == p->n_stages - 1;
    stage *s = &p->st[k];
    swacl_backend *be = s->m->be;
    const struct swacl_backend_i *f = be->iface;
    const int dev_out = !last && p->st[k + 1].link_in == SCHED_LINK_DEVICE;
    const int dev_in = s->link_in == SCHED_LINK_DEVICE;
    const int marks = f->mark && f->elapsed;
    for (int i = 0; i < r->n_mb; i++) {
        int mb = k == 0 ? i : q_pop(r, k);
        if (mb < 0) break; /* aborted */
        mb_job *j = &r->jobs[mb];
        const int rows = j->nb * r->T;
        double t0 = swacl_now();
        swacl_status st = SWACL_OK;
        if (dev_out && i > 0) {
            swacl_event *ev = xfree_take(r, k, i);
            if (!ev) break; /* aborted */
            st = f->wait(be, ev);
            f->event_free(ev);
        }
        if (st == SWACL_OK && dev_in) {
            st = f->wait(be, j->ready);
            f->event_free(j->ready);
            j->ready = NULL;
        }
        if (st == SWACL_OK && marks) st = f->mark(be, &r->ev_a[(size_t)k * r->n_mb + i]);
        if (st == SWACL_OK && dev_in) {
            st = swacl_graph_x_copy(s->m, p->st[k - 1].m, rows, NULL);
            swacl_event *done = NULL;
            if (st == SWACL_OK) st = f->mark(be, &done);
            if (st == SWACL_OK) xfree_put(r, k - 1, done);
        } else if (st == SWACL_OK && k > 0) {
            st = swacl_graph_x_write(s->m, rows, j->x);
        }
        swacl_step step = {
            .B = j->nb, .T = r->T, .pos0 = j->pos0, .n_new = j->n_new, .ids = j->ids,
            .embeds = j->embeds, .kv = j->kv, .layer_begin = s->l0, .layer_end = s->l1,
            .all_positions = r->all_positions, .x_loaded = k > 0, .no_wait = dev_out,
        };
        if (st == SWACL_OK) st = swacl_graph_step(s->m, &step, last ? j->out : NULL);
        if (st == SWACL_OK && dev_out) st = f->mark(be, &j->ready);
        else if (st == SWACL_OK && !last) st = swacl_graph_x_read(s->m, rows, j->x);
        if (st == SWACL_OK && marks) st = f->mark(be, &r->ev_b[(size_t)k * r->n_mb + i]);
        if (st == SWACL_OK && p->fail_stage == k + 1 && i == r->n_mb - 1)
            st = swacl_set_error(s->ctx, SWACL_INTERNAL, "injected failure (test hook)");
        if (!marks) s->busy_s += swacl_now() - t0;
        if (st != SWACL_OK) {
            fail_run(r, k, st);
            break;
        }
        if (!last && q_push(r, k + 1, mb) != 0) break;
        pthread_mutex_lock(&r->mu);
        int ab = r->abort;
        pthread_mutex_unlock(&r->mu);
        if (ab) break;
    }
    return NULL;
}

/* After the threads are joined: device busy time from the marks, then
 * every event released. A failed run first drains every queue. */
static void run_cleanup(run *r)
{
    sched_pipeline *p = r->p;
    const int S = p->n_stages;
    if (r->abort)
        for (int k = 0; k < S; k++) p->st[k].m->be->iface->finish(p->st[k].m->be);
    for (int k = 0; k < S; k++) {
        swacl_backend *be = p->st[k].m->be;
        const struct swacl_backend_i *f = be->iface;
        if (!f->event_free) continue;
        for (int i = 0; i < r->n_mb; i++) {
            swacl_event **a = &r->ev_a[(size_t)k * r->n_mb + i], **b = &r->ev_b[(size_t)k * r->n_mb + i];
            if (*a && *b) {
                double t = f->elapsed(be, *a, *b);
                if (t > 0) p->st[k].busy_s += t;
            }
            f->event_free(*a);
            f->event_free(*b);
            *a = *b = NULL;
        }
        f->event_free(r->xfree[k]);
        r->xfree[k] = NULL;
    }
    for (int i = 0; i < r->n_mb; i++) {
        /* left by an aborted run; only OpenCL stages make ready events */
        for (int k = 0; k < S && r->jobs[i].ready; k++)
            if (p->st[k].m->be->iface->event_free) {
                p->st[k].m->be->iface->event_free(r->jobs[i].ready);
                r->jobs[i].ready = NULL;
            }
    }
}

/* Run the micro-batches through every stage; stage 0 on the calling thread. */
static swacl_status run_all(sched_pipeline *p, int T, int all_positions, mb_job *jobs, int n_mb)
{
    const int S = p->n_stages;
    run r;
    memset(&r, 0, sizeof r);
    r.p = p;
    r.T = T;
    r.all_positions = all_positions;
    r.n_mb = n_mb;
    r.jobs = jobs;
    r.q = calloc((size_t)S, sizeof *r.q);
    r.xfree = calloc((size_t)S, sizeof *r.xfree);
    r.xfree_seq = calloc((size_t)S, sizeof *r.xfree_seq);
    r.ev_a = calloc((size_t)S * n_mb, sizeof *r.ev_a);
    r.ev_b = calloc((size_t)S * n_mb, sizeof *r.ev_b);
    worker *w = calloc((size_t)S, sizeof *w);
    pthread_t *th = calloc((size_t)S, sizeof *th);
    int *started = calloc((size_t)S, sizeof *started);
    if (!r.q || !r.xfree || !r.xfree_seq || !r.ev_a || !r.ev_b || !w || !th || !started) {
        free(r.q), free(r.xfree), free(r.xfree_seq), free(r.ev_a), free(r.ev_b);
        free(w), free(th), free(started);
        swacl_format_msg(p->errmsg, sizeof p->errmsg, "out of host memory");
        return SWACL_OUT_OF_MEMORY;
    }
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv, NULL);
    for (int k = 0; k < S; k++) w[k] = (worker){&r, k};
    for (int k = 1; k < S; k++) {
        if (pthread_create(&th[k], NULL, stage_main, &w[k]) != 0) {
            pthread_mutex_lock(&r.mu);
            if (!r.abort) {
                swacl_format_msg(p->errmsg, sizeof p->errmsg, "cannot start the thread of stage %d", k);
                r.st = SWACL_INTERNAL;
                r.abort = 1;
            }
            pthread_cond_broadcast(&r.cv);
            pthread_mutex_unlock(&r.mu);
            break;
        }
        started[k] = 1;
    }
    if (!r.abort) stage_main(&w[0]);
    for (int k = 1; k < S; k++)
        if (started[k]) pthread_join(th[k], NULL);
    run_cleanup(&r);
    pthread_cond_destroy(&r.cv);
    pthread_mutex_destroy(&r.mu);
    free(r.q), free(r.xfree), free(r.xfree_seq), free(r.ev_a), free(r.ev_b);
    free(w), free(th), free(started);
    return r.st;
}

/* Host staging for the host links, [bytes]: pinned memory of the first
 * OpenCL stage when there is one (kept and grown across calls), else malloc.
 * NULL when no link goes through the host. */
static float *staging(sched_pipeline *p, size_t bytes, int *oom)
{
    *oom = 0;
    int host_links = 0;
    for (int k = 1; k < p->n_stages; k++) host_links |= p->st[k].link_in != SCHED_LINK_DEVICE;
    if (!host_links) return NULL;
    if (bytes <= p->pin_bytes) return p->pin_ptr;
    if (p->pin) p->pin_be->iface->host_free(p->pin_be, p->pin);
    else free(p->pin_ptr);
    p->pin = NULL;
    p->pin_ptr = NULL;
    p->pin_be = NULL;
    p->pin_bytes = 0;
    for (int k = 0; k < p->n_stages && !p->pin; k++) {
        swacl_backend *be = p->st[k].m->be;
        void *ptr = NULL;
        /* a runtime without pinned memory just gets malloc below */
        if (be->iface->host_alloc && be->iface->host_alloc(be, bytes, &p->pin, &ptr) == SWACL_OK) {
            p->pin_be = be;
            p->pin_ptr = ptr;
        }
    }
    if (!p->pin) p->pin_ptr = malloc(bytes);
    if (!p->pin_ptr) {
        *oom = 1;
        return NULL;
    }
    p->pin_bytes = bytes;
    return p->pin_ptr;
}

static int n_micro(const sched_pipeline *p, int B)
{
    int n = p->micro_batches > 0 ? p->micro_batches : p->n_stages;
    return n < B ? n : B;
}

swacl_status sched_pipeline_forward(sched_pipeline *p, const swacl_input *in, int all_positions,
                                    float *out)
{
    if (!p) return SWACL_INVALID_ARG;
    p->errmsg[0] = 0;
    stage *s0 = &p->st[0];
    if (!out) {
        swacl_format_msg(p->errmsg, sizeof p->errmsg, "output buffer is NULL");
        return SWACL_INVALID_ARG;
    }
    swacl_status st = swacl_graph_check_input(s0->m, in);
    if (st != SWACL_OK) {
        swacl_format_msg(p->errmsg, sizeof p->errmsg, "%s", swacl_ctx_errmsg(s0->ctx));
        return st;
    }
    const swacl_config *c = &p->cfg;
    const int B = in->batch, T = in->seq, D = c->hidden_size, V = swacl_output_size(c);
    const size_t din = c->vocab_size > 0 ? 0 : (size_t)c->input_dim;
    const int n_mb = n_micro(p, B);
    int *pos0 = calloc((size_t)B, sizeof *pos0), *n_new = malloc((size_t)B * sizeof *n_new);
    int oom = 0;
    float *x = staging(p, (size_t)B * T * D * sizeof *x, &oom);
    mb_job *jobs = calloc((size_t)n_mb, sizeof *jobs);
    if (!pos0 || !n_new || !jobs || oom) {
        st = SWACL_OUT_OF_MEMORY;
        swacl_format_msg(p->errmsg, sizeof p->errmsg, "out of host memory");
        goto done;
    }
    for (int b = 0; b < B; b++) n_new[b] = T;
    for (int i = 0; i < n_mb; i++) {
        mb_job *j = &jobs[i];
        j->b0 = (int)((int64_t)i * B / n_mb);
        j->nb = (int)((int64_t)(i + 1) * B / n_mb) - j->b0;
        j->pos0 = pos0 + j->b0;
        j->n_new = n_new + j->b0;
        j->ids = in->ids ? in->ids + (size_t)j->b0 * T : NULL;
        j->embeds = in->embeds && din ? in->embeds + (size_t)j->b0 * T * din : NULL;
        j->x = x ? x + (size_t)j->b0 * T * D : NULL;
        j->out = out + (size_t)j->b0 * (all_positions ? T : 1) * V;
    }
    st = run_all(p, T, all_positions, jobs, n_mb);
done:
    free(pos0);
    free(n_new);
    free(jobs);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Sessions.                                                                 */

struct sched_pipeline_session {
    sched_pipeline *p;
    int B, max_ctx, n_mb;
    int *mb_b0;              /* [n_mb + 1] sequence boundaries              */
    swacl_kv_layer *kv;      /* [n_mb][n_layers], on the owning stage       */
    int *pos, *pos0, *n_new; /* [B]                                         */
    int has_global;
};

void sched_pipeline_session_destroy(sched_pipeline_session *s)
{
    if (!s) return;
    const int L = s->p->cfg.n_layers;
    if (s->kv)
        for (int i = 0; i < s->n_mb * L; i++) {
            swacl_backend *be = s->p->st[s->p->stage_of_layer[i % L]].m->be;
            if (s->kv[i].k) be->iface->buf_free(be, s->kv[i].k);
            if (s->kv[i].v) be->iface->buf_free(be, s->kv[i].v);
        }
    free(s->kv);
    free(s->mb_b0);
    free(s->pos);
    free(s->pos0);
    free(s->n_new);
    free(s);
}

swacl_status sched_pipeline_session_create(sched_pipeline *p, int batch, int max_ctx,
                                           sched_pipeline_session **out)
{
    if (!out) return SWACL_INVALID_ARG;
    *out = NULL;
    if (!p) return SWACL_INVALID_ARG;
    p->errmsg[0] = 0;
    if (batch < 1 || max_ctx < 1) {
        swacl_format_msg(p->errmsg, sizeof p->errmsg, "session batch and max_ctx must be >= 1 (got %d, %d)",
                         batch, max_ctx);
        return SWACL_INVALID_ARG;
    }
    const swacl_config *c = &p->cfg;
    const int L = c->n_layers;
    /* each stage: weights + activations + its layers' KV for this session */
    for (int k = 0; k < p->n_stages; k++) {
        const stage *sg = &p->st[k];
        swacl_status st = fit_error(c, &p->dev[sg->dev], sg->dev, sg->l0, sg->l1, p->plan_rows, batch,
                                    max_ctx, p->errmsg, sizeof p->errmsg);
        if (st != SWACL_OK) return st;
    }
    sched_pipeline_session *s = calloc(1, sizeof *s);
    if (!s) return SWACL_OUT_OF_MEMORY;
    s->p = p;
    s->B = batch;
    s->max_ctx = max_ctx;
    s->n_mb = n_micro(p, batch);
    s->mb_b0 = malloc((size_t)(s->n_mb + 1) * sizeof *s->mb_b0);
    s->kv = calloc((size_t)s->n_mb * L, sizeof *s->kv);
    s->pos = calloc((size_t)batch, sizeof *s->pos);
    s->pos0 = calloc((size_t)batch, sizeof *s->pos0);
    s->n_new = calloc((size_t)batch, sizeof *s->n_new);
    if (!s->mb_b0 || !s->kv || !s->pos || !s->pos0 || !s->n_new) {
        sched_pipeline_session_destroy(s);
        swacl_format_msg(p->errmsg, sizeof p->errmsg, "out of host memory");
        return SWACL_OUT_OF_MEMORY;
    }
    for (int i = 0; i <= s->n_mb; i++) s->mb_b0[i] = (int)((int64_t)i * batch / s->n_mb);
    const size_t width = (size_t)c->n_kv_heads * c->head_dim;
    for (int l = 0; l < L; l++) {
        if (c->layers[l].span == SWACL_SPAN_GLOBAL) s->has_global = 1;
        const stage *sg = &p->st[p->stage_of_layer[l]];
        swacl_backend *be = sg->m->be;
        int cap = swacl_layer_cache_cap(&c->layers[l], max_ctx);
        for (int i = 0; i < s->n_mb; i++) {
            swacl_kv_layer *kv = &s->kv[(size_t)i * L + l];
            size_t bytes = (size_t)(s->mb_b0[i + 1] - s->mb_b0[i]) * (size_t)cap * width * sizeof(float);
            swacl_status st = be->iface->buf_alloc(be, bytes, &kv->k);
            if (st == SWACL_OK) st = be->iface->buf_alloc(be, bytes, &kv->v);
            if (st != SWACL_OK) {
                swacl_format_msg(p->errmsg, sizeof p->errmsg,
                                 "allocating the layer-%d KV cache (%zu bytes x 2) on device %d ('%s') failed: %s",
                                 l, bytes, sg->dev, p->dev[sg->dev].name, swacl_ctx_errmsg(sg->ctx));
                sched_pipeline_session_destroy(s);
                return st;
            }
            kv->cap = cap;
        }
    }
    *out = s;
    return SWACL_OK;
}

int sched_pipeline_session_pos(const sched_pipeline_session *s, int b)
{
    return s && b >= 0 && b < s->B ? s->pos[b] : -1;
}

swacl_status sched_pipeline_session_step(sched_pipeline_session *s, int T, const int *n_new,
                                         const int32_t *ids, const float *embeds, float *out)
{
    if (!s) return SWACL_INVALID_ARG;
    sched_pipeline *p = s->p;
    const swacl_config *c = &p->cfg;
    p->errmsg[0] = 0;
#define BAD(...) do { swacl_format_msg(p->errmsg, sizeof p->errmsg, __VA_ARGS__); return SWACL_INVALID_ARG; } while (0)
    if (!out) BAD("output buffer is NULL");
    if (T < 1) BAD("step length must be >= 1 (got %d)", T);
    if (c->vocab_size > 0 ? !ids : !embeds)
        BAD("this model takes %s", c->vocab_size > 0 ? "token ids (ids is NULL)" : "continuous inputs (embeds is NULL)");
    for (int b = 0; b < s->B; b++) {
        int nb = n_new ? n_new[b] : T;
        if (nb < 0 || nb > T) BAD("n_new[%d] = %d is outside 0..%d", b, nb, T);
        if (s->has_global && s->pos[b] + nb > s->max_ctx)
            BAD("sequence %d would reach %d tokens, past the session's max_ctx %d", b, s->pos[b] + nb, s->max_ctx);
        if (c->vocab_size > 0)
            for (int t = 0; t < nb; t++) {
                int32_t id = ids[(size_t)b * T + t];
                if (id < 0 || id >= c->vocab_size)
                    BAD("token id %d (sequence %d, position %d) is outside [0, %d)", id, b, t, c->vocab_size);
            }
    }
#undef BAD
    for (int b = 0; b < s->B; b++) {
        s->pos0[b] = s->pos[b];
        s->n_new[b] = n_new ? n_new[b] : T;
    }
    const int L = c->n_layers, D = c->hidden_size, V = swacl_output_size(c);
    const size_t din = c->vocab_size > 0 ? 0 : (size_t)c->input_dim;
    swacl_status st = SWACL_OK;
    /* padded rows still flow through the per-row ops: give them id 0 */
    int32_t *ids_safe = ids ? malloc((size_t)s->B * T * sizeof *ids_safe) : NULL;
    int oom = 0;
    float *x = staging(p, (size_t)s->B * T * D * sizeof *x, &oom);
    mb_job *jobs = calloc((size_t)s->n_mb, sizeof *jobs);
    if ((ids && !ids_safe) || oom || !jobs) {
        st = SWACL_OUT_OF_MEMORY;
        swacl_format_msg(p->errmsg, sizeof p->errmsg, "out of host memory");
        goto done;
    }
    if (ids)
        for (int b = 0; b < s->B; b++)
            for (int t = 0; t < T; t++)
                ids_safe[(size_t)b * T + t] = t < s->n_new[b] ? ids[(size_t)b * T + t] : 0;
    for (int i = 0; i < s->n_mb; i++) {
        mb_job *j = &jobs[i];
        j->b0 = s->mb_b0[i];
        j->nb = s->mb_b0[i + 1] - j->b0;
        j->pos0 = s->pos0 + j->b0;
        j->n_new = s->n_new + j->b0;
        j->ids = ids_safe ? ids_safe + (size_t)j->b0 * T : NULL;
        j->embeds = embeds && din ? embeds + (size_t)j->b0 * T * din : NULL;
        j->kv = &s->kv[(size_t)i * L];
        j->x = x ? x + (size_t)j->b0 * T * D : NULL;
        j->out = out + (size_t)j->b0 * V;
    }
    st = run_all(p, T, 0, jobs, s->n_mb);
    if (st == SWACL_OK)
        for (int b = 0; b < s->B; b++) s->pos[b] += s->n_new[b];
done:
    free(ids_safe);
    free(jobs);
    return st;
}

swacl_status sched_pipeline_session_prefill(sched_pipeline_session *s, const swacl_input *in,
                                            int chunk, float *out)
{
    if (!s) return SWACL_INVALID_ARG;
    sched_pipeline *p = s->p;
    const swacl_config *c = &p->cfg;
    p->errmsg[0] = 0;
    if (!in || in->batch != s->B || in->seq < 1 || chunk < 0) {
        swacl_format_msg(p->errmsg, sizeof p->errmsg, "prefill: input batch %d (session %d), seq %d, chunk %d",
                         in ? in->batch : -1, s->B, in ? in->seq : -1, chunk);
        return SWACL_INVALID_ARG;
    }
    const int T = in->seq, Tc = chunk > 0 && chunk < T ? chunk : T;
    const size_t din = c->vocab_size > 0 ? 0 : (size_t)c->input_dim;
    if (Tc == T) return sched_pipeline_session_step(s, T, NULL, in->ids, in->embeds, out);
    int32_t *ids = in->ids ? malloc((size_t)s->B * Tc * sizeof *ids) : NULL;
    float *emb = in->embeds && din ? malloc((size_t)s->B * Tc * din * sizeof *emb) : NULL;
    int *nn = malloc((size_t)s->B * sizeof *nn);
    swacl_status st = SWACL_OK;
    if ((in->ids && !ids) || (in->embeds && din && !emb) || !nn) {
        swacl_format_msg(p->errmsg, sizeof p->errmsg, "out of host memory");
        st = SWACL_OUT_OF_MEMORY;
    }
    for (int t0 = 0; t0 < T && st == SWACL_OK; t0 += Tc) {
        int n = T - t0 < Tc ? T - t0 : Tc;
        for (int b = 0; b < s->B; b++) {
            nn[b] = n;
            if (ids) memcpy(ids + (size_t)b * Tc, in->ids + (size_t)b * T + t0, (size_t)n * sizeof *ids);
            if (emb)
                memcpy(emb + (size_t)b * Tc * din, in->embeds + ((size_t)b * T + t0) * din,
                       (size_t)n * din * sizeof *emb);
        }
        st = sched_pipeline_session_step(s, Tc, nn, ids, emb, out);
    }
    free(ids);
    free(emb);
    free(nn);
    return st;
}
