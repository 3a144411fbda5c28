/* cl_tune.c - CLBlast SGEMM parameter sets: constraints, the result checker,
 * the per-device tune file (JSON in the swacl
 * cache dir) and the hook that applies it when a CL backend is created.
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

#define TUNE_FORMAT "swacl-gemm-tune-1"
#define TUNE_FILE_MAX (1 << 20) /* a tune file is ~1 KiB, with measurements a few */

const char *const swacl_tune_xgemm_names[SWACL_TUNE_NX] = {
    "GEMMK", "KREG", "KWG", "KWI", "MDIMA", "MDIMC", "MWG",  "NDIMB",
    "NDIMC", "NWG",  "SA",  "SB",  "STRM",  "STRN",  "VWM",  "VWN"};
const char *const swacl_tune_direct_names[SWACL_TUNE_ND] = {
    "KWID", "MDIMAD", "MDIMCD", "NDIMBD", "NDIMCD", "PADA", "PADB", "VWMD", "VWND", "WGD"};

enum { X_GEMMK, X_KREG, X_KWG, X_KWI, X_MDIMA, X_MDIMC, X_MWG, X_NDIMB, X_NDIMC, X_NWG, X_SA,
       X_SB, X_STRM, X_STRN, X_VWM, X_VWN };
enum { D_KWID, D_MDIMAD, D_MDIMCD, D_NDIMBD, D_NDIMCD, D_PADA, D_PADB, D_VWMD, D_VWND, D_WGD };

static int pow2_le(size_t v, size_t max) { return v >= 1 && v <= max && (v & (v - 1)) == 0; }

/* The range of every parameter: the union of what CLBlast's own tuners
 * search (xgemm.hpp / xgemm_direct.hpp, all their variants) and swacl
 * tune's candidate sets (host/tune/tune_gemm.c). Anything outside is not a
 * tuning result: MWG = NWG = 4096 passes the divisibility rules but makes
 * every GEMM compile for minutes. */
typedef struct {
    size_t lo, hi;
} tune_range;
static const tune_range k_xrange[SWACL_TUNE_NX] = {
    {0, 1},   /* GEMMK */ {1, 16}, /* KREG  */ {1, 64}, /* KWG */ {1, 8},  /* KWI */
    {2, 32},  /* MDIMA */ {2, 32}, /* MDIMC */ {8, 256}, /* MWG */ {2, 32}, /* NDIMB */
    {2, 32},  /* NDIMC */ {8, 256}, /* NWG  */ {0, 1},  /* SA  */ {0, 1},  /* SB */
    {0, 1},   /* STRM */ {0, 1},   /* STRN  */ {1, 8},  /* VWM */ {1, 8},  /* VWN */
};
static const tune_range k_drange[SWACL_TUNE_ND] = {
    {1, 16}, /* KWID */ {2, 32}, /* MDIMAD */ {2, 32}, /* MDIMCD */ {2, 32}, /* NDIMBD */
    {2, 32}, /* NDIMCD */ {0, 1}, /* PADA */ {0, 1},  /* PADB */   {1, 8},  /* VWMD */
    {1, 8},  /* VWND */ {8, 64}, /* WGD */
};
#define TUNE_MIN_INDIRECT_MAX 100000 /* swacl tune's "always direct" switch */

/* 0 when every value is in range; else -1 naming the first one outside. */
static int tune_in_range(const swacl_tune_params *t, char *why, size_t why_len)
{
    for (int i = 0; i < SWACL_TUNE_NX; i++)
        if (t->x[i] < k_xrange[i].lo || t->x[i] > k_xrange[i].hi) {
            if (why && why_len)
                snprintf(why, why_len, "xgemm.%s = %zu outside the tuner range [%zu, %zu]",
                         swacl_tune_xgemm_names[i], t->x[i], k_xrange[i].lo, k_xrange[i].hi);
            return -1;
        }
    for (int i = 0; i < SWACL_TUNE_ND; i++)
        if (t->d[i] < k_drange[i].lo || t->d[i] > k_drange[i].hi) {
            if (why && why_len)
                snprintf(why, why_len, "xgemm_direct.%s = %zu outside the tuner range [%zu, %zu]",
                         swacl_tune_direct_names[i], t->d[i], k_drange[i].lo, k_drange[i].hi);
            return -1;
        }
    if (t->min_indirect > TUNE_MIN_INDIRECT_MAX) {
        if (why && why_len)
            snprintf(why, why_len, "min_indirect_size = %zu outside [0, %d]", t->min_indirect,
                     TUNE_MIN_INDIRECT_MAX);
        return -1;
    }
    return 0;
}

