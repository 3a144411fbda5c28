/*
 * ref_backend.c - the CPU reference backend ("ref"): plain C loops, one
 * function per op, double accumulation for every dot product and every norm
 * statistic. It is the oracle the OpenCL backend is checked against, so the
 * math is kept visible (ARCH.md 1.2-1.6) rather than clever.
 *
 * Speed: OpenMP over output elements (matmul), rows (norm, rope) and
 * (sequence, head, tile of 16 queries) (attention, so each key row is read
 * once per tile); dot products use eight independent double accumulators
 * for instruction-level parallelism. An 8-layer hidden-256 model at T = 4096
 * takes about 10 CPU-seconds (all-window) to 24 (all-global) per forward.
 *
 * Buffers are host memory: struct swacl_buf = malloc'd bytes + size. Every op
 * checks that its buffers are large enough for the shapes it is given, so a
 * shape bug in the graph shows up here as SWACL_INVALID_ARG with a message
 * instead of as a silent out-of-bounds access.
 */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ------------------------------------------------------------------------ */
/* Objects.                                                                  */

struct swacl_buf {
    size_t bytes;        /* usable size                                      */
    unsigned char *data; /* malloc'd, at least 1 byte                        */
};

typedef struct {
    swacl_backend base; /* must be first: swacl_backend* <-> ref_backend*   */
    int threads;        /* OpenMP threads for every parallel loop            */
} ref_backend;

static int nthreads(const swacl_backend *be) { return ((const ref_backend *)be)->threads; }

static float *fdata(const swacl_buf *b) { return (float *)(void *)b->data; }

/* Check that buf exists and holds at least n floats. */
static swacl_status need(swacl_backend *be, const char *op, const char *what, const swacl_buf *buf,
                         size_t n)
{
    if (!buf)
        return swacl_set_error(be->ctx, SWACL_INVALID_ARG, "ref %s: buffer '%s' is NULL", op, what);
    if (buf->bytes / sizeof(float) < n)
        return swacl_set_error(be->ctx, SWACL_INVALID_ARG,
                               "ref %s: buffer '%s' holds %zu bytes, needs %zu floats (%zu bytes)",
                               op, what, buf->bytes, n, n * sizeof(float));
    return SWACL_OK;
}

/* sum_i a[i]*b[i] in double. Eight independent accumulators: no reordering
 * of any one sum, but the compiler can keep them in SIMD lanes (ILP). */
static double dot_f64(const float *a, const float *b, int n)
{
    double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; l++) s[l] += (double)a[i + l] * (double)b[i + l];
    for (; i < n; i++) s[0] += (double)a[i] * (double)b[i];
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

/* ------------------------------------------------------------------------ */
/* Memory.                                                                   */

static swacl_status ref_buf_alloc(swacl_backend *be, size_t bytes, swacl_buf **out)
{
    if (!out) return swacl_set_error(be->ctx, SWACL_INVALID_ARG, "ref buf_alloc: out is NULL");
    *out = NULL;
    swacl_buf *b = malloc(sizeof *b);
    /* calloc: fresh buffers read as zeros (deterministic); >= 1 byte so a
     * zero-size buffer is still a valid pointer */
    unsigned char *d = b ? calloc(bytes ? bytes : 1, 1) : NULL;
    if (!b || !d) {
        free(b);
        return swacl_set_error(be->ctx, SWACL_OUT_OF_MEMORY,
                               "ref buf_alloc: cannot allocate %zu bytes of host memory", bytes);
    }
    b->bytes = bytes;
    b->data = d;
    *out = b;
    return SWACL_OK;
}

static void ref_buf_free(swacl_backend *be, swacl_buf *buf)
{
    (void)be;
    if (!buf) return;
    free(buf->data);
    free(buf);
}

/* off + bytes <= size, written so that it cannot overflow. */
static int in_range(const swacl_buf *buf, size_t off, size_t bytes)
{
    return off <= buf->bytes && bytes <= buf->bytes - off;
}

