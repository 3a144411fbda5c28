/* test_runtime.c - the OpenCL runtime layer: device enumeration and
 * selection, program build errors, the in-memory and on-disk program
 * caches, CLBlast SGEMM, error names. Each test runs in its own process, so
 * setenv() before the first OpenCL call takes effect (POCL_CACHE_DIR);
 * POCL_DEVICES cannot be changed that way, so multi-device selection is not
 * covered here. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cl/cl_internal.h"
#include "helpers.h"

#ifndef SWACL_SOURCE_DIR
#define SWACL_SOURCE_DIR "."
#endif

/* ------------------------------------------------------------------------ */
/* Helpers.                                                                  */

static int device_required(void)
{
    const char *r = getenv("SWACL_REQUIRE_DEVICE");
    return r && r[0] == '1';
}

/* The device list; skips the test when there is none (unless required). */
static swacl_device_info *list_or_skip(int *n)
{
    swacl_device_info *l = NULL;
    char err[512] = "";
    swacl_ctx *ec = test_ref_ctx(); /* receives the listing's message */
    swacl_status st = swacl_devices_list(ec, &l, n);
    snprintf(err, sizeof err, "%s", swacl_ctx_errmsg(ec));
    swacl_ctx_destroy(ec);
    cr_assert_eq(st, SWACL_OK, "swacl_devices_list: %s (%s)", swacl_status_string(st), err);
    if (*n == 0) {
        cr_assert(!device_required(), "no OpenCL device but SWACL_REQUIRE_DEVICE=1");
        cr_skip_test("no OpenCL device");
    }
    return l;
}

/* Open a device with the given selector and dirs; asserts success. */
static void open_dev(swacl_ctx *ctx, swacl_cl_dev *dev, const char *sel, const char *kernel_dir,
                     const char *cache_dir)
{
    swacl_ctx_params p = swacl_ctx_params_default();
    p.device = sel;
    p.kernel_dir = kernel_dir;
    p.cache_dir = cache_dir;
    swacl_status st = swacl_cl_dev_open(ctx, &p, dev);
    if (st == SWACL_NO_DEVICE && !device_required() && (!sel || !*sel))
        cr_skip_test("no OpenCL device: %s", swacl_ctx_errmsg(ctx));
    cr_assert_eq(st, SWACL_OK, "swacl_cl_dev_open('%s'): %s", sel ? sel : "(default)",
                 swacl_ctx_errmsg(ctx));
    cr_assert(dev->context && dev->queue && dev->device);
}

static char *make_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[512];
    snprintf(tmpl, sizeof tmpl, "%s/swacl-rt-XXXXXX", base && *base ? base : "/tmp");
    char *d = mkdtemp(tmpl);
    cr_assert(d != NULL, "mkdtemp failed");
    return strdup(d);
}

static void write_text(const char *dir, const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert(f != NULL, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

/* Copy the real kernels_cl/common.cl into dir. */
static void copy_common(const char *dir)
{
    FILE *in = fopen(SWACL_SOURCE_DIR "/kernels_cl/common.cl", "rb");
    cr_assert(in != NULL, "cannot open %s", SWACL_SOURCE_DIR "/kernels_cl/common.cl");
    char path[1024];
    snprintf(path, sizeof path, "%s/common.cl", dir);
    FILE *out = fopen(path, "wb");
    cr_assert(out != NULL);
    char buf[4096];
    size_t r;
    while ((r = fread(buf, 1, sizeof buf, in)) > 0) fwrite(buf, 1, r, out);
    fclose(in);
    fclose(out);
}

/* Count directory entries (recursively) whose name contains `part`
 * ("" counts everything). */
static int count_files(const char *dir, const char *part)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
            n += count_files(path, part);
        else if (strstr(e->d_name, part))
            n++;
    }
    closedir(d);
    return n;
}

/* Pin PoCL's own kernel cache to where it is now, before a test moves
 * HOME / XDG_CACHE_HOME: PoCL would otherwise create (and cold-fill) a
 * cache under the fake home. */
static void pin_pocl_cache(void)
{
    const char *pc = getenv("POCL_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME"),
               *home = getenv("HOME");
    if (pc && *pc) return;
    char pocl[700];
    if (xdg && *xdg)
        snprintf(pocl, sizeof pocl, "%s/pocl/kcache", xdg);
    else
        snprintf(pocl, sizeof pocl, "%s/.cache/pocl/kcache", home && *home ? home : "/tmp");
    setenv("POCL_CACHE_DIR", pocl, 1);
}

static void rm_rf(const char *dir)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) { /* best effort */
    }
}

/* A real kernel using a common.cl helper: y[i] = silu(x[i]) * SCALE. */
static const char *k_silu_src =
    "#ifndef SCALE\n#define SCALE 1.0f\n#endif\n"
    "__kernel void silu_scale(__global const float *x, __global float *y, int n) {\n"
    "    int i = get_global_id(0);\n"
    "    if (i < n) y[i] = swacl_silu(x[i]) * SCALE;\n"
    "}\n";

