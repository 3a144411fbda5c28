/* cl_tune.c - CLBlast SGEMM parameter sets: the override, the result
 * checker, the per-device tune file (JSON in the swacl cache dir; its
 * constraints and parser are in cl_tune_file.c) and the hook that applies
 * it when a CL backend is created.
 *
 * The search itself lives in host/tune/tune_gemm.c (swacl_tune_gemm).
 *
 * A parameter set covers three CLBlast database entries, all overridden
 * together with CLBlastOverrideParameters (each override makes CLBlast
 * rebuild its GEMM program on the next call; PoCL's kernel cache makes the
 * rebuild cheap once a set has been compiled):
 *   "Xgemm"        the indirect kernel (pad/transpose + main kernel)
 *   "XgemmDirect"  the single-kernel path
 *   "GemmRoutine"  XGEMM_MIN_INDIRECT_SIZE: CLBlast takes the direct path
 *                  when m*n*k < size^3 (0: always indirect)
 * No global mutable state here: CLBlast keeps the override (per device). */
#define _POSIX_C_SOURCE 200809L
#include "cl/cl_internal.h"
#include "common/file.h"
#include "common/env.h"

#include <cjson/cJSON.h>
#include <clblast_c.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TUNE_FORMAT SWACL_TUNE_FORMAT
#define TUNE_FILE_MAX (1 << 20) /* a tune file is ~1 KiB, with measurements a few */

swacl_status swacl_tune_override(swacl_ctx *ctx, swacl_cl_dev *dev, const swacl_tune_params *t)
{
    if (!dev || !dev->device || !t)
        return swacl_set_error(ctx, SWACL_INVALID_ARG, "swacl_tune_override: no device");
    struct {
        const char *kernel;
        size_t n;
        const char *const *names;
        const size_t *values;
    } e[3] = {{"Xgemm", SWACL_TUNE_NX, swacl_tune_xgemm_names, t->x},
              {"XgemmDirect", SWACL_TUNE_ND, swacl_tune_direct_names, t->d},
              {"GemmRoutine", 1, NULL, &t->min_indirect}};
    const char *mi_name[1] = {"XGEMM_MIN_INDIRECT_SIZE"};
    e[2].names = mi_name;
    for (int i = 0; i < 3; i++) {
        CLBlastStatusCode rc =
            CLBlastOverrideParameters(dev->device, e[i].kernel, CLBlastPrecisionSingle, e[i].n,
                                      (const char **)e[i].names, e[i].values);
        if (rc != CLBlastSuccess)
            return swacl_set_error(ctx, SWACL_OPENCL,
                                   "CLBlastOverrideParameters(%s) failed: %s (%d)", e[i].kernel,
                                   swacl_cl_error_name((int)rc), (int)rc);
    }
    return SWACL_OK;
}

/* ------------------------------------------------------------------------ */
/* Result check (against swacl_ref_gemm, the CPU reference's GEMM)          */

int swacl_tune_check(const float *got, const float *ref, size_t n, int K, double *max_err,
                     size_t *bad_index)
{
    /* inputs in [-1, 1): |ref| ~ sqrt(K)/3; fp32 accumulation error grows
     * ~ sqrt(K) * eps * |terms|; a wrong kernel is off by O(1). */
    double tol = 2e-4 * sqrt((double)(K > 1 ? K : 1));
    double worst = 0.0;
    size_t wi = 0;
    int ok = 1;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - (double)ref[i]) / (1.0 + fabs((double)ref[i]));
        if (!(e <= tol)) { /* NaN too */
            if (ok) wi = i;
            ok = 0;
            if (!(e == e)) e = INFINITY;
        }
        if (e > worst) {
            worst = e;
            if (ok) wi = i;
        }
    }
    if (max_err) *max_err = worst;
    if (bad_index) *bad_index = wi;
    return ok ? 0 : -1;
}

/* ------------------------------------------------------------------------ */
/* Tune file                                                                 */

static uint64_t fnv64_str(uint64_t h, const char *s)
{
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ull;
    }
    h ^= 0xff; /* field separator */
    h *= 0x100000001b3ull;
    return h;
}

int swacl_tune_path(const swacl_cl_dev *dev, char *path, size_t len)
{
    return swacl_tune_path_named(dev, "gemm-tune", path, len);
}

