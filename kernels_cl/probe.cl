/* probe.cl - clpeak-style device peak probes for `swacl bench` (docs/PERF.md 5).
 *
 *   probe_fma4 / probe_fma8: sixteen independent mad chains per work-item,
 *     16 mads per loop trip, float4 / float8 lanes: FLOPs per work-item =
 *     iters * 16 * 2 * width.
 *   probe_copy4: out[i] = in[i] over float4: bytes = 2 * 16 * n.
 *   probe_copy64: the same copy, 64 contiguous floats per work-item (the
 *     granularity of swacl's float8 element-wise kernels).
 *   probe_update64: x[i] = x[i] * 0.5 + 0.25 in place, 64 floats per item:
 *     the in-place read + write pattern of RoPE and in-place activations.
 *     On a CPU a copy also reads the destination's lines before writing
 *     them (write-allocate), so an in-place pass can run ~1.3x a copy's
 *     counted bytes/s; the memory peak is the better of the two.
 * The result is stored, so nothing is dead code. */

/* Sixteen independent accumulator chains per work-item, acc = acc * m + c
 * with |m| < 1 (the values converge: no overflow, no denormals). FMA latency
 * is 4-5 cycles on x86 with two FMA pipes, so at least ~10 chains in flight
 * are needed to be throughput- rather than latency-bound; the old probe's
 * 4 dependent pairs read 2-3x below OpenBLAS sgemm. 16 float8 chains fill
 * the 16 AVX2 registers and reach sgemm's rate on the project machine. */
#define PROBE_CH(v) v = mad(v, m, c);
#define PROBE_BODY                                                           \
    for (int i = 0; i < iters; i++) {                                        \
        PROBE_CH(a0) PROBE_CH(a1) PROBE_CH(a2) PROBE_CH(a3) PROBE_CH(a4)      \
        PROBE_CH(a5) PROBE_CH(a6) PROBE_CH(a7) PROBE_CH(a8) PROBE_CH(a9)      \
        PROBE_CH(a10) PROBE_CH(a11) PROBE_CH(a12) PROBE_CH(a13) PROBE_CH(a14) \
        PROBE_CH(a15)                                                        \
    }
#define PROBE_DECL(T)                                                        \
    const T m = (T)(a * 0.75f), c = (T)(1.0f - a * 0.75f);                   \
    T a0 = (T)((float)get_global_id(0) * 1e-6f), a1 = a0 + 0.01f, a2 = a0 + 0.02f,    \
      a3 = a0 + 0.03f, a4 = a0 + 0.04f, a5 = a0 + 0.05f, a6 = a0 + 0.06f, a7 = a0 + 0.07f, \
      a8 = a0 + 0.08f, a9 = a0 + 0.09f, a10 = a0 + 0.10f, a11 = a0 + 0.11f,             \
      a12 = a0 + 0.12f, a13 = a0 + 0.13f, a14 = a0 + 0.14f, a15 = a0 + 0.15f;
#define PROBE_SUM                                                            \
    (((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))) +                    \
        (((a8 + a9) + (a10 + a11)) + ((a12 + a13) + (a14 + a15)))

/* a: host value in (0, 1.33) so that |m| < 1; 16 mads of `width` lanes per trip */
__kernel void probe_fma4(__global float *out, float a, int iters)
{
    PROBE_DECL(float4)
    PROBE_BODY
    float4 s = PROBE_SUM;
    out[get_global_id(0)] = s.s0 + s.s1 + s.s2 + s.s3;
}

__kernel void probe_fma8(__global float *out, float a, int iters)
{
    PROBE_DECL(float8)
    PROBE_BODY
    float8 s = PROBE_SUM;
    float4 t = s.lo + s.hi;
    out[get_global_id(0)] = t.s0 + t.s1 + t.s2 + t.s3;
}

__kernel void probe_copy4(__global const float4 *in, __global float4 *out)
{
    size_t gid = get_global_id(0);
    out[gid] = in[gid];
}

__kernel void probe_copy64(__global const float *in, __global float *out)
{
    const size_t o = get_global_id(0) * 64;
    for (int j = 0; j < 64; j += 16) vstore16(vload16(0, in + o + j), 0, out + o + j);
}

__kernel void probe_update64(__global float *x)
{
    const size_t o = get_global_id(0) * 64;
    for (int j = 0; j < 64; j += 16) vstore16(fma(vload16(0, x + o + j), 0.5f, 0.25f), 0, x + o + j);
}
