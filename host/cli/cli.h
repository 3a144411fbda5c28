/*
 * cli.h - what the swacl command's files share: messages, JSON and table
 * output, the option-table parser, the model setup (preset / --model /
 * size overrides / validation) and the runner (one device or a pipeline).
 * The CLI is a client of include/swacl.h only.
 */
#ifndef SWACL_CLI_H
#define SWACL_CLI_H

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>

#include "swacl.h"
#include "swacl_mpi.h" /* SWACL_MAIN, SWACL_PIPELINE_CREATE: MPI ranks when built with it */

/* Exit codes of every command; CLI_CONTINUE: parsed, go on. */
enum { CLI_CONTINUE = -1, EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2, EXIT_VERIFY = 3 };

extern int cli_g_quiet; /* -q: no cli_progress lines */

#define CLI_PRINTF(a, b) __attribute__((format(printf, a, b))) /* gcc, clang */

/* ---- messages and output: errors "swacl: error: ..." on stderr -------- */

void cli_die_msg(const char *fmt, ...) CLI_PRINTF(1, 2);
void cli_progress(const char *fmt, ...) CLI_PRINTF(1, 2); /* "swacl: ..." unless -q */
/* "<what>: <status>: <detail's first line>", its other lines indented. */
void cli_die_detail(const char *what, swacl_status st, const char *detail);
int cli_exit(swacl_status st); /* status -> exit code */
int cli_fail(swacl_ctx *ctx, swacl_status st, const char *what); /* detail: ctx's message */
int cli_emit_json(cJSON *obj); /* one line on stdout; frees obj */
/* Every command's result: one JSON object with --json, else its scalars as "key
 * value" lines and each array of objects as a table. Frees obj. */
int cli_output(cJSON *obj, int json);
/* Add fields to j: spec "s:device i:seq b:ok", one "type:key" per value (s string,
 * i int, d double, u uint64_t, z size_t, b bool; "-:key" adds null, no value). */
void cli_json_add(cJSON *j, const char *spec, ...);
/* weight_bytes_<type> per storage type, weight_bytes_total, peak_rss_bytes */
void cli_json_mem(cJSON *j, const swacl_weights *w);
double cli_now(void);          /* monotonic seconds */

/* ---- options -------------------------------------------------------------- */

/* One option: name ("--seq", or "-q|--quiet"), kind, where the value goes
 * (int* for FLAG and INT, uint64_t*, double*, const char** for STR), an
 * inclusive range for INT / DOUBLE, the value's name and help for --help
 * (help NULL: hidden; '\n' starts an indented line). A SECTION row is a
 * heading in --help; a STR row named without '-' ("TEXT") takes a bare word. */
typedef enum { CLI_FLAG, CLI_INT, CLI_U64, CLI_DOUBLE, CLI_STR, CLI_SECTION } cli_opt_kind;
typedef struct {
    const char *name;
    cli_opt_kind kind;
    void *dest;
    double lo, hi;
    const char *arg, *help;
} cli_opt;

typedef struct {
    const char *name;   /* "run": messages say "run: ..." */
    const char *intro;  /* usage line + description, printed first by --help */
    const cli_opt *opts; /* ends with a {NULL} row */
    int list_presets;   /* --help ends with the preset names */
} cli_cmd;

/* --json and -q, in every command. */
#define CLI_OUTPUT_OPTS(json)                                                                 \
    {"--json", CLI_FLAG, (json), 0, 0, NULL, "print one JSON object on stdout"},              \
    {"-q|--quiet", CLI_FLAG, &cli_g_quiet, 0, 0, NULL, "no progress lines on stderr"}

/* Parse argv[1..] (argv[0]: the command) into the table. CLI_CONTINUE, else an exit
 * code: EXIT_OK after --help, EXIT_USAGE after a message. "--opt V" or "--opt=V";
 * integers are decimal (010 is 10, 0x10 is refused). */
int cli_parse(const cli_cmd *cmd, int argc, char **argv);

/* ---- model setup: preset / --model DIR / size overrides / validation ----- */

typedef struct {
    const char *preset, *model_dir, *weights;
    int allow_nonfinite, wtype; /* wtype: --weights parsed by cli_model_setup */
    swacl_preset_params pp;
} cli_model;

#define CLI_INT_MAX 2147483647.0
#define CLI_MODEL_OPTS(m, default_preset)                                                    \
    {"model", CLI_SECTION, NULL, 0, 0, NULL, ""},                                             \
    {"--preset", CLI_STR, &(m)->preset, 0, 0, "P",                                            \
     "preset name (default " default_preset "; see the list below)"},                         \
    {"--model", CLI_STR, &(m)->model_dir, 0, 0, "DIR",                                        \
     "load a Hugging Face checkpoint instead (config.json +\nmodel.safetensors; `swacl models`) or a .gguf file"}, \
    {"--allow-nonfinite", CLI_FLAG, &(m)->allow_nonfinite, 0, 0, NULL, "load NaN/Inf weights"}, \
    {"--weights", CLI_STR, &(m)->weights, 0, 0, "T",                                          \
     "weight storage: f32 f16 bf16 q8_0 q4_0 (default: as stored)"},                          \
    {"--window", CLI_INT, &(m)->pp.window, 1, CLI_INT_MAX, "W", "W of every sliding-window layer"}, \
    {"--chunk", CLI_INT, &(m)->pp.chunk, 1, CLI_INT_MAX, "C",                                 \
     "C of every chunked layer (irope-llama4)"},                                              \
    {"--train-len", CLI_INT, &(m)->pp.train_len, 2, CLI_INT_MAX, "L",                         \
     "L_train / floor_scale of the query-temperature rules"},                                 \
    {"--layers", CLI_INT, &(m)->pp.n_layers, 1, CLI_INT_MAX, "L",                             \
     "number of layers (the preset's layer pattern is re-derived)"},                          \
    {"--hidden", CLI_INT, &(m)->pp.hidden_size, 1, CLI_INT_MAX, "D",                          \
     "hidden size (head_dim = D / heads)"},                                                   \
    {"--heads", CLI_INT, &(m)->pp.n_heads, 1, CLI_INT_MAX, "H", "attention heads"},          \
    {"--kv-heads", CLI_INT, &(m)->pp.n_kv_heads, 1, CLI_INT_MAX, "K", "KV heads (must divide H)"}, \
    {"--ffn", CLI_INT, &(m)->pp.ffn_dim, 1, CLI_INT_MAX, "F", "FFN width"},                   \
    {"--vocab", CLI_INT, &(m)->pp.vocab_size, 1, CLI_INT_MAX, "V", "vocabulary (token-id presets)"}, \
    {"--input-dim", CLI_INT, &(m)->pp.input_dim, 1, CLI_INT_MAX, "N",                         \
     "input width (continuous-input presets)"}

