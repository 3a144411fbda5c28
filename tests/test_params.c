/*
 * test_params.c - kernel variants and launch shapes as data (the
 * per-device-class table and swacl_ctx_params.kernels), the extensible
 * swacl_ctx_params (struct_size), the one environment file and the layout
 * rules of the op layer: one stem per op in kernels_cl/, host/ref/ and
 * host/cl/, no file there over 800 lines, no getenv outside env.c.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cl/cl_internal.h"
#include "cl/cl_params.h"
#include "common/env.h"
#include "helpers.h"

#ifndef SWACL_SOURCE_DIR
#define SWACL_SOURCE_DIR "."
#endif

/* ------------------------------------------------------------------------ */
/* Validation at context creation.                                          */

typedef struct {
    swacl_kernel_params k;
    const char *field; /* the message must name it */
} bad_kp;

static const bad_kp k_bad[] = {
    {{.attn = (swacl_attn_kernel)7}, "kernels.attn ="},
    {{.attn = (swacl_attn_kernel)-1}, "kernels.attn ="},
    {{.norm = (swacl_norm_kernel)3}, "kernels.norm ="},
    {{.attn_bq = -1}, "kernels.attn_bq ="},
    {{.attn_bq = 257}, "kernels.attn_bq ="},
    {{.attn_bk = 129}, "kernels.attn_bk ="},
    {{.attn_bk_d128 = -3}, "kernels.attn_bk_d128 ="},
    {{.attn_row_lx = 1000}, "kernels.attn_row_lx ="},
    {{.attn_blk_qb = 3}, "kernels.attn_blk_qb ="},
    {{.attn_blk_qb = 18}, "kernels.attn_blk_qb ="},
    {{.attn_blk_kt = 12}, "kernels.attn_blk_kt ="},
    {{.attn_blk_kt = 4}, "kernels.attn_blk_kt ="},
    {{.attn_blk_lx = 65}, "kernels.attn_blk_lx ="},
    {{.norm_wg_lx = 48}, "kernels.norm_wg_lx ="},
    {{.norm_wg_lx = 2048}, "kernels.norm_wg_lx ="},
    {{.norm_row_lx = -1}, "kernels.norm_row_lx ="},
};

/* Checked before any device is opened, so the same for "ref" and OpenCL
 * selectors (and without a device). */
Test(params, invalid_kernel_params_named)
{
    const char *devs[] = {"ref", NULL};
    for (size_t d = 0; d < 2; d++)
        for (size_t i = 0; i < sizeof k_bad / sizeof k_bad[0]; i++) {
            swacl_ctx_params p = swacl_ctx_params_default();
            p.device = devs[d];
            p.kernels = k_bad[i].k;
            swacl_ctx *ctx = NULL;
            swacl_status st = swacl_ctx_create(&p, &ctx);
            cr_assert_eq(st, SWACL_INVALID_ARG, "case %zu on %s: %s", i,
                         devs[d] ? devs[d] : "default", swacl_status_string(st));
            cr_assert(ctx != NULL);
            cr_assert(strstr(swacl_ctx_errmsg(ctx), k_bad[i].field) != NULL,
                      "case %zu: '%s' not named in: %s", i, k_bad[i].field, swacl_ctx_errmsg(ctx));
            swacl_ctx_destroy(ctx);
        }
}

Test(params, valid_overrides_pass_the_check)
{
    swacl_kernel_params ok = {.attn = SWACL_ATTN_KERNEL_BLK,
                              .norm = SWACL_NORM_KERNEL_WG,
                              .attn_bq = 256,
                              .attn_bk = 1,
                              .attn_bk_d128 = 128,
                              .attn_row_lx = 1,
                              .attn_blk_qb = 16,
                              .attn_blk_kt = 128,
                              .attn_blk_lx = 64,
                              .norm_wg_lx = 1024,
                              .norm_row_lx = 256};
    swacl_ctx *ctx = test_ref_ctx();
    cr_assert_eq(swacl_kernel_params_check(ctx, &ok), SWACL_OK, "%s", swacl_ctx_errmsg(ctx));
    swacl_kernel_params zero = {0};
    cr_assert_eq(swacl_kernel_params_check(ctx, &zero), SWACL_OK);
    /* a reference context runs no kernels: nothing to report */
    swacl_kernel_params out;
    cr_assert_eq(swacl_ctx_kernel_params(ctx, &out), SWACL_UNSUPPORTED);
    cr_assert(strstr(swacl_ctx_errmsg(ctx), "ref") != NULL, "%s", swacl_ctx_errmsg(ctx));
    swacl_ctx_destroy(ctx);
}

