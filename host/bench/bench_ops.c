/*
 * bench_ops.c - the op benchmark: the SWACL_OPC_BENCH (full) or
 * SWACL_OPC_BENCH_QUICK rows of the one op-case table (host/ops/op_cases.c,
 * the rows the tests also run), each launched through the shared runner
 * (host/ops/op_run.c: the backend-seam call the graph makes) and timed with
 * its theoretical FLOP or byte count, so a rate can be set against the
 * device's probed peak.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_internal.h"
#include "ops/op_cases.h"

/* The benchmark's name of an op kind (its JSON "op"); NULL: not timed. */
static const char *bench_op_name(const swacl_op_case *c)
{
    switch (c->op) {
    case SWACL_OP_ATTENTION: return "attention";
    case SWACL_OP_ROPE: return "rope";
    case SWACL_OP_NORM: return c->norm.kind == SWACL_NORM_RMS ? "rmsnorm" : "layernorm";
    case SWACL_OP_ACT: return c->elt.ffn == SWACL_FFN_SWIGLU ? "swiglu" : "gelu";
    case SWACL_OP_MATMUL: return "gemm";
    default: return swacl_op_kind_name(c->op);
    }
}

/* The result row of a case: shape, name and theoretical counts. */
static void case_describe(const swacl_op_case *c, swacl_bench_op *o)
{
    memset(o, 0, sizeof *o);
    snprintf(o->name, sizeof o->name, "%s", c->label);
    snprintf(o->op, sizeof o->op, "%s", bench_op_name(c));
    swacl_op_work(c, &o->flops, &o->bytes);
    switch (c->op) {
    case SWACL_OP_ATTENTION: {
        const swacl_opc_attn *a = &c->attn;
        o->L = a->T; /* the rows of sequence 0 (the benchmark rows have B = 1) */
        o->global = a->span == SWACL_SPAN_GLOBAL;
        o->W = o->global ? 0 : a->S;
        o->H = a->H;
        o->Hkv = a->Hkv;
        o->d = a->d;
        o->pairs = o->flops / (4.0 * a->d * a->H);
        break;
    }
    case SWACL_OP_MATMUL: o->M = c->mm.M, o->N = c->mm.N, o->K = c->mm.K; break;
    case SWACL_OP_ROPE:
        o->M = c->rope.B * c->rope.T, o->N = c->rope.nh * c->rope.d;
        break;
    case SWACL_OP_NORM: o->M = c->norm.rows, o->N = c->norm.n; break;
    default: o->M = c->elt.rows, o->N = c->elt.n; break; /* act / add / scale */
    }
}

static swacl_status run_once(swacl_ctx *ctx, const swacl_op_case *c, swacl_op_bufs *b)
{
    SWACL_TRY(swacl_op_launch(ctx, c, b));
    return ctx->be->iface->finish(ctx->be);
}

/* Warm-up, then the median of `reps` wall-clock runs (fewer for slow ops). */
static swacl_status op_time(swacl_ctx *ctx, const swacl_op_case *c, int reps, double *secs)
{
    swacl_op_bufs *b = NULL;
    swacl_status st = swacl_op_bufs_create(ctx, c, &b);
    double ts[16];
    if (st == SWACL_OK) {
        double t0 = swacl_now();
        st = run_once(ctx, c, b);
        double tw = swacl_now() - t0;
        if (tw > 2.0 && reps > 2) reps = 2;
        else if (tw > 0.5 && reps > 3) reps = 3;
        if (reps > 16) reps = 16;
        for (int i = 0; i < reps && st == SWACL_OK; i++) {
            t0 = swacl_now();
            st = run_once(ctx, c, b);
            ts[i] = swacl_now() - t0;
        }
        if (st == SWACL_OK) *secs = swacl_bench_median(ts, reps);
    }
    swacl_op_bufs_destroy(b);
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
    /* the reference is slow: always the quick rows there */
    unsigned use = p.quick || ctx->is_ref ? SWACL_OPC_BENCH_QUICK : SWACL_OPC_BENCH;
    int reps = p.quick ? 3 : 5;
    size_t nc = 0;
    const swacl_op_case *cases = swacl_op_cases(&nc);
    swacl_bench_op *ops = calloc(nc ? nc : 1, sizeof *ops);
    if (!ops) return swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "out of host memory");
    int m = 0;
    for (size_t i = 0; i < nc; i++) {
        if (!(cases[i].use & use)) continue;
        swacl_bench_op *o = &ops[m++];
        case_describe(&cases[i], o);
        swacl_bench_say(p.progress, p.user, "kernel %s", o->name);
        if (op_time(ctx, &cases[i], reps, &o->seconds) != SWACL_OK) {
            o->seconds = 0.0;
            snprintf(o->error, sizeof o->error, "%s", swacl_ctx_errmsg(ctx));
        }
    }
    *out = ops;
    *n = m;
    return SWACL_OK;
}

void swacl_bench_ops_free(swacl_bench_op *ops) { free(ops); }
