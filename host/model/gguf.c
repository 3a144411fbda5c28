/*
 * gguf.c - validating GGUF v2/v3 parser (layout in gguf.h) and the exact
 * conversion of F32/F16/BF16/Q8_0/Q4_0 tensors to float32.
 *
 * Every count and length read from the file is checked against what is
 * left of the buffer before it is used (a reader cursor that fails once
 * and stays failed), so hostile headers cost no allocation beyond what the
 * file itself could hold. Messages name the file and the key or tensor.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/gguf.h"
#include "model/hf.h"

/* ggml type id -> name, block size (elements), block bytes (ggml.c
 * type_traits / gguf-py GGML_QUANT_SIZES). Gaps are ids ggml removed. */
static const struct {
    const char *name;
    uint32_t blck, size;
} k_types[] = {
    [0] = {"F32", 1, 4},          [1] = {"F16", 1, 2},          [2] = {"Q4_0", 32, 18},
    [3] = {"Q4_1", 32, 20},       [6] = {"Q5_0", 32, 22},       [7] = {"Q5_1", 32, 24},
    [8] = {"Q8_0", 32, 34},       [9] = {"Q8_1", 32, 36},       [10] = {"Q2_K", 256, 84},
    [11] = {"Q3_K", 256, 110},    [12] = {"Q4_K", 256, 144},    [13] = {"Q5_K", 256, 176},
    [14] = {"Q6_K", 256, 210},    [15] = {"Q8_K", 256, 292},    [16] = {"IQ2_XXS", 256, 66},
    [17] = {"IQ2_XS", 256, 74},   [18] = {"IQ3_XXS", 256, 98},  [19] = {"IQ1_S", 256, 50},
    [20] = {"IQ4_NL", 32, 18},    [21] = {"IQ3_S", 256, 110},   [22] = {"IQ2_S", 256, 82},
    [23] = {"IQ4_XS", 256, 136},  [24] = {"I8", 1, 1},          [25] = {"I16", 1, 2},
    [26] = {"I32", 1, 4},         [27] = {"I64", 1, 8},         [28] = {"F64", 1, 8},
    [29] = {"IQ1_M", 256, 56},    [30] = {"BF16", 1, 2},        [34] = {"TQ1_0", 256, 54},
    [35] = {"TQ2_0", 256, 66},    [39] = {"MXFP4", 32, 17},     [40] = {"NVFP4", 64, 36},
    [41] = {"Q1_0", 128, 18},     [42] = {"Q2_0", 64, 18},
};
#define N_TYPES (sizeof k_types / sizeof k_types[0])

const char *swacl_ggml_type_name(uint32_t type)
{
    return type < N_TYPES && k_types[type].name ? k_types[type].name : "?";
}

int swacl_ggml_type_supported(uint32_t type)
{
    return type == SWACL_GGML_F32 || type == SWACL_GGML_F16 || type == SWACL_GGML_BF16 ||
           type == SWACL_GGML_Q8_0 || type == SWACL_GGML_Q4_0;
}

/* ------------------------------------------------------------------------ */
/* Bounded little-endian reader.                                             */

typedef struct {
    const uint8_t *p;
    size_t len, off;
    int bad; /* a read ran past the end: every later read fails too */
} rd;

static const uint8_t *take(rd *r, uint64_t n)
{
    if (r->bad || n > r->len - r->off) {
        r->bad = 1;
        return NULL;
    }
    const uint8_t *q = r->p + r->off;
    r->off += (size_t)n;
    return q;
}

static uint64_t rd_le(rd *r, int n)
{
    const uint8_t *q = take(r, (uint64_t)n);
    uint64_t v = 0;
    if (q)
        for (int i = n - 1; i >= 0; i--) v = (v << 8) | q[i];
    return v;
}

/* A string: u64 length (<= max and <= what is left) + bytes. */
static const uint8_t *rd_str(rd *r, uint64_t max, uint64_t *n)
{
    *n = rd_le(r, 8);
    if (r->bad || *n > max) {
        r->bad = 1;
        return NULL;
    }
    return take(r, *n);
}

static const int k_scalar_size[SWACL_GGUF_NTYPES] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

#define FAIL(st, ...)                                                        \
    do {                                                                     \
        swacl_format_msg(err, err_len, __VA_ARGS__);                         \
        status = (st);                                                       \
        goto fail;                                                           \
    } while (0)

