/* test_hostile.c - hostile files under the library's own names (issue 14):
 * program-binary cache entries of another variant, truncated payloads
 * behind a consistent header, garbage / empty / over-long / FIFO / link
 * entries (item 1); temp files of killed cache writers (item 10); tune
 * files with huge but divisible tiles, FIFOs and oversized tune files
 * (item 12). Every rejected file must fall back to a correct build and,
 * for the cache, be rewritten so the next open loads it again. */
#define _DEFAULT_SOURCE /* mkdtemp, setenv, symlink, utimes */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cl/cl_internal.h"
#include "cl/cl_pcache.h"
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

static void open_dev(swacl_ctx *ctx, swacl_cl_dev *dev, const char *kd, const char *cache)
{
    swacl_ctx_params p = swacl_ctx_params_default();
    p.kernel_dir = kd;
    p.cache_dir = cache;
    p.verbose = 1;
    swacl_status st = swacl_cl_dev_open(ctx, &p, dev);
    if (st == SWACL_NO_DEVICE && !device_required())
        cr_skip_test("no OpenCL device: %s", swacl_ctx_errmsg(ctx));
    cr_assert_eq(st, SWACL_OK, "swacl_cl_dev_open: %s", swacl_ctx_errmsg(ctx));
}

static char *make_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[512];
    snprintf(tmpl, sizeof tmpl, "%s/swacl-hostile-XXXXXX", base && *base ? base : "/tmp");
    char *d = mkdtemp(tmpl);
    cr_assert(d != NULL, "mkdtemp failed");
    return strdup(d);
}

static void rm_rf(const char *dir)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) { /* best effort */
    }
}

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    cr_assert(f != NULL, "cannot write %s", path);
    cr_assert_eq(fwrite(data, 1, n, f), n);
    cr_assert_eq(fclose(f), 0);
}

static unsigned char *read_bytes(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    cr_assert(f != NULL, "cannot read %s", path);
    fseek(f, 0, SEEK_END);
    long l = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)l + 1);
    cr_assert(b);
    cr_assert_eq(fread(b, 1, (size_t)l, f), (size_t)l);
    fclose(f);
    *n = (size_t)l;
    return b;
}

static void copy_common(const char *dir)
{
    size_t n = 0;
    unsigned char *b = read_bytes(SWACL_SOURCE_DIR "/kernels_cl/common.cl", &n);
    char path[1024];
    snprintf(path, sizeof path, "%s/common.cl", dir);
    write_bytes(path, b, n);
    free(b);
}

/* The one *.bin file in dir (asserts there is exactly one). */
static void only_bin(const char *dir, char *path, size_t len)
{
    DIR *d = opendir(dir);
    cr_assert(d != NULL, "no dir %s", dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l > 4 && !strcmp(e->d_name + l - 4, ".bin")) {
            snprintf(path, len, "%s/%s", dir, e->d_name);
            n++;
        }
    }
    closedir(d);
    cr_assert_eq(n, 1, "expected one .bin in %s, found %d", dir, n);
}

/* stderr capture: the verbose / warning lines are part of the contract */
typedef struct {
    int saved;
    FILE *f;
} capture;

static void capture_begin(capture *c)
{
    fflush(stderr);
    c->f = tmpfile();
    cr_assert(c->f);
    c->saved = dup(2);
    dup2(fileno(c->f), 2);
}

static char *capture_end(capture *c)
{
    fflush(stderr);
    dup2(c->saved, 2);
    close(c->saved);
    long n = ftell(c->f);
    char *s = malloc((size_t)(n > 0 ? n : 0) + 1);
    rewind(c->f);
    size_t r = n > 0 ? fread(s, 1, (size_t)n, c->f) : 0;
    s[r] = '\0';
    fclose(c->f);
    return s;
}

static int count_lines_with(const char *text, const char *part)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, part)) != NULL; p += strlen(part)) n++;
    return n;
}

/* y[i] = x[i] * SCALE + OFFSET: variants that differ only in -D options. */
static const char *k_scale_src =
    "#ifndef SCALE\n#define SCALE 1.0f\n#endif\n"
    "__kernel void scale(__global const float *x, __global float *y, int n) {\n"
    "    int i = get_global_id(0);\n"
    "    if (i < n) y[i] = x[i] * SCALE;\n"
    "}\n";
static const char *k_other_src =
    "__kernel void scale(__global const float *x, __global float *y, int n) {\n"
    "    int i = get_global_id(0);\n"
    "    if (i < n) y[i] = -x[i];\n"
    "}\n";

