/*
 * cmd_generate.c - `swacl generate`: prefill a prompt into a KV-cache session,
 * then decode token by token with temperature / top-k / top-p sampling,
 * streaming ids as they come. --verify runs the CPU reference in lockstep
 * (same sampled tokens) and checks every step's logits.
 *
 * Continuous-input models (rnope-swa) have no tokens: each step feeds a
 * seeded random input vector and the checked output is the hidden state.
 */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmd_generate.h"
#include "internal.h"
#include "model/hf.h"

typedef struct {
    const char *preset, *device, *prompt_ids, *model_dir;
    const char *devices, *placement; /* --devices / --placement: a pipeline */
    int prompt_len, max_new, top_k, seed, verify, json, chunk, threads, window, train_len, layers;
    double temperature, top_p, tol;
} gen_opts;

static int usage(FILE *f)
{
    fprintf(f,
            "usage: swacl generate [--preset P | --model DIR] [--device D] [--prompt-len N | --prompt-ids 1,2,3]\n"
            "                      [--max-new M] [--temperature T] [--top-k K] [--top-p P] [--seed S]\n"
            "                      [--chunk C] [--window W] [--train-len L] [--layers N]\n"
            "                      [--threads T] [--verify] [--tol NMSE] [--json]\n"
            "                      [--devices LIST [--placement auto|SPEC]]\n"
            "  Prefill then decode with a KV cache (window layers keep only W positions).\n"
            "  --model DIR loads a Hugging Face checkpoint (see `swacl run --help`).\n"
            "  --temperature 0 is greedy. --verify checks every step against the CPU reference.\n"
            "  --devices pipelines the layers over several devices (see `swacl run --help`).\n");
    return f == stdout ? 0 : 2;
}

static int parse_int(const char *opt, const char *s, int lo, int *out)
{
    char *end;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || errno || *end || end == s || v < lo || v > 1 << 30) {
        fprintf(stderr, "swacl: error: %s needs an integer >= %d (got '%s')\n", opt, lo, s ? s : "");
        return 0;
    }
    *out = (int)v;
    return 1;
}

static int parse_dbl(const char *opt, const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = s ? strtod(s, &end) : 0;
    if (!s || errno || *end || end == s || !(v >= lo && v <= hi)) {
        fprintf(stderr, "swacl: error: %s needs a number in [%g, %g] (got '%s')\n", opt, lo, hi, s ? s : "");
        return 0;
    }
    *out = v;
    return 1;
}

/* ------------------------------------------------------------------------ */
/* Sampling: temperature, then top-k, then top-p (nucleus), from a seeded RNG. */

typedef struct {
    float p;
    int id;
} cand;

static int cand_desc(const void *a, const void *b)
{
    float x = ((const cand *)a)->p, y = ((const cand *)b)->p;
    return x < y ? 1 : x > y ? -1 : ((const cand *)a)->id - ((const cand *)b)->id;
}

static int sample(const float *logits, int V, const gen_opts *o, swacl_rng *rng, cand *buf)
{
    if (o->temperature <= 0) { /* greedy */
        int best = 0;
        for (int i = 1; i < V; i++)
            if (logits[i] > logits[best]) best = i;
        return best;
    }
    float mx = logits[0];
    for (int i = 1; i < V; i++) mx = logits[i] > mx ? logits[i] : mx;
    double sum = 0;
    for (int i = 0; i < V; i++) {
        buf[i].id = i;
        buf[i].p = expf((float)((logits[i] - mx) / o->temperature));
        sum += buf[i].p;
    }
    qsort(buf, (size_t)V, sizeof *buf, cand_desc);
    int n = o->top_k > 0 && o->top_k < V ? o->top_k : V;
    double keep = 0;
    int m = 0;
    for (; m < n; m++) { /* smallest prefix with mass >= top_p */
        keep += buf[m].p / sum;
        if (keep >= o->top_p) {
            m++;
            break;
        }
    }
    if (m > n) m = n;
    double tot = 0;
    for (int i = 0; i < m; i++) tot += buf[i].p;
    double r = (0.5 + 0.5 * (double)swacl_rng_uniform(rng)) * tot, acc = 0;
    for (int i = 0; i < m; i++) {
        acc += buf[i].p;
        if (r < acc) return buf[i].id;
    }
    return buf[m - 1].id;
}

