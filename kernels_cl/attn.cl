/*
 * attn.cl - banded (sliding-window / chunked / global causal) attention,
 * flash style: one pass over the keys with an online softmax, no score
 * matrix in memory.
 *
 * Contract (host/internal.h, swacl_attn_args; docs/MODEL.md 1.4-1.6):
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
 *       (docs/PERF.md 3), which v3 avoids entirely. Here a work-group is ATTN_ROW_LX consecutive queries of
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
 *       the head-dim loops here sit inside it. The host therefore used v2
 *       everywhere (before v5); kernels.attn = ROW selects v3 (kept and tested as
 *       the barrier-free variant for CPU runtimes that vectorize it).
 *   v4  (tried, removed) v2 with per-query arrays transposed in __local
 *       memory ([c][lane]) and barriers inside the uniform key / head-dim
 *       loops so PoCL's work-item loop becomes innermost: 2.4-2.9 GFLOP/s
 *       per core-second, slower than v2 (region overhead dominates).
 *
 *   v5  attn_fwd_blk (below): explicit float8 over the head dimension,
 *       register-blocked like a GEMM micro-kernel (ATTN_QB query slots per
 *       work-item = positions x heads of one KV group, 2 slots x 4 keys of
 *       float8 FMAs for S, hadd-tree lane reduction, float8 exp, P V with
 *       2 x ATTN_QB float8 accumulators), no barriers / __local. Default on
 *       CPU devices. PoCL 3.1, 2 shared cores, d=64 H=4 Hkv=1, GFLOP per
 *       core-second (ratio to OpenBLAS sgemm n=1024 in the same run, 74.6):
 *         L=8192 W=512  v2 6.7 (0.09)  v3 8.5 (0.11)  v5 41.1 (0.55)
 *         L=8192 W=128  v2 5.5 (0.07)  v3 6.3 (0.08)  v5 34.5 (0.46)
 *         L=8192 W=4096 v2 6.9 (0.09)  v3 7.4 (0.10)  v5 38.4 (0.51)
 *         L=4096 global v2 7.7 (0.10)  v3 7.3 (0.10)  v5 34.2 (0.46)
 *       (QB=4, KT=32, local 1; QB=8 0.36-0.50, QB=2 ~0.35, KT=16/64 worse.)
 *       Two things mattered: fma() instead of mad() (PoCL lowers mad() to
 *       a separate mul + add) and #pragma unroll on the slot loops (else
 *       the P V accumulators live on the stack).
 *       attn_split_blk + attn_merge: split-K decode for T == 1 with long
 *       key ranges (host: > 1024 keys), on every device.
 *
 * Tunables (the host passes them, it needs ATTN_BQ for the NDRange):
 *   HEAD_DIM  any multiple of 4 from 4 to 256 (required): every kernel is
 *             built for the head_dim the model needs
 *   ATTN_BQ   queries per work-group (= local size)
 *   ATTN_BK   keys per local-memory tile (the host shrinks it as d grows:
 *             2 * BK * d floats of local memory, host/cl/cl_params.c)
 *   ATTN_KV_HALF  1: k, v, kc and vc hold f16 values (2 bytes), read with
 *             vload_half (core OpenCL: no cl_khr_fp16 needed); the host
 *             converts the step's new rows to f16 first (kv_to_half), so
 *             every key / value is seen rounded the same way.
 *   ATTN_SOFTCAP  1: every score s (after scale and temperature) becomes
 *             softcap * tanh(s / softcap) before the mask (Gemma 2); the
 *             cap is the kernels' `softcap` argument, unused otherwise, so
 *             the common build pays nothing for it.
 */
#ifndef HEAD_DIM
#error "attn.cl needs -DHEAD_DIM=<multiple of 4, 4..256>"
#endif
#if HEAD_DIM % 4 != 0 || HEAD_DIM < 4 || HEAD_DIM > 256
#error "attn.cl: HEAD_DIM must be a multiple of 4 from 4 to 256"
#endif
#ifndef ATTN_SOFTCAP
#define ATTN_SOFTCAP 0
#endif
#ifndef ATTN_KV_HALF
#define ATTN_KV_HALF 0
#endif
/* K / V element type and float4 access: ATTN_R4 turns a row pointer into
 * the row handle, ATTN_AT4(r, c) reads float4 c of it */
