/*
 * test_tune.c - CLBlast GEMM tuning (host/cl/cl_tune.c, host/tune/, `swacl tune`):
 *   - the result checker rejects wrong, NaN and never-written results;
 *   - the constraint checks accept CLBlast's defaults and reject bad sets;
 *   - corrupt / foreign / unknown tune files are ignored without a crash,
 *     and a backend created next to one still computes correct GEMMs;
 *   - a tuned set, saved and applied through the backend-creation hook,
 *     gives correct GEMMs for odd shapes on both CLBlast paths.
 * Device tests skip with a message when no OpenCL device is present (fail
 * with SWACL_REQUIRE_DEVICE=1). Each test runs in its own process, so the
 * environment and CLBlast's per-device overrides do not leak.
 */
#define _DEFAULT_SOURCE /* mkdtemp, setenv */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cl/cl_internal.h"
#include "helpers.h"

/* A valid non-default set (strided, scalar, 256 work-items) and a direct set. */
static const size_t k_x[SWACL_TUNE_NX] = {0, 1, 32, 2, 16, 16, 64, 16, 16, 64, 0, 0, 1, 1, 1, 1};
static const size_t k_d[SWACL_TUNE_ND] = {2, 8, 8, 8, 8, 1, 1, 2, 2, 16};
/* CLBlast HEAD global default */
static const size_t k_head[SWACL_TUNE_NX] = {0, 1, 32, 2, 8, 8, 32, 8, 8, 32, 1, 1, 0, 0, 4, 4};

static void tmp_cache_dir(char *dir, size_t len)
{
    snprintf(dir, len, "/tmp/swacl-test-tune-XXXXXX");
    cr_assert(mkdtemp(dir) != NULL, "mkdtemp");
    cr_assert(setenv("SWACL_CACHE_DIR", dir, 1) == 0);
}

static void rm_dir(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) cr_log_warn("could not remove %s", dir);
}

/* Open the test device; skip (with the reason) or fail when there is none. */
static void open_dev(swacl_ctx *ectx, swacl_cl_dev *dev)
{
    memset(ectx, 0, sizeof *ectx);
    swacl_ctx_params p = swacl_ctx_params_default();
    const char *d = getenv("SWACL_TEST_DEVICE");
    p.device = d && *d ? d : NULL;
    swacl_status st = swacl_cl_dev_open(ectx, &p, dev);
    if (st == SWACL_OK) return;
    const char *req = getenv("SWACL_REQUIRE_DEVICE");
    if (req && !strcmp(req, "1"))
        cr_assert_fail("no OpenCL device (SWACL_REQUIRE_DEVICE=1): %s", ectx->errmsg);
    cr_skip_test("no OpenCL device: %s", ectx->errmsg);
}

/* C = A W^T through swacl_cl_sgemm, checked with swacl_tune_check. */
static void gemm_case(swacl_ctx *ectx, swacl_cl_dev *dev, int M, int N, int K, uint64_t seed)
{
    size_t na = (size_t)M * K, nw = (size_t)N * K, nc = (size_t)M * N;
    float *A = malloc(na * 4), *W = malloc(nw * 4), *C = malloc(nc * 4), *R = malloc(nc * 4);
    cr_assert(A && W && C && R);
    fill_uniform(A, na, seed, 1.0f);
    fill_uniform(W, nw, seed + 1, 1.0f);
    swacl_ref_gemm(M, N, K, A, W, NULL, R, 0, 0);
    cl_int err;
    cl_mem a = clCreateBuffer(dev->context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, na * 4, A, &err);
    cr_assert(err == CL_SUCCESS);
    cl_mem w = clCreateBuffer(dev->context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, nw * 4, W, &err);
    cr_assert(err == CL_SUCCESS);
    cl_mem c = clCreateBuffer(dev->context, CL_MEM_READ_WRITE, nc * 4, NULL, &err);
    cr_assert(err == CL_SUCCESS);
    const float nan = NAN;
    cr_assert(clEnqueueFillBuffer(dev->queue, c, &nan, 4, 0, nc * 4, 0, NULL, NULL) == CL_SUCCESS);
    swacl_status st = swacl_cl_sgemm(ectx, dev, 1, M, N, K, 1.0f, a, 0, (size_t)K, w, 0, (size_t)K,
                                     0.0f, c, 0, (size_t)N);
    cr_assert(st == SWACL_OK, "sgemm %dx%dx%d: %s", M, N, K, ectx->errmsg);
    cr_assert(clEnqueueReadBuffer(dev->queue, c, CL_TRUE, 0, nc * 4, C, 0, NULL, NULL) ==
              CL_SUCCESS);
    double e = 0;
    size_t bad = 0;
    cr_expect(swacl_tune_check(C, R, nc, K, &e, &bad) == 0,
              "GEMM %dx%dx%d wrong: max rel err %g at %zu (got %g, want %g)", M, N, K, e, bad,
              C[bad], R[bad]);
    clReleaseMemObject(a);
    clReleaseMemObject(w);
    clReleaseMemObject(c);
    free(A);
    free(W);
    free(C);
    free(R);
}