static swacl_status ref_buf_write(swacl_backend *be, swacl_buf *buf, size_t off_bytes,
                                  const void *src, size_t bytes)
{
    SWACL_FAIL_IF(be->ctx, !buf || (!src && bytes), SWACL_INVALID_ARG,
                  "ref buf_write: NULL buffer or source");
    SWACL_FAIL_IF(be->ctx, !in_range(buf, off_bytes, bytes), SWACL_INVALID_ARG,
                  "ref buf_write: range [%zu, %zu + %zu) outside a buffer of %zu bytes", off_bytes,
                  off_bytes, bytes, buf->bytes);
    if (bytes) memcpy(buf->data + off_bytes, src, bytes);
    return SWACL_OK;
}

static swacl_status ref_buf_read(swacl_backend *be, const swacl_buf *buf, size_t off_bytes,
                                 void *dst, size_t bytes)
{
    SWACL_FAIL_IF(be->ctx, !buf || (!dst && bytes), SWACL_INVALID_ARG,
                  "ref buf_read: NULL buffer or destination");
    SWACL_FAIL_IF(be->ctx, !in_range(buf, off_bytes, bytes), SWACL_INVALID_ARG,
                  "ref buf_read: range [%zu, %zu + %zu) outside a buffer of %zu bytes", off_bytes,
                  off_bytes, bytes, buf->bytes);
    if (bytes) memcpy(dst, buf->data + off_bytes, bytes);
    return SWACL_OK;
}

/* ------------------------------------------------------------------------ */
/* matmul: y[M,N] (= or +=) x[M,K] w[N,K]^T + bias[N]                         */

static swacl_status ref_matmul(swacl_backend *be, swacl_buf *y, const swacl_buf *x,
                               const swacl_buf *w, const swacl_buf *bias, int M, int N, int K,
                               int accumulate)
{
    SWACL_FAIL_IF(be->ctx, M < 0 || N < 0 || K < 0, SWACL_INVALID_ARG,
                  "ref matmul: negative shape M=%d N=%d K=%d", M, N, K);
    SWACL_TRY(need(be, "matmul", "y", y, (size_t)M * N));
    SWACL_TRY(need(be, "matmul", "x", x, (size_t)M * K));
    SWACL_TRY(need(be, "matmul", "w", w, (size_t)N * K));
    if (bias) SWACL_TRY(need(be, "matmul", "bias", bias, (size_t)N));
    SWACL_FAIL_IF(be->ctx, y == x || y == w, SWACL_INVALID_ARG,
                  "ref matmul: output must not alias an input");

    swacl_ref_gemm(M, N, K, fdata(x), fdata(w), bias ? fdata(bias) : NULL, fdata(y), accumulate,
                   nthreads(be));
    return SWACL_OK;
}

/* The one reference GEMM (also the GEMM tuner's check, host/tune/). */
void swacl_ref_gemm(int M, int N, int K, const float *X, const float *Wt, const float *Bs,
                    float *Y, int accumulate, int threads)
{
    if (threads < 1) threads = omp_get_max_threads();
    /* every (m, n) output is one independent dot product over K */
#pragma omp parallel for collapse(2) schedule(static) num_threads(threads)
    for (int m = 0; m < M; m++) {
        for (int n = 0; n < N; n++) {
            double acc = dot_f64(X + (size_t)m * K, Wt + (size_t)n * K, K);
            if (Bs) acc += Bs[n];
            float *yo = Y + (size_t)m * N + n;
            *yo = accumulate ? (float)((double)*yo + acc) : (float)acc;
        }
    }
}

/* ------------------------------------------------------------------------ */
/* norm, per row of n:                                                       */
/*   RMS:   y = w * x / sqrt(mean(x^2) + eps)                               */
/*   LAYER: y = w * (x - mu) / sqrt(var + eps) + b   (biased variance)       */

