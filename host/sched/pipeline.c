/*
 * pipeline.c - the layer graph across several devices (include/swacl.h,
 * "Pipeline"; placement.c decides where each layer runs, run.c executes,
 * session.c keeps KV caches on it).
 *
 * A stage = a context on one device + a model holding only its contiguous
 * layer range (graph/model.c: swacl_model_create_range). Here: the device
 * list, creating the stages (placement, the fit check, the links between
 * neighbours), describe, and the one-stage pipeline a swacl_session runs
 * on (sched_pipeline_solo). Errors are recorded by sched_fail only.
 */
#define _DEFAULT_SOURCE
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/env.h"
#include "sched/sched.h"

/* ------------------------------------------------------------------------ */
/* Errors: the pipeline's own message, or the solo pipeline's context.       */

void sched_clear_error(swacl_pipeline *p)
{
    swacl_ctx *c = p->solo ? p->st[0].ctx : p->owner;
    if (c) c->errmsg[0] = 0;
}

swacl_status sched_fail(const swacl_pipeline *p, swacl_status st, const char *fmt, ...)
{
    char msg[SWACL_ERRMSG_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (p->solo) return swacl_set_error(p->st[0].ctx, st, "%s", msg);
    /* stage threads call this under the run's mutex, so one writer at a time */
    return swacl_set_error(p->owner, st, "%s", msg);
}

swacl_status sched_fail_stage(swacl_pipeline *p, int k, swacl_status st)
{
    if (p->solo) return st; /* already on the context errors go to */
    const sched_stage *s = &p->st[k];
    return sched_fail(p, st, "stage %d (device %d '%s' %s, layers %d-%d): %s", k, s->dev, p->dev[s->dev].sel,
                      p->dev[s->dev].name, s->l0, s->l1 - 1, swacl_ctx_errmsg(s->ctx));
}

swacl_status sched_check_input(swacl_pipeline *p, const swacl_input *in)
{
    swacl_status st = swacl_graph_check_input(p->st[0].m, in);
    if (st != SWACL_OK && !p->solo) sched_fail(p, st, "%s", swacl_ctx_errmsg(p->st[0].ctx));
    return st;
}

int sched_micro_batches(const swacl_pipeline *p, int B)
{
    int n = p->micro_batches > 0 ? p->micro_batches : p->n_stages;
    return n < B ? n : B;
}

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
                                  sched_device **out, int *n_out, char *err, size_t err_len)
{
    *out = NULL;
    *n_out = 0;
    if (!devices || !*devices) devices = "all";
    int cap = 1;
    for (const char *p = devices; *p; p++) cap += *p == ',';
    if (!strcasecmp(devices, "all")) cap = n_cl > 0 ? n_cl : 1;
    sched_device *d = calloc((size_t)cap, sizeof *d);
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
            if (strchr(d[n].sel, ':')) { /* RANK:SELECTOR: host/mpi/ strips the ranks */
                swacl_format_msg(err, err_len, "device list '%s': '%s' names an MPI rank: run it under "
                                 "mpirun with a build that has MPI (cmake -DSWACL_MPI=ON)", devices, d[n].sel);
                free(d);
                return SWACL_INVALID_ARG;
            }
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
static void device_memory(sched_device *d, const swacl_ctx *ctx, const swacl_device_info *cl, int n_cl,
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
    const sched_device *dev;
    int plan_rows;
} fit_ctx;

static int fits(int k, int l0, int l1, void *user)
{
    const fit_ctx *f = user;
    uint64_t maxb = 0, b = sched_stage_bytes(f->cfg, l0, l1, f->plan_rows, 0, 0, &maxb);
    return b <= f->dev[k].mem && maxb <= f->dev[k].max_alloc;
}

static swacl_status fit_error(const swacl_config *cfg, const sched_device *d, int k, int l0, int l1,
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

void swacl_pipeline_destroy(swacl_pipeline *p)
{
    if (!p) return;
    if (p->remote) {
        if (p->remote->root) p->remote->command(p->remote, &p->cfg, &(sched_cmd){.op = SCHED_CMD_DESTROY});
        p->remote->destroy(p->remote);
    }
    if (p->pin) p->pin_be->iface->host_free(p->pin_be, p->pin);
    else free(p->pin_ptr);
    for (int i = 0; i < p->n_stages && !p->solo; i++) {
        swacl_model_destroy(p->st[i].m);
        swacl_ctx_destroy(p->st[i].ctx);
    }
    free(p->st);
    free(p->dev);
    free(p->stage_of_layer);
    swacl_share_destroy(p->share);
    free(p);
}

swacl_status sched_pipeline_solo(swacl_model *m, swacl_pipeline **out)
{
    *out = NULL;
    swacl_pipeline *p = calloc(1, sizeof *p);
    if (!p) return swacl_set_error(m->ctx, SWACL_OUT_OF_MEMORY, "out of host memory");
    p->cfg = m->cfg;
    p->solo = 1;
    p->n_dev = p->n_stages = 1;
    p->dev = calloc(1, sizeof *p->dev);
    p->st = calloc(1, sizeof *p->st);
    p->stage_of_layer = calloc((size_t)m->cfg.n_layers, sizeof *p->stage_of_layer);
    if (!p->dev || !p->st || !p->stage_of_layer) {
        swacl_pipeline_destroy(p);
        return swacl_set_error(m->ctx, SWACL_OUT_OF_MEMORY, "out of host memory");
    }
    /* mem = 0: no fit check, the allocations themselves report */
    snprintf(p->dev[0].name, sizeof p->dev[0].name, "%s", swacl_ctx_device_name(m->ctx));
    p->st[0] = (sched_stage){.dev = 0, .l0 = 0, .l1 = m->cfg.n_layers, .ctx = m->ctx, .m = m};
    *out = p;
    return SWACL_OK;
}

swacl_status swacl_pipeline_solo(swacl_model *m, swacl_pipeline **out)
{
    if (!out) return SWACL_INVALID_ARG;
    *out = NULL;
    return m ? sched_pipeline_solo(m, out) : SWACL_INVALID_ARG;
}

swacl_status sched_session_fits(swacl_pipeline *p, int batch, int max_ctx)
{
    for (int k = 0; k < p->n_stages; k++) {
        const sched_stage *sg = &p->st[k];
        const sched_device *d = &p->dev[sg->dev];
        char msg[1024];
        if (!d->mem) continue;
        swacl_status st = fit_error(&p->cfg, d, sg->dev, sg->l0, sg->l1, p->plan_rows, batch, max_ctx, msg,
                                    sizeof msg);
        if (st != SWACL_OK) return sched_fail(p, st, "%s", msg);
    }
    return SWACL_OK;
}

void swacl_pipeline_set_micro_batches(swacl_pipeline *p, int n)
{
    if (!p) return;
    p->micro_batches = n > 0 ? n : 0;
    if (p->remote && p->remote->root)
        p->remote->command(p->remote, &p->cfg, &(sched_cmd){.op = SCHED_CMD_MICRO_BATCHES, .n = n});
}

int sched_describe_local(const swacl_pipeline *p, swacl_pipeline_stage *stages, int max)
{
    for (int i = 0; i < p->n_stages && i < max; i++) {
        const sched_stage *s = &p->st[i];
        swacl_pipeline_stage *o = &stages[i];
        memset(o, 0, sizeof *o);
        o->device = s->dev;
        snprintf(o->selector, sizeof o->selector, "%s", p->dev[s->dev].sel);
        snprintf(o->device_name, sizeof o->device_name, "%s", p->dev[s->dev].name);
        o->layer_begin = s->l0;
        o->layer_end = s->l1;
        o->weight_bytes = s->weight_bytes;
        o->busy_s = s->busy_s;
        o->transfer_s = s->xfer_s;
        o->rank = p->remote ? p->remote->rank : 0;
        o->host_weight_bytes = p->host_weight_bytes;
        o->kv_bytes = s->kv_bytes;
        const int remote_in = i == 0 && p->remote && !p->remote->first;
        snprintf(o->transfer_in, sizeof o->transfer_in, "%s",
                 remote_in ? "mpi" : i ? sched_link_name(s->link_in) : "");
    }
    return p->n_stages;
}

swacl_status swacl_pipeline_describe(const swacl_pipeline *p, swacl_pipeline_stage *stages, int max,
                                     int *n)
{
    if (!p) return SWACL_INVALID_ARG;
    if (!n || (max > 0 && !stages))
        return sched_fail(p, SWACL_INVALID_ARG,
                          "swacl_pipeline_describe: NULL stages or count");
    *n = p->remote && p->remote->root ? p->remote->describe(p->remote, p, stages, max)
                                      : sched_describe_local(p, stages, max);
    return SWACL_OK;
}

swacl_status swacl_pipeline_create(swacl_ctx *ctx, const char *devices, const char *placement,
                                   const swacl_config *cfg, const swacl_weights *weights,
                                   swacl_pipeline **out)
{
    return swacl_pipeline_create_ex(ctx, devices, placement, cfg, weights, NULL, out);
}

swacl_ctx *swacl_pipeline_ctx(const swacl_pipeline *p) { return p ? (p->solo ? p->st[0].ctx : p->owner) : NULL; }

/* Open a context per listed device (joining a shared OpenCL context where
 * one platform holds several) and read each device's memory budget. */
static swacl_status open_devices(swacl_pipeline *p, const swacl_ctx_params *base, const swacl_sched_opts *o,
                                 const swacl_device_info *cl, int n_cl, swacl_ctx **ctxs)
{
    /* devices of one platform share a context, so activations move by
     * device copy (SWACL_PIPELINE_LINK=host or opts.host_links: never) */
    if (!o->host_links && !swacl_env_is(SWACL_ENV_PIPELINE_LINK, "host") && p->n_dev > 1) {
        const char **sels = malloc((size_t)p->n_dev * sizeof *sels);
        char lerr[256];
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
        swacl_status st = swacl_ctx_create_shared(&cp, p->share, &ctxs[k]);
        if (st != SWACL_OK)
            return sched_fail(p, st == SWACL_INVALID_ARG ? SWACL_NO_DEVICE : st, "device %d ('%s'): %s", k,
                              p->dev[k].sel, ctxs[k] ? swacl_ctx_errmsg(ctxs[k]) : swacl_status_string(st));
        device_memory(&p->dev[k], ctxs[k], cl, n_cl, o->mem_limit);
    }
    return SWACL_OK;
}

/* placement "auto": calibrate each device, then the balanced split. */
static swacl_status place_auto(swacl_pipeline *p, const swacl_ctx_params *base, const swacl_sched_opts *o,
                               swacl_ctx **ctxs, int *dev_of_layer)
{
    const swacl_config *cfg = &p->cfg;
    const int L = cfg->n_layers;
    char cache[4096];
    sched_cache_dir(base, cache, sizeof cache);
    /* per device: seconds per layer [n_dev][L], then x in / out [n_dev] each */
    double *cost = malloc((size_t)p->n_dev * (L + 2) * sizeof *cost);
    if (!cost) return sched_fail(p, SWACL_OUT_OF_MEMORY, "out of host memory");
    double *lc = cost, *t_in = cost + (size_t)p->n_dev * L, *t_out = t_in + p->n_dev;
    swacl_status st = SWACL_OK;
    for (int k = 0; k < p->n_dev && st == SWACL_OK; k++) {
        sched_calib cal;
        memset(&cal, 0, sizeof cal);
        int cached = 0;
        st = sched_calibrate(ctxs[k], cfg, cache, o->calib_seq, &cal, &cached);
        if (st != SWACL_OK) {
            sched_fail(p, st, "calibrating device %d ('%s'): %s", k, p->dev[k].sel, swacl_ctx_errmsg(ctxs[k]));
            break;
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
        if (o->verbose || (base && base->verbose))
            fprintf(stderr, "swacl: sched: device %d (%s): window layer %.3f ms, global layer %.3f ms, "
                    "x in %.3f ms, out %.3f ms (%s)%s\n", k, p->dev[k].name, cal.window_s * 1e3,
                    cal.global_s * 1e3, t_in[k] * 1e3, t_out[k] * 1e3, shared ? "device copy" : "via host",
                    cached ? " (cached)" : "");
        for (int l = 0; l < L; l++)
            lc[(size_t)k * L + l] = cfg->layers[l].span == SWACL_SPAN_GLOBAL ? cal.global_s : cal.window_s;
    }
    fit_ctx fc = {cfg, p->dev, p->plan_rows};
    if (st == SWACL_OK && sched_split(p->n_dev, L, lc, t_in, t_out, fits, &fc, dev_of_layer) != 0) {
        /* name the tightest device: the whole model on the largest one */
        int big = 0;
        for (int k = 1; k < p->n_dev; k++) big = p->dev[k].mem > p->dev[big].mem ? k : big;
        uint64_t need = sched_stage_bytes(cfg, 0, L, p->plan_rows, 0, 0, NULL);
        st = sched_fail(p, SWACL_OUT_OF_MEMORY, "no placement of the %d layers fits the %d device%s: the whole "
                        "model needs %llu bytes; the largest device %d ('%s' %s) has %llu bytes", L, p->n_dev,
                        p->n_dev == 1 ? "" : "s", (unsigned long long)need, big, p->dev[big].sel,
                        p->dev[big].name, (unsigned long long)p->dev[big].mem);
    }
    free(cost);
    return st;
}

/* Stages: maximal runs of one device, in layer order; each takes its
 * device's context (ctxs[k] = NULL) and uploads its layers. */
static swacl_status build_stages(swacl_pipeline *p, const swacl_weights *weights, swacl_ctx **ctxs,
                                 const int *dev_of_layer, int lo, int L)
{
    const swacl_config *cfg = &p->cfg;
    p->st = calloc((size_t)p->n_dev, sizeof *p->st);
    if (!p->st) return sched_fail(p, SWACL_OUT_OF_MEMORY, "out of host memory");
    for (int l = lo; l < L;) {
        int k = dev_of_layer[l], e = l;
        while (e < L && dev_of_layer[e] == k) e++;
        char msg[1024];
        swacl_status st = fit_error(cfg, &p->dev[k], k, l, e, p->plan_rows, 0, 0, msg, sizeof msg);
        if (st != SWACL_OK) return sched_fail(p, st, "%s", msg);
        sched_stage *s = &p->st[p->n_stages++];
        s->dev = k;
        s->l0 = l;
        s->l1 = e;
        s->ctx = ctxs[k];
        ctxs[k] = NULL; /* the stage owns it now */
        s->weight_bytes = swacl_model_range_bytes(cfg, l, e, NULL);
        for (int i = l; i < e; i++) p->stage_of_layer[i] = p->n_stages - 1;
        st = swacl_model_create_range(s->ctx, cfg, weights, l, e, &s->m);
        if (st != SWACL_OK)
            return sched_fail(p, st, "device %d ('%s' %s), layers %d-%d: %s", k, p->dev[k].sel, p->dev[k].name,
                              l, e - 1, swacl_ctx_errmsg(s->ctx));
        s->weight_bytes = s->m->weight_bytes; /* as uploaded (storage types) */
        if (p->n_stages > 1) {
            const swacl_backend *prev = p->st[p->n_stages - 2].m->be, *cur = s->m->be;
            s->link_in = cur->iface->peer && cur->iface->peer(cur, prev) ? SCHED_LINK_DEVICE
                         : (cur->iface->host_alloc || prev->iface->host_alloc) ? SCHED_LINK_PINNED
                                                                               : SCHED_LINK_HOST;
        }
        l = e;
    }
    return SWACL_OK;
}

/* Errors go through sched_fail onto ctx, the pipeline's one error channel
 * (its stages inherit ctx's creation parameters). */
swacl_status swacl_pipeline_create_ex(swacl_ctx *ctx, const char *devices, const char *placement,
                                      const swacl_config *cfg, const swacl_weights *weights,
                                      const swacl_sched_opts *opts, swacl_pipeline **out)
{
    if (!ctx) return SWACL_INVALID_ARG; /* nowhere to report, nothing to inherit */
    if (!out) return swacl_set_error(ctx, SWACL_INVALID_ARG, "swacl_pipeline_create: out is NULL");
    *out = NULL;
    const swacl_ctx_params *base = swacl_ctx_params_of(ctx);
    swacl_pipeline *p = calloc(1, sizeof *p);
    if (!p) return swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "out of host memory");
    p->owner = ctx;
    ctx->errmsg[0] = 0;
    swacl_sched_opts o;
    memset(&o, 0, sizeof o);
    if (opts) o = *opts;
    p->plan_rows = o.plan_rows > 0 ? o.plan_rows : 512;
    p->fail_stage = o.fail_stage;
    swacl_status st = SWACL_OK;
    swacl_device_info *cl = NULL;
    int n_cl = 0;
    swacl_ctx **ctxs = NULL;
    int *dev_of_layer = NULL;
    char msg[1024], why[256];
    if (!cfg || !weights) {
        st = sched_fail(p, SWACL_INVALID_ARG, "swacl_pipeline_create: NULL config or weights");
        goto done;
    }
    if (!swacl_config_size_ok(cfg)) {
        st = sched_fail(p, SWACL_INVALID_ARG, "swacl_config not initialised (call swacl_config_init)");
        goto done;
    }
    if (swacl_config_check(cfg, why, sizeof why) != SWACL_OK) {
        st = sched_fail(p, SWACL_INVALID_ARG, "invalid config: %s", why);
        goto done;
    }
    p->cfg = *cfg;
    const int L = cfg->n_layers;
    /* a part of a multi-process pipeline: layers [lo, hi), placed by the caller */
    const int lo = o.layer_end > 0 ? o.layer_begin : 0, hi = o.layer_end > 0 ? o.layer_end : L;
    if (lo < 0 || hi > L || lo >= hi || (o.layer_end > 0 && !o.dev_of_layer)) {
        st = sched_fail(p, SWACL_INVALID_ARG, "pipeline part: bad layer range %d-%d of %d", lo, hi, L);
        goto done;
    }

    /* OpenCL enumeration failing (no ICD) only matters for numeric indices */
    if (swacl_cl_devices_list(&cl, &n_cl, why, sizeof why) != SWACL_OK) {
        cl = NULL;
        n_cl = 0;
    }
    st = parse_devices(devices, cl, n_cl, &p->dev, &p->n_dev, msg, sizeof msg);
    if (st != SWACL_OK) {
        sched_fail(p, st, "%s", msg);
        goto done;
    }
    dev_of_layer = malloc((size_t)L * sizeof *dev_of_layer);
    p->stage_of_layer = malloc((size_t)L * sizeof *p->stage_of_layer);
    ctxs = calloc((size_t)p->n_dev, sizeof *ctxs);
    if (!dev_of_layer || !p->stage_of_layer || !ctxs) {
        st = sched_fail(p, SWACL_OUT_OF_MEMORY, "out of host memory");
        goto done;
    }
    for (int l = 0; l < L; l++) p->stage_of_layer[l] = -1; /* -1: another process's */
    if (o.dev_of_layer)
        for (int l = lo; l < hi; l++) {
            if (o.dev_of_layer[l] < 0 || o.dev_of_layer[l] >= p->n_dev) {
                st = sched_fail(p, SWACL_INVALID_ARG, "pipeline part: layer %d on no device", l);
                goto done;
            }
            dev_of_layer[l] = o.dev_of_layer[l];
        }
    /* a bad SPEC fails before any device is opened */
    const int is_auto = !o.dev_of_layer && (!placement || !*placement || !strcasecmp(placement, "auto"));
    if (!is_auto && !o.dev_of_layer && (st = sched_parse_spec(placement, L, p->n_dev, dev_of_layer, msg, sizeof msg)) != SWACL_OK) {
        sched_fail(p, st, "%s", msg);
        goto done;
    }
    SWACL_TRY_GOTO(st, open_devices(p, base, &o, cl, n_cl, ctxs), done);
    if (is_auto) SWACL_TRY_GOTO(st, place_auto(p, base, &o, ctxs, dev_of_layer), done);
    SWACL_TRY_GOTO(st, build_stages(p, weights, ctxs, dev_of_layer, lo, hi), done);
    p->host_weight_bytes = swacl_weights_owned_bytes(weights); /* seeded: only this part's */
    if (o.verbose || (base && base->verbose))
        for (int i = 0; i < p->n_stages; i++)
            fprintf(stderr, "swacl: sched: stage %d: layers %d-%d on device %d (%s)%s%s\n", i, p->st[i].l0,
                    p->st[i].l1 - 1, p->st[i].dev, p->dev[p->st[i].dev].name, i ? ", input by " : "",
                    i ? sched_link_name(p->st[i].link_in) : "");
done:
    if (ctxs)
        for (int k = 0; k < p->n_dev; k++) swacl_ctx_destroy(ctxs[k]); /* devices left without layers */
    free(ctxs);
    free(dev_of_layer);
    swacl_devices_free(cl);
    if (st != SWACL_OK) {
        if (!ctx->errmsg[0]) swacl_set_error(ctx, st, "%s", swacl_status_string(st));
        swacl_pipeline_destroy(p); /* remote not yet attached: the caller keeps it */
        return st;
    }
    p->remote = o.remote;
    *out = p;
    return SWACL_OK;
}