/* ------------------------------------------------------------------------ */

typedef struct {
    swacl_ctx *ctx;
    swacl_model *m;
    swacl_session *s;
    swacl_pipeline *pipe;           /* --devices: a pipeline instead        */
    swacl_pipeline_session *ps;
    char name[200];
} runner;

static int runner_open_pipeline(runner *r, const char *devices, const char *placement, int threads,
                                const swacl_config *cfg, const swacl_weights *w, int max_ctx)
{
    swacl_ctx_params p = swacl_ctx_params_default();
    p.threads = threads;
    r->ctx = cli_msg_ctx(&p); /* hosts the pipeline: its errors land here */
    swacl_status st = swacl_pipeline_create(r->ctx, devices, placement, cfg, w, &r->pipe);
    if (st == SWACL_OK) st = swacl_pipeline_session_create(r->pipe, 1, max_ctx, &r->ps);
    if (st != SWACL_OK) {
        fprintf(stderr, "swacl: error: %s: %s\n", swacl_status_string(st), r->ctx ? swacl_ctx_errmsg(r->ctx) : "");
        return 0;
    }
    snprintf(r->name, sizeof r->name, "pipeline %.180s", devices);
    return 1;
}

static const char *runner_name(const runner *r)
{
    return r->pipe ? r->name : swacl_ctx_device_name(r->ctx);
}

static const char *runner_err(const runner *r)
{
    return swacl_ctx_errmsg(r->ctx);
}

static swacl_status runner_prefill(runner *r, const swacl_input *in, int chunk, float *out)
{
    return r->pipe ? swacl_pipeline_session_prefill(r->ps, in, chunk, out)
                   : swacl_session_prefill(r->s, in, chunk, out);
}

static swacl_status runner_step(runner *r, const int32_t *ids, const float *emb, float *out)
{
    return r->pipe ? swacl_pipeline_session_step(r->ps, 1, NULL, ids, emb, out)
                   : swacl_session_step(r->s, 1, NULL, ids, emb, out);
}

static int runner_open(runner *r, const char *device, int threads, const swacl_config *cfg,
                       const swacl_weights *w, int max_ctx)
{
    swacl_ctx_params p = swacl_ctx_params_default();
    p.device = device;
    p.threads = threads;
    swacl_status st = swacl_ctx_create(&p, &r->ctx);
    if (st == SWACL_OK) st = swacl_model_create(r->ctx, cfg, w, &r->m);
    if (st == SWACL_OK) st = swacl_session_create(r->m, 1, max_ctx, &r->s);
    if (st != SWACL_OK) {
        fprintf(stderr, "swacl: error: %s: %s\n", swacl_status_string(st),
                r->ctx ? swacl_ctx_errmsg(r->ctx) : "");
        return 0;
    }
    return 1;
}

static void runner_close(runner *r)
{
    swacl_pipeline_session_destroy(r->ps);
    swacl_pipeline_destroy(r->pipe);
    swacl_session_destroy(r->s);
    swacl_model_destroy(r->m);
    swacl_ctx_destroy(r->ctx);
}

static void compare(const float *a, const float *b, int n, double *max_abs, double *worst_nmse,
                    int *finite)
{
    double num = 0, den = 0;
    for (int i = 0; i < n; i++) {
        if (!isfinite(a[i]) || !isfinite(b[i])) *finite = 0;
        double e = fabs((double)a[i] - b[i]);
        if (e > *max_abs) *max_abs = e;
        num += e * e;
        den += (double)b[i] * b[i];
    }
    double nm = den > 0 ? num / den : num;
    if (nm > *worst_nmse) *worst_nmse = nm;
}

