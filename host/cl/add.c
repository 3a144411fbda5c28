/*
 * add.c - the residual add launcher (kernels_cl/add.cl).
 */
#include "cl/cl_ops.h"

#define ELT_LX 64 /* local size: kernels_cl/add.cl default */

swacl_status swacl_cl_op_add(swacl_backend *base, swacl_buf *y, const swacl_buf *x, size_t n)
{
    swacl_cl_be *be = (swacl_cl_be *)base;
    if (n == 0) return SWACL_OK;
    SWACL_TRY(swacl_cl_check_buf(be, "add", "y", y, n));
    SWACL_TRY(swacl_cl_check_buf(be, "add", "x", x, n));
    cl_kernel k;
    SWACL_TRY(swacl_cl_kernel(be, "add", "", "elt_add", &k));
    cl_ulong nn = n;
    swacl_karg a[] = {KA(y->mem), KA(x->mem), KA(nn)};
    SWACL_TRY(swacl_cl_set_args(be, k, a, 3));
    size_t g = swacl_round_up(n, ELT_LX), l = ELT_LX;
    return swacl_cl_launch(be, k, 1, &g, &l);
}
