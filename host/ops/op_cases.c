/*
 * op_cases.c - THE op-case table: every op test (tests/test_ops.c) and every
 * kernel-benchmark shape is one row here. docs/OPS.md explains the columns
 * and walks through adding a row.
 *
 * Tolerances (device vs the double-accumulating reference, inputs O(1); see
 * docs/OPS.md for how they were chosen and measured on PoCL):
 *   TOL_ATTN   float online softmax, float4/float8 dot products of <= 256
 *              terms; outputs are convex combinations of O(1) values, so
 *              float rounding gives a few 1e-7 (measured max_abs 1.6e-7;
 *              nmse <= 2.2e-13, up to 8.6e-13 for split-K decode over 4100
 *              keys, whose outputs are small averages; the head_dim 4..256
 *              rows max_abs 1.8e-7, nmse 2.4e-13; soft-capped rows 1.2e-7,
 *              1.5e-13: tanh adds a few ulp to O(1) scores).
 *   TOL_MATMUL CLBlast / gemv float dot products of K <= 300 terms of size
 *              <= 1; error grows ~ sqrt(K) * eps (measured 1.05e-5 at K=256).
 *   TOL_MATMUL_LONG  K = 768 through CLBlast: atol scaled by sqrt(768/256)
 *              (measured: the worst element at 0.59 of this bound, at an
 *              output of 0.22; max_abs 4.6e-5 at an output of 32).
 *   TOL_MATMUL_4K  K = 4096 (own GEMM, 16 K blocks): atol scaled by
 *              sqrt(4096/256) from TOL_MATMUL.
 *   TOL_NORM   float sums over the row (measured 9.5e-7 at n=4096).
 *   TOL_ROPE   the angle is computed in double where cl_khr_fp64 exists;
 *              positions up to 40000 (measured 1.2e-7, 1 ulp).
 *   TOL_ELT    one transcendental per element (silu / erf): a few ulp.
 *   TOL_EXACT  pure copies (embed, gather_rows, kv_store; an f16 cache rounds
 *              to nearest even on both sides, so it is exact too).
 *   f16 KV rows (kv_f16) keep TOL_ATTN: the reference reads K / V rounded
 *              to f16 exactly as vload_half gives them (measured: as the
 *              float rows).
 * Rows used only by the benchmark carry their family's tolerance too, for
 * a verifying run; the test suite does not exercise them.
 */
#include <string.h>

#include "ops/op_cases.h"

#define TOL(a, r, n) .atol = (a), .rtol = (r), .nmse = (n)
#define TOL_ATTN TOL(1e-5, 1e-5, 1e-10)
#define TOL_MATMUL TOL(3e-5, 1e-5, 1e-11)
#define TOL_MATMUL_LONG TOL(6e-5, 1e-5, 1e-11)
#define TOL_MATMUL_4K TOL(1.2e-4, 1e-5, 1e-11)
#define TOL_NORM TOL(1e-5, 1e-5, 1e-11)
#define TOL_ROPE TOL(1e-5, 0.0, 1e-11)
#define TOL_ELT TOL(1e-6, 1e-6, 1e-12)
#define TOL_EXACT TOL(0.0, 0.0, 0.0)

/* storage types (matmul w, embed table) */
#define F16 SWACL_WT_F16
#define BF16 SWACL_WT_BF16
#define Q8_0 SWACL_WT_Q8_0
#define Q4_0 SWACL_WT_Q4_0

/* use column */
#define T_ SWACL_OPC_TEST
#define B_ SWACL_OPC_BENCH
#define Q_ SWACL_OPC_BENCH_QUICK
/* variants column */
#define DEF 0u
#define ATTN3 SWACL_OPV_ATTN_ALL
#define NORM2 SWACL_OPV_NORM_ALL
#define GEMM2 SWACL_OPV_GEMM_ALL
#define OWN SWACL_OPV_BIT(SWACL_OPV_GEMM_OWN)
#define LM SWACL_OPV_BIT(SWACL_OPV_GEMM_LM)
#define GEMV4 SWACL_OPV_GEMV_ALL

/* One row: label, use, variants, tolerance, then the fields of the op's
 * shape struct in order (op_cases.h). Written out per op, not through a
 * shared macro: a TOL_* argument passed on would split at its commas. */
#define ROW_(kind, label_, use_, var_)                                        \
    .op = (kind), .label = (label_), .use = (use_), .variants = (var_)
/* B T H Hkv d, span S, temp p0 p1, cap, {pos0}, {n_new (0 = T)}, softcap (0 = off) */
#define ATTN(l, u, v, tol, ...) {ROW_(SWACL_OP_ATTENTION, l, u, v), tol, .attn = {__VA_ARGS__}}
/* M N K bias accumulate [storage type of w] */
#define MATMUL(l, u, v, tol, ...) {ROW_(SWACL_OP_MATMUL, l, u, v), tol, .mm = {__VA_ARGS__}}
/* M N K, wt, N1 N2 (N2 0: two products) */
#define MMULTI(l, u, tol, M, N, K, wt, N1, N2)                                \
    {ROW_(SWACL_OP_MATMUL_MULTI, l, u, DEF), tol, .mm = {M, N, K, 0, 0, wt, N1, N2, 0}}
/* M F K, wt, ffn */
#define MGLU(l, u, tol, M, F, K, wt, ffn)                                     \
    {ROW_(SWACL_OP_MATMUL_GLU, l, u, DEF), tol, .mm = {M, F, K, 0, 0, wt, 0, 0, ffn}}
/* kind rows n weight bias in_place eps */
#define NORM(l, u, v, tol, ...) {ROW_(SWACL_OP_NORM, l, u, v), tol, .norm = {__VA_ARGS__}}
/* layout B T nh d theta {pos0} rot (0 = d) mscale (0 = 1) */
#define ROPE(l, u, v, tol, ...) {ROW_(SWACL_OP_ROPE, l, u, v), tol, .rope = {__VA_ARGS__}}
/* rows n ffn in_place s (SCALE: the factor; SOFTCAP: the cap) */
#define ACT(l, u, v, tol, ...) {ROW_(SWACL_OP_ACT, l, u, v), tol, .elt = {__VA_ARGS__}}
#define ADD(l, u, v, tol, ...) {ROW_(SWACL_OP_ADD, l, u, v), tol, .elt = {__VA_ARGS__}}
#define SCALE(l, u, v, tol, ...) {ROW_(SWACL_OP_SCALE, l, u, v), tol, .elt = {__VA_ARGS__}}
#define SOFTCAP(l, u, v, tol, ...) {ROW_(SWACL_OP_SOFTCAP, l, u, v), tol, .elt = {__VA_ARGS__}}
/* V D n */
#define EMBED(l, u, v, tol, ...) {ROW_(SWACL_OP_EMBED, l, u, v), tol, .embed = {__VA_ARGS__}}
#define GATHER(l, u, v, tol, ...) {ROW_(SWACL_OP_GATHER_ROWS, l, u, v), tol, .embed = {__VA_ARGS__}}
/* B T cap width {pos0} {n_new} */
#define KV(l, u, v, tol, ...) {ROW_(SWACL_OP_KV_STORE, l, u, v), tol, .kv = {__VA_ARGS__}}