static void check_scale(swacl_cl_dev *dev, cl_program prog, float scale)
{
    enum { N = 64 };
    float x[N], y[N];
    for (int i = 0; i < N; i++) x[i] = (float)i - 20.0f;
    cl_int rc;
    cl_kernel k = clCreateKernel(prog, "scale", &rc);
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
    size_t g = N;
    cr_assert_eq(clEnqueueNDRangeKernel(dev->queue, k, 1, NULL, &g, NULL, 0, NULL, NULL),
                 CL_SUCCESS);
    cr_assert_eq(clEnqueueReadBuffer(dev->queue, by, CL_TRUE, 0, sizeof y, y, 0, NULL, NULL),
                 CL_SUCCESS);
    for (int i = 0; i < N; i++)
        cr_assert_float_eq(y[i], x[i] * scale, 1e-6f, "y[%d] = %g, want %g (wrong variant?)", i,
                           (double)y[i], (double)(x[i] * scale));
    clReleaseMemObject(bx);
    clReleaseMemObject(by);
    clReleaseKernel(k);
}

typedef struct {
    char *root;
    char kd[700], cache[700], entry[1200];
} fixture;

/* Kernel dir with scale.cl (+ other.cl), a cache dir holding one valid
 * entry for scale.cl with -DSCALE=2.0f (its path in fx->entry). */
static void fixture_make(fixture *fx)
{
    fx->root = make_tmpdir();
    snprintf(fx->kd, sizeof fx->kd, "%s/kernels", fx->root);
    snprintf(fx->cache, sizeof fx->cache, "%s/cache", fx->root);
    cr_assert_eq(mkdir(fx->kd, 0755), 0);
    copy_common(fx->kd);
    char p[1000];
    snprintf(p, sizeof p, "%s/scale.cl", fx->kd);
    write_bytes(p, k_scale_src, strlen(k_scale_src));
    snprintf(p, sizeof p, "%s/other.cl", fx->kd);
    write_bytes(p, k_other_src, strlen(k_other_src));
    unsetenv("SWACL_CL_BUILD_OPTIONS");
    swacl_ctx *ctx = test_ref_ctx();
    swacl_cl_dev dev;
    cl_program prog = NULL;
    open_dev(ctx, &dev, fx->kd, fx->cache);
    cr_assert_eq(swacl_cl_program(ctx, &dev, "scale", "-DSCALE=2.0f", &prog), SWACL_OK, "%s",
                 swacl_ctx_errmsg(ctx));
    cr_assert_eq(dev.cache_misses, 1);
    swacl_cl_dev_close(&dev);
    swacl_ctx_destroy(ctx);
    only_bin(fx->cache, fx->entry, sizeof fx->entry);
}

/* Open a fresh device on fx, build scale -DSCALE=2.0f and check: rejected
 * entry (want_hit 0) -> rebuilt, correct, rewritten; the reason logged. */
static void expect_rebuild(fixture *fx, const char *what, const char *why_part)
{
    swacl_ctx *ctx = test_ref_ctx();
    swacl_cl_dev dev;
    cl_program prog = NULL;
    capture c;
    capture_begin(&c);
    open_dev(ctx, &dev, fx->kd, fx->cache);
    swacl_status st = swacl_cl_program(ctx, &dev, "scale", "-DSCALE=2.0f", &prog);
    char *log = capture_end(&c);
    cr_assert_eq(st, SWACL_OK, "%s: %s", what, swacl_ctx_errmsg(ctx));
    cr_expect_eq(dev.cache_hits, 0, "%s: hostile entry was loaded", what);
    cr_expect_eq(dev.cache_misses, 1, "%s", what);
    cr_expect(strstr(log, "discarded program cache entry") != NULL, "%s: no log line in: %s",
              what, log);
    if (why_part)
        cr_expect(strstr(log, why_part) != NULL, "%s: reason '%s' not in: %s", what, why_part,
                  log);
    /* rejected by swacl's checks, not handed to the driver to refuse */
    cr_expect(strstr(log, "driver refused") == NULL && strstr(log, "driver could not") == NULL,
              "%s: the driver saw the hostile payload: %s", what, log);
    check_scale(&dev, prog, 2.0f);
    swacl_cl_dev_close(&dev);
    free(log);

    /* self-repairing: the rebuilt entry was written back and loads */
    struct stat sb;
    cr_assert_eq(lstat(fx->entry, &sb), 0, "%s: entry not rewritten", what);
    cr_expect(S_ISREG(sb.st_mode), "%s: entry is not a regular file again", what);
    open_dev(ctx, &dev, fx->kd, fx->cache);
    cr_assert_eq(swacl_cl_program(ctx, &dev, "scale", "-DSCALE=2.0f", &prog), SWACL_OK);
    cr_expect_eq(dev.cache_hits, 1, "%s: rewritten entry not loaded", what);
    check_scale(&dev, prog, 2.0f);
    swacl_cl_dev_close(&dev);
    swacl_ctx_destroy(ctx);
}