int swacl_tune_xgemm_ok(const size_t *x, size_t max_wg, uint64_t local_mem)
{
    for (int i = 0; i < SWACL_TUNE_NX; i++)
        if (x[i] < k_xrange[i].lo || x[i] > k_xrange[i].hi) return 0;
    if (x[X_GEMMK] > 1 || x[X_SA] > 1 || x[X_SB] > 1 || x[X_STRM] > 1 || x[X_STRN] > 1) return 0;
    if (!pow2_le(x[X_VWM], 16) || !pow2_le(x[X_VWN], 16)) return 0;
    size_t kwg = x[X_KWG], kwi = x[X_KWI], mdima = x[X_MDIMA], mdimc = x[X_MDIMC];
    size_t ndimb = x[X_NDIMB], ndimc = x[X_NDIMC], mwg = x[X_MWG], nwg = x[X_NWG];
    if (!kwg || !kwi || !mdima || !mdimc || !ndimb || !ndimc || !mwg || !nwg || !x[X_KREG])
        return 0;
    if (kwg % kwi) return 0;
    if (mwg % (mdimc * x[X_VWM]) || nwg % (ndimc * x[X_VWN])) return 0;
    if (mwg % (mdima * x[X_VWM]) || nwg % (ndimb * x[X_VWN])) return 0;
    size_t wg = mdimc * ndimc;
    if (max_wg && wg > max_wg) return 0;
    if (wg % mdima || wg % ndimb) return 0;
    if (x[X_GEMMK] == 0) {
        if (kwg % (wg / mdima) || kwg % (wg / ndimb)) return 0;
        if (x[X_KREG] != 1) return 0;
    } else {
        /* 2D register tiling kernel: no local memory, MDIMA = MDIMC, NDIMB = NDIMC */
        if (x[X_SA] || x[X_SB] || mdima != mdimc || ndimb != ndimc) return 0;
        if (x[X_KREG] % x[X_VWN]) return 0;
    }
    if (!x[X_SA] && !x[X_SB] && (mdima != mdimc || ndimb != ndimc)) return 0;
    uint64_t lm = 4u * ((uint64_t)x[X_SA] * kwg * mwg + (uint64_t)x[X_SB] * kwg * nwg);
    if (local_mem && lm > local_mem) return 0;
    return 1;
}

int swacl_tune_direct_ok(const size_t *d, size_t max_wg, uint64_t local_mem)
{
    for (int i = 0; i < SWACL_TUNE_ND; i++)
        if (d[i] < k_drange[i].lo || d[i] > k_drange[i].hi) return 0;
    size_t wgd = d[D_WGD], kwid = d[D_KWID], ma = d[D_MDIMAD], mc = d[D_MDIMCD];
    size_t nb = d[D_NDIMBD], nc = d[D_NDIMCD], vm = d[D_VWMD], vn = d[D_VWND];
    if (!wgd || !kwid || !ma || !mc || !nb || !nc) return 0;
    if (!pow2_le(vm, 16) || !pow2_le(vn, 16) || d[D_PADA] > 1 || d[D_PADB] > 1) return 0;
    if (wgd % kwid || wgd % (mc * vm) || wgd % (nc * vn) || wgd % (ma * vm) || wgd % (nb * vn))
        return 0;
    size_t wg = mc * nc;
    if (max_wg && wg > max_wg) return 0;
    if (wg % ma || wg % nb || wgd % (wg / ma) || wgd % (wg / nb)) return 0;
    uint64_t lm = 4u * ((uint64_t)wgd * (wgd + d[D_PADA]) + (uint64_t)wgd * (wgd + d[D_PADB]));
    if (local_mem && lm > local_mem) return 0;
    return 1;
}

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
    int w = snprintf(path, len, "%s/gemm-tune-%s-%016llx.json", dev->cache_dir, tag,
                     (unsigned long long)h);
    if (w < 0 || (size_t)w >= len) {
        path[0] = '\0';
        return -1;
    }
    return 0;
}

static int read_size(const cJSON *obj, const char *name, size_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1e6 ||
        v->valuedouble != floor(v->valuedouble))
        return -1;
    *out = (size_t)v->valuedouble;
    return 0;
}