/* ------------------------------------------------------------------------ */
/* The table: rows by device class, overrides, device limits.               */

static swacl_device_info fake_device(const char *type, const char *vendor, size_t max_wg,
                                     uint64_t local_mem)
{
    swacl_device_info d;
    memset(&d, 0, sizeof d);
    snprintf(d.type, sizeof d.type, "%s", type);
    snprintf(d.vendor, sizeof d.vendor, "%s", vendor);
    d.max_work_group_size = max_wg;
    d.local_mem_bytes = local_mem;
    return d;
}

Test(params, table_rows_by_device_class)
{
    const char *name = NULL;
    swacl_device_info cpu = fake_device("cpu", "AuthenticAMD", 4096, 1 << 20);
    const swacl_kernel_params *k = swacl_kernel_params_row(&cpu, &name);
    cr_assert_str_eq(name, "cpu");
    cr_assert_eq(k->attn, SWACL_ATTN_KERNEL_BLK);
    cr_assert_eq(k->norm, SWACL_NORM_KERNEL_ROW);
    cr_assert_eq(k->attn_blk_qb, 4);
    cr_assert_eq(k->attn_blk_kt, 32);
    cr_assert_eq(k->attn_blk_lx, 1);

    swacl_device_info gpu = fake_device("gpu", "NVIDIA Corporation", 1024, 48 << 10);
    k = swacl_kernel_params_row(&gpu, &name);
    cr_assert_str_eq(name, "gpu");
    cr_assert_eq(k->attn, SWACL_ATTN_KERNEL_TILED);
    cr_assert_eq(k->norm, SWACL_NORM_KERNEL_WG);
    cr_assert_eq(k->attn_bq, 32);
    cr_assert_eq(k->attn_bk_d128, 16);

    swacl_device_info acc = fake_device("accelerator", "x", 256, 32 << 10);
    k = swacl_kernel_params_row(&acc, &name);
    cr_assert_str_eq(name, "other");
    cr_assert_eq(k->attn, SWACL_ATTN_KERNEL_TILED);
    k = swacl_kernel_params_row(NULL, &name);
    cr_assert_str_eq(name, "other");

    /* every row is complete: no AUTO, no zero shape, and passes the check */
    const swacl_device_info *all[] = {&cpu, &gpu, &acc};
    swacl_ctx *ctx = test_ref_ctx();
    for (int i = 0; i < 3; i++) {
        k = swacl_kernel_params_row(all[i], NULL);
        cr_assert(k->attn != SWACL_ATTN_KERNEL_AUTO && k->norm != SWACL_NORM_KERNEL_AUTO);
        cr_assert(k->attn_bq && k->attn_bk && k->attn_bk_d128 && k->attn_row_lx && k->attn_blk_qb &&
                  k->attn_blk_kt && k->attn_blk_lx && k->norm_wg_lx && k->norm_row_lx);
        cr_assert_eq(swacl_kernel_params_check(ctx, k), SWACL_OK, "%s", swacl_ctx_errmsg(ctx));
    }
    swacl_ctx_destroy(ctx);
}