static swacl_status ref_norm(swacl_backend *be, swacl_norm kind, swacl_buf *y, const swacl_buf *x,
                             const swacl_buf *w, const swacl_buf *b, int rows, int n, float eps)
{
    SWACL_FAIL_IF(be->ctx, rows < 0 || n <= 0, SWACL_INVALID_ARG,
                  "ref norm: bad shape rows=%d n=%d", rows, n);
    SWACL_FAIL_IF(be->ctx, kind != SWACL_NORM_RMS && kind != SWACL_NORM_LAYER &&
                               kind != SWACL_NORM_LAYER_NOBIAS,
                  SWACL_INVALID_ARG, "ref norm: unknown kind %d", (int)kind);
    SWACL_TRY(need(be, "norm", "y", y, (size_t)rows * n));
    SWACL_TRY(need(be, "norm", "x", x, (size_t)rows * n));
    if (w) SWACL_TRY(need(be, "norm", "w", w, (size_t)n));
    if (b) SWACL_TRY(need(be, "norm", "b", b, (size_t)n));
    SWACL_FAIL_IF(be->ctx, b && kind == SWACL_NORM_RMS, SWACL_INVALID_ARG,
                  "ref norm: RMS norm takes no bias");

    float *Y = fdata(y);
    const float *X = fdata(x);
    const float *Wg = w ? fdata(w) : NULL;
    const float *Bb = (b && kind == SWACL_NORM_LAYER) ? fdata(b) : NULL;
    const int layer = kind != SWACL_NORM_RMS;
#pragma omp parallel for schedule(static) num_threads(nthreads(be))
    for (int r = 0; r < rows; r++) {
        const float *xr = X + (size_t)r * n;
        float *yr = Y + (size_t)r * n; /* may equal xr: stats are read first */
        /* mean (LayerNorm only; RMS norm does not centre) */
        double mu = 0;
        if (layer) {
            for (int i = 0; i < n; i++) mu += xr[i];
            mu /= n;
        }
        /* mean of squares of the (centred) values: var or mean(x^2) */
        double ss = 0;
        for (int i = 0; i < n; i++) {
            double c = (double)xr[i] - mu;
            ss += c * c;
        }
        double rstd = 1.0 / sqrt(ss / n + (double)eps);
        /* normalise, scale, shift */
        for (int i = 0; i < n; i++) {
            double v = ((double)xr[i] - mu) * rstd;
            if (Wg) v *= Wg[i];
            if (Bb) v += Bb[i];
            yr[i] = (float)v;
        }
    }
    return SWACL_OK;
}

/* ------------------------------------------------------------------------ */
/* rope, in place on x [B*T, nh*d]; row b*T+t at position p = pos0[b] + t.   */
/* inv_freq_i = theta^(-2i/d), a_i = p * inv_freq_i (double), i < d/2.       */
/*   PAIR: (x[2i], x[2i+1]);  HALF: (x[i], x[i+d/2]); each pair (u, v) ->    */
/*   (u cos a - v sin a, v cos a + u sin a)                                  */

static swacl_status ref_rope(swacl_backend *be, swacl_buf *x, int B, int T, int nh, int d,
                             const int *pos0, swacl_pos layout, float theta)
{
    if (layout == SWACL_POS_NONE) return SWACL_OK; /* NoPE */
    SWACL_FAIL_IF(be->ctx, layout != SWACL_POS_ROPE_PAIR && layout != SWACL_POS_ROPE_HALF,
                  SWACL_INVALID_ARG, "ref rope: unknown layout %d", (int)layout);
    SWACL_FAIL_IF(be->ctx, B < 0 || T < 0 || nh <= 0 || d <= 0 || d % 2, SWACL_INVALID_ARG,
                  "ref rope: bad shape B=%d T=%d nh=%d d=%d (d must be even)", B, T, nh, d);
    SWACL_FAIL_IF(be->ctx, !(theta > 0), SWACL_INVALID_ARG, "ref rope: theta must be > 0 (got %g)",
                  (double)theta);
    SWACL_FAIL_IF(be->ctx, B > 0 && !pos0, SWACL_INVALID_ARG, "ref rope: pos0 is NULL");
    SWACL_TRY(need(be, "rope", "x", x, (size_t)B * T * nh * d));

    float *X = fdata(x);
    const int half = d / 2;
    const size_t width = (size_t)nh * d;
#pragma omp parallel for collapse(2) schedule(static) num_threads(nthreads(be))
    for (int b = 0; b < B; b++) {
        for (int t = 0; t < T; t++) {
            const double p = (double)pos0[b] + t;
            float *row = X + ((size_t)b * T + t) * width;
            for (int i = 0; i < half; i++) {
                /* one angle per frequency, shared by every head of the row */
                double inv_freq = pow((double)theta, -2.0 * i / d);
                double a = p * inv_freq, c = cos(a), s = sin(a);
                /* lanes of the pair: adjacent (PAIR) or half a head apart (HALF) */
                int i0 = layout == SWACL_POS_ROPE_PAIR ? 2 * i : i;
                int i1 = layout == SWACL_POS_ROPE_PAIR ? 2 * i + 1 : i + half;
                for (int h = 0; h < nh; h++) {
                    float *xh = row + (size_t)h * d;
                    double u = xh[i0], v = xh[i1];
                    xh[i0] = (float)(u * c - v * s);
                    xh[i1] = (float)(v * c + u * s);
                }
            }
        }
    }
    return SWACL_OK;
}