static void fixture_free(fixture *fx)
{
    rm_rf(fx->root);
    free(fx->root);
}

/* ------------------------------------------------------------------------ */
/* Item 1: program-binary cache.                                             */

/* (a) valid entries of another variant / another program under this name */
Test(hostile, cache_entry_of_other_variant_rejected, .timeout = 300)
{
    fixture fx;
    fixture_make(&fx);

    /* the same program built with -DSCALE=3.0f, in a second cache dir */
    char other[800];
    snprintf(other, sizeof other, "%s/other-cache", fx.root);
    swacl_ctx *ctx = test_ref_ctx();
    swacl_cl_dev dev;
    cl_program prog = NULL;
    open_dev(ctx, &dev, fx.kd, other);
    cr_assert_eq(swacl_cl_program(ctx, &dev, "scale", "-DSCALE=3.0f", &prog), SWACL_OK);
    check_scale(&dev, prog, 3.0f);
    swacl_cl_dev_close(&dev);
    char opath[1200];
    only_bin(other, opath, sizeof opath);
    size_t n = 0;
    unsigned char *b = read_bytes(opath, &n);
    write_bytes(fx.entry, b, n);
    free(b);
    expect_rebuild(&fx, "-DSCALE=3.0f entry under the -DSCALE=2.0f name", "build options differ");

    /* another program's binary (same kernel name, other body) */
    rm_rf(other);
    open_dev(ctx, &dev, fx.kd, other);
    cr_assert_eq(swacl_cl_program(ctx, &dev, "other", "-DSCALE=2.0f", &prog), SWACL_OK);
    swacl_cl_dev_close(&dev);
    only_bin(other, opath, sizeof opath);
    b = read_bytes(opath, &n);
    write_bytes(fx.entry, b, n);
    free(b);
    expect_rebuild(&fx, "other.cl entry under the scale.cl name", "program differs");
    swacl_ctx_destroy(ctx);
    fixture_free(&fx);
}

/* Header offsets of a valid entry: the last 24 header bytes are
 * payload_len, payload FNV, header FNV (cl_pcache.h). */
static size_t entry_header_len(const unsigned char *b, size_t n)
{
    size_t off = 0, plen = 0;
    char why[256];
    cr_assert_eq(swacl_pcache_parse(b, n, NULL, &off, &plen, why, sizeof why), 0, "%s", why);
    return off;
}

static void put64le(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* (b) consistent header and checksums over a cut payload: rejected before
 * the driver (PoCL asserts in pocl_binary_deserialize otherwise). */
Test(hostile, cache_entry_with_short_payload_rejected, .timeout = 300)
{
    fixture fx;
    fixture_make(&fx);
    size_t n = 0;
    unsigned char *b = read_bytes(fx.entry, &n);
    size_t hl = entry_header_len(b, n), plen = n - hl;

    /* the payload walk itself: every cut of a real binary is refused */
    if (plen >= 8 && memcmp(b + hl, "poclbin", 8) == 0) {
        char why[256];
        cr_assert_eq(swacl_pocl_binary_check(b + hl, plen, why, sizeof why), 0, "%s", why);
        size_t step = plen / 997 + 1;
        for (size_t cut = 0; cut < plen; cut += step)
            cr_assert_neq(swacl_pocl_binary_check(b + hl, cut, why, sizeof why), 0,
                          "cut at %zu of %zu accepted", cut, plen);
        cr_assert_neq(swacl_pocl_binary_check(b + hl, plen - 1, why, sizeof why), 0);
    }

    const size_t cuts[] = {plen / 2, 100, 60, 8};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        size_t keep = cuts[i];
        unsigned char *e = malloc(hl + keep);
        memcpy(e, b, hl + keep);
        put64le(e + hl - 24, keep);
        put64le(e + hl - 16, swacl_pcache_fnv64(e + hl, keep));
        put64le(e + hl - 8, swacl_pcache_fnv64(e, hl - 8));
        size_t o = 0, l = 0;
        char why[256];
        cr_assert_eq(swacl_pcache_parse(e, hl + keep, NULL, &o, &l, why, sizeof why), 0,
                     "crafted header not consistent: %s", why);
        write_bytes(fx.entry, e, hl + keep);
        free(e);
        char what[64];
        snprintf(what, sizeof what, "payload cut to %zu of %zu bytes", keep, plen);
        expect_rebuild(&fx, what, NULL);
        free(b);
        b = read_bytes(fx.entry, &n); /* the rewritten entry, for the next cut */
        hl = entry_header_len(b, n);
        plen = n - hl;
    }
    free(b);
    fixture_free(&fx);
}

