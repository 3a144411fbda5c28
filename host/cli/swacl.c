/*
 * swacl.c - the `swacl` command: list OpenCL devices, run a preset model on
 * a device and check it against the CPU reference.
 *
 *   swacl devices [--json]
 *   swacl run [--preset P] [--device D] [--seq N] ... [--json]
 *
 * Output: a readable aligned table, or with --json exactly one JSON object
 * on stdout (built with cJSON). Progress and errors go to stderr, so stdout
 * stays machine-readable. Errors are one line, "swacl: error: ...".
 *
 * Exit codes: 0 ok, 1 runtime error (device, OpenCL, out of memory),
 * 2 usage error (bad option or value, invalid configuration),
 * 3 verification failure (device output does not match the reference).
 *
 * Uses only the public API (swacl.h) plus swacl_now / swacl_rng from
 * internal.h.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "model/hf.h"

/* ------------------------------------------------------------------------ */
/* swacl devices                                                             */

static const char k_devices_help[] =
    "usage: swacl devices [--json]\n"
    "\n"
    "List every OpenCL device of every platform the ICD loader exposes.\n"
    "The INDEX column is what `swacl run --device N` selects.\n"
    "\n"
    "  --json    print one JSON object {\"devices\":[...]} instead of a table\n"
    "  -h, --help\n";

static int cmd_devices(int argc, char **argv)
{
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(k_devices_help, stdout);
            return 0;
        } else {
            cli_die_msg("devices: unknown option '%s' (see 'swacl devices --help')", argv[i]);
            return EXIT_USAGE;
        }
    }

    swacl_device_info *list = NULL;
    int n = 0;
    char err[1024] = "";
    swacl_ctx *ec = cli_msg_ctx(NULL);
    swacl_status st = swacl_devices_list(ec, &list, &n);
    cli_take_msg(ec, err, sizeof err);
    if (st != SWACL_OK) {
        cli_die_msg("cannot list OpenCL devices: %s%s%s", swacl_status_string(st), err[0] ? ": " : "",
                err);
        swacl_devices_free(list);
        return EXIT_RUNTIME;
    }

    int rc = 0;
    if (json) {
        cJSON *root = cJSON_CreateObject();
        cJSON *arr = cJSON_AddArrayToObject(root, "devices");
        for (int i = 0; i < n; i++) {
            const swacl_device_info *d = &list[i];
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "index", d->index);
            cJSON_AddNumberToObject(o, "platform_index", d->platform_index);
            cJSON_AddStringToObject(o, "platform", d->platform_name);
            cJSON_AddStringToObject(o, "name", d->name);
            cJSON_AddStringToObject(o, "vendor", d->vendor);
            cJSON_AddStringToObject(o, "type", d->type);
            cJSON_AddNumberToObject(o, "compute_units", d->compute_units);
            cJSON_AddNumberToObject(o, "global_mem_bytes", (double)d->global_mem_bytes);
            cJSON_AddNumberToObject(o, "local_mem_bytes", (double)d->local_mem_bytes);
            cJSON_AddNumberToObject(o, "max_alloc_bytes", (double)d->max_alloc_bytes);
            cJSON_AddNumberToObject(o, "max_work_group_size", (double)d->max_work_group_size);
            cJSON_AddStringToObject(o, "opencl_c_version", d->opencl_c_version);
            cJSON_AddStringToObject(o, "driver_version", d->driver_version);
            cJSON_AddStringToObject(o, "device_version", d->device_version);
            cJSON_AddItemToArray(arr, o);
        }
        rc = cli_emit_json(root);
    } else if (n == 0) {
        printf("no OpenCL devices found (is an ICD installed? e.g. pocl-opencl-icd)\n");
    } else {
        static const char *const head[] = {"INDEX", "TYPE",     "CU",      "GLOBAL",
                                           "LOCAL", "MAXALLOC", "MAXWG",   "OPENCL_C",
                                           "DRIVER", "PLATFORM", "VENDOR", "NAME"};
        cli_table t;
        cli_table_init(&t, 12, head);
        for (int i = 0; i < n; i++) {
            const swacl_device_info *d = &list[i];
            char idx[16], cu[16], gm[32], lm[32], ma[32], wg[32];
            snprintf(idx, sizeof idx, "%d", d->index);
            snprintf(cu, sizeof cu, "%d", d->compute_units);
            cli_fmt_bytes(gm, sizeof gm, d->global_mem_bytes);
            cli_fmt_bytes(lm, sizeof lm, d->local_mem_bytes);
            cli_fmt_bytes(ma, sizeof ma, d->max_alloc_bytes);
            snprintf(wg, sizeof wg, "%zu", d->max_work_group_size);
            const char *row[] = {idx, d->type, cu, gm, lm, ma, wg, d->opencl_c_version,
                                 d->driver_version, d->platform_name, d->vendor, d->name};
            if (!cli_table_add(&t, row)) {
                cli_table_free(&t);
                swacl_devices_free(list);
                cli_die_msg("out of memory");
                return EXIT_RUNTIME;
            }
        }
        cli_table_print(&t, stdout);
        cli_table_free(&t);
    }
    swacl_devices_free(list);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* swacl run                                                                 */

