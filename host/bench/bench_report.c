/*
 * bench_report.c - swacl_bench_report: every section of `swacl bench` for
 * each device of a list (start-up, peaks, kernels, end to end) and the
 * pipeline section, assembled as the one JSON report the CLI prints.
 */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench_internal.h"

#define JNUM(o, k, v) cJSON_AddNumberToObject(o, k, (double)(v))
#define JSTR(o, k, v) cJSON_AddStringToObject(o, k, v)
#define JBOOL(o, k, v) cJSON_AddBoolToObject(o, k, v)

/* progress of one section, tagged "[device]" (or "[pipeline]") */
typedef struct {
    const swacl_bench_report_params *p;
    const char *tag;
} rtag;

static void rsay(const char *line, void *user)
{
    const rtag *t = user;
    swacl_bench_say(t->p->progress, t->p->user, "[%s] %s", t->tag, line);
}

static cJSON *jitem(cJSON *arr, const char *kind)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddItemToArray(arr, e);
    if (kind) JSTR(e, "kind", kind);
    return e;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Cold/warm start and the peaks; *pr and *blas are what the kernel rates
 * are set against (0: unknown). Returns the failure count. */
static int peaks_section(swacl_ctx *ctx, const char *sel, rtag *t, int is_ref, int is_cpu,
                         double *blas_g, cJSON *jd, swacl_probe_result *pr, double *blas)
{
    int failures = 0, quick = t->p->quick;
    swacl_bench_params bp = {quick, rsay, t};
    /* cold / warm start first, before this process has compiled anything */
    cJSON *js = cJSON_AddObjectToObject(jd, "start");
    rsay("cold/warm start", t);
    swacl_bench_start_result sr;
    if (swacl_bench_start_model(ctx, sel, t->p->model_dir, &bp, &sr) == SWACL_OK) {
        JSTR(js, "model", t->p->model_dir ? t->p->model_dir : "cohere2");
        JNUM(js, "cold_s", sr.cold_s); JNUM(js, "warm_s", sr.warm_s);
        JNUM(js, "warm_load_s", sr.warm_load_s); JNUM(js, "warm_ctx_s", sr.warm_ctx_s);
        JNUM(js, "warm_model_s", sr.warm_model_s);
        JNUM(js, "warm_forward_s", sr.warm_forward_s);
        JNUM(js, "warm_teardown_s", sr.warm_teardown_s); JNUM(js, "warm_cpu_s", sr.warm_cpu_s);
        JNUM(js, "cold_compile_s", sr.cold_compile_s);
        JNUM(js, "warm_compile_s", sr.warm_compile_s);
        JNUM(js, "cold_cache_misses", sr.cold_cache_misses);
        JNUM(js, "warm_cache_hits", sr.warm_cache_hits);
    } else {
        JSTR(js, "error", swacl_ctx_errmsg(ctx));
        swacl_bench_say(rsay, t, "start failed: %s", swacl_ctx_errmsg(ctx));
    }
    cJSON *jp = cJSON_AddObjectToObject(jd, "peaks");
    memset(pr, 0, sizeof *pr);
    int probe_ok = 0;
    if (!is_ref) {
        rsay("peak probe (probe.cl)", t);
        swacl_probe_params pp = {quick ? 0.15 : 0.3, (size_t)(quick ? 64 : 256) << 20};
        probe_ok = swacl_device_probe(ctx, &pp, pr) == SWACL_OK;
        if (!probe_ok) {
            swacl_bench_say(rsay, t, "probe failed: %s", swacl_ctx_errmsg(ctx));
            JSTR(jp, "error", swacl_ctx_errmsg(ctx));
            failures++;
        }
    }
    if (is_cpu && *blas_g < 0) { /* once per run, shared by every CPU device */
        rsay("OpenBLAS sgemm n=1024", t);
        if (swacl_bench_host_sgemm(ctx, 1024, quick ? 0.3 : 0.6, blas_g) != SWACL_OK) *blas_g = 0;
    }
    *blas = is_cpu ? *blas_g : 0.0;
    if (probe_ok) {
        JNUM(jp, "fma_float4_gflops", pr->fma4_gflops);
        JNUM(jp, "fma_float8_gflops", pr->fma8_gflops); JNUM(jp, "fma_gflops", pr->fma_gflops);
        JNUM(jp, "copy_gbps", pr->copy_gbps); JNUM(jp, "copy_bytes", (double)pr->copy_bytes);
        JNUM(jp, "update_gbps", pr->update_gbps); JNUM(jp, "mem_gbps", pr->mem_gbps);
    }
    if (is_cpu) {
        JNUM(jp, "openblas_sgemm_gflops", *blas); JNUM(jp, "openblas_n", 1024);
    }
    return failures;
}