#if ATTN_KV_HALF
#define attn_kv_t half
#define ATTN_KV4(c, p) vload_half4((c), (p))
#define ATTN_R4_T __global const half *
#define ATTN_R4(p) (p)
#define ATTN_AT4(r, c) vload_half4((c), (r))
#else
#define attn_kv_t float
#define ATTN_KV4(c, p) vload4((c), (p))
#define ATTN_R4_T __global const float4 *
#define ATTN_R4(p) ((__global const float4 *)(p))
#define ATTN_AT4(r, c) ((r)[c])
#endif
/* score soft-capping, on a float or a float vector */
#if ATTN_SOFTCAP
#define ATTN_CAP(s, cap) ((cap) * tanh((s) / (cap)))
#else
#define ATTN_CAP(s, cap) (s)
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
void attn_fwd(__global const float *restrict q, __global const attn_kv_t *restrict k,
              __global const attn_kv_t *restrict v, __global const attn_kv_t *restrict kc,
              __global const attn_kv_t *restrict vc, __global const int *restrict meta,
              __global float *restrict out, int B, int T, int H, int Hkv, int cap,
              int span, int S, float scale, int temp, float temp_p0, float temp_p1,
              float softcap)
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
                __global const attn_kv_t *ks, *vs;
                if (j >= pos0) {
                    off = ((size_t)b * T + (j - pos0)) * kw + g * HEAD_DIM;
                    ks = k;
                    vs = v;
                } else {
                    off = ((size_t)b * cap + (j % cap)) * kw + g * HEAD_DIM;
                    ks = kc;
                    vs = vc;
                }
                kx = ATTN_KV4(c, ks + off);
                vx = ATTN_KV4(c, vs + off);
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
                    float s = ATTN_CAP((s4.x + s4.y) + (s4.z + s4.w), softcap);
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
void attn_fwd_row(__global const float *restrict q, __global const attn_kv_t *restrict k,
                  __global const attn_kv_t *restrict v, __global const attn_kv_t *restrict kc,
                  __global const attn_kv_t *restrict vc, __global const int *restrict meta,
                  __global float *restrict out, int B, int T, int H, int Hkv, int cap,
                  int span, int S, float scale, int temp, float temp_p0, float temp_p1,
                  float softcap)
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
            ATTN_R4_T kr[4];
            for (int u = 0; u < 4; u++) {
                int fc;
                const int j = min(j0 + kk + u, p); /* past p: a valid row, masked below */
                const size_t off = attn_kv_off(j, b, g, T, pos0, cap, kw, &fc);
                kr[u] = ATTN_R4((fc ? kc : k) + off);
            }
            float4 a0 = (float4)(0.0f), a1 = a0, a2 = a0, a3 = a0;
            for (int c = 0; c < ATTN_D4; c++) {
                const float4 qc = qv[c];
                a0 = mad(qc, ATTN_AT4(kr[0], c), a0);
                a1 = mad(qc, ATTN_AT4(kr[1], c), a1);
                a2 = mad(qc, ATTN_AT4(kr[2], c), a2);
                a3 = mad(qc, ATTN_AT4(kr[3], c), a3);
            }
            sc[kk] = ATTN_CAP(attn_hsum(a0), softcap);
            sc[kk + 1] = ATTN_CAP(attn_hsum(a1), softcap);
            sc[kk + 2] = ATTN_CAP(attn_hsum(a2), softcap);
            sc[kk + 3] = ATTN_CAP(attn_hsum(a3), softcap);
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
            ATTN_R4_T vr = ATTN_R4((fc ? vc : v) + off);
            l += w;
            for (int c = 0; c < ATTN_D4; c++) acc[c] = mad((float4)(w), ATTN_AT4(vr, c), acc[c]);
        }
        m = mn;
    }

    const float inv = 1.0f / l;
    __global float4 *orow = (__global float4 *)(out + ((size_t)b * T + t) * qw + h * HEAD_DIM);
    for (int c = 0; c < ATTN_D4; c++) orow[c] = acc[c] * inv;
}


