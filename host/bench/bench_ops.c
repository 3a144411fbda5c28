/*
 * bench_ops.c - the op benchmark: backend-seam ops (the same calls the graph
 * makes) timed with their theoretical FLOP or byte counts, so a rate can be
 * set against the device's probed peak.
 *
 * Two halves, kept apart on purpose: k_cases says WHICH cases run (a table;
 * to be replaced by rows of the shared op-case table that drives the tests),
 * the rest says HOW a case is described, allocated, run and timed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_internal.h"

/* ------------------------------------------------------------------------ */
/* Which cases                                                               */

typedef enum { OP_ATTN, OP_ROPE, OP_NORM, OP_ACT, OP_GEMM } op_kind;
static const char *const k_op_names[] = {"attention", "rope", "rmsnorm", "swiglu", "gemm"};

/* The quick list (also used on the slow reference) and the full list. */
enum { IN_QUICK = 1, IN_FULL = 2, IN_BOTH = 3 };

/* Widths that follow the cohere2 preset (resolved in case_dim), so the
 * GEMMs and row ops measure the shapes the e2e section runs. */
enum { DIM_D = -1, DIM_F = -2, DIM_QKV = -3, DIM_HD = -4 };

typedef struct {
    op_kind kind;
    int lists;          /* IN_QUICK | IN_FULL                                */
    const char *label;  /* gemm: which projection                            */
    int L, W, global;   /* attention over L rows (B = 1); W window           */
    int H, Hkv, d;      /* attention heads                                   */
    int M, N, K;        /* gemm y[M,N] = x[M,K] w[N,K]^T; rows x width else  */
} op_case;

#define ATTN(L, W, lists) {OP_ATTN, lists, NULL, L, W, 0, 4, 1, 64, 0, 0, 0}
#define CAUSAL(L, lists) {OP_ATTN, lists, NULL, L, 0, 1, 4, 1, 64, 0, 0, 0}
#define ROWS(kind, M, N, lists) {kind, lists, NULL, 0, 0, 0, 0, 0, 0, M, N, 0}
#define GEMM(lab, M, N, K, lists) {OP_GEMM, lists, lab, 0, 0, 0, 0, 0, 0, M, N, K}

static const op_case k_cases[] = {
    ATTN(1024, 128, IN_BOTH),  ATTN(1024, 512, IN_BOTH),  ATTN(1024, 4096, IN_FULL),
    ATTN(4096, 128, IN_BOTH),  ATTN(4096, 512, IN_BOTH),  ATTN(4096, 4096, IN_FULL),
    ATTN(16384, 128, IN_FULL), ATTN(16384, 512, IN_FULL), ATTN(16384, 4096, IN_FULL),
    CAUSAL(1024, IN_BOTH),     CAUSAL(4096, IN_FULL),
    ROWS(OP_ROPE, 4096, DIM_HD, IN_QUICK), ROWS(OP_ROPE, 16384, DIM_HD, IN_FULL),
    ROWS(OP_NORM, 4096, DIM_D, IN_QUICK),  ROWS(OP_NORM, 16384, DIM_D, IN_FULL),
    ROWS(OP_ACT, 4096, DIM_F, IN_QUICK),   ROWS(OP_ACT, 16384, DIM_F, IN_FULL),
    GEMM("qkv", 1024, DIM_QKV, DIM_D, IN_BOTH),
    GEMM("up/gate", 1024, DIM_F, DIM_D, IN_BOTH),
    GEMM("down", 1024, DIM_D, DIM_F, IN_BOTH),
    GEMM("qkv", 4096, DIM_QKV, DIM_D, IN_FULL),
    GEMM("up/gate", 4096, DIM_F, DIM_D, IN_FULL),
    GEMM("down", 4096, DIM_D, DIM_F, IN_FULL),
};
enum { N_CASES = (int)(sizeof k_cases / sizeof k_cases[0]) };

/* ------------------------------------------------------------------------ */
/* How a case is described                                                   */

/* Attention (query, key) pairs of a causal span of width W over L rows. */
static double attn_pairs(int L, int W)
{
    double l = L, w = W;
    if (W <= 0 || W >= L) return l * (l + 1) / 2.0;
    return l * w - w * (w - 1) / 2.0;
}

static int case_dim(int v, const swacl_config *c)
{
    switch (v) {
    case DIM_D: return c->hidden_size;
    case DIM_F: return c->ffn_dim;
    case DIM_QKV: return (c->n_heads + 2 * c->n_kv_heads) * c->head_dim;
    case DIM_HD: return c->n_heads * c->head_dim;
    default: return v;
    }
}