int swacl_tune_parse(const swacl_cl_dev *dev, const char *text, swacl_tune_params *out,
                     char *why, size_t why_len)
{
#define TUNE_BAD(...)                                         \
    do {                                                      \
        if (why && why_len) snprintf(why, why_len, __VA_ARGS__); \
        cJSON_Delete(root);                                   \
        return -1;                                            \
    } while (0)
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    if (!cJSON_IsObject(root)) TUNE_BAD("not a JSON object");
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
    if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, TUNE_FORMAT) != 0)
        TUNE_BAD("unknown format (want \"%s\")", TUNE_FORMAT);
    const cJSON *dn = cJSON_GetObjectItemCaseSensitive(root, "device");
    const cJSON *dv = cJSON_GetObjectItemCaseSensitive(root, "driver_version");
    if (!cJSON_IsString(dn) || !cJSON_IsString(dv)) TUNE_BAD("no device/driver_version");
    if (dev && (strcmp(dn->valuestring, dev->info.name) != 0 ||
                strcmp(dv->valuestring, dev->info.driver_version) != 0))
        TUNE_BAD("made for another device/driver (%.80s, %.40s)", dn->valuestring,
                 dv->valuestring);
    swacl_tune_params p;
    memset(&p, 0, sizeof p);
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(root, "xgemm");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "xgemm_direct");
    if (!cJSON_IsObject(x) || !cJSON_IsObject(d)) TUNE_BAD("no xgemm/xgemm_direct object");
    for (int i = 0; i < SWACL_TUNE_NX; i++)
        if (read_size(x, swacl_tune_xgemm_names[i], &p.x[i]) != 0)
            TUNE_BAD("xgemm.%s missing or invalid", swacl_tune_xgemm_names[i]);
    for (int i = 0; i < SWACL_TUNE_ND; i++)
        if (read_size(d, swacl_tune_direct_names[i], &p.d[i]) != 0)
            TUNE_BAD("xgemm_direct.%s missing or invalid", swacl_tune_direct_names[i]);
    if (read_size(root, "min_indirect_size", &p.min_indirect) != 0)
        TUNE_BAD("min_indirect_size missing or invalid");
    if (tune_in_range(&p, why, why_len) != 0) {
        cJSON_Delete(root);
        return -1;
    }
    size_t wg = dev ? dev->info.max_work_group_size : 0;
    uint64_t lm = dev ? dev->info.local_mem_bytes : 0;
    size_t xwg = p.x[X_MDIMC] * p.x[X_NDIMC], dwg = p.d[D_MDIMCD] * p.d[D_NDIMCD];
    if (wg && xwg > wg)
        TUNE_BAD("xgemm.MDIMC x NDIMC = %zu work-items > device limit %zu", xwg, wg);
    if (wg && dwg > wg)
        TUNE_BAD("xgemm_direct.MDIMCD x NDIMCD = %zu work-items > device limit %zu", dwg, wg);
    if (!swacl_tune_xgemm_ok(p.x, wg, lm))
        TUNE_BAD("xgemm parameters violate CLBlast's constraints (divisibility or local memory)");
    if (!swacl_tune_direct_ok(p.d, wg, lm))
        TUNE_BAD("xgemm_direct parameters violate CLBlast's constraints (divisibility or local "
                 "memory)");
    cJSON_Delete(root);
    *out = p;
    return 0;
#undef TUNE_BAD
}

int swacl_tune_load(const swacl_cl_dev *dev, const char *path, swacl_tune_params *out, char *why,
                    size_t why_len)
{
    if (why && why_len) why[0] = '\0';
    /* O_NONBLOCK + fstat: a FIFO or device under the name must not block or
     * stream forever; the size is bounded before anything is allocated */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (why && why_len) snprintf(why, why_len, "cannot open: %s", strerror(errno));
        return -1;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        if (why && why_len) snprintf(why, why_len, "not a regular file");
        return -1;
    }
    if (sb.st_size < 0 || sb.st_size > TUNE_FILE_MAX) {
        close(fd);
        if (why && why_len)
            snprintf(why, why_len, "%lld bytes, larger than %d", (long long)sb.st_size,
                     TUNE_FILE_MAX);
        return -1;
    }
    size_t n = (size_t)sb.st_size, got = 0;
    char *buf = malloc(n + 1);
    while (buf && got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    if (!buf || got != n) {
        free(buf);
        if (why && why_len) snprintf(why, why_len, "unreadable");
        return -1;
    }
    buf[n] = '\0';
    int rc = swacl_tune_parse(dev, buf, out, why, why_len);
    free(buf);
    return rc;
}

swacl_status swacl_tune_save(swacl_ctx *ctx, const swacl_cl_dev *dev, const swacl_tune_params *t,
                             struct cJSON *extra, char *path_out, size_t path_len)
{
    char path[1200];
    if (swacl_tune_path(dev, path, sizeof path) != 0)
        return swacl_set_error(ctx, SWACL_INVALID_ARG,
                               "no swacl cache dir (set SWACL_CACHE_DIR; it is 'off' or unset)");
    if (swacl_mkdir_p(dev->cache_dir) != 0)
        return swacl_set_error(ctx, SWACL_IO, "cannot create cache dir %s: %s", dev->cache_dir,
                               strerror(errno));
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "format", TUNE_FORMAT);
    cJSON_AddStringToObject(root, "device", dev->info.name);
    cJSON_AddStringToObject(root, "driver_version", dev->info.driver_version);
    cJSON_AddStringToObject(root, "device_version", dev->info.device_version);
    cJSON *x = cJSON_AddObjectToObject(root, "xgemm");
    for (int i = 0; i < SWACL_TUNE_NX; i++)
        cJSON_AddNumberToObject(x, swacl_tune_xgemm_names[i], (double)t->x[i]);
    cJSON *d = cJSON_AddObjectToObject(root, "xgemm_direct");
    for (int i = 0; i < SWACL_TUNE_ND; i++)
        cJSON_AddNumberToObject(d, swacl_tune_direct_names[i], (double)t->d[i]);
    cJSON_AddNumberToObject(root, "min_indirect_size", (double)t->min_indirect);
    if (extra) cJSON_AddItemReferenceToObject(root, "measured", extra);
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