static const char k_run_help[] =
    "usage: swacl run [options]\n"
    "\n"
    "Build a preset model with seeded random weights, run one prefill forward\n"
    "pass on an OpenCL device, time it, and check the output against the CPU\n"
    "reference (exit 3 when it does not match).\n"
    "\n"
    "model\n"
    "  --preset P       preset name (default rnope-swa; see the list below)\n"
    "  --model DIR      load a Hugging Face checkpoint instead (config.json +\n"
    "                   model.safetensors or shards; cohere2, smollm3,\n"
    "                   llama4_text, mistral, llama, swacl)\n"
    "  --window W       W of every sliding-window layer\n"
    "  --chunk C        C of every chunked layer (irope-llama4)\n"
    "  --train-len L    L_train / floor_scale of the query-temperature rules\n"
    "  --layers L       number of layers (the preset's layer pattern is re-derived)\n"
    "  --hidden D       hidden size (head_dim = D / heads)\n"
    "  --heads H        attention heads\n"
    "  --kv-heads K     KV heads (must divide H)\n"
    "  --ffn F          FFN width\n"
    "  --vocab V        vocabulary (token-id presets)\n"
    "  --input-dim N    input width (continuous-input presets)\n"
    "input\n"
    "  --seq N          tokens per sequence (default 512)\n"
    "  --batch B        sequences (default 1)\n"
    "  --seed S         seed of weights and inputs (default 1)\n"
    "  --all-positions  compare every position, not only the last\n"
    "  --ids-file F     token ids, whitespace separated, one line per sequence\n"
    "                   (all lines equal length; sets --batch and --seq)\n"
    "  --inputs-file F  continuous-input models: float32 .npy [B, T, input_dim]\n"
    "device\n"
    "  --device D       N (index from `swacl devices`), N.K (one-compute-unit\n"
    "                   sub-device K of N), gpu, cpu, a name substring, or ref\n"
    "                   (default: first GPU, else first CPU)\n"
    "  --devices LIST   pipeline the layers over several devices: \"all\" or a\n"
    "                   comma list of --device selectors (\"0,1\", \"0,ref\",\n"
    "                   \"0.0,0.1\"); activations move by device copy when the\n"
    "                   devices share a platform, else via pinned host memory\n"
    "  --placement P    with --devices: auto (calibrate, balance, cached) or a\n"
    "                   SPEC \"0-3:0,4-7:1\" (layers -> index in LIST); --json\n"
    "                   then reports placement [{device, layers:[first,last],\n"
    "                   busy_s, transfer_in}] per stage\n"
    "  --warmup N       untimed forward passes before timing (default 0)\n"
    "  --iters N        timed forward passes; seconds is their mean (default 1)\n"
    "check\n"
    "  --no-verify      skip the CPU reference run\n"
    "  --kv-only        report the KV-cache bytes at --seq and exit (no run)\n"
    "  --threads T      CPU reference threads (default 0 = all cores)\n"
    "  --tol NMSE       max normalised MSE, sum (a-r)^2 / sum r^2 (default 1e-6)\n"
    "  --atol A         also require |a-r| <= atol + rtol*|r| elementwise\n"
    "  --rtol R         (either enables the elementwise check; default off)\n"
    "output\n"
    "  --logits-out F   write the device output at every position as float32\n"
    "                   .npy [B, T, V] (logits) or [B, T, D] (hidden states)\n"
    "  --json           print one JSON object on stdout\n"
    "  -v, --verbose    log kernel compiles and cache events\n"
    "  -q, --quiet      no progress lines on stderr\n"
    "  -h, --help\n";

typedef struct {
    const char *preset;
    const char *device;
    const char *devices, *placement; /* --devices / --placement: a pipeline */
    const char *model_dir, *ids_file, *inputs_file, *logits_out;
    swacl_preset_params pp;
    int seq, batch, threads, warmup, iters;
    uint64_t seed;
    int verify, all_positions, json, verbose, kv_only;
    double tol, atol, rtol;
    int elementwise;
} run_opts;

static void print_presets(FILE *f)
{
    const char *const *names = swacl_preset_names();
    fputs("presets:", f);
    for (int i = 0; names[i]; i++) fprintf(f, " %s", names[i]);
    fputc('\n', f);
}

static void preset_list(char *buf, size_t len)
{
    const char *const *names = swacl_preset_names();
    size_t off = 0;
    buf[0] = 0;
    for (int i = 0; names[i] && off < len; i++) {
        int n = snprintf(buf + off, len - off, "%s%s", i ? ", " : "", names[i]);
        if (n < 0) break;
        off += (size_t)n;
    }
}

