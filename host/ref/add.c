/*
 * add.c - reference residual add.
 */
#include "ref/ref_internal.h"

/* y[i] += x[i] */
swacl_status swacl_ref_add(swacl_backend *be, swacl_buf *y, const swacl_buf *x, size_t n)
{
    SWACL_TRY(swacl_ref_need(be, "add", "y", y, n));
    SWACL_TRY(swacl_ref_need(be, "add", "x", x, n));
    float *Y = fdata(y);
    const float *X = fdata(x);
    for (size_t i = 0; i < n; i++) Y[i] += X[i];
    return SWACL_OK;
}