/* The op table: rate, fraction of the probed peak and of OpenBLAS sgemm. */
/* The peaks probed again after the kernels, each the better of the two runs:
 * on a shared machine one probe can land in a busy moment that the kernels
 * missed, and a peak read low puts kernels above 100%. */
static void peaks_again(swacl_ctx *ctx, rtag *t, swacl_probe_result *pr, cJSON *jd)
{
    if (pr->mem_gbps <= 0) return; /* no first probe (reference, or it failed) */
    swacl_probe_result p2;
    swacl_probe_params pp = {t->p->quick ? 0.15 : 0.3, (size_t)(t->p->quick ? 64 : 256) << 20};
    rsay("peak probe again", t);
    if (swacl_device_probe(ctx, &pp, &p2) != SWACL_OK) return;
    cJSON *jp = cJSON_GetObjectItem(jd, "peaks");
    struct { double *v, w; const char *key; } u[] = {
        {&pr->fma4_gflops, p2.fma4_gflops, "fma_float4_gflops"},
        {&pr->fma8_gflops, p2.fma8_gflops, "fma_float8_gflops"},
        {&pr->fma_gflops, p2.fma_gflops, "fma_gflops"},
        {&pr->copy_gbps, p2.copy_gbps, "copy_gbps"},
        {&pr->update_gbps, p2.update_gbps, "update_gbps"},
        {&pr->mem_gbps, p2.mem_gbps, "mem_gbps"}};
    for (size_t i = 0; i < sizeof u / sizeof u[0]; i++) {
        if (u[i].w > *u[i].v) *u[i].v = u[i].w;
        cJSON *e = cJSON_GetObjectItem(jp, u[i].key);
        if (e) cJSON_SetNumberValue(e, *u[i].v);
    }
}

static int kernels_section(swacl_ctx *ctx, rtag *t, swacl_probe_result *pr, double blas,
                           cJSON *jd)
{
    int failures = 0;
    swacl_bench_params bp = {t->p->quick, rsay, t};
    cJSON *jk = cJSON_AddArrayToObject(jd, "kernels");
    swacl_bench_op *ops = NULL;
    int nops = 0;
    if (swacl_bench_ops(ctx, &bp, &ops, &nops) != SWACL_OK) {
        swacl_bench_say(rsay, t, "kernels FAILED: %s", swacl_ctx_errmsg(ctx));
        failures++;
    }
    peaks_again(ctx, t, pr, jd);
    for (int i = 0; i < nops; i++) {
        const swacl_bench_op *op = &ops[i];
        cJSON *e = jitem(jk, NULL);
        JSTR(e, "name", op->name); JSTR(e, "op", op->op);
        if (!strcmp(op->op, "attention")) {
            JNUM(e, "L", op->L); JNUM(e, "W", op->W);
            JBOOL(e, "global", op->global); JNUM(e, "H", op->H);
            JNUM(e, "Hkv", op->Hkv); JNUM(e, "d", op->d); JNUM(e, "pairs", op->pairs);
        } else {
            JNUM(e, "M", op->M); JNUM(e, "N", op->N);
            if (!strcmp(op->op, "gemm")) JNUM(e, "K", op->K);
        }
        if (op->error[0]) {
            failures++;
            JSTR(e, "error", op->error);
            swacl_bench_say(rsay, t, "kernel %s FAILED: %s", op->name, op->error);
            continue;
        }
        JNUM(e, "seconds", op->seconds);
        int is_flops = op->flops > 0;
        double g = (is_flops ? op->flops : op->bytes) / op->seconds / 1e9;
        /* FLOP rows against the higher of the FMA probe and OpenBLAS sgemm
         * (on a CPU both are the same cores; a probe reading low must not
         * put a kernel above 100%); byte rows against the memory peak (the
         * better of copy and in-place update), and as a fraction of copy */
        double fpeak = pr->fma_gflops > blas ? pr->fma_gflops : blas;
        double peak = is_flops ? fpeak : pr->mem_gbps;
        JNUM(e, is_flops ? "flops" : "bytes", is_flops ? op->flops : op->bytes);
        JNUM(e, is_flops ? "gflops" : "gbps", g);
        if (peak > 0) JNUM(e, "frac_peak", g / peak);
        if (!is_flops && pr->copy_gbps > 0) JNUM(e, "frac_copy", g / pr->copy_gbps);
        if (is_flops && blas > 0) JNUM(e, "frac_openblas", g / blas);
        if (peak > 0 && g > peak)
            swacl_bench_say(rsay, t, "kernel %s: %.0f%% of the %s peak: the probe reads low",
                            op->name, 100.0 * g / peak, is_flops ? "FMA" : "memory");
    }
    swacl_bench_ops_free(ops);
    return failures;
}

