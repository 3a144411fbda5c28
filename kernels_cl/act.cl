/*
 * act.cl - FFN activations, elementwise over flat float arrays (element i
 * at [i]); one work-item per element, NDRange padded to a multiple of the
 * local size ELT_LX, every kernel guards i < n.
 *
 *   act_swiglu  out[i] = silu(gate[i]) * up[i], silu(g) = g / (1 + exp(-g))
 *   act_gelu    out[i] = 0.5 * g * (1 + erf(g / sqrt 2))   (exact erf GELU)
 *   act_geglu_tanh  out[i] = gelu_tanh(gate[i]) * up[i], gelu_tanh(g) =
 *               0.5 g (1 + tanh(sqrt(2/pi) (g + 0.044715 g^3)))  (Gemma)
 * out may alias gate (no restrict on those).
 */
#ifndef ELT_LX
#define ELT_LX 64
#endif

__kernel __attribute__((reqd_work_group_size(ELT_LX, 1, 1)))
void act_swiglu(__global float *out, __global const float *gate, __global const float *up,
                ulong n)
{
    const size_t i = get_global_id(0);
    if (i >= n) return;
    const float g = gate[i];
    out[i] = g / (1.0f + exp(-g)) * up[i];
}

__kernel __attribute__((reqd_work_group_size(ELT_LX, 1, 1)))
void act_gelu(__global float *out, __global const float *gate, ulong n)
{
    const size_t i = get_global_id(0);
    if (i >= n) return;
    const float g = gate[i];
    out[i] = 0.5f * g * (1.0f + erf(g * 0.70710678118654752f));
}

__kernel __attribute__((reqd_work_group_size(ELT_LX, 1, 1)))
void act_geglu_tanh(__global float *out, __global const float *gate, __global const float *up,
                    ulong n)
{
    const size_t i = get_global_id(0);
    if (i >= n) return;
    const float g = gate[i];
    const float t = tanh(0.79788456080286536f * (g + 0.044715f * g * g * g));
    out[i] = 0.5f * g * (1.0f + t) * up[i];
}
