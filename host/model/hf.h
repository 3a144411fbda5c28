/*
 * hf.h - Hugging Face checkpoint loading (safetensors + config.json) and the
 * small .npy reader/writer used by the CLI. Internal to libswacl and its CLI,
 * tests and fuzzer; the public entry points are swacl_load_hf/swacl_save_hf.
 *
 * Everything here parses from memory so the fuzzer (tests/fuzz) can drive it
 * without touching the file system. Errors: a status plus a one-line message
 * naming the file and, where there is one, the tensor or key.
 */
#ifndef SWACL_MODEL_HF_H
#define SWACL_MODEL_HF_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* ------------------------------------------------------------------------ */
/* safetensors (docs/MODEL.md Part B 6.1)                                    */

#define SWACL_ST_MAX_HEADER 100000000ull /* as the reference reader        */
#define SWACL_ST_MAX_DIMS 8

typedef enum {
    SWACL_ST_F32 = 0,
    SWACL_ST_F16,
    SWACL_ST_BF16,
    SWACL_ST_OTHER /* a valid safetensors dtype we do not convert           */
} swacl_st_dtype;

typedef struct {
    char *name;             /* malloc'd                                      */
    swacl_st_dtype dtype;
    char dtype_str[16];     /* as written in the header                      */
    int ndim;
    int64_t shape[SWACL_ST_MAX_DIMS];
    uint64_t numel;
    uint64_t begin, end;    /* byte range inside the data buffer             */
} swacl_st_entry;

typedef struct {
    const uint8_t *data;    /* start of the data buffer (borrowed)           */
    uint64_t data_len;
    int n;
    swacl_st_entry *e;      /* sorted by name                                */
} swacl_st_file;

/* Parse and validate a whole safetensors image buf[0..len). fname is only
 * used in messages. On success *out borrows buf for its data pointer. On
 * error returns SWACL_FORMAT (or OUT_OF_MEMORY) with a message in err. */
swacl_status swacl_st_parse(const uint8_t *buf, size_t len, const char *fname,
                            swacl_st_file *out, char *err, size_t err_len);
void swacl_st_free(swacl_st_file *f);
/* Binary search by name (NULL if absent). */
const swacl_st_entry *swacl_st_find(const swacl_st_file *f, const char *name);
/* Convert one entry (F32/F16/BF16) to float32 into dst[numel]. Other dtypes:
 * SWACL_UNSUPPORTED naming the dtype and tensor. */
swacl_status swacl_st_to_f32(const swacl_st_file *f, const swacl_st_entry *e, float *dst,
                             const char *fname, char *err, size_t err_len);

/* Exact half / bfloat16 -> float conversions (exposed for tests). */
float swacl_f16_to_f32(uint16_t h);
float swacl_bf16_to_f32(uint16_t h);

/* ------------------------------------------------------------------------ */
/* config.json (docs/MODEL.md Part B 4, 5, 6.2, 7)                           */

typedef struct {
    char model_type[32]; /* after resolving text_config nesting             */
    int ffn_feed_forward; /* Llama 4: "feed_forward." instead of "mlp."      */
    int fused_phi3;       /* Phi-3: qkv_proj / gate_up_proj hold q/k/v and
                             gate/up as row ranges (swacl_hf_fused_part)    */
} swacl_hf_map;

/* Map a config.json text (len bytes, need not be NUL-terminated) onto *cfg.
 * SWACL_FORMAT for malformed JSON / bad values, SWACL_UNSUPPORTED for a
 * model_type or option swacl does not implement (the message names it). */
swacl_status swacl_hf_config_parse(const char *json, size_t len, swacl_config *cfg,
                                   swacl_hf_map *map, char *err, size_t err_len);
/* config.json text for cfg (model_type "swacl" with a swacl_layers array);
 * malloc'd, NULL when out of memory. */
char *swacl_hf_config_write(const swacl_config *cfg);
/* Names under which canonical tensor `canon` may be stored in a checkpoint
 * of this model type, most likely first. Returns the count (<= max). */
int swacl_hf_name_candidates(const swacl_hf_map *map, const char *canon, char (*out)[192],
                             int max);

/* Phi-3 (map->fused_phi3): canon is a row range [row0, row0 + its rows) of
 * the fused tensor `fused` of fused_rows rows; 0 when it is not. */
int swacl_hf_fused_part(const swacl_hf_map *map, const swacl_config *c, const char *canon, char fused[192], int64_t *row0, int64_t *fused_rows);

/* ------------------------------------------------------------------------ */
/* .npy (float32, C order, little-endian)                                    */

#define SWACL_NPY_MAX_DIMS 4

/* Parse a .npy image: descr '<f4', fortran_order False, 1..4 dims, data size
 * exactly numel*4. *data is malloc'd. */
swacl_status swacl_npy_parse_f32(const uint8_t *buf, size_t len, const char *fname, float **data,
                                 int *ndim, int64_t shape[SWACL_NPY_MAX_DIMS], char *err,
                                 size_t err_len);
swacl_status swacl_npy_read_f32(const char *path, float **data, int *ndim,
                                int64_t shape[SWACL_NPY_MAX_DIMS], char *err, size_t err_len);
swacl_status swacl_npy_write_f32(const char *path, const float *data, int ndim,
                                 const int64_t *shape, char *err, size_t err_len);

/* ------------------------------------------------------------------------ */
/* the tensors a config needs (swacl_config_tensors), shared by load and save */

typedef struct {
    int n, cap;
    struct swacl_hf_need_t {
        char name[96];
        int ndim;
        int64_t shape[2];
    } *t;
    int oom;
} swacl_hf_need;
/* swacl_config_tensors callback appending to a swacl_hf_need (sets oom). */
void swacl_hf_collect(const char *name, int ndim, const int64_t *shape, void *user);

#endif /* SWACL_MODEL_HF_H */