int swacl_cmd_generate(int argc, char **argv)
{
    gen_opts o = {.preset = "cohere2", .prompt_len = 16, .max_new = 32, .seed = 1,
                  .temperature = 0.8, .top_p = 1.0, .tol = 1e-6};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int ok = 1, takes = 1;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) return usage(stdout);
        else if (!strcmp(a, "--json")) o.json = 1, takes = 0;
        else if (!strcmp(a, "--verify")) o.verify = 1, takes = 0;
        else if (!strcmp(a, "--preset")) o.preset = v, ok = v != NULL;
        else if (!strcmp(a, "--model")) o.model_dir = v, ok = v != NULL;
        else if (!strcmp(a, "--device")) o.device = v, ok = v != NULL;
        else if (!strcmp(a, "--devices")) o.devices = v, ok = v != NULL;
        else if (!strcmp(a, "--placement")) o.placement = v, ok = v != NULL;
        else if (!strcmp(a, "--prompt-ids")) o.prompt_ids = v, ok = v != NULL;
        else if (!strcmp(a, "--prompt-len")) ok = parse_int(a, v, 1, &o.prompt_len);
        else if (!strcmp(a, "--max-new")) ok = parse_int(a, v, 0, &o.max_new);
        else if (!strcmp(a, "--top-k")) ok = parse_int(a, v, 0, &o.top_k);
        else if (!strcmp(a, "--seed")) ok = parse_int(a, v, 0, &o.seed);
        else if (!strcmp(a, "--chunk")) ok = parse_int(a, v, 0, &o.chunk);
        else if (!strcmp(a, "--threads")) ok = parse_int(a, v, 0, &o.threads);
        else if (!strcmp(a, "--window")) ok = parse_int(a, v, 1, &o.window);
        else if (!strcmp(a, "--train-len")) ok = parse_int(a, v, 2, &o.train_len);
        else if (!strcmp(a, "--layers")) ok = parse_int(a, v, 1, &o.layers);
        else if (!strcmp(a, "--temperature")) ok = parse_dbl(a, v, 0, 100, &o.temperature);
        else if (!strcmp(a, "--top-p")) ok = parse_dbl(a, v, 1e-6, 1, &o.top_p);
        else if (!strcmp(a, "--tol")) ok = parse_dbl(a, v, 0, 1e30, &o.tol);
        else {
            fprintf(stderr, "swacl: error: generate: unknown option '%s'\n", a);
            return usage(stderr);
        }
        if (!ok) {
            if (!v) fprintf(stderr, "swacl: error: %s needs a value\n", a);
            return 2;
        }
        i += takes;
    }

    swacl_preset_params pp;
    memset(&pp, 0, sizeof pp);
    pp.window = o.window;
    pp.train_len = o.train_len;
    pp.n_layers = o.layers;
    swacl_config cfg;
    swacl_weights *w = NULL; /* --model: loaded here, else random below */
    if (o.model_dir) {
        char err[1024];
        swacl_ctx *ec = cli_msg_ctx(NULL);
        swacl_status lst = swacl_load_hf(ec, o.model_dir, &cfg, &w);
        cli_take_msg(ec, err, sizeof err);
        if (lst != SWACL_OK) {
            fprintf(stderr, "swacl: error: cannot load --model %s: %s\n", o.model_dir, err);
            return lst == SWACL_OUT_OF_MEMORY || lst == SWACL_IO ? 1 : 2;
        }
        o.preset = o.model_dir;
    } else if (swacl_preset_ex(o.preset, &pp, &cfg) != SWACL_OK) {
        fprintf(stderr, "swacl: error: unknown preset '%s' (valid:", o.preset);
        for (const char *const *n = swacl_preset_names(); *n; n++) fprintf(stderr, " %s", *n);
        fprintf(stderr, ")\n");
        return 2;
    }
    char why[512];
    swacl_ctx *vc = cli_msg_ctx(NULL);
    swacl_status vst = swacl_config_validate(vc, &cfg);
    cli_take_msg(vc, why, sizeof why);
    if (vst != SWACL_OK) {
        fprintf(stderr, "swacl: error: invalid configuration: %s\n", why);
        swacl_weights_destroy(w);
        return 2;
    }
    const int tokens_model = cfg.vocab_size > 0;
    const int V = swacl_output_size(&cfg), din = cfg.input_dim;

    /* prompt */
    int P = o.prompt_len;
    int32_t *prompt = NULL;
    if (o.prompt_ids) {
        P = 1;
        for (const char *c = o.prompt_ids; *c; c++) P += *c == ',';
        prompt = malloc((size_t)P * sizeof *prompt);
        char *dup = strdup(o.prompt_ids), *save = NULL;
        int k = 0;
        for (char *t = strtok_r(dup, ",", &save); t && prompt; t = strtok_r(NULL, ",", &save)) {
            char *end;
            long id = strtol(t, &end, 10);
            if (*end || end == t || !tokens_model || id < 0 || id >= cfg.vocab_size) {
                fprintf(stderr, "swacl: error: --prompt-ids: '%s' is not a token id in [0, %d)\n", t,
                        cfg.vocab_size);
                free(dup);
                free(prompt);
                swacl_weights_destroy(w);
                return 2;
            }
            prompt[k++] = (int32_t)id;
        }
        free(dup);
        P = k;
        if (P < 1) {
            fprintf(stderr, "swacl: error: --prompt-ids is empty\n");
            free(prompt);
            swacl_weights_destroy(w);
            return 2;
        }
    }
    swacl_rng rng = {(uint64_t)o.seed * 0x9E3779B97F4A7C15ull + 7};
    const int total = P + o.max_new;
    int32_t *ids = calloc((size_t)total, sizeof *ids);
    float *emb = tokens_model ? NULL : malloc((size_t)total * din * sizeof *emb);
    float *out = malloc((size_t)V * sizeof *out), *ref_out = malloc((size_t)V * sizeof *ref_out);
    cand *cbuf = malloc((size_t)V * sizeof *cbuf);
    if (!ids || (!tokens_model && !emb) || !out || !ref_out || !cbuf) {
        fprintf(stderr, "swacl: error: out of host memory\n");
        free(prompt), free(ids), free(emb), free(out), free(ref_out), free(cbuf);
        swacl_weights_destroy(w);
        return 1;
    }
    for (int t = 0; t < P; t++)
        ids[t] = prompt ? prompt[t] : tokens_model ? (int32_t)(swacl_rng_next(&rng) % (uint64_t)cfg.vocab_size) : 0;
    free(prompt);
    if (emb)
        for (size_t i = 0; i < (size_t)total * din; i++) emb[i] = swacl_rng_uniform(&rng);

    int rc = 1;
    runner dev = {0}, ref = {0};
    cJSON *toks = cJSON_CreateArray();
    if (!w && swacl_weights_create_random(&cfg, 42, &w) != SWACL_OK) {
        fprintf(stderr, "swacl: error: could not create weights\n");
        goto done;
    }
    if (o.devices || o.placement) {
        if (o.device) {
            fprintf(stderr, "swacl: error: give either --device or --devices, not both\n");
            rc = 2;
            goto done;
        }
        if (!runner_open_pipeline(&dev, o.devices ? o.devices : "all", o.placement ? o.placement : "auto",
                                  o.threads, &cfg, w, total))
            goto done;
    } else if (!runner_open(&dev, o.device, o.threads, &cfg, w, total)) goto done;
    if (o.verify && !runner_open(&ref, "ref", o.threads, &cfg, w, total)) goto done;

    /* prefill */
    fprintf(stderr, "swacl: prefill %d tokens on %s...\n", P, runner_name(&dev));
    swacl_input in = {.batch = 1, .seq = P, .ids = tokens_model ? ids : NULL, .embeds = emb};
    double t0 = swacl_now();
    swacl_status st = runner_prefill(&dev, &in, o.chunk, out);
    double t_prefill = swacl_now() - t0;
    if (st != SWACL_OK) {
        fprintf(stderr, "swacl: error: prefill: %s\n", runner_err(&dev));
        goto done;
    }
    double max_abs = 0, worst_nmse = 0;
    int finite = 1;
    if (o.verify) {
        if (swacl_session_prefill(ref.s, &in, o.chunk, ref_out) != SWACL_OK) {
            fprintf(stderr, "swacl: error: reference prefill: %s\n", swacl_ctx_errmsg(ref.ctx));
            goto done;
        }
        compare(out, ref_out, V, &max_abs, &worst_nmse, &finite);
    }

    /* decode */
    if (!o.json && tokens_model) printf("tokens:");
    double t_decode = 0;
    for (int t = P; t < total; t++) {
        int32_t next = tokens_model ? sample(out, V, &o, &rng, cbuf) : 0;
        ids[t] = next;
        if (tokens_model) {
            cJSON_AddItemToArray(toks, cJSON_CreateNumber(next));
            if (!o.json) {
                printf(" %d", next);
                fflush(stdout);
            }
        }
        const int32_t *pi = tokens_model ? &ids[t] : NULL;
        const float *pe = emb ? emb + (size_t)t * din : NULL;
        t0 = swacl_now();
        st = runner_step(&dev, pi, pe, out);
        t_decode += swacl_now() - t0;
        if (st != SWACL_OK) {
            fprintf(stderr, "\nswacl: error: decode step %d: %s\n", t, runner_err(&dev));
            goto done;
        }
        if (o.verify) {
            if (swacl_session_step(ref.s, 1, NULL, pi, pe, ref_out) != SWACL_OK) {
                fprintf(stderr, "\nswacl: error: reference step: %s\n", swacl_ctx_errmsg(ref.ctx));
                goto done;
            }
            compare(out, ref_out, V, &max_abs, &worst_nmse, &finite);
        }
    }
    if (!o.json && tokens_model) printf("\n");

    uint64_t kvg = 0, kvw = 0;
    uint64_t kv = swacl_kv_bytes(&cfg, 1, total, &kvg, &kvw);
    int ok = !o.verify || (finite && worst_nmse <= o.tol);
    double pf_tps = P / t_prefill, dec_tps = o.max_new > 0 ? o.max_new / t_decode : 0;
    if (o.json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "device", runner_name(&dev));
        cJSON_AddStringToObject(j, "preset", o.preset);
        cJSON_AddNumberToObject(j, "prompt_tokens", P);
        cJSON_AddNumberToObject(j, "new_tokens", o.max_new);
        cJSON_AddNumberToObject(j, "prefill_tokens_per_s", pf_tps);
        cJSON_AddNumberToObject(j, "decode_tokens_per_s", dec_tps);
        cJSON_AddNumberToObject(j, "kv_bytes", (double)kv);
        cJSON_AddNumberToObject(j, "kv_bytes_global", (double)kvg);
        cJSON_AddNumberToObject(j, "kv_bytes_window", (double)kvw);
        cJSON_AddNumberToObject(j, "session_kv_bytes", (double)(dev.s ? swacl_session_kv_bytes(dev.s) : kv));
        cJSON_AddItemToObject(j, "tokens", toks);
        toks = NULL;
        cJSON_AddBoolToObject(j, "verified", o.verify);
        if (o.verify) {
            cJSON_AddNumberToObject(j, "max_abs_err", max_abs);
            cJSON_AddNumberToObject(j, "nmse", worst_nmse);
        } else {
            cJSON_AddNullToObject(j, "max_abs_err");
            cJSON_AddNullToObject(j, "nmse");
        }
        cJSON_AddBoolToObject(j, "ok", ok);
        char *s = cJSON_PrintUnformatted(j);
        printf("%s\n", s);
        free(s);
        cJSON_Delete(j);
    } else {
        printf("device            %s\n", runner_name(&dev));
        printf("preset            %s\n", o.preset);
        printf("prompt / new      %d / %d\n", P, o.max_new);
        printf("prefill           %.1f tokens/s\n", pf_tps);
        printf("decode            %.1f tokens/s\n", dec_tps);
        printf("kv cache          %.2f MiB (global %.2f, window %.2f)\n", kv / 1048576.0,
               kvg / 1048576.0, kvw / 1048576.0);
        if (o.verify)
            printf("verify            max_abs_err %.3e, worst nmse %.3e: %s\n", max_abs, worst_nmse,
                   ok ? "ok" : "FAILED");
    }
    rc = ok ? 0 : 3;
    if (!ok) fprintf(stderr, "swacl: error: verification failed (nmse %.3e > %.1e)\n", worst_nmse, o.tol);
done:
    cJSON_Delete(toks);
    runner_close(&dev);
    runner_close(&ref);
    swacl_weights_destroy(w);
    free(ids), free(emb), free(out), free(ref_out), free(cbuf);
    return rc;
}