/* Returns -1 to go on, else an exit code (help printed, or usage error). */
static int run_parse(int argc, char **argv, run_opts *o)
{
    memset(o, 0, sizeof *o);
    o->preset = "rnope-swa";
    o->seq = 512;
    o->batch = 1;
    o->iters = 1;
    o->seed = 1;
    o->verify = 1;
    o->tol = 1e-6;

    /* integer options: name, target, minimum */
    struct {
        const char *name;
        int *dst;
        long lo;
    } ints[] = {
        {"--seq", &o->seq, 1},
        {"--batch", &o->batch, 1},
        {"--threads", &o->threads, 0},
        {"--warmup", &o->warmup, 0},
        {"--iters", &o->iters, 1},
        {"--window", &o->pp.window, 1},
        {"--chunk", &o->pp.chunk, 1},
        {"--train-len", &o->pp.train_len, 2},
        {"--layers", &o->pp.n_layers, 1},
        {"--hidden", &o->pp.hidden_size, 1},
        {"--heads", &o->pp.n_heads, 1},
        {"--kv-heads", &o->pp.n_kv_heads, 1},
        {"--ffn", &o->pp.ffn_dim, 1},
        {"--vocab", &o->pp.vocab_size, 1},
        {"--input-dim", &o->pp.input_dim, 1},
    };
    const int n_ints = (int)(sizeof ints / sizeof ints[0]);

    cli_args a = {argc, argv, 1, "run"};
    for (; a.i < argc; a.i++) {
        const char *s = argv[a.i], *v = NULL;
        int r;
        if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
            fputs(k_run_help, stdout);
            print_presets(stdout);
            return 0;
        }
        if (!strcmp(s, "--json")) { o->json = 1; continue; }
        if (!strcmp(s, "--no-verify")) { o->verify = 0; continue; }
        if (!strcmp(s, "--kv-only")) { o->kv_only = 1; continue; }
        if (!strcmp(s, "--all-positions")) { o->all_positions = 1; continue; }
        if (!strcmp(s, "-v") || !strcmp(s, "--verbose")) { o->verbose = 1; continue; }
        if (!strcmp(s, "-q") || !strcmp(s, "--quiet")) { cli_g_quiet = 1; continue; }

        if ((r = cli_opt_value(&a, "--preset", &v)) != 0) {
            if (r < 0) return EXIT_USAGE;
            o->preset = v;
            continue;
        }
        {
            const char **file_opt[] = {&o->model_dir, &o->ids_file, &o->inputs_file,
                                       &o->logits_out};
            const char *file_name[] = {"--model", "--ids-file", "--inputs-file", "--logits-out"};
            int f, hit = 0;
            for (f = 0; f < 4 && !hit; f++) {
                if ((r = cli_opt_value(&a, file_name[f], &v)) == 0) continue;
                if (r < 0) return EXIT_USAGE;
                if (!*v) {
                    cli_die_msg("invalid value '' for %s", file_name[f]);
                    return EXIT_USAGE;
                }
                *file_opt[f] = v;
                hit = 1;
            }
            if (hit) continue;
        }
        if ((r = cli_opt_value(&a, "--device", &v)) != 0) {
            if (r < 0) return EXIT_USAGE;
            if (!*v) {
                cli_die_msg("invalid value '' for --device");
                return EXIT_USAGE;
            }
            o->device = v;
            continue;
        }
        if ((r = cli_opt_value(&a, "--devices", &v)) != 0 ||
            (r = cli_opt_value(&a, "--placement", &v)) != 0) {
            if (r < 0) return EXIT_USAGE;
            int is_dev = !strncmp(s, "--devices", 9); /* s: the option word */
            if (!*v) {
                cli_die_msg("invalid value '' for %s", is_dev ? "--devices" : "--placement");
                return EXIT_USAGE;
            }
            *(is_dev ? &o->devices : &o->placement) = v;
            continue;
        }
        if ((r = cli_opt_value(&a, "--seed", &v)) != 0) {
            if (r < 0 || !cli_parse_u64("--seed", v, &o->seed)) return EXIT_USAGE;
            continue;
        }
        if ((r = cli_opt_value(&a, "--tol", &v)) != 0) {
            if (r < 0 || !cli_parse_pos_double("--tol", v, 1, &o->tol)) return EXIT_USAGE;
            continue;
        }
        if ((r = cli_opt_value(&a, "--atol", &v)) != 0) {
            if (r < 0 || !cli_parse_pos_double("--atol", v, 1, &o->atol)) return EXIT_USAGE;
            o->elementwise = 1;
            continue;
        }
        if ((r = cli_opt_value(&a, "--rtol", &v)) != 0) {
            if (r < 0 || !cli_parse_pos_double("--rtol", v, 1, &o->rtol)) return EXIT_USAGE;
            o->elementwise = 1;
            continue;
        }
        int k;
        for (k = 0; k < n_ints; k++) {
            if ((r = cli_opt_value(&a, ints[k].name, &v)) == 0) continue;
            long x;
            if (r < 0 || !cli_parse_int(ints[k].name, v, ints[k].lo, INT_MAX, &x)) return EXIT_USAGE;
            *ints[k].dst = (int)x;
            break;
        }
        if (k < n_ints) continue;
        if (s[0] == '-')
            cli_die_msg("run: unknown option '%s' (see 'swacl run --help')", s);
        else
            cli_die_msg("run: unexpected argument '%s' (see 'swacl run --help')", s);
        return EXIT_USAGE;
    }
    if (o->placement && !o->devices) o->devices = "all";
    if (o->devices && o->device) {
        cli_die_msg("give either --device or --devices, not both");
        return EXIT_USAGE;
    }
    if ((long long)o->seq * o->batch > INT_MAX) {
        cli_die_msg("--seq %d x --batch %d is too large", o->seq, o->batch);
        return EXIT_USAGE;
    }
    return -1;
}

/* Comparison of a device output against the reference. */
typedef struct {
    double max_abs_err, nmse;
    size_t nonfinite, n_bad;
} compare_result;

static compare_result compare(const float *a, const float *r, size_t n, double atol, double rtol)
{
    compare_result c = {0, 0, 0, 0};
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double x = a[i], y = r[i];
        if (!isfinite(x) || !isfinite(y)) {
            c.nonfinite++;
            continue;
        }
        double e = fabs(x - y);
        if (e > c.max_abs_err) c.max_abs_err = e;
        if (e > atol + rtol * fabs(y)) c.n_bad++;
        num += e * e;
        den += y * y;
    }
    c.nmse = den > 0 ? num / den : num;
    return c;
}

/* Create a context; on failure print the error and return NULL. */
static swacl_ctx *open_ctx(const char *device, int threads, int verbose)
{
    swacl_ctx_params p = swacl_ctx_params_default();
    p.device = device;
    p.threads = threads;
    p.verbose = verbose;
    swacl_ctx *ctx = NULL;
    swacl_status st = swacl_ctx_create(&p, &ctx);
    if (st != SWACL_OK) {
        char what[320];
        snprintf(what, sizeof what, "cannot open device '%s'", device ? device : "(default)");
        cli_die_detail(what, st, ctx ? swacl_ctx_errmsg(ctx) : NULL);
        swacl_ctx_destroy(ctx);
        return NULL;
    }
    return ctx;
}

static int runtime_fail(swacl_ctx *ctx, swacl_status st, const char *what)
{
    char w[512];
    snprintf(w, sizeof w, "%s failed on %s", what, ctx ? swacl_ctx_device_name(ctx) : "?");
    cli_die_detail(w, st, ctx ? swacl_ctx_errmsg(ctx) : NULL);
    return st == SWACL_INVALID_ARG ? EXIT_USAGE : EXIT_RUNTIME;
}

/* Create the model on ctx, run warmup + iters forwards into out; *seconds is
 * the mean wall time of the timed passes. Returns 0 or an exit code. */