#define WIN SWACL_SPAN_WINDOW
#define GLB SWACL_SPAN_GLOBAL
#define CHK SWACL_SPAN_CHUNK
#define NOT SWACL_TEMP_NONE
#define L4 SWACL_TEMP_LLAMA4
#define LR SWACL_TEMP_LOG_RATIO
#define PAIR SWACL_POS_ROPE_PAIR
#define HALF SWACL_POS_ROPE_HALF
#define RMS SWACL_NORM_RMS
#define LN SWACL_NORM_LAYER
#define LNNB SWACL_NORM_LAYER_NOBIAS
#define SWIGLU SWACL_FFN_SWIGLU
#define GELU SWACL_FFN_GELU
#define GEGLU_TANH SWACL_FFN_GEGLU_TANH

/* Benchmark shapes: cohere2 preset dims (D 256, H 4, Hkv 1, d 64, F 768;
 * qkv width (4 + 2) * 64 = 384), checked against the preset by test_ops. */
static const swacl_op_case k_cases[] = {
    /* ---- attention: test rows (every kernel version) ------------------ */
    ATTN("L<W", T_, ATTN3, TOL_ATTN, 1, 40, 2, 2, 64, WIN, 64, NOT, 0, 0, 0, {0}, {0}),
    ATTN("L not multiple of tile, GQA2", T_, ATTN3, TOL_ATTN, 1, 77, 2, 1, 64, WIN, 20, NOT, 0, 0,
         0, {0}, {0}),
    ATTN("W=1", T_, ATTN3, TOL_ATTN, 1, 33, 2, 2, 32, WIN, 1, NOT, 0, 0, 0, {0}, {0}),
    ATTN("W=L, GQA4", T_, ATTN3, TOL_ATTN, 1, 50, 4, 1, 32, WIN, 50, NOT, 0, 0, 0, {0}, {0}),
    ATTN("W>L", T_, ATTN3, TOL_ATTN, 2, 19, 2, 2, 64, WIN, 300, NOT, 0, 0, 0, {0}, {0}),
    ATTN("global d128 batch2 GQA2", T_, ATTN3, TOL_ATTN, 2, 45, 4, 2, 128, GLB, 0, NOT, 0, 0, 0,
         {0}, {0}),
    ATTN("window d128 GQA4 batch3", T_, ATTN3, TOL_ATTN, 3, 70, 4, 1, 128, WIN, 24, NOT, 0, 0, 0,
         {0}, {0}),
    ATTN("chunk 32", T_, ATTN3, TOL_ATTN, 2, 90, 2, 1, 64, CHK, 32, NOT, 0, 0, 0, {0}, {0}),
    ATTN("chunk 7", T_, ATTN3, TOL_ATTN, 1, 50, 2, 2, 32, CHK, 7, NOT, 0, 0, 0, {0}, {0}),
    ATTN("llama4 temperature p0=4", T_, ATTN3, TOL_ATTN, 1, 60, 2, 1, 64, GLB, 0, L4, 4, 0.1f, 0,
         {0}, {0}),
    ATTN("llama4 chunk + cache", T_, ATTN3, TOL_ATTN, 2, 20, 2, 1, 64, CHK, 16, L4, 4, 0.1f, 16,
         {200, 37}, {20, 13}),
    ATTN("log-ratio temperature", T_, ATTN3, TOL_ATTN, 2, 64, 2, 2, 32, GLB, 0, LR, 16, 0, 0, {0},
         {0}),
    ATTN("log-ratio global + cache", T_, ATTN3, TOL_ATTN, 1, 24, 2, 1, 64, GLB, 0, LR, 16, 0, 400,
         {300}, {0}),
    ATTN("window ring cache, wraps, ragged", T_, ATTN3, TOL_ATTN, 2, 16, 4, 2, 64, WIN, 32, NOT, 0,
         0, 32, {1000, 5003}, {16, 9}),
    ATTN("window cache far past wraps d128", T_, ATTN3, TOL_ATTN, 1, 5, 2, 1, 128, WIN, 64, NOT, 0,
         0, 64, {40000}, {0}),
    ATTN("decode T=1 window", T_, ATTN3, TOL_ATTN, 3, 1, 4, 1, 64, WIN, 16, NOT, 0, 0, 16,
         {0, 15, 777}, {0}),
    ATTN("decode T=1 global", T_, ATTN3, TOL_ATTN, 2, 1, 2, 2, 32, GLB, 0, NOT, 0, 0, 600, {0, 500},
         {0}),
    ATTN("decode T=1 global llama4", T_, ATTN3, TOL_ATTN, 2, 1, 4, 2, 128, GLB, 0, L4, 4, 0.1f, 300,
         {299, 123}, {1, 1}),
    ATTN("ragged prefill, no cache", T_, ATTN3, TOL_ATTN, 3, 40, 2, 1, 32, WIN, 8, NOT, 0, 0, 0,
         {0}, {40, 17, 1}),
    ATTN("ragged, W < T, cache", T_, ATTN3, TOL_ATTN, 2, 48, 2, 2, 64, WIN, 8, NOT, 0, 0, 8,
         {3, 1234}, {48, 30}),
    ATTN("global cache ragged", T_, ATTN3, TOL_ATTN, 2, 20, 4, 4, 32, GLB, 0, NOT, 0, 0, 100,
         {50, 70}, {20, 7}),
    ATTN("W=1, pos0 > 0, no cache needed", T_, ATTN3, TOL_ATTN, 2, 3, 2, 1, 32, WIN, 1, NOT, 0, 0,
         0, {500, 9}, {3, 2}),
    ATTN("long window prefill", T_, ATTN3, TOL_ATTN, 1, 300, 2, 1, 64, WIN, 48, NOT, 0, 0, 0, {0},
         {0}),
    /* attn_fwd_blk: GQA 8 (two head blocks of 4 / one of 8), GQA 3 (odd) */
    ATTN("window GQA8 prefill + cache", T_, ATTN3, TOL_ATTN, 2, 37, 8, 1, 64, WIN, 40, NOT, 0, 0,
         40, {100, 0}, {37, 21}),
    ATTN("global GQA3 d32 log-ratio", T_, ATTN3, TOL_ATTN, 1, 29, 6, 2, 32, GLB, 0, LR, 16, 0, 0,
         {0}, {0}),
    /* T == 1 past ATTN_SPLIT_MIN_KEYS (1024 keys): split-K decode path */
    ATTN("split decode global GQA4 llama4", T_, ATTN3, TOL_ATTN, 2, 1, 8, 2, 64, GLB, 0, L4, 8192,
         0.1f, 6000, {5000, 1030}, {1, 1}),
    ATTN("split decode global d128 log-ratio", T_, ATTN3, TOL_ATTN, 1, 1, 2, 2, 128, GLB, 0, LR, 16,
         0, 5200, {5000}, {0}),
    ATTN("split decode global d32 GQA3 ragged", T_, ATTN3, TOL_ATTN, 3, 1, 3, 1, 32, GLB, 0, NOT, 0,
         0, 4100, {4099, 20, 3000}, {1, 1, 0}),
    ATTN("split decode window ring wraps", T_, ATTN3, TOL_ATTN, 2, 1, 4, 1, 64, WIN, 1500, NOT, 0,
         0, 1500, {9321, 1600}, {1, 1}),
    ATTN("split decode window ring wraps d128", T_, ATTN3, TOL_ATTN, 1, 1, 4, 2, 128, WIN, 2048, L4,
         4, 0.1f, 2048, {20000}, {0}),
    ATTN("split decode chunk", T_, ATTN3, TOL_ATTN, 1, 1, 2, 1, 32, CHK, 4096, NOT, 0, 0, 4096,
         {8190}, {0}),
    /* f16 KV cache (kv_f16: K / V read as f16 by both sides, the same
     * rounding): the same tolerance as float caches */
    ATTN("f16 kv window ring wraps, ragged GQA2", T_, ATTN3, TOL_ATTN, 2, 16, 4, 2, 64, WIN, 32, NOT,
         0, 0, 32, {1000, 5003}, {16, 9}, 0, 1),
    ATTN("f16 kv window prefill chunk + ring d128 GQA4", T_, ATTN3, TOL_ATTN, 1, 48, 4, 1, 128, WIN,
         40, NOT, 0, 0, 40, {777}, {0}, 0, 1),
    ATTN("f16 kv global cache ragged d64 GQA4 batch2", T_, ATTN3, TOL_ATTN, 2, 20, 8, 2, 64, GLB, 0,
         NOT, 0, 0, 100, {50, 70}, {20, 7}, 0, 1),
    ATTN("f16 kv no cache prefill d128", T_, ATTN3, TOL_ATTN, 1, 37, 2, 1, 128, GLB, 0, NOT, 0, 0, 0,
         {0}, {0}, 0, 1),
    ATTN("f16 kv decode T=1 window d128 batch3", T_, ATTN3, TOL_ATTN, 3, 1, 4, 1, 128, WIN, 16, NOT,
         0, 0, 16, {0, 15, 777}, {0}, 0, 1),
    ATTN("f16 kv decode T=1 global d64 GQA2", T_, ATTN3, TOL_ATTN, 2, 1, 4, 2, 64, GLB, 0, NOT, 0, 0,
         600, {0, 500}, {0}, 0, 1),
    ATTN("f16 kv split decode global d128 GQA4", T_, ATTN3, TOL_ATTN, 2, 1, 8, 2, 128, GLB, 0, NOT, 0,
         0, 6000, {5000, 1030}, {1, 1}, 0, 1),
    ATTN("f16 kv split decode window ring wraps d64", T_, ATTN3, TOL_ATTN, 2, 1, 4, 1, 64, WIN, 1500,
         NOT, 0, 0, 1500, {9321, 1600}, {1, 1}, 0, 1),
    ATTN("f16 kv d48 softcap chunk + cache", T_, ATTN3, TOL_ATTN, 2, 20, 2, 1, 48, CHK, 16, L4, 4,
         0.1f, 16, {200, 37}, {20, 13}, 1.0f, 1),

    /* ---- attention at every head_dim the kernels build for (multiples of
     * 4 up to 256): float8 blocks with an even count (16 48 80 96 256), an
     * odd count (8 24), float4 (4 12); prefill, decode and split-K decode.
     * Split rows run the split path whatever the variant: DEF, one test. */
    ATTN("d16 window GQA2, L not multiple of tile", T_, ATTN3, TOL_ATTN, 1, 45, 4, 2, 16, WIN, 20,
         NOT, 0, 0, 0, {0}, {0}),
    ATTN("d16 decode T=1 window batch3", T_, ATTN3, TOL_ATTN, 3, 1, 2, 1, 16, WIN, 16, NOT, 0, 0,
         16, {0, 15, 777}, {0}),
    ATTN("d16 split decode global GQA4", T_, DEF, TOL_ATTN, 2, 1, 4, 1, 16, GLB, 0, NOT, 0, 0,
         3000, {2500, 1100}, {1, 1}),
    ATTN("d48 global batch2 GQA3", T_, ATTN3, TOL_ATTN, 2, 37, 6, 2, 48, GLB, 0, NOT, 0, 0, 0, {0},
         {0}),
    ATTN("d48 ragged, W < T, cache", T_, ATTN3, TOL_ATTN, 2, 30, 2, 2, 48, WIN, 8, NOT, 0, 0, 8,
         {3, 1234}, {30, 17}),
    ATTN("d48 split decode window ring wraps", T_, DEF, TOL_ATTN, 1, 1, 4, 2, 48, WIN, 1500, NOT,
         0, 0, 1500, {9321}, {0}),
    ATTN("d80 W=1", T_, ATTN3, TOL_ATTN, 1, 20, 2, 2, 80, WIN, 1, NOT, 0, 0, 0, {0}, {0}),
    ATTN("d80 window GQA4 cache ragged", T_, ATTN3, TOL_ATTN, 2, 25, 4, 1, 80, WIN, 32, NOT, 0, 0,
         32, {100, 0}, {25, 11}),
    ATTN("d80 split decode global llama4", T_, DEF, TOL_ATTN, 1, 1, 2, 1, 80, GLB, 0, L4, 4, 0.1f,
         2100, {2000}, {0}),
    ATTN("d96 W>L batch2", T_, ATTN3, TOL_ATTN, 2, 19, 2, 1, 96, WIN, 300, NOT, 0, 0, 0, {0}, {0}),
    ATTN("d96 decode T=1 global", T_, ATTN3, TOL_ATTN, 2, 1, 4, 2, 96, GLB, 0, NOT, 0, 0, 600,
         {0, 500}, {0}),
    ATTN("d96 split decode chunk", T_, DEF, TOL_ATTN, 1, 1, 2, 2, 96, CHK, 2048, NOT, 0, 0, 2048,
         {4000}, {0}),
    ATTN("d256 window GQA2, L not multiple of tile", T_, ATTN3, TOL_ATTN, 1, 35, 2, 1, 256, WIN,
         24, NOT, 0, 0, 0, {0}, {0}),
    ATTN("d256 global cache ragged batch2", T_, ATTN3, TOL_ATTN, 2, 9, 2, 2, 256, GLB, 0, NOT, 0,
         0, 40, {30, 0}, {9, 5}),
    ATTN("d256 decode T=1 window", T_, ATTN3, TOL_ATTN, 2, 1, 2, 1, 256, WIN, 16, NOT, 0, 0, 16,
         {3, 500}, {0}),
    ATTN("d256 split decode global GQA2", T_, DEF, TOL_ATTN, 1, 1, 4, 2, 256, GLB, 0, NOT, 0, 0,
         1300, {1200}, {0}),
    ATTN("d4 window GQA2 batch2", T_, ATTN3, TOL_ATTN, 2, 30, 4, 2, 4, WIN, 10, NOT, 0, 0, 0, {0},
         {0}),
    ATTN("d4 split decode global", T_, DEF, TOL_ATTN, 1, 1, 2, 1, 4, GLB, 0, NOT, 0, 0, 1100,
         {1050}, {0}),
    ATTN("d8 global GQA3 cache", T_, ATTN3, TOL_ATTN, 1, 20, 3, 1, 8, GLB, 0, NOT, 0, 0, 50, {40},
         {0}),
    ATTN("d12 chunk 7 batch2", T_, ATTN3, TOL_ATTN, 2, 25, 2, 2, 12, CHK, 7, NOT, 0, 0, 0, {0},
         {0}),
    ATTN("d12 split decode window ragged", T_, DEF, TOL_ATTN, 2, 1, 2, 2, 12, WIN, 1100, NOT, 0, 0,
         1100, {5000, 1200}, {1, 1}),
    ATTN("d24 log-ratio global", T_, ATTN3, TOL_ATTN, 1, 30, 2, 1, 24, GLB, 0, LR, 16, 0, 0, {0},
         {0}),

    /* score soft-capping (Gemma 2): scores are ~ +-1/3 here, so cap 50 is
     * nearly linear, 1 bends, 0.1 .. 0.3 saturate the tanh */
    ATTN("softcap 50 window d64", T_, ATTN3, TOL_ATTN, 1, 40, 2, 1, 64, WIN, 16, NOT, 0, 0, 0, {0},
         {0}, 50.0f),
    ATTN("softcap 0.1 binds, global d128 GQA2 batch2", T_, ATTN3, TOL_ATTN, 2, 21, 4, 2, 128, GLB,
         0, NOT, 0, 0, 0, {0}, {0}, 0.1f),
    ATTN("softcap 1 d48 llama4 chunk + cache", T_, ATTN3, TOL_ATTN, 2, 20, 2, 1, 48, CHK, 16, L4,
         4, 0.1f, 16, {200, 37}, {20, 13}, 1.0f),
    ATTN("softcap 0.3 d12 window", T_, ATTN3, TOL_ATTN, 1, 30, 2, 2, 12, WIN, 9, NOT, 0, 0, 0, {0},
         {0}, 0.3f),
    ATTN("softcap 0.2 decode T=1 window d16", T_, ATTN3, TOL_ATTN, 3, 1, 4, 1, 16, WIN, 16, NOT, 0,
         0, 16, {0, 15, 777}, {0}, 0.2f),
    ATTN("softcap 0.5 split decode global d256", T_, DEF, TOL_ATTN, 1, 1, 2, 1, 256, GLB, 0, NOT,
         0, 0, 1300, {1200}, {0}, 0.5f),
    ATTN("softcap 5 split decode window GQA4", T_, DEF, TOL_ATTN, 2, 1, 8, 2, 64, WIN, 1500, NOT,
         0, 0, 1500, {9321, 1600}, {1, 1}, 5.0f),

    /* ---- attention: benchmark (B=1, H 4, Hkv 1, d 64, prefill from 0) - */
    ATTN("attn band L=1024 W=128", T_ | B_ | Q_, DEF, TOL_ATTN, 1, 1024, 4, 1, 64, WIN, 128, NOT,
         0, 0, 0, {0}, {0}),
    ATTN("attn band L=1024 W=512", T_ | B_ | Q_, DEF, TOL_ATTN, 1, 1024, 4, 1, 64, WIN, 512, NOT,
         0, 0, 0, {0}, {0}),
    ATTN("attn band L=1024 W=4096", B_, DEF, TOL_ATTN, 1, 1024, 4, 1, 64, WIN, 4096, NOT, 0, 0, 0,
         {0}, {0}),
    ATTN("attn band L=4096 W=128", B_ | Q_, DEF, TOL_ATTN, 1, 4096, 4, 1, 64, WIN, 128, NOT, 0, 0,
         0, {0}, {0}),
    ATTN("attn band L=4096 W=512", B_ | Q_, DEF, TOL_ATTN, 1, 4096, 4, 1, 64, WIN, 512, NOT, 0, 0,
         0, {0}, {0}),
    ATTN("attn band L=4096 W=4096", B_, DEF, TOL_ATTN, 1, 4096, 4, 1, 64, WIN, 4096, NOT, 0, 0, 0,
         {0}, {0}),
    ATTN("attn band L=16384 W=128", B_, DEF, TOL_ATTN, 1, 16384, 4, 1, 64, WIN, 128, NOT, 0, 0, 0,
         {0}, {0}),
    ATTN("attn band L=16384 W=512", B_, DEF, TOL_ATTN, 1, 16384, 4, 1, 64, WIN, 512, NOT, 0, 0, 0,
         {0}, {0}),
    ATTN("attn band L=16384 W=4096", B_, DEF, TOL_ATTN, 1, 16384, 4, 1, 64, WIN, 4096, NOT, 0, 0,
         0, {0}, {0}),
    ATTN("attn causal L=1024", T_ | B_ | Q_, DEF, TOL_ATTN, 1, 1024, 4, 1, 64, GLB, 0, NOT, 0, 0, 0,
         {0}, {0}),
    ATTN("attn causal L=4096", B_, DEF, TOL_ATTN, 1, 4096, 4, 1, 64, GLB, 0, NOT, 0, 0, 0, {0},
         {0}),

    /* ---- matmul -------------------------------------------------------- */
    MATMUL("M=1 N=1 K=1", T_, GEMV4, TOL_MATMUL, 1, 1, 1, 0, 0),
    MATMUL("M=7 N=13 K=5 bias", T_, GEMV4, TOL_MATMUL, 7, 13, 5, 1, 0),
    MATMUL("M=33 N=17 K=65 acc", T_, GEMM2, TOL_MATMUL, 33, 17, 65, 0, 1),
    MATMUL("M=65 N=31 K=129 bias acc", T_, GEMM2, TOL_MATMUL, 65, 31, 129, 1, 1),
    MATMUL("M=5 N=300 K=70 bias", T_, GEMV4, TOL_MATMUL, 5, 300, 70, 1, 0),
    MATMUL("M=128 N=64 K=256", T_, GEMM2, TOL_MATMUL, 128, 64, 256, 0, 0),
    MATMUL("M=3 N=7 K=300 bias acc", T_, GEMV4, TOL_MATMUL, 3, 7, 300, 1, 1),
    MATMUL("M=1 N=50 K=33", T_, GEMV4, TOL_MATMUL, 1, 50, 33, 0, 0),
    /* M <= 8 takes the gemv kernel, M = 9 CLBlast: both sides of the switch */
    MATMUL("M=1 N=256 K=768 bias acc (gemv)", T_, GEMV4, TOL_MATMUL, 1, 256, 768, 1, 1),
    MATMUL("M=8 N=64 K=256 bias acc (gemv)", T_, GEMV4, TOL_MATMUL, 8, 64, 256, 1, 1),
    MATMUL("M=9 N=64 K=256 acc (CLBlast)", T_, DEF, TOL_MATMUL, 9, 64, 256, 0, 1),
    MATMUL("M=2 N=768 K=256 (gemv)", T_, GEMV4, TOL_MATMUL, 2, 768, 256, 0, 0),
    MATMUL("M=4 N=1000 K=17 bias (gemv tails)", T_, GEMV4, TOL_MATMUL, 4, 1000, 17, 1, 0),
    /* gemv_f32_r<R>: R rows per work-item (8 on CPUs): N not a multiple
     * of R or of the group (N = 1, 7, 13, 129), K below / not a multiple of
     * the 16-value vector (1, 15, 33, 250), M = 1..8, accumulate, and the
     * GQA K/V projection shape (N = 2 heads x 128 from K = 1024) */
    MATMUL("M=1 N=7 K=15 (gemv rows, K < 16)", T_, GEMV4, TOL_MATMUL, 1, 7, 15, 0, 0),
    MATMUL("M=3 N=129 K=250 acc (gemv tails)", T_, GEMV4, TOL_MATMUL, 3, 129, 250, 0, 1),
    MATMUL("M=6 N=13 K=48 bias acc (gemv)", T_, GEMV4, TOL_MATMUL, 6, 13, 48, 1, 1),
    MATMUL("M=7 N=1 K=33 (gemv)", T_, GEMV4, TOL_MATMUL, 7, 1, 33, 0, 0),
    MATMUL("M=1 N=256 K=1024 acc (gemv GQA kv)", T_, GEMV4, TOL_MATMUL_LONG, 1, 256, 1024, 0, 1),
    /* packed weights vs the reference on the same decoded values: gemv_<t>
     * (M <= 8; f16/bf16 with K % 16 tails and K < 16) and the
     * decoded-panel CLBlast path; the reference's double dot products of
     * the same decoded weights, so TOL_MATMUL holds as for f32 */
    MATMUL("f16 M=1 N=50 K=37 (gemv tail)", T_, DEF, TOL_MATMUL, 1, 50, 37, 0, 0, F16),
    MATMUL("f16 M=8 N=64 K=256 bias acc (gemv)", T_, DEF, TOL_MATMUL, 8, 64, 256, 1, 1, F16),
    MATMUL("f16 M=33 N=17 K=65 acc (panel)", T_, GEMM2, TOL_MATMUL, 33, 17, 65, 0, 1, F16),
    MATMUL("f16 M=65 N=300 K=256 bias (panel)", T_, GEMM2, TOL_MATMUL, 65, 300, 256, 1, 0, F16),
    MATMUL("bf16 M=1 N=50 K=37 (gemv tail)", T_, DEF, TOL_MATMUL, 1, 50, 37, 0, 0, BF16),
    MATMUL("bf16 M=5 N=300 K=70 bias (gemv)", T_, DEF, TOL_MATMUL, 5, 300, 70, 1, 0, BF16),
    MATMUL("bf16 M=2 N=300 K=64 acc (gemv)", T_, DEF, TOL_MATMUL, 2, 300, 64, 0, 1, BF16),
    MATMUL("bf16 M=8 N=17 K=24 bias acc (gemv K % 16)", T_, DEF, TOL_MATMUL, 8, 17, 24, 1, 1, BF16),
    MATMUL("bf16 M=1 N=3 K=5 (gemv K < 16)", T_, DEF, TOL_MATMUL, 1, 3, 5, 0, 0, BF16),
    MATMUL("f16 M=4 N=33 K=40 acc (gemv K % 16)", T_, DEF, TOL_MATMUL, 4, 33, 40, 0, 1, F16),
    MATMUL("f16 M=2 N=9 K=7 bias (gemv K < 16)", T_, DEF, TOL_MATMUL, 2, 9, 7, 1, 0, F16),
    MATMUL("f16 M=1 N=256 K=1024 (gemv GQA kv)", T_, DEF, TOL_MATMUL_LONG, 1, 256, 1024, 0, 0, F16),
    MATMUL("bf16 M=33 N=17 K=65 acc (panel)", T_, GEMM2, TOL_MATMUL, 33, 17, 65, 0, 1, BF16),
    MATMUL("bf16 M=128 N=64 K=256 (panel)", T_, DEF, TOL_MATMUL, 128, 64, 256, 0, 0, BF16),
    MATMUL("q8_0 M=1 N=50 K=32 (gemv)", T_, DEF, TOL_MATMUL, 1, 50, 32, 0, 0, Q8_0),
    MATMUL("q8_0 M=8 N=300 K=256 bias acc (gemv)", T_, DEF, TOL_MATMUL, 8, 300, 256, 1, 1, Q8_0),
    MATMUL("q8_0 M=5 N=17 K=64 acc (gemv)", T_, DEF, TOL_MATMUL, 5, 17, 64, 0, 1, Q8_0),
    MATMUL("q8_0 M=1 N=256 K=1024 (gemv GQA kv)", T_, DEF, TOL_MATMUL_LONG, 1, 256, 1024, 0, 0, Q8_0),
    MATMUL("q8_0 M=9 N=17 K=96 acc (panel)", T_, GEMM2, TOL_MATMUL, 9, 17, 96, 0, 1, Q8_0),
    MATMUL("q8_0 M=65 N=64 K=256 bias (panel)", T_, DEF, TOL_MATMUL, 65, 64, 256, 1, 0, Q8_0),
    MATMUL("q4_0 M=1 N=50 K=32 (gemv)", T_, DEF, TOL_MATMUL, 1, 50, 32, 0, 0, Q4_0),
    MATMUL("q4_0 M=3 N=300 K=256 bias acc (gemv)", T_, DEF, TOL_MATMUL, 3, 300, 256, 1, 1, Q4_0),
    MATMUL("q4_0 M=8 N=13 K=96 acc (gemv)", T_, DEF, TOL_MATMUL, 8, 13, 96, 0, 1, Q4_0),
    MATMUL("q4_0 M=1 N=256 K=1024 bias (gemv GQA kv)", T_, DEF, TOL_MATMUL_LONG, 1, 256, 1024, 1, 0, Q4_0),
    MATMUL("q4_0 M=9 N=17 K=96 acc (panel)", T_, GEMM2, TOL_MATMUL, 9, 17, 96, 0, 1, Q4_0),
    MATMUL("q4_0 M=128 N=64 K=256 (panel)", T_, GEMM2, TOL_MATMUL, 128, 64, 256, 0, 0, Q4_0),
    /* decode fusions (gemv3_<t>, gemv_glu_<t>) vs the unfused reference:
     * every type (f32 and M > 8 take the unfused path), GQA widths, odd N
     * straddling the work-groups, 2 and 3 products */
    MMULTI("qkv f16 M=1 N=512+128+128 K=256 (GQA)", T_, TOL_MATMUL, 1, 512, 256, F16, 128, 128),
    MMULTI("qkv bf16 M=3 N=37+13+13 K=40 (odd, K % 16)", T_, TOL_MATMUL, 3, 37, 40, BF16, 13, 13),
    MMULTI("qkv q8_0 M=1 N=256+64+64 K=1024 (GQA)", T_, TOL_MATMUL_LONG, 1, 256, 1024, Q8_0, 64, 64),
    MMULTI("qkv q4_0 M=8 N=65+1+33 K=96 (odd)", T_, TOL_MATMUL, 8, 65, 96, Q4_0, 1, 33),
    MMULTI("qkv f32 M=1 N=100+20+20 K=70 (unfused)", T_, TOL_MATMUL, 1, 100, 70, 0, 20, 20),
    MMULTI("qk f16 M=2 N=63+70 K=7 (two, K < 16)", T_, TOL_MATMUL, 2, 63, 7, F16, 70, 0),
    MMULTI("qkv q8_0 M=9 N=40+8+8 K=64 (prefill, unfused)", T_, TOL_MATMUL, 9, 40, 64, Q8_0, 8, 8),
    MGLU("glu swiglu f16 M=1 F=300 K=256", T_, TOL_MATMUL, 1, 300, 256, F16, SWACL_FFN_SWIGLU),
    MGLU("glu swiglu bf16 M=4 F=77 K=33 (odd)", T_, TOL_MATMUL, 4, 77, 33, BF16, SWACL_FFN_SWIGLU),
    MGLU("glu geglu q8_0 M=1 F=129 K=1024", T_, TOL_MATMUL_LONG, 1, 129, 1024, Q8_0, SWACL_FFN_GEGLU_TANH),
    MGLU("glu swiglu q4_0 M=8 F=64 K=96", T_, TOL_MATMUL, 8, 64, 96, Q4_0, SWACL_FFN_SWIGLU),
    MGLU("glu geglu f16 M=2 F=1 K=48", T_, TOL_MATMUL, 2, 1, 48, F16, SWACL_FFN_GEGLU_TANH),
    MGLU("glu swiglu f32 M=1 F=50 K=64 (unfused)", T_, TOL_MATMUL, 1, 50, 64, 0, SWACL_FFN_SWIGLU),
    MGLU("glu swiglu q8_0 M=12 F=40 K=64 (prefill, unfused)", T_, TOL_MATMUL, 12, 40, 64, Q8_0, SWACL_FFN_SWIGLU),
    /* the own GEMM (gemm.cl) forced on any device: M just above the gemv
     * limit, M / N / K off the 6 x 16 tile and the 256-deep K block (K 257:
     * two blocks, the bias on the first only; K 600: three, accumulating),
     * K off the 8-wide pack for float types, and N past one 4 MiB panel (256 rows
     * at K 4096: five panels, the last of 6 rows) */
    MATMUL("own M=9 N=17 K=3 bias acc", T_, OWN, TOL_MATMUL, 9, 17, 3, 1, 1),
    MATMUL("own M=13 N=33 K=257 bias", T_, OWN, TOL_MATMUL, 13, 33, 257, 1, 0),
    MATMUL("own M=50 N=40 K=600 acc", T_, OWN, TOL_MATMUL_LONG, 50, 40, 600, 0, 1),
    MATMUL("own f16 M=10 N=21 K=37 bias acc", T_, OWN, TOL_MATMUL, 10, 21, 37, 1, 1, F16),
    MATMUL("own bf16 M=12 N=47 K=300 bias", T_, OWN, TOL_MATMUL, 12, 47, 300, 1, 0, BF16),
    MATMUL("own q8_0 M=9 N=31 K=288 bias acc", T_, OWN, TOL_MATMUL, 9, 31, 288, 1, 1, Q8_0),
    MATMUL("own q4_0 M=17 N=20 K=64 bias acc", T_, OWN, TOL_MATMUL, 17, 20, 64, 1, 1, Q4_0),
    MATMUL("own q4_0 M=9 N=1030 K=4096 (five panels)", T_, OWN, TOL_MATMUL_4K, 9, 1030, 4096, 0,
           0, Q4_0),
    MATMUL("own bf16 M=20 N=300 K=4096 bias (two panels)", T_, OWN, TOL_MATMUL_4K, 20, 300, 4096,
           1, 0, BF16),
    /* the local-memory GEMM (gemm_lm.cl, 32 x 32 tiles of 4 x 4 in the
     * variant; the GEMM2 rows above run it too): M / N off the tile, K
     * below and off the 16-deep K step (float types), every storage type,
     * bias and accumulate, several tiles in both directions */
    MATMUL("lm M=9 N=17 K=3 bias acc", T_, LM, TOL_MATMUL, 9, 17, 3, 1, 1),
    MATMUL("lm M=70 N=100 K=47 bias", T_, LM, TOL_MATMUL, 70, 100, 47, 1, 0),
    MATMUL("lm M=130 N=65 K=300 acc", T_, LM, TOL_MATMUL, 130, 65, 300, 0, 1),
    MATMUL("lm M=33 N=129 K=1000 bias acc", T_, LM, TOL_MATMUL_LONG, 33, 129, 1000, 1, 1),
    MATMUL("lm f16 M=65 N=70 K=37 bias acc", T_, LM, TOL_MATMUL, 65, 70, 37, 1, 1, F16),
    MATMUL("lm f16 M=200 N=33 K=513 bias", T_, LM, TOL_MATMUL_LONG, 200, 33, 513, 1, 0, F16),
    MATMUL("lm bf16 M=40 N=90 K=250 bias acc", T_, LM, TOL_MATMUL, 40, 90, 250, 1, 1, BF16),
    MATMUL("lm q8_0 M=70 N=45 K=288 bias acc", T_, LM, TOL_MATMUL, 70, 45, 288, 1, 1, Q8_0),
    MATMUL("lm q4_0 M=33 N=97 K=160 bias acc", T_, LM, TOL_MATMUL, 33, 97, 160, 1, 1, Q4_0),
    MATMUL("lm q4_0 M=129 N=200 K=1024", T_, LM, TOL_MATMUL_LONG, 129, 200, 1024, 0, 0, Q4_0),

    /* ---- norm (every kernel version) ----------------------------------- */
    NORM("rms 7x33 w", T_, NORM2, TOL_NORM, RMS, 7, 33, 1, 0, 0, 1e-5f),
    NORM("rms 5x256 in place", T_, NORM2, TOL_NORM, RMS, 5, 256, 0, 0, 1, 1e-5f),
    NORM("layer 9x65 w b", T_, NORM2, TOL_NORM, LN, 9, 65, 1, 1, 0, 1e-5f),
    NORM("layer 3x1000 w b in place", T_, NORM2, TOL_NORM, LN, 3, 1000, 1, 1, 1, 1e-5f),
    NORM("layer-nobias 4x128 w", T_, NORM2, TOL_NORM, LNNB, 4, 128, 1, 0, 0, 1e-5f),
    NORM("layer 17x64", T_, NORM2, TOL_NORM, LN, 17, 64, 0, 0, 0, 1e-5f),
    NORM("rms 1x4096 w", T_, NORM2, TOL_NORM, RMS, 1, 4096, 1, 0, 0, 1e-5f),

    /* ---- rope ---------------------------------------------------------- */
    ROPE("pair d32 from 0", T_, DEF, TOL_ROPE, PAIR, 1, 9, 3, 32, 10000.0f, {0}),
    ROPE("half d32 from 0", T_, DEF, TOL_ROPE, HALF, 1, 9, 3, 32, 10000.0f, {0}),
    ROPE("pair d64 pos 32760", T_, DEF, TOL_ROPE, PAIR, 2, 8, 2, 64, 10000.0f, {32760, 1000}),
    ROPE("half d64 pos 32760", T_, DEF, TOL_ROPE, HALF, 2, 8, 2, 64, 10000.0f, {32760, 1000}),
    ROPE("half d128 pos 40000 theta 5e5", T_, DEF, TOL_ROPE, HALF, 2, 4, 2, 128, 500000.0f,
         {40000, 7}),
    ROPE("pair d128 pos 32000 theta 1e6", T_, DEF, TOL_ROPE, PAIR, 1, 5, 4, 128, 1000000.0f,
         {32000}),

    /* partial RoPE (lanes >= rot pass through) and a YaRN-style mscale */
    ROPE("half d64 rot 16 pos 32760", T_, DEF, TOL_ROPE, HALF, 2, 8, 2, 64, 10000.0f,
         {32760, 3}, 16, 0.0f),
    ROPE("pair d80 rot 40", T_, DEF, TOL_ROPE, PAIR, 1, 7, 3, 80, 10000.0f, {100}, 40, 0.0f),
    ROPE("half d96 rot 32 mscale 1.3", T_, DEF, TOL_ROPE, HALF, 2, 5, 2, 96, 1000000.0f,
         {20000, 0}, 32, 1.3f),
    ROPE("pair d256 mscale 0.8", T_, DEF, TOL_ROPE, PAIR, 1, 4, 2, 256, 10000.0f, {1000}, 0,
         0.8f),
    ROPE("half d16 rot 2", T_, DEF, TOL_ROPE, HALF, 1, 6, 3, 16, 10000.0f, {7}, 2, 0.0f),
    ROPE("half d48 full, mscale 1.1", T_, DEF, TOL_ROPE, HALF, 1, 9, 4, 48, 10000.0f, {30000},
         0, 1.1f),
    /* per-head QK-norm: rows of one head's width */
    NORM("rms 60x16 w (QK-norm d16)", T_, NORM2, TOL_NORM, RMS, 60, 16, 1, 0, 1, 1e-6f),
    NORM("rms 37x80 w (QK-norm d80)", T_, NORM2, TOL_NORM, RMS, 37, 80, 1, 0, 0, 1e-6f),
    NORM("rms 9x256 w (QK-norm d256)", T_, NORM2, TOL_NORM, RMS, 9, 256, 1, 0, 1, 1e-6f),

    /* ---- benchmark: per-token ops at cohere2 dims. Their footprint (64 MiB
     * and more) exceeds the last-level cache (32 MiB on the project
     * machine) as the copy probe's does, so GB/s / copy GB/s compares
     * like with like: 4096 x 256 (4 MiB) stays in L3 and read 2.4x "copy". */
    ROPE("rope 65536x256", B_ | Q_, DEF, TOL_ROPE, HALF, 1, 65536, 4, 64, 10000.0f, {0}),
    NORM("rmsnorm 65536x256", B_ | Q_, DEF, TOL_NORM, RMS, 65536, 256, 1, 0, 0, 1e-6f),
    ACT("swiglu 16384x768", B_ | Q_, DEF, TOL_ELT, 16384, 768, SWIGLU, 0, 0.0f),
    /* the same ops at cache-resident sizes, tested only */
    ROPE("rope 4096x256", T_, DEF, TOL_ROPE, HALF, 1, 4096, 4, 64, 10000.0f, {0}),
    NORM("rmsnorm 4096x256", T_, DEF, TOL_NORM, RMS, 4096, 256, 1, 0, 0, 1e-6f),
    ACT("swiglu 4096x768", T_, DEF, TOL_ELT, 4096, 768, SWIGLU, 0, 0.0f),
    /* odd sizes of the float8 kernels: n < 8, blocks plus tails, GQA-like
     * head counts, pair counts that are not a multiple of 8 */
    NORM("rms 3x5 w", T_, NORM2, TOL_NORM, RMS, 3, 5, 1, 0, 0, 1e-5f),
    NORM("layer 6x23 w b in place", T_, NORM2, TOL_NORM, LN, 6, 23, 1, 1, 1, 1e-5f),
    NORM("layer-nobias 5x1031 w", T_, NORM2, TOL_NORM, LNNB, 5, 1031, 1, 0, 0, 1e-5f),
    ROPE("pair d20 3 seqs GQA k heads", T_, DEF, TOL_ROPE, PAIR, 3, 5, 1, 20, 10000.0f,
         {0, 17, 31000}),
    ROPE("half d20 3 seqs q heads", T_, DEF, TOL_ROPE, HALF, 3, 5, 5, 20, 10000.0f,
         {0, 17, 31000}),
    ROPE("pair d128 rot 72 pos 9000", T_, DEF, TOL_ROPE, PAIR, 1, 11, 3, 128, 50000.0f, {9000},
         72, 0.0f),
    ACT("swiglu n=15", T_, DEF, TOL_ELT, 1, 15, SWIGLU, 0, 0.0f),
    ACT("geglu_tanh n=9 in place", T_, DEF, TOL_ELT, 1, 9, GEGLU_TANH, 1, 0.0f),
    ACT("gelu n=7", T_, DEF, TOL_ELT, 1, 7, GELU, 0, 0.0f),

    /* ---- elementwise --------------------------------------------------- */
    ACT("swiglu n=1", T_, DEF, TOL_ELT, 1, 1, SWIGLU, 0, 0.0f),
    ACT("swiglu n=1001", T_, DEF, TOL_ELT, 1, 1001, SWIGLU, 0, 0.0f),
    ACT("gelu n=1001", T_, DEF, TOL_ELT, 1, 1001, GELU, 0, 0.0f),
    ACT("gelu n=64", T_, DEF, TOL_ELT, 1, 64, GELU, 0, 0.0f),
    ADD("add n=777", T_, DEF, TOL_ELT, 1, 777, SWIGLU, 0, 0.0f),
    SCALE("scale n=777 by -0.37", T_, DEF, TOL_ELT, 1, 777, SWIGLU, 0, -0.37f),
    ACT("swiglu in place n=300", T_, DEF, TOL_ELT, 1, 300, SWIGLU, 1, 0.0f),
    ACT("gelu n=100000", T_, DEF, TOL_ELT, 1, 100000, GELU, 0, 0.0f),

    /* tanh GeGLU (Gemma); gate spans +-6, past the tanh's bend */
    ACT("geglu_tanh n=1001", T_, DEF, TOL_ELT, 1, 1001, GEGLU_TANH, 0, 0.0f),
    ACT("geglu_tanh in place n=300", T_, DEF, TOL_ELT, 1, 300, GEGLU_TANH, 1, 0.0f),
    ACT("geglu_tanh 33x777", T_, DEF, TOL_ELT, 33, 777, GEGLU_TANH, 0, 0.0f),
    /* final-logit soft-cap over inputs in +-6: cap 30 (Gemma 2) nearly
     * linear, cap 1 saturates */
    SOFTCAP("softcap n=1 cap 30", T_, DEF, TOL_ELT, 1, 1, SWIGLU, 0, 30.0f),
    SOFTCAP("softcap n=50000 cap 30", T_, DEF, TOL_ELT, 1, 50000, SWIGLU, 0, 30.0f),
    SOFTCAP("softcap n=1001 cap 1", T_, DEF, TOL_ELT, 1, 1001, SWIGLU, 0, 1.0f),
    SOFTCAP("softcap n=777 cap 0.05", T_, DEF, TOL_ELT, 1, 777, SWIGLU, 0, 0.05f),

    /* ---- copies -------------------------------------------------------- */
    EMBED("ids V=50 D=37 n=23, both ends", T_, DEF, TOL_EXACT, 50, 37, 23),
    GATHER("rows V=50 D=37 n=23", T_, DEF, TOL_EXACT, 50, 37, 23),
    /* packed tables: the decode is exact, so the copy stays exact */
    EMBED("f16 table V=50 D=37 n=23", T_, DEF, TOL_EXACT, 50, 37, 23, F16),
    EMBED("bf16 table V=50 D=44 n=23", T_, DEF, TOL_EXACT, 50, 44, 23, BF16),
    EMBED("q8_0 table V=50 D=64 n=23", T_, DEF, TOL_EXACT, 50, 64, 23, Q8_0),
    EMBED("q4_0 table V=50 D=96 n=23", T_, DEF, TOL_EXACT, 50, 96, 23, Q4_0),
    KV("n_new > cap: only the newest cap rows", T_, DEF, TOL_EXACT, 2, 10, 4, 37, {0, 7},
       {10, 3}),
    KV("decode", T_, DEF, TOL_EXACT, 3, 1, 16, 64, {0, 15, 777}, {1, 1, 1}),
    KV("empty sequence", T_, DEF, TOL_EXACT, 2, 20, 64, 128, {100, 5000}, {20, 0}),
    KV("exactly cap rows, wraps", T_, DEF, TOL_EXACT, 1, 9, 9, 8, {3}, {9}),
    KV("width 2x80 (head_dim 80, 2 KV heads)", T_, DEF, TOL_EXACT, 2, 5, 7, 160, {5, 0}, {5, 2}),
    /* f16 caches: both sides round to nearest even, read back decoded */
    KV("f16 n_new > cap: only the newest cap rows", T_, DEF, TOL_EXACT, 2, 10, 4, 37, {0, 7},
       {10, 3}, 1),
    KV("f16 decode", T_, DEF, TOL_EXACT, 3, 1, 16, 256, {0, 15, 777}, {1, 1, 1}, 1),
    KV("f16 exactly cap rows, wraps, width 128", T_, DEF, TOL_EXACT, 1, 9, 9, 128, {3}, {9}, 1),

    /* ---- benchmark: GEMMs at cohere2 dims, 1024 then 4096 rows --------- */
    MATMUL("gemm qkv 1024x384<-256", T_ | B_ | Q_, DEF, TOL_MATMUL, 1024, 384, 256, 0, 0),
    MATMUL("gemm up/gate 1024x768<-256", T_ | B_ | Q_, DEF, TOL_MATMUL, 1024, 768, 256, 0, 0),
    MATMUL("gemm down 1024x256<-768", T_ | B_ | Q_, DEF, TOL_MATMUL_LONG, 1024, 256, 768, 0, 0),
    MATMUL("gemm qkv 4096x384<-256", B_, DEF, TOL_MATMUL, 4096, 384, 256, 0, 0),
    MATMUL("gemm up/gate 4096x768<-256", B_, DEF, TOL_MATMUL, 4096, 768, 256, 0, 0),
    MATMUL("gemm down 4096x256<-768", B_, DEF, TOL_MATMUL_LONG, 4096, 256, 768, 0, 0),
};

