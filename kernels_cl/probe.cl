/* probe.cl - clpeak-style device peak probes for `swacl bench` (docs/PERF.md 5).
 *
 *   probe_fma4 / probe_fma8: four independent pairs of mad chains per
 *     work-item (x = y*x + y; y = x*y + x), 16 mads per loop trip, float4 /
 *     float8 lanes: FLOPs per work-item = iters * 16 * 2 * width.
 *   probe_copy4: out[i] = in[i] over float4: bytes = 2 * 16 * n.
 * Values overflow to inf quickly; inf/NaN cost nothing extra on CPUs and
 * GPUs (only denormals would), and the result is stored so nothing is dead. */

/* Four independent (x, y) chain pairs per work-item, so the probe is bound
 * by FMA throughput rather than latency even when a CPU runtime maps one
 * work-item to one SIMD lane group; 16 mads per loop trip in total. */
#define PROBE_STEP(x, y) x = mad(y, x, y); y = mad(x, y, x);
#define PROBE_BODY                                                           \
    for (int i = 0; i < iters; i++) {                                        \
        PROBE_STEP(x0, y0) PROBE_STEP(x1, y1) PROBE_STEP(x2, y2) PROBE_STEP(x3, y3) \
        PROBE_STEP(x0, y0) PROBE_STEP(x1, y1) PROBE_STEP(x2, y2) PROBE_STEP(x3, y3) \
    }

__kernel void probe_fma4(__global float *out, float a, int iters)
{
    size_t gid = get_global_id(0);
    float4 x0 = (float4)(a, a + 0.1f, a + 0.2f, a + 0.3f), x1 = x0 + 0.01f, x2 = x0 + 0.02f,
           x3 = x0 + 0.03f;
    float4 y0 = (float4)((float)gid * 1e-6f), y1 = y0 + 0.5f, y2 = y0 + 0.25f, y3 = y0 + 0.75f;
    PROBE_BODY
    float4 s = (x0 + y0) + (x1 + y1) + (x2 + y2) + (x3 + y3);
    out[gid] = s.s0 + s.s1 + s.s2 + s.s3;
}

__kernel void probe_fma8(__global float *out, float a, int iters)
{
    size_t gid = get_global_id(0);
    float8 x0 = (float8)(a, a + 0.1f, a + 0.2f, a + 0.3f, a + 0.4f, a + 0.5f, a + 0.6f, a + 0.7f);
    float8 x1 = x0 + 0.01f, x2 = x0 + 0.02f, x3 = x0 + 0.03f;
    float8 y0 = (float8)((float)gid * 1e-6f), y1 = y0 + 0.5f, y2 = y0 + 0.25f, y3 = y0 + 0.75f;
    PROBE_BODY
    float8 s = (x0 + y0) + (x1 + y1) + (x2 + y2) + (x3 + y3);
    float4 t = s.lo + s.hi;
    out[gid] = t.s0 + t.s1 + t.s2 + t.s3;
}

__kernel void probe_copy4(__global const float4 *in, __global float4 *out)
{
    size_t gid = get_global_id(0);
    out[gid] = in[gid];
}
