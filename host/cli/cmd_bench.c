/*
 * cmd_bench.c - `swacl bench`: parse, run swacl_bench_report (host/bench/:
 * per device start-up, peaks, kernels and end to end; the pipeline section),
 * then write its JSON report, print it (swacl_bench_report_print) and, with --plot, pipe the
 * library's gnuplot script to gnuplot.
 */
#define _XOPEN_SOURCE 700 /* popen */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void say(const char *line, void *user)
{
    (void)user;
    cli_progress("bench %s", line);
}

static int write_file(const char *path, const char *text, const char *what)
{
    FILE *f = fopen(path, "w");
    int ok = f && fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    if (f && fclose(f) != 0) ok = 0;
    if (!ok) cli_die_msg("bench: cannot write %s %s: %s", what, path, strerror(errno));
    return ok ? EXIT_OK : EXIT_RUNTIME;
}

static int plot(swacl_ctx *ctx, const char *json, const char *png)
{
    char *script = NULL;
    swacl_status st = swacl_bench_plot_script(ctx, json, png, &script);
    if (st != SWACL_OK) return cli_fail(ctx, st, "bench: --plot"), EXIT_RUNTIME;
    FILE *f = NULL;
    if (system("command -v gnuplot >/dev/null 2>&1") != 0)
        cli_die_msg("bench: --plot: gnuplot not found in PATH (install gnuplot-nox); "
                    "no plot written");
    else if (!(f = popen("gnuplot", "w"))) /* the script goes down a pipe: no temp file */
        cli_die_msg("bench: --plot: cannot start gnuplot: %s", strerror(errno));
    int rc = f && fputs(script, f) >= 0 ? EXIT_OK : EXIT_RUNTIME;
    if (f && pclose(f) != 0) rc = EXIT_RUNTIME, cli_die_msg("bench: --plot: gnuplot failed");
    if (f && rc == EXIT_OK) cli_progress("bench: plot written to %s", png);
    swacl_free(script);
    return rc;
}

