/*
 * safetensors.c - validating safetensors parser (docs/MODEL.md Part B 6.1).
 *
 * Layout: u64 LE header length N, N bytes of JSON, then the data buffer.
 * Checks (each failure is SWACL_FORMAT with a message naming file + tensor):
 *   N <= 100,000,000 and 8 + N <= file size; the header is a JSON object
 *   (trailing spaces allowed); every entry but "__metadata__" is an object
 *   with a dtype string, a shape array of non-negative integers and
 *   data_offsets [begin, end] with begin <= end <= data size; end - begin ==
 *   numel * dtype size (overflow-checked); no two non-empty ranges overlap;
 *   no duplicate names; unknown dtype strings are rejected by name.
 * The parser never reads outside buf[0..len).
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/hf.h"

#define FAIL(st, ...)                                                        \
    do {                                                                     \
        swacl_format_msg(err, err_len, __VA_ARGS__);                         \
        status = (st);                                                       \
        goto fail;                                                           \
    } while (0)

/* dtype name -> size in bits (docs/MODEL.md 6.1 / safetensors tensor.rs Dtype). */
static const struct {
    const char *name;
    int bits;
    swacl_st_dtype kind;
} k_dtypes[] = {
    {"F32", 32, SWACL_ST_F32},     {"F16", 16, SWACL_ST_F16},
    {"BF16", 16, SWACL_ST_BF16},   {"BOOL", 8, SWACL_ST_OTHER},
    {"U8", 8, SWACL_ST_OTHER},     {"I8", 8, SWACL_ST_OTHER},
    {"I16", 16, SWACL_ST_OTHER},   {"U16", 16, SWACL_ST_OTHER},
    {"I32", 32, SWACL_ST_OTHER},   {"U32", 32, SWACL_ST_OTHER},
    {"F64", 64, SWACL_ST_OTHER},   {"I64", 64, SWACL_ST_OTHER},
    {"U64", 64, SWACL_ST_OTHER},   {"C64", 64, SWACL_ST_OTHER},
    {"F8_E5M2", 8, SWACL_ST_OTHER}, {"F8_E4M3", 8, SWACL_ST_OTHER},
    {"F8_E8M0", 8, SWACL_ST_OTHER}, {"F8_E4M3FNUZ", 8, SWACL_ST_OTHER},
    {"F8_E5M2FNUZ", 8, SWACL_ST_OTHER}, {"F4", 4, SWACL_ST_OTHER},
    {"F6_E2M3", 6, SWACL_ST_OTHER}, {"F6_E3M2", 6, SWACL_ST_OTHER},
};