/* The result row of a case: shape, name and theoretical counts. */
static void case_describe(const op_case *k, const swacl_config *c, swacl_bench_op *o)
{
    memset(o, 0, sizeof *o);
    snprintf(o->op, sizeof o->op, "%s", k_op_names[k->kind]);
    o->M = case_dim(k->M, c);
    o->N = case_dim(k->N, c);
    o->K = case_dim(k->K, c);
    double M = o->M, N = o->N;
    switch (k->kind) {
    case OP_ATTN:
        o->L = k->L;
        o->W = k->global ? 0 : k->W;
        o->global = k->global;
        o->H = k->H;
        o->Hkv = k->Hkv;
        o->d = k->d;
        o->pairs = attn_pairs(o->L, o->W);
        o->flops = 4.0 * o->d * o->H * o->pairs; /* q.k and p.v: 2 FMAs per pair and lane */
        if (o->global)
            snprintf(o->name, sizeof o->name, "attn causal L=%d", o->L);
        else
            snprintf(o->name, sizeof o->name, "attn band L=%d W=%d", o->L, o->W);
        break;
    case OP_ROPE: /* read + write x */
        o->bytes = 2.0 * 4.0 * M * N;
        snprintf(o->name, sizeof o->name, "rope %dx%d", o->M, o->N);
        break;
    case OP_NORM: /* read x, write y, read the weight row */
        o->bytes = 4.0 * (2.0 * M * N + N);
        snprintf(o->name, sizeof o->name, "rmsnorm %dx%d", o->M, o->N);
        break;
    case OP_ACT: /* read gate and up, write out */
        o->bytes = 3.0 * 4.0 * M * N;
        snprintf(o->name, sizeof o->name, "swiglu %dx%d", o->M, o->N);
        break;
    case OP_GEMM:
        o->flops = 2.0 * M * N * o->K;
        snprintf(o->name, sizeof o->name, "gemm %s %dx%d<-%d", k->label, o->M, o->N, o->K);
        break;
    }
}

/* ------------------------------------------------------------------------ */
/* How a case is run and timed                                               */

typedef struct {
    swacl_buf *b[5];
} op_bufs;

static swacl_status fill_buf(swacl_backend *be, swacl_buf **out, size_t n, swacl_rng *r)
{
    *out = NULL;
    float *h = malloc(n * sizeof *h);
    if (!h) return swacl_set_error(be->ctx, SWACL_OUT_OF_MEMORY, "out of host memory");
    for (size_t i = 0; i < n; i++) h[i] = 0.5f * swacl_rng_uniform(r);
    swacl_status st = be->iface->buf_alloc(be, n * sizeof *h, out);
    if (st == SWACL_OK) st = be->iface->buf_write(be, *out, 0, h, n * sizeof *h);
    free(h);
    return st;
}

static swacl_status op_alloc(swacl_backend *be, op_kind kind, const swacl_bench_op *op,
                             op_bufs *ob)
{
    swacl_rng r = {7};
    memset(ob, 0, sizeof *ob);
    size_t sz[5] = {0}, M = (size_t)op->M, N = (size_t)op->N;
    switch (kind) {
    case OP_ATTN: /* q, k, v, out */
        sz[0] = sz[3] = (size_t)op->L * (size_t)(op->H * op->d);
        sz[1] = sz[2] = (size_t)op->L * (size_t)(op->Hkv * op->d);
        break;
    case OP_ROPE: sz[0] = M * N; break;
    case OP_NORM: sz[0] = sz[1] = M * N; sz[2] = N; break; /* x, y, weight */
    case OP_ACT: sz[0] = sz[1] = sz[2] = M * N; break;      /* gate, up, out */
    case OP_GEMM: /* y, x, w */
        sz[0] = M * N;
        sz[1] = M * (size_t)op->K;
        sz[2] = N * (size_t)op->K;
        break;
    }
    for (int i = 0; i < 5; i++)
        if (sz[i]) SWACL_TRY(fill_buf(be, &ob->b[i], sz[i], &r));
    return SWACL_OK;
}

static void op_free(swacl_backend *be, op_bufs *ob)
{
    for (int i = 0; i < 5; i++)
        if (ob->b[i]) be->iface->buf_free(be, ob->b[i]);
}