/* (c) garbage, empty, trailing bytes, over the size bound (sparse),
 * a FIFO (open would block), a link to /dev/zero (never ends). */
Test(hostile, cache_entry_garbage_empty_overlong_rejected, .timeout = 300)
{
    fixture fx;
    fixture_make(&fx);

    const char garbage[] = "SWACLBN2\xff\xff\xff\x7f garbage that is not an entry";
    write_bytes(fx.entry, garbage, sizeof garbage - 1);
    expect_rebuild(&fx, "garbage", NULL);

    write_bytes(fx.entry, "", 0);
    expect_rebuild(&fx, "empty file", NULL);

    size_t n = 0;
    unsigned char *b = read_bytes(fx.entry, &n);
    unsigned char *t = malloc(n + 4096);
    memcpy(t, b, n);
    memset(t + n, 0x5a, 4096);
    write_bytes(fx.entry, t, n + 4096);
    free(t);
    free(b);
    expect_rebuild(&fx, "valid entry + 4096 trailing bytes", "payload is");

    int fd = open(fx.entry, O_WRONLY | O_TRUNC);
    cr_assert(fd >= 0);
    cr_assert_eq(ftruncate(fd, (off_t)SWACL_PCACHE_MAX_FILE + (1 << 20)), 0); /* sparse */
    close(fd);
    expect_rebuild(&fx, "file over the size bound", "over the limit");

    unlink(fx.entry);
    cr_assert_eq(mkfifo(fx.entry, 0644), 0);
    expect_rebuild(&fx, "FIFO", "not a regular file");

    unlink(fx.entry);
    cr_assert_eq(symlink("/dev/zero", fx.entry), 0);
    expect_rebuild(&fx, "symlink to /dev/zero", NULL);

    fixture_free(&fx);
}

/* The header parser on its own: every cut and every single-byte flip of a
 * valid entry is rejected, the entry itself accepted (no device needed). */
Test(hostile, cache_header_parser_rejects_mutations)
{
    swacl_pcache_key k = {{"scale", "-cl-std=CL1.2 -DSCALE=2.0f", "dev", "drv 1", "OpenCL 1.2",
                           "plat", "0123456789abcdef0123456789abcdef"}};
    unsigned char payload[300];
    for (size_t i = 0; i < sizeof payload; i++) payload[i] = (unsigned char)(i * 7 + 1);
    unsigned char buf[SWACL_PCACHE_MAX_HEADER + sizeof payload];
    size_t hl = swacl_pcache_write_header(&k, payload, sizeof payload, buf, sizeof buf);
    cr_assert_gt(hl, 0);
    memcpy(buf + hl, payload, sizeof payload);
    size_t n = hl + sizeof payload, off = 0, len = 0;
    char why[256];
    cr_assert_eq(swacl_pcache_parse(buf, n, &k, &off, &len, why, sizeof why), 0, "%s", why);
    cr_assert_eq(off, hl);
    cr_assert_eq(len, sizeof payload);
    for (size_t cut = 0; cut < n; cut++)
        cr_assert_neq(swacl_pcache_parse(buf, cut, &k, &off, &len, why, sizeof why), 0,
                      "cut at %zu accepted", cut);
    for (size_t i = 0; i < n; i++) {
        buf[i] ^= 0x01;
        cr_assert_neq(swacl_pcache_parse(buf, n, &k, &off, &len, why, sizeof why), 0,
                      "flip at %zu accepted", i);
        buf[i] ^= 0x01;
    }
    /* each key field is compared */
    for (int f = 0; f < SWACL_PCACHE_NFIELDS; f++) {
        swacl_pcache_key w = k;
        w.field[f] = "something else";
        cr_assert_neq(swacl_pcache_parse(buf, n, &w, &off, &len, why, sizeof why), 0);
        cr_assert(strstr(why, swacl_pcache_field_names[f]) != NULL, "field %d: %s", f, why);
    }
}

