/*
 * gguf.h - GGUF (llama.cpp's model file, versions 2 and 3): a validating
 * parser from memory (fuzzed: tests/fuzz/fuzz_gguf.c), the tensor types
 * swacl loads, and the loader behind swacl_load_hf(ctx, "x.gguf", ...).
 *
 * Layout (ggml/src/gguf.cpp): "GGUF", u32 version, u64 n_tensors, u64 n_kv,
 * n_kv x {string key, u32 type, value}, n_tensors x {string name, u32
 * n_dims, u64 ne[n_dims], u32 ggml_type, u64 offset}, padding to
 * general.alignment, then the data; strings are u64 length + bytes; all
 * little-endian. ne[0] is the contiguous dimension, so an HF weight
 * [out, in] is stored with ne = {in, out} in the same byte order.
 */
#ifndef SWACL_MODEL_GGUF_H
#define SWACL_MODEL_GGUF_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

#define SWACL_GGUF_MAX_DIMS 4          /* GGML_MAX_DIMS                       */
#define SWACL_GGUF_MAX_TENSORS 65536u
#define SWACL_GGUF_MAX_KV 65536u
#define SWACL_GGUF_MAX_KEY 65535u      /* bytes of a key or tensor name     */
#define SWACL_GGUF_MAX_ALIGN 65536u

/* Metadata value types (gguf_type). */
enum {
    SWACL_GGUF_U8 = 0, SWACL_GGUF_I8, SWACL_GGUF_U16, SWACL_GGUF_I16, SWACL_GGUF_U32,
    SWACL_GGUF_I32, SWACL_GGUF_F32, SWACL_GGUF_BOOL, SWACL_GGUF_STRING, SWACL_GGUF_ARRAY,
    SWACL_GGUF_U64, SWACL_GGUF_I64, SWACL_GGUF_F64, SWACL_GGUF_NTYPES
};

/* ggml tensor types swacl converts (ggml.h numbering). */
enum {
    SWACL_GGML_F32 = 0, SWACL_GGML_F16 = 1, SWACL_GGML_Q4_0 = 2, SWACL_GGML_Q8_0 = 8,
    SWACL_GGML_BF16 = 30
};

typedef struct {
    const char *key;      /* malloc'd, NUL-terminated                       */
    uint32_t type;
    /* scalars (any integer type widened; bool as 0/1; floats as double)    */
    int64_t i;
    uint64_t u;
    double f;
    /* STRING: bytes (not NUL-terminated) and length; ARRAY: element type,
     * count and the raw element bytes (strings inside are u64 len + bytes) */
    const uint8_t *data;
    uint64_t len;
    uint32_t arr_type;
    uint64_t arr_n;
} swacl_gguf_kv;

typedef struct {
    char *name;           /* malloc'd, NUL-terminated                       */
    int n_dims;
    int64_t ne[SWACL_GGUF_MAX_DIMS]; /* unused dims are 1                    */
    uint32_t type;        /* ggml type id                                   */
    uint64_t offset;      /* from the start of the data section             */
    uint64_t nbytes;
    uint64_t numel;
} swacl_gguf_tensor;

typedef struct {
    const uint8_t *buf;   /* borrowed: the whole file                        */
    size_t len;
    uint32_t version;
    uint64_t alignment;
    uint64_t data_off;    /* start of the data section in buf               */
    uint64_t n_kv, n_tensors;
    swacl_gguf_kv *kv;
    swacl_gguf_tensor *t;
} swacl_gguf_file;

/* Parse and validate a whole GGUF image buf[0..len): bounded counts and
 * lengths (overflow-checked against what is left of the buffer), known
 * metadata types, no nested arrays, no duplicate keys or tensor names,
 * general.alignment a power of two (default 32), every tensor 1..4 dims of
 * >= 1 elements, a known ggml type whose block divides ne[0], its offset
 * aligned, its bytes inside the file, no two tensors overlapping. fname is
 * only used in messages. SWACL_FORMAT (SWACL_UNSUPPORTED for a tensor type
 * id ggml does not define, SWACL_OUT_OF_MEMORY); the parser never reads
 * outside buf. On success *f borrows buf. */
swacl_status swacl_gguf_parse(const uint8_t *buf, size_t len, const char *fname,
                              swacl_gguf_file *f, char *err, size_t err_len);
void swacl_gguf_free(swacl_gguf_file *f);

const swacl_gguf_kv *swacl_gguf_find_kv(const swacl_gguf_file *f, const char *key);
const swacl_gguf_tensor *swacl_gguf_find_tensor(const swacl_gguf_file *f, const char *name);
/* ggml's name for a type id ("Q4_K"), "?" when ggml defines none. */
const char *swacl_ggml_type_name(uint32_t type);
/* 1 for the types swacl converts: F32, F16, BF16, Q8_0, Q4_0. */
int swacl_ggml_type_supported(uint32_t type);

/* Convert one tensor to float32 into dst[numel], exactly (F16/BF16 widen,
 * Q8_0: q * d, Q4_0: (q - 8) * d with d the block's f16 scale). Another
 * type: SWACL_UNSUPPORTED "tensor 'x' has type Q4_K, which swacl does not
 * load (supported: ...)". */
swacl_status swacl_gguf_to_f32(const swacl_gguf_file *f, const swacl_gguf_tensor *t, float *dst,
                               char *err, size_t err_len);

/* Map a parsed file's metadata onto *cfg for the architectures swacl runs
 * (general.architecture: llama, qwen2, qwen3, gemma2, gemma3, cohere2).
 * *permute_qk is set when q/k rows are stored in llama.cpp's interleaved
 * RoPE order (llama: convert_hf_to_gguf permutes them) and must be put back
 * into HF order by swacl_gguf_unpermute_rows. */
swacl_status swacl_gguf_config(const swacl_gguf_file *f, swacl_config *cfg, int *permute_qk,
                               char *err, size_t err_len);
/* The GGUF tensor name of canonical (HF) name canon under cfg; 0 when it has
 * none. */
int swacl_gguf_tensor_name(const swacl_config *cfg, const char *canon, char *out, size_t out_len);
/* Undo convert_hf_to_gguf's LlamaModel.permute on the rows of one q/k
 * projection (n_heads heads of head_dim rows, row_bytes each): stored row
 * h*d + 2i + j is HF row h*d + j*d/2 + i. Works on raw rows, so also on
 * quantised blocks. 0, or -1 when out of memory. */
int swacl_gguf_unpermute_rows(void *rows, int n_heads, int head_dim, size_t row_bytes);

/* 1 when path names a GGUF model: a *.gguf file, or a directory with no
 * safetensors and exactly one *.gguf (its path into out); 0 otherwise (the
 * safetensors loader runs); -1 with a message when a directory holds
 * several .gguf files. */
int swacl_gguf_resolve(const char *path, char *out, size_t out_len, char *err, size_t err_len);
/* The whole load: a .gguf file -> config + weights (HF names; 2-D
 * F16/BF16/Q8_0/Q4_0 as stored, the rest float32). lazy: the tensors are
 * checked (names, shapes, types) but read on first use (pending == 2, the
 * mapping kept by the weights), so an MPI rank reads only its layers. */
swacl_status swacl_gguf_load(const char *path, int allow_nonfinite, int lazy, swacl_config *cfg,
                             swacl_weights **out, char *err, size_t err_len);

#endif /* SWACL_MODEL_GGUF_H */
