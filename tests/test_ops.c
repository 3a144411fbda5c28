/*
 * test_ops.c - every OpenCL op against the CPU reference backend on
 * identical seeded inputs (one Criterion parameterized test per op family,
 * cases in static tables; each case runs in its own process).
 *
 * Tolerances (expect_close: atol + rtol*|ref| per element, and an NMSE cap):
 *   attention  atol 1e-5, rtol 1e-5, nmse 1e-10. The kernel accumulates in
 *              float (online softmax, float4 dot products of <= 128 terms)
 *              against a double reference; inputs are O(1), outputs are
 *              convex combinations of O(1) values, so float rounding gives
 *              errors of a few 1e-7 (measured on PoCL: max_abs 1.6e-7, nmse <= 2.2e-13).
 *   matmul     atol 3e-5, rtol 1e-5, nmse 1e-11 (CLBlast float dot products
 *              of K <= 300 terms of size <= 1; measured max 1.05e-5 at K=256).
 *   norm       atol 1e-5, rtol 1e-5, nmse 1e-11 (float sums over the row;
 *              measured max 9.5e-7 at n=4096).
 *   rope       atol 1e-5, rtol 0, nmse 1e-11 at positions up to 40000 (the
 *              kernel's angle is computed in double when cl_khr_fp64 exists;
 *              measured max 1.2e-7, i.e. 1 ulp).
 *   act / add / scale  atol 1e-6, rtol 1e-6, nmse 1e-12.
 *   embed / gather_rows / kv_store  exact (pure copies).
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

/* Both backends of one test: cl (skips without a device) and ref. */
typedef struct {
    swacl_ctx *clc, *refc;
    swacl_backend *cl, *ref;
} pair_t;

static pair_t pair_open(void)
{
    pair_t p;
    p.clc = test_cl_ctx();
    p.refc = test_ref_ctx();
    p.cl = p.clc->be;
    p.ref = p.refc->be;
    return p;
}

/* The same with the OpenCL side's kernel variants forced. */
static pair_t pair_open_kernels(const swacl_kernel_params *k)
{
    pair_t p;
    p.clc = test_cl_ctx_kernels(k);
    p.refc = test_ref_ctx();
    p.cl = p.clc->be;
    p.ref = p.refc->be;
    return p;
}

static void pair_close(pair_t *p)
{
    swacl_ctx_destroy(p->clc);
    swacl_ctx_destroy(p->refc);
}

static float *rand_floats(size_t n, uint64_t seed, float scale)
{
    float *x = malloc((n ? n : 1) * sizeof(float));
    cr_assert(x != NULL);
    fill_uniform(x, n, seed, scale);
    return x;
}

#define CHECK_OK(be, expr)                                                   \
    do {                                                                     \
        swacl_status st_ = (expr);                                           \
        cr_assert(st_ == SWACL_OK, "%s -> %s: %s", #expr, swacl_status_string(st_), \
                  swacl_ctx_errmsg((be)->ctx));                              \
    } while (0)

/* ======================================================================== */
/* attention                                                                 */

typedef struct {
    char name[48]; /* inline: Criterion copies params into another process */
    int B, T, H, Hkv, d;
    swacl_span span;
    int S;
    swacl_temp temp;
    float p0, p1;
    int cap;       /* 0: no cache                                           */
    int pos0[4];   /* per sequence                                          */
    int n_new[4];  /* 0 means T                                             */
} attn_case;