/* Scalar value of type ty into kv (i, u, f). */
static void rd_scalar(rd *r, uint32_t ty, swacl_gguf_kv *kv)
{
    uint64_t v = rd_le(r, k_scalar_size[ty]);
    int sz = k_scalar_size[ty];
    switch (ty) {
    case SWACL_GGUF_I8: case SWACL_GGUF_I16: case SWACL_GGUF_I32: case SWACL_GGUF_I64: {
        uint64_t sign = (uint64_t)1 << (8 * sz - 1);
        int64_t s = (int64_t)(sz == 8 ? v : (v ^ sign) - sign);
        kv->i = s;
        kv->u = (uint64_t)s;
        kv->f = (double)s;
        break;
    }
    case SWACL_GGUF_F32: {
        uint32_t b = (uint32_t)v;
        float x;
        memcpy(&x, &b, 4);
        kv->f = x;
        kv->i = 0;
        break;
    }
    case SWACL_GGUF_F64: memcpy(&kv->f, &v, 8); break;
    default: /* unsigned, bool */
        kv->u = v;
        kv->i = v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
        kv->f = (double)v;
        break;
    }
}

static int cmp_kv(const void *a, const void *b)
{
    return strcmp(((const swacl_gguf_kv *)a)->key, ((const swacl_gguf_kv *)b)->key);
}

static int cmp_tname(const void *a, const void *b)
{
    return strcmp(((const swacl_gguf_tensor *)a)->name, ((const swacl_gguf_tensor *)b)->name);
}