Test(params, overrides_and_device_limits)
{
    swacl_ctx *ctx = test_ref_ctx();
    swacl_device_info gpu = fake_device("gpu", "v", 64, 32 << 10);
    swacl_kernel_params over = {.attn = SWACL_ATTN_KERNEL_ROW,
                                .attn_row_lx = 4,
                                .norm_row_lx = 16,
                                .norm = SWACL_NORM_KERNEL_ROW};
    swacl_kernel_params out;
    const char *row = NULL;
    cr_assert_eq(swacl_kernel_params_resolve(ctx, &gpu, &over, &out, &row), SWACL_OK, "%s",
                 swacl_ctx_errmsg(ctx));
    cr_assert_str_eq(row, "gpu");
    cr_assert_eq(out.attn, SWACL_ATTN_KERNEL_ROW);
    cr_assert_eq(out.attn_row_lx, 4);
    cr_assert_eq(out.norm, SWACL_NORM_KERNEL_ROW);
    cr_assert_eq(out.norm_row_lx, 16);
    /* fields not overridden keep the row's values */
    const swacl_kernel_params *r = swacl_kernel_params_row(&gpu, NULL);
    cr_assert_eq(out.attn_bq, r->attn_bq);
    cr_assert_eq(out.attn_blk_qb, r->attn_blk_qb);
    cr_assert_eq(out.norm_wg_lx, r->norm_wg_lx);

    /* more than the device allows: named */
    swacl_kernel_params big = {.attn_bq = 128};
    cr_assert_eq(swacl_kernel_params_resolve(ctx, &gpu, &big, &out, NULL), SWACL_INVALID_ARG);
    cr_assert(strstr(swacl_ctx_errmsg(ctx), "kernels.attn_bq") != NULL, "%s",
              swacl_ctx_errmsg(ctx));
    swacl_kernel_params wg = {.norm_wg_lx = 128};
    cr_assert_eq(swacl_kernel_params_resolve(ctx, &gpu, &wg, &out, NULL), SWACL_INVALID_ARG);
    cr_assert(strstr(swacl_ctx_errmsg(ctx), "kernels.norm_wg_lx") != NULL, "%s",
              swacl_ctx_errmsg(ctx));
    /* two 64 x 128 float tiles = 64 KiB > 32 KiB of local memory */
    swacl_kernel_params lm = {.attn_bk_d128 = 64};
    cr_assert_eq(swacl_kernel_params_resolve(ctx, &gpu, &lm, &out, NULL), SWACL_INVALID_ARG);
    cr_assert(strstr(swacl_ctx_errmsg(ctx), "kernels.attn_bk_d128") != NULL, "%s",
              swacl_ctx_errmsg(ctx));
    swacl_ctx_destroy(ctx);
}

/* The default OpenCL context reports its device class's row. */
Test(params, device_context_uses_its_row)
{
    swacl_ctx *ctx = test_cl_ctx();
    swacl_kernel_params got;
    cr_assert_eq(swacl_ctx_kernel_params(ctx, &got), SWACL_OK, "%s", swacl_ctx_errmsg(ctx));
    const swacl_cl_dev *dev = swacl_cl_backend_dev(ctx->be);
    cr_assert(dev != NULL);
    const swacl_kernel_params *want = swacl_kernel_params_row(&dev->info, NULL);
    cr_assert_eq(memcmp(&got, want, sizeof got), 0, "resolved parameters differ from the row");
    if (!strcmp(dev->info.type, "cpu")) {
        cr_assert_eq(got.attn, SWACL_ATTN_KERNEL_BLK);
        cr_assert_eq(got.norm, SWACL_NORM_KERNEL_ROW);
    }
    swacl_ctx_destroy(ctx);

    swacl_kernel_params over = {.attn = SWACL_ATTN_KERNEL_TILED,
                                .attn_bq = 8,
                                .attn_bk = 16,
                                .norm = SWACL_NORM_KERNEL_WG,
                                .norm_wg_lx = 16};
    ctx = test_cl_ctx_kernels(&over);
    cr_assert_eq(swacl_ctx_kernel_params(ctx, &got), SWACL_OK, "%s", swacl_ctx_errmsg(ctx));
    cr_assert_eq(got.attn, SWACL_ATTN_KERNEL_TILED);
    cr_assert_eq(got.attn_bq, 8);
    cr_assert_eq(got.attn_bk, 16);
    cr_assert_eq(got.attn_bk_d128, want->attn_bk_d128);
    cr_assert_eq(got.norm, SWACL_NORM_KERNEL_WG);
    cr_assert_eq(got.norm_wg_lx, 16);
    swacl_ctx_destroy(ctx);
}

/* Forced launch shapes really run, and agree with the reference: window
 * attention (T = 37 is no multiple of any group size, GQA 2) and LayerNorm
 * (n = 100 is no multiple of the work-group size). */
typedef struct {
    swacl_kernel_params k;
    const char *what;
} shape_case;

static const shape_case k_shapes[] = {
    {{.attn = SWACL_ATTN_KERNEL_TILED,
      .attn_bq = 8,
      .attn_bk = 16,
      .norm = SWACL_NORM_KERNEL_WG,
      .norm_wg_lx = 16},
     "tiled bq 8 bk 16, norm wg 16"},
    {{.attn = SWACL_ATTN_KERNEL_ROW,
      .attn_row_lx = 4,
      .norm = SWACL_NORM_KERNEL_ROW,
      .norm_row_lx = 2},
     "row lx 4, norm row lx 2"},
    {{.attn = SWACL_ATTN_KERNEL_BLK,
      .attn_blk_qb = 8,
      .attn_blk_kt = 16,
      .attn_blk_lx = 2,
      .norm = SWACL_NORM_KERNEL_WG,
      .norm_wg_lx = 128},
     "blk qb 8 kt 16 lx 2, norm wg 128"},
};