/* Run silu_scale from prog over 100 elements and check it. */
static void check_silu_program(swacl_cl_dev *dev, cl_program prog, float scale)
{
    enum { N = 100 };
    float x[N], y[N], ref[N];
    fill_uniform(x, N, 7, 4.0f);
    for (int i = 0; i < N; i++) ref[i] = scale * (float)(x[i] / (1.0 + exp(-(double)x[i])));
    cl_int rc;
    cl_kernel k = clCreateKernel(prog, "silu_scale", &rc);
    cr_assert_eq(rc, CL_SUCCESS, "clCreateKernel: %s", swacl_cl_error_name(rc));
    cl_mem bx = clCreateBuffer(dev->context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, sizeof x, x,
                               &rc);
    cr_assert_eq(rc, CL_SUCCESS);
    cl_mem by = clCreateBuffer(dev->context, CL_MEM_WRITE_ONLY, sizeof y, NULL, &rc);
    cr_assert_eq(rc, CL_SUCCESS);
    int n = N;
    clSetKernelArg(k, 0, sizeof bx, &bx);
    clSetKernelArg(k, 1, sizeof by, &by);
    clSetKernelArg(k, 2, sizeof n, &n);
    size_t gsz = 104, lsz = 8;
    rc = clEnqueueNDRangeKernel(dev->queue, k, 1, NULL, &gsz, &lsz, 0, NULL, NULL);
    cr_assert_eq(rc, CL_SUCCESS, "enqueue: %s", swacl_cl_error_name(rc));
    rc = clEnqueueReadBuffer(dev->queue, by, CL_TRUE, 0, sizeof y, y, 0, NULL, NULL);
    cr_assert_eq(rc, CL_SUCCESS);
    expect_close("silu_scale", y, ref, N, 1e-5, 1e-4, 1e-10);
    clReleaseMemObject(bx);
    clReleaseMemObject(by);
    clReleaseKernel(k);
}

/* ------------------------------------------------------------------------ */
/* Error names.                                                              */

Test(runtime, error_names)
{
    cr_assert_str_eq(swacl_cl_error_name(0), "CL_SUCCESS");
    cr_assert_str_eq(swacl_cl_error_name(-5), "CL_OUT_OF_RESOURCES");
    cr_assert_str_eq(swacl_cl_error_name(-11), "CL_BUILD_PROGRAM_FAILURE");
    cr_assert_str_eq(swacl_cl_error_name(-72), "CL_MAX_SIZE_RESTRICTION_EXCEEDED");
    cr_assert_str_eq(swacl_cl_error_name(-1001), "CL_PLATFORM_NOT_FOUND_KHR");
    cr_assert_str_eq(swacl_cl_error_name(-1024), "CLBlastNotImplemented");
    cr_assert_str_eq(swacl_cl_error_name(-1016), "CLBlastInvalidLeadDimA");
    cr_assert_str_eq(swacl_cl_error_name(-2048), "CLBlastInvalidOverrideKernel");
    cr_assert_str_eq(swacl_cl_error_name(-2039), "CLBlastUnexpectedError");
    cr_assert_str_eq(swacl_cl_error_name(12345), "UNKNOWN_ERROR");
    cr_assert_str_eq(swacl_cl_error_name(-20), "UNKNOWN_ERROR");

    swacl_ctx *ctx = test_ref_ctx();
    swacl_status st = swacl_cl_fail(ctx, CL_MEM_OBJECT_ALLOCATION_FAILURE, "clCreateBuffer(x)",
                                    "foo.c", 42);
    cr_assert_eq(st, SWACL_OUT_OF_MEMORY);
    cr_assert_str_eq(swacl_ctx_errmsg(ctx),
                     "foo.c:42: clCreateBuffer(x) failed: CL_MEM_OBJECT_ALLOCATION_FAILURE (-4)");
    cr_assert_eq(swacl_cl_fail(ctx, CL_OUT_OF_HOST_MEMORY, "a", "f.c", 1), SWACL_OUT_OF_MEMORY);
    cr_assert_eq(swacl_cl_fail(ctx, CL_OUT_OF_RESOURCES, "a", "f.c", 1), SWACL_OUT_OF_MEMORY);
    cr_assert_eq(swacl_cl_fail(ctx, CL_INVALID_BUFFER_SIZE, "a", "f.c", 1), SWACL_OUT_OF_MEMORY);
    cr_assert_eq(swacl_cl_fail(ctx, CL_INVALID_KERNEL_ARGS, "clEnqueueNDRangeKernel", "f.c", 7),
                 SWACL_OPENCL);
    cr_assert(strstr(swacl_ctx_errmsg(ctx), "CL_INVALID_KERNEL_ARGS (-52)") != NULL, "%s",
              swacl_ctx_errmsg(ctx));
    swacl_ctx_destroy(ctx);
}

/* ------------------------------------------------------------------------ */
/* Devices.                                                                  */

