/*
 * fuzz_tune.c - libFuzzer target for the GEMM tune file parser
 * (host/cl/cl_tune_file.c): JSON, format/device match, the tuner ranges and
 * CLBlast's constraints, with and without device limits; what it accepts
 * must satisfy the constraint checks on its own and survive a write/re-parse
 * round trip. Build and run: tools/fuzz.sh.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cl/cl_tune_file.h"

/* The file swacl_tune_save writes for p (without "measured"). */
static char *tune_write(const swacl_tune_params *p, const char *dev, const char *drv)
{
    cJSON *root = cJSON_CreateObject();
    if (!root) return NULL;
    cJSON_AddStringToObject(root, "format", SWACL_TUNE_FORMAT);
    cJSON_AddStringToObject(root, "device", dev);
    cJSON_AddStringToObject(root, "driver_version", drv);
    cJSON *x = cJSON_AddObjectToObject(root, "xgemm");
    for (int i = 0; x && i < SWACL_TUNE_NX; i++)
        cJSON_AddNumberToObject(x, swacl_tune_xgemm_names[i], (double)p->x[i]);
    cJSON *d = cJSON_AddObjectToObject(root, "xgemm_direct");
    for (int i = 0; d && i < SWACL_TUNE_ND; i++)
        cJSON_AddNumberToObject(d, swacl_tune_direct_names[i], (double)p->d[i]);
    cJSON_AddNumberToObject(root, "min_indirect_size", (double)p->min_indirect);
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return text;
}

static void accepted(const swacl_tune_params *p, const swacl_tune_limits *lim)
{
    size_t wg = lim ? lim->max_wg : 0;
    uint64_t lm = lim ? lim->local_mem : 0;
    if (!swacl_tune_xgemm_ok(p->x, wg, lm) || !swacl_tune_direct_ok(p->d, wg, lm)) abort();
    char *text = tune_write(p, lim ? lim->name : "d", lim ? lim->driver_version : "v");
    if (!text) return;
    swacl_tune_params back;
    char why[256];
    if (swacl_tune_parse_text(lim, text, &back, why, sizeof why) != 0 ||
        memcmp(&back, p, sizeof back) != 0)
        abort();
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20)) return 0; /* swacl_tune_load's size cap */
    char *text = malloc(size + 1);   /* the loader NUL-terminates what it read */
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char why[256];
    swacl_tune_params p;
    memset(&p, 0, sizeof p);
    if (swacl_tune_parse_text(NULL, text, &p, why, sizeof why) == 0) accepted(&p, NULL);
    /* a device of PoCL's limits, named as the seed files name theirs */
    static const swacl_tune_limits lim = {"fuzz-device", "fuzz-driver", 256, 65536};
    memset(&p, 0, sizeof p);
    if (swacl_tune_parse_text(&lim, text, &p, why, sizeof why) == 0) accepted(&p, &lim);
    free(text);
    return 0;
}