/* Shared by the attention tests (one per OpenCL kernel version). */
static attn_case attn_cases[] = {
    {"L<W", 1, 40, 2, 2, 64, SWACL_SPAN_WINDOW, 64, SWACL_TEMP_NONE, 0, 0, 0, {0}, {0}},
    {"L not multiple of tile, GQA2", 1, 77, 2, 1, 64, SWACL_SPAN_WINDOW, 20, SWACL_TEMP_NONE,
     0, 0, 0, {0}, {0}},
    {"W=1", 1, 33, 2, 2, 32, SWACL_SPAN_WINDOW, 1, SWACL_TEMP_NONE, 0, 0, 0, {0}, {0}},
    {"W=L, GQA4", 1, 50, 4, 1, 32, SWACL_SPAN_WINDOW, 50, SWACL_TEMP_NONE, 0, 0, 0, {0}, {0}},
    {"W>L", 2, 19, 2, 2, 64, SWACL_SPAN_WINDOW, 300, SWACL_TEMP_NONE, 0, 0, 0, {0}, {0}},
    {"global d128 batch2 GQA2", 2, 45, 4, 2, 128, SWACL_SPAN_GLOBAL, 0, SWACL_TEMP_NONE, 0, 0,
     0, {0}, {0}},
    {"window d128 GQA4 batch3", 3, 70, 4, 1, 128, SWACL_SPAN_WINDOW, 24, SWACL_TEMP_NONE, 0,
     0, 0, {0}, {0}},
    {"chunk 32", 2, 90, 2, 1, 64, SWACL_SPAN_CHUNK, 32, SWACL_TEMP_NONE, 0, 0, 0, {0}, {0}},
    {"chunk 7", 1, 50, 2, 2, 32, SWACL_SPAN_CHUNK, 7, SWACL_TEMP_NONE, 0, 0, 0, {0}, {0}},
    {"llama4 temperature p0=4", 1, 60, 2, 1, 64, SWACL_SPAN_GLOBAL, 0, SWACL_TEMP_LLAMA4, 4,
     0.1f, 0, {0}, {0}},
    {"llama4 chunk + cache", 2, 20, 2, 1, 64, SWACL_SPAN_CHUNK, 16, SWACL_TEMP_LLAMA4, 4,
     0.1f, 16, {200, 37}, {20, 13}},
    {"log-ratio temperature", 2, 64, 2, 2, 32, SWACL_SPAN_GLOBAL, 0, SWACL_TEMP_LOG_RATIO,
     16, 0, 0, {0}, {0}},
    {"log-ratio global + cache", 1, 24, 2, 1, 64, SWACL_SPAN_GLOBAL, 0,
     SWACL_TEMP_LOG_RATIO, 16, 0, 400, {300}, {0}},
    {"window ring cache, wraps, ragged", 2, 16, 4, 2, 64, SWACL_SPAN_WINDOW, 32, SWACL_TEMP_NONE,
     0, 0, 32, {1000, 5003}, {16, 9}},
    {"window cache far past wraps d128", 1, 5, 2, 1, 128, SWACL_SPAN_WINDOW, 64,
     SWACL_TEMP_NONE, 0, 0, 64, {40000}, {0}},
    {"decode T=1 window", 3, 1, 4, 1, 64, SWACL_SPAN_WINDOW, 16, SWACL_TEMP_NONE, 0, 0, 16,
     {0, 15, 777}, {0}},
    {"decode T=1 global", 2, 1, 2, 2, 32, SWACL_SPAN_GLOBAL, 0, SWACL_TEMP_NONE, 0, 0, 600,
     {0, 500}, {0}},
    {"decode T=1 global llama4", 2, 1, 4, 2, 128, SWACL_SPAN_GLOBAL, 0, SWACL_TEMP_LLAMA4, 4,
     0.1f, 300, {299, 123}, {1, 1}},
    {"ragged prefill, no cache", 3, 40, 2, 1, 32, SWACL_SPAN_WINDOW, 8, SWACL_TEMP_NONE, 0, 0,
     0, {0}, {40, 17, 1}},
    {"ragged, W < T, cache", 2, 48, 2, 2, 64, SWACL_SPAN_WINDOW, 8, SWACL_TEMP_NONE, 0, 0, 8,
     {3, 1234}, {48, 30}},
    {"global cache ragged", 2, 20, 4, 4, 32, SWACL_SPAN_GLOBAL, 0, SWACL_TEMP_NONE, 0, 0, 100,
     {50, 70}, {20, 7}},
    {"W=1, pos0 > 0, no cache needed", 2, 3, 2, 1, 32, SWACL_SPAN_WINDOW, 1, SWACL_TEMP_NONE, 0,
     0, 0, {500, 9}, {3, 2}},
    {"long window prefill", 1, 300, 2, 1, 64, SWACL_SPAN_WINDOW, 48, SWACL_TEMP_NONE, 0, 0, 0,
     {0}, {0}},
    /* attn_fwd_blk: GQA 8 (two head blocks of 4 / one of 8), GQA 3 (odd) */
    {"window GQA8 prefill + cache", 2, 37, 8, 1, 64, SWACL_SPAN_WINDOW, 40, SWACL_TEMP_NONE, 0,
     0, 40, {100, 0}, {37, 21}},
    {"global GQA3 d32 log-ratio", 1, 29, 6, 2, 32, SWACL_SPAN_GLOBAL, 0, SWACL_TEMP_LOG_RATIO,
     16, 0, 0, {0}, {0}},
    /* T == 1 past ATTN_SPLIT_MIN_KEYS (1024 keys): split-K decode path */
    {"split decode global GQA4 llama4", 2, 1, 8, 2, 64, SWACL_SPAN_GLOBAL, 0, SWACL_TEMP_LLAMA4,
     8192, 0.1f, 6000, {5000, 1030}, {1, 1}},
    {"split decode global d128 log-ratio", 1, 1, 2, 2, 128, SWACL_SPAN_GLOBAL, 0,
     SWACL_TEMP_LOG_RATIO, 16, 0, 5200, {5000}, {0}},
    {"split decode global d32 GQA3 ragged", 3, 1, 3, 1, 32, SWACL_SPAN_GLOBAL, 0,
     SWACL_TEMP_NONE, 0, 0, 4100, {4099, 20, 3000}, {1, 1, 0}},
    {"split decode window ring wraps", 2, 1, 4, 1, 64, SWACL_SPAN_WINDOW, 1500, SWACL_TEMP_NONE,
     0, 0, 1500, {9321, 1600}, {1, 1}},
    {"split decode window ring wraps d128", 1, 1, 4, 2, 128, SWACL_SPAN_WINDOW, 2048,
     SWACL_TEMP_LLAMA4, 4, 0.1f, 2048, {20000}, {0}},
    {"split decode chunk", 1, 1, 2, 1, 32, SWACL_SPAN_CHUNK, 4096, SWACL_TEMP_NONE, 0, 0, 4096,
     {8190}, {0}},
};