Test(runtime, devices_list)
{
    int n = 0;
    swacl_device_info *l = list_or_skip(&n);
    cr_assert_geq(n, 1);
    for (int i = 0; i < n; i++) {
        const swacl_device_info *d = &l[i];
        cr_assert_eq(d->index, i);
        cr_assert_geq(d->platform_index, 0);
        if (i > 0) cr_assert_geq(d->platform_index, l[i - 1].platform_index);
        cr_assert(d->name[0] != '\0', "device %d has no name", i);
        cr_assert(d->platform_name[0] != '\0');
        cr_assert(!strcmp(d->type, "gpu") || !strcmp(d->type, "cpu") ||
                      !strcmp(d->type, "accelerator") || !strcmp(d->type, "other"),
                  "type '%s'", d->type);
        cr_assert_gt(d->compute_units, 0);
        cr_assert_gt(d->global_mem_bytes, 0);
        cr_assert_gt(d->local_mem_bytes, 0);
        cr_assert_gt(d->max_alloc_bytes, 0);
        cr_assert_leq(d->max_alloc_bytes, d->global_mem_bytes);
        cr_assert_gt(d->max_work_group_size, 0);
        cr_assert(strncmp(d->opencl_c_version, "OpenCL C ", 9) == 0, "'%s'",
                  d->opencl_c_version);
        cr_assert(strncmp(d->device_version, "OpenCL ", 7) == 0, "'%s'", d->device_version);
        cr_assert(d->driver_version[0] != '\0');
    }
    swacl_devices_free(l);
    swacl_devices_free(NULL);

    cr_assert_eq(swacl_devices_list(NULL, NULL, &n), SWACL_INVALID_ARG);
}

Test(runtime, select_default_index_type_name)
{
    int n = 0;
    swacl_device_info *l = list_or_skip(&n);
    swacl_ctx *ctx = test_ref_ctx();
    swacl_cl_dev dev;

    open_dev(ctx, &dev, NULL, NULL, "off");
    int has_gpu = 0;
    for (int i = 0; i < n; i++) has_gpu |= !strcmp(l[i].type, "gpu");
    if (!has_gpu) cr_assert_str_eq(dev.info.type, "cpu");
    else cr_assert_str_eq(dev.info.type, "gpu");
    swacl_cl_dev_close(&dev);
    swacl_cl_dev_close(&dev); /* idempotent */

    open_dev(ctx, &dev, "", NULL, "off");
    swacl_cl_dev_close(&dev);

    open_dev(ctx, &dev, "0", NULL, "off");
    cr_assert_eq(dev.index, 0);
    cr_assert_str_eq(dev.info.name, l[0].name);
    swacl_cl_dev_close(&dev);

    char last[16];
    snprintf(last, sizeof last, "%d", n - 1);
    open_dev(ctx, &dev, last, NULL, "off");
    cr_assert_eq(dev.index, n - 1);
    swacl_cl_dev_close(&dev);

    int first_cpu = -1;
    for (int i = 0; i < n && first_cpu < 0; i++)
        if (!strcmp(l[i].type, "cpu")) first_cpu = i;
    if (first_cpu >= 0) {
        open_dev(ctx, &dev, "cpu", NULL, "off");
        cr_assert_eq(dev.index, first_cpu);
        cr_assert(dev.is_cpu);
        swacl_cl_dev_close(&dev);
        open_dev(ctx, &dev, "CPU", NULL, "off");
        cr_assert_eq(dev.index, first_cpu);
        swacl_cl_dev_close(&dev);
    }

    /* a name substring, with its case flipped: the first device matching */
    const char *name = l[n - 1].name;
    size_t len = strlen(name);
    char sub[64];
    size_t take = len < 6 ? len : 6, from = (len - take) / 2;
    for (size_t i = 0; i < take; i++) {
        char c = name[from + i];
        sub[i] = islower((unsigned char)c)   ? (char)toupper((unsigned char)c)
                 : isupper((unsigned char)c) ? (char)tolower((unsigned char)c)
                                             : c;
    }
    sub[take] = '\0';
    open_dev(ctx, &dev, sub, NULL, "off");
    int expect = -1;
    for (int i = 0; i < n && expect < 0; i++) {
        const char *nm = l[i].name;
        for (const char *h = nm; *h && expect < 0; h++)
            if (strncasecmp(h, sub, take) == 0) expect = i;
    }
    cr_assert_eq(dev.index, expect, "selector '%s' picked %d ('%s')", sub, dev.index,
                 dev.info.name);
    swacl_cl_dev_close(&dev);

    swacl_devices_free(l);
    swacl_ctx_destroy(ctx);
}

