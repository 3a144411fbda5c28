/*
 * norm.cl - per-row RMSNorm and LayerNorm (docs/MODEL.md 1.2), float accumulation.
 *
 *   RMS    y = w * x / sqrt(mean(x^2) + eps)
 *   LAYER  y = w * (x - mu) / sqrt(mean((x - mu)^2) + eps) + b   (two passes)
 * w, b optional (flags has_w / has_b; the host passes x as a dummy buffer).
 * Layout: x, y [rows, n], row r at x[r*n .. r*n + n-1]; y may alias x.
 *
 * Two versions; the host picks one from its device-class parameter table
 * (host/cl/cl_params.c; swacl_ctx_params.kernels.norm overrides it):
 *   norm_row  one work-item per row, float8 loops, no barriers. PoCL CPU:
 *             barrier-free kernels avoid PoCL's per-barrier context-array
 *             cost (docs/PERF.md 3); NDRange (ceil(rows/NORM_ROW_LX)*NORM_ROW_LX).
 *   norm_wg   one work-group of NORM_WG items per row, strided partial sums
 *             and a local-memory tree reduction (GPUs); NDRange
 *             (rows*NORM_WG), local (NORM_WG).
 * Measured on PoCL 3.1 (LayerNorm with w and b, CPU ms per call, 2 shared
 * cores): rows 8192 x n 256: norm_row 5.5 vs norm_wg 12.9; 512 x 4096:
 * 6.1 vs 8.5; 16 x 4096: 0.18 vs 0.24. So CPU devices use norm_row.
 */
#ifndef NORM_WG
#define NORM_WG 64
#endif
#ifndef NORM_ROW_LX
#define NORM_ROW_LX 8
#endif

/* Sum of the 8 lanes of two float8 accumulators. */
inline float norm_hsum(float8 a, float8 b)
{
    const float8 s = a + b;
    const float4 q = s.lo + s.hi;
    return (q.s0 + q.s2) + (q.s1 + q.s3);
}

/* norm_row: the row in float8 blocks with two accumulators (a float sum
 * does not vectorize by itself: the compiler may not reorder it, and one
 * scalar chain ran at 0.3x the copy bandwidth on PoCL), the n % 8 tail
 * one by one. */
__kernel __attribute__((reqd_work_group_size(NORM_ROW_LX, 1, 1)))
void norm_row(__global float *y, __global const float *x, __global const float *w,
              __global const float *bias, int rows, int n, float eps, int layer, int has_w,
              int has_b)
{
    const int r = (int)get_global_id(0);
    if (r >= rows) return;
    __global const float *xr = x + (size_t)r * n;
    __global float *yr = y + (size_t)r * n;
    const int n8 = n & ~7, n16 = n & ~15;
    float mu = 0.0f;
    if (layer) {
        float8 a = 0.0f, b = 0.0f;
        int i = 0;
        for (; i < n16; i += 16) {
            a += vload8(0, xr + i);
            b += vload8(0, xr + i + 8);
        }
        if (i < n8) a += vload8(0, xr + i);
        float s = norm_hsum(a, b);
        for (i = n8; i < n; i++) s += xr[i];
        mu = s / (float)n;
    }
    float8 a = 0.0f, b = 0.0f;
    int i = 0;
    for (; i < n16; i += 16) {
        const float8 e0 = vload8(0, xr + i) - mu, e1 = vload8(0, xr + i + 8) - mu;
        a = fma(e0, e0, a);
        b = fma(e1, e1, b);
    }
    if (i < n8) {
        const float8 e0 = vload8(0, xr + i) - mu;
        a = fma(e0, e0, a);
    }
    float ss = norm_hsum(a, b);
    for (i = n8; i < n; i++) {
        const float e = xr[i] - mu;
        ss += e * e;
    }
    const float inv = 1.0f / sqrt(ss / (float)n + eps);
    for (i = 0; i < n8; i += 8) {
        float8 o = (vload8(0, xr + i) - mu) * inv;
        if (has_w) o *= vload8(0, w + i);
        if (has_b) o += vload8(0, bias + i);
        vstore8(o, 0, yr + i);
    }
    for (i = n8; i < n; i++) {
        float o = (xr[i] - mu) * inv;
        if (has_w) o *= w[i];
        if (has_b) o += bias[i];
        yr[i] = o;
    }
}

/* Sum of red[0..NORM_WG-1] (NORM_WG a power of two); every item gets it. */
inline float norm_wg_sum(__local float *red, float v)
{
    const int lid = (int)get_local_id(0);
    red[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = NORM_WG / 2; s > 0; s >>= 1) {
        if (lid < s) red[lid] += red[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float total = red[0];
    barrier(CLK_LOCAL_MEM_FENCE); /* red is reused by the next call */
    return total;
}

__kernel __attribute__((reqd_work_group_size(NORM_WG, 1, 1)))
void norm_wg(__global float *y, __global const float *x, __global const float *w,
             __global const float *bias, int rows, int n, float eps, int layer, int has_w,
             int has_b)
{
    __local float red[NORM_WG];
    const int r = (int)get_group_id(0);
    const int lid = (int)get_local_id(0);
    /* No early return for r >= rows: the host launches exactly rows groups,
     * and PoCL 3.1 miscompiles a (uniform) return ahead of the barriers in
     * norm_wg_sum (segfault for n < NORM_WG, found by the ops/norm_wg test). */
    __global const float *xr = x + (size_t)r * n;
    __global float *yr = y + (size_t)r * n;
    float mu = 0.0f;
    if (layer) {
        float s = 0.0f;
        for (int i = lid; i < n; i += NORM_WG) s += xr[i];
        mu = norm_wg_sum(red, s) / (float)n;
    }
    float ss = 0.0f;
    for (int i = lid; i < n; i += NORM_WG) {
        const float e = xr[i] - mu;
        ss += e * e;
    }
    const float inv = 1.0f / sqrt(norm_wg_sum(red, ss) / (float)n + eps);
    for (int i = lid; i < n; i += NORM_WG) {
        float o = (xr[i] - mu) * inv;
        if (has_w) o *= w[i];
        if (has_b) o += bias[i];
        yr[i] = o;
    }
}