/* ------------------------------------------------------------------------ */
/* attention: the contract above swacl_attn_args in internal.h.              */

/* First key a query at position p may see (ARCH.md 1.5); last is p. */
static int span_lo(swacl_span span, int size, int p)
{
    switch (span) {
    case SWACL_SPAN_WINDOW: return p - size + 1 > 0 ? p - size + 1 : 0; /* W keys incl. self */
    case SWACL_SPAN_CHUNK: return (p / size) * size;                    /* same chunk */
    case SWACL_SPAN_GLOBAL:
    default: return 0; /* causal */
    }
}

static swacl_status attn_validate(swacl_backend *be, const swacl_attn_args *a)
{
    swacl_ctx *ctx = be->ctx;
    SWACL_FAIL_IF(ctx, !a, SWACL_INVALID_ARG, "ref attention: args is NULL");
    SWACL_FAIL_IF(ctx, a->B < 0 || a->T < 0, SWACL_INVALID_ARG,
                  "ref attention: bad B=%d T=%d", a->B, a->T);
    SWACL_FAIL_IF(ctx, a->d <= 0, SWACL_INVALID_ARG, "ref attention: head dim d=%d must be > 0",
                  a->d);
    SWACL_FAIL_IF(ctx, a->H <= 0 || a->Hkv <= 0 || a->H % a->Hkv != 0, SWACL_INVALID_ARG,
                  "ref attention: H=%d must be a positive multiple of Hkv=%d", a->H, a->Hkv);
    SWACL_FAIL_IF(ctx, a->span != SWACL_SPAN_GLOBAL && a->span != SWACL_SPAN_WINDOW &&
                           a->span != SWACL_SPAN_CHUNK,
                  SWACL_INVALID_ARG, "ref attention: unknown span %d", (int)a->span);
    SWACL_FAIL_IF(ctx, a->span != SWACL_SPAN_GLOBAL && a->span_size <= 0, SWACL_INVALID_ARG,
                  "ref attention: span_size=%d must be > 0 for %s", a->span_size,
                  a->span == SWACL_SPAN_WINDOW ? "WINDOW" : "CHUNK");
    SWACL_FAIL_IF(ctx, (a->kc != NULL) != (a->vc != NULL), SWACL_INVALID_ARG,
                  "ref attention: kc and vc must be given together");
    SWACL_FAIL_IF(ctx, a->kc && a->cap <= 0, SWACL_INVALID_ARG,
                  "ref attention: cap=%d must be > 0 with a cache", a->cap);
    SWACL_FAIL_IF(ctx, a->B > 0 && (!a->pos0 || !a->n_new), SWACL_INVALID_ARG,
                  "ref attention: pos0 / n_new is NULL");

    const size_t rows = (size_t)a->B * a->T;
    const size_t qw = (size_t)a->H * a->d, kvw = (size_t)a->Hkv * a->d;
    SWACL_TRY(need(be, "attention", "q", a->q, rows * qw));
    SWACL_TRY(need(be, "attention", "k", a->k, rows * kvw));
    SWACL_TRY(need(be, "attention", "v", a->v, rows * kvw));
    SWACL_TRY(need(be, "attention", "out", a->out, rows * qw));
    if (a->kc) {
        SWACL_TRY(need(be, "attention", "kc", a->kc, (size_t)a->B * a->cap * kvw));
        SWACL_TRY(need(be, "attention", "vc", a->vc, (size_t)a->B * a->cap * kvw));
    }
    SWACL_FAIL_IF(ctx, a->out == a->q || a->out == a->k || a->out == a->v, SWACL_INVALID_ARG,
                  "ref attention: out must not alias q/k/v");

    for (int b = 0; b < a->B; b++) {
        int p0 = a->pos0[b], nn = a->n_new[b];
        SWACL_FAIL_IF(ctx, p0 < 0 || nn < 0 || nn > a->T, SWACL_INVALID_ARG,
                      "ref attention: sequence %d has pos0=%d n_new=%d (T=%d)", b, p0, nn, a->T);
        if (nn == 0) continue;
        /* lo(p) never decreases with p, so the first query needs the oldest key */
        int lo = span_lo(a->span, a->span_size, p0);
        if (lo < p0) {
            SWACL_FAIL_IF(ctx, !a->kc, SWACL_INVALID_ARG,
                          "ref attention: sequence %d needs cached keys %d..%d but no cache given",
                          b, lo, p0 - 1);
            SWACL_FAIL_IF(ctx, p0 - lo > a->cap, SWACL_INVALID_ARG,
                          "ref attention: sequence %d needs %d cached keys, cache holds %d", b,
                          p0 - lo, a->cap);
        }
    }
    return SWACL_OK;
}