static int e2e_section(swacl_ctx *ctx, rtag *t, const swacl_config *mcfg,
                       const swacl_weights *mw, cJSON *jd)
{
    const swacl_bench_report_params *p = t->p;
    cJSON *je = cJSON_AddArrayToObject(jd, "e2e");
    swacl_bench_e2e_params ep = {p->quick, p->max_seq, mcfg, mw, rsay, t};
    swacl_bench_e2e_result er;
    memset(&er, 0, sizeof er);
    int failures = 0;
    if (swacl_bench_e2e(ctx, &ep, &er) != SWACL_OK) {
        failures++;
        swacl_bench_say(rsay, t, "e2e FAILED: %s", swacl_ctx_errmsg(ctx));
        JSTR(jitem(je, "error"), "error", swacl_ctx_errmsg(ctx));
    }
    const int one = er.n_models == 1; /* --model: one checkpoint, no comparison */
    for (int i = 0; i < er.n_seq; i++) {
        int L = er.seq_len[i];
        for (int pi = 0; pi < er.n_models; pi++) {
            if (er.prefill_tps[pi][i] <= 0) continue;
            cJSON *e = jitem(je, "prefill");
            JSTR(e, "preset", er.model[pi]);
            if (one) JSTR(e, "model", p->model_dir);
            JNUM(e, "seq", L); JNUM(e, "seconds", L / er.prefill_tps[pi][i]);
            JNUM(e, "tokens_per_s", er.prefill_tps[pi][i]);
            JNUM(e, "kv_bytes", (double)er.kv_bytes[pi][i]);
        }
        if (one) continue;
        double sp = er.prefill_tps[1][i] > 0 ? er.prefill_tps[0][i] / er.prefill_tps[1][i] : 0;
        double kr = er.kv_bytes[1][i] ? (double)er.kv_bytes[0][i] / (double)er.kv_bytes[1][i] : 0;
        if (sp > 0) {
            cJSON *e = jitem(je, "compare");
            JNUM(e, "seq", L); JNUM(e, "speedup", sp); JNUM(e, "kv_ratio", kr);
        }
    }
    for (int i = 0; i < er.n_ctx; i++)
        for (int pi = 0; pi < er.n_models; pi++) {
            if (er.decode_tps[pi][i] <= 0) continue;
            cJSON *e = jitem(je, "decode");
            JSTR(e, "preset", er.model[pi]);
            if (one) JSTR(e, "model", p->model_dir);
            JNUM(e, "ctx", er.ctx_len[i]); JNUM(e, "steps", er.decode_steps);
            JNUM(e, "tokens_per_s", er.decode_tps[pi][i]);
        }
    return failures;
}

static int bench_device(swacl_ctx *ectx, const char *sel, const swacl_bench_report_params *p,
                        const swacl_config *mcfg, const swacl_weights *mw, double *blas_g,
                        cJSON *jdevs)
{
    swacl_ctx_params cp = swacl_ctx_params_default();
    cp.device = sel;
    swacl_ctx *ctx = NULL;
    swacl_status st = swacl_ctx_create(&cp, &ctx);
    if (st != SWACL_OK) {
        rtag t = {p, sel};
        swacl_bench_say(rsay, &t, "device '%s': %s: %s", sel, swacl_status_string(st),
                        ctx ? swacl_ctx_errmsg(ctx) : swacl_ctx_errmsg(ectx));
        swacl_ctx_destroy(ctx);
        return 1;
    }
    swacl_device_info info;
    swacl_bench_device_info(ctx, &info);
    int is_ref = swacl_ctx_is_reference(ctx), is_cpu = is_ref || !strcmp(info.type, "cpu");
    char dev[256];
    snprintf(dev, sizeof dev, "%s", swacl_ctx_device_name(ctx));
    rtag t = {p, dev};
    cJSON *jd = jitem(jdevs, NULL);
    JSTR(jd, "name", dev); JSTR(jd, "selector", sel); JSTR(jd, "type", info.type);
    if (!is_ref) {
        JSTR(jd, "platform", info.platform_name); JSTR(jd, "driver", info.driver_version);
        JNUM(jd, "compute_units", info.compute_units);
    }
    int failures = 0;
    if (!p->e2e_only) { /* e2e_only skips cold/warm start, peaks and kernels */
        swacl_probe_result pr;
        double blas = 0.0;
        failures += peaks_section(ctx, sel, &t, is_ref, is_cpu, blas_g, jd, &pr, &blas);
        failures += kernels_section(ctx, &t, &pr, blas, jd);
    }
    failures += e2e_section(ctx, &t, mcfg, mw, jd);
    swacl_ctx_destroy(ctx);
    return failures;
}

