/*
 * cmd_bench.c - `swacl bench`: options, then per device the library's
 * benchmarks (include/swacl.h, "Benchmarks and device probes": start-up,
 * peaks, ops, end to end) and, with --placement, the pipeline section;
 * this file only formats their results as tables, JSON and a plot.
 */
#define _XOPEN_SOURCE 700

#include <cjson/cJSON.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd_bench.h"
#include "swacl.h"

/* JSON members; a record's members share lines */
#define JNUM(o, k, v) cJSON_AddNumberToObject(o, k, (double)(v))
#define JSTR(o, k, v) cJSON_AddStringToObject(o, k, v)
#define JBOOL(o, k, v) cJSON_AddBoolToObject(o, k, v)

typedef struct {
    int quick, e2e_only, pipeline_only, max_seq, batch, micro_batches;
    const char *devices, *json_path, *plot_path, *model_dir, *placement;
    const swacl_config *mcfg;  /* --model, loaded once for every device     */
    const swacl_weights *mw;
} bench_opts;

static const char k_help[] =
    "usage: swacl bench [--devices all|LIST] [--json FILE] [--plot FILE.png] [--quick]\n"
    "                   [--max-seq N] [--model DIR] [--e2e-only]\n"
    "                   [--placement auto|SPEC [--pipeline-only] [--batch N] [--micro-batches N]]\n"
    "\n"
    "Per device: clpeak-style FMA GFLOP/s and copy GB/s (plus OpenBLAS sgemm on CPUs),\n"
    "banded/causal attention, RoPE, RMSNorm, SwiGLU and the cohere2 GEMMs with the\n"
    "fraction of peak, prefill tokens/s for cohere2 vs baseline with the KV-memory\n"
    "ratio, decode tokens/s through a KV-cache session, and cold vs warm start.\n"
    "With --placement, then: batch prefill tokens/s of the layer pipeline over the\n"
    "--devices list vs each listed device alone, in the same run.\n"
    "\n"
    "  --devices all|LIST  'all' = every OpenCL device (default; the CPU reference\n"
    "                      only when there is none);\n"
    "                      LIST = comma-separated selectors (index, name substring,\n"
    "                      'gpu', 'cpu', 'ref')\n"
    "  --json FILE         write every figure as one JSON object\n"
    "  --plot FILE.png     prefill tokens/s vs sequence length (needs gnuplot)\n"
    "  --quick             small sizes: the whole run takes under a minute\n"
    "  --max-seq N         cap prefill/decode lengths (default 16384 on CPUs, 32768 else)\n"
    "  --model DIR         end to end on a Hugging Face checkpoint (config.json +\n"
    "                      model.safetensors) instead of cohere2 vs baseline\n"
    "  --e2e-only          skip cold/warm start, peaks and kernels\n"
    "  --placement auto|SPEC\n"
    "                      add the pipeline section: the model's layers split over\n"
    "                      the --devices list ('auto': calibrated and balanced; SPEC:\n"
    "                      layer ranges per list position, e.g. 0-3:0,4-7:1), cohere2\n"
    "                      (or --model) at batch N x seq 512 (128 with --quick, capped\n"
    "                      by --max-seq), vs each device alone; output checked\n"
    "                      (nmse <= 1e-6 vs the first device alone)\n"
    "  --pipeline-only     only the pipeline section (needs --placement)\n"
    "  --batch N           pipeline batch (default 8)\n"
    "  --micro-batches N   micro-batches per pipeline forward (default: one per stage)\n";