static const int k_odd[][3] = {{1, 45, 93}, {3, 64, 256}, {67, 45, 93}, {130, 70, 33},
                               {257, 129, 65}, {100, 300, 17}, {513, 65, 257}};

Test(tune, checker_rejects_wrong_results)
{
    const int M = 37, N = 29, K = 301;
    float *A = malloc((size_t)M * K * 4), *W = malloc((size_t)N * K * 4);
    float *R = malloc((size_t)M * N * 4), *G = malloc((size_t)M * N * 4);
    cr_assert(A && W && R && G);
    fill_uniform(A, (size_t)M * K, 7, 1.0f);
    fill_uniform(W, (size_t)N * K, 8, 1.0f);
    swacl_ref_gemm(M, N, K, A, W, NULL, R, 0, 0);
    /* spot-check the reference itself */
    double s = 0;
    for (int k = 0; k < K; k++) s += (double)A[5 * K + k] * W[3 * K + k];
    cr_assert(fabs(s - R[5 * N + 3]) < 1e-5, "reference GEMM");

    size_t n = (size_t)M * N, bad = 0;
    double e = 0;
    /* fp32-accumulated result (what a correct kernel returns) passes */
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float acc = 0;
            for (int k = 0; k < K; k++) acc += A[i * K + k] * W[j * K + k];
            G[i * N + j] = acc;
        }
    cr_expect(swacl_tune_check(G, R, n, K, &e, NULL) == 0, "fp32 result rejected (err %g)", e);
    /* a fake candidate result with one wrong element */
    G[123] += 0.5f;
    cr_expect(swacl_tune_check(G, R, n, K, &e, &bad) == -1, "wrong element accepted");
    cr_expect(bad == 123, "bad index %zu", bad);
    G[123] = R[123];
    /* NaN (kernel never wrote C after a NaN fill) */
    G[n - 1] = NAN;
    cr_expect(swacl_tune_check(G, R, n, K, &e, &bad) == -1, "NaN accepted");
    cr_expect(bad == n - 1);
    /* all zeros, transposed-result and shifted-result fakes */
    memset(G, 0, n * 4);
    cr_expect(swacl_tune_check(G, R, n, K, NULL, NULL) == -1, "zeros accepted");
    for (size_t i = 0; i < n; i++) G[i] = R[(i + 1) % n];
    cr_expect(swacl_tune_check(G, R, n, K, NULL, NULL) == -1, "shifted result accepted");
    free(A);
    free(W);
    free(R);
    free(G);
}

Test(tune, constraints)
{
    cr_expect(swacl_tune_xgemm_ok(k_head, 4096, 65536));
    cr_expect(swacl_tune_xgemm_ok(k_x, 4096, 65536));
    cr_expect(swacl_tune_direct_ok(k_d, 4096, 65536));
    size_t x[SWACL_TUNE_NX];
    memcpy(x, k_head, sizeof x);
    x[6] = 48; /* MWG % (MDIMC * VWM) != 0 */
    cr_expect(!swacl_tune_xgemm_ok(x, 4096, 65536));
    memcpy(x, k_head, sizeof x);
    x[3] = 3; /* KWG % KWI != 0 */
    cr_expect(!swacl_tune_xgemm_ok(x, 4096, 65536));
    memcpy(x, k_head, sizeof x);
    cr_expect(!swacl_tune_xgemm_ok(x, 32, 65536), "64 work-items > max 32 accepted");
    memcpy(x, k_x, sizeof x);
    x[10] = x[11] = 1;
    x[2] = 64;
    cr_expect(!swacl_tune_xgemm_ok(x, 4096, 16384), "local memory overflow accepted");
    memcpy(x, k_head, sizeof x);
    x[14] = 3; /* VWM not a power of two */
    cr_expect(!swacl_tune_xgemm_ok(x, 4096, 65536));
    size_t d[SWACL_TUNE_ND];
    memcpy(d, k_d, sizeof d);
    d[9] = 24; /* WGD % (MDIMCD * VWMD) != 0 */
    cr_expect(!swacl_tune_direct_ok(d, 4096, 65536));
}

