/*
 * npy.c - minimal NumPy .npy reader/writer for float32 C-order arrays
 * (format versions 1.0, 2.0, 3.0 read; 1.0 written). The header dict is
 * checked strictly: descr '<f4', fortran_order False, a shape tuple of 1..4
 * non-negative integers, and the data size must equal numel * 4.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/hf.h"

#define FAIL(st, ...)                                                        \
    do {                                                                     \
        swacl_format_msg(err, err_len, __VA_ARGS__);                         \
        return (st);                                                         \
    } while (0)

/* Find 'key': in the dict text; returns pointer after the colon. */
static const char *dict_value(const char *h, size_t n, const char *key)
{
    size_t kl = strlen(key);
    for (size_t i = 0; i + kl + 2 < n; i++) {
        if ((h[i] == '\'' || h[i] == '"') && memcmp(h + i + 1, key, kl) == 0 &&
            h[i + 1 + kl] == h[i]) {
            const char *p = h + i + kl + 2;
            while (p < h + n && *p == ' ') p++;
            if (p < h + n && *p == ':') {
                p++;
                while (p < h + n && *p == ' ') p++;
                return p;
            }
        }
    }
    return NULL;
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
    const char *h = (const char *)buf + hoff;
    const char *v = dict_value(h, hl, "descr");
    if (!v || (size_t)(h + hl - v) < 5 || (memcmp(v, "'<f4'", 5) && memcmp(v, "\"<f4\"", 5)))
        FAIL(SWACL_FORMAT, "%s: .npy dtype must be float32 little-endian ('<f4')", fname);
    v = dict_value(h, hl, "fortran_order");
    if (!v || (size_t)(h + hl - v) < 5 || memcmp(v, "False", 5))
        FAIL(SWACL_FORMAT, "%s: .npy must be C order (fortran_order False)", fname);
    v = dict_value(h, hl, "shape");
    if (!v || v >= h + hl || *v != '(') FAIL(SWACL_FORMAT, "%s: .npy header has no shape tuple", fname);
    v++;
    int nd = 0;
    uint64_t numel = 1;
    for (;;) {
        while (v < h + hl && *v == ' ') v++;
        if (v >= h + hl) FAIL(SWACL_FORMAT, "%s: .npy shape tuple not closed", fname);
        if (*v == ')') break;
        if (!isdigit((unsigned char)*v)) FAIL(SWACL_FORMAT, "%s: bad .npy shape entry", fname);
        uint64_t x = 0;
        while (v < h + hl && isdigit((unsigned char)*v)) {
            if (x > (UINT64_MAX - 9) / 10) FAIL(SWACL_FORMAT, "%s: .npy dimension too large", fname);
            x = x * 10 + (uint64_t)(*v - '0');
            v++;
        }
        if (nd == SWACL_NPY_MAX_DIMS)
            FAIL(SWACL_FORMAT, "%s: .npy has more than %d dimensions", fname, SWACL_NPY_MAX_DIMS);
        if (x > (uint64_t)INT32_MAX || (x && numel > (UINT64_MAX / 4) / x))
            FAIL(SWACL_FORMAT, "%s: .npy shape too large", fname);
        numel *= x;
        shape[nd++] = (int64_t)x;
        while (v < h + hl && *v == ' ') v++;
        if (v < h + hl && *v == ',') v++;
    }
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
    SWACL_TRY(swacl_read_file(path, &buf, &len, err, err_len));
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