/* The options: a flag, a string, or an integer in [lo, hi]. */
enum { O_FLAG, O_STR, O_INT };
static const struct bench_opt {
    const char *name;
    int kind;
    size_t off;
    long lo, hi;
} k_opts[] = {
#define OPT(name, kind, field, lo, hi) {name, kind, offsetof(bench_opts, field), lo, hi}
    OPT("--quick", O_FLAG, quick, 0, 0),       OPT("--e2e-only", O_FLAG, e2e_only, 0, 0),
    OPT("--pipeline-only", O_FLAG, pipeline_only, 0, 0),
    OPT("--devices", O_STR, devices, 0, 0),    OPT("--json", O_STR, json_path, 0, 0),
    OPT("--plot", O_STR, plot_path, 0, 0),     OPT("--model", O_STR, model_dir, 0, 0),
    OPT("--placement", O_STR, placement, 0, 0),
    OPT("--batch", O_INT, batch, 1, 4096),
    OPT("--micro-batches", O_INT, micro_batches, 1, 4096),
    OPT("--max-seq", O_INT, max_seq, 16, 1L << 22),
#undef OPT
};

/* 0: parsed; -1: help printed; 2: usage error (message printed). */
static int parse_opts(int argc, char **argv, bench_opts *o)
{
    memset(o, 0, sizeof *o);
    o->devices = "all";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) return fputs(k_help, stdout), -1;
        const struct bench_opt *d = NULL;
        for (size_t k = 0; k < sizeof k_opts / sizeof k_opts[0]; k++)
            if (!strcmp(a, k_opts[k].name)) d = &k_opts[k];
        if (!d || (d->kind != O_FLAG && i + 1 >= argc)) {
            fprintf(stderr, "swacl bench: unknown or incomplete option '%s'\n%s", a, k_help);
            return 2;
        }
        char *field = (char *)o + d->off;
        if (d->kind == O_FLAG) {
            *(int *)field = 1;
        } else if (d->kind == O_STR) {
            *(const char **)field = argv[++i];
        } else {
            char *end = NULL;
            long v = strtol(argv[++i], &end, 10);
            if (!end || *end || v < d->lo || v > d->hi) {
                fprintf(stderr, "swacl bench: %s wants an integer in [%ld, %ld]\n", a, d->lo,
                        d->hi);
                return 2;
            }
            *(int *)field = (int)v;
        }
    }
    if (!o->placement && (o->pipeline_only || o->batch || o->micro_batches)) {
        fprintf(stderr, "swacl bench: --pipeline-only, --batch and --micro-batches need "
                        "--placement auto|SPEC\n");
        return 2;
    }
    if (o->placement && !*o->placement) {
        fprintf(stderr, "swacl bench: --placement wants 'auto' or a SPEC such as 0-3:0,4-7:1\n");
        return 2;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Output helpers                                                            */

/* progress lines of the library, tagged with the device (or "pipeline") */
static void say(const char *line, void *tag)
{
    fprintf(stderr, "bench [%s]: %s\n", (const char *)tag, line);
}

static void print_rule(void)
{
    puts("------------------------------------------------------------------------------");
}

static const char *human_bytes(double b, char *buf, size_t len)
{
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int i = 0;
    for (; b >= 1024.0 && i < 4; i++) b /= 1024.0;
    snprintf(buf, len, "%.1f %s", b, u[i]);
    return buf;
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

/* ------------------------------------------------------------------------ */
/* One device: start-up, peaks, kernels (unless --e2e-only), end to end       */

/* Cold/warm start and the peaks; *pr and *blas are what the kernel rates
 * are set against (0: unknown). Returns the failure count. */
static int peaks_section(swacl_ctx *ctx, const char *sel, char *dev, const bench_opts *o,
                         int is_ref, int is_cpu, double *blas_g, cJSON *jd, swacl_probe_result *pr,
                         double *blas)
{
    int failures = 0;
    swacl_bench_params bp = {o->quick, say, dev};
    /* cold / warm start first, before this process has compiled anything */
    cJSON *js = cJSON_AddObjectToObject(jd, "start");
    say("cold/warm start", dev);
    swacl_bench_start_result sr;
    int start_ok = swacl_bench_start(ctx, sel, &bp, &sr) == SWACL_OK;
    if (start_ok) {
        JNUM(js, "cold_s", sr.cold_s); JNUM(js, "warm_s", sr.warm_s);
        JNUM(js, "cold_compile_s", sr.cold_compile_s);
        JNUM(js, "warm_compile_s", sr.warm_compile_s);
        JNUM(js, "cold_cache_misses", sr.cold_cache_misses);
        JNUM(js, "warm_cache_hits", sr.warm_cache_hits);
    } else {
        JSTR(js, "error", swacl_ctx_errmsg(ctx));
        fprintf(stderr, "bench [%s]: start failed: %s\n", dev, swacl_ctx_errmsg(ctx));
    }
    cJSON *jp = cJSON_AddObjectToObject(jd, "peaks");
    memset(pr, 0, sizeof *pr);
    int probe_ok = 0;
    if (!is_ref) {
        say("peak probe (probe.cl)", dev);
        swacl_probe_params pp = {o->quick ? 0.15 : 0.3, (size_t)(o->quick ? 64 : 256) << 20};
        probe_ok = swacl_device_probe(ctx, &pp, pr) == SWACL_OK;
        if (!probe_ok) {
            fprintf(stderr, "bench [%s]: probe failed: %s\n", dev, swacl_ctx_errmsg(ctx));
            JSTR(jp, "error", swacl_ctx_errmsg(ctx));
            failures++;
        }
    }
    if (is_cpu && *blas_g < 0) { /* once per run, shared by every CPU device */
        say("OpenBLAS sgemm n=1024", dev);
        if (swacl_bench_host_sgemm(ctx, 1024, o->quick ? 0.3 : 0.6, blas_g) != SWACL_OK)
            *blas_g = 0;
    }
    *blas = is_cpu ? *blas_g : 0.0;
    char hb[32];
    if (probe_ok) {
        JNUM(jp, "fma_float4_gflops", pr->fma4_gflops);
        JNUM(jp, "fma_float8_gflops", pr->fma8_gflops); JNUM(jp, "fma_gflops", pr->fma_gflops);
        JNUM(jp, "copy_gbps", pr->copy_gbps); JNUM(jp, "copy_bytes", (double)pr->copy_bytes);
        printf("peaks: FMA float4 %.1f GFLOP/s, float8 %.1f GFLOP/s; copy %.1f GB/s (%s)\n",
               pr->fma4_gflops, pr->fma8_gflops, pr->copy_gbps,
               human_bytes((double)pr->copy_bytes, hb, sizeof hb));
    }
    if (is_cpu) {
        JNUM(jp, "openblas_sgemm_gflops", *blas); JNUM(jp, "openblas_n", 1024);
        printf("       OpenBLAS sgemm n=1024 %.1f GFLOP/s (CPU practical peak)\n", *blas);
    }
    if (start_ok)
        printf("start: cold %.2f s (compile %.2f s), warm %.2f s (compile %.2f s)\n", sr.cold_s,
               sr.cold_compile_s, sr.warm_s, sr.warm_compile_s);
    return failures;
}

/* The op table: rate, fraction of the probed peak and of OpenBLAS sgemm. */
static int kernels_section(swacl_ctx *ctx, char *dev, const bench_opts *o,
                           const swacl_probe_result *pr, double blas, cJSON *jd)
{
    int failures = 0;
    swacl_bench_params bp = {o->quick, say, dev};
    cJSON *jk = cJSON_AddArrayToObject(jd, "kernels");
    print_rule();
    printf("%-28s %11s %16s %8s %8s\n", "kernel", "ms", "rate", "%peak", "%sgemm");
    swacl_bench_op *ops = NULL;
    int nops = 0;
    if (swacl_bench_ops(ctx, &bp, &ops, &nops) != SWACL_OK) {
        fprintf(stderr, "bench [%s]: kernels FAILED: %s\n", dev, swacl_ctx_errmsg(ctx));
        failures++;
    }
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
            fprintf(stderr, "bench [%s]: kernel %s FAILED: %s\n", dev, op->name, op->error);
            printf("%-28s %11s\n", op->name, "FAILED");
            continue;
        }
        JNUM(e, "seconds", op->seconds);
        char rate[32], fp[16] = "-", fb[16] = "-";
        int is_flops = op->flops > 0;
        double g = (is_flops ? op->flops : op->bytes) / op->seconds / 1e9;
        double peak = is_flops ? pr->fma_gflops : pr->copy_gbps;
        JNUM(e, is_flops ? "flops" : "bytes", is_flops ? op->flops : op->bytes);
        JNUM(e, is_flops ? "gflops" : "gbps", g);
        snprintf(rate, sizeof rate, is_flops ? "%.2f GFLOP/s" : "%.2f GB/s", g);
        if (peak > 0) {
            JNUM(e, "frac_peak", g / peak);
            snprintf(fp, sizeof fp, "%.1f%%", 100.0 * g / peak);
        }
        if (is_flops && blas > 0) {
            JNUM(e, "frac_openblas", g / blas);
            snprintf(fb, sizeof fb, "%.1f%%", 100.0 * g / blas);
        }
        printf("%-28s %11.3f %16s %8s %8s\n", op->name, op->seconds * 1e3, rate, fp, fb);
    }
    swacl_bench_ops_free(ops);
    fflush(stdout);
    return failures;
}