Test(runtime, select_unknown)
{
    swacl_ctx *ctx = test_ref_ctx();
    swacl_cl_dev dev;
    swacl_ctx_params p = swacl_ctx_params_default();
    p.cache_dir = "off";
    const char *bad[] = {"nosuchdevice", "99", "123456789012345678901234567890"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        p.device = bad[i];
        swacl_status st = swacl_cl_dev_open(ctx, &p, &dev);
        cr_assert_eq(st, SWACL_NO_DEVICE, "'%s' gave %s", bad[i], swacl_status_string(st));
        cr_assert(strstr(swacl_ctx_errmsg(ctx), bad[i]) != NULL, "message: %s",
                  swacl_ctx_errmsg(ctx));
        cr_assert(dev.context == NULL && dev.queue == NULL);
        swacl_cl_dev_close(&dev); /* safe after a failed open */
    }
    /* with devices present the message lists them with indices */
    int n = 0;
    swacl_device_info *l = NULL;
    if (swacl_devices_list(NULL, &l, &n) == SWACL_OK && n > 0) {
        p.device = "nosuchdevice";
        swacl_cl_dev_open(ctx, &p, &dev);
        char want[300];
        snprintf(want, sizeof want, "[0] %s", l[0].name);
        cr_assert(strstr(swacl_ctx_errmsg(ctx), want) != NULL, "message: %s",
                  swacl_ctx_errmsg(ctx));
    }
    swacl_devices_free(l);
    swacl_ctx_destroy(ctx);
}

/* kernel_dir / cache_dir resolution from params and the environment. */
Test(runtime, dirs_from_env)
{
    swacl_ctx *ctx = test_ref_ctx();
    swacl_cl_dev dev;
    unsetenv("SWACL_CACHE_DIR");
    unsetenv("SWACL_KERNEL_DIR");
    pin_pocl_cache();
    setenv("XDG_CACHE_HOME", "/tmp/swacl-xdg-test", 1);
    open_dev(ctx, &dev, NULL, NULL, NULL);
    cr_assert_str_eq(dev.kernel_dir, "");
    cr_assert_str_eq(dev.cache_dir, "/tmp/swacl-xdg-test/swacl");
    swacl_cl_dev_close(&dev);

    unsetenv("XDG_CACHE_HOME");
    setenv("HOME", "/tmp/swacl-home-test", 1);
    open_dev(ctx, &dev, NULL, NULL, NULL);
    cr_assert_str_eq(dev.cache_dir, "/tmp/swacl-home-test/.cache/swacl");
    swacl_cl_dev_close(&dev);

    setenv("SWACL_CACHE_DIR", "/tmp/swacl-env-cache", 1);
    setenv("SWACL_KERNEL_DIR", "/tmp/swacl-env-kernels", 1);
    open_dev(ctx, &dev, NULL, NULL, NULL);
    cr_assert_str_eq(dev.cache_dir, "/tmp/swacl-env-cache");
    cr_assert_str_eq(dev.kernel_dir, "/tmp/swacl-env-kernels");
    swacl_cl_dev_close(&dev);

    open_dev(ctx, &dev, NULL, "/tmp/kd-param", "/tmp/cd-param");
    cr_assert_str_eq(dev.cache_dir, "/tmp/cd-param");
    cr_assert_str_eq(dev.kernel_dir, "/tmp/kd-param");
    swacl_cl_dev_close(&dev);

    setenv("SWACL_CACHE_DIR", "off", 1);
    open_dev(ctx, &dev, NULL, NULL, NULL);
    cr_assert_str_eq(dev.cache_dir, "");
    swacl_cl_dev_close(&dev);
    open_dev(ctx, &dev, NULL, NULL, "off");
    cr_assert_str_eq(dev.cache_dir, "");
    swacl_cl_dev_close(&dev);
    swacl_ctx_destroy(ctx);
}

/* ------------------------------------------------------------------------ */
/* Programs.                                                                 */

Test(runtime, embedded_program_and_memory_cache)
{
    swacl_ctx *ctx = test_ref_ctx();
    swacl_cl_dev dev;
    unsetenv("SWACL_KERNEL_DIR");
    open_dev(ctx, &dev, NULL, NULL, "off");
    cl_program a = NULL, b = NULL, c = NULL;
    /* common.cl is include-guarded, so it builds as a program of its own */
    swacl_status st = swacl_cl_program(ctx, &dev, "common", "", &a);
    cr_assert_eq(st, SWACL_OK, "%s", swacl_ctx_errmsg(ctx));
    cr_assert(a != NULL);
    st = swacl_cl_program(ctx, &dev, "common", "", &b);
    cr_assert_eq(st, SWACL_OK);
    cr_assert_eq(a, b, "same file|options must return the cached program");
    cr_assert_eq(dev.n_progs, 1);
    cr_assert_eq(dev.cache_misses, 1);
    st = swacl_cl_program(ctx, &dev, "common", "-DX=2", &c);
    cr_assert_eq(st, SWACL_OK, "%s", swacl_ctx_errmsg(ctx));
    cr_assert_neq(a, c);
    cr_assert_eq(dev.n_progs, 2);
    cr_assert_gt(dev.compile_seconds, 0.0);

    st = swacl_cl_program(ctx, &dev, "nosuchkernel", "", &c);
    cr_assert_eq(st, SWACL_INVALID_ARG);
    cr_assert(strstr(swacl_ctx_errmsg(ctx), "nosuchkernel") != NULL, "%s", swacl_ctx_errmsg(ctx));
    cr_assert_null(c);
    cr_assert_eq(swacl_cl_program(ctx, &dev, "../common", "", &c), SWACL_INVALID_ARG);
    cr_assert_eq(swacl_cl_program(ctx, &dev, "", "", &c), SWACL_INVALID_ARG);
    cr_assert_eq(dev.n_progs, 2);
    swacl_cl_dev_close(&dev);
    cr_assert_eq(dev.n_progs, 0);
    swacl_ctx_destroy(ctx);
}

