/*
 * act.c - the FFN activation launcher (kernels_cl/act.cl): SwiGLU, GELU, tanh GeGLU.
 */
#include "cl/cl_ops.h"

#define ELT_LX 64 /* local size: kernels_cl/act.cl default */

swacl_status swacl_cl_op_act(swacl_backend *base, swacl_ffn kind, swacl_buf *out,
                             const swacl_buf *gate, const swacl_buf *up, size_t n)
{
    swacl_cl_be *be = (swacl_cl_be *)base;
    swacl_ctx *ctx = base->ctx;
    SWACL_FAIL_IF(ctx, (unsigned)kind > SWACL_FFN_GEGLU_TANH, SWACL_INVALID_ARG,
                  "act: unknown kind %d", (int)kind);
    if (n == 0) return SWACL_OK;
    SWACL_TRY(swacl_cl_check_buf(be, "act", "out", out, n));
    SWACL_TRY(swacl_cl_check_buf(be, "act", "gate", gate, n));
    cl_ulong nn = n;
    cl_kernel k;
    if (kind != SWACL_FFN_GELU) {
        SWACL_TRY(swacl_cl_check_buf(be, "act", "up", up, n));
        SWACL_TRY(swacl_cl_kernel(be, "act", "",
                                  kind == SWACL_FFN_SWIGLU ? "act_swiglu" : "act_geglu_tanh", &k));
        swacl_karg a[] = {KA(out->mem), KA(gate->mem), KA(up->mem), KA(nn)};
        SWACL_TRY(swacl_cl_set_args(be, k, a, 4));
    } else {
        SWACL_TRY(swacl_cl_kernel(be, "act", "", "act_gelu", &k));
        swacl_karg a[] = {KA(out->mem), KA(gate->mem), KA(nn)};
        SWACL_TRY(swacl_cl_set_args(be, k, a, 3));
    }
    /* a work-item per 8 elements */
    size_t g = swacl_round_up((n + 7) / 8, ELT_LX), l = ELT_LX;
    return swacl_cl_launch(be, k, 1, &g, &l);
}