static int run_on(swacl_ctx *ctx, const swacl_config *cfg, const swacl_weights *w,
                  const swacl_input *in, int all_positions, int warmup, int iters, float *out,
                  double *seconds)
{
    swacl_model *m = NULL;
    swacl_status st = swacl_model_create(ctx, cfg, w, &m);
    if (st != SWACL_OK) return runtime_fail(ctx, st, "model_create");
    for (int i = 0; i < warmup; i++) {
        st = swacl_model_forward(m, in, all_positions, out);
        if (st != SWACL_OK) {
            swacl_model_destroy(m);
            return runtime_fail(ctx, st, "forward (warmup)");
        }
    }
    double t0 = swacl_now();
    for (int i = 0; i < iters; i++) {
        st = swacl_model_forward(m, in, all_positions, out);
        if (st != SWACL_OK) {
            swacl_model_destroy(m);
            return runtime_fail(ctx, st, "forward");
        }
    }
    *seconds = (swacl_now() - t0) / iters;
    swacl_model_destroy(m);
    return 0;
}

/* --devices: build the pipeline, run warmup + iters forwards into out; the
 * stages (placement + busy seconds) go to st[]. Returns 0 or an exit code. */
static int run_pipeline(const run_opts *o, const swacl_config *cfg, const swacl_weights *w,
                        const swacl_input *in, float *out, double *seconds,
                        swacl_pipeline_stage *st, int max_st, int *n_st)
{
    swacl_ctx_params p = swacl_ctx_params_default();
    p.threads = o->threads;
    p.verbose = o->verbose;
    swacl_pipeline *pipe = NULL;
    swacl_ctx *pctx = cli_msg_ctx(&p); /* the pipeline's errors land here */
    swacl_status s = swacl_pipeline_create(pctx, o->devices, o->placement ? o->placement : "auto", cfg,
                                           w, &pipe);
    if (s != SWACL_OK) {
        cli_die_detail("cannot build the pipeline", s, swacl_ctx_errmsg(pctx));
        swacl_ctx_destroy(pctx);
        return s == SWACL_INVALID_ARG ? EXIT_USAGE : EXIT_RUNTIME;
    }
    double t0 = 0;
    for (int i = 0; i < o->warmup + o->iters && s == SWACL_OK; i++) {
        if (i == o->warmup) t0 = swacl_now();
        s = swacl_pipeline_forward(pipe, in, o->all_positions, out);
    }
    *seconds = (swacl_now() - t0) / o->iters;
    if (s != SWACL_OK) cli_die_detail("pipeline forward failed", s, swacl_ctx_errmsg(pctx));
    else swacl_pipeline_describe(pipe, st, max_st, n_st);
    swacl_pipeline_destroy(pipe);
    swacl_ctx_destroy(pctx);
    return s == SWACL_OK ? 0 : s == SWACL_INVALID_ARG ? EXIT_USAGE : EXIT_RUNTIME;
}

/* Short layer pattern, e.g. "W512+rope W512+rope W512+rope G+temp" (span
 * letter Global/Window/Chunk and size per layer). Truncated with "...". */
static void layer_pattern(const swacl_config *c, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = 0;
    for (int i = 0; i < c->n_layers; i++) {
        const swacl_layer_spec *l = &c->layers[i];
        char one[32];
        int n = snprintf(one, sizeof one, "%s%c", i ? " " : "",
                         l->span == SWACL_SPAN_WINDOW  ? 'W'
                         : l->span == SWACL_SPAN_CHUNK ? 'C'
                                                       : 'G');
        if (l->span != SWACL_SPAN_GLOBAL)
            n += snprintf(one + n, sizeof one - (size_t)n, "%d", l->span_size);
        if (l->pos != SWACL_POS_NONE) n += snprintf(one + n, sizeof one - (size_t)n, "+rope");
        if (l->temp != SWACL_TEMP_NONE) snprintf(one + n, sizeof one - (size_t)n, "+temp");
        if (off + strlen(one) + 4 >= len) {
            snprintf(buf + off, len - off, " ...");
            return;
        }
        off += (size_t)snprintf(buf + off, len - off, "%s", one);
    }
}

/* --ids-file: whitespace-separated ids, one line per sequence, all lines
 * the same length, every id in [0, vocab). Returns 0 or an exit code. */
static int read_ids_file(const char *path, int vocab, int32_t **ids, int *B, int *T)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    char err[1024];
    *ids = NULL;
    if (swacl_read_file(path, &buf, &len, err, sizeof err) != SWACL_OK) {
        cli_die_msg("%s", err);
        return EXIT_USAGE;
    }
    int32_t *v = malloc((len / 2 + 1) * sizeof *v);
    if (!v) {
        free(buf);
        cli_die_msg("out of memory");
        return EXIT_RUNTIME;
    }
    int rows = 0, cols = -1, n = 0, line_no = 0;
    char *p = (char *)buf;
    while (*p) {
        char *eol = strchr(p, '\n');
        if (eol) *eol = 0;
        line_no++;
        int c = 0;
        for (char *q = p;;) {
            while (*q == ' ' || *q == '\t' || *q == '\r') q++;
            if (!*q) break;
            char *end;
            errno = 0;
            long x = strtol(q, &end, 10);
            if (end == q || errno || (*end && *end != ' ' && *end != '\t' && *end != '\r') ||
                x < 0 || x >= vocab) {
                cli_die_msg("%s:%d: token %d is not an id in [0, %d)", path, line_no, c + 1, vocab);
                goto bad;
            }
            v[n++] = (int32_t)x;
            c++;
            q = end;
        }
        if (c > 0) {
            if (cols >= 0 && c != cols) {
                cli_die_msg("%s:%d: %d ids, but earlier lines have %d (all sequences of a batch "
                            "must have the same length)",
                            path, line_no, c, cols);
                goto bad;
            }
            cols = c;
            rows++;
        }
        if (!eol) break;
        p = eol + 1;
    }
    free(buf);
    if (rows == 0) {
        free(v);
        cli_die_msg("%s: no token ids", path);
        return EXIT_USAGE;
    }
    *ids = v;
    *B = rows;
    *T = cols;
    return 0;
