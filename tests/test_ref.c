/*
 * test_ref.c - the CPU reference backend against tiny hand-written oracles.
 *
 * The reference is the oracle for everything else, so it is checked here by
 * independent code paths: attention against a materialised dense mask and a
 * naive softmax, RoPE / norms / activations against hand values, the cache
 * path against one-shot prefill. Every case is small: the whole file runs in
 * well under a second.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

/* ------------------------------------------------------------------------ */
/* Helpers.                                                                  */

/* One reference context per test process (Criterion forks per test); every
 * buffer made through up()/al() is freed in the teardown, so the file stays
 * clean under LeakSanitizer. */
static swacl_ctx *g_ctx;
static swacl_buf *g_bufs[256];
static int g_nbufs;

static void setup(void) {}

static void teardown(void)
{
    if (!g_ctx) return;
    for (int i = 0; i < g_nbufs; i++) g_ctx->be->iface->buf_free(g_ctx->be, g_bufs[i]);
    g_nbufs = 0;
    swacl_ctx_destroy(g_ctx);
    g_ctx = NULL;
}

TestSuite(ref_mem, .init = setup, .fini = teardown);
TestSuite(ref_ops, .init = setup, .fini = teardown);
TestSuite(ref_rope, .init = setup, .fini = teardown);
TestSuite(ref_attn, .init = setup, .fini = teardown);

static swacl_backend *ref_be(void)
{
    if (!g_ctx) g_ctx = test_ref_ctx();
    swacl_backend *be = g_ctx->be;
    cr_assert(be != NULL);
    cr_assert_str_eq(be->iface->name, "ref");
    return be;
}

static swacl_buf *track(swacl_buf *b)
{
    cr_assert(g_nbufs < 256, "test buffer table full");
    return g_bufs[g_nbufs++] = b;
}
static swacl_buf *up(swacl_backend *be, const float *x, size_t n) { return track(test_upload(be, x, n)); }
static swacl_buf *al(swacl_backend *be, size_t n) { return track(test_alloc(be, n)); }

/* One attention call, described on the host. */
typedef struct {
    int B, T, H, Hkv, d;
    const float *q, *k, *v;    /* [B*T, H*d], [B*T, Hkv*d] x2                */
    const float *kc, *vc;      /* [B, cap, Hkv*d] or NULL                    */
    int cap;
    const int *pos0, *n_new;
    swacl_span span;
    int size;
    float scale;
    swacl_temp temp;
    float tp0, tp1;
} acase;

/* Run the backend's attention on c; returns malloc'd [B*T, H*d]. Output rows
 * start as 7.0 so that "padding rows are zeros" is really tested. */
static float *be_attn(swacl_backend *be, const acase *c)
{
    size_t rows = (size_t)c->B * c->T, qn = rows * c->H * c->d, kvn = rows * c->Hkv * c->d;
    size_t cn = (size_t)c->B * c->cap * c->Hkv * c->d;
    float *junk = malloc(qn * sizeof(float) + 1);
    for (size_t i = 0; i < qn; i++) junk[i] = 7.0f;
    swacl_buf *q = test_upload(be, c->q, qn), *k = test_upload(be, c->k, kvn);
    swacl_buf *v = test_upload(be, c->v, kvn), *o = test_upload(be, junk, qn);
    swacl_buf *kc = c->kc ? test_upload(be, c->kc, cn) : NULL;
    swacl_buf *vc = c->vc ? test_upload(be, c->vc, cn) : NULL;
    swacl_attn_args a = {
        .B = c->B, .T = c->T, .H = c->H, .Hkv = c->Hkv, .d = c->d, .q = q, .k = k, .v = v,
        .kc = kc, .vc = vc, .cap = c->cap, .pos0 = c->pos0, .n_new = c->n_new, .span = c->span,
        .span_size = c->size, .scale = c->scale, .temp = c->temp, .temp_p0 = c->tp0,
        .temp_p1 = c->tp1, .out = o};
    swacl_status st = be->iface->attention(be, &a);
    cr_assert(st == SWACL_OK, "attention: %s", swacl_ctx_errmsg(be->ctx));
    float *out = test_download(be, o, qn);
    swacl_buf *all[] = {q, k, v, o, kc, vc};
    for (int i = 0; i < 6; i++) be->iface->buf_free(be, all[i]);
    free(junk);
    return out;
}

/* Mask predicate written the HF way (docs/MODEL.md 1.5): causal AND overlay. */
static int visible(swacl_span span, int size, int qp, int kp)
{
    if (kp > qp) return 0;                                          /* causal */
    if (span == SWACL_SPAN_WINDOW) return kp > qp - size;           /* k > q - W */
    if (span == SWACL_SPAN_CHUNK) return kp / size == qp / size;    /* same chunk */
    return 1;
}

/* Naive dense attention for sequences starting at position 0, no cache:
 * materialise the [T, T] mask, full score matrix with -inf, softmax, P v.
 * Keys for head h come from KV head h / (H / Hkv). */
