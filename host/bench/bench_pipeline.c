/*
 * bench_pipeline.c - the layer pipeline over a device list (include/swacl.h,
 * "Pipeline") vs each listed device alone, batch prefill, in the same run;
 * and the device-list expansion the benchmarks share.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_internal.h"

#define PIPE_NMSE_TOL 1e-6

swacl_status swacl_bench_devices(swacl_ctx *ctx, const char *devices, char (*sel)[64], int max,
                                 int *n)
{
    if (!sel || !n || max < 1)
        return swacl_set_error(ctx, SWACL_INVALID_ARG, "devices: NULL argument");
    *n = 0;
    if (!devices || !strcmp(devices, "all")) {
        swacl_device_info *list = NULL;
        int nl = 0;
        swacl_status st = swacl_devices_list(ctx, &list, &nl);
        for (int i = 0; st == SWACL_OK && i < nl && *n < max - 1; i++)
            snprintf(sel[(*n)++], 64, "%d", list[i].index);
        swacl_devices_free(list);
        if (*n == 0) snprintf(sel[(*n)++], 64, "ref");
        if (st != SWACL_OK)
            return swacl_set_error(ctx, st, "listing OpenCL devices failed: %s", swacl_ctx_errmsg(ctx));
        return SWACL_OK;
    }
    for (const char *s = devices; *s && *n < max;) {
        size_t len = strcspn(s, ",");
        if (len >= 64) {
            *n = 0;
            return swacl_set_error(ctx, SWACL_INVALID_ARG, "device selector too long");
        }
        /* "RANK:SEL" (a pipeline over MPI ranks): this process runs SEL */
        size_t skip = strspn(s, "0123456789");
        skip = skip && skip < len && s[skip] == ':' ? skip + 1 : 0;
        if (len > skip) {
            memcpy(sel[*n], s + skip, len - skip);
            sel[(*n)++][len - skip] = 0;
        }
        s += len;
        if (*s == ',') s++;
    }
    if (*n == 0) return swacl_set_error(ctx, SWACL_INVALID_ARG, "--devices: empty list");
    return SWACL_OK;
}

/* "layers 0-3 on dev 0 (name), 4-7 on dev 1 (name) <- host-pinned" */
static void describe_placement(const swacl_pipeline_stage *stg, int ns, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = 0;
    for (int i = 0; i < ns && used + 1 < len; i++) {
        const swacl_pipeline_stage *s = &stg[i];
        char r[32];
        if (s->layer_end - s->layer_begin == 1)
            snprintf(r, sizeof r, "%d", s->layer_begin);
        else
            snprintf(r, sizeof r, "%d-%d", s->layer_begin, s->layer_end - 1);
        int k = snprintf(buf + used, len - used, "%s%s on dev %s (%s)%s%s", i ? ", " : "layers ",
                         r, s->selector, s->device_name, i ? " <- " : "", s->transfer_in);
        if (k < 0) break;
        used += (size_t)k;
    }
    if (used >= len && len > 4) memcpy(buf + len - 4, "...", 4);
}

/* The pipeline's model: the given one, or cohere2 with random weights.
 * *own receives weights to destroy (NULL for a borrowed model). */
static swacl_status pipe_model(swacl_ctx *ctx, const swacl_bench_pipeline_params *p,
                               swacl_config *cfg, const swacl_weights **w, swacl_weights **own)
{
    *own = NULL;
    if (p->model_cfg && p->model_weights) {
        *cfg = *p->model_cfg;
        *w = p->model_weights;
        return SWACL_OK;
    }
    swacl_status st = swacl_preset("cohere2", cfg);
    if (st == SWACL_OK) st = swacl_weights_create_seeded(cfg, 1, own); /* MPI: a rank its layers */
    if (st != SWACL_OK)
        return swacl_set_error(ctx, st, "pipeline model: %s", swacl_status_string(st));
    *w = *own;
    return SWACL_OK;
}

/* params with the NULL strings resolved */
static swacl_bench_pipeline_params pipe_defaults(const swacl_bench_pipeline_params *p)
{
    swacl_bench_pipeline_params d = *p;
    if (!d.devices) d.devices = "all";
    if (!d.placement) d.placement = "auto";
    return d;
}