/* kernel: "row" (attn_fwd_row), "tiled" (attn_fwd, the local-memory / GPU
 * version) or "blk" (attn_fwd_blk, the CPU version), forced through
 * swacl_ctx_params.kernels.attn. T == 1 cases with more than 1024 keys take
 * the split-K decode path (attn_split_blk + attn_merge) with any of them. */
static void check_attention(const attn_case *c, const char *kernel)
{
    swacl_kernel_params kp = {.attn = !strcmp(kernel, "row")     ? SWACL_ATTN_KERNEL_ROW
                                      : !strcmp(kernel, "tiled") ? SWACL_ATTN_KERNEL_TILED
                                                                 : SWACL_ATTN_KERNEL_BLK};
    pair_t P = pair_open_kernels(&kp);
    swacl_kernel_params used;
    cr_assert_eq(swacl_ctx_kernel_params(P.clc, &used), SWACL_OK);
    cr_assert_eq(used.attn, kp.attn, "attention kernel %d, asked for %s", (int)used.attn, kernel);
    const size_t rows = (size_t)c->B * c->T;
    const size_t nq = rows * c->H * c->d, nkv = rows * c->Hkv * c->d;
    const size_t ncache = c->cap ? (size_t)c->B * c->cap * c->Hkv * c->d : 0;
    int pos0[4], n_new[4];
    for (int b = 0; b < c->B; b++) {
        pos0[b] = c->pos0[b];
        n_new[b] = c->n_new[b] ? c->n_new[b] : c->T;
    }
    float *q = rand_floats(nq, 11, 1.0f), *k = rand_floats(nkv, 12, 1.0f);
    float *v = rand_floats(nkv, 13, 1.0f);
    float *kc = rand_floats(ncache, 14, 1.0f), *vc = rand_floats(ncache, 15, 1.0f);
    float *outs[2];
    swacl_backend *bes[2] = {P.cl, P.ref};
    for (int i = 0; i < 2; i++) {
        swacl_backend *be = bes[i];
        swacl_buf *bq = test_upload(be, q, nq), *bk = test_upload(be, k, nkv);
        swacl_buf *bv = test_upload(be, v, nkv), *bo = test_alloc(be, nq);
        swacl_buf *bkc = c->cap ? test_upload(be, kc, ncache) : NULL;
        swacl_buf *bvc = c->cap ? test_upload(be, vc, ncache) : NULL;
        swacl_attn_args a = {.B = c->B, .T = c->T, .H = c->H, .Hkv = c->Hkv, .d = c->d,
                             .q = bq, .k = bk, .v = bv, .kc = bkc, .vc = bvc, .cap = c->cap,
                             .pos0 = pos0, .n_new = n_new, .span = c->span,
                             .span_size = c->S, .scale = 1.0f / sqrtf((float)c->d),
                             .temp = c->temp, .temp_p0 = c->p0, .temp_p1 = c->p1, .out = bo};
        CHECK_OK(be, be->iface->attention(be, &a));
        CHECK_OK(be, be->iface->finish(be));
        outs[i] = test_download(be, bo, nq);
        be->iface->buf_free(be, bq);
        be->iface->buf_free(be, bk);
        be->iface->buf_free(be, bv);
        be->iface->buf_free(be, bo);
        be->iface->buf_free(be, bkc);
        be->iface->buf_free(be, bvc);
    }
    /* compare only the valid rows t < n_new[b] (the rest is unspecified) */
    const size_t w = (size_t)c->H * c->d;
    for (int b = 0; b < c->B; b++) {
        char what[160];
        snprintf(what, sizeof what, "attention[%s] '%s' seq %d", kernel, c->name, b);
        expect_close(what, outs[0] + (size_t)b * c->T * w, outs[1] + (size_t)b * c->T * w,
                     (size_t)n_new[b] * w, 1e-5, 1e-5, 1e-10);
    }
    free(outs[0]);
    free(outs[1]);
    free(q);
    free(k);
    free(v);
    free(kc);
    free(vc);
    pair_close(&P);
}