const swacl_op_case *swacl_op_cases(size_t *n)
{
    if (n) *n = sizeof k_cases / sizeof k_cases[0];
    return k_cases;
}

const swacl_op_case *swacl_op_case_find(const char *label)
{
    size_t n;
    const swacl_op_case *c = swacl_op_cases(&n);
    for (size_t i = 0; label && i < n; i++)
        if (strcmp(c[i].label, label) == 0) return &c[i];
    return NULL;
}

const char *swacl_op_kind_name(swacl_op_kind k)
{
    static const char *const names[SWACL_OP_KIND_COUNT] = {
        "attention", "matmul", "norm", "rope", "act", "add", "scale", "embed", "gather_rows",
        "kv_store", "softcap", "matmul_multi", "matmul_glu"};
    return (unsigned)k < SWACL_OP_KIND_COUNT ? names[k] : "?";
}

const char *swacl_op_variant_name(swacl_op_variant v)
{
    static const char *const names[SWACL_OPV_COUNT] = {
        "default", "row", "tiled", "blk", "row", "wg", "own", "clblast", "r1", "r2", "r4", "r8",
        "lm"};
    return (unsigned)v < SWACL_OPV_COUNT ? names[v] : "?";
}

int swacl_op_variant_kind(swacl_op_variant v)
{
    switch (v) {
    case SWACL_OPV_ATTN_ROW:
    case SWACL_OPV_ATTN_TILED:
    case SWACL_OPV_ATTN_BLK: return SWACL_OP_ATTENTION;
    case SWACL_OPV_NORM_ROW:
    case SWACL_OPV_NORM_WG: return SWACL_OP_NORM;
    case SWACL_OPV_GEMM_OWN:
    case SWACL_OPV_GEMM_CLBLAST:
    case SWACL_OPV_GEMM_LM: return SWACL_OP_MATMUL;
    case SWACL_OPV_GEMV_R1:
    case SWACL_OPV_GEMV_R2:
    case SWACL_OPV_GEMV_R4:
    case SWACL_OPV_GEMV_R8: return SWACL_OP_MATMUL;
    default: return -1;
    }
}