static swacl_status pipe_create(swacl_ctx *ctx, const swacl_bench_pipeline_params *p,
                                const swacl_config *cfg, const swacl_weights *w,
                                swacl_pipeline **out)
{
    /* the stages inherit ctx's parameters; errors land on ctx */
    swacl_pipeline_create_fn fn = p->pipeline_create ? p->pipeline_create : swacl_pipeline_create;
    return fn(ctx, p->devices, p->placement, cfg, w, out);
}

swacl_status swacl_bench_pipeline_check(swacl_ctx *ctx, const swacl_bench_pipeline_params *params)
{
    if (!params) return swacl_set_error(ctx, SWACL_INVALID_ARG, "bench pipeline: NULL params");
    swacl_bench_pipeline_params pd = pipe_defaults(params);
    const swacl_bench_pipeline_params *p = &pd;
    swacl_config cfg;
    const swacl_weights *w = NULL;
    swacl_weights *own = NULL;
    swacl_pipeline *pl = NULL;
    swacl_status st = pipe_model(ctx, p, &cfg, &w, &own);
    if (st == SWACL_OK) st = pipe_create(ctx, p, &cfg, w, &pl);
    swacl_pipeline_destroy(pl);
    swacl_weights_destroy(own);
    return st;
}

/* NMSE of x against ref through the one comparison helper; a non-finite
 * value anywhere is a mismatch (NaN), never a pass. */
static double nmse_of(const float *ref, const float *x, size_t n)
{
    swacl_compare_result c = swacl_compare(x, ref, n, 0.0, 0.0);
    return c.nonfinite ? NAN : c.nmse;
}

/* Work state of one run (freed in one place). */
typedef struct {
    swacl_ctx *ctx[SWACL_BENCH_MAX_DEVICES];
    swacl_model *m[SWACL_BENCH_MAX_DEVICES];
    double best1[SWACL_BENCH_MAX_DEVICES];
    swacl_pipeline_stage stg0[SWACL_BENCH_MAX_DEVICES]; /* after the warm-up */
    int32_t *ids;
    float *emb, *out_p, *out_1, *out_t;
} pipe_work;

/* Each listed device alone: a ctx + a whole model per device. */
static void pipe_singles(const swacl_bench_pipeline_params *p, const swacl_config *cfg,
                         const swacl_weights *w, char (*sel)[64], pipe_work *k,
                         swacl_bench_pipeline_result *r)
{
    for (int d = 0; d < r->n_single; d++) {
        snprintf(r->single[d].selector, sizeof r->single[d].selector, "%s", sel[d]);
        swacl_bench_say(p->progress, p->user, "single device %s: create", sel[d]);
        swacl_ctx_params cp = swacl_ctx_params_default();
        cp.device = sel[d];
        swacl_status st = swacl_ctx_create(&cp, &k->ctx[d]);
        if (st == SWACL_OK) st = swacl_model_create(k->ctx[d], cfg, w, &k->m[d]);
        if (k->ctx[d])
            snprintf(r->single[d].device_name, sizeof r->single[d].device_name, "%s",
                     swacl_ctx_device_name(k->ctx[d]));
        if (st != SWACL_OK) {
            swacl_bench_say(p->progress, p->user, "single device '%s': %s: %s", sel[d],
                            swacl_status_string(st), k->ctx[d] ? swacl_ctx_errmsg(k->ctx[d]) : "");
            r->failures++;
            swacl_model_destroy(k->m[d]);
            k->m[d] = NULL;
        }
    }
}

/* One warm-up, then iters timed forwards of the pipeline and of each device
 * alone, interleaved so load from other processes hits all alike; best of
 * the timed runs. */
