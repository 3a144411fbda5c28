/*
 * test_tune_own.c - tuning swacl's own GEMM (host/tune/tune_own.c,
 * host/cl/cl_tune_own.c, `swacl tune --own`):
 *   - a deliberately broken candidate (the lm kernel summing K - 1 terms)
 *     is rejected by the search, and never wins;
 *   - the quick search's report names every candidate with its verdict,
 *     and a saved winner is what the next backend on that device runs;
 *   - the tune file round-trips; corrupt, foreign or out-of-range files
 *     leave the table row in place; SWACL_GEMM_TUNE=off skips the file;
 *   - a backend running a tuned file still computes correct GEMMs.
 * Device tests skip with a message when no OpenCL device is present (fail
 * with SWACL_REQUIRE_DEVICE=1). One process per test (environment).
 */
#define _DEFAULT_SOURCE /* mkdtemp, setenv */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl/cl_tune_own.h"
#include "helpers.h"
#include "ops/op_cases.h"
#include "tune/tune_own.h"

static void tmp_cache_dir(char *dir, size_t len)
{
    snprintf(dir, len, "/tmp/swacl-test-tune-own-XXXXXX");
    cr_assert(mkdtemp(dir) != NULL, "mkdtemp");
    cr_assert(setenv("SWACL_CACHE_DIR", dir, 1) == 0);
}

static void rm_dir(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) cr_log_warn("could not remove %s", dir);
}

/* An OpenCL context; skip (or fail with SWACL_REQUIRE_DEVICE=1) without. */
static swacl_ctx *cl_ctx_or_skip(void)
{
    swacl_ctx *ctx = test_cl_ctx();
    cr_assert(ctx);
    if (swacl_ctx_is_reference(ctx)) {
        swacl_ctx_destroy(ctx);
        const char *req = getenv("SWACL_REQUIRE_DEVICE");
        if (req && !strcmp(req, "1")) cr_assert_fail("no OpenCL device (SWACL_REQUIRE_DEVICE=1)");
        cr_skip_test("no OpenCL device");
    }
    return ctx;
}

/* A matmul case on ctx against the reference, under ctx's gemm params. */
static void check_matmul(swacl_ctx *ctx, int M, int N, int K, swacl_wtype wt)
{
    swacl_op_case c;
    memset(&c, 0, sizeof c);
    c.op = SWACL_OP_MATMUL;
    c.label = "tuned";
    c.use = SWACL_OPC_TEST;
    c.atol = 6e-5;
    c.rtol = 1e-5;
    c.nmse = 1e-11;
    c.mm = (swacl_opc_matmul){.M = M, .N = N, .K = K, .bias = 1, .accumulate = 1, .wt = wt};
    swacl_ctx *ref = test_ref_ctx();
    swacl_op_check_result r;
    swacl_status st = swacl_op_check(ctx, ref, &c, &r, NULL, NULL);
    cr_expect(st == SWACL_OK, "%dx%dx%d type %d under the tuned params: %s", M, N, K, (int)wt,
              swacl_ctx_errmsg(ctx));
    swacl_ctx_destroy(ref);
}

static void progress(void *user, const char *line)
{
    (void)user;
    cr_log_info("%s", line);
}

/* The per-M-class choice of the M blocks (swacl_tune_pick_mc), on made-up
 * times: each case has a different right answer. */