static void oracle_attn(const float *q, const float *k, const float *v, int B, int T, int H,
                        int Hkv, int d, swacl_span span, int size, float scale, float *out)
{
    char *mask = malloc((size_t)T * T);
    double *s = malloc((size_t)T * sizeof(double));
    for (int i = 0; i < T; i++)
        for (int j = 0; j < T; j++) mask[i * T + j] = (char)visible(span, size, i, j);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++) {
            int g = h / (H / Hkv);
            for (int i = 0; i < T; i++) {
                const float *qi = q + ((size_t)(b * T + i) * H + h) * d;
                double mx = -INFINITY, den = 0;
                for (int j = 0; j < T; j++) {
                    const float *kj = k + ((size_t)(b * T + j) * Hkv + g) * d;
                    double dot = 0;
                    for (int e = 0; e < d; e++) dot += (double)qi[e] * kj[e];
                    s[j] = mask[i * T + j] ? dot * scale : -INFINITY;
                    if (s[j] > mx) mx = s[j];
                }
                for (int j = 0; j < T; j++) den += (s[j] = exp(s[j] - mx));
                float *oi = out + ((size_t)(b * T + i) * H + h) * d;
                for (int e = 0; e < d; e++) {
                    double acc = 0;
                    for (int j = 0; j < T; j++)
                        acc += s[j] / den * v[((size_t)(b * T + j) * Hkv + g) * d + e];
                    oi[e] = (float)acc;
                }
            }
        }
    free(mask);
    free(s);
}

static float *rnd(size_t n, uint64_t seed)
{
    float *x = malloc(n * sizeof(float) + 1);
    fill_uniform(x, n, seed, 1.0f);
    return x;
}

/* ------------------------------------------------------------------------ */
/* Memory.                                                                   */

Test(ref_mem, roundtrip_and_bounds)
{
    swacl_backend *be = ref_be();
    swacl_buf *b = NULL;
    cr_assert_eq(be->iface->buf_alloc(be, 16, &b), SWACL_OK);
    float x[4] = {1, 2, 3, 4}, y[4] = {0};
    cr_assert_eq(be->iface->buf_write(be, b, 0, x, 16), SWACL_OK);
    cr_assert_eq(be->iface->buf_read(be, b, 4, y, 12), SWACL_OK);
    cr_assert(y[0] == 2 && y[1] == 3 && y[2] == 4, "read at an offset");
    be->ctx->errmsg[0] = 0;
    cr_assert_eq(be->iface->buf_write(be, b, 8, x, 12), SWACL_INVALID_ARG);
    cr_assert(be->ctx->errmsg[0] != 0, "out-of-range write leaves a message");
    cr_assert_eq(be->iface->buf_read(be, b, 17, y, 0), SWACL_INVALID_ARG);
    cr_assert_eq(be->iface->buf_read(be, b, SIZE_MAX, y, 2), SWACL_INVALID_ARG);
    be->iface->buf_free(be, b);
}

/* ------------------------------------------------------------------------ */
/* matmul, norms, activations, elementwise.                                   */

Test(ref_ops, matmul_hand)
{
    swacl_backend *be = ref_be();
    /* x [2,3], w [2,3] (N=2), bias [2] */
    float x[6] = {1, 2, 3, 4, 5, 6}, w[6] = {1, 0, -1, 0.5f, 0.5f, 0.5f}, bias[2] = {10, -1};
    /* x w^T = [[1-3, 3], [4-6, 7.5]] = [[-2, 3], [-2, 7.5]] */
    float want[4] = {-2 + 10, 3 - 1, -2 + 10, 7.5f - 1};
    swacl_buf *X = up(be, x, 6), *W = up(be, w, 6), *Bb = up(be, bias, 2);
    swacl_buf *Y = al(be, 4);
    cr_assert_eq(be->iface->matmul(be, Y, X, W, Bb, 2, 2, 3, 0), SWACL_OK);
    float *y = test_download(be, Y, 4);
    expect_close("matmul", y, want, 4, 1e-6, 0, 1e-12);
    free(y);
    /* accumulate: y += x w^T (no bias) */
    cr_assert_eq(be->iface->matmul(be, Y, X, W, NULL, 2, 2, 3, 1), SWACL_OK);
    y = test_download(be, Y, 4);
    float want2[4] = {want[0] - 2, want[1] + 3, want[2] - 2, want[3] + 7.5f};
    expect_close("matmul accumulate", y, want2, 4, 1e-6, 0, 1e-12);
    free(y);
    /* a too-small output buffer is refused */
    cr_assert_eq(be->iface->matmul(be, Bb, X, W, NULL, 2, 2, 3, 0), SWACL_INVALID_ARG);
}

Test(ref_ops, matmul_random_vs_naive)
{
    swacl_backend *be = ref_be();
    enum { M = 5, N = 7, K = 13 }; /* K not a multiple of 4: tail path */
    float *x = rnd(M * K, 1), *w = rnd(N * K, 2), *bias = rnd(N, 3), want[M * N];
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            double acc = bias[n];
            for (int kk = 0; kk < K; kk++) acc += (double)x[m * K + kk] * w[n * K + kk];
            want[m * N + n] = (float)acc;
        }
    swacl_buf *X = up(be, x, M * K), *W = up(be, w, N * K);
    swacl_buf *Bb = up(be, bias, N), *Y = al(be, M * N);
    cr_assert_eq(be->iface->matmul(be, Y, X, W, Bb, M, N, K, 0), SWACL_OK);
    float *y = test_download(be, Y, M * N);
    expect_close("matmul random", y, want, M * N, 1e-6, 1e-6, 1e-12);
    free(y), free(x), free(w), free(bias);
}

/* The register-tiled GEMM (host/ref/matmul.c) must give the naive loop's
 * sums bit for bit: one double accumulator per output in k order, + bias.
 * Rows of x not a multiple of any tile (and M = 1), rows past one MC block
 * (257), N not a multiple of a panel, K not a multiple of a k block (KC
 * 256) or of 8, f32 and bf16 weights, overwrite and +=, 1 and 3 threads;
 * through the backend and through every tile variant this CPU runs. Pairs
 * of terms x 2^40 that cancel (k = 0, 1 mod 8) make the double sum round,
 * so a sum in any other order shows in the float result. */