int swacl_tune_path_named(const swacl_cl_dev *dev, const char *prefix, char *path, size_t len)
{
    if (!dev || !dev->cache_dir[0] || !len) return -1;
    uint64_t h = 0xcbf29ce484222325ull;
    h = fnv64_str(h, dev->info.name);
    h = fnv64_str(h, dev->info.driver_version);
    h = fnv64_str(h, dev->info.device_version);
    /* readable part of the name: [A-Za-z0-9-] only */
    char tag[48];
    size_t t = 0;
    for (const char *s = dev->info.name; *s && t < sizeof tag - 1; s++) {
        char c = *s;
        int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (alnum)
            tag[t++] = c;
        else if (t && tag[t - 1] != '-')
            tag[t++] = '-';
    }
    tag[t] = '\0';
    int w = snprintf(path, len, "%s/%s-%s-%016llx.json", dev->cache_dir, prefix, tag,
                     (unsigned long long)h);
    if (w < 0 || (size_t)w >= len) {
        path[0] = '\0';
        return -1;
    }
    return 0;
}

int swacl_tune_parse(const swacl_cl_dev *dev, const char *text, swacl_tune_params *out,
                     char *why, size_t why_len)
{
    swacl_tune_limits lim;
    if (dev) {
        lim.name = dev->info.name;
        lim.driver_version = dev->info.driver_version;
        lim.max_wg = dev->info.max_work_group_size;
        lim.local_mem = dev->info.local_mem_bytes;
    }
    return swacl_tune_parse_text(dev ? &lim : NULL, text, out, why, why_len);
}

int swacl_tune_load(const swacl_cl_dev *dev, const char *path, swacl_tune_params *out, char *why,
                    size_t why_len)
{
    if (why && why_len) why[0] = '\0';
    /* the one bounded reader: a FIFO or device under the name must not block
     * or stream forever; the size is bounded before anything is allocated */
    uint8_t *raw = NULL;
    size_t n = 0;
    char err[8];
    if (swacl_file_read_msg(path, TUNE_FILE_MAX, &raw, &n, why && why_len ? why : err,
                            why && why_len ? why_len : sizeof err) != SWACL_OK)
        return -1;
    char *buf = (char *)raw; /* NUL-terminated by the reader */
    int rc = swacl_tune_parse(dev, buf, out, why, why_len);
    free(buf);
    return rc;
}

swacl_status swacl_tune_file_begin(swacl_ctx *ctx, const swacl_cl_dev *dev, const char *prefix,
                                   const char *format, char *path, size_t len, cJSON **root)
{
    *root = NULL;
    if (swacl_tune_path_named(dev, prefix, path, len) != 0)
        return swacl_set_error(ctx, SWACL_INVALID_ARG,
                               "no swacl cache dir (set SWACL_CACHE_DIR; it is 'off' or unset)");
    if (swacl_mkdir_p(dev->cache_dir) != 0)
        return swacl_set_error(ctx, SWACL_IO, "cannot create cache dir %s: %s", dev->cache_dir,
                               strerror(errno));
    cJSON *r = cJSON_CreateObject();
    if (!r) return swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "out of host memory");
    cJSON_AddStringToObject(r, "format", format);
    cJSON_AddStringToObject(r, "device", dev->info.name);
    cJSON_AddStringToObject(r, "driver_version", dev->info.driver_version);
    cJSON_AddStringToObject(r, "device_version", dev->info.device_version);
    *root = r;
    return SWACL_OK;
}

/* Write root (consumed) to path atomically: a temporary file renamed over
 * it, so a reader never sees half a tune file. Shared by both tune files. */
swacl_status swacl_tune_write_json(swacl_ctx *ctx, cJSON *root, const char *path, char *path_out,
                                   size_t path_len)
{
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) return swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "out of host memory");
    char tmp[1300];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    int ok = f && fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    if (f) ok = (fclose(f) == 0) && ok;
    free(text);
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        remove(tmp);
        return swacl_set_error(ctx, SWACL_IO, "cannot write %s: %s", path, strerror(e));
    }
    if (path_out && path_len) snprintf(path_out, path_len, "%s", path);
    return SWACL_OK;
}