static double max_abs_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - (double)b[i]);
        if (!(e <= m)) m = e; /* NaN propagates */
    }
    return m;
}

Test(params, forced_shapes_match_reference)
{
    const int T = 37, H = 4, Hkv = 2, d = 64, rows = 5, n = 100;
    const size_t nq = (size_t)T * H * d, nkv = (size_t)T * Hkv * d, nx = (size_t)rows * n;
    float *q = malloc(nq * 4), *k = malloc(nkv * 4), *v = malloc(nkv * 4), *x = malloc(nx * 4);
    float *w = malloc((size_t)n * 4), *b = malloc((size_t)n * 4);
    cr_assert(q && k && v && x && w && b);
    fill_uniform(q, nq, 1, 1.0f);
    fill_uniform(k, nkv, 2, 1.0f);
    fill_uniform(v, nkv, 3, 1.0f);
    fill_uniform(x, nx, 4, 2.0f);
    fill_uniform(w, (size_t)n, 5, 1.0f);
    fill_uniform(b, (size_t)n, 6, 1.0f);
    int pos0 = 0, n_new = T;
    for (size_t c = 0; c < sizeof k_shapes / sizeof k_shapes[0]; c++) {
        swacl_ctx *ctxs[2] = {test_cl_ctx_kernels(&k_shapes[c].k), test_ref_ctx()};
        float *att[2], *nrm[2];
        for (int i = 0; i < 2; i++) {
            swacl_backend *be = ctxs[i]->be;
            swacl_buf *bq = test_upload(be, q, nq), *bk = test_upload(be, k, nkv);
            swacl_buf *bv = test_upload(be, v, nkv), *bo = test_alloc(be, nq);
            swacl_attn_args a = {.B = 1,
                                 .T = T,
                                 .H = H,
                                 .Hkv = Hkv,
                                 .d = d,
                                 .q = bq,
                                 .k = bk,
                                 .v = bv,
                                 .pos0 = &pos0,
                                 .n_new = &n_new,
                                 .span = SWACL_SPAN_WINDOW,
                                 .span_size = 11,
                                 .scale = 1.0f / sqrtf((float)d),
                                 .temp = SWACL_TEMP_NONE,
                                 .out = bo};
            cr_assert_eq(be->iface->attention(be, &a), SWACL_OK, "%s: %s", k_shapes[c].what,
                         swacl_ctx_errmsg(ctxs[i]));
            swacl_buf *bx = test_upload(be, x, nx), *by = test_alloc(be, nx);
            swacl_buf *bw = test_upload(be, w, (size_t)n), *bb = test_upload(be, b, (size_t)n);
            cr_assert_eq(be->iface->norm(be, SWACL_NORM_LAYER, by, bx, bw, bb, rows, n, 1e-5f),
                         SWACL_OK, "%s: %s", k_shapes[c].what, swacl_ctx_errmsg(ctxs[i]));
            att[i] = test_download(be, bo, nq);
            nrm[i] = test_download(be, by, nx);
            swacl_buf *bufs[] = {bq, bk, bv, bo, bx, by, bw, bb};
            for (int j = 0; j < 8; j++) be->iface->buf_free(be, bufs[j]);
        }
        double ea = max_abs_diff(att[0], att[1], nq), en = max_abs_diff(nrm[0], nrm[1], nx);
        cr_assert(ea <= 1e-5, "%s: attention max |err| %g", k_shapes[c].what, ea);
        cr_assert(en <= 1e-5, "%s: norm max |err| %g", k_shapes[c].what, en);
        for (int i = 0; i < 2; i++) {
            free(att[i]);
            free(nrm[i]);
            swacl_ctx_destroy(ctxs[i]);
        }
    }
    free(q), free(k), free(v), free(x), free(w), free(b);
}

/* ------------------------------------------------------------------------ */
/* swacl_ctx_params.struct_size.                                            */

