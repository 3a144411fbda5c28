/*
 * cl_tune_own.c - the own GEMM's tune file: what `swacl tune --own`
 * (host/tune/tune_own.c) found for one device, stored next to the CLBlast
 * tune file in the swacl cache dir as gemm-own-<device>-<hash>.json (same
 * key: device name, driver and device version), and applied over the
 * table row (cl_params.c) when a CL backend is created on that device.
 * The table stays the default: no file, a file for another device or
 * driver, a corrupt file or a value out of range leave the row in place.
 */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cl/cl_tune_own.h"
#include "common/env.h"
#include "common/file.h"

/* -2: mc_min_m (M-class M blocks); -1 files, tuned without it on M 512 /
 * 2048 only, could turn off the blocks 8192 rows need, and are ignored */
#define OWN_FORMAT "swacl-gemm-own-2"
#define OWN_FILE_MAX (1 << 20)

int swacl_gemm_own_path(const swacl_cl_dev *dev, char *path, size_t len)
{
    return swacl_tune_path_named(dev, "gemm-own", path, len);
}

/* One integer field in [lo, hi]; -1 with why otherwise. */
static int get_int(const cJSON *o, const char *name, double lo, double hi, long long *out,
                   char *why, size_t why_len)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsNumber(v) || v->valuedouble != (double)(long long)v->valuedouble ||
        v->valuedouble < lo || v->valuedouble > hi) {
        snprintf(why, why_len, "gemm.%s missing, not an integer or outside %.0f..%.0f", name, lo,
                 hi);
        return -1;
    }
    *out = (long long)v->valuedouble;
    return 0;
}

int swacl_gemm_own_parse(const swacl_cl_dev *dev, const char *text, swacl_gemm_params *out,
                         char *why, size_t why_len)
{
    char scratch[8];
    if (!why || !why_len) why = scratch, why_len = sizeof scratch;
    why[0] = '\0';
    if (!text) return snprintf(why, why_len, "no text"), -1;
    cJSON *root = cJSON_Parse(text);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return snprintf(why, why_len, "not a JSON object"), -1;
    }
    int rc = -1;
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(root, "format");
    const cJSON *dn = cJSON_GetObjectItemCaseSensitive(root, "device");
    const cJSON *dv = cJSON_GetObjectItemCaseSensitive(root, "driver_version");
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(root, "gemm");
    const cJSON *kern = cJSON_GetObjectItemCaseSensitive(g, "kern");
    long long v[10];
    static const struct {
        const char *name;
        double lo, hi;
    } k_fields[10] = {{"own_f32", 0, 1},  {"own_packed", 0, 1}, {"mr", 1, 12},
                      {"lx", 1, 1024},    {"kc", 0, 65536},     {"mc", 0, 1 << 20},
                      {"min_mnk", 0, 1e18}, {"lm_ts", 8, 128},  {"lm_wpt", 1, 8},
                      {"mc_min_m", 0, 1 << 20}};
    if (!cJSON_IsString(f) || strcmp(f->valuestring, OWN_FORMAT) != 0) {
        snprintf(why, why_len, "format is not %s", OWN_FORMAT);
        goto done;
    }
    if (!cJSON_IsString(dn) || !cJSON_IsString(dv) || !cJSON_IsObject(g)) {
        snprintf(why, why_len, "device, driver_version or gemm missing");
        goto done;
    }
    if (dev && (strcmp(dn->valuestring, dev->info.name) != 0 ||
                strcmp(dv->valuestring, dev->info.driver_version) != 0)) {
        snprintf(why, why_len, "made for '%.100s' (%.60s), not this device", dn->valuestring,
                 dv->valuestring);
        goto done;
    }
    if (!cJSON_IsString(kern) || (strcmp(kern->valuestring, "mk") && strcmp(kern->valuestring, "lm"))) {
        snprintf(why, why_len, "gemm.kern is not \"mk\" or \"lm\"");
        goto done;
    }
    for (int i = 0; i < 10; i++)
        if (get_int(g, k_fields[i].name, k_fields[i].lo, k_fields[i].hi, &v[i], why, why_len))
            goto done;
    swacl_gemm_params p = {.own_f32 = (int)v[0], .own_packed = (int)v[1], .mr = (int)v[2],
                           .lx = (int)v[3], .kc = (int)v[4], .mc = (int)v[5], .min_mnk = v[6],
                           .kern = strcmp(kern->valuestring, "lm") ? SWACL_GEMM_KERN_MK
                                                                    : SWACL_GEMM_KERN_LM,
                           .lm_ts = (int)v[7], .lm_wpt = (int)v[8], .mc_min_m = (int)v[9]};
    const size_t mwg = dev ? dev->info.max_work_group_size : 0;
    const uint64_t lm = dev ? dev->info.local_mem_bytes : 0;
    if (!swacl_gemm_lm_fits(p.lm_ts, p.lm_wpt, mwg, lm) || (mwg && (size_t)p.lx > mwg)) {
        snprintf(why, why_len, "lm tile %d / %d or lx %d does not fit the device", p.lm_ts,
                 p.lm_wpt, p.lx);
        goto done;
    }
    *out = p;
    rc = 0;