Test(runtime, build_error_has_log)
{
    char *kd = make_tmpdir();
    copy_common(kd);
    write_text(kd, "x.cl",
               "__kernel void x(__global float *a) {\n"
               "    a[0] = this_identifier_is_undeclared;\n"
               "}\n");
    swacl_ctx *ctx = test_ref_ctx();
    swacl_cl_dev dev;
    open_dev(ctx, &dev, NULL, kd, "off");
    cl_program prog = NULL;
    swacl_status st = swacl_cl_program(ctx, &dev, "x", "-DSWACL_TEST_OPT=1", &prog);
    const char *msg = swacl_ctx_errmsg(ctx);
    cr_assert_eq(st, SWACL_BUILD, "got %s: %s", swacl_status_string(st), msg);
    cr_assert_null(prog);
    cr_assert(strstr(msg, "x.cl") != NULL, "no file name in: %s", msg);
    cr_assert(strstr(msg, "-DSWACL_TEST_OPT=1") != NULL, "no options in: %s", msg);
    cr_assert(strstr(msg, "this_identifier_is_undeclared") != NULL, "no build log in: %s", msg);
    cr_assert(strstr(msg, "error") != NULL, "no compiler error in: %s", msg);
    cr_assert_lt(strlen(msg), (size_t)SWACL_ERRMSG_LEN);
    cr_assert_eq(dev.n_progs, 0);

    /* a broken common.cl breaks every program */
    write_text(kd, "common.cl", "#error broken common helper\n");
    write_text(kd, "y.cl", "__kernel void y(__global float *a) { a[0] = 1.0f; }\n");
    st = swacl_cl_program(ctx, &dev, "y", "", &prog);
    msg = swacl_ctx_errmsg(ctx);
    cr_assert_eq(st, SWACL_BUILD, "got %s: %s", swacl_status_string(st), msg);
    cr_assert(strstr(msg, "broken common helper") != NULL, "no build log in: %s", msg);

    /* a missing file is an I/O error naming the path */
    st = swacl_cl_program(ctx, &dev, "missing", "", &prog);
    msg = swacl_ctx_errmsg(ctx);
    cr_assert_eq(st, SWACL_IO, "got %s: %s", swacl_status_string(st), msg);
    char want[1024];
    snprintf(want, sizeof want, "%s/missing.cl", kd);
    cr_assert(strstr(msg, want) != NULL, "no path in: %s", msg);

    swacl_cl_dev_close(&dev);
    swacl_ctx_destroy(ctx);
    rm_rf(kd);
    free(kd);
}

Test(runtime, build_log_truncated)
{
    /* hundreds of errors: the message must stay within SWACL_ERRMSG_LEN */
    char *kd = make_tmpdir();
    copy_common(kd);
    size_t cap = 64 * 1024, n = 0;
    char *src = malloc(cap);
    n += (size_t)snprintf(src + n, cap - n, "__kernel void x(__global float *a) {\n");
    for (int i = 0; i < 400 && n + 100 < cap; i++)
        n += (size_t)snprintf(src + n, cap - n, "    a[%d] = undeclared_name_%d;\n", i, i);
    snprintf(src + n, cap - n, "}\n");
    write_text(kd, "x.cl", src);
    free(src);
    swacl_ctx *ctx = test_ref_ctx();
    swacl_cl_dev dev;
    open_dev(ctx, &dev, NULL, kd, "off");
    cl_program prog = NULL;
    swacl_status st = swacl_cl_program(ctx, &dev, "x", "", &prog);
    const char *msg = swacl_ctx_errmsg(ctx);
    cr_assert_eq(st, SWACL_BUILD);
    cr_assert(strstr(msg, "x.cl") != NULL);
    cr_assert(strstr(msg, "undeclared_name_0") != NULL, "%s", msg);
    cr_assert_lt(strlen(msg), (size_t)SWACL_ERRMSG_LEN);
    swacl_cl_dev_close(&dev);
    swacl_ctx_destroy(ctx);
    rm_rf(kd);
    free(kd);
}