static swacl_status pipe_time(swacl_ctx *ctx, const swacl_bench_pipeline_params *p,
                              swacl_pipeline *pl, const swacl_input *in, pipe_work *k,
                              swacl_bench_pipeline_result *r, double *wall_p)
{
    *wall_p = 0.0;
    for (int it = 0; it <= r->iters; it++) {
        swacl_bench_say(p->progress, p->user,
                        "%s %d/%d: pipeline + %d single device(s), batch %d x seq %d",
                        it ? "iteration" : "warm-up", it, r->iters, r->n_single, r->batch,
                        r->seq);
        int ns = 0;
        if (it == 1) swacl_pipeline_describe(pl, k->stg0, SWACL_BENCH_MAX_DEVICES, &ns);
        double t0 = swacl_now();
        swacl_status st = swacl_pipeline_forward(pl, in, 0, k->out_p);
        double dt = swacl_now() - t0;
        if (st != SWACL_OK) {
            swacl_bench_say(p->progress, p->user, "pipeline forward FAILED: %s",
                            swacl_ctx_errmsg(ctx));
            r->failures++;
            return st; /* the message is on ctx, the pipeline's channel */
        }
        if (it > 0) {
            *wall_p += dt;
            if (r->seconds <= 0.0 || dt < r->seconds) r->seconds = dt;
        }
        for (int d = 0; d < r->n_single; d++) {
            if (!k->m[d]) continue;
            t0 = swacl_now();
            st = swacl_model_forward(k->m[d], in, 0, d == 0 ? k->out_1 : k->out_t);
            dt = swacl_now() - t0;
            if (st != SWACL_OK) {
                swacl_bench_say(p->progress, p->user, "single device '%s' forward FAILED: %s",
                                r->single[d].selector, swacl_ctx_errmsg(k->ctx[d]));
                r->failures++;
                swacl_model_destroy(k->m[d]);
                k->m[d] = NULL;
                k->best1[d] = 0.0;
                continue;
            }
            if (it > 0 && (k->best1[d] <= 0.0 || dt < k->best1[d])) k->best1[d] = dt;
        }
    }
    return SWACL_OK;
}

/* The stage table and the check once the runs are done. */
static void pipe_finish(const swacl_bench_pipeline_params *p, swacl_pipeline *pl,
                        const pipe_work *k, size_t nout, double ntok, double wall_p,
                        swacl_bench_pipeline_result *r)
{
    int ns = 0;
    swacl_pipeline_describe(pl, r->stages, SWACL_BENCH_MAX_DEVICES, &ns);
    r->n_stages = ns > SWACL_BENCH_MAX_DEVICES ? SWACL_BENCH_MAX_DEVICES : ns;
    for (int i = 0; i < r->n_stages; i++) {
        const double busy = r->stages[i].busy_s - k->stg0[i].busy_s;
        r->busy_fraction[i] = wall_p > 0 ? busy / wall_p : 0;
        r->stage_busy_s[i] = r->iters > 0 ? busy / r->iters : 0;
        r->stage_transfer_s[i] =
            r->iters > 0 ? (r->stages[i].transfer_s - k->stg0[i].transfer_s) / r->iters : 0;
    }
    /* the pipeline's output must be the first device's own */
    r->nmse = k->m[0] ? nmse_of(k->out_1, k->out_p, nout) : -1.0;
    r->ok = r->nmse >= 0.0 && r->nmse <= PIPE_NMSE_TOL;
    if (!r->ok) {
        r->failures++;
        if (r->nmse >= 0.0)
            swacl_bench_say(p->progress, p->user,
                            "pipeline output differs from device %s alone: nmse %.3e > %.0e",
                            r->single[0].selector, r->nmse, PIPE_NMSE_TOL);
        else
            swacl_bench_say(p->progress, p->user,
                            "no single-device output on %s to check against",
                            r->single[0].selector);
    }
    r->tokens_per_s = r->seconds > 0 ? ntok / r->seconds : 0.0;
    double best_single = 0.0;
    for (int d = 0; d < r->n_single; d++) {
        r->single[d].tokens_per_s = k->best1[d] > 0 ? ntok / k->best1[d] : 0.0;
        if (r->single[d].tokens_per_s > best_single) best_single = r->single[d].tokens_per_s;
    }
    r->speedup = best_single > 0 ? r->tokens_per_s / best_single : 0.0;
    swacl_bench_say(p->progress, p->user,
                    "%.1f tok/s vs best single device %.1f tok/s: %.2fx, nmse %.2e",
                    r->tokens_per_s, best_single, r->speedup, r->nmse);
}