/* ------------------------------------------------------------------------ */
/* Item 10: temp files of killed cache writers.                              */

static void touch_age(const char *path, double age_s)
{
    write_bytes(path, "partial", 7);
    if (age_s > 0) {
        struct timeval tv[2];
        gettimeofday(&tv[0], NULL);
        tv[0].tv_sec -= (time_t)age_s;
        tv[1] = tv[0];
        cr_assert_eq(utimes(path, tv), 0);
    }
}

Test(hostile, stale_cache_temp_files_swept, .timeout = 120)
{
    char *root = make_tmpdir();
    /* a pid that is gone: a child that has exited and been reaped */
    pid_t dead = fork();
    cr_assert(dead >= 0);
    if (dead == 0) _exit(0);
    cr_assert_eq(waitpid(dead, NULL, 0), dead);
    long me = (long)getpid();
    struct {
        char name[200];
        double age;
        int kept;
    } f[] = {
        {"", 0, 0},     /* dead writer, fresh              */
        {"", 3600, 0},  /* live writer, an hour old          */
        {"", 0, 1},     /* live writer, fresh: kept          */
        {"", 0, 1},     /* live tune-file writer, fresh      */
        {"", 3600, 0},  /* old tune-file temp                */
        {"notes.tmp.1", 3600, 1},            /* not a cache temp name */
        {"x.bin", 3600, 1},                  /* a cache entry         */
        {"x.bin.tmp.12ab", 3600, 1},         /* not a pid             */
    };
    snprintf(f[0].name, sizeof f[0].name, "attn-00.bin.tmp.%ld.55d0", (long)dead);
    snprintf(f[1].name, sizeof f[1].name, "attn-01.bin.tmp.%ld.55d0", me);
    snprintf(f[2].name, sizeof f[2].name, "attn-02.bin.tmp.%ld.55d0", me);
    snprintf(f[3].name, sizeof f[3].name, "gemm-tune-x.json.tmp.%ld", me);
    snprintf(f[4].name, sizeof f[4].name, "sched-calib.json.tmp.%ld", me);
    const size_t nf = sizeof f / sizeof f[0];
    for (size_t i = 0; i < nf; i++) {
        char p[2048];
        snprintf(p, sizeof p, "%s/%s", root, f[i].name);
        touch_age(p, f[i].age);
    }
    /* opening a device on the cache dir sweeps it */
    swacl_ctx *ctx = test_ref_ctx();
    swacl_cl_dev dev;
    capture c;
    capture_begin(&c);
    open_dev(ctx, &dev, NULL, root);
    char *log = capture_end(&c);
    swacl_cl_dev_close(&dev);
    swacl_ctx_destroy(ctx);
    for (size_t i = 0; i < nf; i++) {
        char p[2048];
        snprintf(p, sizeof p, "%s/%s", root, f[i].name);
        int exists = access(p, F_OK) == 0;
        cr_expect_eq(exists, f[i].kept, "%s: %s", f[i].name,
                     f[i].kept ? "removed, should be kept" : "left behind");
    }
    cr_expect_eq(count_lines_with(log, "removed stale cache temp file"), 3, "log: %s", log);
    free(log);
    rm_rf(root);
    free(root);
}

/* ------------------------------------------------------------------------ */
/* Item 12: tune files.                                                      */

/* A tune file for dev with the given xgemm MWG / NWG (the rest a valid set). */
static void tune_text(const swacl_cl_dev *dev, size_t mwg, size_t nwg, char *out, size_t len)
{
    snprintf(out, len,
             "{\"format\":\"swacl-gemm-tune-1\",\"device\":\"%s\",\"driver_version\":\"%s\","
             "\"xgemm\":{\"GEMMK\":0,\"KREG\":1,\"KWG\":32,\"KWI\":2,\"MDIMA\":8,\"MDIMC\":8,"
             "\"MWG\":%zu,\"NDIMB\":8,\"NDIMC\":8,\"NWG\":%zu,\"SA\":0,\"SB\":0,\"STRM\":0,"
             "\"STRN\":0,\"VWM\":4,\"VWN\":4},"
             "\"xgemm_direct\":{\"KWID\":2,\"MDIMAD\":8,\"MDIMCD\":8,\"NDIMBD\":8,\"NDIMCD\":8,"
             "\"PADA\":1,\"PADB\":1,\"VWMD\":2,\"VWND\":2,\"WGD\":16},\"min_indirect_size\":59}",
             dev ? dev->info.name : "x", dev ? dev->info.driver_version : "y", mwg, nwg);
}

