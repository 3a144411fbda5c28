/*
 * npy.c - minimal NumPy .npy reader/writer for float32 C-order arrays
 * (format versions 1.0, 2.0, 3.0 read; 1.0 written). The header dict is
 * parsed as numpy does (a Python literal with exactly the keys descr,
 * fortran_order and shape, each once): descr '<f4', fortran_order False, a
 * shape tuple of 1..4 non-negative integers, and the data size must equal
 * numel * 4.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/file.h"
#include "model/hf.h"

#define FAIL(st, ...)                                                        \
    do {                                                                     \
        swacl_format_msg(err, err_len, __VA_ARGS__);                         \
        return (st);                                                         \
    } while (0)

/* The header is a Python dict literal; numpy reads it with ast.literal_eval
 * and wants exactly the keys descr, fortran_order and shape. It is parsed
 * here as tokens (no substring search: a key name inside a string value is
 * not a key), each key once, nothing else. */
typedef struct {
    const char *p, *e;
} lex;

static void skip_ws(lex *L)
{
    while (L->p < L->e && (*L->p == ' ' || *L->p == '\t' || *L->p == '\n' || *L->p == '\r'))
        L->p++;
}

static int take(lex *L, char c)
{
    skip_ws(L);
    if (L->p < L->e && *L->p == c) {
        L->p++;
        return 1;
    }
    return 0;
}

/* A quoted string without escapes (numpy never writes any). */
static int str_lit(lex *L, const char **s, size_t *n)
{
    skip_ws(L);
    if (L->p >= L->e || (*L->p != '\'' && *L->p != '"')) return 0;
    char q = *L->p++;
    const char *b = L->p;
    while (L->p < L->e && *L->p != q) {
        if (*L->p == '\\' || *L->p == '\n') return 0;
        L->p++;
    }
    if (L->p >= L->e) return 0;
    *s = b;
    *n = (size_t)(L->p - b);
    L->p++;
    return 1;
}

static int word(lex *L, const char *w)
{
    skip_ws(L);
    size_t n = strlen(w);
    if ((size_t)(L->e - L->p) < n || memcmp(L->p, w, n) != 0) return 0;
    if (L->p + n < L->e && (isalnum((unsigned char)L->p[n]) || L->p[n] == '_')) return 0;
    L->p += n;
    return 1;
}

static int is_key(const char *s, size_t n, const char *k)
{
    return n == strlen(k) && memcmp(s, k, n) == 0;
}