/* Row of key/value head kvh at absolute position j of sequence b: a new row
 * when j >= pos0[b], else cache slot j % cap. */
static const float *kv_row(const swacl_attn_args *a, const float *fresh, const float *cache, int b,
                           int kvh, int j)
{
    const size_t kvw = (size_t)a->Hkv * a->d;
    const int p0 = a->pos0[b];
    if (j >= p0) return fresh + ((size_t)b * a->T + (size_t)(j - p0)) * kvw + (size_t)kvh * a->d;
    return cache + ((size_t)b * a->cap + (size_t)(j % a->cap)) * kvw + (size_t)kvh * a->d;
}

/* Queries are processed in tiles of QTILE consecutive tokens of one head, so
 * each key / value row is read from memory once per tile instead of once per
 * query. The math per query is unchanged: scores, softmax, weighted sum. */
enum { QTILE = 16 };

static swacl_status ref_attention(swacl_backend *be, const swacl_attn_args *a)
{
    SWACL_TRY(attn_validate(be, a));
    const int B = a->B, T = a->T, H = a->H, Hkv = a->Hkv, d = a->d;
    const int group = H / Hkv; /* GQA: query heads per KV head */
    const size_t qw = (size_t)H * d;
    const int ntiles = (T + QTILE - 1) / QTILE;

    /* longest key range of any query, plus QTILE-1 for the spread of a tile:
     * the row stride of the per-thread score matrix [QTILE][stride] */
    int maxkeys = 1;
    for (int b = 0; b < B; b++) {
        int n = a->pos0[b] + a->n_new[b]; /* keys 0..p for the last query */
        if (a->span != SWACL_SPAN_GLOBAL && n > a->span_size) n = a->span_size;
        if (n > maxkeys) maxkeys = n;
    }
    const size_t stride = (size_t)maxkeys + QTILE;
    const int nt = nthreads(be);
    const size_t per_thread = QTILE * stride + (size_t)QTILE * d; /* scores, output acc */
    double *scratch = malloc((size_t)nt * per_thread * sizeof(double));
    SWACL_FAIL_IF(be->ctx, !scratch, SWACL_OUT_OF_MEMORY,
                  "ref attention: cannot allocate %zu bytes of scratch",
                  (size_t)nt * per_thread * sizeof(double));

    const float *Q = fdata(a->q), *K = fdata(a->k), *V = fdata(a->v);
    const float *KC = a->kc ? fdata(a->kc) : NULL, *VC = a->vc ? fdata(a->vc) : NULL;
    float *O = fdata(a->out);

#pragma omp parallel for collapse(3) schedule(dynamic, 1) num_threads(nt)
    for (int b = 0; b < B; b++) {
        for (int h = 0; h < H; h++) {
            for (int tile = 0; tile < ntiles; tile++) {
                const int t0 = tile * QTILE;
                const int nq = T - t0 < QTILE ? T - t0 : QTILE;
                int nv = a->n_new[b] - t0; /* valid queries in this tile */
                nv = nv < 0 ? 0 : (nv > nq ? nq : nv);
                /* padding rows t >= n_new[b]: zeros */
                for (int i = nv; i < nq; i++)
                    memset(O + ((size_t)b * T + t0 + i) * qw + (size_t)h * d, 0,
                           (size_t)d * sizeof(float));
                if (nv == 0) continue;

                double *S = scratch + (size_t)omp_get_thread_num() * per_thread;
                double *acc = S + QTILE * stride;
                const int kvh = h / group;
                const int p0 = a->pos0[b];
                /* per query: position p, first key lo, q row, q multiplier */
                int lo[QTILE] = {0}, pos[QTILE] = {0};
                const float *q[QTILE];
                double qs[QTILE];
                for (int i = 0; i < nv; i++) {
                    pos[i] = p0 + t0 + i;
                    lo[i] = span_lo(a->span, a->span_size, pos[i]);
                    q[i] = Q + ((size_t)b * T + t0 + i) * qw + (size_t)h * d;
                    /* query temperature s(p) multiplies q; scale multiplies logits */
                    qs[i] = (double)swacl_temp_factor(a->temp, a->temp_p0, a->temp_p1, pos[i]) *
                            (double)a->scale;
                }
                /* keys any query of the tile sees: jlo .. jhi; S[i][j - jlo] */
                const int jlo = lo[0], jhi = pos[nv - 1];

                /* scores: s_ij = qs_i * <q_i, k_j> for lo_i <= j <= p_i */
                for (int j = jlo; j <= jhi; j++) {
                    const float *kj = kv_row(a, K, KC, b, kvh, j);
                    for (int i = 0; i < nv; i++)
                        if (j >= lo[i] && j <= pos[i])
                            S[i * stride + (size_t)(j - jlo)] = qs[i] * dot_f64(q[i], kj, d);
                }
                /* softmax per query, max subtracted, normalised in place */
                for (int i = 0; i < nv; i++) {
                    double *si = S + i * stride - jlo; /* si[j] for lo_i <= j <= p_i */
                    double mx = -INFINITY, sum = 0;
                    for (int j = lo[i]; j <= pos[i]; j++) mx = si[j] > mx ? si[j] : mx;
                    for (int j = lo[i]; j <= pos[i]; j++) sum += (si[j] = exp(si[j] - mx));
                    for (int j = lo[i]; j <= pos[i]; j++) si[j] /= sum;
                }
                /* out_i = sum_j P_ij v_j */
                memset(acc, 0, (size_t)nv * d * sizeof(double));
                for (int j = jlo; j <= jhi; j++) {
                    const float *vj = kv_row(a, V, VC, b, kvh, j);
                    for (int i = 0; i < nv; i++) {
                        if (j < lo[i] || j > pos[i]) continue;
                        const double pij = S[i * stride + (size_t)(j - jlo)];
                        double *ai = acc + (size_t)i * d;
                        for (int e = 0; e < d; e++) ai[e] += pij * (double)vj[e];
                    }
                }
                for (int i = 0; i < nv; i++) {
                    float *o = O + ((size_t)b * T + t0 + i) * qw + (size_t)h * d;
                    for (int e = 0; e < d; e++) o[e] = (float)acc[(size_t)i * d + e];
                }
            }
        }
    }
    free(scratch);
    return SWACL_OK;
}