ParameterizedTestParameters(ops, attention_row)
{
    return cr_make_param_array(attn_case, attn_cases, sizeof attn_cases / sizeof attn_cases[0]);
}
ParameterizedTest(attn_case *c, ops, attention_row) { check_attention(c, "row"); }

ParameterizedTestParameters(ops, attention_tiled)
{
    return cr_make_param_array(attn_case, attn_cases, sizeof attn_cases / sizeof attn_cases[0]);
}
ParameterizedTest(attn_case *c, ops, attention_tiled) { check_attention(c, "tiled"); }

ParameterizedTestParameters(ops, attention_blk)
{
    return cr_make_param_array(attn_case, attn_cases, sizeof attn_cases / sizeof attn_cases[0]);
}
ParameterizedTest(attn_case *c, ops, attention_blk) { check_attention(c, "blk"); }

Test(ops, attention_bad_head_dim)
{
    pair_t P = pair_open();
    swacl_backend *be = P.cl;
    swacl_buf *b = test_alloc(be, 4 * 48);
    int pos0 = 0, n_new = 2;
    swacl_attn_args a = {.B = 1, .T = 2, .H = 2, .Hkv = 2, .d = 48, .q = b, .k = b, .v = b,
                         .pos0 = &pos0, .n_new = &n_new, .span = SWACL_SPAN_GLOBAL,
                         .scale = 0.1f, .out = b};
    swacl_status st = be->iface->attention(be, &a);
    cr_assert_eq(st, SWACL_UNSUPPORTED, "got %s", swacl_status_string(st));
    cr_assert(strstr(swacl_ctx_errmsg(P.clc), "48") != NULL, "message: %s",
              swacl_ctx_errmsg(P.clc));
    a.d = 64;
    a.Hkv = 3; /* does not divide H */
    st = be->iface->attention(be, &a);
    cr_assert_eq(st, SWACL_INVALID_ARG, "got %s", swacl_status_string(st));
    be->iface->buf_free(be, b);
    pair_close(&P);
}