int swacl_cmd_bench(int argc, char **argv)
{
    /* MPI: the pipeline over the ranks; one process keeps the default, whose
     * SPEC / device / fit check runs before the per-device sections */
    swacl_bench_report_params p = {.devices = "all", .progress = say,
                                   .pipeline_create = SWACL_MPI_SIZE() > 1 ? SWACL_PIPELINE_CREATE : NULL};
    const char *json_path = NULL, *plot_path = NULL;
    int json_out = 0;
    const cli_opt opts[] = {
        {"--devices", CLI_STR, &p.devices, 0, 0, "all|LIST",
         "'all' = every OpenCL device (default; the CPU reference\nonly when there is none); "
         "LIST = comma-separated selectors\n(index, name substring, 'gpu', 'cpu', 'ref')"},
        {"--out", CLI_STR, &json_path, 0, 0, "FILE", "also write the JSON object to FILE"},
        {"--plot", CLI_STR, &plot_path, 0, 0, "FILE.png",
         "prefill tokens/s vs sequence length (needs gnuplot)"},
        {"--quick", CLI_FLAG, &p.quick, 0, 0, NULL, "small sizes: the whole run takes under a minute"},
        {"--max-seq", CLI_INT, &p.max_seq, 16, 1 << 22, "N",
         "cap prefill/decode lengths (default 16384 on CPUs, 32768 else)"},
        {"--model", CLI_STR, &p.model_dir, 0, 0, "DIR",
         "end to end on a Hugging Face checkpoint (config.json +\nmodel.safetensors, or .gguf) instead "
         "of cohere2 vs baseline"},
        {"--e2e-only", CLI_FLAG, &p.e2e_only, 0, 0, NULL, "skip cold/warm start, peaks and kernels"},
        {"--placement", CLI_STR, &p.placement, 0, 0, "auto|SPEC",
         "add the pipeline section: the model's layers split over\nthe --devices list ('auto': "
         "calibrated and balanced; SPEC:\nlayer ranges per list position, e.g. 0-3:0,4-7:1), "
         "cohere2\n(or --model) at batch N x seq 512 (128 with --quick, capped\nby --max-seq), "
         "vs each device alone; output checked\n(nmse <= 1e-6 vs the first device alone)"},
        {"--pipeline-only", CLI_FLAG, &p.pipeline_only, 0, 0, NULL,
         "only the pipeline section (needs --placement)"},
        {"--batch", CLI_INT, &p.batch, 1, 4096, "N", "pipeline batch (default 8)"},
        {"--micro-batches", CLI_INT, &p.micro_batches, 1, 4096, "N",
         "micro-batches per pipeline forward (default: one per stage)"},
        CLI_OUTPUT_OPTS(&json_out),
        {NULL}};
    const cli_cmd cmd = {
        "bench",
        "usage: swacl bench [--devices all|LIST] [--json] [--out FILE] [--plot FILE.png] [--quick]\n"
        "                   [--max-seq N] [--model DIR] [--e2e-only]\n"
        "                   [--placement auto|SPEC [--pipeline-only] [--batch N] "
        "[--micro-batches N]]\n\n"
        "Per device: clpeak-style FMA GFLOP/s and copy GB/s (plus OpenBLAS sgemm on CPUs),\n"
        "banded/causal attention, RoPE, RMSNorm, SwiGLU and the cohere2 GEMMs with the\n"
        "fraction of peak, prefill tokens/s for cohere2 vs baseline with the KV-memory\n"
        "ratio, decode tokens/s through a KV-cache session, and cold vs warm start.\n"
        "With --placement, then: batch prefill tokens/s of the layer pipeline over the\n"
        "--devices list vs each listed device alone, in the same run.\n\n",
        opts, 0};
    int rc = cli_parse(&cmd, argc, argv);
    if (rc != CLI_CONTINUE) return rc;
    p.pipeline_only |= SWACL_MPI_SIZE() > 1; /* under mpirun: the pipeline over the ranks only */
    if (!p.placement && (p.pipeline_only || p.batch || p.micro_batches))
        return cli_die_msg("bench: --pipeline-only, --batch and --micro-batches need "
                           "--placement auto|SPEC"), EXIT_USAGE;
    if (p.placement && !*p.placement)
        return cli_die_msg("bench: --placement wants 'auto' or a SPEC such as 0-3:0,4-7:1"),
               EXIT_USAGE;
    swacl_ctx *ectx = cli_host_ctx(); /* errors only: each device gets its own */
    if (!ectx) return EXIT_RUNTIME;
    char *json = NULL;
    int failures = 0;
    double t0 = cli_now();
    swacl_status st = swacl_bench_report(ectx, &p, &json, &failures);
    if (st != SWACL_OK)
        cli_die_msg("bench: %s", swacl_ctx_errmsg(ectx));
    rc = st == SWACL_OK ? (failures ? EXIT_RUNTIME : EXIT_OK)
                        : st == SWACL_INVALID_ARG ? EXIT_USAGE : EXIT_RUNTIME;
    cJSON *root = json ? cJSON_Parse(json) : NULL;
    if (root && json_out)
        cli_emit_json(root); /* --json: the one object on stdout, as every command */
    else if (root) /* text: each device, then the pipeline */
        cJSON_Delete(root), swacl_bench_report_print(ectx, json, stdout);
    if (json) cli_progress("bench: done in %.1f s, %d failure(s)", cli_now() - t0, failures);
    if (json && json_path && write_file(json_path, json, "--out") != EXIT_OK) rc = EXIT_RUNTIME;
    if (json && plot_path && plot(ectx, json, plot_path) != EXIT_OK) rc = EXIT_RUNTIME;
    swacl_free(json);
    swacl_ctx_destroy(ectx);
    return rc;
}