/* ------------------------------------------------------------------------ */
/* Elementwise ops.                                                          */

/* SWIGLU: out = silu(g) * u, silu(g) = g / (1 + exp(-g));
 * GELU (exact): out = 0.5 * g * (1 + erf(g / sqrt(2))). out may alias gate. */
static swacl_status ref_act(swacl_backend *be, swacl_ffn kind, swacl_buf *out, const swacl_buf *gate,
                            const swacl_buf *up, size_t n)
{
    SWACL_FAIL_IF(be->ctx, kind != SWACL_FFN_SWIGLU && kind != SWACL_FFN_GELU, SWACL_INVALID_ARG,
                  "ref act: unknown kind %d", (int)kind);
    SWACL_TRY(need(be, "act", "out", out, n));
    SWACL_TRY(need(be, "act", "gate", gate, n));
    if (kind == SWACL_FFN_SWIGLU) SWACL_TRY(need(be, "act", "up", up, n));
    float *Y = fdata(out);
    const float *G = fdata(gate), *U = up ? fdata(up) : NULL;
    const long long N = (long long)n;
#pragma omp parallel for schedule(static) num_threads(nthreads(be))
    for (long long i = 0; i < N; i++) {
        double g = G[i];
        if (kind == SWACL_FFN_SWIGLU)
            Y[i] = (float)(g / (1.0 + exp(-g)) * (double)U[i]);
        else
            Y[i] = (float)(0.5 * g * (1.0 + erf(g / sqrt(2.0))));
    }
    return SWACL_OK;
}