static int e2e_section(swacl_ctx *ctx, char *dev, const bench_opts *o, cJSON *jd)
{
    cJSON *je = cJSON_AddArrayToObject(jd, "e2e");
    swacl_bench_e2e_params ep = {o->quick, o->max_seq, o->mcfg, o->mw, say, dev};
    swacl_bench_e2e_result er;
    memset(&er, 0, sizeof er);
    int failures = 0;
    if (swacl_bench_e2e(ctx, &ep, &er) != SWACL_OK) {
        failures++;
        fprintf(stderr, "bench [%s]: e2e FAILED: %s\n", dev, swacl_ctx_errmsg(ctx));
        JSTR(jitem(je, "error"), "error", swacl_ctx_errmsg(ctx));
    }
    if (!o->e2e_only) print_rule();
    const int one = er.n_models == 1; /* --model: one checkpoint, no comparison */
    if (one)
        printf("model: %s\n%-8s %7s %14s %11s\n", o->model_dir, "prefill", "seq", "tok/s", "kv");
    else
        printf("%-8s %7s %14s %14s %8s %11s %11s %8s\n", "prefill", "seq", "cohere2 tok/s",
               "baseline tok/s", "speedup", "kv cohere2", "kv baseline", "kv ratio");
    char k0[32], k1[32];
    for (int i = 0; i < er.n_seq; i++) {
        int L = er.seq_len[i];
        for (int pi = 0; pi < er.n_models; pi++) {
            if (er.prefill_tps[pi][i] <= 0) continue;
            cJSON *e = jitem(je, "prefill");
            JSTR(e, "preset", er.model[pi]);
            if (one) JSTR(e, "model", o->model_dir);
            JNUM(e, "seq", L); JNUM(e, "seconds", L / er.prefill_tps[pi][i]);
            JNUM(e, "tokens_per_s", er.prefill_tps[pi][i]);
            JNUM(e, "kv_bytes", (double)er.kv_bytes[pi][i]);
        }
        human_bytes((double)er.kv_bytes[0][i], k0, sizeof k0);
        if (one) {
            printf("%-8s %7d %14.0f %11s\n", "", L, er.prefill_tps[0][i], k0);
            continue;
        }
        double sp = er.prefill_tps[1][i] > 0 ? er.prefill_tps[0][i] / er.prefill_tps[1][i] : 0;
        double kr = er.kv_bytes[1][i] ? (double)er.kv_bytes[0][i] / (double)er.kv_bytes[1][i] : 0;
        if (sp > 0) {
            cJSON *e = jitem(je, "compare");
            JNUM(e, "seq", L); JNUM(e, "speedup", sp); JNUM(e, "kv_ratio", kr);
        }
        printf("%-8s %7d %14.0f %14.0f %7.2fx %11s %11s %8.3f\n", "", L, er.prefill_tps[0][i],
               er.prefill_tps[1][i], sp, k0, human_bytes((double)er.kv_bytes[1][i], k1, sizeof k1),
               kr);
    }
    if (one)
        printf("%-8s %7s %14s\n", "decode", "ctx", "tok/s");
    else
        printf("%-8s %7s %14s %14s %8s\n", "decode", "ctx", "cohere2 tok/s", "baseline tok/s",
               "speedup");
    for (int i = 0; i < er.n_ctx; i++) {
        for (int pi = 0; pi < er.n_models; pi++) {
            if (er.decode_tps[pi][i] <= 0) continue;
            cJSON *e = jitem(je, "decode");
            JSTR(e, "preset", er.model[pi]);
            if (one) JSTR(e, "model", o->model_dir);
            JNUM(e, "ctx", er.ctx_len[i]); JNUM(e, "steps", er.decode_steps);
            JNUM(e, "tokens_per_s", er.decode_tps[pi][i]);
        }
        if (one) {
            printf("%-8s %7d %14.1f\n", "", er.ctx_len[i], er.decode_tps[0][i]);
            continue;
        }
        double sp = er.decode_tps[1][i] > 0 ? er.decode_tps[0][i] / er.decode_tps[1][i] : 0;
        printf("%-8s %7d %14.1f %14.1f %7.2fx\n", "", er.ctx_len[i], er.decode_tps[0][i],
               er.decode_tps[1][i], sp);
    }
    fflush(stdout);
    return failures;
}

