/*
 * act.cl - FFN activations, elementwise over flat float arrays (element i
 * at [i]):
 *
 *   act_swiglu  out[i] = silu(gate[i]) * up[i], silu(g) = g / (1 + exp(-g))
 *   act_gelu    out[i] = 0.5 * g * (1 + erf(g / sqrt 2))   (exact erf GELU)
 *   act_geglu_tanh  out[i] = gelu_tanh(gate[i]) * up[i], gelu_tanh(g) =
 *               0.5 g (1 + tanh(sqrt(2/pi) (g + 0.044715 g^3)))  (Gemma)
 * out may alias gate (no restrict on those).
 *
 * One work-item per 8 elements (float8 loads and float8 exp/erf/tanh; the
 * last item of a length not a multiple of 8 does its tail one by one),
 * NDRange ceil(ceil(n/8) / ELT_LX) * ELT_LX. On PoCL a work-item per
 * element left the transcendental scalar: 0.5x the copy bandwidth for
 * SwiGLU (docs/PERF.md 3.2).
 */
#ifndef ELT_LX
#define ELT_LX 64
#endif

#define ACT_SWIGLU(g, u) ((g) / (1.0f + exp(-(g))) * (u))
#define ACT_GELU(g) (0.5f * (g) * (1.0f + erf((g) * 0.70710678118654752f)))
#define ACT_GEGLU_TANH(g, u) \
    (0.5f * (g) * (1.0f + tanh(0.79788456080286536f * ((g) + 0.044715f * (g) * (g) * (g)))) * (u))

__kernel __attribute__((reqd_work_group_size(ELT_LX, 1, 1)))
void act_swiglu(__global float *out, __global const float *gate, __global const float *up,
                ulong n)
{
    const size_t i = get_global_id(0) * 8;
    if (i + 8 <= n) {
        const float8 g = vload8(0, gate + i), u = vload8(0, up + i);
        vstore8(ACT_SWIGLU(g, u), 0, out + i);
    } else {
        for (size_t j = i; j < n; j++) out[j] = ACT_SWIGLU(gate[j], up[j]);
    }
}

__kernel __attribute__((reqd_work_group_size(ELT_LX, 1, 1)))
void act_gelu(__global float *out, __global const float *gate, ulong n)
{
    const size_t i = get_global_id(0) * 8;
    if (i + 8 <= n) {
        const float8 g = vload8(0, gate + i);
        vstore8(ACT_GELU(g), 0, out + i);
    } else {
        for (size_t j = i; j < n; j++) out[j] = ACT_GELU(gate[j]);
    }
}

__kernel __attribute__((reqd_work_group_size(ELT_LX, 1, 1)))
void act_geglu_tanh(__global float *out, __global const float *gate, __global const float *up,
                    ulong n)
{
    const size_t i = get_global_id(0) * 8;
    if (i + 8 <= n) {
        const float8 g = vload8(0, gate + i), u = vload8(0, up + i);
        vstore8(ACT_GEGLU_TANH(g, u), 0, out + i);
    } else {
        for (size_t j = i; j < n; j++) out[j] = ACT_GEGLU_TANH(gate[j], up[j]);
    }
}