Test(tune, corrupt_files_are_rejected)
{
    swacl_tune_params t;
    char why[256];
    static const char *const bad[] = {
        "",
        "not json at all",
        "{\"format\":\"swacl-gemm-tune-1\",\"device\":\"x\"",         /* truncated */
        "[1,2,3]",
        "{\"format\":\"something-else\",\"device\":\"x\",\"driver_version\":\"y\"}",
        "{\"format\":\"swacl-gemm-tune-1\",\"device\":\"x\",\"driver_version\":\"y\","
        "\"xgemm\":{\"GEMMK\":0},\"xgemm_direct\":{},\"min_indirect_size\":0}",
        "{\"format\":\"swacl-gemm-tune-1\",\"device\":\"x\",\"driver_version\":\"y\","
        "\"xgemm\":{\"GEMMK\":0,\"KREG\":1,\"KWG\":32,\"KWI\":2,\"MDIMA\":8,\"MDIMC\":8,"
        "\"MWG\":\"32\",\"NDIMB\":8,\"NDIMC\":8,\"NWG\":32,\"SA\":1,\"SB\":1,\"STRM\":0,"
        "\"STRN\":0,\"VWM\":4,\"VWN\":4},\"xgemm_direct\":{},\"min_indirect_size\":0}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why[0] = '\0';
        cr_expect(swacl_tune_parse(NULL, bad[i], &t, why, sizeof why) == -1, "accepted case %zu",
                  i);
        cr_expect(why[0] != '\0', "no reason for case %zu", i);
    }
    cr_expect(swacl_tune_parse(NULL, NULL, &t, why, sizeof why) == -1);
    cr_expect(swacl_tune_load(NULL, "/nonexistent/dir/tune.json", &t, why, sizeof why) == -1);
}

/* A corrupt tune file and one for another device are ignored by the hook;
 * a backend still comes up and its GEMMs are right. */
Test(tune, corrupt_file_ignored_by_backend, .timeout = 120)
{
    char dir[256];
    tmp_cache_dir(dir, sizeof dir);
    swacl_ctx ectx;
    swacl_cl_dev *dev = calloc(1, sizeof *dev);
    cr_assert(dev);
    open_dev(&ectx, dev);
    char path[1200];
    cr_assert(swacl_tune_path(dev, path, sizeof path) == 0);
    cr_assert(strncmp(path, dir, strlen(dir)) == 0, "tune file %s not under %s", path, dir);

    static const char *const texts[] = {
        "{\"format\":\"swacl-gemm-tune-1\",\"xgemm\":{\"KWG\":", /* truncated */
        "\x01\x02garbage\xff",
        "{\"format\":\"swacl-gemm-tune-1\",\"device\":\"some other device\","
        "\"driver_version\":\"0\",\"xgemm\":{},\"xgemm_direct\":{},\"min_indirect_size\":0}",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        FILE *f = fopen(path, "wb");
        cr_assert(f);
        fputs(texts[i], f);
        fclose(f);
        cr_expect(swacl_cl_tune_apply(&ectx, dev) == 0, "corrupt file %zu applied", i);
    }
    /* through the public API: the hook runs in swacl_cl_backend_create */
    swacl_ctx *ctx = test_cl_ctx();
    cr_assert(ctx && ctx->be, "context with a corrupt tune file present");
    swacl_ctx_destroy(ctx);
    for (size_t i = 0; i < sizeof k_odd / sizeof k_odd[0]; i += 3)
        gemm_case(&ectx, dev, k_odd[i][0], k_odd[i][1], k_odd[i][2], 100 + i);
    swacl_cl_dev_close(dev);
    free(dev);
    rm_dir(dir);
}

/* Save a tuned set, apply it with the backend hook on a fresh device
 * handle, and check odd shapes on both paths (the switch at 50: m*n*k below
 * 50^3 = 125000 goes direct). */
Test(tune, applied_set_gives_correct_results, .timeout = 180)
{
    char dir[256];
    tmp_cache_dir(dir, sizeof dir);
    swacl_ctx ectx;
    swacl_cl_dev *dev = calloc(1, sizeof *dev);
    cr_assert(dev);
    open_dev(&ectx, dev);
    cr_assert(swacl_tune_xgemm_ok(k_x, dev->info.max_work_group_size, dev->info.local_mem_bytes),
              "test set does not fit this device");
    swacl_tune_params t;
    memset(&t, 0, sizeof t);
    memcpy(t.x, k_x, sizeof t.x);
    memcpy(t.d, k_d, sizeof t.d);
    t.min_indirect = 50;
    char path[1200];
    cr_assert(swacl_tune_save(&ectx, dev, &t, NULL, path, sizeof path) == SWACL_OK, "%s",
              ectx.errmsg);
    swacl_tune_params back;
    char why[256];
    cr_assert(swacl_tune_load(dev, path, &back, why, sizeof why) == 0, "reload: %s", why);
    cr_expect(memcmp(&back, &t, sizeof t) == 0, "round trip");
    swacl_cl_dev_close(dev);

    open_dev(&ectx, dev);
    cr_assert(swacl_cl_tune_apply(&ectx, dev) == 1, "tune file not applied");
    for (size_t i = 0; i < sizeof k_odd / sizeof k_odd[0]; i++)
        gemm_case(&ectx, dev, k_odd[i][0], k_odd[i][1], k_odd[i][2], 200 + i);
    /* SWACL_GEMM_TUNE=off skips the file */
    setenv("SWACL_GEMM_TUNE", "off", 1);
    cr_expect(swacl_cl_tune_apply(&ectx, dev) == 0);
    swacl_cl_dev_close(dev);
    free(dev);
    rm_dir(dir);
}
