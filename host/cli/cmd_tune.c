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

static int print_result(const swacl_tune_gemm_result *r, int json)
{
    cJSON *root = cJSON_CreateObject();
    cli_json_add(root, "b:ok s:device s:driver_version", 1, r->device, r->driver_version);
    cJSON *w = cJSON_AddObjectToObject(root, "winner");
    cJSON *x = cJSON_AddObjectToObject(w, "xgemm");
    for (int i = 0; i < r->n_xgemm; i++)
        cJSON_AddNumberToObject(x, r->xgemm[i].name, (double)r->xgemm[i].value);
    cJSON *d = cJSON_AddObjectToObject(w, "xgemm_direct");
    for (int i = 0; i < r->n_direct; i++)
        cJSON_AddNumberToObject(d, r->direct[i].name, (double)r->direct[i].value);
    cJSON_AddNumberToObject(w, "min_indirect_size", (double)r->min_indirect_size);
    cJSON *meas = cJSON_AddArrayToObject(root, "shapes");
    for (int i = 0; i < r->n_shapes; i++) {
        const swacl_tune_gemm_shape *s = &r->shapes[i];
        cJSON *e = cJSON_CreateObject();
        cli_json_add(e, "i:M i:N i:K s:path d:default_gflops d:tuned_gflops d:openblas_gflops "
                     "d:tuned_vs_openblas", s->M, s->N, s->K, s->direct ? "direct" : "indirect",
                     s->default_gflops, s->tuned_gflops, s->openblas_gflops,
                     s->tuned_gflops / s->openblas_gflops);
        cJSON_AddItemToArray(meas, e);
    }
    double g = r->openblas_gflops_geomean;
    cli_json_add(root, "d:default_gflops_geomean d:tuned_gflops_geomean d:openblas_gflops_geomean "
                 "d:tuned_vs_openblas_geomean i:candidates_tried i:candidates_rejected "
                 "i:candidates_pruned d:search_seconds d:total_seconds b:saved s:tune_file",
                 r->default_gflops_geomean, r->tuned_gflops_geomean, g,
                 g > 0 ? r->tuned_gflops_geomean / g : 0.0, r->tried, r->rejected, r->pruned,
                 r->search_seconds, r->total_seconds, r->saved, r->tune_file);
    if (!json && !r->saved) cJSON_AddStringToObject(root, "not_saved", r->not_saved); /* text only */
    return cli_output(root, json);
}

int swacl_cmd_tune(int argc, char **argv)
{
    swacl_tune_gemm_params p = swacl_tune_gemm_params_default();
    cli_model m = {.preset = "cohere2"};
    const char *probe_set = NULL; /* hidden: compile + check one set, exit code only */
    int json = 0, no_save = 0;
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
        "CLBlast's defaults, tuned, and OpenBLAS sgemm on the host.\n\n",
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
    swacl_tune_gemm_result *r = calloc(1, sizeof *r);
    if (!r) return swacl_ctx_destroy(host), cli_die_msg("out of memory"), EXIT_RUNTIME;
    st = swacl_tune_gemm(host, &p, r);
    rc = st != SWACL_OK ? cli_fail(host, st, "tune") : print_result(r, json);
    free(r);
    swacl_ctx_destroy(host);
    return rc;
}