Test(tune_own, mc_per_m_class)
{
    const int ms[3] = {512, 2048, 8192}, mcs[4] = {0, 256, 512, 1024};
    int mc = -1, mmin = -1;
    /* small M: blocks a little slower; 8192: mc 512 1.8x faster */
    const double a[12] = {1.0, 1.05, 1.02, 1.01, 4.0, 4.3, 4.1, 4.05, 30, 20, 16.5, 22};
    cr_assert(swacl_tune_pick_mc(3, ms, 4, mcs, a, &mc, &mmin) == 0);
    cr_expect(mc == 512 && mmin == 8192, "mc %d from M %d", mc, mmin);
    /* blocks help from 2048 on */
    const double b[12] = {1.0, 1.05, 1.02, 1.01, 4.0, 3.5, 3.0, 3.2, 30, 20, 16.5, 22};
    cr_assert(swacl_tune_pick_mc(3, ms, 4, mcs, b, &mc, &mmin) == 0);
    cr_expect(mc == 512 && mmin == 2048, "mc %d from M %d", mc, mmin);
    /* blocks help everywhere (mc 1024 best overall) */
    const double c[12] = {1.0, 0.9, 0.8, 0.7, 4.0, 3.5, 3.0, 2.9, 30, 20, 18, 16};
    cr_assert(swacl_tune_pick_mc(3, ms, 4, mcs, c, &mc, &mmin) == 0);
    cr_expect(mc == 1024 && mmin == 0, "mc %d from M %d", mc, mmin);
    /* blocks hurt everywhere: none */
    const double d[12] = {1.0, 1.2, 1.1, 1.1, 4.0, 4.5, 4.4, 4.3, 16, 20, 18, 17};
    cr_assert(swacl_tune_pick_mc(3, ms, 4, mcs, d, &mc, &mmin) == 0);
    cr_expect(mc == 0 && mmin == 0, "mc %d from M %d", mc, mmin);
    /* a failed (infinite) mc is never picked */
    const double e[12] = {1.0, 1.1, 1.0, 1.0, 4.0, 4.4, 4.0, 4.0, 30, 10, INFINITY, 20};
    cr_assert(swacl_tune_pick_mc(3, ms, 4, mcs, e, &mc, &mmin) == 0);
    cr_expect(mc == 256 && mmin == 8192, "mc %d from M %d", mc, mmin);
    cr_expect(swacl_tune_pick_mc(3, ms, 0, mcs, e, &mc, &mmin) == -1);
}

/* The full search on the device picks mc per M class: two classes (40
 * and 300 rows; mc 256 splits the second), every mc candidate checked,
 * the winner's M blocks one of the tried values from 0 or a class's M. */
Test(tune_own, full_search_mc_per_class, .timeout = 600)
{
    swacl_ctx_destroy(cl_ctx_or_skip());
    swacl_ctx *host = test_ref_ctx();
    swacl_tune_own_params p = swacl_tune_own_params_default();
    p.device = getenv("SWACL_TEST_DEVICE");
    p.shapes = "40,48,64;300,40,96";
    p.budget_s = 240;
    p.save = 0;
    p.progress = progress;
    char *json = NULL;
    cr_assert(swacl_tune_own_run(host, &p, NULL, 0, &json) == SWACL_OK, "tune: %s",
              swacl_ctx_errmsg(host));
    cJSON *root = cJSON_Parse(json);
    cr_assert(root, "report is not JSON");
    cr_expect(cJSON_GetNumberValue(cJSON_GetObjectItem(root, "candidates_rejected")) == 0);
    int seen[4] = {0, 0, 0, 0};
    const cJSON *cands = cJSON_GetObjectItem(root, "candidates");
    for (int i = 0; i < cJSON_GetArraySize(cands); i++) {
        const char *d =
            cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(cands, i), "candidate"));
        for (int v = 0; v < 4; v++) {
            char want[32];
            snprintf(want, sizeof want, "mc=%d (M >= 0)", (int[]){0, 256, 512, 1024}[v]);
            seen[v] |= d && strstr(d, want) != NULL;
        }
    }
    cr_expect(seen[0] && seen[1] && seen[2] && seen[3], "mc candidates %d %d %d %d", seen[0],
              seen[1], seen[2], seen[3]);
    const cJSON *win = cJSON_GetObjectItem(root, "winner");
    const int mc = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(win, "mc"));
    const int mmin = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(win, "mc_min_m"));
    cr_expect(mc == 0 || mc == 256 || mc == 512 || mc == 1024, "winner mc %d", mc);
    cr_expect(mmin == 0 || (mc > 0 && (mmin == 40 || mmin == 300)), "winner mc %d from M %d",
              mc, mmin);
    cJSON_Delete(root);
    swacl_free(json);
    swacl_ctx_destroy(host);
}