static swacl_status op_run(swacl_backend *be, op_kind kind, const swacl_bench_op *op,
                           op_bufs *ob)
{
    const struct swacl_backend_i *f = be->iface;
    int pos0 = 0;
    switch (kind) {
    case OP_ATTN: {
        swacl_attn_args a;
        memset(&a, 0, sizeof a);
        int n_new = op->L;
        a.B = 1;
        a.T = op->L;
        a.H = op->H;
        a.Hkv = op->Hkv;
        a.d = op->d;
        a.q = ob->b[0];
        a.k = ob->b[1];
        a.v = ob->b[2];
        a.pos0 = &pos0;
        a.n_new = &n_new;
        a.span = op->global ? SWACL_SPAN_GLOBAL : SWACL_SPAN_WINDOW;
        a.span_size = op->global ? 0 : op->W;
        a.scale = 0.125f;
        a.temp = SWACL_TEMP_NONE;
        a.out = ob->b[3];
        SWACL_TRY(f->attention(be, &a));
        break;
    }
    case OP_ROPE: /* heads of 64 */
        SWACL_TRY(f->rope(be, ob->b[0], 1, op->M, op->N / 64, 64, &pos0, SWACL_POS_ROPE_HALF,
                          10000.0f));
        break;
    case OP_NORM:
        SWACL_TRY(f->norm(be, SWACL_NORM_RMS, ob->b[1], ob->b[0], ob->b[2], NULL, op->M, op->N,
                          1e-6f));
        break;
    case OP_ACT:
        SWACL_TRY(f->act(be, SWACL_FFN_SWIGLU, ob->b[2], ob->b[0], ob->b[1],
                         (size_t)op->M * (size_t)op->N));
        break;
    case OP_GEMM:
        SWACL_TRY(f->matmul(be, ob->b[0], ob->b[1], ob->b[2], NULL, op->M, op->N, op->K, 0));
        break;
    }
    return f->finish(be);
}

/* Warm-up, then the median of `reps` wall-clock runs (fewer for slow ops). */
static swacl_status op_time(swacl_backend *be, op_kind kind, const swacl_bench_op *op, int reps,
                            double *secs)
{
    op_bufs ob;
    swacl_status st = op_alloc(be, kind, op, &ob);
    double ts[16];
    if (st == SWACL_OK) {
        double t0 = swacl_now();
        st = op_run(be, kind, op, &ob);
        double tw = swacl_now() - t0;
        if (tw > 2.0 && reps > 2) reps = 2;
        else if (tw > 0.5 && reps > 3) reps = 3;
        if (reps > 16) reps = 16;
        for (int i = 0; i < reps && st == SWACL_OK; i++) {
            t0 = swacl_now();
            st = op_run(be, kind, op, &ob);
            ts[i] = swacl_now() - t0;
        }
        if (st == SWACL_OK) *secs = swacl_bench_median(ts, reps);
    }
    op_free(be, &ob);
    return st;
}

swacl_status swacl_bench_ops(swacl_ctx *ctx, const swacl_bench_params *params,
                             swacl_bench_op **out, int *n)
{
    swacl_bench_params p;
    memset(&p, 0, sizeof p);
    if (params) p = *params;
    if (!out || !n) return swacl_set_error(ctx, SWACL_INVALID_ARG, "bench ops: NULL argument");
    *out = NULL;
    *n = 0;
    if (!ctx || !ctx->be)
        return swacl_set_error(ctx, SWACL_INVALID_ARG, "bench ops: context has no backend");
    /* the reference is slow: always the quick list there */
    int list = p.quick || ctx->is_ref ? IN_QUICK : IN_FULL;
    int reps = p.quick ? 3 : 5;
    swacl_config c;
    SWACL_TRY(swacl_preset("cohere2", &c));
    swacl_bench_op *ops = calloc(N_CASES, sizeof *ops);
    if (!ops) return swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "out of host memory");
    int m = 0;
    for (int i = 0; i < N_CASES; i++) {
        if (!(k_cases[i].lists & list)) continue;
        swacl_bench_op *o = &ops[m++];
        case_describe(&k_cases[i], &c, o);
        swacl_bench_say(p.progress, p.user, "kernel %s", o->name);
        if (op_time(ctx->be, k_cases[i].kind, o, reps, &o->seconds) != SWACL_OK) {
            o->seconds = 0.0;
            snprintf(o->error, sizeof o->error, "%s", swacl_ctx_errmsg(ctx));
        }
    }
    *out = ops;
    *n = m;
    return SWACL_OK;
}

void swacl_bench_ops_free(swacl_bench_op *ops) { free(ops); }