/* ------------------------------------------------------------------------ */
/* v5: attn_fwd_blk - register-blocked, barrier-free, for CPU runtimes.
 *
 * PoCL (3.1) compiles per work-item code to scalar instructions when its
 * work-item loop vectorizer fails (barriers, local memory, loops over the
 * head dimension inside the work-item loop; see v3 above). v5 makes the
 * vector width explicit instead: every head-dimension operation is on
 * attn_v = float8 (one AVX2 register; float4 when HEAD_DIM % 8 != 0), so
 * LLVM emits packed FMAs whatever PoCL does with the work-item loop, and
 * each work-item works like a small GEMM micro-kernel:
 *   - it owns ATTN_QB query slots = ATTN_QB / ATTN_HQ consecutive positions
 *     times ATTN_HQ heads of one KV group (GQA: the heads sharing a KV head
 *     read each key / value row once for all of them);
 *   - it walks the keys [lo(first position), last position] in tiles of
 *     ATTN_KT keys; per tile
 *       S[slot][key]  two slots x four keys at a time (eight attn_v
 *                     accumulators, each K / Q vector load feeds 4 / 2
 *                     FMAs), reduced across lanes with an in-lane
 *                     shuffle-add tree (hadd pattern);
 *       mask          keys outside a slot's band -> ATTN_NEG_BIG (float8
 *                     compares over 8 keys, no branches);
 *       softmax       per slot running max m / sum l, rescaled once per
 *                     tile; exp() on float8 (PoCL maps it to SLEEF's vector
 *                     exp, accuracy as scalar exp);
 *       O += P V      per column block of two vectors (16 floats for
 *                     float8): 2 * ATTN_QB accumulators, each V load feeds
 *                     ATTN_QB FMAs; an odd last vector (d = 24, 40, ...
 *                     or any float4 d) takes a one-vector pass.
 * No barriers, no __local, no work-item-loop dependence: local size is the
 * host's choice (1 works; a few consecutive blocks per group share K/V rows
 * through the core's caches).
 *
 * NDRange (ceil(T / (ATTN_QB/ATTN_HQ)), H / ATTN_HQ, B) for attn_fwd_blk.
 * attn_split_blk / attn_merge below are the split-K decode path (T == 1).
 *
 * Tunables: ATTN_QB (even, multiple of ATTN_HQ), ATTN_HQ (divides H/Hkv),
 * ATTN_KT (multiple of 8). Private state per work-item: q and O, 2 *
 * ATTN_QB * HEAD_DIM floats (8 KiB at QB 4, d 256: the host keeps QB at
 * 4 or below for d > 128, host/cl/cl_params.c). PoCL 3.1, L 4096 W 512,
 * H 4 Hkv 1, ratio to sgemm: d 256 0.69, 96 0.66, 80 0.61, 64 0.68;
 * odd float8 count d 24 0.43; float4 d 12 0.20 (short rows: per-key
 * overhead dominates).
 */
#ifndef ATTN_QB
#define ATTN_QB 4
#endif
#ifndef ATTN_HQ
#define ATTN_HQ 1
#endif
#ifndef ATTN_KT
#define ATTN_KT 32
#endif
#define ATTN_QT (ATTN_QB / ATTN_HQ) /* positions per work-item */
/* fma(), not mad(): PoCL lowers mad() to a separate multiply and add; fma()
 * is one instruction on FMA hardware (and exact everywhere) */
/* LLVM under PoCL leaves the short slot loops rolled, which keeps the
 * P V accumulators on the stack: unroll them explicitly */
#define ATTN_UNROLL _Pragma("unroll")
#ifndef ATTN_FMA
#define ATTN_FMA fma
#endif

/* the head-dimension vector: float8 where d allows, else float4 */
#if HEAD_DIM % 8 == 0
#define ATTN_VW 8
typedef float8 attn_v;
#define attn_vload vload8
#define attn_vstore vstore8
#else
#define ATTN_VW 4
typedef float4 attn_v;
#define attn_vload vload4
#define attn_vstore vstore4
#endif
#define ATTN_DV (HEAD_DIM / ATTN_VW) /* vectors per head row */
/* K / V row handles of attn_v vectors (as ATTN_R4 / ATTN_AT4) */
#if ATTN_KV_HALF
#define ATTN_RV_T __global const half *
#define ATTN_RV(p) (p)
#if ATTN_VW == 8
#define ATTN_ATV(r, c) vload_half8((c), (r))
#else
#define ATTN_ATV(r, c) vload_half4((c), (r))
#endif
#else
#define ATTN_RV_T __global const attn_v *
#define ATTN_RV(p) ((__global const attn_v *)(p))
#define ATTN_ATV(r, c) ((r)[c])
#endif