static int bench_device(const char *sel, const bench_opts *o, double *blas_g, cJSON *jdevs)
{
    swacl_ctx_params cp = swacl_ctx_params_default();
    cp.device = sel;
    swacl_ctx *ctx = NULL;
    swacl_status st = swacl_ctx_create(&cp, &ctx);
    if (st != SWACL_OK) {
        fprintf(stderr, "bench: device '%s': %s: %s\n", sel, swacl_status_string(st),
                ctx ? swacl_ctx_errmsg(ctx) : "");
        swacl_ctx_destroy(ctx);
        return 1;
    }
    swacl_device_info info;
    swacl_bench_device_info(ctx, &info);
    int is_ref = swacl_ctx_is_reference(ctx), is_cpu = is_ref || !strcmp(info.type, "cpu");
    char dev[256];
    snprintf(dev, sizeof dev, "%s", swacl_ctx_device_name(ctx));
    cJSON *jd = jitem(jdevs, NULL);
    JSTR(jd, "name", dev); JSTR(jd, "selector", sel); JSTR(jd, "type", info.type);
    if (!is_ref) {
        JSTR(jd, "platform", info.platform_name); JSTR(jd, "driver", info.driver_version);
        JNUM(jd, "compute_units", info.compute_units);
    }
    printf("\n== %s (%s%s%s)\n", dev, is_ref ? "CPU reference" : info.type,
           is_ref ? "" : ", driver ", is_ref ? "" : info.driver_version);
    print_rule();
    int failures = 0;
    if (!o->e2e_only) { /* --e2e-only skips cold/warm start, peaks and kernels */
        swacl_probe_result pr;
        double blas = 0.0;
        failures += peaks_section(ctx, sel, dev, o, is_ref, is_cpu, blas_g, jd, &pr, &blas);
        failures += kernels_section(ctx, dev, o, &pr, blas, jd);
    }
    failures += e2e_section(ctx, dev, o, jd);
    swacl_ctx_destroy(ctx);
    return failures;
}

