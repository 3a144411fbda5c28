/*
 * act.c - reference FFN activations: SwiGLU, exact-erf GELU, tanh GeGLU.
 */
#include <math.h>

#include "ref/ref_internal.h"

/* SWIGLU: out = silu(g) * u, silu(g) = g / (1 + exp(-g));
 * GELU (exact): out = 0.5 * g * (1 + erf(g / sqrt(2)));
 * GEGLU_TANH: out = 0.5 g (1 + tanh(sqrt(2/pi) (g + 0.044715 g^3))) * u.
 * out may alias gate. */
swacl_status swacl_ref_act(swacl_backend *be, swacl_ffn kind, swacl_buf *out, const swacl_buf *gate,
                           const swacl_buf *up, size_t n)
{
    SWACL_FAIL_IF(be->ctx, (unsigned)kind > SWACL_FFN_GEGLU_TANH, SWACL_INVALID_ARG,
                  "ref act: unknown kind %d", (int)kind);
    const int gated = kind != SWACL_FFN_GELU;
    SWACL_TRY(swacl_ref_need(be, "act", "out", out, n));
    SWACL_TRY(swacl_ref_need(be, "act", "gate", gate, n));
    if (gated) SWACL_TRY(swacl_ref_need(be, "act", "up", up, n));
    float *Y = fdata(out);
    const float *G = fdata(gate), *U = up ? fdata(up) : NULL;
    const long long N = (long long)n;
#pragma omp parallel for schedule(static) num_threads(nthreads(be))
    for (long long i = 0; i < N; i++) {
        double g = G[i];
        if (kind == SWACL_FFN_SWIGLU)
            Y[i] = (float)(g / (1.0 + exp(-g)) * (double)U[i]);
        else if (kind == SWACL_FFN_GELU)
            Y[i] = (float)(0.5 * g * (1.0 + erf(g / sqrt(2.0))));
        else
            Y[i] = (float)(0.5 * g * (1.0 + tanh(0.79788456080286536 * (g + 0.044715 * g * g * g))) *
                           (double)U[i]);
    }
    return SWACL_OK;
}
