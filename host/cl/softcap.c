/*
 * softcap.c - the soft-capping launcher (kernels_cl/softcap.cl).
 */
#include "cl/cl_ops.h"

#define ELT_LX 64 /* local size: kernels_cl/softcap.cl default */

swacl_status swacl_cl_op_softcap(swacl_backend *base, swacl_buf *y, float cap, size_t n)
{
    swacl_cl_be *be = (swacl_cl_be *)base;
    SWACL_FAIL_IF(base->ctx, !(cap > 0), SWACL_INVALID_ARG, "softcap: cap must be > 0 (got %g)",
                  (double)cap);
    if (n == 0) return SWACL_OK;
    SWACL_TRY(swacl_cl_check_buf(be, "softcap", "y", y, n));
    cl_kernel k;
    SWACL_TRY(swacl_cl_kernel(be, "softcap", "", "elt_softcap", &k));
    cl_ulong nn = n;
    swacl_karg a[] = {KA(y->mem), KA(cap), KA(nn)};
    SWACL_TRY(swacl_cl_set_args(be, k, a, 3));
    size_t g = swacl_round_up(n, ELT_LX), l = ELT_LX;
    return swacl_cl_launch(be, k, 1, &g, &l);
}