Test(hostile, tune_file_with_huge_tiles_rejected, .timeout = 120)
{
    char text[2048], why[256];
    swacl_tune_params t;
    tune_text(NULL, 64, 64, text, sizeof text);
    cr_assert_eq(swacl_tune_parse(NULL, text, &t, why, sizeof why), 0, "valid set: %s", why);
    tune_text(NULL, 4096, 4096, text, sizeof text);
    cr_assert_eq(swacl_tune_parse(NULL, text, &t, why, sizeof why), -1,
                 "MWG=NWG=4096 accepted (every GEMM would compile for minutes)");
    cr_expect(strstr(why, "MWG") != NULL, "reason does not name the parameter: %s", why);
    tune_text(NULL, 64, 512, text, sizeof text);
    cr_assert_eq(swacl_tune_parse(NULL, text, &t, why, sizeof why), -1, "NWG=512 accepted");
    cr_expect(strstr(why, "NWG") != NULL, "%s", why);

    /* through the backend hook: one warning line naming MWG, not applied */
    char *dir = make_tmpdir();
    swacl_ctx *ctx = test_ref_ctx();
    swacl_cl_dev *dev = calloc(1, sizeof *dev);
    open_dev(ctx, dev, NULL, dir);
    unsetenv("SWACL_GEMM_TUNE");
    char path[1200];
    cr_assert_eq(swacl_tune_path(dev, path, sizeof path), 0);
    tune_text(dev, 4096, 4096, text, sizeof text);
    write_bytes(path, text, strlen(text));
    capture c;
    capture_begin(&c);
    int applied = swacl_cl_tune_apply(ctx, dev);
    char *log = capture_end(&c);
    cr_expect_eq(applied, 0, "tune file with MWG=4096 applied");
    cr_expect_eq(count_lines_with(log, "warning"), 1, "want one warning line: %s", log);
    cr_expect(strstr(log, "MWG") != NULL, "warning does not name MWG: %s", log);
    free(log);

    /* a FIFO under the tune file's name must not block */
    unlink(path);
    cr_assert_eq(mkfifo(path, 0644), 0);
    cr_expect_eq(swacl_tune_load(dev, path, &t, why, sizeof why), -1);
    cr_expect(strstr(why, "regular") != NULL, "%s", why);
    /* an oversized (sparse) tune file is refused before it is read */
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    cr_assert(fd >= 0);
    cr_assert_eq(ftruncate(fd, 64 << 20), 0);
    close(fd);
    cr_expect_eq(swacl_tune_load(dev, path, &t, why, sizeof why), -1);
    cr_expect(strstr(why, "over the limit") != NULL, "%s", why);
    swacl_cl_dev_close(dev);
    free(dev);
    swacl_ctx_destroy(ctx);
    rm_rf(dir);
    free(dir);
}

/* The ranges admit what the tuners produce: the built-in and candidate
 * sets of swacl tune pass, one step past a bound fails. */
Test(hostile, tune_ranges_admit_tuner_sets)
{
    const size_t x[SWACL_TUNE_NX] = {1, 8, 1, 1, 8, 8, 64, 8, 8, 64, 0, 0, 0, 0, 8, 8};
    const size_t big[SWACL_TUNE_NX] = {1, 8, 1, 1, 8, 8, 64, 32, 32, 256, 0, 0, 0, 0, 8, 8};
    const size_t d[SWACL_TUNE_ND] = {16, 8, 8, 8, 8, 1, 1, 4, 4, 32};
    cr_expect(swacl_tune_xgemm_ok(x, 4096, 1 << 20));
    cr_expect(swacl_tune_xgemm_ok(big, 4096, 1 << 20));
    cr_expect(swacl_tune_direct_ok(d, 4096, 1 << 20));
    size_t y[SWACL_TUNE_NX];
    memcpy(y, big, sizeof y);
    y[9] = 512; /* NWG */
    cr_expect(!swacl_tune_xgemm_ok(y, 4096, 1 << 20), "NWG=512 accepted");
    memcpy(y, x, sizeof y);
    y[6] = y[9] = 4096;
    cr_expect(!swacl_tune_xgemm_ok(y, 4096, 1 << 20), "MWG=NWG=4096 accepted");
}
