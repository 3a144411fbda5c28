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
 * Two kernels (docs/PERF.md 3.2): rope_table writes cs[r*nhalf + i] =
 * (mscale cos a, mscale sin a) for every row and pair; rope_apply_tab
 * rotates the heads of a row with it. The host keeps the last tables
 * (host/cl/rope.c): one table serves q and k and every layer with the same
 * frequencies and positions, so the trigonometry runs once per step, not
 * per head and layer. On PoCL the old one-kernel form (a work-item per
 * pair, cos/sin per launch) ran at 0.03x the copy bandwidth.
 *
 * Precision: at p ~ 32768 the angle is ~3e4 rad, where one float ulp is
 * ~4e-3 rad, so a plain float angle cannot match the double reference to
 * 1e-5. The host computes inv_freq_i in double and passes it split as
 * float2 (hi, lo) with hi + lo == inv_freq_i to ~48 bits.
 *   - default: an exact float product p*hi (fma two-product) plus p*lo,
 *     reduced modulo 2*pi with a two-constant Cody-Waite step, then float
 *     cos/sin of the reduced angle (|error| ~1e-7 rad for p < 2^24).
 *   - -DROPE_FP64 with cl_khr_fp64: angle, cos and sin in double. Not the
 *     default: fp64 runs at 1/32 rate on many GPUs and scalar double sin/cos
 *     is slow on PoCL.
 */
#ifndef ROPE_LX
#define ROPE_LX 8
#endif

#if defined(cl_khr_fp64) && defined(ROPE_FP64)
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#define ROPE_USE_FP64 1
#endif

/* cos/sin of p * (hi + lo) for 8 pairs at once (float8 math vectorizes on
 * CPUs); the scalar tail uses the same code through float8 lanes. */
inline void rope_cos_sin8(int p, float8 hi, float8 lo, float8 *c, float8 *s)
{
#ifdef ROPE_USE_FP64
    const double8 a = (double)p * (convert_double8(hi) + convert_double8(lo));
    *c = convert_float8(cos(a));
    *s = convert_float8(sin(a));
#else
    const float pf = (float)p; /* exact for p < 2^24 */
    const float8 h = pf * hi;
    const float8 err = fma((float8)pf, hi, -h); /* h + err == pf*hi exactly */
    const float C1 = 6.28318548202514648f;     /* (float)(2 pi)         */
    const float C2 = -1.74845553146951714e-7f; /* 2 pi - C1             */
    const float8 kq = rint(h * 0.159154943091895336f);
    float8 r = fma(-kq, (float8)C1, h);
    r = fma(-kq, (float8)C2, r);
    r += err + pf * lo;
    *c = cos(r);
    *s = sin(r);
#endif
}

/* NDRange (ceil(rows/ROPE_LX)*ROPE_LX), local (ROPE_LX); meta int [B] = pos0;
 * inv_freq [nhalf] (hi, lo); cs [rows*nhalf] float2. One work-item per row. */
__kernel __attribute__((reqd_work_group_size(ROPE_LX, 1, 1)))
void rope_table(__global float2 *restrict cs, __global const int *restrict pos0,
                __global const float2 *restrict inv_freq, int rows, int T, int nhalf,
                float mscale)
{
    const int r = (int)get_global_id(0);
    if (r >= rows) return;
    const int p = pos0[r / T] + r % T;
    __global float *out = (__global float *)(cs + (size_t)r * nhalf);
    __global const float *f = (__global const float *)inv_freq;
    for (int i = 0; i < nhalf; i += 8) {
        float16 hl;
        if (i + 8 <= nhalf) {
            hl = vload16(0, f + 2 * i);
        } else { /* tail: unused lanes get frequency 0 */
            float tmp[16];
            for (int j = 0; j < 16; j++) tmp[j] = i + j / 2 < nhalf ? f[2 * i + j] : 0.0f;
            hl = vload16(0, tmp);
        }
        float8 c, s;
        rope_cos_sin8(p, hl.even, hl.odd, &c, &s);
        c *= mscale; /* YaRN attention factor; 1 otherwise */
        s *= mscale;
        const float16 o = (float16)(c.s0, s.s0, c.s1, s.s1, c.s2, s.s2, c.s3, s.s3, c.s4, s.s4,
                                    c.s5, s.s5, c.s6, s.s6, c.s7, s.s7);
        if (i + 8 <= nhalf) {
            vstore16(o, 0, out + 2 * i);
        } else {
            float tmp[16];
            vstore16(o, 0, tmp);
            for (int j = 0; 2 * i + j < 2 * nhalf; j++) out[2 * i + j] = tmp[j];
        }
    }
}

/* NDRange (ceil(rows/ROPE_LX)*ROPE_LX), local (ROPE_LX). One work-item per
 * row: for each block of 8 pairs the table is read once and applied to all
 * nh heads with float8 loads (float16 for PAIR, split into even/odd). */
__kernel __attribute__((reqd_work_group_size(ROPE_LX, 1, 1)))
void rope_apply_tab(__global float *restrict x, __global const float2 *restrict cs, int rows,
                    int nh, int d, int half_layout, int nhalf)
{
    const int r = (int)get_global_id(0);
    if (r >= rows) return;
    __global const float *t = (__global const float *)(cs + (size_t)r * nhalf);
    __global float *row = x + (size_t)r * nh * d;
    const int n8 = nhalf & ~7;
    for (int i = 0; i < n8; i += 8) {
        const float16 tv = vload16(0, t + 2 * i);
        const float8 c = tv.even, s = tv.odd;
        __global float *h = row;
        for (int hh = 0; hh < nh; hh++, h += d) {
            if (half_layout) {
                const float8 x0 = vload8(0, h + i), x1 = vload8(0, h + i + nhalf);
                vstore8(x0 * c - x1 * s, 0, h + i);
                vstore8(x1 * c + x0 * s, 0, h + i + nhalf);
            } else {
                const float16 v = vload16(0, h + 2 * i);
                const float8 x0 = v.even, x1 = v.odd;
                const float8 y0 = x0 * c - x1 * s, y1 = x1 * c + x0 * s;
                vstore16((float16)(y0.s0, y1.s0, y0.s1, y1.s1, y0.s2, y1.s2, y0.s3, y1.s3, y0.s4,
                                   y1.s4, y0.s5, y1.s5, y0.s6, y1.s6, y0.s7, y1.s7),
                         0, h + 2 * i);
            }
        }
    }
    for (int i = n8; i < nhalf; i++) { /* tail pairs */
        const float c = t[2 * i], s = t[2 * i + 1];
        const int i0 = half_layout ? i : 2 * i, i1 = half_layout ? i + nhalf : 2 * i + 1;
        __global float *h = row;
        for (int hh = 0; hh < nh; hh++, h += d) {
            const float x0 = h[i0], x1 = h[i1];
            h[i0] = x0 * c - x1 * s;
            h[i1] = x1 * c + x0 * s;
        }
    }
}