/* ------------------------------------------------------------------------ */
/* Pipeline over the --devices list vs each device alone                     */

/* Exit status of a pipeline that cannot be built: a bad SPEC is a usage
 * error (2); no such device / does not fit, 1. */
static int pipe_rc(swacl_status st) { return st == SWACL_INVALID_ARG ? 2 : 1; }

static int pipeline_section(swacl_ctx *ectx, const bench_opts *o, swacl_bench_pipeline_params *pp,
                            cJSON *root, int *rc_create)
{
    cJSON *jp = cJSON_AddObjectToObject(root, "pipeline");
    JSTR(jp, "devices", o->devices); JSTR(jp, "placement", o->placement);
    swacl_bench_pipeline_result *r = calloc(1, sizeof *r);
    if (!r) return fprintf(stderr, "swacl bench: out of host memory\n"), 1;
    swacl_status st = swacl_bench_pipeline(ectx, pp, r);
    const char *model = o->model_dir ? o->model_dir : "cohere2";
    if (r->n_layers > 0) {
        JSTR(jp, "model", model); JNUM(jp, "layers", r->n_layers); JNUM(jp, "batch", r->batch);
        JNUM(jp, "seq", r->seq); JNUM(jp, "iters", r->iters);
    }
    int failures = r->failures;
    if (st != SWACL_OK) {
        JSTR(jp, "error", swacl_ctx_errmsg(ectx));
        if (!r->created) {
            fprintf(stderr, "swacl bench: %s\n", swacl_ctx_errmsg(ectx));
            *rc_create = pipe_rc(st);
            failures++;
        }
        free(r);
        return failures;
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
        JSTR(e, "transfer_in", s->transfer_in);
    }
    JNUM(jp, "micro_batches", r->micro_batches);
    JBOOL(jp, "micro_batches_auto", o->micro_batches <= 0);
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

    printf("\n== pipeline over devices %s (placement %s)\n", o->devices, o->placement);
    print_rule();
    printf("model: %s, %d layers; batch %d x seq %d, %d micro-batch%s; best of %d\n", model,
           r->n_layers, r->batch, r->seq, r->micro_batches, r->micro_batches == 1 ? "" : "es",
           r->iters);
    printf("placement: %s\n%-34s %14s %9s\n", r->description, "prefill", "tok/s", "vs best");
    double best = 0.0; /* the best single device */
    for (int d = 0; d < r->n_single; d++)
        if (r->single[d].tokens_per_s > best) best = r->single[d].tokens_per_s;
    char lab[64], rg[32], dv[64], hb[32];
    snprintf(lab, sizeof lab, "pipeline %.24s", o->devices);
    printf("%-34s %14.1f %8.2fx\n", lab, r->tokens_per_s, r->speedup);
    for (int d = 0; d < r->n_single; d++) {
        const swacl_bench_single *s = &r->single[d];
        snprintf(lab, sizeof lab, "dev %.6s (%.20s)", s->selector, s->device_name);
        if (s->tokens_per_s > 0)
            printf("%-34s %14.1f %8.2fx\n", lab, s->tokens_per_s,
                   best > 0 ? s->tokens_per_s / best : 0.0);
        else
            printf("%-34s %14s\n", lab, "FAILED");
    }
    printf("%-6s %-9s %-26s %11s %9s %7s\n", "stage", "layers", "device", "weights", "busy s",
           "busy");
    for (int i = 0; i < r->n_stages; i++) {
        const swacl_pipeline_stage *s = &r->stages[i];
        snprintf(rg, sizeof rg, "%d-%d", s->layer_begin, s->layer_end - 1);
        snprintf(dv, sizeof dv, "%.6s (%.17s)", s->selector, s->device_name);
        printf("%-6d %-9s %-26s %11s %9.3f %6.1f%%\n", i, rg, dv,
               human_bytes((double)s->weight_bytes, hb, sizeof hb), s->busy_s,
               100.0 * r->busy_fraction[i]);
    }
    if (r->nmse >= 0.0)
        printf("check: pipeline vs dev %s alone: nmse %.2e %s\n", r->single[0].selector, r->nmse,
               r->ok ? "ok" : "MISMATCH");
    else
        printf("check: pipeline vs dev %s alone: not run (device failed)\n", r->single[0].selector);
    fflush(stdout);
    free(r);
    return failures;
}