static float naive_dot(const float *a, const float *b, int K, float bias, float y0, int acc)
{
    double s = 0;
    for (int k = 0; k < K; k++) s += (double)a[k] * (double)b[k];
    s += bias;
    return acc ? (float)((double)y0 + s) : (float)s;
}

Test(ref_ops, matmul_tiled_bitwise)
{
    swacl_backend *be = ref_be();
    static const int shapes[][3] = {{1, 5, 13},  {5, 7, 13},   {6, 9, 40},   {8, 4, 64},
                                    {11, 13, 96}, {17, 9, 288}, {33, 17, 544}, {257, 3, 64}};
    int variants_run = 0;
    for (size_t c = 0; c < sizeof shapes / sizeof shapes[0]; c++) {
        const int M = shapes[c][0], N = shapes[c][1], K = shapes[c][2];
        for (int bf = 0; bf < 2; bf++) {
            if (bf && K % 32) continue; /* packed rows: K % 32 == 0 */
            float *x = rnd((size_t)M * K, 11 + c), *w = rnd((size_t)N * K, 21 + c);
            float *bias = rnd(N, 31 + c), *y0 = rnd((size_t)M * N, 41 + c);
            for (int k = 0; k + 1 < K; k += 8) {
                for (int m = 0; m < M; m++)
                    x[(size_t)m * K + k] = x[(size_t)m * K + k + 1] = x[(size_t)m * K + k] * 0x1p40f;
                for (int n = 0; n < N; n++) w[(size_t)n * K + k + 1] = -w[(size_t)n * K + k];
            }
            uint16_t *wb = malloc((size_t)N * K * 2);
            for (int i = 0; i < N * K; i++) { /* w rounded to bf16: both sides see it */
                uint32_t u;
                memcpy(&u, &w[i], 4);
                wb[i] = (uint16_t)(u >> 16);
                u = (uint32_t)wb[i] << 16;
                if (bf) memcpy(&w[i], &u, 4);
            }
            float *want = malloc((size_t)M * N * 2 * sizeof *want);
            for (int acc = 0; acc < 2; acc++)
                for (int m = 0; m < M; m++)
                    for (int n = 0; n < N; n++)
                        want[((size_t)acc * M + m) * N + n] =
                            naive_dot(x + (size_t)m * K, w + (size_t)n * K, K, bias[n],
                                      y0[m * N + n], acc);
            swacl_buf *W = NULL;
            if (bf)
                cr_assert_eq(be->iface->weight_create(be, SWACL_WT_BF16, wb, (size_t)N * K * 2, 0,
                                                      &W, NULL), SWACL_OK);
            else W = up(be, w, (size_t)N * K);
            if (bf) track(W);
            swacl_buf *X = up(be, x, (size_t)M * K), *Bb = up(be, bias, N);
            for (int acc = 0; acc < 2; acc++) {
                const float *wa = want + (size_t)acc * M * N;
                swacl_buf *Y = up(be, y0, (size_t)M * N);
                cr_assert_eq(be->iface->matmul(be, Y, X, W, Bb, M, N, K, acc), SWACL_OK);
                float *y = test_download(be, Y, (size_t)M * N);
                for (int i = 0; i < M * N; i++)
                    cr_assert(memcmp(&wa[i], &y[i], 4) == 0,
                              "M=%d N=%d K=%d bf16=%d acc=%d (%d,%d): %.9g != %.9g", M, N, K, bf,
                              acc, i / N, i % N, y[i], wa[i]);
                free(y);
                for (int isa = 0; isa <= 2; isa++)
                    for (int th = 1; th <= 3; th += 2) {
                        float *yv = malloc((size_t)M * N * sizeof *yv);
                        memcpy(yv, y0, (size_t)M * N * sizeof *yv);
                        int rc = swacl_ref_gemm_isa(isa, M, N, K, x, bf ? SWACL_WT_BF16 : SWACL_WT_F32,
                                                    bf ? (const void *)wb : (const void *)w, bias,
                                                    yv, acc, th);
                        cr_assert(rc == 0 || (rc == -2 && isa > 0), "isa %d: rc %d", isa, rc);
                        variants_run += rc == 0;
                        for (int i = 0; rc == 0 && i < M * N; i++)
                            cr_assert(memcmp(&wa[i], &yv[i], 4) == 0,
                                      "isa=%d threads=%d M=%d N=%d K=%d bf16=%d acc=%d (%d,%d): "
                                      "%.9g != %.9g", isa, th, M, N, K, bf, acc, i / N, i % N,
                                      yv[i], wa[i]);
                        free(yv);
                    }
            }
            free(x), free(w), free(bias), free(y0), free(wb), free(want);
        }
    }
    cr_assert(variants_run > 0);
}

