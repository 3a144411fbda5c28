/*
 * fuzz_gguf.c - libFuzzer target for the GGUF parser (host/model/gguf.c)
 * and its metadata mapping (gguf_load.c): parse; for an accepted file every
 * tensor must lie inside the buffer with its byte size, the supported types
 * convert to float32 (small tensors), the metadata -> swacl_config mapping
 * either fails with a message or gives a config swacl_config_check accepts,
 * and every tensor that config needs maps to a GGUF name. Build and run:
 * tools/fuzz.sh.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/gguf.h"
#include "model/hf.h"

static void need_name(const char *name, int ndim, const int64_t *shape, void *user)
{
    (void)ndim;
    (void)shape;
    char g[160];
    if (!swacl_gguf_tensor_name(user, name, g, sizeof g)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    swacl_gguf_file f;
    char err[1024];
    if (swacl_gguf_parse(data, size, "fuzz.gguf", &f, err, sizeof err) != SWACL_OK) {
        if (!err[0]) abort();
        return 0;
    }
    for (uint64_t i = 0; i < f.n_tensors; i++) {
        const swacl_gguf_tensor *t = &f.t[i];
        if (f.data_off + t->offset + t->nbytes > size || !t->name[0]) abort();
        if (swacl_gguf_find_tensor(&f, t->name) != t) abort();
        if (t->numel > 4096) continue;
        float *x = malloc((size_t)t->numel * sizeof *x);
        if (!x) continue;
        swacl_status st = swacl_gguf_to_f32(&f, t, x, err, sizeof err);
        if ((st == SWACL_OK) != swacl_ggml_type_supported(t->type)) abort();
        free(x);
    }
    swacl_config c;
    int permute = 0;
    err[0] = 0;
    if (swacl_gguf_config(&f, &c, &permute, err, sizeof err) == SWACL_OK) {
        if (swacl_config_check(&c, NULL, 0) != SWACL_OK) abort();
        swacl_config_tensors(&c, need_name, &c);
    } else if (!err[0]) {
        abort();
    }
    swacl_gguf_free(&f);
    return 0;
}