/* in-lane horizontal add (AVX hadd / shufps pattern):
 * [a0+a1, a2+a3, b0+b1, b2+b3, a4+a5, a6+a7, b4+b5, b6+b7] */
inline float8 attn_hadd8(float8 a, float8 b)
{
    return (float8)(a.s0, a.s2, b.s0, b.s2, a.s4, a.s6, b.s4, b.s6) +
           (float8)(a.s1, a.s3, b.s1, b.s3, a.s5, a.s7, b.s5, b.s7);
}

/* [a0+a1, a2+a3, b0+b1, b2+b3] */
inline float4 attn_hadd4(float4 a, float4 b)
{
    return (float4)(a.s0, a.s2, b.s0, b.s2) + (float4)(a.s1, a.s3, b.s1, b.s3);
}

/* lane sums of four vectors */
inline float4 attn_hsum4v(attn_v a0, attn_v a1, attn_v a2, attn_v a3)
{
#if ATTN_VW == 8
    const float8 x = attn_hadd8(attn_hadd8(a0, a1), attn_hadd8(a2, a3));
    return x.lo + x.hi;
#else
    return attn_hadd4(attn_hadd4(a0, a1), attn_hadd4(a2, a3));
#endif
}

inline float attn_hmax8(float8 a)
{
    const float4 m4 = fmax(a.lo, a.hi);
    const float2 m2 = fmax(m4.lo, m4.hi);
    return fmax(m2.lo, m2.hi);
}

inline float attn_hsum8(float8 a)
{
    const float4 s4 = a.lo + a.hi;
    const float2 s2 = s4.lo + s4.hi;
    return s2.lo + s2.hi;
}

/* Keys [klo, khi] (clamped to a valid row: keys past khi are masked by
 * plo / phi anyway) for ATTN_QB slots whose rows of q start at qrow[r]
 * (already scaled), slot r seeing keys [plo[r], phi[r]]. Updates the online
 * softmax state acc / m / l. softcap: the cap under ATTN_SOFTCAP. */