Test(ref_ops, norms_hand)
{
    swacl_backend *be = ref_be();
    float x[4] = {1, 2, 3, 4}, w[4] = {1, 2, 1, 0.5f}, b[4] = {0, 1, -1, 0};
    const float eps = 1e-5f;
    swacl_buf *X = up(be, x, 4), *Wb = up(be, w, 4), *Bb = up(be, b, 4);
    swacl_buf *Y = al(be, 4);

    /* RMS: mean(x^2) = 30/4 = 7.5 */
    double r = 1.0 / sqrt(7.5 + 1e-5);
    float want_rms[4] = {(float)(1 * r), (float)(2 * 2 * r), (float)(3 * r), (float)(4 * 0.5 * r)};
    cr_assert_eq(be->iface->norm(be, SWACL_NORM_RMS, Y, X, Wb, NULL, 1, 4, eps), SWACL_OK);
    float *y = test_download(be, Y, 4);
    expect_close("rmsnorm", y, want_rms, 4, 1e-6, 1e-6, 1e-12);
    free(y);

    /* LayerNorm: mu = 2.5, biased var = (2.25+0.25+0.25+2.25)/4 = 1.25 */
    double s = 1.0 / sqrt(1.25 + 1e-5);
    float want_ln[4] = {(float)(-1.5 * s * 1 + 0), (float)(-0.5 * s * 2 + 1),
                        (float)(0.5 * s * 1 - 1), (float)(1.5 * s * 0.5 + 0)};
    cr_assert_eq(be->iface->norm(be, SWACL_NORM_LAYER, Y, X, Wb, Bb, 1, 4, eps), SWACL_OK);
    y = test_download(be, Y, 4);
    expect_close("layernorm", y, want_ln, 4, 1e-6, 1e-6, 1e-12);
    free(y);

    /* weightless, bias-free, in place (y aliases x) */
    float want_plain[4] = {(float)(-1.5 * s), (float)(-0.5 * s), (float)(0.5 * s), (float)(1.5 * s)};
    cr_assert_eq(be->iface->norm(be, SWACL_NORM_LAYER_NOBIAS, X, X, NULL, NULL, 1, 4, eps),
                 SWACL_OK);
    y = test_download(be, X, 4);
    expect_close("layernorm in place, no weight", y, want_plain, 4, 1e-6, 1e-6, 1e-12);
    free(y);
}

Test(ref_ops, activations_known_values)
{
    swacl_backend *be = ref_be();
    float g[5] = {0, 1, -1, 2, -2}, u[5] = {1, 1, 1, 0.5f, 3};
    /* silu(g) * u; silu(1) = 1/(1+e^-1) = 0.7310585786, silu(-2) = -2/(1+e^2) */
    float want_swiglu[5] = {0, 0.7310585786f, -0.2689414214f, 1.7615941560f * 0.5f,
                            -0.2384058440f * 3};
    /* gelu exact: Phi(1) = 0.8413447461, gelu(2) = 1.9544997361 */
    float want_gelu[5] = {0, 0.8413447461f, -0.1586552539f, 1.9544997361f, -0.0455002639f};
    swacl_buf *G = up(be, g, 5), *U = up(be, u, 5), *O = al(be, 5);
    cr_assert_eq(be->iface->act(be, SWACL_FFN_SWIGLU, O, G, U, 5), SWACL_OK);
    float *o = test_download(be, O, 5);
    expect_close("swiglu", o, want_swiglu, 5, 1e-6, 1e-6, 1e-12);
    free(o);
    /* GELU in place (out aliases gate), up unused */
    cr_assert_eq(be->iface->act(be, SWACL_FFN_GELU, G, G, NULL, 5), SWACL_OK);
    o = test_download(be, G, 5);
    expect_close("gelu", o, want_gelu, 5, 1e-6, 1e-6, 1e-12);
    free(o);
}

Test(ref_ops, add_scale_embed_gather)
{
    swacl_backend *be = ref_be();
    float a[4] = {1, 2, 3, 4}, b[4] = {10, 20, 30, 40};
    swacl_buf *A = up(be, a, 4), *Bb = up(be, b, 4);
    cr_assert_eq(be->iface->add(be, A, Bb, 4), SWACL_OK);
    cr_assert_eq(be->iface->scale(be, A, 0.5f, 4), SWACL_OK);
    float *r = test_download(be, A, 4), want[4] = {5.5f, 11, 16.5f, 22};
    expect_close("add+scale", r, want, 4, 0, 0, 0);
    free(r);

    /* embed: table [3 rows, D=2]; ids {2, 0, 2} */
    float table[6] = {0, 1, 10, 11, 20, 21};
    int32_t ids[3] = {2, 0, 2};
    swacl_buf *Tb = up(be, table, 6), *E = al(be, 6);
    cr_assert_eq(be->iface->embed(be, E, Tb, ids, 3, 2), SWACL_OK);
    r = test_download(be, E, 6);
    float want_e[6] = {20, 21, 0, 1, 20, 21};
    expect_close("embed", r, want_e, 6, 0, 0, 0);
    free(r);

    /* gather rows {1, 1, 0} of the table */
    int rows[3] = {1, 1, 0};
    swacl_buf *Gd = al(be, 6);
    cr_assert_eq(be->iface->gather_rows(be, Gd, Tb, rows, 3, 2), SWACL_OK);
    r = test_download(be, Gd, 6);
    float want_g[6] = {10, 11, 10, 11, 0, 1};
    expect_close("gather_rows", r, want_g, 6, 0, 0, 0);
    free(r);
    int bad[1] = {3};
    cr_assert_eq(be->iface->gather_rows(be, Gd, Tb, bad, 1, 2), SWACL_INVALID_ARG);
}

/* ------------------------------------------------------------------------ */
/* RoPE.                                                                     */

/* Full-width RoPE with the default inverse frequencies of theta. */
static swacl_status rope_theta(swacl_backend *be, swacl_buf *x, int B, int T, int nh, int d,
                               const int *pos0, swacl_pos layout, float theta)
{
    double inv[256];
    float ms;
    swacl_rope_freqs(NULL, theta, d, 0, inv, &ms);
    swacl_rope_args r = {layout, d, inv, ms};
    return be->iface->rope(be, x, B, T, nh, d, pos0, &r);
}

Test(ref_rope, position_zero_is_identity)
{
    swacl_backend *be = ref_be();
    enum { nh = 2, d = 8 };
    float *x = rnd(nh * d, 5);
    int pos0[1] = {0};
    swacl_buf *X = up(be, x, nh * d);
    for (int layout = SWACL_POS_ROPE_PAIR; layout <= SWACL_POS_ROPE_HALF; layout++) {
        cr_assert_eq(rope_theta(be, X, 1, 1, nh, d, pos0, (swacl_pos)layout, 10000.f),
                     SWACL_OK);
        float *y = test_download(be, X, nh * d);
        expect_close("rope p=0", y, x, nh * d, 0, 0, 0);
        free(y);
    }
    free(x);
}