done:
    cJSON_Delete(root);
    return rc;
}

swacl_status swacl_gemm_own_save(swacl_ctx *ctx, const swacl_cl_dev *dev,
                                 const swacl_gemm_params *p, const cJSON *extra, char *path_out,
                                 size_t path_len)
{
    char path[1200];
    cJSON *root;
    swacl_status st = swacl_tune_file_begin(ctx, dev, "gemm-own", OWN_FORMAT, path, sizeof path, &root);
    if (st != SWACL_OK) return st;
    cJSON *g = cJSON_AddObjectToObject(root, "gemm");
    cJSON_AddNumberToObject(g, "own_f32", p->own_f32);
    cJSON_AddNumberToObject(g, "own_packed", p->own_packed);
    cJSON_AddStringToObject(g, "kern", p->kern == SWACL_GEMM_KERN_LM ? "lm" : "mk");
    cJSON_AddNumberToObject(g, "mr", p->mr);
    cJSON_AddNumberToObject(g, "lx", p->lx);
    cJSON_AddNumberToObject(g, "kc", p->kc);
    cJSON_AddNumberToObject(g, "mc", p->mc);
    cJSON_AddNumberToObject(g, "mc_min_m", p->mc_min_m);
    cJSON_AddNumberToObject(g, "min_mnk", (double)p->min_mnk);
    cJSON_AddNumberToObject(g, "lm_ts", p->lm_ts);
    cJSON_AddNumberToObject(g, "lm_wpt", p->lm_wpt);
    if (extra) cJSON_AddItemToObject(root, "measured", cJSON_Duplicate(extra, 1));
    return swacl_tune_write_json(ctx, root, path, path_out, path_len);
}

int swacl_cl_gemm_own_apply(const swacl_cl_dev *dev, swacl_gemm_params *gp)
{
    if (swacl_env_is(SWACL_ENV_GEMM_TUNE, "off") || swacl_env_is(SWACL_ENV_GEMM_TUNE, "defaults"))
        return 0;
    char path[1200], why[256];
    if (!dev || swacl_gemm_own_path(dev, path, sizeof path) != 0 || access(path, F_OK) != 0)
        return 0;
    uint8_t *raw = NULL;
    size_t n = 0;
    swacl_gemm_params p;
    int rc = swacl_file_read_msg(path, OWN_FILE_MAX, &raw, &n, why, sizeof why) == SWACL_OK
                 ? swacl_gemm_own_parse(dev, (const char *)raw, &p, why, sizeof why)
                 : -1;
    free(raw);
    if (rc != 0) {
        fprintf(stderr, "swacl: warning: ignoring own-GEMM tune file %s: %s\n", path, why);
        return 0;
    }
    *gp = p;
    if (dev->verbose) fprintf(stderr, "swacl: applied own-GEMM tuning from %s\n", path);
    return 1;
}