/* y[i] += x[i] */
static swacl_status ref_add(swacl_backend *be, swacl_buf *y, const swacl_buf *x, size_t n)
{
    SWACL_TRY(need(be, "add", "y", y, n));
    SWACL_TRY(need(be, "add", "x", x, n));
    float *Y = fdata(y);
    const float *X = fdata(x);
    for (size_t i = 0; i < n; i++) Y[i] += X[i];
    return SWACL_OK;
}

/* y[i] *= s */
static swacl_status ref_scale(swacl_backend *be, swacl_buf *y, float s, size_t n)
{
    SWACL_TRY(need(be, "scale", "y", y, n));
    float *Y = fdata(y);
    for (size_t i = 0; i < n; i++) Y[i] *= s;
    return SWACL_OK;
}

/* out[r, :] = table[ids[r], :] */
static swacl_status ref_embed(swacl_backend *be, swacl_buf *out, const swacl_buf *table,
                              const int32_t *ids, int n, int D)
{
    SWACL_FAIL_IF(be->ctx, n < 0 || D <= 0 || (n > 0 && !ids), SWACL_INVALID_ARG,
                  "ref embed: bad arguments n=%d D=%d", n, D);
    SWACL_TRY(need(be, "embed", "out", out, (size_t)n * D));
    SWACL_FAIL_IF(be->ctx, !table, SWACL_INVALID_ARG, "ref embed: table is NULL");
    const size_t vocab = table->bytes / sizeof(float) / (size_t)D; /* rows the table holds */
    for (int r = 0; r < n; r++)
        SWACL_FAIL_IF(be->ctx, ids[r] < 0 || (size_t)ids[r] >= vocab, SWACL_INVALID_ARG,
                      "ref embed: id %d at %d outside the table's %zu rows", (int)ids[r], r, vocab);
    for (int r = 0; r < n; r++)
        memcpy(fdata(out) + (size_t)r * D, fdata(table) + (size_t)ids[r] * D, (size_t)D * sizeof(float));
    return SWACL_OK;
}

/* dst[i, :] = src[rows[i], :] */
static swacl_status ref_gather_rows(swacl_backend *be, swacl_buf *dst, const swacl_buf *src,
                                    const int *rows, int n, int width)
{
    SWACL_FAIL_IF(be->ctx, n < 0 || width <= 0 || (n > 0 && !rows), SWACL_INVALID_ARG,
                  "ref gather_rows: bad arguments n=%d width=%d", n, width);
    SWACL_TRY(need(be, "gather_rows", "dst", dst, (size_t)n * width));
    SWACL_FAIL_IF(be->ctx, !src, SWACL_INVALID_ARG, "ref gather_rows: src is NULL");
    SWACL_FAIL_IF(be->ctx, dst == src, SWACL_INVALID_ARG, "ref gather_rows: dst aliases src");
    const size_t src_rows = src->bytes / sizeof(float) / (size_t)width;
    for (int i = 0; i < n; i++)
        SWACL_FAIL_IF(be->ctx, rows[i] < 0 || (size_t)rows[i] >= src_rows, SWACL_INVALID_ARG,
                      "ref gather_rows: row %d at %d outside the source's %zu rows", rows[i], i,
                      src_rows);
    for (int i = 0; i < n; i++)
        memcpy(fdata(dst) + (size_t)i * width, fdata(src) + (size_t)rows[i] * width,
               (size_t)width * sizeof(float));
    return SWACL_OK;
}