Test(ref_rope, pair_vs_half_hand)
{
    swacl_backend *be = ref_be();
    /* d = 4, theta = 10000: inv_freq = {1, 10000^-0.5 = 0.01}; at p = 1 the
     * angles are 1 and 0.01. Two heads with the same values. */
    float x[8] = {1, 2, 3, 4, 1, 2, 3, 4};
    const double c1 = cos(1.0), s1 = sin(1.0), c2 = cos(0.01), s2 = sin(0.01);
    /* PAIR rotates (x0,x1) by 1 and (x2,x3) by 0.01 */
    float pair[4] = {(float)(1 * c1 - 2 * s1), (float)(2 * c1 + 1 * s1), (float)(3 * c2 - 4 * s2),
                     (float)(4 * c2 + 3 * s2)};
    /* HALF rotates (x0,x2) by 1 and (x1,x3) by 0.01 */
    float half[4] = {(float)(1 * c1 - 3 * s1), (float)(2 * c2 - 4 * s2), (float)(3 * c1 + 1 * s1),
                     (float)(4 * c2 + 2 * s2)};
    float want_pair[8], want_half[8];
    memcpy(want_pair, pair, sizeof pair), memcpy(want_pair + 4, pair, sizeof pair);
    memcpy(want_half, half, sizeof half), memcpy(want_half + 4, half, sizeof half);
    /* B = 2, T = 1: sequence 1 starts at p = 1 (sequence 0 at p = 0 stays) */
    float xx[16];
    memcpy(xx, x, sizeof x), memcpy(xx + 8, x, sizeof x);
    int pos0[2] = {0, 1};

    swacl_buf *X = up(be, xx, 16);
    cr_assert_eq(rope_theta(be, X, 2, 1, 2, 4, pos0, SWACL_POS_ROPE_PAIR, 10000.f), SWACL_OK);
    float *y = test_download(be, X, 16);
    expect_close("rope pair, p=0 row", y, x, 8, 0, 0, 0);
    expect_close("rope pair, p=1 row", y + 8, want_pair, 8, 1e-6, 1e-6, 1e-12);
    free(y);

    cr_assert_eq(be->iface->buf_write(be, X, 0, xx, sizeof xx), SWACL_OK);
    cr_assert_eq(rope_theta(be, X, 2, 1, 2, 4, pos0, SWACL_POS_ROPE_HALF, 10000.f), SWACL_OK);
    y = test_download(be, X, 16);
    expect_close("rope half, p=1 row", y + 8, want_half, 8, 1e-6, 1e-6, 1e-12);
    free(y);

    /* POS_NONE is a no-op */
    cr_assert_eq(be->iface->buf_write(be, X, 0, xx, sizeof xx), SWACL_OK);
    cr_assert_eq(rope_theta(be, X, 2, 1, 2, 4, pos0, SWACL_POS_NONE, 10000.f), SWACL_OK);
    y = test_download(be, X, 16);
    expect_close("rope none", y, xx, 16, 0, 0, 0);
    free(y);
}

Test(ref_rope, rotation_preserves_dot_of_relative_position)
{
    /* RoPE property: <R(p)q, R(p+k)k> depends only on the offset. */
    swacl_backend *be = ref_be();
    enum { d = 16 };
    float *q = rnd(d, 11), *k = rnd(d, 12);
    double dots[2];
    for (int layout = SWACL_POS_ROPE_PAIR; layout <= SWACL_POS_ROPE_HALF; layout++) {
        for (int c = 0; c < 2; c++) {
            int pq[1] = {c == 0 ? 3 : 40}, pk[1] = {pq[0] + 5};
            swacl_buf *Q = up(be, q, d), *K = up(be, k, d);
            cr_assert_eq(rope_theta(be, Q, 1, 1, 1, d, pq, (swacl_pos)layout, 100.f), SWACL_OK);
            cr_assert_eq(rope_theta(be, K, 1, 1, 1, d, pk, (swacl_pos)layout, 100.f), SWACL_OK);
            float *a = test_download(be, Q, d), *b = test_download(be, K, d);
            dots[c] = 0;
            for (int i = 0; i < d; i++) dots[c] += (double)a[i] * b[i];
            free(a), free(b);
        }
        cr_assert(fabs(dots[0] - dots[1]) < 1e-5, "layout %d: %.8f vs %.8f", layout, dots[0],
                  dots[1]);
    }
    free(q), free(k);
}

/* ------------------------------------------------------------------------ */
/* Attention against the dense-mask oracle.                                   */

static void check_vs_oracle(const char *what, int B, int T, int H, int Hkv, int d, swacl_span span,
                            int size, uint64_t seed)
{
    swacl_backend *be = ref_be();
    size_t qn = (size_t)B * T * H * d, kvn = (size_t)B * T * Hkv * d;
    float *q = rnd(qn, seed), *k = rnd(kvn, seed + 1), *v = rnd(kvn, seed + 2);
    float *want = malloc(qn * sizeof(float));
    int pos0[4] = {0, 0, 0, 0}, n_new[4] = {T, T, T, T};
    float scale = 1.0f / sqrtf((float)d);
    oracle_attn(q, k, v, B, T, H, Hkv, d, span, size, scale, want);
    acase c = {.B = B, .T = T, .H = H, .Hkv = Hkv, .d = d, .q = q, .k = k, .v = v,
               .pos0 = pos0, .n_new = n_new, .span = span, .size = size, .scale = scale};
    float *got = be_attn(be, &c);
    expect_close(what, got, want, qn, 1e-6, 1e-5, 1e-12);
    free(q), free(k), free(v), free(want), free(got);
}