Test(runtime, disk_cache)
{
    /* a fresh PoCL kernel cache too, so the first build really compiles */
    char *root = make_tmpdir();
    char pocl[600], cache[600], kd[600];
    snprintf(pocl, sizeof pocl, "%s/pocl", root);
    snprintf(cache, sizeof cache, "%s/deep/er/cache", root); /* mkdir -p */
    snprintf(kd, sizeof kd, "%s/kernels", root);
    setenv("POCL_CACHE_DIR", pocl, 1);
    unsetenv("SWACL_CL_BUILD_OPTIONS");
    cr_assert_eq(mkdir(kd, 0755), 0);
    copy_common(kd);
    write_text(kd, "silu.cl", k_silu_src);

    swacl_ctx *ctx = test_ref_ctx();
    swacl_cl_dev d1, d2, d3;
    cl_program prog = NULL;

    open_dev(ctx, &d1, NULL, kd, cache);
    swacl_status st = swacl_cl_program(ctx, &d1, "silu", "-DSCALE=2.0f", &prog);
    cr_assert_eq(st, SWACL_OK, "%s", swacl_ctx_errmsg(ctx));
    cr_assert_eq(d1.cache_hits, 0);
    cr_assert_eq(d1.cache_misses, 1);
    check_silu_program(&d1, prog, 2.0f);
    double cold = d1.compile_seconds;
    swacl_cl_dev_close(&d1);
    cr_assert_eq(count_files(cache, ".bin"), 1, "one binary expected in %s", cache);
    cr_assert_eq(count_files(cache, ".tmp"), 0, "temp file left in %s", cache);
    cr_assert_eq(count_files(cache, "silu-"), 1);

    open_dev(ctx, &d2, NULL, kd, cache);
    st = swacl_cl_program(ctx, &d2, "silu", "-DSCALE=2.0f", &prog);
    cr_assert_eq(st, SWACL_OK, "%s", swacl_ctx_errmsg(ctx));
    cr_assert_eq(d2.cache_hits, 1, "second build should load the cached binary");
    cr_assert_eq(d2.cache_misses, 0);
    check_silu_program(&d2, prog, 2.0f);
    cr_assert_lt(d2.compile_seconds, cold, "cache load %.3f s not faster than compile %.3f s",
                 d2.compile_seconds, cold);
    /* other options: a different key, a second file */
    st = swacl_cl_program(ctx, &d2, "silu", "-DSCALE=3.0f", &prog);
    cr_assert_eq(st, SWACL_OK, "%s", swacl_ctx_errmsg(ctx));
    cr_assert_eq(d2.cache_misses, 1);
    check_silu_program(&d2, prog, 3.0f);
    swacl_cl_dev_close(&d2);
    cr_assert_eq(count_files(cache, ".bin"), 2);

    /* a changed source is a different key */
    char path[800];
    snprintf(path, sizeof path, "%s/silu.cl", kd);
    FILE *f = fopen(path, "a");
    cr_assert(f != NULL);
    fputs("/* changed */\n", f);
    fclose(f);
    open_dev(ctx, &d3, NULL, kd, cache);
    st = swacl_cl_program(ctx, &d3, "silu", "-DSCALE=2.0f", &prog);
    cr_assert_eq(st, SWACL_OK, "%s", swacl_ctx_errmsg(ctx));
    cr_assert_eq(d3.cache_misses, 1);
    cr_assert_eq(d3.cache_hits, 0);
    swacl_cl_dev_close(&d3);
    cr_assert_eq(count_files(cache, ".bin"), 3);

    swacl_ctx_destroy(ctx);
    rm_rf(root);
    free(root);
}

Test(runtime, disk_cache_corrupt_file_falls_back)
{
    char *root = make_tmpdir();
    char cache[600], kd[600];
    snprintf(cache, sizeof cache, "%s/cache", root);
    snprintf(kd, sizeof kd, "%s/kernels", root);
    unsetenv("SWACL_CL_BUILD_OPTIONS");
    cr_assert_eq(mkdir(kd, 0755), 0);
    copy_common(kd);
    write_text(kd, "silu.cl", k_silu_src);
    swacl_ctx *ctx = test_ref_ctx();
    swacl_cl_dev dev;
    cl_program prog = NULL;
    open_dev(ctx, &dev, NULL, kd, cache);
    cr_assert_eq(swacl_cl_program(ctx, &dev, "silu", "", &prog), SWACL_OK, "%s",
                 swacl_ctx_errmsg(ctx));
    swacl_cl_dev_close(&dev);

    /* overwrite every cached binary with garbage */
    DIR *d = opendir(cache);
    cr_assert(d != NULL);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)) != NULL) {
        if (!strstr(e->d_name, ".bin")) continue;
        write_text(cache, e->d_name, "SWACLBN1 this is not a program binary");
        n++;
    }
    closedir(d);
    cr_assert_eq(n, 1);

    open_dev(ctx, &dev, NULL, kd, cache);
    cr_assert_eq(swacl_cl_program(ctx, &dev, "silu", "", &prog), SWACL_OK, "%s",
                 swacl_ctx_errmsg(ctx));
    cr_assert_eq(dev.cache_hits, 0);
    cr_assert_eq(dev.cache_misses, 1);
    check_silu_program(&dev, prog, 1.0f);
    swacl_cl_dev_close(&dev);

    /* ... and the rebuilt binary replaced it */
    open_dev(ctx, &dev, NULL, kd, cache);
    cr_assert_eq(swacl_cl_program(ctx, &dev, "silu", "", &prog), SWACL_OK);
    cr_assert_eq(dev.cache_hits, 1);
    swacl_cl_dev_close(&dev);

    /* an unwritable cache dir is not an error */
    char blocker[700];
    snprintf(blocker, sizeof blocker, "%s/file", root);
    write_text(root, "file", "not a directory");
    char bad[800];
    snprintf(bad, sizeof bad, "%s/sub", blocker);
    open_dev(ctx, &dev, NULL, kd, bad);
    cr_assert_eq(swacl_cl_program(ctx, &dev, "silu", "", &prog), SWACL_OK, "%s",
                 swacl_ctx_errmsg(ctx));
    cr_assert_eq(dev.cache_misses, 1);
    swacl_cl_dev_close(&dev);

    swacl_ctx_destroy(ctx);
    rm_rf(root);
    free(root);
}