Test(params, ctx_params_struct_size)
{
    swacl_ctx_params p = swacl_ctx_params_default();
    cr_assert_eq(p.struct_size, sizeof p);
    p.device = "ref";
    swacl_ctx *ctx = NULL;
    /* 0: a zero-initialised struct of this header */
    p.struct_size = 0;
    cr_assert_eq(swacl_ctx_create(&p, &ctx), SWACL_OK, "%s", swacl_ctx_errmsg(ctx));
    swacl_ctx_destroy(ctx);
    const size_t bad[] = {sizeof p + 8, 4};
    for (int i = 0; i < 2; i++) {
        p.struct_size = bad[i];
        cr_assert_eq(swacl_ctx_create(&p, &ctx), SWACL_INVALID_ARG);
        cr_assert(strstr(swacl_ctx_errmsg(ctx), "struct_size") != NULL, "%s",
                  swacl_ctx_errmsg(ctx));
        swacl_ctx_destroy(ctx);
    }
}

/* ------------------------------------------------------------------------ */
/* The environment file.                                                    */

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0, n;
    char chunk[4096];
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (len + n + 1 > cap) {
            cap = (len + n + 1) * 2;
            char *nb = realloc(buf, cap);
            cr_assert(nb != NULL);
            buf = nb;
        }
        memcpy(buf + len, chunk, n);
        len += n;
    }
    fclose(f);
    if (!buf)
        buf = calloc(1, 1);
    else
        buf[len] = 0;
    return buf;
}

Test(params, every_env_variable_documented)
{
    char *doc = read_all(SWACL_SOURCE_DIR "/docs/ENVIRONMENT.md");
    cr_assert(doc != NULL, "cannot read docs/ENVIRONMENT.md");
    for (int v = 0; v < SWACL_ENV_COUNT; v++) {
        const swacl_env_doc *d = swacl_env_doc_of((swacl_env_var)v);
        cr_assert(d && d->name && d->meaning && d->dflt, "row %d incomplete", v);
        char want[128];
        snprintf(want, sizeof want, "| `%s` |", d->name);
        cr_assert(strstr(doc, want) != NULL, "%s is not in docs/ENVIRONMENT.md", d->name);
    }
    cr_assert(swacl_env_doc_of(SWACL_ENV_COUNT) == NULL);
    free(doc);
}

Test(params, cache_dir_policy)
{
    char dir[64];
    unsetenv("SWACL_CACHE_DIR");
    unsetenv("XDG_CACHE_HOME");
    setenv("HOME", "/h", 1);
    swacl_env_cache_dir(NULL, dir, sizeof dir);
    cr_assert_str_eq(dir, "/h/.cache/swacl");
    setenv("XDG_CACHE_HOME", "/x", 1);
    swacl_env_cache_dir("", dir, sizeof dir);
    cr_assert_str_eq(dir, "/x/swacl");
    setenv("SWACL_CACHE_DIR", "/s", 1);
    swacl_env_cache_dir(NULL, dir, sizeof dir);
    cr_assert_str_eq(dir, "/s");
    swacl_env_cache_dir("/p", dir, sizeof dir);
    cr_assert_str_eq(dir, "/p");
    swacl_env_cache_dir("off", dir, sizeof dir);
    cr_assert_str_eq(dir, "");
    setenv("SWACL_CACHE_DIR", "off", 1);
    swacl_env_cache_dir(NULL, dir, sizeof dir);
    cr_assert_str_eq(dir, "");
    swacl_env_cache_dir("/p", dir, sizeof dir); /* the parameter wins over "off" */
    cr_assert_str_eq(dir, "/p");
    unsetenv("SWACL_CACHE_DIR");
    unsetenv("XDG_CACHE_HOME");
    unsetenv("HOME");
    swacl_env_cache_dir(NULL, dir, sizeof dir);
    cr_assert_str_eq(dir, "", "no location: off");
    /* a path that does not fit: off, never truncated */
    char tiny[8];
    swacl_env_cache_dir("/a/long/path", tiny, sizeof tiny);
    cr_assert_str_eq(tiny, "");
    setenv("TMPDIR", "", 1);
    cr_assert_str_eq(swacl_env_tmpdir(), "/tmp");
    setenv("TMPDIR", "/t", 1);
    cr_assert_str_eq(swacl_env_tmpdir(), "/t");
    setenv("SWACL_GEMM_TUNE", "OFF", 1);
    cr_assert(swacl_env_is(SWACL_ENV_GEMM_TUNE, "off"));
    cr_assert(!swacl_env_is(SWACL_ENV_GEMM_TUNE, "defaults"));
}

/* ------------------------------------------------------------------------ */
/* Source layout rules.                                                     */

