/*
 * fuzz_safetensors.c - libFuzzer target for swacl's untrusted-input parsers:
 * the safetensors header validator (+ F32/F16/BF16 conversion of every
 * tensor it accepts), the config.json mapper (+ a write/re-parse round trip
 * of what it accepts; repeated keys resolved last-wins), the .npy header
 * dict parser and the token-id text parser. Build and run: tools/fuzz.sh.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/hf.h"

static void count_tensor(const char *name, int ndim, const int64_t *shape, void *user)
{
    (void)name;
    (void)ndim;
    (void)shape;
    (*(int *)user)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];

    /* safetensors */
    swacl_st_file f;
    if (swacl_st_parse(data, size, "fuzz.safetensors", &f, err, sizeof err) == SWACL_OK) {
        for (int i = 0; i < f.n; i++) {
            const swacl_st_entry *e = &f.e[i];
            if (e->numel > (1u << 20)) continue;
            float *dst = malloc((size_t)(e->numel ? e->numel : 1) * sizeof *dst);
            if (!dst) continue;
            (void)swacl_st_to_f32(&f, e, dst, "fuzz", err, sizeof err);
            free(dst);
            if (swacl_st_find(&f, e->name) != e) abort(); /* sorted, unique */
        }
        swacl_st_free(&f);
    }

    /* config.json */
    swacl_config cfg;
    swacl_hf_map map;
    if (swacl_hf_config_parse((const char *)data, size, &cfg, &map, err, sizeof err) == SWACL_OK) {
        int n = 0;
        swacl_config_tensors(&cfg, count_tensor, &n);
        char cand[8][192];
        (void)swacl_hf_name_candidates(&map, "model.layers.0.mlp.up_proj.weight", cand, 8);
        char *js = swacl_hf_config_write(&cfg);
        if (js) {
            swacl_config c2;
            if (swacl_hf_config_parse(js, strlen(js), &c2, NULL, err, sizeof err) != SWACL_OK ||
                memcmp(&cfg, &c2, sizeof cfg) != 0)
                abort(); /* what we accept must round-trip exactly */
            free(js);
        }
    }

    /* .npy */
    float *x = NULL;
    int nd;
    int64_t shape[SWACL_NPY_MAX_DIMS];
    if (swacl_npy_parse_f32(data, size, "fuzz.npy", &x, &nd, shape, err, sizeof err) == SWACL_OK)
        free(x);

    /* token ids as text (swacl_ids_read refuses a NUL byte: parse up to it) */
    char *txt = malloc(size + 1);
    if (txt) {
        memcpy(txt, data, size);
        txt[size] = 0;
        int32_t *ids = NULL;
        int B = 0, T = 0;
        if (swacl_ids_parse(NULL, txt, "fuzz.ids", 1000, &ids, &B, &T) == SWACL_OK) {
            for (int i = 0; i < B * T; i++)
                if (ids[i] < 0 || ids[i] >= 1000) abort();
            swacl_free(ids);
        }
        free(txt);
    }
    return 0;
}