Test(runtime, disk_cache_off_writes_nothing)
{
    char *root = make_tmpdir();
    char kd[600], home[600];
    snprintf(kd, sizeof kd, "%s/kernels", root);
    snprintf(home, sizeof home, "%s/home", root);
    cr_assert_eq(mkdir(kd, 0755), 0);
    cr_assert_eq(mkdir(home, 0755), 0);
    copy_common(kd);
    write_text(kd, "silu.cl", k_silu_src);
    /* every default location points into home: nothing may appear there */
    unsetenv("SWACL_CACHE_DIR");
    pin_pocl_cache();
    setenv("XDG_CACHE_HOME", home, 1);
    setenv("HOME", home, 1);
    swacl_ctx *ctx = test_ref_ctx();
    swacl_cl_dev dev;
    cl_program prog = NULL;
    for (int round = 0; round < 2; round++) {
        open_dev(ctx, &dev, NULL, kd, "off");
        cr_assert_str_eq(dev.cache_dir, "");
        cr_assert_eq(swacl_cl_program(ctx, &dev, "silu", "", &prog), SWACL_OK, "%s",
                     swacl_ctx_errmsg(ctx));
        cr_assert_eq(dev.cache_hits, 0);
        cr_assert_eq(dev.cache_misses, 1);
        swacl_cl_dev_close(&dev);
    }
    cr_assert_eq(count_files(home, "swacl"), 0);
    cr_assert_eq(count_files(home, ".bin"), 0);
    char swacl_dir[700];
    snprintf(swacl_dir, sizeof swacl_dir, "%s/swacl", home);
    struct stat sb;
    cr_assert_neq(stat(swacl_dir, &sb), 0, "%s was created", swacl_dir);
    swacl_ctx_destroy(ctx);
    rm_rf(root);
    free(root);
}

/* ------------------------------------------------------------------------ */
/* CLBlast SGEMM.                                                            */

typedef struct {
    int M, N, K, b_trans;
    size_t a_off, b_off, c_off;
    int pad; /* extra leading-dimension padding */
    float alpha, beta;
} gemm_case;

static void run_gemm_case(swacl_ctx *ctx, swacl_cl_dev *dev, const gemm_case *g, uint64_t seed)
{
    const int M = g->M, N = g->N, K = g->K;
    size_t lda = (size_t)K + (size_t)g->pad;
    size_t ldb = (g->b_trans ? (size_t)K : (size_t)N) + (size_t)g->pad;
    size_t ldc = (size_t)N + (size_t)g->pad;
    size_t b_rows = g->b_trans ? (size_t)N : (size_t)K;
    size_t na = g->a_off + (size_t)M * lda, nb = g->b_off + b_rows * ldb,
           nc = g->c_off + (size_t)M * ldc;
    float *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b), *c = malloc(nc * sizeof *c);
    float *ref = malloc(nc * sizeof *ref), *got = malloc(nc * sizeof *got);
    cr_assert(a && b && c && ref && got);
    fill_uniform(a, na, seed, 1.0f);
    fill_uniform(b, nb, seed + 1, 1.0f);
    fill_uniform(c, nc, seed + 2, 1.0f);
    memcpy(ref, c, nc * sizeof *c);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0;
            for (int k = 0; k < K; k++) {
                double bv = g->b_trans ? b[g->b_off + (size_t)j * ldb + (size_t)k]
                                       : b[g->b_off + (size_t)k * ldb + (size_t)j];
                s += (double)a[g->a_off + (size_t)i * lda + (size_t)k] * bv;
            }
            size_t ci = g->c_off + (size_t)i * ldc + (size_t)j;
            ref[ci] = (float)(g->alpha * s + g->beta * (double)c[ci]);
        }
    cl_int rc;
    cl_mem A = clCreateBuffer(dev->context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR,
                              na * sizeof *a, a, &rc);
    cr_assert_eq(rc, CL_SUCCESS);
    cl_mem B = clCreateBuffer(dev->context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR,
                              nb * sizeof *b, b, &rc);
    cr_assert_eq(rc, CL_SUCCESS);
    cl_mem C = clCreateBuffer(dev->context, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR,
                              nc * sizeof *c, c, &rc);
    cr_assert_eq(rc, CL_SUCCESS);
    swacl_status st = swacl_cl_sgemm(ctx, dev, g->b_trans, M, N, K, g->alpha, A, g->a_off, lda,
                                     B, g->b_off, ldb, g->beta, C, g->c_off, ldc);
    cr_assert_eq(st, SWACL_OK, "sgemm %dx%dx%d: %s", M, N, K, swacl_ctx_errmsg(ctx));
    rc = clEnqueueReadBuffer(dev->queue, C, CL_TRUE, 0, nc * sizeof *got, got, 0, NULL, NULL);
    cr_assert_eq(rc, CL_SUCCESS);
    char what[128];
    snprintf(what, sizeof what, "sgemm M=%d N=%d K=%d bT=%d off=%zu/%zu/%zu pad=%d", M, N, K,
             g->b_trans, g->a_off, g->b_off, g->c_off, g->pad);
    /* the whole buffer: elements outside C's window must be untouched */
    expect_close(what, got, ref, nc, 1e-4, 1e-4, 1e-10);
    clReleaseMemObject(A);
    clReleaseMemObject(B);
    clReleaseMemObject(C);
    free(a);
    free(b);
    free(c);
    free(ref);
    free(got);
}