inline void attn_blk_core(__global const attn_kv_t *restrict k, __global const attn_kv_t *restrict v,
                          __global const attn_kv_t *restrict kc, __global const attn_kv_t *restrict vc,
                          int b, int g, int T, int pos0, int cap, int kw, int klo, int khi,
                          const int *plo, const int *phi, attn_v (*qv)[ATTN_DV],
                          attn_v (*acc)[ATTN_DV], float *m, float *l, float softcap)
{
    for (int kt = klo; kt <= khi; kt += ATTN_KT) {
        ATTN_RV_T kr[ATTN_KT];
        ATTN_RV_T vr[ATTN_KT];
        for (int kk = 0; kk < ATTN_KT; kk++) {
            const int j = min(kt + kk, khi);
            const int fc = j < pos0;
            const size_t off = fc ? ((size_t)b * cap + (j % cap)) * kw + g * HEAD_DIM
                                  : ((size_t)b * T + (j - pos0)) * kw + g * HEAD_DIM;
            kr[kk] = ATTN_RV((fc ? kc : k) + off);
            vr[kk] = ATTN_RV((fc ? vc : v) + off);
        }

        /* scores, 2 slots x 4 keys per step */
        float4 s4[ATTN_QB][ATTN_KT / 4];
        for (int r = 0; r < ATTN_QB; r += 2) {
            for (int kk = 0; kk < ATTN_KT; kk += 4) {
                attn_v a0 = (attn_v)(0.0f), a1 = a0, a2 = a0, a3 = a0;
                attn_v b0 = a0, b1 = a0, b2 = a0, b3 = a0;
                ATTN_RV_T k0 = kr[kk];
                ATTN_RV_T k1 = kr[kk + 1];
                ATTN_RV_T k2 = kr[kk + 2];
                ATTN_RV_T k3 = kr[kk + 3];
                for (int c = 0; c < ATTN_DV; c++) {
                    const attn_v qa = qv[r][c], qb = qv[r + 1][c];
                    const attn_v x0 = ATTN_ATV(k0, c), x1 = ATTN_ATV(k1, c);
                    const attn_v x2 = ATTN_ATV(k2, c), x3 = ATTN_ATV(k3, c);
                    a0 = ATTN_FMA(qa, x0, a0);
                    a1 = ATTN_FMA(qa, x1, a1);
                    a2 = ATTN_FMA(qa, x2, a2);
                    a3 = ATTN_FMA(qa, x3, a3);
                    b0 = ATTN_FMA(qb, x0, b0);
                    b1 = ATTN_FMA(qb, x1, b1);
                    b2 = ATTN_FMA(qb, x2, b2);
                    b3 = ATTN_FMA(qb, x3, b3);
                }
                s4[r][kk / 4] = attn_hsum4v(a0, a1, a2, a3);
                s4[r + 1][kk / 4] = attn_hsum4v(b0, b1, b2, b3);
            }
        }

        /* mask, online softmax; p[r][key] as float8 rows */
        float8 pr[ATTN_QB][ATTN_KT / 8];
        float corr[ATTN_QB];
        const int8 lane = (int8)(0, 1, 2, 3, 4, 5, 6, 7);
        for (int r = 0; r < ATTN_QB; r++) {
            float mt = ATTN_NEG_BIG;
            for (int kb = 0; kb < ATTN_KT / 8; kb++) {
                const int8 j = (int8)(kt + kb * 8) + lane;
                /* keys past khi are clamped rows: mask them too (split-K) */
                const int8 ok = (j >= (int8)(plo[r])) & (j <= (int8)(min(phi[r], khi)));
                float8 s = ATTN_CAP((float8)(s4[r][2 * kb], s4[r][2 * kb + 1]), softcap);
                s = select((float8)(ATTN_NEG_BIG), s, ok);
                pr[r][kb] = s;
                mt = fmax(mt, attn_hmax8(s));
            }
            const float mn = fmax(m[r], mt);
            corr[r] = exp(m[r] - mn); /* 0 on the first tile; 1 if nothing new */
            float8 ls = (float8)(0.0f);
            for (int kb = 0; kb < ATTN_KT / 8; kb++) {
                const float8 w = exp(pr[r][kb] - (float8)(mn)); /* masked -> 0 */
                pr[r][kb] = w;
                ls += w;
            }
            l[r] = l[r] * corr[r] + attn_hsum8(ls);
            m[r] = mn;
        }

        /* O = O * corr + P V, two vectors x ATTN_QB slots at a time */
        for (int c = 0; c + 1 < ATTN_DV; c += 2) {
            attn_v o0[ATTN_QB], o1[ATTN_QB];
            ATTN_UNROLL
            for (int r = 0; r < ATTN_QB; r++) {
                o0[r] = acc[r][c] * corr[r];
                o1[r] = acc[r][c + 1] * corr[r];
            }
            for (int kb = 0; kb < ATTN_KT / 8; kb++) {
                ATTN_UNROLL
                for (int u = 0; u < 8; u++) {
                    const attn_v y0 = ATTN_ATV(vr[kb * 8 + u], c);
                    const attn_v y1 = ATTN_ATV(vr[kb * 8 + u], c + 1);
                    ATTN_UNROLL
                    for (int r = 0; r < ATTN_QB; r++) {
                        const float w = pr[r][kb][u];
                        o0[r] = ATTN_FMA((attn_v)(w), y0, o0[r]);
                        o1[r] = ATTN_FMA((attn_v)(w), y1, o1[r]);
                    }
                }
            }
            ATTN_UNROLL
            for (int r = 0; r < ATTN_QB; r++) {
                acc[r][c] = o0[r];
                acc[r][c + 1] = o1[r];
            }
        }
#if ATTN_DV % 2
        /* the odd last vector */
        {
            const int c = ATTN_DV - 1;
            attn_v o0[ATTN_QB];
            ATTN_UNROLL
            for (int r = 0; r < ATTN_QB; r++) o0[r] = acc[r][c] * corr[r];
            for (int kb = 0; kb < ATTN_KT / 8; kb++) {
                ATTN_UNROLL
                for (int u = 0; u < 8; u++) {
                    const attn_v y0 = ATTN_ATV(vr[kb * 8 + u], c);
                    ATTN_UNROLL
                    for (int r = 0; r < ATTN_QB; r++)
                        o0[r] = ATTN_FMA((attn_v)(pr[r][kb][u]), y0, o0[r]);
                }
            }
            ATTN_UNROLL
            for (int r = 0; r < ATTN_QB; r++) acc[r][c] = o0[r];
        }
#endif
    }
}