/* Pipeline over the device list vs each device alone. SWACL_OK, or the
 * status of a pipeline that could not be built or run (message on ectx). */
static swacl_status pipeline_section(swacl_ctx *ectx, const swacl_bench_report_params *p,
                                     const swacl_bench_pipeline_params *pp, cJSON *root,
                                     int *failures)
{
    cJSON *jp = cJSON_AddObjectToObject(root, "pipeline");
    JSTR(jp, "devices", pp->devices); JSTR(jp, "placement", pp->placement);
    swacl_bench_pipeline_result *r = calloc(1, sizeof *r);
    if (!r) return swacl_set_error(ectx, SWACL_OUT_OF_MEMORY, "bench: out of host memory");
    swacl_status st = swacl_bench_pipeline(ectx, pp, r);
    if (r->n_layers > 0) {
        JSTR(jp, "model", p->model_dir ? p->model_dir : "cohere2");
        JNUM(jp, "layers", r->n_layers); JNUM(jp, "batch", r->batch);
        JNUM(jp, "seq", r->seq); JNUM(jp, "iters", r->iters);
    }
    *failures += r->failures;
    if (st != SWACL_OK) {
        JSTR(jp, "error", swacl_ctx_errmsg(ectx));
        if (!r->created) ++*failures;
        else st = SWACL_OK; /* built, then failed: a failure in the report only */
        free(r);
        return st;
    }
    JSTR(jp, "description", r->description);
    cJSON *js = cJSON_AddArrayToObject(jp, "stages");
    for (int i = 0; i < r->n_stages; i++) {
        const swacl_pipeline_stage *s = &r->stages[i];
        cJSON *e = jitem(js, NULL);
        JNUM(e, "device", s->device); JSTR(e, "selector", s->selector);
        JSTR(e, "device_name", s->device_name); JNUM(e, "layer_begin", s->layer_begin);
        JNUM(e, "layer_end", s->layer_end); JNUM(e, "weight_bytes", (double)s->weight_bytes);
        JNUM(e, "busy_s", s->busy_s); JNUM(e, "busy_fraction", r->busy_fraction[i]);
        JSTR(e, "transfer_in", s->transfer_in); JNUM(e, "rank", s->rank);
        JNUM(e, "busy_per_forward_s", r->stage_busy_s[i]);
        JNUM(e, "transfer_per_forward_s", r->stage_transfer_s[i]);
    }
    /* per process (MPI rank), per timed forward; transfer_share: the part
     * of its time in links (waits for the neighbours included) */
    cJSON *jr = cJSON_AddArrayToObject(jp, "ranks");
    for (int i = 0; i < r->n_stages;) {
        int e = i;
        double busy = 0, xfer = 0;
        for (; e < r->n_stages && r->stages[e].rank == r->stages[i].rank; e++)
            busy += r->stage_busy_s[e], xfer += r->stage_transfer_s[e];
        cJSON *o = jitem(jr, NULL);
        JNUM(o, "rank", r->stages[i].rank); JNUM(o, "layer_begin", r->stages[i].layer_begin);
        JNUM(o, "layer_end", r->stages[e - 1].layer_end); JNUM(o, "busy_s", busy);
        JNUM(o, "transfer_s", xfer); JNUM(o, "transfer_share", busy + xfer > 0 ? xfer / (busy + xfer) : 0);
        i = e;
    }
    JNUM(jp, "micro_batches", r->micro_batches);
    JBOOL(jp, "micro_batches_auto", p->micro_batches <= 0);
    JNUM(jp, "seconds", r->seconds); JNUM(jp, "tokens_per_s", r->tokens_per_s);
    cJSON *j1 = cJSON_AddArrayToObject(jp, "single");
    for (int d = 0; d < r->n_single; d++) {
        cJSON *e = jitem(j1, NULL);
        JSTR(e, "selector", r->single[d].selector);
        JSTR(e, "device_name", r->single[d].device_name);
        JNUM(e, "tokens_per_s", r->single[d].tokens_per_s);
        if (r->single[d].tokens_per_s <= 0) JSTR(e, "error", "failed");
    }
    JNUM(jp, "speedup_vs_best_single", r->speedup);
    if (r->nmse >= 0.0) JNUM(jp, "nmse", r->nmse);
    else cJSON_AddNullToObject(jp, "nmse");
    JBOOL(jp, "ok", r->ok);
    free(r);
    return SWACL_OK;
}