bad:
    free(buf);
    free(v);
    return EXIT_USAGE;
}

static int cmd_run(int argc, char **argv)
{
    run_opts o;
    int rc = run_parse(argc, argv, &o);
    if (rc >= 0) return rc;

    /* configuration */
    swacl_config cfg;
    swacl_weights *w_loaded = NULL; /* --model */
    int32_t *ids_loaded = NULL;     /* --ids-file */
    float *embeds_loaded = NULL;    /* --inputs-file */
    if (o.model_dir) {
        char err[1024];
        swacl_ctx *ec = cli_msg_ctx(NULL);
        swacl_status lst = swacl_load_hf(ec, o.model_dir, &cfg, &w_loaded);
        cli_take_msg(ec, err, sizeof err);
        if (lst != SWACL_OK) {
            cli_die_msg("cannot load --model %s: %s", o.model_dir, err);
            return lst == SWACL_OUT_OF_MEMORY || lst == SWACL_IO ? EXIT_RUNTIME : EXIT_USAGE;
        }
        o.preset = o.model_dir; /* the label in the report */
    } else if (swacl_preset_ex(o.preset, &o.pp, &cfg) != SWACL_OK) {
        char names[512];
        preset_list(names, sizeof names);
        if (swacl_preset(o.preset, &cfg) != SWACL_OK)
            cli_die_msg("unknown preset '%s' (valid: %s)", o.preset, names);
        else
            cli_die_msg("preset '%s': invalid size override (e.g. --layers must be 1..%d)", o.preset,
                    SWACL_MAX_LAYERS);
        return EXIT_USAGE;
    }
    char msg[512];
    swacl_ctx *vc = cli_msg_ctx(NULL);
    swacl_status vst = swacl_config_validate(vc, &cfg);
    cli_take_msg(vc, msg, sizeof msg);
    if (vst != SWACL_OK) {
        cli_die_msg("invalid configuration for preset '%s': %s", o.preset, msg);
        swacl_weights_destroy(w_loaded);
        return EXIT_USAGE;
    }
    if (o.ids_file || o.inputs_file) {
        int bad = 0;
        if (o.ids_file && o.inputs_file) {
            cli_die_msg("give either --ids-file or --inputs-file, not both");
            bad = EXIT_USAGE;
        } else if (o.ids_file && cfg.vocab_size < 1) {
            cli_die_msg("--ids-file: this model takes continuous inputs (use --inputs-file)");
            bad = EXIT_USAGE;
        } else if (o.inputs_file && cfg.vocab_size > 0) {
            cli_die_msg("--inputs-file: this model takes token ids (use --ids-file)");
            bad = EXIT_USAGE;
        } else if (o.ids_file) {
            bad = read_ids_file(o.ids_file, cfg.vocab_size, &ids_loaded, &o.batch, &o.seq);
        } else {
            char err[1024];
            int nd = 0;
            int64_t sh[SWACL_NPY_MAX_DIMS];
            if (swacl_npy_read_f32(o.inputs_file, &embeds_loaded, &nd, sh, err, sizeof err) !=
                SWACL_OK) {
                cli_die_msg("--inputs-file: %s", err);
                bad = EXIT_USAGE;
            } else if (nd != 3 || sh[0] < 1 || sh[1] < 1 || sh[2] != cfg.input_dim ||
                       sh[0] * sh[1] > INT_MAX) {
                cli_die_msg("--inputs-file %s: shape must be [B, T, %d] with B, T >= 1", o.inputs_file,
                            cfg.input_dim);
                bad = EXIT_USAGE;
            } else {
                o.batch = (int)sh[0];
                o.seq = (int)sh[1];
            }
        }
        if (bad) {
            swacl_weights_destroy(w_loaded);
            free(embeds_loaded);
            return bad;
        }
    }
    if (o.logits_out) o.all_positions = 1;

    const int B = o.batch, T = o.seq;
    const int width = swacl_output_size(&cfg);
    const size_t out_n = (size_t)B * (size_t)(o.all_positions ? T : 1) * (size_t)width;
    uint64_t kv_global = 0, kv_window = 0;
    uint64_t kv_total = swacl_kv_bytes(&cfg, B, T, &kv_global, &kv_window);
    if (o.kv_only) { /* memory comparison at any length, nothing allocated */
        if (o.json) {
            cJSON *j = cJSON_CreateObject();
            cJSON_AddStringToObject(j, "preset", o.preset);
            cJSON_AddNumberToObject(j, "seq", T);
            cJSON_AddNumberToObject(j, "batch", B);
            cJSON_AddNumberToObject(j, "kv_bytes", (double)kv_total);
            cJSON_AddNumberToObject(j, "kv_bytes_global", (double)kv_global);
            cJSON_AddNumberToObject(j, "kv_bytes_window", (double)kv_window);
            char *js = cJSON_PrintUnformatted(j);
            printf("%s\n", js);
            free(js);
            cJSON_Delete(j);
        } else {
            printf("preset           %s\nseq              %d\nbatch            %d\n"
                   "kv_bytes         %llu (global %llu, window %llu)\n",
                   o.preset, T, B, (unsigned long long)kv_total, (unsigned long long)kv_global,
                   (unsigned long long)kv_window);
        }
        swacl_weights_destroy(w_loaded);
        free(ids_loaded);
        free(embeds_loaded);
        return 0;
    }

    /* weights and seeded inputs */
    swacl_weights *w = w_loaded;
    int32_t *ids = ids_loaded;
    float *embeds = embeds_loaded, *out = NULL, *ref = NULL;
    swacl_ctx *ctx = NULL, *rctx = NULL;
    rc = EXIT_RUNTIME;

    cli_progress("preset %s: %d layers, hidden %d, seq %d, batch %d", o.preset, cfg.n_layers,
             cfg.hidden_size, T, B);
    swacl_status st = w ? SWACL_OK : swacl_weights_create_random(&cfg, o.seed, &w);
    if (st != SWACL_OK) {
        cli_die_msg("cannot create random weights: %s", swacl_status_string(st));
        goto done;
    }
    swacl_input in = {B, T, NULL, NULL};
    swacl_rng rng = {o.seed ^ 0x5851F42D4C957F2Dull};
    if (ids) {
        in.ids = ids;
    } else if (embeds) {
        in.embeds = embeds;
    } else if (cfg.vocab_size > 0) {
        ids = malloc((size_t)B * (size_t)T * sizeof *ids);
        if (!ids) goto oom;
        for (size_t i = 0; i < (size_t)B * (size_t)T; i++)
            ids[i] = (int32_t)(swacl_rng_next(&rng) % (uint64_t)cfg.vocab_size);
        in.ids = ids;
    } else {
        size_t n = (size_t)B * (size_t)T * (size_t)cfg.input_dim;
        embeds = malloc(n * sizeof *embeds);
        if (!embeds) goto oom;
        for (size_t i = 0; i < n; i++) embeds[i] = swacl_rng_uniform(&rng);
        in.embeds = embeds;
    }
    out = calloc(out_n, sizeof *out);
    if (!out) goto oom;

    /* device run (or a pipeline over --devices) */
    swacl_pipeline_stage stages[SWACL_MAX_LAYERS];
    int n_stages = 0, hits = 0, misses = 0;
    double seconds = 0, compile_s = 0;
    char pipe_name[200];
    const char *dev_name = pipe_name;
    if (o.devices) {
        snprintf(pipe_name, sizeof pipe_name, "pipeline %.180s", o.devices);
        cli_progress("running on %s (placement %s)...", pipe_name, o.placement ? o.placement : "auto");
        if ((rc = run_pipeline(&o, &cfg, w, &in, out, &seconds, stages, SWACL_MAX_LAYERS, &n_stages)) != 0)
            goto done;
    } else {
        ctx = open_ctx(o.device, o.threads, o.verbose);
        if (!ctx) goto done;
        dev_name = swacl_ctx_device_name(ctx);
        cli_progress("running on %s...", dev_name);
        if ((rc = run_on(ctx, &cfg, w, &in, o.all_positions, o.warmup, o.iters, out, &seconds)) != 0)
            goto done;
        compile_s = swacl_ctx_compile_seconds(ctx, &hits, &misses);
    }
    rc = EXIT_RUNTIME;

    /* reference run and comparison */
    double ref_seconds = 0;
    compare_result cmp = {0, 0, 0, 0};
    size_t dev_nonfinite = 0;
    for (size_t i = 0; i < out_n; i++) dev_nonfinite += !isfinite(out[i]);
    int ok = dev_nonfinite == 0;
    if (o.verify) {
        ref = calloc(out_n, sizeof *ref);
        if (!ref) goto oom;
        cli_progress("running reference...");
        rctx = open_ctx("ref", o.threads, o.verbose);
        if (!rctx) goto done;
        if ((rc = run_on(rctx, &cfg, w, &in, o.all_positions, 0, 1, ref, &ref_seconds)) != 0)
            goto done;
        cmp = compare(out, ref, out_n, o.atol, o.rtol);
        ok = cmp.nonfinite == 0 && cmp.nmse <= o.tol && (!o.elementwise || cmp.n_bad == 0);
    }
    double tps = seconds > 0 ? (double)B * T / seconds : 0;
    if (o.logits_out) {
        char err[1024];
        int64_t shape[3] = {B, T, width};
        if (swacl_npy_write_f32(o.logits_out, out, 3, shape, err, sizeof err) != SWACL_OK) {
            cli_die_msg("--logits-out: %s", err);
            rc = EXIT_RUNTIME;
            goto done;
        }
        cli_progress("wrote %s [%d, %d, %d]", o.logits_out, B, T, width);
    }

    if (o.json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "device", dev_name);
        cJSON_AddStringToObject(j, "preset", o.preset);
        cJSON_AddNumberToObject(j, "seq", T);
        cJSON_AddNumberToObject(j, "batch", B);
        cJSON_AddNumberToObject(j, "layers", cfg.n_layers);
        cJSON_AddNumberToObject(j, "hidden", cfg.hidden_size);
        cJSON_AddNumberToObject(j, "heads", cfg.n_heads);
        cJSON_AddNumberToObject(j, "kv_heads", cfg.n_kv_heads);
        cJSON_AddNumberToObject(j, "seed", (double)o.seed);
        cJSON_AddNumberToObject(j, "iters", o.iters);
        cJSON_AddNumberToObject(j, "seconds", seconds);
        cJSON_AddNumberToObject(j, "tokens_per_s", tps);
        cJSON_AddNumberToObject(j, "compile_seconds", compile_s);
        cJSON_AddNumberToObject(j, "cache_hits", hits);
        cJSON_AddNumberToObject(j, "cache_misses", misses);
        cJSON_AddNumberToObject(j, "kv_bytes", (double)kv_total);
        cJSON_AddNumberToObject(j, "kv_bytes_global", (double)kv_global);
        cJSON_AddNumberToObject(j, "kv_bytes_window", (double)kv_window);
        cJSON_AddBoolToObject(j, "verified", o.verify);
        if (o.verify) {
            cJSON_AddNumberToObject(j, "ref_seconds", ref_seconds);
            cJSON_AddNumberToObject(j, "max_abs_err", cmp.max_abs_err);
            cJSON_AddNumberToObject(j, "nmse", cmp.nmse);
            cJSON_AddNumberToObject(j, "tol", o.tol);
            cJSON_AddNumberToObject(j, "nonfinite", (double)cmp.nonfinite);
            if (o.elementwise) {
                cJSON_AddNumberToObject(j, "atol", o.atol);
                cJSON_AddNumberToObject(j, "rtol", o.rtol);
                cJSON_AddNumberToObject(j, "n_over_tol", (double)cmp.n_bad);
            }
        } else {
            cJSON_AddNullToObject(j, "max_abs_err");
            cJSON_AddNullToObject(j, "nmse");
        }
        if (o.devices) {
            cJSON *pl = cJSON_AddArrayToObject(j, "placement");
            cJSON *busy = cJSON_AddArrayToObject(j, "busy_s");
            for (int i = 0; i < n_stages; i++) {
                cJSON *e = cJSON_CreateObject();
                cJSON_AddNumberToObject(e, "device", stages[i].device);
                cJSON_AddStringToObject(e, "selector", stages[i].selector);
                cJSON_AddStringToObject(e, "name", stages[i].device_name);
                int lr[2] = {stages[i].layer_begin, stages[i].layer_end - 1};
                cJSON_AddItemToObject(e, "layers", cJSON_CreateIntArray(lr, 2));
                cJSON_AddNumberToObject(e, "busy_s", stages[i].busy_s);
                if (i) cJSON_AddStringToObject(e, "transfer_in", stages[i].transfer_in);
                cJSON_AddItemToArray(pl, e);
                cJSON_AddItemToArray(busy, cJSON_CreateNumber(stages[i].busy_s));
            }
        }
        cJSON_AddBoolToObject(j, "ok", ok);
        if (cli_emit_json(j) != 0) goto done;
    } else {
        cli_kv_line l[24];
        int n = 0;
#define KV(k, ...) (l[n].key = (k), snprintf(l[n].val, sizeof l[n].val, __VA_ARGS__), n++)
        char b1[32], b2[32], b3[32], pat[256];
        layer_pattern(&cfg, pat, sizeof pat);
        KV("device", "%s", dev_name);
        KV("preset", "%s", o.preset);
        KV("model", "%d layers, hidden %d, heads %d/%d kv, ffn %d, %s %d", cfg.n_layers,
           cfg.hidden_size, cfg.n_heads, cfg.n_kv_heads, cfg.ffn_dim,
           cfg.vocab_size ? "vocab" : "input_dim", cfg.vocab_size ? cfg.vocab_size : cfg.input_dim);
        KV("layers", "%s", pat);
        for (int i = 0; i < n_stages && n < 12; i++) /* l[] holds 24 lines */
            KV(i ? "" : "placement", "layers %d-%d on device %d (%.16s %.120s), busy %.4f s%s%.15s",
               stages[i].layer_begin, stages[i].layer_end - 1, stages[i].device, stages[i].selector,
               stages[i].device_name, stages[i].busy_s, i ? ", input by " : "", stages[i].transfer_in);
        KV("seq", "%d", T);
        KV("batch", "%d", B);
        KV("seconds", "%.4f%s", seconds, o.iters > 1 ? " (mean)" : "");
        KV("tokens_per_s", "%.1f", tps);
        KV("compile_seconds", "%.3f (cache hits %d, misses %d)", compile_s, hits, misses);
        cli_fmt_bytes(b1, sizeof b1, kv_total);
        cli_fmt_bytes(b2, sizeof b2, kv_global);
        cli_fmt_bytes(b3, sizeof b3, kv_window);
        KV("kv_bytes", "%s (global %s, window %s) at context %d", b1, b2, b3, T);
        if (o.verify) {
            KV("ref_seconds", "%.4f", ref_seconds);
            KV("max_abs_err", "%.3e", cmp.max_abs_err);
            KV("nmse", "%.3e (tol %.1e)", cmp.nmse, o.tol);
            if (cmp.nonfinite) KV("nonfinite", "%zu", cmp.nonfinite);
            if (o.elementwise)
                KV("over_atol_rtol", "%zu of %zu (atol %.1e, rtol %.1e)", cmp.n_bad, out_n, o.atol,
                   o.rtol);
            KV("ok", "%s", ok ? "yes" : "NO");
        } else {
            KV("ok", "%s", ok ? "yes (not verified: --no-verify)" : "NO (non-finite output)");
        }
#undef KV
        cli_print_kv(l, n);
    }
    if (!ok) {
        if (o.verify)
            cli_die_msg("verification failed: nmse %.3e (tol %.1e), max_abs_err %.3e, %zu non-finite%s",
                    cmp.nmse, o.tol, cmp.max_abs_err, cmp.nonfinite,
                    o.elementwise && cmp.n_bad ? ", elements over atol/rtol" : "");
        else
            cli_die_msg("verification failed: %zu non-finite outputs", dev_nonfinite);
        rc = EXIT_VERIFY;
    } else {
        rc = 0;
    }
    goto done;

