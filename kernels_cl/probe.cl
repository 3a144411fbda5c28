/* probe.cl - clpeak-style device peak probes for `swacl bench` (PERF.md 5).
 *
 *   probe_fma4 / probe_fma8: two interleaved mad chains per work-item
 *     (x = y*x + y; y = x*y + x), 16 mads per loop trip, float4 / float8
 *     lanes: FLOPs per work-item = iters * 16 * 2 * width.
 *   probe_copy4: out[i] = in[i] over float4: bytes = 2 * 16 * n.
 * Values overflow to inf quickly; inf/NaN cost nothing extra on CPUs and
 * GPUs (only denormals would), and the result is stored so nothing is dead. */

__kernel void probe_fma4(__global float *out, float a, int iters)
{
    size_t gid = get_global_id(0);
    float4 x = (float4)(a, a + 0.1f, a + 0.2f, a + 0.3f);
    float4 y = (float4)((float)gid * 1e-6f);
    for (int i = 0; i < iters; i++) {
        x = mad(y, x, y); y = mad(x, y, x); x = mad(y, x, y); y = mad(x, y, x);
        x = mad(y, x, y); y = mad(x, y, x); x = mad(y, x, y); y = mad(x, y, x);
        x = mad(y, x, y); y = mad(x, y, x); x = mad(y, x, y); y = mad(x, y, x);
        x = mad(y, x, y); y = mad(x, y, x); x = mad(y, x, y); y = mad(x, y, x);
    }
    float4 s = x + y;
    out[gid] = s.s0 + s.s1 + s.s2 + s.s3;
}

__kernel void probe_fma8(__global float *out, float a, int iters)
{
    size_t gid = get_global_id(0);
    float8 x = (float8)(a, a + 0.1f, a + 0.2f, a + 0.3f, a + 0.4f, a + 0.5f, a + 0.6f, a + 0.7f);
    float8 y = (float8)((float)gid * 1e-6f);
    for (int i = 0; i < iters; i++) {
        x = mad(y, x, y); y = mad(x, y, x); x = mad(y, x, y); y = mad(x, y, x);
        x = mad(y, x, y); y = mad(x, y, x); x = mad(y, x, y); y = mad(x, y, x);
        x = mad(y, x, y); y = mad(x, y, x); x = mad(y, x, y); y = mad(x, y, x);
        x = mad(y, x, y); y = mad(x, y, x); x = mad(y, x, y); y = mad(x, y, x);
    }
    float8 s = x + y;
    float4 t = s.lo + s.hi;
    out[gid] = t.s0 + t.s1 + t.s2 + t.s3;
}

__kernel void probe_copy4(__global const float4 *in, __global float4 *out)
{
    size_t gid = get_global_id(0);
    out[gid] = in[gid];
}