swacl_status swacl_npy_parse_f32(const uint8_t *buf, size_t len, const char *fname, float **data,
                                 int *ndim, int64_t shape[SWACL_NPY_MAX_DIMS], char *err,
                                 size_t err_len)
{
    *data = NULL;
    *ndim = 0;
    if (!fname) fname = "(memory)";
    if (len < 10 || memcmp(buf, "\x93NUMPY", 6) != 0)
        FAIL(SWACL_FORMAT, "%s: not a .npy file (bad magic)", fname);
    int major = buf[6];
    size_t hl, hoff;
    if (major == 1) {
        hl = (size_t)buf[8] | (size_t)buf[9] << 8;
        hoff = 10;
    } else if (major == 2 || major == 3) {
        if (len < 12) FAIL(SWACL_FORMAT, "%s: truncated .npy header", fname);
        hl = (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 | (size_t)buf[11] << 24;
        hoff = 12;
    } else {
        FAIL(SWACL_FORMAT, "%s: unsupported .npy version %d", fname, major);
    }
    if (hl > len - hoff) FAIL(SWACL_FORMAT, "%s: truncated .npy header", fname);
    lex L = {(const char *)buf + hoff, (const char *)buf + hoff + hl};
    int seen_descr = 0, seen_fo = 0, seen_shape = 0, nd = 0;
    uint64_t numel = 1;
    if (!take(&L, '{')) FAIL(SWACL_FORMAT, "%s: .npy header is not a dict", fname);
    while (!take(&L, '}')) {
        const char *k;
        size_t kn;
        if (!str_lit(&L, &k, &kn)) FAIL(SWACL_FORMAT, "%s: .npy header: expected a quoted key", fname);
        if (!take(&L, ':')) FAIL(SWACL_FORMAT, "%s: .npy header: expected ':' after a key", fname);
        if (is_key(k, kn, "descr")) {
            const char *v;
            size_t vn;
            if (seen_descr++) FAIL(SWACL_FORMAT, "%s: .npy header repeats 'descr'", fname);
            if (!str_lit(&L, &v, &vn) || !is_key(v, vn, "<f4"))
                FAIL(SWACL_FORMAT, "%s: .npy dtype must be float32 little-endian ('<f4')", fname);
        } else if (is_key(k, kn, "fortran_order")) {
            if (seen_fo++) FAIL(SWACL_FORMAT, "%s: .npy header repeats 'fortran_order'", fname);
            if (!word(&L, "False"))
                FAIL(SWACL_FORMAT, "%s: .npy must be C order (fortran_order False)", fname);
        } else if (is_key(k, kn, "shape")) {
            if (seen_shape++) FAIL(SWACL_FORMAT, "%s: .npy header repeats 'shape'", fname);
            if (!take(&L, '(')) FAIL(SWACL_FORMAT, "%s: .npy header has no shape tuple", fname);
            int comma = 0;
            while (!take(&L, ')')) {
                if (nd > 0 && !comma)
                    FAIL(SWACL_FORMAT, "%s: .npy shape entries must be separated by commas", fname);
                skip_ws(&L);
                if (L.p >= L.e || !isdigit((unsigned char)*L.p))
                    FAIL(SWACL_FORMAT, "%s: bad .npy shape entry", fname);
                if (*L.p == '0' && L.p + 1 < L.e && isdigit((unsigned char)L.p[1]))
                    FAIL(SWACL_FORMAT, "%s: bad .npy shape entry (leading zero)", fname);
                uint64_t x = 0;
                while (L.p < L.e && isdigit((unsigned char)*L.p)) {
                    if (x > (UINT64_MAX - 9) / 10)
                        FAIL(SWACL_FORMAT, "%s: .npy dimension too large", fname);
                    x = x * 10 + (uint64_t)(*L.p - '0');
                    L.p++;
                }
                if (L.p < L.e && (isalpha((unsigned char)*L.p) || *L.p == '_' || *L.p == '.'))
                    FAIL(SWACL_FORMAT, "%s: bad .npy shape entry", fname);
                if (nd == SWACL_NPY_MAX_DIMS)
                    FAIL(SWACL_FORMAT, "%s: .npy has more than %d dimensions", fname,
                         SWACL_NPY_MAX_DIMS);
                if (x > (uint64_t)INT32_MAX || (x && numel > (UINT64_MAX / 4) / x))
                    FAIL(SWACL_FORMAT, "%s: .npy shape too large", fname);
                numel *= x;
                shape[nd++] = (int64_t)x;
                comma = take(&L, ',');
            }
            /* "(3)" is the integer 3 in Python, not a tuple: numpy refuses it */
            if (nd == 1 && !comma)
                FAIL(SWACL_FORMAT, "%s: .npy shape (%lld) is not a tuple (a 1-D shape is written "
                     "(%lld,))", fname, (long long)shape[0], (long long)shape[0]);
        } else {
            FAIL(SWACL_FORMAT, "%s: .npy header has an unexpected key '%.*s'", fname,
                 (int)(kn > 40 ? 40 : kn), k);
        }
        if (take(&L, ',')) continue;
        if (!take(&L, '}')) FAIL(SWACL_FORMAT, "%s: .npy header: expected ',' or '}'", fname);
        break;
    }
    skip_ws(&L);
    if (L.p != L.e) FAIL(SWACL_FORMAT, "%s: .npy header: bytes after the dict", fname);
    if (!seen_descr)
        FAIL(SWACL_FORMAT, "%s: .npy dtype must be float32 little-endian ('<f4')", fname);
    if (!seen_fo) FAIL(SWACL_FORMAT, "%s: .npy must be C order (fortran_order False)", fname);
    if (!seen_shape) FAIL(SWACL_FORMAT, "%s: .npy header has no shape tuple", fname);
    if (nd == 0) FAIL(SWACL_FORMAT, "%s: .npy scalar arrays are not supported", fname);
    size_t doff = hoff + hl;
    if ((uint64_t)(len - doff) != numel * 4)
        FAIL(SWACL_FORMAT, "%s: .npy data is %zu bytes but the shape needs %llu", fname, len - doff,
             (unsigned long long)(numel * 4));
    float *d = malloc((size_t)(numel ? numel : 1) * sizeof *d);
    if (!d) FAIL(SWACL_OUT_OF_MEMORY, "%s: out of memory", fname);
    const uint8_t *p = buf + doff;
    for (uint64_t i = 0; i < numel; i++) {
        uint32_t u = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 | (uint32_t)p[4 * i + 2] << 16 |
                     (uint32_t)p[4 * i + 3] << 24;
        memcpy(&d[i], &u, 4);
    }
    *data = d;
    *ndim = nd;
    return SWACL_OK;
}

swacl_status swacl_npy_read_f32(const char *path, float **data, int *ndim,
                                int64_t shape[SWACL_NPY_MAX_DIMS], char *err, size_t err_len)
{
    uint8_t *buf;
    size_t len;
    *data = NULL;
    SWACL_TRY(swacl_file_read_msg(path, SWACL_FILE_MAX_NPY, &buf, &len, err, err_len));
    swacl_status st = swacl_npy_parse_f32(buf, len, path, data, ndim, shape, err, err_len);
    free(buf);
    return st;
}

swacl_status swacl_npy_write_f32(const char *path, const float *data, int ndim,
                                 const int64_t *shape, char *err, size_t err_len)
{
    if (ndim < 1 || ndim > SWACL_NPY_MAX_DIMS) FAIL(SWACL_INVALID_ARG, "npy: bad ndim %d", ndim);
    char dict[256];
    int n = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    uint64_t numel = 1;
    for (int d = 0; d < ndim; d++) {
        n += snprintf(dict + n, sizeof dict - (size_t)n, "%lld,%s", (long long)shape[d],
                      d + 1 < ndim ? " " : "");
        numel *= (uint64_t)shape[d];
    }
    n += snprintf(dict + n, sizeof dict - (size_t)n, "), }");
    /* total header (10 + dict + padding + '\n') a multiple of 64 */
    size_t total = ((size_t)10 + (size_t)n + 1 + 63) / 64 * 64;
    size_t hl = total - 10;
    uint8_t pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (uint8_t)hl, (uint8_t)(hl >> 8)};
    FILE *f = fopen(path, "wb");
    if (!f) FAIL(SWACL_IO, "cannot create %s: %s", path, strerror(errno));
    int ok = fwrite(pre, 1, 10, f) == 10 && fwrite(dict, 1, (size_t)n, f) == (size_t)n;
    for (size_t i = 10 + (size_t)n; ok && i < total - 1; i++) ok = fputc(' ', f) != EOF;
    ok = ok && fputc('\n', f) != EOF;
    for (uint64_t i = 0; ok && i < numel; i++) {
        uint32_t u;
        memcpy(&u, &data[i], 4);
        uint8_t b[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16), (uint8_t)(u >> 24)};
        ok = fwrite(b, 1, 4, f) == 4;
    }
    if (fclose(f) != 0) ok = 0;
    if (!ok) FAIL(SWACL_IO, "write error on %s", path);
    return SWACL_OK;
}