/* ------------------------------------------------------------------------ */
/* Plot: prefill tokens/s vs length, one series per (device, preset)         */

static int write_plot(const char *png, cJSON *jdevs)
{
    static const char *const series[3] = {"cohere2", "baseline", "model"};
    if (system("command -v gnuplot >/dev/null 2>&1") != 0) {
        fprintf(stderr, "bench: --plot: gnuplot not found in PATH (install gnuplot-nox); "
                        "no plot written\n");
        return 1;
    }
    /* the script (with its data inline) goes down a pipe: no temp file */
    char(*data)[1024] = calloc(3 * 32, sizeof *data);
    int nd = 0;
    FILE *f = data ? popen("gnuplot", "w") : NULL;
    if (!f) {
        fprintf(stderr, "bench: --plot: cannot start gnuplot: %s\n", strerror(errno));
        free(data);
        return 1;
    }
    fprintf(f, "set terminal pngcairo size 1000,650 noenhanced\nset output '");
    for (const char *c = png; *c; c++) { /* gnuplot quotes ' as '' */
        if (*c == '\'') fputc('\'', f);
        fputc(*c, f);
    }
    fprintf(f, "'\nset logscale x 2\nset logscale y\nset grid\nset key below\n"
               "set xlabel 'sequence length (tokens)'\nset ylabel 'prefill tokens/s'\n"
               "set title 'swacl bench: prefill throughput'\n");
    cJSON *d, *e;
    cJSON_ArrayForEach(d, jdevs) for (int pi = 0; pi < 3 && nd < 3 * 32; pi++) {
        size_t used = 0;
        cJSON_ArrayForEach(e, cJSON_GetObjectItem(d, "e2e"))
        {
            const char *k = cJSON_GetStringValue(cJSON_GetObjectItem(e, "kind"));
            const char *p = cJSON_GetStringValue(cJSON_GetObjectItem(e, "preset"));
            if (k && p && !strcmp(k, "prefill") && !strcmp(p, series[pi]) && used < 1024 - 64)
                used += (size_t)snprintf(
                    data[nd] + used, 1024 - used, "%d %g\n",
                    (int)cJSON_GetNumberValue(cJSON_GetObjectItem(e, "seq")),
                    cJSON_GetNumberValue(cJSON_GetObjectItem(e, "tokens_per_s")));
        }
        if (!used) continue;
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(d, "name"));
        char t[160];
        snprintf(t, sizeof t, "%.100s %s", name ? name : "?", series[pi]);
        for (char *c = t; *c; c++)
            if (*c == '\'' || *c == '"') *c = ' ';
        fprintf(f, "%s '-' using 1:2 with linespoints lw 2 %s title '%s'",
                nd++ ? ", \\\n    " : "plot ", pi ? "dt 2" : "dt 1", t);
    }
    fputc('\n', f);
    for (int i = 0; i < nd; i++) fprintf(f, "%se\n", data[i]);
    free(data);
    if (nd == 0) {
        fputs("exit\n", f); /* no plot command was written */
        pclose(f);
        fprintf(stderr, "bench: --plot: no prefill results to plot\n");
        return 1;
    }
    if (pclose(f) != 0) {
        fprintf(stderr, "bench: --plot: gnuplot failed\n");
        return 1;
    }
    fprintf(stderr, "bench: plot written to %s\n", png);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Entry point                                                               */