oom:
    cli_die_msg("out of memory");
    rc = EXIT_RUNTIME;
done:
    swacl_ctx_destroy(rctx);
    swacl_ctx_destroy(ctx);
    swacl_weights_destroy(w);
    free(ids);
    free(embeds);
    free(out);
    free(ref);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* swacl save                                                                */

static const char k_save_help[] =
    "usage: swacl save --preset P --out DIR [--seed S] [size options of `swacl run`]\n"
    "\n"
    "Write a preset with its seeded random weights as a Hugging Face style\n"
    "directory: config.json (model_type \"swacl\", the full per-layer spec) and\n"
    "model.safetensors (F32). `swacl run --model DIR` loads it back exactly.\n"
    "Size options: --window --chunk --train-len --layers --hidden --heads\n"
    "--kv-heads --ffn --vocab --input-dim.\n";

static int cmd_save(int argc, char **argv)
{
    const char *dir = NULL;
    char **rest = malloc((size_t)(argc + 1) * sizeof *rest);
    if (!rest) {
        cli_die_msg("out of memory");
        return EXIT_RUNTIME;
    }
    int n = 0;
    rest[n++] = argv[0];
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(k_save_help, stdout);
            print_presets(stdout);
            free(rest);
            return 0;
        }
        if (!strcmp(argv[i], "--out") && i + 1 < argc) {
            dir = argv[++i];
        } else if (!strncmp(argv[i], "--out=", 6)) {
            dir = argv[i] + 6;
        } else {
            rest[n++] = argv[i];
        }
    }
    rest[n] = NULL;
    run_opts o;
    int rc = run_parse(n, rest, &o);
    free(rest);
    if (rc >= 0) return rc;
    if (!dir || !*dir) {
        cli_die_msg("save: --out DIR is required (see 'swacl save --help')");
        return EXIT_USAGE;
    }
    if (o.model_dir || o.ids_file || o.inputs_file || o.logits_out) {
        cli_die_msg("save: --model / --ids-file / --inputs-file / --logits-out do not apply");
        return EXIT_USAGE;
    }
    swacl_config cfg;
    char msg[1024];
    if (swacl_preset_ex(o.preset, &o.pp, &cfg) != SWACL_OK) {
        preset_list(msg, sizeof msg);
        cli_die_msg("unknown preset '%s' or invalid size override (presets: %s)", o.preset, msg);
        return EXIT_USAGE;
    }
    swacl_ctx *ec = cli_msg_ctx(NULL);
    swacl_status vst = swacl_config_validate(ec, &cfg);
    if (vst != SWACL_OK) {
        cli_take_msg(ec, msg, sizeof msg);
        cli_die_msg("invalid configuration for preset '%s': %s", o.preset, msg);
        return EXIT_USAGE;
    }
    swacl_weights *w = NULL;
    swacl_status st = swacl_weights_create_random(&cfg, o.seed, &w);
    if (st != SWACL_OK) {
        swacl_ctx_destroy(ec);
        cli_die_msg("cannot create random weights: %s", swacl_status_string(st));
        return EXIT_RUNTIME;
    }
    st = swacl_save_hf(ec, dir, &cfg, w);
    cli_take_msg(ec, msg, sizeof msg);
    swacl_weights_destroy(w);
    if (st != SWACL_OK) {
        cli_die_msg("save: %s", msg);
        return st == SWACL_INVALID_ARG ? EXIT_USAGE : EXIT_RUNTIME;
    }
    cli_progress("wrote %s/config.json and %s/model.safetensors (preset %s, seed %llu)", dir, dir,
                 o.preset, (unsigned long long)o.seed);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* main                                                                      */

