/*
 * attn.cl - banded (sliding-window / chunked / global causal) attention,
 * flash style: one pass over the keys with an online softmax, no score
 * matrix in memory.
 *
 * Contract (host/internal.h, swacl_attn_args; ARCH.md 1.4-1.6):
 *   query (b, t), t < n_new[b], sits at absolute position p = pos0[b] + t and
 *   sees the keys j in [lo(p), p] with
 *     GLOBAL lo = 0; WINDOW lo = max(0, p - W + 1); CHUNK lo = floor(p/C)*C.
 *   A key j >= pos0[b] is the new row b*T + (j - pos0[b]); a key j < pos0[b]
 *   is cache slot j % cap of sequence b. GQA: head h reads KV head
 *   h / (H / Hkv). q is multiplied by scale * s(p) before the dot product:
 *     LLAMA4    s = 1 + p1 * log(1 + floor((p + 1) / p0))
 *     LOG_RATIO s = max(1, log(p + 1) / log(p0))
 *
 * Layouts (float32, row-major, element offsets):
 *   q, out  [B*T, H*d]      q[(b*T + t)*H*d + h*d + c]
 *   k, v    [B*T, Hkv*d]    k[(b*T + t)*Hkv*d + g*d + c]
 *   kc, vc  [B, cap, Hkv*d] kc[(b*cap + j % cap)*Hkv*d + g*d + c]
 *   meta    int [2*B]       meta[b] = pos0[b], meta[B + b] = n_new[b]
 *
 * Work decomposition: NDRange (ceil(T/ATTN_BQ)*ATTN_BQ, H, B), local
 * (ATTN_BQ, 1, 1). A work-group owns ATTN_BQ consecutive queries of one
 * (b, h), one query per work-item, held in registers as float4 vectors
 * (HEAD_DIM/4 of them) together with its output accumulator and the
 * running max / sum of the online softmax. Because lo(p) is non-decreasing
 * in p, the keys any query of the tile needs lie in
 *   [lo(first query), last valid query]
 * (FlashAttention-2's n_block_min / n_block_max); the group walks exactly
 * that range in ATTN_BK-key tiles. Each tile of K and V is staged in
 * __local memory once and reused by all ATTN_BQ queries; keys outside a
 * query's own band get score -inf. Scores of one tile are kept in a private
 * array so the running max is rescaled once per tile, not once per key.
 *
 * Versions:
 *   v1  one work-item per query, keys read straight from global memory.
 *   v2  attn_fwd: query tiles + K/V tiles in local memory (reuse factor
 *       ATTN_BQ), float4 over the head dimension, band-limited tile range,
 *       per-tile online-softmax update. The default on every device.
 *   v3  attn_fwd_row: for CPU runtimes (PoCL). One work-item per query, no
 *       local memory and no barriers: PoCL turns every barrier region into
 *       work-item loops with "context arrays" for live private data
 *       (PERF.md 3), which v3 avoids entirely. Here a work-group is ATTN_ROW_LX consecutive queries of
 *       one (b, h) run back to back on one core, so the K/V rows of the
 *       window stay hot in L1/L2 and are reused through the cache instead
 *       of __local copies. Each query walks exactly its own keys [lo, p]
 *       (no masked waste except the last partial block) in blocks of
 *       ATTN_KB keys; dot products run 4 keys at a time with 4 independent
 *       float4 accumulators (breaks the FMA latency chain), and the online
 *       softmax rescales once per block.
 *       Measured on PoCL 3.1 (2 shared cores, L=8192, W=512, d=64, H=4):
 *       v2 7.1-7.8 GFLOP/s per core-second, v3 6.0-6.4; at d=128 they tie.
 *       objdump of PoCL's work-group functions shows both scalarized
 *       (vmulss/vaddss, almost no packed FMA): PoCL's loopvec vectorizes
 *       across work-items only when the work-item loop is innermost, and
 *       the head-dim loops here sit inside it. The host therefore uses v2
 *       everywhere; SWACL_ATTN_KERNEL=row selects v3 (kept and tested as
 *       the barrier-free variant for CPU runtimes that vectorize it).
 *   v4  (tried, removed) v2 with per-query arrays transposed in __local
 *       memory ([c][lane]) and barriers inside the uniform key / head-dim
 *       loops so PoCL's work-item loop becomes innermost: 2.4-2.9 GFLOP/s
 *       per core-second, slower than v2 (region overhead dominates).
 *
 * Tunables (the host passes them, it needs ATTN_BQ for the NDRange):
 *   HEAD_DIM  32, 64 or 128 (required, multiple of 4)
 *   ATTN_BQ   queries per work-group (= local size)
 *   ATTN_BK   keys per local-memory tile
 */