Test(ref_attn, global_vs_dense_mask) { check_vs_oracle("global", 2, 11, 2, 2, 8, SWACL_SPAN_GLOBAL, 0, 21); }
Test(ref_attn, window_vs_dense_mask) { check_vs_oracle("window W=3", 2, 11, 2, 2, 8, SWACL_SPAN_WINDOW, 3, 22); }
Test(ref_attn, chunk_vs_dense_mask) { check_vs_oracle("chunk C=4", 2, 11, 2, 2, 8, SWACL_SPAN_CHUNK, 4, 23); }
Test(ref_attn, gqa_4to1_vs_dense_mask) { check_vs_oracle("gqa 4:1 window", 1, 9, 8, 2, 4, SWACL_SPAN_WINDOW, 4, 24); }

Test(ref_attn, gqa_equals_repeated_kv)
{
    /* H=8, Hkv=2 (4:1) must equal H=8, Hkv=8 with each KV head repeated 4
     * times consecutively (HF repeat_kv): query heads 0-3 use KV head 0,
     * heads 4-7 KV head 1. */
    swacl_backend *be = ref_be();
    enum { T = 7, H = 8, Hkv = 2, d = 8 };
    float *q = rnd(T * H * d, 31), *k = rnd(T * Hkv * d, 32), *v = rnd(T * Hkv * d, 33);
    float *k8 = malloc(sizeof(float) * T * H * d), *v8 = malloc(sizeof(float) * T * H * d);
    for (int t = 0; t < T; t++)
        for (int h = 0; h < H; h++) {
            int g = h < 4 ? 0 : 1;
            for (int e = 0; e < d; e++) {
                k8[(t * H + h) * d + e] = k[(t * Hkv + g) * d + e];
                v8[(t * H + h) * d + e] = v[(t * Hkv + g) * d + e];
            }
        }
    int pos0[1] = {0}, n_new[1] = {T};
    acase c = {.B = 1, .T = T, .H = H, .Hkv = Hkv, .d = d, .q = q, .k = k, .v = v, .pos0 = pos0,
               .n_new = n_new, .span = SWACL_SPAN_GLOBAL, .scale = 0.3f};
    float *a = be_attn(be, &c);
    c.Hkv = H, c.k = k8, c.v = v8;
    float *b = be_attn(be, &c);
    expect_close("gqa vs repeat_kv", a, b, T * H * d, 1e-7, 0, 1e-14);
    free(q), free(k), free(v), free(k8), free(v8), free(a), free(b);
}

Test(ref_attn, window_one_is_own_value)
{
    swacl_backend *be = ref_be();
    enum { T = 6, H = 2, d = 4 };
    float *q = rnd(T * H * d, 41), *k = rnd(T * H * d, 42), *v = rnd(T * H * d, 43);
    int pos0[1] = {0}, n_new[1] = {T};
    acase c = {.B = 1, .T = T, .H = H, .Hkv = H, .d = d, .q = q, .k = k, .v = v, .pos0 = pos0,
               .n_new = n_new, .span = SWACL_SPAN_WINDOW, .size = 1, .scale = 0.5f};
    float *o = be_attn(be, &c);
    expect_close("W=1 -> own v", o, v, T * H * d, 1e-7, 0, 1e-14);
    free(q), free(k), free(v), free(o);
}

Test(ref_attn, window_at_least_T_is_global)
{
    swacl_backend *be = ref_be();
    enum { T = 9, H = 2, d = 8 };
    float *q = rnd(T * H * d, 51), *k = rnd(T * H * d, 52), *v = rnd(T * H * d, 53);
    int pos0[1] = {0}, n_new[1] = {T};
    acase c = {.B = 1, .T = T, .H = H, .Hkv = H, .d = d, .q = q, .k = k, .v = v, .pos0 = pos0,
               .n_new = n_new, .span = SWACL_SPAN_GLOBAL, .scale = 0.35f};
    float *g = be_attn(be, &c);
    for (int W = T; W <= T + 3; W += 3) {
        c.span = SWACL_SPAN_WINDOW, c.size = W;
        float *w = be_attn(be, &c);
        expect_close("W >= T == global", w, g, T * H * d, 0, 0, 0);
        free(w);
    }
    free(q), free(k), free(v), free(g);
}

Test(ref_attn, window_boundary_w5)
{
    /* q = 0: every visible key gets the same weight, so out = mean of the
     * visible v. v_j = j. W = 5: position 5 sees keys 1..5 -> 3 (seeing 0..5
     * would give 2.5, 2..5 would give 3.5); position 4 sees 0..4 -> 2. */
    swacl_backend *be = ref_be();
    enum { T = 8, d = 2 };
    float q[T * d] = {0}, k[T * d], v[T * d];
    for (int j = 0; j < T; j++) k[j * d] = 1, k[j * d + 1] = (float)j, v[j * d] = (float)j, v[j * d + 1] = 1;
    int pos0[1] = {0}, n_new[1] = {T};
    acase c = {.B = 1, .T = T, .H = 1, .Hkv = 1, .d = d, .q = q, .k = k, .v = v, .pos0 = pos0,
               .n_new = n_new, .span = SWACL_SPAN_WINDOW, .size = 5, .scale = 1};
    float *o = be_attn(be, &c);
    float want[T] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 5};
    for (int t = 0; t < T; t++) {
        cr_assert_float_eq(o[t * d], want[t], 1e-6, "position %d: got %g want %g", t, o[t * d], want[t]);
        cr_assert_float_eq(o[t * d + 1], 1.0f, 1e-6, "position %d: weights sum to 1", t);
    }
    free(o);
}

