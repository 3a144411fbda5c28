/*
 * test_bench.c - the benchmark library calls (include/swacl.h, "Benchmarks
 * and device probes", host/bench/) at their smallest settings:
 *   - the peak probe returns positive finite figures; refused on "ref";
 *   - the quick op list runs every case, and each case's theoretical
 *     FLOP/byte count matches its shape formula (GEMMs follow cohere2);
 *   - end to end on a tiny model (prefill + decode) and on the preset pair;
 *   - cold vs warm start (the warm run hits the program cache);
 *   - device lists, and the pipeline over "DEV,ref" with its output check;
 *   - the whole report (swacl_bench_report) on "ref": one JSON object with
 *     the `swacl bench --json` keys, its plot script, and its refusals.
 * Only public calls. Device tests skip when no OpenCL device is present
 * (fail with SWACL_REQUIRE_DEVICE=1).
 */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

static int finite_pos(double x) { return isfinite(x) && x > 0; }

/* Counts progress lines, so long work is seen to report. */
static void count_line(const char *line, void *user)
{
    cr_assert(line && *line && !strchr(line, '\n'), "one line, no newline: '%s'", line);
    ++*(int *)user;
}

Test(bench, probe_positive_finite)
{
    swacl_ctx *ctx = test_cl_ctx();
    swacl_probe_params pp = {0.02, (size_t)4 << 20};
    swacl_probe_result r;
    swacl_status st = swacl_device_probe(ctx, &pp, &r);
    cr_assert(st == SWACL_OK, "probe: %s", swacl_ctx_errmsg(ctx));
    cr_expect(finite_pos(r.fma4_gflops), "fma4 %g", r.fma4_gflops);
    cr_expect(finite_pos(r.fma8_gflops), "fma8 %g", r.fma8_gflops);
    cr_expect(r.fma_gflops == fmax(r.fma4_gflops, r.fma8_gflops));
    cr_expect(finite_pos(r.copy_gbps), "copy %g", r.copy_gbps);
    cr_expect(finite_pos(r.update_gbps), "update %g", r.update_gbps);
    cr_expect(r.mem_gbps >= r.copy_gbps && r.mem_gbps >= r.update_gbps, "mem %g", r.mem_gbps);
    cr_expect(r.copy_bytes > 0 && r.copy_bytes <= ((size_t)4 << 20), "copy bytes %zu",
              r.copy_bytes);
    swacl_ctx_destroy(ctx);
}

Test(bench, probe_refused_on_reference)
{
    swacl_ctx *ctx = test_ref_ctx();
    swacl_probe_result r;
    cr_expect(swacl_device_probe(ctx, NULL, &r) == SWACL_UNSUPPORTED);
    cr_expect(strstr(swacl_ctx_errmsg(ctx), "OpenCL") != NULL, "%s", swacl_ctx_errmsg(ctx));
    swacl_device_info info;
    cr_assert(swacl_bench_device_info(ctx, &info) == SWACL_OK);
    cr_expect_str_eq(info.type, "reference");
    double g = 0;
    cr_expect(swacl_bench_host_sgemm(ctx, 64, 0.01, &g) == SWACL_OK && finite_pos(g), "%g", g);
    swacl_ctx_destroy(ctx);
}

static double pairs_of(int L, int W)
{
    double l = L, w = W;
    return W <= 0 || W >= L ? l * (l + 1) / 2 : l * w - w * (w - 1) / 2;
}

