/*
 * cmd_tune.c - `swacl tune`: parse, call swacl_tune_gemm (host/tune/),
 * print the result as a table or one JSON object.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

static void progress(void *user, const char *line)
{
    (void)user;
    cli_progress("%s", line);
}

/* a report from the library (JSON text): printed as JSON or as a table */
static int print_json(char *text, int json)
{
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    swacl_free(text);
    return cli_output(root, json);
}

int swacl_cmd_tune(int argc, char **argv)
{
    swacl_tune_gemm_params p = swacl_tune_gemm_params_default();
    cli_model m = {.preset = "cohere2"};
    const char *probe_set = NULL; /* hidden: compile + check one set, exit code only */
    int json = 0, no_save = 0, own = 0, quick = 0;
    const cli_opt opts[] = {
        {"--device", CLI_STR, &p.device, 0, 0, "D",
         "device selector as in `swacl run` (default: first GPU, else CPU)"},
        {"--budget-s", CLI_DOUBLE, &p.budget_s, 0, 1e9, "S",
         "seconds for the search phases (default 300)"},
        {"--shapes", CLI_STR, &p.shapes, 0, 0, "LIST",
         "'M,N,K;M,N,K;...' (C[M,N] = A[M,K] W[N,K]^T); default: the\n"
         "model's layer GEMMs (cohere2: hidden 256, FFN 768) at M in\n"
         "1,512,1024,2048,4096"},
        {"--no-save", CLI_FLAG, &no_save, 0, 0, NULL, "do not write the tune file"},
        {"--own", CLI_FLAG, &own, 0, 0, NULL,
         "tune swacl's own GEMM (kernel, launch shape, own vs CLBlast per\n"
         "weight class) instead: prefill shapes, gemm-own-<device>-<hash>.json"},
        {"--quick", CLI_FLAG, &quick, 0, 0, NULL, "--own: three candidates, M = 512 only"},
        {"--probe-set", CLI_STR, &probe_set, 0, 0, NULL, NULL},
        CLI_OUTPUT_OPTS(&json),
        CLI_MODEL_OPTS(&m, "cohere2"),
        {NULL}};
    const cli_cmd cmd = {
        "tune",
        "usage: swacl tune [options]\n\n"
        "Search CLBlast SGEMM parameters (Xgemm, XgemmDirect and the direct/indirect\n"
        "switch) for the model's GEMM shapes on one device, check every candidate\n"
        "against the CPU reference's GEMM before timing it, and store the winner in\n"
        "the swacl cache dir (gemm-tune-<device>-<hash>.json). CL backends created on\n"
        "that device apply it (SWACL_GEMM_TUNE=off skips it). Reports GFLOP/s with\n"
        "CLBlast's defaults, tuned, and OpenBLAS sgemm on the host. --own: the same for\n"
        "swacl's own GEMM kernels over the table row (docs/PERF.md).\n\n",
        opts, 1};
    int rc = cli_parse(&cmd, argc, argv);
    if (rc != CLI_CONTINUE) return rc;
    swacl_ctx *host = cli_host_ctx();
    if (!host) return EXIT_RUNTIME;
    swacl_status st;
    if (probe_set) /* the child of a search: exit code only */
        return st = swacl_tune_gemm_probe(host, p.device, probe_set), swacl_ctx_destroy(host), cli_exit(st);
    swacl_config cfg;
    swacl_weights *w = NULL;
    if (!p.shapes && (rc = cli_model_setup(&m, &cfg, &w)) != 0) return swacl_ctx_destroy(host), rc;
    swacl_weights_destroy(w); /* only the shapes are needed */
    p.model = p.shapes ? NULL : &cfg;
    p.save = !no_save;
    p.probe_exe = "/proc/self/exe";
    p.progress = progress;
    swacl_tune_own_params op = {p.device, p.model, p.shapes, p.budget_s, quick, p.save,
                                progress, NULL};
    char *text = NULL;
    swacl_tune_gemm_result *r = own ? NULL : calloc(1, sizeof *r);
    if (!own && !r) return swacl_ctx_destroy(host), cli_die_msg("out of memory"), EXIT_RUNTIME;
    st = own ? swacl_tune_own(host, &op, &text) : swacl_tune_gemm(host, &p, r);
    if (st == SWACL_OK && !own) text = swacl_tune_gemm_result_json(r);
    rc = st != SWACL_OK ? cli_fail(host, st, "tune") : print_json(text, json);
    free(r);
    swacl_ctx_destroy(host);
    return rc;
}