#ifndef HEAD_DIM
#error "attn.cl needs -DHEAD_DIM=<32|64|128>"
#endif
#ifndef ATTN_BQ
#define ATTN_BQ 16
#endif
#ifndef ATTN_BK
#define ATTN_BK 32
#endif

#ifndef ATTN_ROW_LX
#define ATTN_ROW_LX 8
#endif
#ifndef ATTN_KB
#define ATTN_KB 16 /* multiple of 4 */
#endif

#define ATTN_D4 (HEAD_DIM / 4)
/* finite stand-in for -inf (safe under -cl-finite-math-only) */
#define ATTN_NEG_BIG (-3.0e38f)

/* span kinds (swacl_span) and temperature rules (swacl_temp) */
#define ATTN_SPAN_GLOBAL 0
#define ATTN_SPAN_WINDOW 1
#define ATTN_SPAN_CHUNK 2
#define ATTN_TEMP_NONE 0
#define ATTN_TEMP_LLAMA4 1
#define ATTN_TEMP_LOG_RATIO 2

/* First key position a query at p may see. */
inline int attn_lo(int p, int span, int S)
{
    if (span == ATTN_SPAN_WINDOW) return max(0, p - S + 1);
    if (span == ATTN_SPAN_CHUNK) return (p / S) * S;
    return 0;
}

/* Query temperature s(p) (same float formulas as swacl_temp_factor). */
inline float attn_temp(int kind, float p0, float p1, int p)
{
    if (kind == ATTN_TEMP_LLAMA4)
        return 1.0f + p1 * log(1.0f + floor(((float)p + 1.0f) / p0));
    if (kind == ATTN_TEMP_LOG_RATIO)
        return fmax(1.0f, log((float)p + 1.0f) / log(p0));
    return 1.0f;
}