int swacl_cmd_bench(int argc, char **argv)
{
    bench_opts o;
    int rc = parse_opts(argc, argv, &o);
    if (rc) return rc < 0 ? 0 : rc;
    /* the error channel of the work that creates its own contexts */
    swacl_ctx_params rp = swacl_ctx_params_default();
    rp.device = "ref";
    swacl_ctx *ectx = NULL;
    if (swacl_ctx_create(&rp, &ectx) != SWACL_OK) {
        fprintf(stderr, "swacl bench: %s\n", ectx ? swacl_ctx_errmsg(ectx) : "out of host memory");
        return swacl_ctx_destroy(ectx), 1;
    }
    char sel[SWACL_BENCH_MAX_DEVICES][64];
    int nsel = 0, failures = 0, rc_pipe = 0;
    swacl_status st = swacl_bench_devices(ectx, o.devices, sel, SWACL_BENCH_MAX_DEVICES, &nsel);
    swacl_config mcfg;
    swacl_weights *mw = NULL;
    cJSON *root = NULL;
    rc = 1;
    if (st != SWACL_OK) fprintf(stderr, "swacl bench: %s\n", swacl_ctx_errmsg(ectx));
    if (nsel == 0) {
        rc = 2;
        goto done;
    }
    if (o.model_dir) { /* loaded once, before any device, shared read-only */
        if (swacl_load_hf(ectx, o.model_dir, &mcfg, &mw) != SWACL_OK) {
            fprintf(stderr, "swacl bench: cannot load --model %s: %s\n", o.model_dir,
                    swacl_ctx_errmsg(ectx));
            goto done;
        }
        if (swacl_config_validate(ectx, &mcfg) != SWACL_OK) {
            fprintf(stderr, "swacl bench: --model %s: invalid configuration: %s\n", o.model_dir,
                    swacl_ctx_errmsg(ectx));
            goto done;
        }
        o.mcfg = &mcfg;
        o.mw = mw;
    }
    if (o.placement && o.mcfg && o.mcfg->n_layers < 2) {
        fprintf(stderr, "swacl bench: --placement: --model %s has %d layer(s); the pipeline "
                        "needs at least 2\n", o.model_dir, o.mcfg->n_layers);
        rc = 2;
        goto done;
    }
    swacl_bench_pipeline_params pp = {o.quick,  o.devices, o.placement,     o.mcfg, o.mw,
                                      o.model_dir, o.batch,   o.max_seq, o.micro_batches,
                                      say,      "pipeline"};
    /* a bad SPEC, device or fit fails now, not after the per-device sections */
    if (o.placement && !o.pipeline_only && (st = swacl_bench_pipeline_check(ectx, &pp))) {
        fprintf(stderr, "swacl bench: %s\n", swacl_ctx_errmsg(ectx));
        rc = pipe_rc(st);
        goto done;
    }
    root = cJSON_CreateObject();
    cJSON *jdevs = cJSON_AddArrayToObject(root, "devices");
    JBOOL(root, "quick", o.quick);
    if (o.model_dir) JSTR(root, "model", o.model_dir);
    if (o.e2e_only) JBOOL(root, "e2e_only", 1);
    if (o.pipeline_only) JBOOL(root, "pipeline_only", 1);
    double blas_g = -1.0, t0 = now_s();
    if (!o.pipeline_only)
        for (int i = 0; i < nsel; i++) failures += bench_device(sel[i], &o, &blas_g, jdevs);
    if (o.placement) failures += pipeline_section(ectx, &o, &pp, root, &rc_pipe);
    JNUM(root, "total_s", now_s() - t0);
    fprintf(stderr, "bench: done in %.1f s, %d failure(s)\n", now_s() - t0, failures);
    rc = rc_pipe ? rc_pipe : failures ? 1 : 0;
    if (o.json_path) {
        char *txt = cJSON_Print(root);
        FILE *f = txt ? fopen(o.json_path, "w") : NULL;
        if (!f || fputs(txt, f) < 0 || fputc('\n', f) == EOF) {
            fprintf(stderr, "swacl bench: cannot write %s: %s\n", o.json_path, strerror(errno));
            rc = 1;
        }
        if (f && fclose(f) != 0) rc = 1;
        cJSON_free(txt);
    }
    if (o.plot_path && write_plot(o.plot_path, jdevs) != 0) rc = 1;
done:
    cJSON_Delete(root);
    swacl_weights_destroy(mw);
    swacl_ctx_destroy(ectx);
    return rc;
}