typedef void (*file_fn)(const char *path, const char *rel, void *user);

static void walk(const char *dir, const char *rel, file_fn fn, void *user)
{
    DIR *d = opendir(dir);
    cr_assert(d != NULL, "cannot open %s", dir);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[1024], r[512];
        int w1 = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        int w2 = snprintf(r, sizeof r, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
        cr_assert(w1 > 0 && (size_t)w1 < sizeof path && w2 > 0 && (size_t)w2 < sizeof r,
                  "path too long under %s", dir);
        struct stat sb;
        if (stat(path, &sb) != 0) continue;
        if (S_ISDIR(sb.st_mode))
            walk(path, r, fn, user);
        else
            fn(path, r, user);
    }
    closedir(d);
}

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

/* getenv() only in host/common/env.c. Until the merge of issue 15 two
 * files owned by others still read the environment; they move to env.c
 * then (SWACL_PIPELINE_LINK, TMPDIR) and leave this list. */
static void check_getenv(const char *path, const char *rel, void *user)
{
    (void)user;
    if (!ends_with(rel, ".c") && !ends_with(rel, ".h")) return;
    if (!strcmp(rel, "common/env.c")) return;
    char *s = read_all(path);
    cr_assert(s != NULL);
    cr_assert(strstr(s, "getenv(") == NULL, "host/%s calls getenv(): use host/common/env.h", rel);
    free(s);
}

Test(params, getenv_only_in_env_c) { walk(SWACL_SOURCE_DIR "/host", "", check_getenv, NULL); }

static void check_lines(const char *path, const char *rel, void *user)
{
    const char *top = user;
    char *s = read_all(path);
    cr_assert(s != NULL);
    int lines = 0;
    for (const char *c = s; *c; c++) lines += *c == '\n';
    free(s);
    cr_assert(lines <= 800, "%s/%s has %d lines (at most 800)", top, rel, lines);
}

static int exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* kernels_cl/<op>.cl, host/ref/<op>.c and host/cl/<op>.c come together
 * (common.cl: prepended to every program; probe.cl: device peak probes of
 * the benchmarks, no op; gemm.cl / gemm_lm.cl with host/cl/gemm.c /
 * gemm_lm.c: the matmul op's prefill GEMMs, checked against
 * host/ref/matmul.c). */
static void check_stem(const char *path, const char *rel, void *user)
{
    (void)path;
    const char *top = user;
    char stem[128], p[1024];
    if (!strcmp(top, "kernels_cl")) {
        if (!ends_with(rel, ".cl")) return;
        snprintf(stem, sizeof stem, "%.*s", (int)(strlen(rel) - 3), rel);
        if (!strcmp(stem, "common") || !strcmp(stem, "probe")) return;
        const char *ref = !strcmp(stem, "gemm") || !strcmp(stem, "gemm_lm") ? "matmul" : stem;
        snprintf(p, sizeof p, "%s/host/ref/%s.c", SWACL_SOURCE_DIR, ref);
        cr_assert(exists(p), "kernels_cl/%s.cl has no reference host/ref/%s.c", stem, ref);
        snprintf(p, sizeof p, "%s/host/cl/%s.c", SWACL_SOURCE_DIR, stem);
        cr_assert(exists(p), "kernels_cl/%s.cl has no launcher host/cl/%s.c", stem, stem);
        return;
    }
    /* host/ref/<op>.c and host/cl/<op>.c (not the backend glue) have a kernel file */
    if (!ends_with(rel, ".c") || !strncmp(rel, "cl_", 3) || !strncmp(rel, "ref_", 4)) return;
    snprintf(stem, sizeof stem, "%.*s", (int)(strlen(rel) - 2), rel);
    snprintf(p, sizeof p, "%s/kernels_cl/%s.cl", SWACL_SOURCE_DIR, stem);
    cr_assert(exists(p), "host/%s/%s has no kernels_cl/%s.cl", top, rel, stem);
}

Test(params, one_stem_per_op_and_file_sizes)
{
    const char *tops[] = {"kernels_cl", "host/cl", "host/ref"};
    const char *names[] = {"kernels_cl", "cl", "ref"};
    for (int i = 0; i < 3; i++) {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/%s", SWACL_SOURCE_DIR, tops[i]);
        walk(dir, "", check_lines, (void *)tops[i]);
        walk(dir, "", check_stem, (void *)names[i]);
    }
}