static int cmp_toff(const void *a, const void *b)
{
    const swacl_gguf_tensor *x = *(const swacl_gguf_tensor *const *)a;
    const swacl_gguf_tensor *y = *(const swacl_gguf_tensor *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static char *dup_bytes(const uint8_t *s, uint64_t n)
{
    char *d = malloc((size_t)n + 1);
    if (d) {
        if (n) memcpy(d, s, (size_t)n);
        d[n] = 0;
    }
    return d;
}

void swacl_gguf_free(swacl_gguf_file *f)
{
    if (!f) return;
    for (uint64_t i = 0; f->kv && i < f->n_kv; i++) free((void *)f->kv[i].key);
    for (uint64_t i = 0; f->t && i < f->n_tensors; i++) free(f->t[i].name);
    free(f->kv);
    free(f->t);
    memset(f, 0, sizeof *f);
}

swacl_status swacl_gguf_parse(const uint8_t *buf, size_t len, const char *fname,
                              swacl_gguf_file *f, char *err, size_t err_len)
{
    swacl_status status = SWACL_OK;
    const swacl_gguf_tensor **by_off = NULL;
    if (err && err_len) err[0] = 0;
    memset(f, 0, sizeof *f);
    if (!fname) fname = "gguf";
    rd r = {buf, buf ? len : 0, 0, 0};
    const uint8_t *magic = take(&r, 4);
    if (!magic || memcmp(magic, "GGUF", 4) != 0)
        FAIL(SWACL_FORMAT, "%s: not a GGUF file (no 'GGUF' magic)", fname);
    uint32_t version = (uint32_t)rd_le(&r, 4);
    uint64_t n_tensors = rd_le(&r, 8), n_kv = rd_le(&r, 8);
    if (r.bad) FAIL(SWACL_FORMAT, "%s: truncated GGUF header", fname);
    if (version != 2 && version != 3)
        FAIL(SWACL_UNSUPPORTED, "%s: GGUF version %u (swacl reads versions 2 and 3)", fname,
             version);
    /* each KV needs >= 8 + 4 + 1 bytes and each tensor info >= 8 + 4 + 8 + 4 + 8 */
    if (n_kv > SWACL_GGUF_MAX_KV || n_kv > (len - r.off) / 13)
        FAIL(SWACL_FORMAT, "%s: GGUF metadata count %llu is more than the file can hold", fname,
             (unsigned long long)n_kv);
    if (n_tensors > SWACL_GGUF_MAX_TENSORS || n_tensors > (len - r.off) / 32)
        FAIL(SWACL_FORMAT, "%s: GGUF tensor count %llu is more than the file can hold", fname,
             (unsigned long long)n_tensors);
    f->buf = buf;
    f->len = len;
    f->version = version;
    f->kv = calloc(n_kv ? (size_t)n_kv : 1, sizeof *f->kv);
    f->t = calloc(n_tensors ? (size_t)n_tensors : 1, sizeof *f->t);
    if (!f->kv || !f->t) FAIL(SWACL_OUT_OF_MEMORY, "%s: out of memory", fname);

    /* ---- metadata ---- */
    for (uint64_t i = 0; i < n_kv; i++) {
        uint64_t kn;
        const uint8_t *k = rd_str(&r, SWACL_GGUF_MAX_KEY, &kn);
        if (!k) FAIL(SWACL_FORMAT, "%s: metadata key %llu: bad or truncated string", fname,
                     (unsigned long long)i);
        swacl_gguf_kv *kv = &f->kv[i];
        if (!(kv->key = dup_bytes(k, kn))) FAIL(SWACL_OUT_OF_MEMORY, "%s: out of memory", fname);
        f->n_kv = i + 1;
        if (strlen(kv->key) != kn || kn == 0)
            FAIL(SWACL_FORMAT, "%s: metadata key %llu is empty or holds a NUL byte", fname,
                 (unsigned long long)i);
        kv->type = (uint32_t)rd_le(&r, 4);
        if (r.bad) FAIL(SWACL_FORMAT, "%s: metadata '%.100s': truncated", fname, kv->key);
        if (kv->type >= SWACL_GGUF_NTYPES)
            FAIL(SWACL_FORMAT, "%s: metadata '%.100s' has unknown value type %u", fname, kv->key,
                 kv->type);
        if (kv->type == SWACL_GGUF_STRING) {
            kv->data = rd_str(&r, UINT64_MAX, &kv->len);
        } else if (kv->type == SWACL_GGUF_ARRAY) {
            kv->arr_type = (uint32_t)rd_le(&r, 4);
            kv->arr_n = rd_le(&r, 8);
            if (r.bad) FAIL(SWACL_FORMAT, "%s: metadata '%.100s': truncated array", fname, kv->key);
            if (kv->arr_type >= SWACL_GGUF_NTYPES || kv->arr_type == SWACL_GGUF_ARRAY)
                FAIL(SWACL_FORMAT, "%s: metadata '%.100s': array of %s", fname, kv->key,
                     kv->arr_type == SWACL_GGUF_ARRAY ? "arrays (not supported)"
                                                      : "an unknown value type");
            const size_t start = r.off;
            if (kv->arr_type == SWACL_GGUF_STRING) {
                if (kv->arr_n > (len - r.off) / 8) r.bad = 1;
                for (uint64_t j = 0; j < kv->arr_n && !r.bad; j++) {
                    uint64_t sn;
                    rd_str(&r, UINT64_MAX, &sn);
                }
            } else {
                const uint64_t es = (uint64_t)k_scalar_size[kv->arr_type];
                if (kv->arr_n > (len - r.off) / es) r.bad = 1;
                else take(&r, kv->arr_n * es);
            }
            kv->data = r.bad ? NULL : buf + start;
            kv->len = r.off - start;
        } else {
            rd_scalar(&r, kv->type, kv);
            if (kv->type == SWACL_GGUF_BOOL && kv->u > 1)
                FAIL(SWACL_FORMAT, "%s: metadata '%.100s': bool value %llu", fname, kv->key,
                     (unsigned long long)kv->u);
        }
        if (r.bad)
            FAIL(SWACL_FORMAT, "%s: metadata '%.100s': value runs past the end of the file", fname,
                 kv->key);
    }
    qsort(f->kv, (size_t)f->n_kv, sizeof *f->kv, cmp_kv);
    for (uint64_t i = 1; i < f->n_kv; i++)
        if (strcmp(f->kv[i - 1].key, f->kv[i].key) == 0)
            FAIL(SWACL_FORMAT, "%s: duplicate metadata key '%.100s'", fname, f->kv[i].key);
    f->alignment = 32;
    const swacl_gguf_kv *al = swacl_gguf_find_kv(f, "general.alignment");
    if (al) {
        if (al->type != SWACL_GGUF_U32 || al->u == 0 || (al->u & (al->u - 1)) ||
            al->u > SWACL_GGUF_MAX_ALIGN)
            FAIL(SWACL_FORMAT, "%s: general.alignment must be a u32 power of two <= %u", fname,
                 SWACL_GGUF_MAX_ALIGN);
        f->alignment = al->u;
    }

    /* ---- tensor infos ---- */
    for (uint64_t i = 0; i < n_tensors; i++) {
        uint64_t nn;
        const uint8_t *nm = rd_str(&r, SWACL_GGUF_MAX_KEY, &nn);
        if (!nm) FAIL(SWACL_FORMAT, "%s: tensor %llu: bad or truncated name", fname,
                      (unsigned long long)i);
        swacl_gguf_tensor *t = &f->t[i];
        if (!(t->name = dup_bytes(nm, nn))) FAIL(SWACL_OUT_OF_MEMORY, "%s: out of memory", fname);
        f->n_tensors = i + 1;
        if (strlen(t->name) != nn || nn == 0)
            FAIL(SWACL_FORMAT, "%s: tensor %llu: name is empty or holds a NUL byte", fname,
                 (unsigned long long)i);
        uint32_t nd = (uint32_t)rd_le(&r, 4);
        if (r.bad) FAIL(SWACL_FORMAT, "%s: tensor '%.100s': truncated", fname, t->name);
        if (nd < 1 || nd > SWACL_GGUF_MAX_DIMS)
            FAIL(SWACL_FORMAT, "%s: tensor '%.100s' has %u dimensions (1..%d allowed)", fname,
                 t->name, nd, SWACL_GGUF_MAX_DIMS);
        t->n_dims = (int)nd;
        uint64_t numel = 1;
        for (int d = 0; d < SWACL_GGUF_MAX_DIMS; d++) {
            uint64_t ne = d < t->n_dims ? rd_le(&r, 8) : 1;
            if (r.bad) break;
            if (ne < 1 || ne > (uint64_t)INT64_MAX || numel > (uint64_t)INT64_MAX / ne)
                FAIL(SWACL_FORMAT, "%s: tensor '%.100s': dimension %d is %llu (must be >= 1, "
                     "element count < 2^63)", fname, t->name, d, (unsigned long long)ne);
            t->ne[d] = (int64_t)ne;
            numel *= ne;
        }
        t->numel = numel;
        t->type = (uint32_t)rd_le(&r, 4);
        t->offset = rd_le(&r, 8);
        if (r.bad) FAIL(SWACL_FORMAT, "%s: tensor '%.100s': truncated", fname, t->name);
        if (t->type >= N_TYPES || !k_types[t->type].name)
            FAIL(SWACL_UNSUPPORTED, "%s: tensor '%.100s' has ggml type id %u, which ggml does not "
                 "define", fname, t->name, t->type);
        const uint64_t blck = k_types[t->type].blck, bsz = k_types[t->type].size;
        if ((uint64_t)t->ne[0] % blck)
            FAIL(SWACL_FORMAT, "%s: tensor '%.100s': ne[0] %lld is not a multiple of the %s block "
                 "size %llu", fname, t->name, (long long)t->ne[0], swacl_ggml_type_name(t->type),
                 (unsigned long long)blck);
        if (numel / blck > UINT64_MAX / bsz)
            FAIL(SWACL_FORMAT, "%s: tensor '%.100s': byte size overflows", fname, t->name);
        t->nbytes = numel / blck * bsz;
        if (t->offset % f->alignment)
            FAIL(SWACL_FORMAT, "%s: tensor '%.100s': offset %llu is not a multiple of the "
                 "alignment %llu", fname, t->name, (unsigned long long)t->offset,
                 (unsigned long long)f->alignment);
    }
    qsort(f->t, (size_t)f->n_tensors, sizeof *f->t, cmp_tname);
    for (uint64_t i = 1; i < f->n_tensors; i++)
        if (strcmp(f->t[i - 1].name, f->t[i].name) == 0)
            FAIL(SWACL_FORMAT, "%s: duplicate tensor name '%.100s'", fname, f->t[i].name);

    /* ---- data section: aligned start, every tensor inside, no overlap ---- */
    uint64_t data_off = r.off + (f->alignment - r.off % f->alignment) % f->alignment;
    if (n_tensors && data_off > len)
        FAIL(SWACL_FORMAT, "%s: data section starts at %llu, past the end of the file (%zu bytes)",
             fname, (unsigned long long)data_off, len);
    f->data_off = data_off;
    const uint64_t data_len = data_off <= len ? len - data_off : 0;
    by_off = malloc((f->n_tensors ? (size_t)f->n_tensors : 1) * sizeof *by_off);
    if (!by_off) FAIL(SWACL_OUT_OF_MEMORY, "%s: out of memory", fname);
    for (uint64_t i = 0; i < f->n_tensors; i++) {
        const swacl_gguf_tensor *t = &f->t[i];
        if (t->offset > data_len || t->nbytes > data_len - t->offset)
            FAIL(SWACL_FORMAT, "%s: tensor '%.100s': bytes [%llu, +%llu) run past the end of the "
                 "data section (%llu bytes)", fname, t->name, (unsigned long long)t->offset,
                 (unsigned long long)t->nbytes, (unsigned long long)data_len);
        by_off[i] = t;
    }
    qsort(by_off, (size_t)f->n_tensors, sizeof *by_off, cmp_toff);
    for (uint64_t i = 1; i < f->n_tensors; i++)
        if (by_off[i - 1]->offset + by_off[i - 1]->nbytes > by_off[i]->offset)
            FAIL(SWACL_FORMAT, "%s: tensors '%.100s' and '%.100s' overlap", fname,
                 by_off[i - 1]->name, by_off[i]->name);
    free(by_off);
    return SWACL_OK;
fail:
    free(by_off);
    swacl_gguf_free(f);
    return status;
}

const swacl_gguf_kv *swacl_gguf_find_kv(const swacl_gguf_file *f, const char *key)
{
    swacl_gguf_kv k;
    k.key = key;
    return f->n_kv ? bsearch(&k, f->kv, (size_t)f->n_kv, sizeof *f->kv, cmp_kv) : NULL;
}

const swacl_gguf_tensor *swacl_gguf_find_tensor(const swacl_gguf_file *f, const char *name)
{
    swacl_gguf_tensor k;
    k.name = (char *)name;
    return f->n_tensors ? bsearch(&k, f->t, (size_t)f->n_tensors, sizeof *f->t, cmp_tname) : NULL;
}

/* ------------------------------------------------------------------------ */
/* Tensor data -> float32 (ggml-quants.c dequantize_row_q8_0 / _q4_0).        */

static uint16_t u16le(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

swacl_status swacl_gguf_to_f32(const swacl_gguf_file *f, const swacl_gguf_tensor *t, float *dst,
                               char *err, size_t err_len)
{
    const uint8_t *p = f->buf + f->data_off + t->offset;
    const uint64_t n = t->numel;
    switch (t->type) {
    case SWACL_GGML_F32:
        memcpy(dst, p, (size_t)n * 4); /* little-endian host, as safetensors.c */
        return SWACL_OK;
    case SWACL_GGML_F16:
        for (uint64_t i = 0; i < n; i++) dst[i] = swacl_f16_to_f32(u16le(p + 2 * i));
        return SWACL_OK;
    case SWACL_GGML_BF16:
        for (uint64_t i = 0; i < n; i++) dst[i] = swacl_bf16_to_f32(u16le(p + 2 * i));
        return SWACL_OK;
    case SWACL_GGML_Q8_0: /* block_q8_0 { f16 d; int8 qs[32]; } */
        for (uint64_t b = 0; b < n / 32; b++, p += 34) {
            const float d = swacl_f16_to_f32(u16le(p));
            for (int j = 0; j < 32; j++) dst[b * 32 + j] = (float)(int8_t)p[2 + j] * d;
        }
        return SWACL_OK;
    case SWACL_GGML_Q4_0: /* block_q4_0 { f16 d; u8 qs[16]; }: low nibbles 0..15, high 16..31 */
        for (uint64_t b = 0; b < n / 32; b++, p += 18) {
            const float d = swacl_f16_to_f32(u16le(p));
            for (int j = 0; j < 16; j++) {
                dst[b * 32 + j] = (float)((p[2 + j] & 0x0f) - 8) * d;
                dst[b * 32 + j + 16] = (float)((p[2 + j] >> 4) - 8) * d;
            }
        }
        return SWACL_OK;
    default:
        swacl_format_msg(err, err_len,
                         "tensor '%.100s' has type %s, which swacl does not load (supported: F32, "
                         "F16, BF16, Q8_0, Q4_0)", t->name, swacl_ggml_type_name(t->type));
        return SWACL_UNSUPPORTED;
    }
}

int swacl_gguf_unpermute_rows(void *rows, int n_heads, int head_dim, size_t row_bytes)
{
    if (head_dim < 2 || head_dim % 2) return 0;
    uint8_t *tmp = malloc((size_t)head_dim * row_bytes);
    if (!tmp) return -1;
    uint8_t *base = rows;
    for (int h = 0; h < n_heads; h++) {
        uint8_t *hp = base + (size_t)h * head_dim * row_bytes;
        memcpy(tmp, hp, (size_t)head_dim * row_bytes);
        for (int i = 0; i < head_dim / 2; i++)
            for (int j = 0; j < 2; j++)
                memcpy(hp + (size_t)(j * head_dim / 2 + i) * row_bytes,
                       tmp + (size_t)(2 * i + j) * row_bytes, row_bytes);
    }
    free(tmp);
    return 0;
}