float swacl_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu, man = h & 0x3ffu, bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else { /* subnormal: normalise */
            int e = -1;
            do {
                e++;
                man <<= 1;
            } while (!(man & 0x400u));
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3ffu) << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (man << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

float swacl_bf16_to_f32(uint16_t h)
{
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static uint64_t rd_u64le(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

/* A JSON number that is a non-negative integer <= 2^53. */
static int json_uint(const cJSON *j, uint64_t *out)
{
    if (!cJSON_IsNumber(j)) return 0;
    double d = j->valuedouble;
    if (!(d >= 0) || d > 9007199254740992.0 || floor(d) != d) return 0;
    *out = (uint64_t)d;
    return 1;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(((const swacl_st_entry *)a)->name, ((const swacl_st_entry *)b)->name);
}

static int cmp_range(const void *a, const void *b)
{
    const swacl_st_entry *x = *(const swacl_st_entry *const *)a;
    const swacl_st_entry *y = *(const swacl_st_entry *const *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return 0;
}

void swacl_st_free(swacl_st_file *f)
{
    if (!f) return;
    for (int i = 0; i < f->n; i++) free(f->e[i].name);
    free(f->e);
    memset(f, 0, sizeof *f);
}

swacl_status swacl_st_parse(const uint8_t *buf, size_t len, const char *fname,
                            swacl_st_file *out, char *err, size_t err_len)
{
    swacl_status status = SWACL_OK;
    cJSON *root = NULL;
    swacl_st_entry **order = NULL;
    swacl_st_file f;
    memset(&f, 0, sizeof f);
    if (out) memset(out, 0, sizeof *out);
    if (!fname) fname = "(memory)";
    if (!buf || !out) FAIL(SWACL_INVALID_ARG, "%s: no buffer", fname);

    if (len < 8)
        FAIL(SWACL_FORMAT, "%s: truncated safetensors file (%zu bytes, need at least 8)", fname,
             len);
    uint64_t n = rd_u64le(buf);
    if (n > SWACL_ST_MAX_HEADER)
        FAIL(SWACL_FORMAT, "%s: header length %llu exceeds the limit of %llu bytes", fname,
             (unsigned long long)n, (unsigned long long)SWACL_ST_MAX_HEADER);
    if (n > (uint64_t)len - 8)
        FAIL(SWACL_FORMAT,
             "%s: truncated safetensors file: header length %llu but only %llu bytes follow", fname,
             (unsigned long long)n, (unsigned long long)(len - 8));
    if (n < 2 || buf[8] != '{')
        FAIL(SWACL_FORMAT, "%s: safetensors header is not a JSON object", fname);

    const char *hdr = (const char *)buf + 8, *end = NULL;
    root = cJSON_ParseWithLengthOpts(hdr, (size_t)n, &end, 0);
    if (!root || !cJSON_IsObject(root))
        FAIL(SWACL_FORMAT, "%s: safetensors header is not valid JSON (near byte %lld)", fname,
             (long long)(8 + ((end ? end : cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() : hdr) - hdr)));
    for (const char *p = end; p && p < hdr + n; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            FAIL(SWACL_FORMAT, "%s: trailing bytes after the safetensors JSON header", fname);

    f.data = buf + 8 + n;
    f.data_len = (uint64_t)len - 8 - n;

    int count = 0;
    for (cJSON *it = root->child; it; it = it->next) count++;
    f.e = calloc((size_t)(count ? count : 1), sizeof *f.e);
    if (!f.e) FAIL(SWACL_OUT_OF_MEMORY, "%s: out of memory", fname);

    for (cJSON *it = root->child; it; it = it->next) {
        const char *name = it->string ? it->string : "";
        if (strcmp(name, "__metadata__") == 0) {
            if (!cJSON_IsObject(it) && !cJSON_IsNull(it))
                FAIL(SWACL_FORMAT, "%s: __metadata__ is not an object", fname);
            continue;
        }
        if (!cJSON_IsObject(it))
            FAIL(SWACL_FORMAT, "%s: tensor '%s': header entry is not an object", fname, name);
        const cJSON *dt = cJSON_GetObjectItemCaseSensitive(it, "dtype");
        const cJSON *sh = cJSON_GetObjectItemCaseSensitive(it, "shape");
        const cJSON *of = cJSON_GetObjectItemCaseSensitive(it, "data_offsets");
        if (!cJSON_IsString(dt) || !dt->valuestring)
            FAIL(SWACL_FORMAT, "%s: tensor '%s': missing or non-string dtype", fname, name);
        if (!cJSON_IsArray(sh))
            FAIL(SWACL_FORMAT, "%s: tensor '%s': missing or non-array shape", fname, name);
        if (!cJSON_IsArray(of) || cJSON_GetArraySize(of) != 2)
            FAIL(SWACL_FORMAT, "%s: tensor '%s': data_offsets must be an array [begin, end]", fname,
                 name);

        swacl_st_entry *e = &f.e[f.n];
        int bits = 0;
        for (size_t k = 0; k < sizeof k_dtypes / sizeof k_dtypes[0]; k++)
            if (strcmp(dt->valuestring, k_dtypes[k].name) == 0) {
                bits = k_dtypes[k].bits;
                e->dtype = k_dtypes[k].kind;
            }
        if (!bits)
            FAIL(SWACL_FORMAT, "%s: tensor '%s': unknown dtype '%.32s'", fname, name,
                 dt->valuestring);
        snprintf(e->dtype_str, sizeof e->dtype_str, "%s", dt->valuestring);

        int nd = cJSON_GetArraySize(sh);
        if (nd > SWACL_ST_MAX_DIMS)
            FAIL(SWACL_FORMAT, "%s: tensor '%s': %d dimensions (at most %d supported)", fname, name,
                 nd, SWACL_ST_MAX_DIMS);
        uint64_t numel = 1;
        int d = 0;
        for (const cJSON *s = sh->child; s; s = s->next, d++) {
            uint64_t v;
            if (!json_uint(s, &v))
                FAIL(SWACL_FORMAT, "%s: tensor '%s': shape entries must be non-negative integers",
                     fname, name);
            if (v && numel > UINT64_MAX / v)
                FAIL(SWACL_FORMAT, "%s: tensor '%s': element count overflows", fname, name);
            numel *= v;
            e->shape[d] = (int64_t)v;
        }
        e->ndim = nd;
        e->numel = numel;
        if (numel > UINT64_MAX / (uint64_t)bits)
            FAIL(SWACL_FORMAT, "%s: tensor '%s': byte size overflows", fname, name);
        uint64_t nbits = numel * (uint64_t)bits;
        if (nbits % 8)
            FAIL(SWACL_FORMAT, "%s: tensor '%s': %s data is not a whole number of bytes", fname,
                 name, e->dtype_str);
        uint64_t b, en;
        if (!json_uint(of->child, &b) || !json_uint(of->child->next, &en))
            FAIL(SWACL_FORMAT, "%s: tensor '%s': data_offsets must be non-negative integers", fname,
                 name);
        if (b > en)
            FAIL(SWACL_FORMAT, "%s: tensor '%s': data_offsets begin %llu > end %llu", fname, name,
                 (unsigned long long)b, (unsigned long long)en);
        if (en > f.data_len)
            FAIL(SWACL_FORMAT,
                 "%s: tensor '%s': data_offsets [%llu, %llu] outside the data buffer (%llu bytes; "
                 "truncated file?)",
                 fname, name, (unsigned long long)b, (unsigned long long)en,
                 (unsigned long long)f.data_len);
        if (en - b != nbits / 8)
            FAIL(SWACL_FORMAT,
                 "%s: tensor '%s': data_offsets span %llu bytes but shape x %s needs %llu", fname,
                 name, (unsigned long long)(en - b), e->dtype_str,
                 (unsigned long long)(nbits / 8));
        e->begin = b;
        e->end = en;
        e->name = malloc(strlen(name) + 1);
        if (!e->name) FAIL(SWACL_OUT_OF_MEMORY, "%s: out of memory", fname);
        strcpy(e->name, name);
        f.n++;
    }

    /* duplicates */
    qsort(f.e, (size_t)f.n, sizeof *f.e, cmp_name);
    for (int i = 1; i < f.n; i++)
        if (strcmp(f.e[i - 1].name, f.e[i].name) == 0)
            FAIL(SWACL_FORMAT, "%s: duplicate tensor name '%s'", fname, f.e[i].name);

    /* overlapping ranges (empty tensors occupy nothing) */
    order = malloc((size_t)(f.n ? f.n : 1) * sizeof *order);
    if (!order) FAIL(SWACL_OUT_OF_MEMORY, "%s: out of memory", fname);
    for (int i = 0; i < f.n; i++) order[i] = &f.e[i];
    qsort(order, (size_t)f.n, sizeof *order, cmp_range);
    const swacl_st_entry *prev = NULL;
    for (int i = 0; i < f.n; i++) {
        const swacl_st_entry *e = order[i];
        if (e->begin == e->end) continue;
        if (prev && e->begin < prev->end)
            FAIL(SWACL_FORMAT, "%s: tensors '%s' and '%s' have overlapping data ranges", fname,
                 prev->name, e->name);
        if (!prev || e->end > prev->end) prev = e;
    }

    free(order);
    cJSON_Delete(root);
    *out = f;
    return SWACL_OK;
fail:
    free(order);
    cJSON_Delete(root);
    swacl_st_free(&f);
    return status;
}

const swacl_st_entry *swacl_st_find(const swacl_st_file *f, const char *name)
{
    if (!f || !name) return NULL;
    int lo = 0, hi = f->n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(f->e[mid].name, name);
        if (c == 0) return &f->e[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return NULL;
}

swacl_status swacl_st_to_f32(const swacl_st_file *f, const swacl_st_entry *e, float *dst,
                             const char *fname, char *err, size_t err_len)
{
    if (!f || !e || !dst) return SWACL_INVALID_ARG;
    const uint8_t *p = f->data + e->begin;
    uint64_t n = e->numel;
    switch (e->dtype) {
    case SWACL_ST_F32:
        for (uint64_t i = 0; i < n; i++) {
            uint32_t v = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 |
                         (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24;
            memcpy(&dst[i], &v, 4);
        }
        return SWACL_OK;
    case SWACL_ST_F16:
        for (uint64_t i = 0; i < n; i++)
            dst[i] = swacl_f16_to_f32((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
        return SWACL_OK;
    case SWACL_ST_BF16:
        for (uint64_t i = 0; i < n; i++)
            dst[i] = swacl_bf16_to_f32((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
        return SWACL_OK;
    default:
        swacl_format_msg(err, err_len,
                         "%s: tensor '%s': unsupported dtype %s (swacl loads F32, F16 and BF16)",
                         fname ? fname : "(memory)", e->name, e->dtype_str);
        return SWACL_UNSUPPORTED;
    }
}