Test(bench, ops_quick_counts_match_shapes)
{
    swacl_ctx *ctx = test_cl_ctx();
    int lines = 0;
    swacl_bench_params bp = {1, count_line, &lines};
    swacl_bench_op *ops = NULL;
    int n = 0;
    cr_assert(swacl_bench_ops(ctx, &bp, &ops, &n) == SWACL_OK, "%s", swacl_ctx_errmsg(ctx));
    cr_assert(n == 11, "quick list: %d cases", n);
    cr_expect(lines == n, "one progress line per case (%d)", lines);
    swacl_config c;
    cr_assert(swacl_preset("cohere2", &c) == SWACL_OK);
    int D = c.hidden_size, F = c.ffn_dim, QKV = (c.n_heads + 2 * c.n_kv_heads) * c.head_dim;
    int n_attn = 0, n_gemm = 0;
    for (int i = 0; i < n; i++) {
        const swacl_bench_op *o = &ops[i];
        cr_expect(o->error[0] == 0, "%s: %s", o->name, o->error);
        cr_expect(finite_pos(o->seconds), "%s: %g s", o->name, o->seconds);
        double M = o->M, N = o->N;
        if (!strcmp(o->op, "attention")) {
            n_attn++;
            cr_expect(o->H == 4 && o->Hkv == 1 && o->d == 64, "%s", o->name);
            cr_expect(o->global ? o->W == 0 : o->W > 0, "%s", o->name);
            cr_expect(o->pairs == pairs_of(o->L, o->W), "%s pairs", o->name);
            cr_expect(o->flops == 4.0 * o->d * o->H * o->pairs && o->bytes == 0, "%s", o->name);
        } else if (!strcmp(o->op, "gemm")) {
            n_gemm++;
            cr_expect(o->flops == 2.0 * M * N * o->K && o->bytes == 0, "%s", o->name);
            cr_expect((o->N == QKV && o->K == D) || (o->N == F && o->K == D) ||
                          (o->N == D && o->K == F),
                      "%s: not a cohere2 projection", o->name);
        } else if (!strcmp(o->op, "rope")) {
            cr_expect(o->bytes == 8.0 * M * N && o->N == c.n_heads * c.head_dim, "%s", o->name);
        } else if (!strcmp(o->op, "rmsnorm")) {
            cr_expect(o->bytes == 4.0 * (2.0 * M * N + N) && o->N == D, "%s", o->name);
        } else {
            cr_expect_str_eq(o->op, "swiglu");
            cr_expect(o->bytes == 12.0 * M * N && o->N == F, "%s", o->name);
        }
        for (int j = 0; j < i; j++) cr_expect_str_neq(ops[j].name, o->name);
    }
    cr_expect(n_attn == 5 && n_gemm == 3, "attention %d, gemm %d", n_attn, n_gemm);
    swacl_bench_ops_free(ops);
    swacl_ctx_destroy(ctx);
}

Test(bench, e2e_tiny_model_prefill_and_decode)
{
    swacl_ctx *ctx = test_ref_ctx();
    swacl_preset_params pp = {.hidden_size = 128, .n_heads = 2, .n_kv_heads = 1, .n_layers = 2,
                              .ffn_dim = 256, .vocab_size = 256, .window = 16};
    swacl_config cfg;
    cr_assert(swacl_preset_ex("cohere2", &pp, &cfg) == SWACL_OK);
    cr_assert(swacl_config_validate(ctx, &cfg) == SWACL_OK, "%s", swacl_ctx_errmsg(ctx));
    swacl_weights *w = NULL;
    cr_assert(swacl_weights_create_random(&cfg, 1, &w) == SWACL_OK);
    int lines = 0;
    swacl_bench_e2e_params ep = {1, 64, &cfg, w, count_line, &lines};
    swacl_bench_e2e_result r;
    cr_assert(swacl_bench_e2e(ctx, &ep, &r) == SWACL_OK, "%s", swacl_ctx_errmsg(ctx));
    cr_expect(r.n_models == 1);
    cr_expect_str_eq(r.model[0], "model");
    cr_assert(r.n_seq == 1 && r.seq_len[0] == 64, "n_seq %d", r.n_seq);
    cr_assert(r.n_ctx == 1 && r.ctx_len[0] == 32, "n_ctx %d", r.n_ctx);
    cr_expect(finite_pos(r.prefill_tps[0][0]), "prefill %g", r.prefill_tps[0][0]);
    cr_expect(finite_pos(r.decode_tps[0][0]), "decode %g", r.decode_tps[0][0]);
    cr_expect(r.kv_bytes[0][0] == swacl_kv_bytes(&cfg, 1, 64, NULL, NULL));
    cr_expect(r.decode_steps == 8);
    cr_expect(lines == 2, "a prefill and a decode line (%d)", lines);
    swacl_weights_destroy(w);
    swacl_ctx_destroy(ctx);
}