/* Load the ATTN_QB query slots of block (t0, head block hb): slot r is
 * position t0 + r / ATTN_HQ (clamped to the last valid row), head
 * hb * ATTN_HQ + r % ATTN_HQ. */
inline void attn_blk_load(__global const float *restrict q, int b, int T, int H, int hb, int t0,
                          int n_new, int pos0, int span, int S, float scale, int temp,
                          float temp_p0, float temp_p1, int *plo, int *phi,
                          attn_v (*qv)[ATTN_DV], attn_v (*acc)[ATTN_DV], float *m, float *l)
{
    const int qw = H * HEAD_DIM;
    for (int r = 0; r < ATTN_QB; r++) {
        const int t = min(t0 + r / ATTN_HQ, n_new - 1);
        const int h = hb * ATTN_HQ + r % ATTN_HQ;
        const int p = pos0 + t;
        plo[r] = attn_lo(p, span, S);
        phi[r] = p;
        const float qs = scale * attn_temp(temp, temp_p0, temp_p1, p);
        __global const attn_v *qrow =
            (__global const attn_v *)(q + ((size_t)b * T + t) * qw + h * HEAD_DIM);
        for (int c = 0; c < ATTN_DV; c++) {
            qv[r][c] = qrow[c] * qs;
            acc[r][c] = (attn_v)(0.0f);
        }
        m[r] = ATTN_NEG_BIG;
        l[r] = 0.0f;
    }
}

__kernel void attn_fwd_blk(__global const float *restrict q, __global const attn_kv_t *restrict k,
                           __global const attn_kv_t *restrict v, __global const attn_kv_t *restrict kc,
                           __global const attn_kv_t *restrict vc, __global const int *restrict meta,
                           __global float *restrict out, int B, int T, int H, int Hkv, int cap,
                           int span, int S, float scale, int temp, float temp_p0, float temp_p1,
                           float softcap)
{
    const int t0 = (int)get_global_id(0) * ATTN_QT;
    const int hb = (int)get_global_id(1);
    const int b = (int)get_global_id(2);
    const int pos0 = meta[b];
    const int n_new = meta[B + b];
    if (t0 >= n_new) return;
    const int g = hb * ATTN_HQ / (H / Hkv);
    const int qw = H * HEAD_DIM, kw = Hkv * HEAD_DIM;

    int plo[ATTN_QB], phi[ATTN_QB];
    attn_v qv[ATTN_QB][ATTN_DV], acc[ATTN_QB][ATTN_DV];
    float m[ATTN_QB], l[ATTN_QB];
    attn_blk_load(q, b, T, H, hb, t0, n_new, pos0, span, S, scale, temp, temp_p0, temp_p1, plo,
                  phi, qv, acc, m, l);
    /* lo() is non-decreasing in p: slot 0 has the smallest lo, the last
     * slot the largest p */
    attn_blk_core(k, v, kc, vc, b, g, T, pos0, cap, kw, plo[0], phi[ATTN_QB - 1], plo, phi, qv,
                  acc, m, l, softcap);
    for (int r = 0; r < ATTN_QB; r++) {
        const int t = t0 + r / ATTN_HQ;
        if (t >= n_new) break;
        const int h = hb * ATTN_HQ + r % ATTN_HQ;
        const float inv = 1.0f / l[r]; /* l >= 1: the diagonal key is always seen */
        __global attn_v *orow = (__global attn_v *)(out + ((size_t)b * T + t) * qw + h * HEAD_DIM);
        for (int c = 0; c < ATTN_DV; c++) orow[c] = acc[r][c] * inv;
    }
}