Test(ref_attn, padding_rows_are_zero_and_batches_independent)
{
    swacl_backend *be = ref_be();
    enum { T = 6, H = 2, d = 4 };
    float *q = rnd(2 * T * H * d, 61), *k = rnd(2 * T * H * d, 62), *v = rnd(2 * T * H * d, 63);
    int pos0[2] = {0, 0}, n_new[2] = {T, 3};
    acase c = {.B = 2, .T = T, .H = H, .Hkv = H, .d = d, .q = q, .k = k, .v = v, .pos0 = pos0,
               .n_new = n_new, .span = SWACL_SPAN_WINDOW, .size = 3, .scale = 0.5f};
    float *o = be_attn(be, &c);
    float *want = malloc(sizeof(float) * 2 * T * H * d);
    oracle_attn(q, k, v, 2, T, H, H, d, SWACL_SPAN_WINDOW, 3, 0.5f, want);
    expect_close("batch 0 full", o, want, T * H * d, 1e-6, 1e-5, 1e-12);
    expect_close("batch 1 valid rows", o + T * H * d, want + T * H * d, 3 * H * d, 1e-6, 1e-5, 1e-12);
    float zeros[3 * H * d] = {0};
    expect_close("batch 1 padding rows", o + (T + 3) * H * d, zeros, 3 * H * d, 0, 0, 0);
    free(q), free(k), free(v), free(o), free(want);
}

/* Prefill [0, T) in one shot vs. first half, kv_store into a cache of cap
 * slots, second half reading the cache; and token-by-token decode. */
static void check_cache_path(swacl_span span, int size, int cap)
{
    swacl_backend *be = ref_be();
    enum { T = 12, H = 2, Hkv = 1, d = 8, h1 = 5 };
    const int kvw = Hkv * d, qw = H * d;
    float *q = rnd(T * qw, 71), *k = rnd(T * kvw, 72), *v = rnd(T * kvw, 73);
    int pos0[1] = {0}, n_new[1] = {T};
    acase c = {.B = 1, .T = T, .H = H, .Hkv = Hkv, .d = d, .q = q, .k = k, .v = v, .pos0 = pos0,
               .n_new = n_new, .span = span, .size = size, .scale = 0.4f};
    float *full = be_attn(be, &c);

    /* --- two halves: rows [0, h1) then [h1, T) --- */
    swacl_buf *KC = al(be, cap * kvw), *VC = al(be, cap * kvw);
    swacl_buf *K1 = up(be, k, h1 * kvw), *V1 = up(be, v, h1 * kvw);
    n_new[0] = h1, c.T = h1;
    float *first = be_attn(be, &c);
    expect_close("first half", first, full, h1 * qw, 0, 0, 0);
    cr_assert_eq(be->iface->kv_store(be, KC, K1, 1, h1, cap, kvw, pos0, n_new, 0), SWACL_OK);
    cr_assert_eq(be->iface->kv_store(be, VC, V1, 1, h1, cap, kvw, pos0, n_new, 0), SWACL_OK);
    float *kc = test_download(be, KC, cap * kvw), *vc = test_download(be, VC, cap * kvw);
    pos0[0] = h1, n_new[0] = T - h1;
    acase c2 = c;
    c2.T = T - h1, c2.q = q + h1 * qw, c2.k = k + h1 * kvw, c2.v = v + h1 * kvw;
    c2.kc = kc, c2.vc = vc, c2.cap = cap;
    float *second = be_attn(be, &c2);
    expect_close("second half from cache", second, full + h1 * qw, (T - h1) * qw, 1e-7, 1e-6, 1e-14);
    free(kc), free(vc), free(first), free(second);

    /* --- decode: one token at a time, storing each after its attention --- */
    swacl_buf *KC2 = al(be, cap * kvw), *VC2 = al(be, cap * kvw);
    for (int p = 0; p < T; p++) {
        pos0[0] = p, n_new[0] = 1;
        float *kcp = test_download(be, KC2, cap * kvw), *vcp = test_download(be, VC2, cap * kvw);
        acase c3 = c;
        c3.T = 1, c3.q = q + p * qw, c3.k = k + p * kvw, c3.v = v + p * kvw;
        c3.kc = kcp, c3.vc = vcp, c3.cap = cap;
        float *o = be_attn(be, &c3);
        char what[64];
        snprintf(what, sizeof what, "decode p=%d", p);
        expect_close(what, o, full + p * qw, qw, 1e-7, 1e-6, 1e-14);
        swacl_buf *Kp = up(be, k + p * kvw, kvw), *Vp = up(be, v + p * kvw, kvw);
        cr_assert_eq(be->iface->kv_store(be, KC2, Kp, 1, 1, cap, kvw, pos0, n_new, 0), SWACL_OK);
        cr_assert_eq(be->iface->kv_store(be, VC2, Vp, 1, 1, cap, kvw, pos0, n_new, 0), SWACL_OK);
                free(kcp), free(vcp), free(o);
    }
    free(q), free(k), free(v), free(full);
}

Test(ref_attn, cache_window_cap_w) { check_cache_path(SWACL_SPAN_WINDOW, 4, 4); }
Test(ref_attn, cache_window_cap_larger) { check_cache_path(SWACL_SPAN_WINDOW, 3, 7); }
Test(ref_attn, cache_global) { check_cache_path(SWACL_SPAN_GLOBAL, 0, 12); }
Test(ref_attn, cache_chunk) { check_cache_path(SWACL_SPAN_CHUNK, 4, 4); }

