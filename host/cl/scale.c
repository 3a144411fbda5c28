/*
 * scale.c - the in-place scale launcher (kernels_cl/scale.cl).
 */
#include "cl/cl_ops.h"

#define ELT_LX 64 /* local size: kernels_cl/scale.cl default */

swacl_status swacl_cl_op_scale(swacl_backend *base, swacl_buf *y, float s, size_t n)
{
    swacl_cl_be *be = (swacl_cl_be *)base;
    if (n == 0) return SWACL_OK;
    SWACL_TRY(swacl_cl_check_buf(be, "scale", "y", y, n));
    cl_kernel k;
    SWACL_TRY(swacl_cl_kernel(be, "scale", "", "elt_scale", &k));
    cl_ulong nn = n;
    swacl_karg a[] = {KA(y->mem), KA(s), KA(nn)};
    SWACL_TRY(swacl_cl_set_args(be, k, a, 3));
    size_t g = swacl_round_up(n, ELT_LX), l = ELT_LX;
    return swacl_cl_launch(be, k, 1, &g, &l);
}