swacl_status swacl_tune_save(swacl_ctx *ctx, const swacl_cl_dev *dev, const swacl_tune_params *t,
                             struct cJSON *extra, char *path_out, size_t path_len)
{
    char path[1200];
    cJSON *root;
    swacl_status st = swacl_tune_file_begin(ctx, dev, "gemm-tune", TUNE_FORMAT, path, sizeof path, &root);
    if (st != SWACL_OK) return st;
    cJSON *x = cJSON_AddObjectToObject(root, "xgemm");
    for (int i = 0; i < SWACL_TUNE_NX; i++)
        cJSON_AddNumberToObject(x, swacl_tune_xgemm_names[i], (double)t->x[i]);
    cJSON *d = cJSON_AddObjectToObject(root, "xgemm_direct");
    for (int i = 0; i < SWACL_TUNE_ND; i++)
        cJSON_AddNumberToObject(d, swacl_tune_direct_names[i], (double)t->d[i]);
    cJSON_AddNumberToObject(root, "min_indirect_size", (double)t->min_indirect);
    if (extra) cJSON_AddItemReferenceToObject(root, "measured", extra);
    return swacl_tune_write_json(ctx, root, path, path_out, path_len);
}

/* Built-in parameter database (CLBlast's idea, for devices its own database
 * does not know), used when no tune file exists. Rows are matched in order:
 * platform substring, device-name substring ("" = any), driver version (""
 * = any), CPU devices only. Values: swacl_tune_xgemm_names order, then
 * swacl_tune_direct_names order, then XGEMM_MIN_INDIRECT_SIZE.
 * - The exact-device row is `swacl tune`'s winner on that device and driver
 *   (checked against the reference there; 45-52 GFLOP/s vs 8-12 default).
 * - The generic PoCL row is CLBlast's newer 64-work-item default plus a low
 *   direct/indirect switch: CLBlast 1.5.3's switch (896) sends every model
 *   GEMM to the direct kernel, which runs at 1-3 GFLOP/s on PoCL. GEMMK=0,
 *   because GEMMK=1 sets crashed some PoCL LLVM builds while tuning. */
typedef struct {
    const char *platform, *device, *driver;
    swacl_tune_params p;
} tune_builtin;

static const tune_builtin k_builtin[] = {
    {"Portable Computing Language", "pthread-haswell-AMD EPYC", "3.1+debian",
     {{1, 8, 1, 1, 8, 8, 64, 8, 8, 64, 0, 0, 0, 0, 8, 8}, {2, 8, 8, 8, 8, 1, 1, 2, 2, 16}, 59}},
    {"Portable Computing Language", "", "",
     {{0, 1, 32, 2, 8, 8, 32, 8, 8, 32, 1, 1, 0, 0, 4, 4}, {2, 8, 8, 8, 8, 1, 1, 2, 2, 16}, 59}},
};

static const swacl_tune_params *builtin_params(const swacl_cl_dev *dev)
{
    if (!dev->is_cpu) return NULL;
    for (size_t i = 0; i < sizeof k_builtin / sizeof k_builtin[0]; i++) {
        const tune_builtin *b = &k_builtin[i];
        if (strstr(dev->info.platform_name, b->platform) &&
            (!b->device[0] || !strcmp(dev->info.name, b->device)) &&
            (!b->driver[0] || !strcmp(dev->info.driver_version, b->driver)))
            return &b->p;
    }
    return NULL;
}

int swacl_cl_tune_apply(swacl_ctx *ctx, swacl_cl_dev *dev)
{
    (void)ctx;
    if (swacl_env_is(SWACL_ENV_GEMM_TUNE, "off")) return 0;
    char path[1200];
    if (!dev || swacl_tune_path(dev, path, sizeof path) != 0) return 0;
    if (access(path, F_OK) != 0) {
        /* not tuned here: a built-in row for this device, else CLBlast's own */
        const swacl_tune_params *bp =
            swacl_env_is(SWACL_ENV_GEMM_TUNE, "defaults") ? NULL : builtin_params(dev);
        if (!bp) return 0;
        swacl_ctx scratch;
        memset(&scratch, 0, sizeof scratch);
        if (swacl_tune_override(&scratch, dev, bp) != SWACL_OK) return 0;
        if (dev->verbose) fprintf(stderr, "swacl: applied built-in GEMM parameters\n");
        return 1;
    }
    swacl_tune_params t;
    char why[256];
    if (swacl_tune_load(dev, path, &t, why, sizeof why) != 0) {
        fprintf(stderr, "swacl: warning: ignoring GEMM tune file %s: %s\n", path, why);
        return 0;
    }
    /* errors here leave CLBlast on its defaults; never fail the backend */
    swacl_ctx scratch;
    memset(&scratch, 0, sizeof scratch);
    if (swacl_tune_override(&scratch, dev, &t) != SWACL_OK) {
        fprintf(stderr, "swacl: warning: GEMM tune file %s not applied: %s\n", path,
                scratch.errmsg);
        return 0;
    }
    if (dev->verbose) fprintf(stderr, "swacl: applied GEMM tuning from %s\n", path);
    return 1;
}