/* Everything that can be refused before a device section runs. */
static swacl_status report_setup(swacl_ctx *ctx, const swacl_bench_report_params *p,
                                 swacl_config *mcfg, swacl_weights **mw,
                                 const swacl_bench_pipeline_params *pp)
{
    swacl_status st;
    if (p->model_dir) { /* loaded once, before any device, shared read-only */
        if ((st = swacl_load_hf(ctx, p->model_dir, mcfg, mw)) != SWACL_OK)
            return swacl_set_error(ctx, st == SWACL_INVALID_ARG ? SWACL_IO : st,
                                   "cannot load --model %s: %s", p->model_dir,
                                   swacl_ctx_errmsg(ctx));
        if ((st = swacl_config_validate(ctx, mcfg)) != SWACL_OK)
            return swacl_set_error(ctx, SWACL_FORMAT, "--model %s: invalid configuration: %s",
                                   p->model_dir, swacl_ctx_errmsg(ctx));
        if (p->placement && mcfg->n_layers < 2)
            return swacl_set_error(ctx, SWACL_INVALID_ARG,
                                   "--placement: --model %s has %d layer(s); the pipeline "
                                   "needs at least 2", p->model_dir, mcfg->n_layers);
    }
    /* a bad SPEC, device or fit fails now, not after the per-device sections */
    if (p->placement && !p->pipeline_only &&
        (!p->pipeline_create || p->pipeline_create == swacl_pipeline_create) &&
        (st = swacl_bench_pipeline_check(ctx, pp)))
        return st;
    return SWACL_OK;
}

swacl_status swacl_bench_report(swacl_ctx *ctx, const swacl_bench_report_params *p, char **json,
                                int *failures)
{
    if (!ctx || !p || !json || !failures) return SWACL_INVALID_ARG;
    *json = NULL;
    *failures = 0;
    if (p->pipeline_only && !p->placement)
        return swacl_set_error(ctx, SWACL_INVALID_ARG, "pipeline_only needs a placement");
    const char *devices = p->devices ? p->devices : "all";
    char(*sel)[64] = calloc(SWACL_BENCH_MAX_DEVICES, sizeof *sel);
    if (!sel) return swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "bench: out of host memory");
    int nsel = 0;
    swacl_status st = swacl_bench_devices(ctx, devices, sel, SWACL_BENCH_MAX_DEVICES, &nsel);
    if (st != SWACL_OK && nsel > 0) { /* could not list: go on with "ref" */
        rtag t = {p, "devices"};
        rsay(swacl_ctx_errmsg(ctx), &t);
    }
    swacl_config mcfg;
    swacl_weights *mw = NULL;
    rtag ptag = {p, "pipeline"};
    swacl_bench_pipeline_params pp = {p->quick, devices, p->placement, NULL, NULL, p->model_dir,
                                      p->batch, p->max_seq, p->micro_batches, rsay, &ptag,
                                      p->pipeline_create};
    if (nsel == 0) goto done; /* st: the list's error */
    if ((st = report_setup(ctx, p, &mcfg, &mw, &pp)) != SWACL_OK) goto done;
    if (p->model_dir) pp.model_cfg = &mcfg, pp.model_weights = mw;
    cJSON *root = cJSON_CreateObject();
    cJSON *jdevs = cJSON_AddArrayToObject(root, "devices");
    JBOOL(root, "quick", p->quick);
    if (p->model_dir) JSTR(root, "model", p->model_dir);
    if (p->e2e_only) JBOOL(root, "e2e_only", 1);
    if (p->pipeline_only) JBOOL(root, "pipeline_only", 1);
    double blas_g = -1.0, t0 = now_s();
    if (!p->pipeline_only)
        for (int i = 0; i < nsel; i++)
            *failures += bench_device(ctx, sel[i], p, pp.model_cfg, mw, &blas_g, jdevs);
    if (p->placement) st = pipeline_section(ctx, p, &pp, root, failures);
    JNUM(root, "total_s", now_s() - t0);
    *json = cJSON_Print(root);
    cJSON_Delete(root);
    if (!*json) st = swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "bench: out of host memory");