/* ======================================================================== */
/* matmul                                                                    */

typedef struct {
    int M, N, K, bias, accumulate;
} mm_case;

ParameterizedTestParameters(ops, matmul)
{
    static mm_case cases[] = {
        {1, 1, 1, 0, 0},   {7, 13, 5, 1, 0},   {33, 17, 65, 0, 1}, {65, 31, 129, 1, 1},
        {5, 300, 70, 1, 0}, {128, 64, 256, 0, 0}, {3, 7, 300, 1, 1}, {1, 50, 33, 0, 0},
        /* M <= 8 takes the gemv kernel, M = 9 CLBlast: both sides of the switch */
        {1, 256, 768, 1, 1}, {8, 64, 256, 1, 1}, {9, 64, 256, 0, 1}, {2, 768, 256, 0, 0},
    };
    return cr_make_param_array(mm_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(mm_case *c, ops, matmul)
{
    pair_t P = pair_open();
    const size_t nx = (size_t)c->M * c->K, nw = (size_t)c->N * c->K, ny = (size_t)c->M * c->N;
    float *x = rand_floats(nx, 21, 1.0f), *w = rand_floats(nw, 22, 1.0f);
    float *bias = rand_floats((size_t)c->N, 23, 1.0f), *y0 = rand_floats(ny, 24, 1.0f);
    float *outs[2];
    swacl_backend *bes[2] = {P.cl, P.ref};
    for (int i = 0; i < 2; i++) {
        swacl_backend *be = bes[i];
        swacl_buf *bx = test_upload(be, x, nx), *bw = test_upload(be, w, nw);
        swacl_buf *bb = c->bias ? test_upload(be, bias, (size_t)c->N) : NULL;
        swacl_buf *by = test_upload(be, y0, ny);
        CHECK_OK(be, be->iface->matmul(be, by, bx, bw, bb, c->M, c->N, c->K, c->accumulate));
        CHECK_OK(be, be->iface->finish(be));
        outs[i] = test_download(be, by, ny);
        be->iface->buf_free(be, bx);
        be->iface->buf_free(be, bw);
        be->iface->buf_free(be, bb);
        be->iface->buf_free(be, by);
    }
    char what[96];
    snprintf(what, sizeof what, "matmul M=%d N=%d K=%d bias=%d acc=%d", c->M, c->N, c->K, c->bias,
             c->accumulate);
    expect_close(what, outs[0], outs[1], ny, 3e-5, 1e-5, 1e-11);
    free(outs[0]);
    free(outs[1]);
    free(x);
    free(w);
    free(bias);
    free(y0);
    pair_close(&P);
}

/* ======================================================================== */
/* norm                                                                      */

typedef struct {
    swacl_norm kind;
    int rows, n, weight, bias, in_place;
} norm_case;

static norm_case k_norm_cases[] = {
        {SWACL_NORM_RMS, 7, 33, 1, 0, 0},          {SWACL_NORM_RMS, 5, 256, 0, 0, 1},
        {SWACL_NORM_LAYER, 9, 65, 1, 1, 0},        {SWACL_NORM_LAYER, 3, 1000, 1, 1, 1},
        {SWACL_NORM_LAYER_NOBIAS, 4, 128, 1, 0, 0}, {SWACL_NORM_LAYER, 17, 64, 0, 0, 0},
        {SWACL_NORM_RMS, 1, 4096, 1, 0, 0},
};

ParameterizedTestParameters(ops, norm)
{
    return cr_make_param_array(norm_case, k_norm_cases, sizeof k_norm_cases / sizeof k_norm_cases[0]);
}

/* kernel: "row" (norm_row, the CPU choice) or "wg" (norm_wg, the GPU
 * choice), forced through swacl_ctx_params.kernels.norm. */
static void check_norm(const norm_case *c, const char *kernel)
{
    swacl_kernel_params kp = {.norm = !strcmp(kernel, "row") ? SWACL_NORM_KERNEL_ROW
                                                             : SWACL_NORM_KERNEL_WG};
    pair_t P = pair_open_kernels(&kp);
    swacl_kernel_params used;
    cr_assert_eq(swacl_ctx_kernel_params(P.clc, &used), SWACL_OK);
    cr_assert_eq(used.norm, kp.norm, "norm kernel %d, asked for %s", (int)used.norm, kernel);
    const size_t nx = (size_t)c->rows * c->n;
    float *x = rand_floats(nx, 31, 2.0f), *w = rand_floats((size_t)c->n, 32, 1.5f);
    float *b = rand_floats((size_t)c->n, 33, 1.0f);
    for (size_t i = 0; i < nx; i++) x[i] += 0.5f; /* non-zero mean */
    float *outs[2];
    swacl_backend *bes[2] = {P.cl, P.ref};
    for (int i = 0; i < 2; i++) {
        swacl_backend *be = bes[i];
        swacl_buf *bx = test_upload(be, x, nx);
        swacl_buf *by = c->in_place ? bx : test_alloc(be, nx);
        swacl_buf *bw = c->weight ? test_upload(be, w, (size_t)c->n) : NULL;
        swacl_buf *bb = c->bias ? test_upload(be, b, (size_t)c->n) : NULL;
        CHECK_OK(be, be->iface->norm(be, c->kind, by, bx, bw, bb, c->rows, c->n, 1e-5f));
        CHECK_OK(be, be->iface->finish(be));
        outs[i] = test_download(be, by, nx);
        if (!c->in_place) be->iface->buf_free(be, by);
        be->iface->buf_free(be, bx);
        be->iface->buf_free(be, bw);
        be->iface->buf_free(be, bb);
    }
    char what[96];
    snprintf(what, sizeof what, "norm_%s kind=%d rows=%d n=%d w=%d b=%d", kernel, (int)c->kind,
             c->rows, c->n, c->weight, c->bias);
    expect_close(what, outs[0], outs[1], nx, 1e-5, 1e-5, 1e-11);
    free(outs[0]);
    free(outs[1]);
    free(x);
    free(w);
    free(b);
    pair_close(&P);
}

ParameterizedTestParameters(ops, norm_wg)
{
    return cr_make_param_array(norm_case, k_norm_cases, sizeof k_norm_cases / sizeof k_norm_cases[0]);
}

ParameterizedTest(norm_case *c, ops, norm) { check_norm(c, "row"); }
ParameterizedTest(norm_case *c, ops, norm_wg) { check_norm(c, "wg"); }

/* ======================================================================== */
/* rope                                                                      */

typedef struct {
    swacl_pos layout;
    int B, T, nh, d;
    float theta;
    int pos0[2];
} rope_case;

ParameterizedTestParameters(ops, rope)
{
    static rope_case cases[] = {
        {SWACL_POS_ROPE_PAIR, 1, 9, 3, 32, 10000.0f, {0}},
        {SWACL_POS_ROPE_HALF, 1, 9, 3, 32, 10000.0f, {0}},
        {SWACL_POS_ROPE_PAIR, 2, 8, 2, 64, 10000.0f, {32760, 1000}},
        {SWACL_POS_ROPE_HALF, 2, 8, 2, 64, 10000.0f, {32760, 1000}},
        {SWACL_POS_ROPE_HALF, 2, 4, 2, 128, 500000.0f, {40000, 7}},
        {SWACL_POS_ROPE_PAIR, 1, 5, 4, 128, 1000000.0f, {32000}},
    };
    return cr_make_param_array(rope_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(rope_case *c, ops, rope)
{
    pair_t P = pair_open();
    const size_t n = (size_t)c->B * c->T * c->nh * c->d;
    float *x = rand_floats(n, 41, 1.0f);
    float *outs[2];
    swacl_backend *bes[2] = {P.cl, P.ref};
    for (int i = 0; i < 2; i++) {
        swacl_backend *be = bes[i];
        swacl_buf *bx = test_upload(be, x, n);
        CHECK_OK(be, be->iface->rope(be, bx, c->B, c->T, c->nh, c->d, c->pos0, c->layout,
                                     c->theta));
        CHECK_OK(be, be->iface->finish(be));
        outs[i] = test_download(be, bx, n);
        be->iface->buf_free(be, bx);
    }
    char what[96];
    snprintf(what, sizeof what, "rope layout=%d d=%d pos0=%d theta=%g", (int)c->layout, c->d,
             c->pos0[0], (double)c->theta);
    expect_close(what, outs[0], outs[1], n, 1e-5, 0.0, 1e-11);
    free(outs[0]);
    free(outs[1]);
    free(x);
    pair_close(&P);
}

/* ======================================================================== */
/* elementwise: act, add, scale                                              */

typedef struct {
    int op; /* 0 swiglu, 1 gelu, 2 add, 3 scale, 4 swiglu in place */
    size_t n;
} elt_case;

ParameterizedTestParameters(ops, elementwise)
{
    static elt_case cases[] = {{0, 1}, {0, 1001}, {1, 1001}, {1, 64}, {2, 777},
                               {3, 777}, {4, 300}, {1, 100000}};
    return cr_make_param_array(elt_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(elt_case *c, ops, elementwise)
{
    pair_t P = pair_open();
    const size_t n = c->n;
    float *g = rand_floats(n, 51, 6.0f), *u = rand_floats(n, 52, 2.0f);
    float *outs[2];
    swacl_backend *bes[2] = {P.cl, P.ref};
    for (int i = 0; i < 2; i++) {
        swacl_backend *be = bes[i];
        swacl_buf *bg = test_upload(be, g, n), *bu = test_upload(be, u, n);
        swacl_buf *bo = test_alloc(be, n), *res = bo;
        switch (c->op) {
        case 0: CHECK_OK(be, be->iface->act(be, SWACL_FFN_SWIGLU, bo, bg, bu, n)); break;
        case 1: CHECK_OK(be, be->iface->act(be, SWACL_FFN_GELU, bo, bg, NULL, n)); break;
        case 2: CHECK_OK(be, be->iface->add(be, bg, bu, n)); res = bg; break;
        case 3: CHECK_OK(be, be->iface->scale(be, bg, -0.37f, n)); res = bg; break;
        default: CHECK_OK(be, be->iface->act(be, SWACL_FFN_SWIGLU, bg, bg, bu, n)); res = bg;
        }
        CHECK_OK(be, be->iface->finish(be));
        outs[i] = test_download(be, res, n);
        be->iface->buf_free(be, bg);
        be->iface->buf_free(be, bu);
        be->iface->buf_free(be, bo);
    }
    char what[64];
    snprintf(what, sizeof what, "elementwise op=%d n=%zu", c->op, n);
    expect_close(what, outs[0], outs[1], n, 1e-6, 1e-6, 1e-12);
    free(outs[0]);
    free(outs[1]);
    free(g);
    free(u);
    pair_close(&P);
}

/* ======================================================================== */
/* embed, gather_rows, kv_store (exact copies)                               */

Test(ops, embed_and_gather)
{
    pair_t P = pair_open();
    const int V = 50, D = 37, n = 23;
    float *table = rand_floats((size_t)V * D, 61, 1.0f);
    int32_t ids[23];
    int rows[23];
    for (int i = 0; i < n; i++) {
        ids[i] = (i * 17 + 3) % V;
        rows[i] = (i * 7 + 11) % V;
    }
    ids[0] = V - 1;
    ids[1] = 0;
    float *outs[2][2];
    swacl_backend *bes[2] = {P.cl, P.ref};
    for (int i = 0; i < 2; i++) {
        swacl_backend *be = bes[i];
        swacl_buf *bt = test_upload(be, table, (size_t)V * D);
        swacl_buf *b1 = test_alloc(be, (size_t)n * D), *b2 = test_alloc(be, (size_t)n * D);
        CHECK_OK(be, be->iface->embed(be, b1, bt, ids, n, D));
        CHECK_OK(be, be->iface->gather_rows(be, b2, bt, rows, n, D));
        CHECK_OK(be, be->iface->finish(be));
        outs[i][0] = test_download(be, b1, (size_t)n * D);
        outs[i][1] = test_download(be, b2, (size_t)n * D);
        be->iface->buf_free(be, bt);
        be->iface->buf_free(be, b1);
        be->iface->buf_free(be, b2);
    }
    expect_close("embed", outs[0][0], outs[1][0], (size_t)n * D, 0, 0, 0);
    expect_close("gather_rows", outs[0][1], outs[1][1], (size_t)n * D, 0, 0, 0);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) free(outs[i][j]);
    free(table);
    pair_close(&P);
}

typedef struct {
    int B, T, cap, width;
    int pos0[3], n_new[3];
} kv_case;

ParameterizedTestParameters(ops, kv_store)
{
    static kv_case cases[] = {
        {2, 10, 4, 37, {0, 7}, {10, 3}},       /* n_new > cap: only the newest cap rows */
        {3, 1, 16, 64, {0, 15, 777}, {1, 1, 1}}, /* decode */
        {2, 20, 64, 128, {100, 5000}, {20, 0}},  /* empty sequence */
        {1, 9, 9, 8, {3}, {9}},                  /* exactly cap rows, wraps */
    };
    return cr_make_param_array(kv_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(kv_case *c, ops, kv_store)
{
    pair_t P = pair_open();
    const size_t ns = (size_t)c->B * c->T * c->width, nc = (size_t)c->B * c->cap * c->width;
    float *src = rand_floats(ns, 71, 1.0f), *cache0 = rand_floats(nc, 72, 1.0f);
    float *outs[2];
    swacl_backend *bes[2] = {P.cl, P.ref};
    for (int i = 0; i < 2; i++) {
        swacl_backend *be = bes[i];
        swacl_buf *bs = test_upload(be, src, ns), *bc = test_upload(be, cache0, nc);
        CHECK_OK(be, be->iface->kv_store(be, bc, bs, c->B, c->T, c->cap, c->width, c->pos0,
                                         c->n_new));
        CHECK_OK(be, be->iface->finish(be));
        outs[i] = test_download(be, bc, nc);
        be->iface->buf_free(be, bs);
        be->iface->buf_free(be, bc);
    }
    char what[64];
    snprintf(what, sizeof what, "kv_store B=%d T=%d cap=%d", c->B, c->T, c->cap);
    expect_close(what, outs[0], outs[1], nc, 0, 0, 0);
    free(outs[0]);
    free(outs[1]);
    free(src);
    free(cache0);
    pair_close(&P);
}
