/*
 * kv_store.cl - KV-cache append.
 *
 *   kv_store  cache [B, cap, width], src [B*T, width], meta int [2B]
 *             (pos0 then n_new): for t < n_new[b] with t >= n_new[b]-cap,
 *             cache[(b*cap + (pos0[b]+t) % cap)*width + c] =
 *             src[(b*T + t)*width + c]; NDRange (width padded to KV_LX, T, B),
 *             local (KV_LX, 1, 1). The t >= n_new - cap rule keeps only the
 *             newest cap rows, so no two work-items write the same slot.
 */
#ifndef KV_LX
#define KV_LX 64
#endif

__kernel __attribute__((reqd_work_group_size(KV_LX, 1, 1)))
void kv_store(__global float *restrict cache, __global const float *restrict src,
              __global const int *restrict meta, int B, int T, int cap, int width)
{
    const int c = (int)get_global_id(0);
    const int t = (int)get_global_id(1);
    const int b = (int)get_global_id(2);
    if (c >= width) return;
    const int n_new = meta[B + b];
    if (t >= n_new || t < n_new - cap) return;
    const int slot = (meta[b] + t) % cap;
    cache[((size_t)b * cap + slot) * width + c] = src[((size_t)b * T + t) * width + c];
}

/* kv_store_f16: kv_store into an f16 cache [B, cap, width] of halves,
 * rounded to nearest even (vstore_half_rte: core OpenCL, no cl_khr_fp16). */
__kernel __attribute__((reqd_work_group_size(KV_LX, 1, 1)))
void kv_store_f16(__global half *restrict cache, __global const float *restrict src,
                  __global const int *restrict meta, int B, int T, int cap, int width)
{
    const int c = (int)get_global_id(0);
    const int t = (int)get_global_id(1);
    const int b = (int)get_global_id(2);
    if (c >= width) return;
    const int n_new = meta[B + b];
    if (t >= n_new || t < n_new - cap) return;
    const int slot = (meta[b] + t) % cap;
    vstore_half_rte(src[((size_t)b * T + t) * width + c], ((size_t)b * cap + slot) * width + c, cache);
}

/* kv_to_half: hk[i] = k[i], hv[i] = v[i] for i < n, rounded as kv_store_f16
 * (the step's new rows as an f16 cache's attention reads them); NDRange n
 * padded to KV_LX. */
__kernel __attribute__((reqd_work_group_size(KV_LX, 1, 1)))
void kv_to_half(__global half *restrict hk, __global half *restrict hv,
                __global const float *restrict k, __global const float *restrict v, int n)
{
    const int i = (int)get_global_id(0);
    if (i >= n) return;
    vstore_half_rte(k[i], i, hk);
    vstore_half_rte(v[i], i, hv);
}