Test(runtime, sgemm_matches_naive, .timeout = 600)
{
    swacl_ctx *ctx = test_ref_ctx();
    swacl_cl_dev dev;
    open_dev(ctx, &dev, NULL, NULL, "off");
    const gemm_case cases[] = {
        {1, 1, 1, 1, 0, 0, 0, 0, 1.0f, 0.0f},
        {13, 7, 19, 1, 0, 0, 0, 0, 1.0f, 0.0f},
        {64, 64, 64, 1, 0, 0, 0, 0, 1.0f, 0.0f},
        {33, 65, 17, 1, 5, 3, 7, 0, 0.5f, 1.0f}, /* accumulate, offsets */
        {33, 65, 17, 0, 0, 0, 0, 0, 1.0f, 0.0f}, /* B not transposed */
        {9, 130, 71, 0, 1, 2, 3, 3, -1.5f, 0.25f},
        {100, 3, 37, 1, 0, 0, 0, 4, 1.0f, 1.0f},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_gemm_case(ctx, &dev, &cases[i], 100 + i);

    /* empty and invalid sizes */
    cr_assert_eq(swacl_cl_sgemm(ctx, &dev, 1, 0, 4, 4, 1.0f, NULL, 0, 4, NULL, 0, 4, 0.0f, NULL,
                                0, 4),
                 SWACL_OK);
    cr_assert_eq(swacl_cl_sgemm(ctx, &dev, 1, -1, 4, 4, 1.0f, NULL, 0, 4, NULL, 0, 4, 0.0f,
                                NULL, 0, 4),
                 SWACL_INVALID_ARG);
    swacl_cl_dev_close(&dev);
    swacl_ctx_destroy(ctx);
}

Test(runtime, sgemm_error_names_clblast)
{
    swacl_ctx *ctx = test_ref_ctx();
    swacl_cl_dev dev;
    open_dev(ctx, &dev, NULL, NULL, "off");
    cl_int rc;
    cl_mem X = clCreateBuffer(dev.context, CL_MEM_READ_WRITE, 64 * sizeof(float), NULL, &rc);
    cr_assert_eq(rc, CL_SUCCESS);
    /* lda < K: CLBlast rejects it before launching anything */
    swacl_status st =
        swacl_cl_sgemm(ctx, &dev, 1, 4, 4, 4, 1.0f, X, 0, 1, X, 0, 4, 0.0f, X, 0, 4);
    cr_assert_eq(st, SWACL_OPENCL);
    const char *msg = swacl_ctx_errmsg(ctx);
    cr_assert(strstr(msg, "CLBlastSgemm") != NULL, "%s", msg);
    cr_assert(strstr(msg, "CLBlastInvalidLeadDimA") != NULL, "%s", msg);
    /* a buffer too small for the matrix */
    st = swacl_cl_sgemm(ctx, &dev, 1, 64, 64, 64, 1.0f, X, 0, 64, X, 0, 64, 0.0f, X, 0, 64);
    cr_assert_eq(st, SWACL_OPENCL);
    cr_assert(strstr(swacl_ctx_errmsg(ctx), "CLBlastInsufficientMemory") != NULL, "%s",
              swacl_ctx_errmsg(ctx));
    clReleaseMemObject(X);
    swacl_cl_dev_close(&dev);
    swacl_ctx_destroy(ctx);
}