/* for t < n_new[b], t >= n_new[b] - cap: cache[b, (pos0[b]+t) % cap, :] = src[b*T+t, :]
 * (only the last cap new rows can survive, so earlier ones are skipped) */
static swacl_status ref_kv_store(swacl_backend *be, swacl_buf *cache, const swacl_buf *src, int B,
                                 int T, int cap, int width, const int *pos0, const int *n_new)
{
    SWACL_FAIL_IF(be->ctx, B < 0 || T < 0 || cap <= 0 || width <= 0, SWACL_INVALID_ARG,
                  "ref kv_store: bad shape B=%d T=%d cap=%d width=%d", B, T, cap, width);
    SWACL_FAIL_IF(be->ctx, B > 0 && (!pos0 || !n_new), SWACL_INVALID_ARG,
                  "ref kv_store: pos0 / n_new is NULL");
    SWACL_TRY(need(be, "kv_store", "cache", cache, (size_t)B * cap * width));
    SWACL_TRY(need(be, "kv_store", "src", src, (size_t)B * T * width));
    for (int b = 0; b < B; b++)
        SWACL_FAIL_IF(be->ctx, pos0[b] < 0 || n_new[b] < 0 || n_new[b] > T, SWACL_INVALID_ARG,
                      "ref kv_store: sequence %d has pos0=%d n_new=%d (T=%d)", b, pos0[b],
                      n_new[b], T);
    for (int b = 0; b < B; b++) {
        int t0 = n_new[b] - cap > 0 ? n_new[b] - cap : 0;
        for (int t = t0; t < n_new[b]; t++) {
            size_t slot = (size_t)((pos0[b] + t) % cap);
            memcpy(fdata(cache) + ((size_t)b * cap + slot) * width,
                   fdata(src) + ((size_t)b * T + t) * width, (size_t)width * sizeof(float));
        }
    }
    return SWACL_OK;
}

/* Synchronous backend: nothing is ever queued. */
static swacl_status ref_finish(swacl_backend *be)
{
    (void)be;
    return SWACL_OK;
}

/* ------------------------------------------------------------------------ */
/* Construction.                                                             */

static void ref_free(swacl_backend *be) { free(be); }

static const struct swacl_backend_i ref_iface = {
    /* .name        = */ "ref",
    /* .free        = */ ref_free,
    /* .buf_alloc   = */ ref_buf_alloc,
    /* .buf_free    = */ ref_buf_free,
    /* .buf_write   = */ ref_buf_write,
    /* .buf_read    = */ ref_buf_read,
    /* .matmul      = */ ref_matmul,
    /* .norm        = */ ref_norm,
    /* .rope        = */ ref_rope,
    /* .attention   = */ ref_attention,
    /* .act         = */ ref_act,
    /* .add         = */ ref_add,
    /* .scale       = */ ref_scale,
    /* .embed       = */ ref_embed,
    /* .gather_rows = */ ref_gather_rows,
    /* .kv_store    = */ ref_kv_store,
    /* .finish      = */ ref_finish,
    /* transfers: the pipeline stages a reference stage through host memory */
    /* .peer        = */ NULL,
    /* .copy_peer   = */ NULL,
    /* .mark        = */ NULL,
    /* .wait        = */ NULL,
    /* .elapsed     = */ NULL,
    /* .event_free  = */ NULL,
    /* .host_alloc  = */ NULL,
    /* .host_free   = */ NULL,
};

swacl_status swacl_ref_backend_create(swacl_ctx *ctx, int threads, swacl_backend **out)
{
    if (!out) return swacl_set_error(ctx, SWACL_INVALID_ARG, "ref backend: out is NULL");
    *out = NULL;
    SWACL_FAIL_IF(ctx, threads < 0, SWACL_INVALID_ARG, "ref backend: threads=%d must be >= 0",
                  threads);
    ref_backend *rb = calloc(1, sizeof *rb);
    SWACL_FAIL_IF(ctx, !rb, SWACL_OUT_OF_MEMORY, "ref backend: out of memory");
    rb->base.iface = &ref_iface;
    rb->base.ctx = ctx;
    rb->threads = threads > 0 ? threads : omp_get_max_threads();
    if (rb->threads < 1) rb->threads = 1;
    *out = &rb->base;
    return SWACL_OK;
}