/* Commands written in their own files: cli/cmd_generate.c, cmd_bench.c,
 * cmd_tune.c. Each takes argv with argv[0] = command name. */
#include "cli/cmd_bench.h"
#include "cli/cmd_generate.h"
#include "cli/cmd_tune.h"

static const char k_main_help[] =
    "usage: swacl [--version] [--help] COMMAND [options]\n"
    "\n"
    "Portable OpenCL backend for hybrid sliding-window / global-NoPE transformers.\n"
    "\n"
    "commands\n"
    "  devices   list OpenCL devices\n"
    "  run       run a preset model on a device and check it against the CPU reference\n"
    "  generate  prefill + KV-cache decode with sampling (optionally checked)\n"
    "  save      write a preset (seeded weights) as a Hugging Face style directory\n"
    "  bench     cross-device benchmarks (peaks, kernels, end to end)\n"
    "  tune      search CLBlast GEMM parameters for a device and store the winner\n"
    "\n"
    "Every command accepts --json (one JSON object on stdout) and --help.\n"
    "Exit codes: 0 ok, 1 runtime error, 2 usage error, 3 verification failure.\n";

static int cli_main(int argc, char **argv);

#if defined(SWACL_LSAN_EARLY)
#include <sanitizer/lsan_interface.h>
#endif

