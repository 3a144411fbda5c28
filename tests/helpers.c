/* helpers.c - see helpers.h. */
#include "helpers.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

cmp_result cmp_arrays(const float *got, const float *ref, size_t n, double atol, double rtol)
{
    swacl_compare_result s = swacl_compare(got, ref, n, atol, rtol);
    cmp_result c = {0};
    c.nmse = s.nmse;
    c.max_abs = s.max_abs_err;
    c.worst = s.worst;
    c.n_bad = s.n_bad;
    c.first_bad = n;
    if (s.n_bad == 0 && s.nonfinite == 0) return c;
    /* Only on failure: find the first offender for the message, and apply
     * the test rule for non-finite pairs that swacl_compare leaves to its
     * caller: inf must match in sign; NaN never passes (ggml's rule). */
    for (size_t i = 0; i < n; i++) {
        double a = got[i], r = ref[i];
        int bad;
        if (!isfinite(a) || !isfinite(r)) {
            bad = !(isinf(a) && isinf(r) && (a > 0) == (r > 0));
            c.nonfinite += bad;
        } else {
            bad = fabs(a - r) > atol + rtol * fabs(r);
        }
        if (bad && c.first_bad == n) c.first_bad = i;
    }
    return c;
}

void expect_close(const char *what, const float *got, const float *ref, size_t n, double atol,
                  double rtol, double max_nmse)
{
    cmp_result c = cmp_arrays(got, ref, n, atol, rtol);
    size_t fb = c.first_bad < n ? c.first_bad : 0;
    cr_assert(c.nonfinite == 0, "%s: %d non-finite mismatches (first at %zu: got %g ref %g)", what,
              c.nonfinite, fb, (double)got[fb], (double)ref[fb]);
    cr_assert(c.nmse <= max_nmse, "%s: nmse %.3e > %.1e (max_abs %.3e at %zu)", what, c.nmse,
              max_nmse, c.max_abs, c.worst);
    cr_assert(c.n_bad == 0,
              "%s: %zu of %zu elements over atol %.1e + rtol %.1e (first %zu: got %.7g ref %.7g; "
              "max_abs %.3e)",
              what, c.n_bad, n, atol, rtol, fb, (double)got[fb], (double)ref[fb], c.max_abs);
}

void fill_uniform(float *x, size_t n, uint64_t seed, float scale)
{
    swacl_op_fill_uniform(x, n, seed, scale);
}

static swacl_ctx *make_ctx(const char *device, int allow_skip, const swacl_kernel_params *k)
{
    swacl_ctx_params p = swacl_ctx_params_default();
    p.device = device;
    /* float32 KV caches: the fixtures compare against transformers' float
     * math; the f16 cache (the default for non-f32 weights) has its own
     * tests (test_quant kv_f16_*, the f16 rows of the op table) */
    p.kv_type = SWACL_WT_F32;
    if (k) p.kernels = *k;
    swacl_ctx *ctx = NULL;
    swacl_status st = swacl_ctx_create(&p, &ctx);
    if (st != SWACL_OK) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", ctx ? swacl_ctx_errmsg(ctx) : swacl_status_string(st));
        swacl_ctx_destroy(ctx);
        const char *req = getenv("SWACL_REQUIRE_DEVICE");
        if (allow_skip && st == SWACL_NO_DEVICE && !(req && req[0] == '1'))
            cr_skip_test("no OpenCL device: %s", msg);
        cr_assert_fail("context for '%s': %s", device ? device : "(default)", msg);
    }
    return ctx;
}

swacl_ctx *test_cl_ctx(void)
{
    const char *d = getenv("SWACL_TEST_DEVICE");
    return make_ctx(d && *d ? d : NULL, 1, NULL);
}

swacl_ctx *test_cl_ctx_kernels(const swacl_kernel_params *k)
{
    const char *d = getenv("SWACL_TEST_DEVICE");
    return make_ctx(d && *d ? d : NULL, 1, k);
}

swacl_ctx *test_ref_ctx(void) { return make_ctx("ref", 0, NULL); }

swacl_buf *test_alloc(swacl_backend *be, size_t n)
{
    swacl_buf *b = NULL;
    swacl_status st = be->iface->buf_alloc(be, n * sizeof(float) + (n == 0), &b);
    cr_assert(st == SWACL_OK, "buf_alloc(%zu floats): %s", n, swacl_ctx_errmsg(be->ctx));
    float *z = calloc(n ? n : 1, sizeof(float));
    if (n) be->iface->buf_write(be, b, 0, z, n * sizeof(float));
    free(z);
    return b;
}

swacl_buf *test_upload(swacl_backend *be, const float *x, size_t n)
{
    swacl_buf *b = test_alloc(be, n);
    swacl_status st = be->iface->buf_write(be, b, 0, x, n * sizeof(float));
    cr_assert(st == SWACL_OK, "buf_write: %s", swacl_ctx_errmsg(be->ctx));
    return b;
}

float *test_download(swacl_backend *be, const swacl_buf *b, size_t n)
{
    float *x = malloc((n ? n : 1) * sizeof(float));
    cr_assert(x != NULL);
    swacl_status st = be->iface->buf_read(be, b, 0, x, n * sizeof(float));
    cr_assert(st == SWACL_OK, "buf_read: %s", swacl_ctx_errmsg(be->ctx));
    return x;
}
