/*
 * act.cl - elementwise ops. Flat float arrays, element i at [i]; one
 * work-item per element, NDRange padded to a multiple of the local size
 * ELT_LX, every kernel guards i < n.
 *
 *   act_swiglu  out[i] = silu(gate[i]) * up[i], silu(g) = g / (1 + exp(-g))
 *   act_gelu    out[i] = 0.5 * g * (1 + erf(g / sqrt 2))   (exact erf GELU)
 *   elt_add     y[i] += x[i]
 *   elt_scale   y[i] *= s
 *   bias_rows   y [M, N]: y[r*N + c] = bias[c] (mode 0), += bias[c]
 *               (mode 1), = 0 (mode 0 without bias); NDRange (N padded, M)
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
void elt_add(__global float *y, __global const float *x, ulong n)
{
    const size_t i = get_global_id(0);
    if (i < n) y[i] += x[i];
}

__kernel __attribute__((reqd_work_group_size(ELT_LX, 1, 1)))
void elt_scale(__global float *y, float s, ulong n)
{
    const size_t i = get_global_id(0);
    if (i < n) y[i] *= s;
}

__kernel __attribute__((reqd_work_group_size(ELT_LX, 1, 1)))
void bias_rows(__global float *y, __global const float *bias, int M, int N, int mode,
               int has_bias)
{
    const int c = (int)get_global_id(0);
    const int r = (int)get_global_id(1);
    if (c >= N || r >= M) return;
    const float bv = has_bias ? bias[c] : 0.0f;
    __global float *yp = y + (size_t)r * N + c;
    if (mode) *yp += bv;
    else *yp = bv;
}
