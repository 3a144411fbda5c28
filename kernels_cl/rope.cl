/*
 * rope.cl - rotary position embedding, in place (docs/MODEL.md 1.3).
 *
 * Layout: x [B*T, nh*d], row r = b*T + t at position p = pos0[b] + t;
 * head hh occupies x[r*nh*d + hh*d .. + d-1]. Pair i (0 <= i < rot/2) is
 *   PAIR: (x[2i], x[2i+1])        HALF: (x[i], x[i + rot/2])
 * rotated by angle a = p * inv_freq_i (the host's table, every scaling
 * rule applied), cos and sin scaled by mscale (YaRN; 1 otherwise):
 *   x0' = x0*cos a - x1*sin a;  x1' = x1*cos a + x0*sin a.
 * Lanes rot..d-1 are left as they are (partial RoPE).
 *
 * Precision: at p ~ 32768 the angle is ~3e4 rad, where one float ulp is
 * ~4e-3 rad, so a plain float angle cannot match the double reference to
 * 1e-5. The host computes inv_freq_i in double and passes it split as
 * float2 (hi, lo) with hi + lo == inv_freq_i to ~48 bits.
 *   - default: an exact float product p*hi (fma two-product) plus p*lo,
 *     reduced modulo 2*pi with a two-constant Cody-Waite step, then float
 *     cos/sin of the reduced angle (|error| ~1e-7 rad for p < 2^24).
 *   - -DROPE_FP64 with cl_khr_fp64: angle, cos and sin in double. Not the
 *     default: fp64 runs at 1/32 rate on many GPUs, and on PoCL the scalar
 *     double sin/cos made RoPE the slowest kernel (0.3 GB/s).
 *
 * NDRange (ceil(d/2 / ROPE_LX)*ROPE_LX, 1, B*T), local (ROPE_LX, 1, 1);
 * meta int [B] = pos0. One work-item per pair index i of a row: cos/sin are
 * computed once and applied to every head of the row (nh rotations).
 */
#ifndef ROPE_LX
#define ROPE_LX 16
#endif

#if defined(cl_khr_fp64) && defined(ROPE_FP64)
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#define ROPE_USE_FP64 1
#endif

inline void rope_cos_sin(int p, float2 inv, float *c, float *s)
{
#ifdef ROPE_USE_FP64
    const double a = (double)p * ((double)inv.x + (double)inv.y);
    *c = (float)cos(a);
    *s = (float)sin(a);
#else
    const float pf = (float)p; /* exact for p < 2^24 */
    const float hi = pf * inv.x;
    const float err = fma(pf, inv.x, -hi); /* hi + err == pf*inv.x exactly */
    const float C1 = 6.28318548202514648f;   /* (float)(2 pi)         */
    const float C2 = -1.74845553146951714e-7f; /* 2 pi - C1            */
    const float kq = rint(hi * 0.159154943091895336f);
    float r = fma(-kq, C1, hi);
    r = fma(-kq, C2, r);
    r += err + pf * inv.y;
    *c = cos(r);
    *s = sin(r);
#endif
}

__kernel __attribute__((reqd_work_group_size(ROPE_LX, 1, 1)))
void rope_apply(__global float *restrict x, __global const int *restrict pos0,
                __global const float2 *restrict inv_freq, int T, int nh, int d, int half_layout,
                int rot, float mscale)
{
    const int i = (int)get_global_id(0);
    const int r = (int)get_global_id(2);
    const int nhalf = rot / 2; /* lanes >= rot pass through (partial RoPE) */
    if (i >= nhalf) return;
    const int b = r / T, t = r % T;
    float c, s;
    rope_cos_sin(pos0[b] + t, inv_freq[i], &c, &s);
    c *= mscale; /* YaRN attention factor; 1 otherwise */
    s *= mscale;
    const int i0 = half_layout ? i : 2 * i;
    const int i1 = half_layout ? i + nhalf : 2 * i + 1;
    __global float *row = x + (size_t)r * nh * d;
    for (int hh = 0; hh < nh; hh++, row += d) {
        const float x0 = row[i0], x1 = row[i1];
        row[i0] = x0 * c - x1 * s;
        row[i1] = x1 * c + x0 * s;
    }
}
