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

static void print_table(const swacl_tune_gemm_result *r)
{
    static const char *const head[] = {"M",       "N",     "K",        "PATH",
                                       "DEFAULT", "TUNED", "OPENBLAS", "TUNED/BLAS"};
    cli_table tb;
    cli_table_init(&tb, 8, head);
    for (int i = 0; i < r->n_shapes; i++) {
        const swacl_tune_gemm_shape *s = &r->shapes[i];
        char c[8][32];
        snprintf(c[0], 32, "%d", s->M);
        snprintf(c[1], 32, "%d", s->N);
        snprintf(c[2], 32, "%d", s->K);
        snprintf(c[3], 32, "%s", s->direct ? "direct" : "indirect");
        snprintf(c[4], 32, "%.1f", s->default_gflops);
        snprintf(c[5], 32, "%.1f", s->tuned_gflops);
        snprintf(c[6], 32, "%.1f", s->openblas_gflops);
        snprintf(c[7], 32, "%.2f", s->tuned_gflops / s->openblas_gflops);
        const char *v[8] = {c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]};
        cli_table_add(&tb, v);
    }
    double g = r->openblas_gflops_geomean;
    printf("device   %s (%s)\n", r->device, r->driver_version);
    printf("xgemm    %s\n", r->xgemm_desc);
    printf("direct   %s\n", r->direct_desc);
    printf("switch   XGEMM_MIN_INDIRECT_SIZE=%zu (direct when M*N*K < %zu^3)\n",
           r->min_indirect_size, r->min_indirect_size);
    printf("GFLOP/s (wall clock, best of repeats):\n");
    cli_table_print(&tb, stdout);
    cli_table_free(&tb);
    printf("geomean  default %.1f  tuned %.1f  OpenBLAS %.1f  tuned/OpenBLAS %.2f\n",
           r->default_gflops_geomean, r->tuned_gflops_geomean, g,
           g > 0 ? r->tuned_gflops_geomean / g : 0);
    printf("search   %d sets tried, %d rejected (wrong/failed), %d pruned, %.0f s\n", r->tried,
           r->rejected, r->pruned, r->search_seconds);
    if (r->saved)
        printf("saved    %s\n", r->tune_file);
    else
        printf("saved    no (%s)\n", r->not_saved);
}

static int print_json(const swacl_tune_gemm_result *r)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddBoolToObject(root, "ok", 1);
    cJSON_AddStringToObject(root, "device", r->device);
    cJSON_AddStringToObject(root, "driver_version", r->driver_version);
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
        cJSON_AddNumberToObject(e, "M", s->M);
        cJSON_AddNumberToObject(e, "N", s->N);
        cJSON_AddNumberToObject(e, "K", s->K);
        cJSON_AddStringToObject(e, "path", s->direct ? "direct" : "indirect");
        cJSON_AddNumberToObject(e, "default_gflops", s->default_gflops);
        cJSON_AddNumberToObject(e, "tuned_gflops", s->tuned_gflops);
        cJSON_AddNumberToObject(e, "openblas_gflops", s->openblas_gflops);
        cJSON_AddNumberToObject(e, "tuned_vs_openblas", s->tuned_gflops / s->openblas_gflops);
        cJSON_AddItemToArray(meas, e);
    }
    double g = r->openblas_gflops_geomean;
    cJSON_AddNumberToObject(root, "default_gflops_geomean", r->default_gflops_geomean);
    cJSON_AddNumberToObject(root, "tuned_gflops_geomean", r->tuned_gflops_geomean);
    cJSON_AddNumberToObject(root, "openblas_gflops_geomean", g);
    cJSON_AddNumberToObject(root, "tuned_vs_openblas_geomean", g > 0 ? r->tuned_gflops_geomean / g : 0);
    cJSON_AddNumberToObject(root, "candidates_tried", r->tried);
    cJSON_AddNumberToObject(root, "candidates_rejected", r->rejected);
    cJSON_AddNumberToObject(root, "candidates_pruned", r->pruned);
    cJSON_AddNumberToObject(root, "search_seconds", r->search_seconds);
    cJSON_AddNumberToObject(root, "total_seconds", r->total_seconds);
    cJSON_AddBoolToObject(root, "saved", r->saved);
    cJSON_AddStringToObject(root, "tune_file", r->tune_file);
    return cli_emit_json(root);
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
    if (rc >= 0) return rc;
    swacl_ctx *host = cli_host_ctx();
    if (!host) return EXIT_RUNTIME;
    swacl_status st;
    if (probe_set) { /* the child of a search: exit code only */
        st = swacl_tune_gemm_probe(host, p.device, probe_set);
        swacl_ctx_destroy(host);
        return cli_exit(st);
    }
    swacl_config cfg;
    swacl_weights *w = NULL;
    if (!p.shapes && (rc = cli_model_setup(&m, &cfg, &w)) != 0) {
        swacl_ctx_destroy(host);
        return rc;
    }
    swacl_weights_destroy(w); /* only the shapes are needed */
    p.model = p.shapes ? NULL : &cfg;
    p.save = !no_save;
    p.probe_exe = "/proc/self/exe";
    p.progress = progress;
    swacl_tune_gemm_result *r = calloc(1, sizeof *r);
    if (!r) {
        swacl_ctx_destroy(host);
        cli_die_msg("out of memory");
        return EXIT_RUNTIME;
    }
    st = swacl_tune_gemm(host, &p, r);
    if (st != SWACL_OK)
        rc = cli_fail(host, st, "tune");
    else if (json)
        rc = print_json(r);
    else
        print_table(r), rc = EXIT_OK;
    free(r);
    swacl_ctx_destroy(host);
    return rc;
}