Test(tune_own, broken_candidate_rejected, .timeout = 300)
{
    char dir[256];
    tmp_cache_dir(dir, sizeof dir);
    swacl_ctx *probe = cl_ctx_or_skip();
    swacl_gemm_params broken = *swacl_cl_backend_gemm_params(probe->be);
    swacl_ctx_destroy(probe);
    broken.kern = SWACL_GEMM_KERN_LM;
    broken.lm_ts = 16;
    broken.lm_wpt = 2;
    broken.test_drop_k = 1; /* sums K - 1 terms: wrong everywhere */

    swacl_ctx *host = test_ref_ctx();
    swacl_tune_own_params p = swacl_tune_own_params_default();
    p.device = getenv("SWACL_TEST_DEVICE");
    p.shapes = "70,48,100;33,40,64";
    p.quick = 1;
    p.budget_s = 120;
    p.save = 1;
    p.progress = progress;
    char *json = NULL;
    swacl_status st = swacl_tune_own_run(host, &p, &broken, 1, &json);
    cr_assert(st == SWACL_OK, "tune: %s", swacl_ctx_errmsg(host));
    cJSON *root = cJSON_Parse(json);
    cr_assert(root, "report is not JSON");
    const cJSON *cands = cJSON_GetObjectItem(root, "candidates");
    cr_assert(cJSON_GetArraySize(cands) >= 4, "broken + 3 quick candidates");
    const cJSON *first = cJSON_GetArrayItem(cands, 0);
    const char *verdict = cJSON_GetStringValue(cJSON_GetObjectItem(first, "verdict"));
    cr_expect(verdict && strstr(verdict, "wrong result"), "broken candidate: verdict '%s'",
              verdict ? verdict : "(none)");
    cr_expect(strstr(cJSON_GetStringValue(cJSON_GetObjectItem(first, "candidate")), "broken"));
    for (int i = 1; i < cJSON_GetArraySize(cands); i++)
        cr_expect(!strcmp(cJSON_GetStringValue(
                              cJSON_GetObjectItem(cJSON_GetArrayItem(cands, i), "verdict")),
                          "ok"),
                  "candidate %d rejected", i);
    cr_expect(cJSON_GetNumberValue(cJSON_GetObjectItem(root, "candidates_rejected")) == 1);
    const cJSON *win = cJSON_GetObjectItem(root, "winner");
    cr_expect(!strstr(cJSON_GetStringValue(cJSON_GetObjectItem(win, "kernel")), "broken"));
    cr_expect(cJSON_GetArraySize(cJSON_GetObjectItem(root, "shapes")) == 4, "2 shapes x 2 types");

    /* a saved winner is what the next backend runs, and it is correct */
    if (cJSON_IsTrue(cJSON_GetObjectItem(root, "saved"))) {
        swacl_ctx *ctx = cl_ctx_or_skip();
        const swacl_gemm_params *gp = swacl_cl_backend_gemm_params(ctx->be);
        cr_expect_eq(gp->mr, (int)cJSON_GetNumberValue(cJSON_GetObjectItem(win, "mr")));
        cr_expect_eq(gp->test_drop_k, 0);
        check_matmul(ctx, 70, 48, 100, SWACL_WT_F32);
        swacl_ctx_destroy(ctx);
    }
    cJSON_Delete(root);
    swacl_free(json);
    swacl_ctx_destroy(host);
    rm_dir(dir);
}

/* A saved non-default set is applied by the next backend (and computes
 * right); bad files leave the table row; SWACL_GEMM_TUNE=off skips it. */