/* Split-K decode ("flash-decoding"), T == 1: work-item (s, hb, b) takes
 * the keys [lo + s * chunk, lo + (s+1) * chunk - 1] ∩ [lo, p] of query b
 * for the ATTN_HQ heads of head block hb and writes unnormalized partials
 *   part[((b * H + h) * nsplit + s) * (HEAD_DIM + 2) + c]  o[c], then m, l
 * (m = ATTN_NEG_BIG, l = 0, o = 0 for an empty range). Needs
 * ATTN_QB == ATTN_HQ (one position). attn_merge combines them. */
__kernel void attn_split_blk(__global const float *restrict q, __global const attn_kv_t *restrict k,
                             __global const attn_kv_t *restrict v, __global const attn_kv_t *restrict kc,
                             __global const attn_kv_t *restrict vc,
                             __global const int *restrict meta, __global float *restrict part,
                             int B, int T, int H, int Hkv, int cap, int span, int S, float scale,
                             int temp, float temp_p0, float temp_p1, float softcap, int nsplit,
                             int chunk)
{
    const int s = (int)get_global_id(0);
    const int hb = (int)get_global_id(1);
    const int b = (int)get_global_id(2);
    if (s >= nsplit) return;
    const int pos0 = meta[b];
    const int n_new = meta[B + b];
    if (n_new < 1) return;
    const int g = hb * ATTN_HQ / (H / Hkv);
    const int kw = Hkv * HEAD_DIM;

    int plo[ATTN_QB], phi[ATTN_QB];
    attn_v qv[ATTN_QB][ATTN_DV], acc[ATTN_QB][ATTN_DV];
    float m[ATTN_QB], l[ATTN_QB];
    attn_blk_load(q, b, T, H, hb, 0, 1, pos0, span, S, scale, temp, temp_p0, temp_p1, plo, phi,
                  qv, acc, m, l);
    const int klo = plo[0] + s * chunk;
    const int khi = min(phi[0], klo + chunk - 1);
    attn_blk_core(k, v, kc, vc, b, g, T, pos0, cap, kw, klo, khi, plo, phi, qv, acc, m, l,
                  softcap);
    for (int r = 0; r < ATTN_QB; r++) {
        const int h = hb * ATTN_HQ + r % ATTN_HQ;
        __global float *pp = part + ((size_t)(b * H + h) * nsplit + s) * (HEAD_DIM + 2);
        for (int c = 0; c < ATTN_DV; c++) attn_vstore(acc[r][c], c, pp);
        pp[HEAD_DIM] = m[r];
        pp[HEAD_DIM + 1] = l[r];
    }
}

/* NDRange (H, B): out[b, h] = sum_s o_s e^(m_s - M) / sum_s l_s e^(m_s - M). */
__kernel void attn_merge(__global const float *restrict part, __global const int *restrict meta,
                         __global float *restrict out, int B, int T, int H, int nsplit)
{
    const int h = (int)get_global_id(0);
    const int b = (int)get_global_id(1);
    if (h >= H || meta[B + b] < 1) return;
    __global const float *pp = part + (size_t)(b * H + h) * nsplit * (HEAD_DIM + 2);
    float M = ATTN_NEG_BIG;
    for (int s = 0; s < nsplit; s++) M = fmax(M, pp[(size_t)s * (HEAD_DIM + 2) + HEAD_DIM]);
    attn_v o[ATTN_DV];
    for (int c = 0; c < ATTN_DV; c++) o[c] = (attn_v)(0.0f);
    float L = 0.0f;
    for (int s = 0; s < nsplit; s++) {
        __global const float *ps = pp + (size_t)s * (HEAD_DIM + 2);
        const float w = exp(ps[HEAD_DIM] - M); /* empty split: l = 0, o = 0 */
        L = ATTN_FMA(w, ps[HEAD_DIM + 1], L);
        for (int c = 0; c < ATTN_DV; c++) o[c] = ATTN_FMA((attn_v)(w), attn_vload(c, ps), o[c]);
    }
    const float inv = 1.0f / L;
    __global float *orow = out + (size_t)b * T * H * HEAD_DIM + h * HEAD_DIM;
    for (int c = 0; c < ATTN_DV; c++) attn_vstore(o[c] * inv, c, orow);
}