swacl_status swacl_bench_pipeline(swacl_ctx *ctx, const swacl_bench_pipeline_params *params,
                                  swacl_bench_pipeline_result *r)
{
    if (!params || !r)
        return swacl_set_error(ctx, SWACL_INVALID_ARG, "bench pipeline: NULL argument");
    swacl_bench_pipeline_params pd = pipe_defaults(params);
    const swacl_bench_pipeline_params *p = &pd;
    memset(r, 0, sizeof *r);
    r->nmse = -1.0;
    char sel[SWACL_BENCH_MAX_DEVICES][64];
    swacl_status st = swacl_bench_devices(ctx, p->devices, sel, SWACL_BENCH_MAX_DEVICES,
                                          &r->n_single);
    if (r->n_single == 0) return st;
    swacl_config cfg;
    const swacl_weights *w = NULL;
    swacl_weights *own = NULL;
    swacl_pipeline *pl = NULL;
    pipe_work *k = calloc(1, sizeof *k);
    if (!k) return swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "out of host memory");
    SWACL_TRY_GOTO(st, pipe_model(ctx, p, &cfg, &w, &own), done);
    r->n_layers = cfg.n_layers;
    r->batch = p->batch > 0 ? p->batch : 8;
    r->seq = p->quick ? 128 : 512;
    if (p->max_seq > 0 && r->seq > p->max_seq) r->seq = p->max_seq;
    r->iters = p->quick ? 2 : 3;
    const size_t nout = (size_t)r->batch * (size_t)swacl_output_size(&cfg);
    const size_t ntok = (size_t)r->batch * (size_t)r->seq;

    /* the pipeline first: a bad SPEC or device fails before anything runs */
    const char *mname = !p->model_weights ? "cohere2" : p->model_name ? p->model_name : "model";
    swacl_bench_say(p->progress, p->user, "create: devices %s, placement %s, %s (%d layers)",
                    p->devices, p->placement, mname, cfg.n_layers);
    SWACL_TRY_GOTO(st, pipe_create(ctx, p, &cfg, w, &pl), done);
    r->created = 1;
    if (p->micro_batches > 0) swacl_pipeline_set_micro_batches(pl, p->micro_batches);
    int ns = 0;
    swacl_pipeline_describe(pl, r->stages, SWACL_BENCH_MAX_DEVICES, &ns);
    if (ns > SWACL_BENCH_MAX_DEVICES) ns = SWACL_BENCH_MAX_DEVICES;
    /* as swacl_pipeline_set_micro_batches: 0 = one per stage, at most B */
    r->micro_batches = p->micro_batches > 0 ? p->micro_batches : ns;
    if (r->micro_batches > r->batch) r->micro_batches = r->batch;
    describe_placement(r->stages, ns, r->description, sizeof r->description);
    /* list entries "auto" gave no layers (e.g. a slow "ref") */
    for (int d = 0; d < r->n_single; d++) {
        int used = 0;
        for (int i = 0; i < ns; i++) used |= r->stages[i].device == d;
        if (used) continue;
        char extra[96];
        snprintf(extra, sizeof extra, "; dev %.63s: no layers", sel[d]);
        size_t len = strlen(r->description), add = strlen(extra);
        if (len + add < sizeof r->description) memcpy(r->description + len, extra, add + 1);
    }
    swacl_bench_say(p->progress, p->user, "%s", r->description);

    /* inputs, outputs */
    k->ids = cfg.vocab_size > 0 ? malloc(ntok * sizeof *k->ids) : NULL;
    if (cfg.vocab_size <= 0) k->emb = malloc(ntok * (size_t)cfg.input_dim * sizeof *k->emb);
    k->out_p = malloc(nout * sizeof *k->out_p);
    k->out_1 = malloc(nout * sizeof *k->out_1);
    k->out_t = malloc(nout * sizeof *k->out_t);
    if ((!k->ids && !k->emb) || !k->out_p || !k->out_1 || !k->out_t) {
        st = swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "out of host memory");
        goto done;
    }
    if (k->ids) {
        swacl_bench_random_ids(k->ids, (int)ntok, cfg.vocab_size, 99);
    } else {
        swacl_rng rng = {99};
        for (size_t i = 0; i < ntok * (size_t)cfg.input_dim; i++)
            k->emb[i] = swacl_rng_uniform(&rng);
    }
    swacl_input in = {r->batch, r->seq, k->ids, k->emb};
    pipe_singles(p, &cfg, w, sel, k, r);
    double wall_p = 0.0;
    SWACL_TRY_GOTO(st, pipe_time(ctx, p, pl, &in, k, r, &wall_p), done);
    pipe_finish(p, pl, k, nout, (double)ntok, wall_p, r);
done:
    swacl_pipeline_destroy(pl);
    for (int d = 0; d < SWACL_BENCH_MAX_DEVICES; d++) {
        swacl_model_destroy(k->m[d]);
        swacl_ctx_destroy(k->ctx[d]);
    }
    swacl_weights_destroy(own);
    free(k->ids);
    free(k->emb);
    free(k->out_p);
    free(k->out_1);
    free(k->out_t);
    free(k);
    return st;
}