Test(bench, e2e_preset_pair)
{
    swacl_ctx *ctx = test_ref_ctx();
    swacl_bench_e2e_params ep = {1, 16, NULL, NULL, NULL, NULL};
    swacl_bench_e2e_result r;
    cr_assert(swacl_bench_e2e(ctx, &ep, &r) == SWACL_OK, "%s", swacl_ctx_errmsg(ctx));
    cr_assert(r.n_models == 2 && r.n_seq == 1 && r.seq_len[0] == 16 && r.n_ctx == 0);
    cr_expect_str_eq(r.model[0], "cohere2");
    cr_expect_str_eq(r.model[1], "baseline");
    for (int pi = 0; pi < 2; pi++) cr_expect(finite_pos(r.prefill_tps[pi][0]));
    swacl_config c;
    cr_assert(swacl_preset("baseline", &c) == SWACL_OK);
    cr_expect(r.kv_bytes[1][0] == swacl_kv_bytes(&c, 1, 16, NULL, NULL));
    swacl_ctx_destroy(ctx);
}

Test(bench, start_cold_then_warm)
{
    swacl_ctx *ctx = test_cl_ctx();
    const char *d = getenv("SWACL_TEST_DEVICE");
    swacl_bench_start_result r;
    swacl_status st = swacl_bench_start(ctx, d && *d ? d : NULL, NULL, &r);
    cr_assert(st == SWACL_OK, "%s", swacl_ctx_errmsg(ctx));
    cr_expect(finite_pos(r.cold_s) && finite_pos(r.warm_s), "%g %g", r.cold_s, r.warm_s);
    cr_expect(r.cold_cache_misses > 0 && r.cold_cache_hits == 0, "cold: %d built, %d hits",
              r.cold_cache_misses, r.cold_cache_hits);
    cr_expect(r.warm_cache_hits == r.cold_cache_misses && r.warm_cache_misses == 0,
              "warm: %d hits, %d built", r.warm_cache_hits, r.warm_cache_misses);
    swacl_ctx_destroy(ctx);
}

Test(bench, device_lists)
{
    swacl_ctx *ctx = test_ref_ctx();
    char sel[4][64];
    int n = -1;
    cr_expect(swacl_bench_devices(ctx, "0,ref,,gpu", sel, 4, &n) == SWACL_OK);
    cr_assert(n == 3);
    cr_expect_str_eq(sel[0], "0");
    cr_expect_str_eq(sel[1], "ref");
    cr_expect_str_eq(sel[2], "gpu");
    cr_expect(swacl_bench_devices(ctx, ",", sel, 4, &n) == SWACL_INVALID_ARG && n == 0);
    char lng[100];
    memset(lng, 'x', 80);
    lng[80] = 0;
    cr_expect(swacl_bench_devices(ctx, lng, sel, 4, &n) == SWACL_INVALID_ARG && n == 0);
    cr_expect(swacl_bench_devices(ctx, "all", sel, 4, &n) == SWACL_OK && n >= 1);
    swacl_ctx_destroy(ctx);
}