done:
    swacl_weights_destroy(mw);
    free(sel);
    return st;
}

/* Append to a growing string; 0 on out of memory. */
static int sappend(char **s, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int sappend(char **s, size_t *len, size_t *cap, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(*s + *len, *cap - *len, fmt, ap);
        va_end(ap);
        if (n < 0) return 0;
        if ((size_t)n < *cap - *len) return *len += (size_t)n, 1;
        char *g = realloc(*s, *cap * 2 + (size_t)n);
        if (!g) return 0;
        *s = g;
        *cap = *cap * 2 + (size_t)n;
    }
}

swacl_status swacl_bench_plot_script(swacl_ctx *ctx, const char *json, const char *png,
                                     char **script)
{
    static const char *const series[3] = {"cohere2", "baseline", "model"};
    if (!json || !png || !script) return swacl_set_error(ctx, SWACL_INVALID_ARG, "plot: NULL");
    *script = NULL;
    cJSON *root = cJSON_Parse(json);
    size_t len = 0, cap = 4096, dlen = 0, dcap = 4096;
    char *s = malloc(cap), *data = malloc(dcap);
    int ok = root && s && data, nd = 0;
    if (ok) s[0] = data[0] = '\0';
    ok = ok && sappend(&s, &len, &cap, "set terminal pngcairo size 1000,650 noenhanced\n"
                                       "set output '");
    for (const char *c = png; ok && *c; c++) /* gnuplot quotes ' as '' */
        ok = sappend(&s, &len, &cap, *c == '\'' ? "''" : "%c", *c);
    ok = ok && sappend(&s, &len, &cap, "'\nset logscale x 2\nset logscale y\nset grid\n"
                       "set key below\nset xlabel 'sequence length (tokens)'\n"
                       "set ylabel 'prefill tokens/s'\nset title 'swacl bench: prefill throughput'\n");
    cJSON *d, *e;
    cJSON_ArrayForEach(d, cJSON_GetObjectItem(root, "devices")) for (int pi = 0; ok && pi < 3; pi++)
    {
        size_t mark = dlen;
        cJSON_ArrayForEach(e, cJSON_GetObjectItem(d, "e2e"))
        {
            const char *k = cJSON_GetStringValue(cJSON_GetObjectItem(e, "kind"));
            const char *p = cJSON_GetStringValue(cJSON_GetObjectItem(e, "preset"));
            if (ok && k && p && !strcmp(k, "prefill") && !strcmp(p, series[pi]))
                ok = sappend(&data, &dlen, &dcap, "%d %g\n",
                             (int)cJSON_GetNumberValue(cJSON_GetObjectItem(e, "seq")),
                             cJSON_GetNumberValue(cJSON_GetObjectItem(e, "tokens_per_s")));
        }
        if (dlen == mark) continue;
        ok = ok && sappend(&data, &dlen, &dcap, "e\n");
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(d, "name"));
        char t[160];
        snprintf(t, sizeof t, "%.100s %s", name ? name : "?", series[pi]);
        for (char *c = t; *c; c++)
            if (*c == '\'' || *c == '"') *c = ' ';
        ok = ok && sappend(&s, &len, &cap, "%s '-' using 1:2 with linespoints lw 2 %s title '%s'",
                           nd++ ? ", \\\n    " : "plot ", pi ? "dt 2" : "dt 1", t);
    }
    ok = ok && sappend(&s, &len, &cap, "\n%s", data);
    swacl_status st = SWACL_OK;
    if (!root) st = swacl_set_error(ctx, SWACL_FORMAT, "plot: the report is not JSON");
    else if (!ok) st = swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "plot: out of host memory");
    else if (nd == 0) st = swacl_set_error(ctx, SWACL_INVALID_ARG, "no prefill results to plot");
    cJSON_Delete(root);
    free(data);
    if (st == SWACL_OK) *script = s;
    else free(s);
    return st;
}