__kernel __attribute__((reqd_work_group_size(ATTN_BQ, 1, 1)))
void attn_fwd(__global const float *restrict q, __global const float *restrict k,
              __global const float *restrict v, __global const float *restrict kc,
              __global const float *restrict vc, __global const int *restrict meta,
              __global float *restrict out, int B, int T, int H, int Hkv, int cap,
              int span, int S, float scale, int temp, float temp_p0, float temp_p1)
{
    __local float4 Ks[ATTN_BK * ATTN_D4];
    __local float4 Vs[ATTN_BK * ATTN_D4];

    const int lid = (int)get_local_id(0);
    const int t0 = (int)get_group_id(0) * ATTN_BQ;
    const int h = (int)get_global_id(1);
    const int b = (int)get_global_id(2);
    const int t = t0 + lid;
    const int pos0 = meta[b];
    const int n_new = meta[B + b];
    if (t0 >= n_new) return; /* uniform over the group: before any barrier */

    const int g = h / (H / Hkv);
    const int qw = H * HEAD_DIM;  /* q / out row width */
    const int kw = Hkv * HEAD_DIM; /* k / v / cache row width */
    const int valid = t < n_new;
    const int p = pos0 + t;
    const int lo = valid ? attn_lo(p, span, S) : 0;

    /* the tile's key band */
    const int t_last = min(t0 + ATTN_BQ, n_new) - 1;
    const int band_lo = attn_lo(pos0 + t0, span, S);
    const int band_hi = pos0 + t_last;

    float4 qv[ATTN_D4];
    float4 acc[ATTN_D4];
    {
        const float qs = valid ? scale * attn_temp(temp, temp_p0, temp_p1, p) : 0.0f;
        __global const float4 *qrow =
            (__global const float4 *)(q + ((size_t)b * T + (valid ? t : t0)) * qw + h * HEAD_DIM);
        for (int c = 0; c < ATTN_D4; c++) {
            qv[c] = qrow[c] * qs;
            acc[c] = (float4)(0.0f);
        }
    }
    float m = ATTN_NEG_BIG, l = 0.0f;

    for (int kt = band_lo; kt <= band_hi; kt += ATTN_BK) {
        /* stage keys kt .. kt+ATTN_BK-1 (zeros past band_hi) */
        for (int e = lid; e < ATTN_BK * ATTN_D4; e += ATTN_BQ) {
            const int kk = e / ATTN_D4, c = e % ATTN_D4;
            const int j = kt + kk;
            float4 kx = (float4)(0.0f), vx = (float4)(0.0f);
            if (j <= band_hi) {
                size_t off;
                __global const float *ks, *vs;
                if (j >= pos0) {
                    off = ((size_t)b * T + (j - pos0)) * kw + g * HEAD_DIM;
                    ks = k;
                    vs = v;
                } else {
                    off = ((size_t)b * cap + (j % cap)) * kw + g * HEAD_DIM;
                    ks = kc;
                    vs = vc;
                }
                kx = vload4(c, ks + off);
                vx = vload4(c, vs + off);
            }
            Ks[e] = kx;
            Vs[e] = vx;
        }
        barrier(CLK_LOCAL_MEM_FENCE);

        if (valid) {
            const int k_lo = max(lo, kt) - kt;          /* first usable key in the tile */
            const int k_hi = min(p, kt + ATTN_BK - 1) - kt; /* last usable key */
            if (k_lo <= k_hi) {
                float sc[ATTN_BK];
                float mt = ATTN_NEG_BIG;
                for (int kk = 0; kk < ATTN_BK; kk++) {
                    float4 s4 = (float4)(0.0f);
                    for (int c = 0; c < ATTN_D4; c++) s4 += qv[c] * Ks[kk * ATTN_D4 + c];
                    float s = (s4.x + s4.y) + (s4.z + s4.w);
                    s = (kk >= k_lo && kk <= k_hi) ? s : ATTN_NEG_BIG;
                    sc[kk] = s;
                    mt = fmax(mt, s);
                }
                const float mn = fmax(m, mt);
                const float corr = exp(m - mn); /* 0 on the first tile (m = NEG_BIG) */
                l *= corr;
                for (int c = 0; c < ATTN_D4; c++) acc[c] *= corr;
                for (int kk = 0; kk < ATTN_BK; kk++) {
                    const float w = exp(sc[kk] - mn); /* masked: exp(NEG_BIG - mn) = 0 */
                    l += w;
                    for (int c = 0; c < ATTN_D4; c++) acc[c] += w * Vs[kk * ATTN_D4 + c];
                }
                m = mn;
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    if (valid) {
        const float inv = 1.0f / l; /* l >= 1: the diagonal key is always seen */
        __global float4 *orow =
            (__global float4 *)(out + ((size_t)b * T + t) * qw + h * HEAD_DIM);
        for (int c = 0; c < ATTN_D4; c++) orow[c] = acc[c] * inv;
    }
}

/* Row of key/value position j of sequence b, KV head g: new row or cache. */
inline size_t attn_kv_off(int j, int b, int g, int T, int pos0, int cap, int kw, int *from_cache)
{
    *from_cache = j < pos0;
    if (j >= pos0) return ((size_t)b * T + (j - pos0)) * kw + g * HEAD_DIM;
    return ((size_t)b * cap + (j % cap)) * kw + g * HEAD_DIM;
}

inline float attn_hsum(float4 a) { return (a.x + a.y) + (a.z + a.w); }

/* v3: NDRange (ceil(T/ATTN_ROW_LX)*ATTN_ROW_LX, H, B), local (ATTN_ROW_LX). */
__kernel __attribute__((reqd_work_group_size(ATTN_ROW_LX, 1, 1)))
void attn_fwd_row(__global const float *restrict q, __global const float *restrict k,
                  __global const float *restrict v, __global const float *restrict kc,
                  __global const float *restrict vc, __global const int *restrict meta,
                  __global float *restrict out, int B, int T, int H, int Hkv, int cap,
                  int span, int S, float scale, int temp, float temp_p0, float temp_p1)
{
    const int t = (int)get_global_id(0);
    const int h = (int)get_global_id(1);
    const int b = (int)get_global_id(2);
    const int pos0 = meta[b];
    if (t >= meta[B + b]) return;
    const int g = h / (H / Hkv);
    const int qw = H * HEAD_DIM, kw = Hkv * HEAD_DIM;
    const int p = pos0 + t;
    const int lo = attn_lo(p, span, S);

    float4 qv[ATTN_D4], acc[ATTN_D4];
    {
        const float qs = scale * attn_temp(temp, temp_p0, temp_p1, p);
        __global const float4 *qrow =
            (__global const float4 *)(q + ((size_t)b * T + t) * qw + h * HEAD_DIM);
        for (int c = 0; c < ATTN_D4; c++) {
            qv[c] = qrow[c] * qs;
            acc[c] = (float4)(0.0f);
        }
    }
    float m = ATTN_NEG_BIG, l = 0.0f;

    for (int j0 = lo; j0 <= p; j0 += ATTN_KB) {
        const int nk = min(ATTN_KB, p - j0 + 1);
        float sc[ATTN_KB];
        for (int kk = 0; kk < ATTN_KB; kk += 4) {
            __global const float4 *kr[4];
            for (int u = 0; u < 4; u++) {
                int fc;
                const int j = min(j0 + kk + u, p); /* past p: a valid row, masked below */
                const size_t off = attn_kv_off(j, b, g, T, pos0, cap, kw, &fc);
                kr[u] = (__global const float4 *)((fc ? kc : k) + off);
            }
            float4 a0 = (float4)(0.0f), a1 = a0, a2 = a0, a3 = a0;
            for (int c = 0; c < ATTN_D4; c++) {
                const float4 qc = qv[c];
                a0 = mad(qc, kr[0][c], a0);
                a1 = mad(qc, kr[1][c], a1);
                a2 = mad(qc, kr[2][c], a2);
                a3 = mad(qc, kr[3][c], a3);
            }
            sc[kk] = attn_hsum(a0);
            sc[kk + 1] = attn_hsum(a1);
            sc[kk + 2] = attn_hsum(a2);
            sc[kk + 3] = attn_hsum(a3);
        }
        float mt = ATTN_NEG_BIG;
        for (int kk = 0; kk < nk; kk++) mt = fmax(mt, sc[kk]);
        const float mn = fmax(m, mt);
        const float corr = exp(m - mn);
        l *= corr;
        for (int c = 0; c < ATTN_D4; c++) acc[c] *= corr;
        for (int kk = 0; kk < nk; kk++) {
            const float w = exp(sc[kk] - mn);
            int fc;
            const size_t off = attn_kv_off(j0 + kk, b, g, T, pos0, cap, kw, &fc);
            __global const float4 *vr = (__global const float4 *)((fc ? vc : v) + off);
            l += w;
            for (int c = 0; c < ATTN_D4; c++) acc[c] = mad((float4)(w), vr[c], acc[c]);
        }
        m = mn;
    }

    const float inv = 1.0f / l;
    __global float4 *orow = (__global float4 *)(out + ((size_t)b * T + t) * qw + h * HEAD_DIM);
    for (int c = 0; c < ATTN_D4; c++) orow[c] = acc[c] * inv;
}

