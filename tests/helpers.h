/*
 * helpers.h - shared by every Criterion test: seeded inputs, comparison
 * against the reference (NaN/inf rules, NMSE, elementwise atol + rtol), and
 * context creation that skips (or fails, with SWACL_REQUIRE_DEVICE=1) when
 * no OpenCL device is present.
 */
#ifndef SWACL_TEST_HELPERS_H
#define SWACL_TEST_HELPERS_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"
#include "ops/op_cases.h"

typedef struct {
    double nmse;        /* sum (a-r)^2 / sum r^2                              */
    double max_abs;     /* max |a - r|                                        */
    size_t worst;       /* index of max_abs                                   */
    size_t n_bad;       /* elements over atol + rtol*|r|                      */
    size_t first_bad;   /* first such index (or n)                            */
    int nonfinite;      /* a NaN/inf where the reference is finite (or v.v.)  */
} cmp_result;

/* Compare got against ref (n elements): swacl_compare, plus the first
 * offending index and the non-finite rule (matching infinities pass). */
cmp_result cmp_arrays(const float *got, const float *ref, size_t n, double atol, double rtol);

/* Criterion-assert that cmp passes: no non-finite mismatch, nmse <= max_nmse,
 * no element over atol + rtol*|ref|. `what` names the case in the message. */
void expect_close(const char *what, const float *got, const float *ref, size_t n, double atol,
                  double rtol, double max_nmse);

/* Uniform [-scale, scale) floats from a seed (swacl_op_fill_uniform: the
 * op-case runner draws its inputs the same way). */
void fill_uniform(float *x, size_t n, uint64_t seed, float scale);

/* Context on the default OpenCL device (test skipped when none, unless
 * SWACL_REQUIRE_DEVICE=1 where it fails), or the reference. */
swacl_ctx *test_cl_ctx(void);
/* The same with kernel variants / launch shapes forced (swacl_ctx_params.kernels). */
swacl_ctx *test_cl_ctx_kernels(const swacl_kernel_params *k);
swacl_ctx *test_ref_ctx(void);

/* Upload n floats into a new buffer of backend be (Criterion-asserts OK). */
swacl_buf *test_upload(swacl_backend *be, const float *x, size_t n);
/* Allocate n floats (zero-filled) on be. */
swacl_buf *test_alloc(swacl_backend *be, size_t n);
/* Read n floats back into a malloc'd array. */
float *test_download(swacl_backend *be, const swacl_buf *b, size_t n);

#endif