int main(int argc, char **argv)
{
    int rc = cli_main(argc, argv);
#if defined(SWACL_LSAN_EARLY)
    /* Sanitizer builds: run the leak check now, while the OpenCL driver's
     * worker threads are idle. LSan's own at-exit check can race with PoCL
     * tearing those threads down in its destructors and crash the tracer
     * ("Tracer caught signal 11"), seen under load in CI. A leak exits with
     * LSan's exit code here; the at-exit check is then skipped. */
    __lsan_do_leak_check();
#endif
    return rc;
}

static int cli_main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(k_main_help, stderr);
        cli_die_msg("no command given");
        return EXIT_USAGE;
    }
    const char *c = argv[1];
    if (!strcmp(c, "-h") || !strcmp(c, "--help") || !strcmp(c, "help")) {
        fputs(k_main_help, stdout);
        return 0;
    }
    if (!strcmp(c, "--version") || !strcmp(c, "version")) {
        int v = swacl_version_number();
        printf("swacl %s (library %d.%d.%d)\n", SWACL_VERSION_STRING, v / 10000, v / 100 % 100,
               v % 100);
        return 0;
    }
    if (!strcmp(c, "devices")) return cmd_devices(argc - 1, argv + 1);
    if (!strcmp(c, "run")) return cmd_run(argc - 1, argv + 1);
    if (!strcmp(c, "save")) return cmd_save(argc - 1, argv + 1);
    if (!strcmp(c, "generate")) return swacl_cmd_generate(argc - 1, argv + 1);
    if (!strcmp(c, "bench")) return swacl_cmd_bench(argc - 1, argv + 1);
    if (!strcmp(c, "tune")) return swacl_cmd_tune(argc - 1, argv + 1);
    if (c[0] == '-')
        cli_die_msg("unknown option '%s' (see 'swacl --help')", c);
    else
        cli_die_msg("unknown command '%s' (see 'swacl --help')", c);
    return EXIT_USAGE;
}