/* Fill *cfg from the preset or --model DIR and validate it; *w gets the loaded
 * weights (NULL for a preset). 0 or an exit code (message printed). After
 * --model, m->preset names the directory (the label). */
int cli_model_setup(cli_model *m, swacl_config *cfg, swacl_weights **w);
/* Seeded random weights when *w is still NULL, stored as --weights. 0 or an exit code. */
int cli_model_weights(const cli_model *m, const swacl_config *cfg, uint64_t seed, swacl_weights **w);

/* A host-only context ("ref"): the error channel of calls that need no device
 * (ids, .npy, sampling, tuning). NULL after a message. */
swacl_ctx *cli_host_ctx_ex(int allow_nonfinite, int wtype); /* as swacl_ctx_params */
#define cli_host_ctx() cli_host_ctx_ex(0, 0)

/* ---- runner: one device, or a layer pipeline over --devices ------------- */

typedef struct {
    const char *device, *devices, *placement, *kv_type;
    int threads, verbose;
} cli_device;

/* --verify-mem: the reference's memory bound (swacl_tolerance.mem_limit) */
#define CLI_VERIFY_MEM_OPT(v) {"--verify-mem", CLI_U64, v, 0, 0, "BYTES", \
     "memory the CPU reference may take (default MemAvailable);\nover it the check is skipped, not run"}
#define CLI_DEVICE_OPTS(d)                                                                    \
    {"device", CLI_SECTION, NULL, 0, 0, NULL, ""},                                            \
    {"--device", CLI_STR, &(d)->device, 0, 0, "D",                                            \
     "N (index from `swacl devices`), N.K (one-compute-unit\nsub-device K of N), gpu, cpu, "  \
     "a name substring, or ref\n(default: first GPU, else first CPU)"},                       \
    {"--devices", CLI_STR, &(d)->devices, 0, 0, "LIST",                                       \
     "pipeline the layers over several devices: \"all\" or a\ncomma list of --device "        \
     "selectors (\"0,1\", \"0,ref\",\n\"0.0,0.1\"); activations move by device copy when "    \
     "the\ndevices share a platform, else via pinned host\nmemory; under mpirun: RANK:SEL,... (\"0:0,1:0\")"}, \
    {"--placement", CLI_STR, &(d)->placement, 0, 0, "P",                                      \
     "with --devices: auto (calibrate, balance, cached) or a\nSPEC \"0-3:0,4-7:1\" (layers -> " \
     "index in LIST); --json\nthen reports placement [{device, layers:[first,last],\n"        \
     "busy_s, transfer_in}] per stage"},                                                      \
    {"--threads", CLI_INT, &(d)->threads, 0, CLI_INT_MAX, "T",                                \
     "CPU reference threads, at most 1024 (default 0 = all cores)"},                                        \
    {"--kv-type", CLI_STR, &(d)->kv_type, 0, 0, "T", "KV cache storage: f32 or f16 (default: f16 unless\nevery weight matrix is f32)"}, \
    {"-v|--verbose", CLI_FLAG, &(d)->verbose, 0, 0, NULL, "log kernel compiles and cache events"}

/* --device and --devices exclude each other; --placement alone: --devices all. */
int cli_device_check(cli_device *d);

/* Driven through r.pipe / r.ps (swacl_pipeline_*): a pipeline over --devices on a
 * host context, or one device's one-stage pipeline. */
typedef struct {
    swacl_ctx *ctx; /* the device's context, or the pipeline's host one     */
    swacl_model *m; /* one device: its model                                */
    swacl_pipeline *pipe;
    swacl_pipeline_session *ps; /* when opened with max_ctx > 0             */
    char name[200];
} cli_runner;

/* Open d ("ref": the reference) with cfg + w, and a session of batch sequences
 * when max_ctx > 0. 0 or an exit code (message printed). */
int cli_runner_open(cli_runner *r, const cli_device *d, const swacl_config *cfg,
                    const swacl_weights *w, int batch, int max_ctx);
void cli_runner_close(cli_runner *r);
/* A pipeline's placement / busy_s / ranks into j (KV for batch x n_ctx). */
void cli_json_pipeline(cJSON *j, const cli_runner *r, int batch, int n_ctx);
/* "<what> failed on <runner>: <status>: <message>"; returns the exit code. */
int cli_runner_fail(const cli_runner *r, swacl_status st, const char *what);

/* ---- commands (argv[0] = the command name; return an exit code) --------- */

int swacl_cmd_generate(int argc, char **argv);
int swacl_cmd_tokenize(int argc, char **argv); /* tokenize and detokenize */
int swacl_cmd_tune(int argc, char **argv);
int swacl_cmd_bench(int argc, char **argv);

#endif /* SWACL_CLI_H */
