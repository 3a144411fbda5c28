/*
 * softcap.c - reference logit soft-capping (Gemma 2).
 */
#include <math.h>

#include "ref/ref_internal.h"

/* y[i] = cap * tanh(y[i] / cap): the division first, as transformers does */
swacl_status swacl_ref_softcap(swacl_backend *be, swacl_buf *y, float cap, size_t n)
{
    SWACL_FAIL_IF(be->ctx, !(cap > 0), SWACL_INVALID_ARG, "ref softcap: cap must be > 0 (got %g)",
                  (double)cap);
    SWACL_TRY(swacl_ref_need(be, "softcap", "y", y, n));
    float *Y = fdata(y);
    for (size_t i = 0; i < n; i++) Y[i] = (float)(cap * tanh((double)(Y[i] / cap)));
    return SWACL_OK;
}
