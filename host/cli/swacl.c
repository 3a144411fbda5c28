/*
 * swacl.c - the `swacl` command: list OpenCL devices, run a preset model on
 * a device and check it against the CPU reference, save a preset; main()
 * dispatches to every command (generate, bench, tune in their own files).
 *
 * Output: a readable aligned table, or with --json one JSON object on stdout;
 * progress and errors ("swacl: error: ...", one line) go to stderr.
 * Exit codes (cli.h): 0 ok, 1 runtime error (device, OpenCL, out of
 * memory), 2 usage error (bad option or value, invalid configuration),
 * 3 verification failure (device output does not match the reference).
 */
#include <cjson/cJSON.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* ---- swacl devices -------------------------------------------------------- */

static int cmd_devices(int argc, char **argv)
{
    int json = 0;
    const cli_opt opts[] = {CLI_OUTPUT_OPTS(&json), {NULL}};
    const cli_cmd cmd = {"devices",
                         "usage: swacl devices [--json]\n\n"
                         "List every OpenCL device of every platform the ICD loader exposes.\n"
                         "The INDEX column is what `swacl run --device N` selects.\n\n",
                         opts, 0};
    int rc = cli_parse(&cmd, argc, argv);
    if (rc != CLI_CONTINUE) return rc;
    swacl_device_info *list = NULL;
    int n = 0;
    swacl_ctx *host = cli_host_ctx(); /* carries the listing's error */
    if (!host) return EXIT_RUNTIME;
    swacl_status st = swacl_devices_list(host, &list, &n);
    if (st != SWACL_OK) {
        cli_die_detail("cannot list OpenCL devices", st, swacl_ctx_errmsg(host));
        swacl_ctx_destroy(host);
        swacl_devices_free(list);
        return cli_exit(st);
    }
    swacl_ctx_destroy(host);

    if (n == 0 && !json) {
        printf("no OpenCL devices found (is an ICD installed? e.g. pocl-opencl-icd)\n");
        swacl_devices_free(list);
        return EXIT_OK;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(root, "devices");
    for (int i = 0; i < n; i++) {
        const swacl_device_info *d = &list[i];
        cJSON *o = cJSON_CreateObject();
        cli_json_add(o, "i:index i:platform_index s:platform s:name s:vendor s:type i:compute_units "
                     "u:global_mem_bytes u:local_mem_bytes u:max_alloc_bytes z:max_work_group_size "
                     "s:opencl_c_version s:driver_version s:device_version",
                     d->index, d->platform_index, d->platform_name, d->name, d->vendor, d->type,
                     d->compute_units, d->global_mem_bytes, d->local_mem_bytes, d->max_alloc_bytes,
                     d->max_work_group_size, d->opencl_c_version, d->driver_version,
                     d->device_version);
        cJSON_AddItemToArray(arr, o);
    }
    swacl_devices_free(list);
    return cli_output(root, json);
}

/* swacl models: every model_type --model DIR loads (the library's registry) */
static int cmd_models(int argc, char **argv)
{
    int json = 0;
    const cli_opt opts[] = {CLI_OUTPUT_OPTS(&json), {NULL}};
    const cli_cmd cmd = {"models", "usage: swacl models [--json]\n\nEvery config.json model_type "
                         "that --model DIR loads, what it maps onto and what it refuses.\n\n", opts, 0};
    int rc = cli_parse(&cmd, argc, argv);
    if (rc != CLI_CONTINUE) return rc;
    cJSON *root = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(root, "models");
    for (int i = 0; i < swacl_model_type_count(); i++) {
        const char *t, *maps, *refuses;
        swacl_model_type_info(i, &t, &maps, &refuses);
        cJSON *o = cJSON_CreateObject();
        cli_json_add(o, "s:model_type s:maps s:refuses", t, maps, refuses);
        cJSON_AddItemToArray(arr, o);
    }
    return cli_output(root, json);
}

/* ---- swacl run ------------------------------------------------------------ */

typedef struct {
    cli_model m;
    cli_device d;
    const char *ids_file, *inputs_file, *logits_out;
    int seq, batch, warmup, iters, no_verify, all_positions, json, kv_only;
    uint64_t seed, verify_mem;
    double tol, atol, rtol;
} run_opts;

/* warmup + iters forwards on r into out; *seconds: mean of the timed ones. */
static int timed_forward(cli_runner *r, const swacl_input *in, int all, int warmup, int iters,
                         float *out, double *seconds)
{
    double t0 = 0;
    for (int i = 0; i < warmup + iters; i++) {
        if (i == warmup) t0 = cli_now();
        swacl_status st = swacl_pipeline_forward(r->pipe, in, all, out);
        if (st != SWACL_OK) return cli_runner_fail(r, st, i < warmup ? "forward (warmup)" : "forward");
    }
    *seconds = (cli_now() - t0) / iters;
    return EXIT_OK;
}

static int cmd_run(int argc, char **argv)
{
    run_opts o = {.m = {.preset = "rnope-swa"}, .seq = 512, .batch = 1, .iters = 1, .seed = 1,
                  .tol = 1e-6, .atol = -1, .rtol = -1};
    const cli_opt opts[] = {
        CLI_MODEL_OPTS(&o.m, "rnope-swa"),
        {"input", CLI_SECTION, NULL, 0, 0, NULL, ""},
        {"--seq", CLI_INT, &o.seq, 1, CLI_INT_MAX, "N", "tokens per sequence (default 512)"},
        {"--batch", CLI_INT, &o.batch, 1, CLI_INT_MAX, "B", "sequences (default 1)"},
        {"--seed", CLI_U64, &o.seed, 0, 0, "S", "seed of weights and inputs (default 1)"},
        {"--all-positions", CLI_FLAG, &o.all_positions, 0, 0, NULL,
         "compare every position, not only the last"},
        {"--ids-file", CLI_STR, &o.ids_file, 0, 0, "F",
         "token ids, whitespace separated, one line per sequence\n"
         "(all lines equal length; sets --batch and --seq)"},
        {"--inputs-file", CLI_STR, &o.inputs_file, 0, 0, "F",
         "continuous-input models: float32 .npy [B, T, input_dim]"},
        CLI_DEVICE_OPTS(&o.d),
        {"--warmup", CLI_INT, &o.warmup, 0, CLI_INT_MAX, "N",
         "untimed forward passes before timing (default 0)"},
        {"--iters", CLI_INT, &o.iters, 1, CLI_INT_MAX, "N",
         "timed forward passes; seconds is their mean (default 1)"},
        {"check", CLI_SECTION, NULL, 0, 0, NULL, ""},
        {"--no-verify", CLI_FLAG, &o.no_verify, 0, 0, NULL, "skip the CPU reference run"},
        {"--kv-only", CLI_FLAG, &o.kv_only, 0, 0, NULL,
         "report the KV-cache bytes at --seq and exit (no run)"},
        {"--tol", CLI_DOUBLE, &o.tol, 0, INFINITY, "NMSE",
         "max normalised MSE, sum (a-r)^2 / sum r^2 (default 1e-6)"},
        {"--atol", CLI_DOUBLE, &o.atol, 0, INFINITY, "A",
         "elementwise |a-r| <= atol + rtol*|r| (default, float32\nrounding: rtol = 8*2^-24*sqrt(depth), atol = rtol*RMS(r))"},
        {"--rtol", CLI_DOUBLE, &o.rtol, 0, INFINITY, "R",
         "(either replaces that bound; docs/VERIFY.md)"},
        CLI_VERIFY_MEM_OPT(&o.verify_mem),
        {"output", CLI_SECTION, NULL, 0, 0, NULL, ""},
        {"--logits-out", CLI_STR, &o.logits_out, 0, 0, "F",
         "write the device output at every position as float32\n"
         ".npy [B, T, V] (logits) or [B, T, D] (hidden states)"},
        CLI_OUTPUT_OPTS(&o.json),
        {NULL}};
    const cli_cmd cmd = {"run",
                         "usage: swacl run [options]\n\n"
                         "Build a preset model with seeded random weights, run one prefill forward\n"
                         "pass on an OpenCL device, time it, and check the output against the CPU\n"
                         "reference (exit 3 when it does not match).\n\n",
                         opts, 1};
    int rc = cli_parse(&cmd, argc, argv);
    if (rc != CLI_CONTINUE) return rc;
    if ((rc = cli_device_check(&o.d)) != 0) return rc;
    if ((long long)o.seq * o.batch > INT_MAX) {
        cli_die_msg("--seq %d x --batch %d is too large", o.seq, o.batch);
        return EXIT_USAGE;
    }
    int verify = !o.no_verify;

    swacl_config cfg;
    swacl_weights *w = NULL;
    swacl_input in = {0};
    float *out = NULL;
    cli_runner dev = {0};
    swacl_ctx *host = NULL;
    if ((rc = cli_model_setup(&o.m, &cfg, &w)) != 0) return rc;
    if (!(host = cli_host_ctx())) { /* the error channel of ids / .npy files */
        rc = EXIT_RUNTIME;
        goto done;
    }
    swacl_status st;
    if ((o.ids_file || o.inputs_file) &&
        (st = swacl_input_load(host, &cfg, o.ids_file, o.inputs_file, 0, 0, 0, &in)) != SWACL_OK) {
        rc = cli_fail(host, st, o.ids_file && !o.inputs_file ? "--ids-file" : "--inputs-file");
        goto done;
    }
    if (in.batch) o.batch = in.batch, o.seq = in.seq; /* the file's */
    if (o.logits_out) o.all_positions = 1;

    const int B = o.batch, T = o.seq, width = swacl_output_size(&cfg);
    const size_t out_n = (size_t)B * (size_t)(o.all_positions ? T : 1) * (size_t)width;
    uint64_t kv_global = 0, kv_window = 0;
    uint64_t kv_total = swacl_kv_bytes(&cfg, B, T, &kv_global, &kv_window);
    if (o.kv_only) { /* memory comparison at any length, nothing allocated */
        cJSON *j = cJSON_CreateObject();
        cli_json_add(j, "s:preset i:seq i:batch u:kv_bytes u:kv_bytes_global u:kv_bytes_window",
                     o.m.preset, T, B, kv_total, kv_global, kv_window);
        rc = cli_output(j, o.json);
        goto done;
    }
    cli_progress("preset %s: %d layers, hidden %d, seq %d, batch %d", o.m.preset, cfg.n_layers,
                 cfg.hidden_size, T, B);
    /* sizes (inputs and output) checked in 64-bit before anything is allocated */
    if ((st = swacl_input_check(host, &cfg, B, T, o.all_positions)) != SWACL_OK ||
        (!in.batch && (st = swacl_input_load(host, &cfg, NULL, NULL, B, T,
                                             o.seed ^ 0x5851F42D4C957F2Dull, &in)) != SWACL_OK)) {
        rc = cli_fail(host, st, "inputs");
        goto done;
    }
    if ((rc = cli_model_weights(&o.m, &cfg, o.seed, &w)) != 0) goto done;
    rc = EXIT_RUNTIME;
    if (!(out = calloc(out_n, sizeof *out))) goto oom;

    /* device run (or a pipeline over --devices) */
    int hits = 0, misses = 0;
    double seconds = 0, compile_s = 0;
    if ((rc = cli_runner_open(&dev, &o.d, &cfg, w, 0, 0)) != 0) goto done;
    const char *dev_name = dev.name;
    if (o.d.devices)
        cli_progress("running on %s (placement %s)...", dev.name, o.d.placement ? o.d.placement : "auto");
    else
        cli_progress("running on %s...", dev.name);
    if ((rc = timed_forward(&dev, &in, o.all_positions, o.warmup, o.iters, out, &seconds)) != 0)
        goto done;
    compile_s = swacl_ctx_compile_seconds(dev.ctx, &hits, &misses);
    rc = EXIT_RUNTIME;

    /* reference run and comparison */
    swacl_verify_result vr = {0};
    size_t dev_nonfinite = 0;
    for (size_t i = 0; i < out_n; i++) dev_nonfinite += !isfinite(out[i]);
    int ok = dev_nonfinite == 0;
    if (verify) {
        cli_progress("running reference...");
        swacl_tolerance tol = swacl_tolerance_default();
        tol.nmse = o.tol;
        tol.atol = o.atol, tol.rtol = o.rtol; /* both -1 unless given: calibrated */
        tol.mem_limit = o.verify_mem;
        st = swacl_verify_forward(dev.ctx, &cfg, w, &in, o.all_positions, out, &tol, &vr);
        if (st != SWACL_OK) {
            rc = cli_fail(dev.ctx, st, "verification");
            goto done;
        }
        ok = vr.ok;
        if (vr.skipped) fprintf(stderr, "swacl: verification skipped: %s\n", vr.skip_reason), verify = 0;
    }
    double tps = seconds > 0 ? (double)B * T / seconds : 0;
    if (o.logits_out) {
        int64_t shape[3] = {B, T, width};
        st = swacl_npy_save(host, o.logits_out, out, 3, shape);
        if (st != SWACL_OK) {
            rc = cli_fail(host, st, "--logits-out");
            goto done;
        }
        cli_progress("wrote %s [%d, %d, %d]", o.logits_out, B, T, width);
    }

    cJSON *j = cJSON_CreateObject();
    cli_json_add(j, "s:device s:preset i:seq i:batch i:layers", dev_name, o.m.preset, T, B,
                 cfg.n_layers);
    char pat[256];
    swacl_config_pattern(&cfg, pat, sizeof pat);
    if (!o.json) cJSON_AddStringToObject(j, "pattern", pat); /* text only */
    cli_json_add(j, "i:hidden i:heads i:kv_heads u:seed i:iters d:seconds d:tokens_per_s "
                 "d:compile_seconds i:cache_hits i:cache_misses u:kv_bytes u:kv_bytes_global "
                 "u:kv_bytes_window b:verified", cfg.hidden_size, cfg.n_heads, cfg.n_kv_heads,
                 o.seed, o.iters, seconds, tps, compile_s, hits, misses, kv_total, kv_global,
                 kv_window, verify);
    cli_json_mem(j, w);
    if (verify)
        cli_json_add(j, "d:ref_seconds d:max_abs_err d:nmse d:tol z:nonfinite d:atol d:rtol "
                     "z:n_over_tol d:bound_ratio", vr.ref_seconds, vr.max_abs_err, vr.nmse, o.tol,
                     vr.nonfinite, vr.atol, vr.rtol, vr.n_bad, vr.bound_ratio);
    else
        cli_json_add(j, "-:max_abs_err -:nmse");
    if (vr.skipped) cJSON_AddStringToObject(j, "verify_skipped", vr.skip_reason);
    cli_json_pipeline(j, &dev, B, T); /* --devices: per stage and per rank */
    cJSON_AddBoolToObject(j, "ok", ok);
    if (cli_output(j, o.json) != 0) goto done;
    if (!ok) {
        char msg[320];
        if (verify)
            cli_die_msg("verification failed: %s",
                        swacl_verify_describe(&vr, o.tol, msg, sizeof msg));
        else
            cli_die_msg("verification failed: %zu non-finite outputs", dev_nonfinite);
        rc = EXIT_VERIFY;
    } else {
        rc = EXIT_OK;
    }
    goto done;
oom:
    cli_die_msg("out of memory");
    rc = EXIT_RUNTIME;
done:
    cli_runner_close(&dev);
    swacl_ctx_destroy(host);
    swacl_weights_destroy(w);
    swacl_input_free(&in);
    free(out);
    return rc;
}

/* ---- swacl save ----------------------------------------------------------- */

static int cmd_save(int argc, char **argv)
{
    cli_model m = {.preset = "rnope-swa"};
    const char *dir = NULL;
    uint64_t seed = 1;
    int json = 0;
    const cli_opt opts[] = {
        CLI_MODEL_OPTS(&m, "rnope-swa"),
        {"output", CLI_SECTION, NULL, 0, 0, NULL, ""},
        {"--out", CLI_STR, &dir, 0, 0, "DIR", "the directory to write (created if needed)"},
        {"--seed", CLI_U64, &seed, 0, 0, "S", "seed of the weights (default 1)"},
        CLI_OUTPUT_OPTS(&json),
        {NULL}};
    const cli_cmd cmd = {"save",
                         "usage: swacl save --preset P --out DIR [--seed S] [size options]\n\n"
                         "Write a preset with its seeded random weights as a Hugging Face style\n"
                         "directory: config.json (model_type \"swacl\", the full per-layer spec) and\n"
                         "model.safetensors (F32). `swacl run --model DIR` loads it back exactly.\n\n",
                         opts, 1};
    int rc = cli_parse(&cmd, argc, argv);
    if (rc != CLI_CONTINUE) return rc;
    if (!dir) {
        cli_die_msg("save: --out DIR is required (see 'swacl save --help')");
        return EXIT_USAGE;
    }
    if (m.model_dir) {
        cli_die_msg("save: --model does not apply (save writes a preset)");
        return EXIT_USAGE;
    }
    swacl_config cfg;
    swacl_weights *w = NULL;
    if ((rc = cli_model_setup(&m, &cfg, &w)) != 0 || (rc = cli_model_weights(&m, &cfg, seed, &w)) != 0)
        return rc;
    swacl_ctx *host = cli_host_ctx();
    swacl_status st = host ? swacl_save_hf(host, dir, &cfg, w) : SWACL_OUT_OF_MEMORY;
    swacl_weights_destroy(w);
    if (st != SWACL_OK && host) cli_die_msg("save: %s", swacl_ctx_errmsg(host));
    swacl_ctx_destroy(host);
    if (st != SWACL_OK) return cli_exit(st); /* no host: out of memory, EXIT_RUNTIME */
    cli_progress("wrote %s/config.json and %s/model.safetensors (preset %s, seed %llu)", dir, dir,
                 m.preset, (unsigned long long)seed);
    if (!json) return EXIT_OK;
    cJSON *j = cJSON_CreateObject();
    cli_json_add(j, "s:dir s:preset u:seed b:ok", dir, m.preset, seed, 1);
    return cli_output(j, json);
}

/* ---- main ----------------------------------------------------------------- */

typedef struct {
    const char *name, *summary;
    int (*fn)(int argc, char **argv);
} command;

static const command k_commands[] = {
    {"devices", "list OpenCL devices", cmd_devices},
    {"models", "list the checkpoint model_types --model loads and how they map", cmd_models},
    {"run", "run a preset model on a device and check it against the CPU reference", cmd_run},
    {"generate", "prefill + KV-cache decode with sampling (optionally checked)", swacl_cmd_generate},
    {"tokenize", "text to token ids with a checkpoint's tokenizer.json", swacl_cmd_tokenize},
    {"detokenize", "token ids to text with a checkpoint's tokenizer.json", swacl_cmd_tokenize},
    {"save", "write a preset (seeded weights) as a Hugging Face style directory", cmd_save},
    {"bench", "cross-device benchmarks (peaks, kernels, end to end)", swacl_cmd_bench},
    {"tune", "search CLBlast GEMM parameters for a device and store the winner", swacl_cmd_tune},
};
#define N_COMMANDS ((int)(sizeof k_commands / sizeof k_commands[0]))

static void main_help(FILE *f)
{
    fputs("usage: swacl [--version] [--help] COMMAND [options]\n\n"
          "Portable OpenCL backend for hybrid sliding-window / global-NoPE transformers.\n\n"
          "commands\n", f);
    for (int i = 0; i < N_COMMANDS; i++) fprintf(f, "  %-10s %s\n", k_commands[i].name, k_commands[i].summary);
    fputs("\nEvery command accepts --json (one JSON object on stdout) and --help.\n"
          "Exit codes: 0 ok, 1 runtime error, 2 usage error, 3 verification failure.\n", f);
}

static int dispatch(int argc, char **argv)
{
    const char *c = argc > 1 ? argv[1] : NULL;
    if (!c) {
        main_help(stderr);
        cli_die_msg("no command given");
        return EXIT_USAGE;
    }
    if (!strcmp(c, "-h") || !strcmp(c, "--help") || !strcmp(c, "help")) {
        main_help(stdout);
        return EXIT_OK;
    }
    if (!strcmp(c, "--version") || !strcmp(c, "version")) {
        int v = swacl_version_number();
        printf("swacl %s (library %d.%d.%d)\n", SWACL_VERSION_STRING, v / 10000, v / 100 % 100,
               v % 100);
        return EXIT_OK;
    }
    for (int i = 0; i < N_COMMANDS; i++)
        if (!strcmp(c, k_commands[i].name)) return k_commands[i].fn(argc - 1, argv + 1);
    cli_die_msg("unknown %s '%s' (see 'swacl --help')", c[0] == '-' ? "option" : "command", c);
    return EXIT_USAGE;
}

#if defined(SWACL_LSAN_EARLY)
#include <sanitizer/lsan_interface.h>
#endif

int main(int argc, char **argv)
{
    int rc = SWACL_MAIN(dispatch, argc, argv);
#if defined(SWACL_LSAN_EARLY)
    /* Sanitizer builds: leak-check now, while PoCL's threads are idle (LSan's
     * at-exit check raced PoCL's teardown and crashed the tracer in CI). */
    __lsan_do_leak_check();
#endif
    return rc;
}