Test(bench, pipeline_two_stages_checked)
{
    swacl_ctx *dev = test_cl_ctx(); /* skips without a device */
    swacl_ctx_destroy(dev);
    swacl_ctx *ctx = test_ref_ctx();
    const char *d = getenv("SWACL_TEST_DEVICE");
    char devices[128];
    snprintf(devices, sizeof devices, "%s,ref", d && *d ? d : "0");
    swacl_bench_pipeline_params pp = {.quick = 1, .devices = devices,
                                      .placement = "0-2:0,3-7:1", .batch = 2, .max_seq = 16};
    swacl_bench_pipeline_result *r = calloc(1, sizeof *r);
    cr_assert(r);
    cr_assert(swacl_bench_pipeline(ctx, &pp, r) == SWACL_OK, "%s", swacl_ctx_errmsg(ctx));
    cr_expect(r->created && r->ok && r->failures == 0, "nmse %g, %d failures", r->nmse,
              r->failures);
    cr_expect(r->nmse >= 0 && r->nmse <= 1e-6);
    cr_expect(r->n_stages == 2 && r->n_single == 2 && r->n_layers == 8);
    cr_expect(r->stages[0].layer_end == 3 && r->stages[1].layer_begin == 3);
    cr_expect(r->batch == 2 && r->seq == 16 && r->micro_batches == 2);
    cr_expect(finite_pos(r->tokens_per_s) && finite_pos(r->single[0].tokens_per_s));
    cr_expect(strstr(r->description, "layers 0-2 on dev ") == r->description, "%s",
              r->description);
    /* a SPEC that leaves layers out is a usage error, named */
    pp.placement = "0-0:0";
    cr_expect(swacl_bench_pipeline_check(ctx, &pp) == SWACL_INVALID_ARG);
    cr_expect(strstr(swacl_ctx_errmsg(ctx), "not placed") != NULL, "%s", swacl_ctx_errmsg(ctx));
    free(r);
    swacl_ctx_destroy(ctx);
}

Test(bench, report_quick_reference)
{
    swacl_ctx *ctx = test_ref_ctx();
    int lines = 0, failures = -1;
    swacl_bench_report_params p = {.quick = 1, .max_seq = 64, .devices = "ref",
                                   .progress = count_line, .user = &lines};
    char *json = NULL;
    swacl_status st = swacl_bench_report(ctx, &p, &json, &failures);
    cr_assert(st == SWACL_OK && json, "%s", swacl_ctx_errmsg(ctx));
    cr_expect(failures == 0 && lines > 0, "%d failures, %d lines", failures, lines);
    cJSON *root = cJSON_Parse(json);
    cr_assert(cJSON_IsObject(root), "not one JSON object: %.200s", json);
    cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(root, "quick")));
    cr_expect(cJSON_IsNumber(cJSON_GetObjectItem(root, "total_s")));
    cr_expect(!cJSON_GetObjectItem(root, "pipeline") && !cJSON_GetObjectItem(root, "model"));
    cJSON *devs = cJSON_GetObjectItem(root, "devices");
    cr_assert(cJSON_IsArray(devs) && cJSON_GetArraySize(devs) == 1);
    cJSON *d = cJSON_GetArrayItem(devs, 0);
    cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(d, "selector")), "ref");
    cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(d, "type")), "reference");
    cr_expect(cJSON_IsObject(cJSON_GetObjectItem(d, "start")));
    cr_expect(cJSON_IsNumber(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "peaks"),
                                                 "openblas_sgemm_gflops")));
    cJSON *k = cJSON_GetObjectItem(d, "kernels"), *e;
    cr_expect(cJSON_GetArraySize(k) > 0);
    cJSON_ArrayForEach(e, k) cr_expect(cJSON_GetObjectItem(e, "op") &&
                                       finite_pos(cJSON_GetNumberValue(
                                           cJSON_GetObjectItem(e, "seconds"))));
    int prefill = 0;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(d, "e2e"))
        prefill += !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(e, "kind")), "prefill");
    cr_expect(prefill == 2, "cohere2 and baseline at seq 64: %d prefill rows", prefill);
    char *script = NULL;
    cr_expect(swacl_bench_plot_script(ctx, json, "o'k.png", &script) == SWACL_OK && script);
    cr_expect(script && strstr(script, "set output 'o''k.png'") && strstr(script, "plot  '-' using 1:2"),
              "%s", script ? script : "");
    swacl_free(script);
    cJSON_Delete(root);
    swacl_free(json);
    /* refused before any device: an empty list, pipeline_only without placement */
    p.devices = ",";
    cr_expect(swacl_bench_report(ctx, &p, &json, &failures) == SWACL_INVALID_ARG && !json);
    p.devices = "ref";
    p.pipeline_only = 1;
    cr_expect(swacl_bench_report(ctx, &p, &json, &failures) == SWACL_INVALID_ARG && !json);
    swacl_ctx_destroy(ctx);
}