Test(ref_attn, kv_store_slots)
{
    /* cap 3, pos0 = 2, 5 new rows (positions 2..6): only the last 3 (4, 5, 6)
     * survive, in slots 4%3=1, 5%3=2, 6%3=0. */
    swacl_backend *be = ref_be();
    float src[5] = {2, 3, 4, 5, 6};
    int pos0[1] = {2}, n_new[1] = {5};
    swacl_buf *S = up(be, src, 5), *C = al(be, 3);
    cr_assert_eq(be->iface->kv_store(be, C, S, 1, 5, 3, 1, pos0, n_new, 0), SWACL_OK);
    float *c = test_download(be, C, 3), want[3] = {6, 4, 5};
    expect_close("kv_store slots", c, want, 3, 0, 0, 0);
    free(c);
}

/* ------------------------------------------------------------------------ */
/* Query temperature.                                                        */

static void check_temp(swacl_temp temp, float p0, float p1)
{
    swacl_backend *be = ref_be();
    enum { T = 10, H = 2, d = 4 };
    float *q = rnd(T * H * d, 81), *k = rnd(T * H * d, 82), *v = rnd(T * H * d, 83);
    float *qs = malloc(sizeof(float) * T * H * d), *want = malloc(sizeof(float) * T * H * d);
    int any_above_one = 0;
    for (int t = 0; t < T; t++) {
        /* the formulas written out here (docs/MODEL.md 1.6), not via swacl_temp_factor */
        double s = temp == SWACL_TEMP_LLAMA4 ? 1 + p1 * log(1 + floor((t + 1.0) / p0))
                                             : fmax(1.0, log(t + 1.0) / log(p0));
        any_above_one |= s > 1.01;
        for (int i = 0; i < H * d; i++) qs[t * H * d + i] = (float)(q[t * H * d + i] * s);
    }
    cr_assert(any_above_one, "the case must exercise s(p) > 1");
    oracle_attn(qs, k, v, 1, T, H, H, d, SWACL_SPAN_GLOBAL, 0, 0.5f, want);
    int pos0[1] = {0}, n_new[1] = {T};
    acase c = {.B = 1, .T = T, .H = H, .Hkv = H, .d = d, .q = q, .k = k, .v = v, .pos0 = pos0,
               .n_new = n_new, .span = SWACL_SPAN_GLOBAL, .scale = 0.5f, .temp = temp,
               .tp0 = p0, .tp1 = p1};
    float *o = be_attn(be, &c);
    expect_close("temperature", o, want, T * H * d, 1e-6, 1e-5, 1e-12);
    /* and it differs from no temperature */
    c.temp = SWACL_TEMP_NONE;
    float *o0 = be_attn(be, &c);
    cmp_result r = cmp_arrays(o0, want, T * H * d, 1e-6, 1e-5);
    cr_assert(r.n_bad > 0, "temperature had no effect");
    free(q), free(k), free(v), free(qs), free(want), free(o), free(o0);
}

Test(ref_attn, temperature_log_ratio) { check_temp(SWACL_TEMP_LOG_RATIO, 3.0f, 0.0f); }
Test(ref_attn, temperature_llama4) { check_temp(SWACL_TEMP_LLAMA4, 2.0f, 0.5f); }

/* ------------------------------------------------------------------------ */
/* Argument validation.                                                      */

Test(ref_attn, invalid_args)
{
    swacl_backend *be = ref_be();
    enum { T = 4, d = 4 };
    float x[2 * T * 2 * d] = {0};
    swacl_buf *Q = up(be, x, 2 * T * 2 * d), *K = up(be, x, T * 2 * d);
    swacl_buf *V = up(be, x, T * 2 * d), *O = al(be, 2 * T * 2 * d);
    swacl_buf *KC = al(be, T * 2 * d);
    int pos0[1] = {0}, n_new[1] = {T};
    swacl_attn_args ok = {.B = 1, .T = T, .H = 2, .Hkv = 2, .d = d, .q = Q, .k = K, .v = V,
                          .pos0 = pos0, .n_new = n_new, .span = SWACL_SPAN_GLOBAL, .scale = 1,
                          .out = O};
    cr_assert_eq(be->iface->attention(be, &ok), SWACL_OK, "%s", swacl_ctx_errmsg(be->ctx));

    swacl_attn_args a;
    a = ok, a.d = 0;
    cr_assert_eq(be->iface->attention(be, &a), SWACL_INVALID_ARG, "d = 0");
    a = ok, a.H = 3;
    cr_assert_eq(be->iface->attention(be, &a), SWACL_INVALID_ARG, "H %% Hkv != 0");
    a = ok, a.span = SWACL_SPAN_WINDOW, a.span_size = 0;
    cr_assert_eq(be->iface->attention(be, &a), SWACL_INVALID_ARG, "window size 0");
    a = ok, a.span = SWACL_SPAN_CHUNK, a.span_size = -1;
    cr_assert_eq(be->iface->attention(be, &a), SWACL_INVALID_ARG, "chunk size -1");
    a = ok, a.kc = KC, a.vc = KC, a.cap = 0;
    cr_assert_eq(be->iface->attention(be, &a), SWACL_INVALID_ARG, "cache with cap 0");
    a = ok, pos0[0] = 2;
    cr_assert_eq(be->iface->attention(be, &a), SWACL_INVALID_ARG, "needs cache, none given");
    pos0[0] = 0;
    a = ok, a.H = 8; /* q buffer too small for H = 8 */
    be->ctx->errmsg[0] = 0;
    cr_assert_eq(be->iface->attention(be, &a), SWACL_INVALID_ARG, "q too small");
    cr_assert(be->ctx->errmsg[0] != 0, "a message is recorded");
}
