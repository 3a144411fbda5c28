/*
 * scale.c - reference in-place scale.
 */
#include "ref/ref_internal.h"

/* y[i] *= s */
swacl_status swacl_ref_scale(swacl_backend *be, swacl_buf *y, float s, size_t n)
{
    SWACL_TRY(swacl_ref_need(be, "scale", "y", y, n));
    float *Y = fdata(y);
    for (size_t i = 0; i < n; i++) Y[i] *= s;
    return SWACL_OK;
}