Test(tune_own, file_applied_or_ignored, .timeout = 180)
{
    char dir[256];
    tmp_cache_dir(dir, sizeof dir);
    swacl_ctx *keep = cl_ctx_or_skip(); /* its device handle names the files */
    const swacl_cl_dev *dev = swacl_cl_backend_dev(keep->be);
    const swacl_gemm_params row = *swacl_gemm_params_row(&dev->info);
    swacl_gemm_params t = row;
    t.kern = SWACL_GEMM_KERN_MK;
    t.own_f32 = 1;
    t.own_packed = 0;
    t.mr = 4;
    t.lx = 2;
    t.kc = 64;
    t.mc = 20;
    t.mc_min_m = 300;
    t.min_mnk = 1000;
    t.lm_ts = 16;
    t.lm_wpt = 2;
    char path[1200];
    swacl_ctx ectx;
    memset(&ectx, 0, sizeof ectx);
    cr_assert(swacl_gemm_own_save(&ectx, dev, &t, NULL, path, sizeof path) == SWACL_OK, "%s",
              ectx.errmsg);
    cr_assert(strncmp(path, dir, strlen(dir)) == 0, "%s not under %s", path, dir);

    swacl_ctx *ctx = cl_ctx_or_skip();
    const swacl_gemm_params *gp = swacl_cl_backend_gemm_params(ctx->be);
    cr_expect(gp->mr == 4 && gp->lx == 2 && gp->kc == 64 && gp->mc == 20 && gp->mc_min_m == 300 &&
                  gp->min_mnk == 1000 && gp->own_f32 == 1 && gp->own_packed == 0,
              "tuned set not applied (mr %d lx %d kc %d mc %d)", gp->mr, gp->lx, gp->kc, gp->mc);
    check_matmul(ctx, 70, 48, 100, SWACL_WT_F32);
    check_matmul(ctx, 45, 37, 96, SWACL_WT_Q8_0);
    swacl_ctx_destroy(ctx);
    /* the lm kernel from a file */
    t.kern = SWACL_GEMM_KERN_LM;
    t.own_packed = 1;
    t.min_mnk = 0;
    cr_assert(swacl_gemm_own_save(&ectx, dev, &t, NULL, path, sizeof path) == SWACL_OK);
    ctx = cl_ctx_or_skip();
    cr_expect_eq(swacl_cl_backend_gemm_params(ctx->be)->kern, SWACL_GEMM_KERN_LM);
    check_matmul(ctx, 50, 33, 64, SWACL_WT_F16);
    swacl_ctx_destroy(ctx);

    /* bad files: garbage, another device, then this device with mr 13,
     * an lm tile of 128 / 1 (16384 work-items), kern "xx", lx 0 */
    for (int i = 0; i < 6; i++) {
        char text[1400];
        if (i == 0)
            snprintf(text, sizeof text, "\x01garbage{");
        else
            snprintf(text, sizeof text,
                     "{\"format\":\"swacl-gemm-own-2\",\"device\":\"%s\",\"driver_version\":\"%s\","
                     "\"gemm\":{\"own_f32\":1,\"own_packed\":1,\"kern\":\"%s\",\"mr\":%d,\"lx\":%d,"
                     "\"kc\":0,\"mc\":0,\"mc_min_m\":0,\"min_mnk\":0,\"lm_ts\":%d,\"lm_wpt\":%d}}",
                     i == 1 ? "some other device" : dev->info.name, dev->info.driver_version,
                     i == 4 ? "xx" : "mk", i == 2 ? 13 : 6, i == 5 ? 0 : 1, i == 3 ? 128 : 32,
                     i == 3 ? 1 : 4);
        swacl_gemm_params out;
        char why[256] = "";
        cr_expect(swacl_gemm_own_parse(dev, text, &out, why, sizeof why) == -1,
                  "bad file %d accepted", i);
        cr_expect(why[0] != '\0', "bad file %d: no reason", i);
        FILE *f = fopen(path, "wb");
        cr_assert(f);
        fputs(text, f);
        fclose(f);
        ctx = cl_ctx_or_skip();
        cr_expect(memcmp(swacl_cl_backend_gemm_params(ctx->be), &row, sizeof row) == 0,
                  "bad file %d changed the table row", i);
        swacl_ctx_destroy(ctx);
    }
    /* the good text parses (the negative cases above are not vacuous) */
    {
        char text[1400];
        snprintf(text, sizeof text,
                 "{\"format\":\"swacl-gemm-own-2\",\"device\":\"%s\",\"driver_version\":\"%s\","
                 "\"gemm\":{\"own_f32\":1,\"own_packed\":0,\"kern\":\"mk\",\"mr\":6,\"lx\":1,"
                 "\"kc\":0,\"mc\":0,\"mc_min_m\":0,\"min_mnk\":0,\"lm_ts\":32,\"lm_wpt\":4}}",
                 dev->info.name, dev->info.driver_version);
        swacl_gemm_params out;
        char why[256] = "";
        cr_expect(swacl_gemm_own_parse(dev, text, &out, why, sizeof why) == 0, "good: %s", why);
        cr_expect(out.mr == 6 && out.own_packed == 0 && out.kern == SWACL_GEMM_KERN_MK);
    }
    /* a good file, skipped with SWACL_GEMM_TUNE=off */
    cr_assert(swacl_gemm_own_save(&ectx, dev, &t, NULL, path, sizeof path) == SWACL_OK);
    setenv("SWACL_GEMM_TUNE", "off", 1);
    ctx = cl_ctx_or_skip();
    cr_expect(memcmp(swacl_cl_backend_gemm_params(ctx->be), &row, sizeof row) == 0,
              "SWACL_GEMM_TUNE=off applied the file");
    swacl_ctx_destroy(ctx);
    swacl_ctx_destroy(keep);
    rm_dir(dir);
}
