/* cl_tune_file.c - the GEMM tune file as text: CLBlast's parameter
 * constraints, the tuner ranges and the parse-and-validate step of
 * swacl_tune_load. Kept free of OpenCL and CLBlast so that
 * tests/fuzz/fuzz_tune.c links it alone; cl_tune.c reads the file and
 * applies the result. */
#include "cl/cl_tune_file.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define TUNE_FORMAT SWACL_TUNE_FORMAT

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

static int read_size(const cJSON *obj, const char *name, size_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1e6 ||
        v->valuedouble != floor(v->valuedouble))
        return -1;
    *out = (size_t)v->valuedouble;
    return 0;
}

int swacl_tune_parse_text(const swacl_tune_limits *dev, const char *text,
                          swacl_tune_params *out, char *why, size_t why_len)
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
    if (dev && (strcmp(dn->valuestring, dev->name) != 0 ||
                strcmp(dv->valuestring, dev->driver_version) != 0))
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
    size_t wg = dev ? dev->max_wg : 0;
    uint64_t lm = dev ? dev->local_mem : 0;
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

