/*
 * cmd_bench.c - `swacl bench`: per device, clpeak-style peaks (PERF.md 5),
 * the backend-seam kernels with theoretical FLOP/byte counts (PERF.md 4.2),
 * end-to-end prefill/decode for cohere2 vs baseline (or one --model checkpoint),
 * and cold/warm start; with --placement, the layer pipeline over the device
 * list vs each device alone (batch prefill, output checked).
 *
 * Timing: wall clock around op + backend finish(), warm-up first, median of
 * repeats (PERF.md 2.2: never a single library event). Every figure of one
 * device comes from the same run, so ratios (fraction of the probe's peak,
 * fraction of OpenBLAS sgemm, cohere2/baseline) are meaningful on a noisy
 * shared machine even when absolute numbers drift.
 */
#define _XOPEN_SOURCE 700

#include <cblas.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cl/cl_internal.h"
#include "cli/cli.h"
#include "cli/cmd_bench.h"
#include "graph/graph.h"
#include "internal.h"

#define MAX_SEQS 8
#define MAX_DEVS 32

typedef struct {
    int quick;
    int max_seq;          /* 0 = per-device default                         */
    const char *devices;  /* "all" or a comma-separated list                */
    const char *json_path;
    const char *plot_path;
    int e2e_only;         /* skip cold/warm start, peaks and kernels        */
    const char *model_dir;          /* --model: e2e measures this checkpoint */
    const swacl_config *model_cfg;  /* loaded once, shared by every device   */
    const swacl_weights *model_w;
    const char *placement;  /* --placement auto|SPEC: the pipeline section  */
    int pipeline_only;      /* skip the per-device sections                 */
    int batch;              /* pipeline batch (default 8)                    */
    int micro_batches;      /* 0 = auto (swacl_pipeline_set_micro_batches)  */
} bench_opts;

/* Measured once per run, shared by every CPU device. */
typedef struct {
    int done;
    double gflops;
} blas_peak;

/* ------------------------------------------------------------------------ */
/* small helpers                                                             */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void progress(const char *dev, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void progress(const char *dev, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench [%s]: ", dev);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static const char *human_bytes(double b, char *buf, size_t len)
{
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int i = 0;
    while (b >= 1024.0 && i < 4) {
        b /= 1024.0;
        i++;
    }
    snprintf(buf, len, "%.1f %s", b, u[i]);
    return buf;
}

/* Attention (query, key) pairs of a causal span of width W over L rows. */
static double attn_pairs(int L, int W)
{
    double l = L, w = W;
    if (W <= 0 || W >= L) return l * (l + 1) / 2.0;
    return l * w - w * (w - 1) / 2.0;
}

/* ------------------------------------------------------------------------ */
/* OpenBLAS sgemm peak (the CPU's practical peak)                            */

static double measure_openblas(int n, double target_s)
{
    size_t nn = (size_t)n * (size_t)n;
    float *a = malloc(nn * sizeof *a), *b = malloc(nn * sizeof *b), *c = malloc(nn * sizeof *c);
    double res = 0.0;
    if (a && b && c) {
        swacl_rng r = {12345};
        for (size_t i = 0; i < nn; i++) {
            a[i] = swacl_rng_uniform(&r);
            b[i] = swacl_rng_uniform(&r);
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c,
                    n); /* warm-up: thread pool start */
        double t0 = swacl_now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c,
                    n);
        double t1 = swacl_now() - t0;
        int reps = t1 > 0 ? (int)(target_s / t1) : 10;
        if (reps < 3) reps = 3;
        if (reps > 200) reps = 200;
        double *ts = malloc((size_t)reps * sizeof *ts);
        if (ts) {
            for (int i = 0; i < reps; i++) {
                t0 = swacl_now();
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1.0f, a, n, b, n,
                            0.0f, c, n);
                ts[i] = swacl_now() - t0;
            }
            res = 2.0 * n * (double)n * n / median(ts, reps) / 1e9;
            free(ts);
        }
    }
    free(a);
    free(b);
    free(c);
    return res;
}

/* ------------------------------------------------------------------------ */
/* Peak probe: kernels_cl/probe.cl                                           */

typedef struct {
    double fma4_gflops, fma8_gflops, copy_gbps;
    size_t copy_bytes;
    int ok;
} probe_result;

static swacl_status probe_launch(swacl_ctx *ctx, swacl_cl_dev *dev, cl_kernel k, size_t global,
                                 size_t local, int times, double *secs)
{
    double t0 = swacl_now();
    for (int i = 0; i < times; i++)
        SWACL_CL(ctx, clEnqueueNDRangeKernel(dev->queue, k, 1, NULL, &global,
                                             local ? &local : NULL, 0, NULL, NULL));
    SWACL_CL(ctx, clFinish(dev->queue));
    *secs = swacl_now() - t0;
    return SWACL_OK;
}

static swacl_status probe_fma(swacl_ctx *ctx, swacl_cl_dev *dev, cl_program prog,
                              const char *name, int width, double target_s, double *gflops)
{
    cl_int err = CL_SUCCESS;
    cl_kernel k = clCreateKernel(prog, name, &err);
    if (err != CL_SUCCESS) return swacl_cl_fail(ctx, err, "clCreateKernel", __FILE__, __LINE__);
    size_t local = dev->info.max_work_group_size >= 64 ? 64 : dev->info.max_work_group_size;
    int cus = dev->info.compute_units > 0 ? dev->info.compute_units : 1;
    size_t global = (size_t)cus * (dev->is_cpu ? 1024 : 16384);
    global = (global + local - 1) / local * local;
    swacl_status st = SWACL_OK;
    cl_mem out = clCreateBuffer(dev->context, CL_MEM_WRITE_ONLY, global * sizeof(float), NULL,
                                &err);
    if (err != CL_SUCCESS) {
        clReleaseKernel(k);
        return swacl_cl_fail(ctx, err, "clCreateBuffer", __FILE__, __LINE__);
    }
    float a = 1.3f;
    int iters = 16;
    double t = 0.0;
    for (int round = 0; round < 8; round++) {
        if ((err = clSetKernelArg(k, 0, sizeof out, &out)) != CL_SUCCESS ||
            (err = clSetKernelArg(k, 1, sizeof a, &a)) != CL_SUCCESS ||
            (err = clSetKernelArg(k, 2, sizeof iters, &iters)) != CL_SUCCESS) {
            st = swacl_cl_fail(ctx, err, "clSetKernelArg", __FILE__, __LINE__);
            break;
        }
        SWACL_TRY_GOTO(st, probe_launch(ctx, dev, k, global, local, 1, &t), done);
        if (t >= 0.6 * target_s || iters >= (1 << 24)) break;
        /* calibrate: scale iterations towards the target time */
        double f = t > 1e-6 ? target_s / t : 64.0;
        if (f > 64.0) f = 64.0;
        if (f < 1.5) f = 1.5;
        iters = (int)(iters * f);
    }
    if (st == SWACL_OK) {
        /* timed: best of 3 (clpeak takes the best) */
        double best = t;
        for (int i = 0; i < 2; i++) {
            SWACL_TRY_GOTO(st, probe_launch(ctx, dev, k, global, local, 1, &t), done);
            if (t < best) best = t;
        }
        *gflops = (double)global * iters * 16.0 * 2.0 * width / best / 1e9;
    }
done:
    clReleaseMemObject(out);
    clReleaseKernel(k);
    return st;
}

static swacl_status probe_copy(swacl_ctx *ctx, swacl_cl_dev *dev, cl_program prog, size_t bytes,
                               double target_s, double *gbps)
{
    cl_int err = CL_SUCCESS;
    cl_kernel k = clCreateKernel(prog, "probe_copy4", &err);
    if (err != CL_SUCCESS) return swacl_cl_fail(ctx, err, "clCreateKernel", __FILE__, __LINE__);
    swacl_status st = SWACL_OK;
    cl_mem in = clCreateBuffer(dev->context, CL_MEM_READ_WRITE, bytes, NULL, &err);
    cl_mem out = NULL;
    if (err == CL_SUCCESS) out = clCreateBuffer(dev->context, CL_MEM_READ_WRITE, bytes, NULL, &err);
    if (err != CL_SUCCESS) {
        st = swacl_cl_fail(ctx, err, "clCreateBuffer", __FILE__, __LINE__);
        goto done;
    }
    float zero = 0.0f;
    if ((err = clEnqueueFillBuffer(dev->queue, in, &zero, sizeof zero, 0, bytes, 0, NULL,
                                   NULL)) != CL_SUCCESS ||
        (err = clSetKernelArg(k, 0, sizeof in, &in)) != CL_SUCCESS ||
        (err = clSetKernelArg(k, 1, sizeof out, &out)) != CL_SUCCESS) {
        st = swacl_cl_fail(ctx, err, "clSetKernelArg", __FILE__, __LINE__);
        goto done;
    }
    size_t n4 = bytes / 16;
    size_t local = dev->info.max_work_group_size >= 64 ? 64 : dev->info.max_work_group_size;
    n4 = n4 / local * local;
    double t = 0.0;
    SWACL_TRY_GOTO(st, probe_launch(ctx, dev, k, n4, local, 1, &t), done); /* warm-up */
    SWACL_TRY_GOTO(st, probe_launch(ctx, dev, k, n4, local, 1, &t), done);
    int times = t > 1e-6 ? (int)(target_s / t) : 10;
    if (times < 2) times = 2;
    if (times > 1000) times = 1000;
    double best = 1e30;
    for (int i = 0; i < 3; i++) {
        SWACL_TRY_GOTO(st, probe_launch(ctx, dev, k, n4, local, times, &t), done);
        if (t / times < best) best = t / times;
    }
    *gbps = 2.0 * 16.0 * (double)n4 / best / 1e9;
done:
    if (in) clReleaseMemObject(in);
    if (out) clReleaseMemObject(out);
    clReleaseKernel(k);
    return st;
}

/* Run the probes on the ctx's CL device (through the accessor, or a private
 * swacl_cl_dev on the same device while the accessor does not exist). */
static swacl_status run_probe(swacl_ctx *ctx, const char *selector, const bench_opts *o,
                              probe_result *r)
{
    memset(r, 0, sizeof *r);
    swacl_cl_dev *dev = NULL, *own = NULL;
    dev = swacl_cl_backend_dev(ctx->be);
    if (!dev) {
        own = calloc(1, sizeof *own);
        if (!own) return swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "out of host memory");
        swacl_ctx_params p = swacl_ctx_params_default();
        p.device = selector;
        swacl_status st = swacl_cl_dev_open(ctx, &p, own);
        if (st != SWACL_OK) {
            free(own);
            return st;
        }
        dev = own;
    }
    double target = o->quick ? 0.15 : 0.3;
    cl_program prog;
    swacl_status st = swacl_cl_program(ctx, dev, "probe", "", &prog);
    if (st == SWACL_OK) st = probe_fma(ctx, dev, prog, "probe_fma4", 4, target, &r->fma4_gflops);
    if (st == SWACL_OK) st = probe_fma(ctx, dev, prog, "probe_fma8", 8, target, &r->fma8_gflops);
    if (st == SWACL_OK) {
        size_t bytes = (size_t)(o->quick ? 64 : 256) << 20;
        if (dev->info.max_alloc_bytes && bytes > dev->info.max_alloc_bytes)
            bytes = (size_t)dev->info.max_alloc_bytes;
        if (dev->info.global_mem_bytes && bytes > dev->info.global_mem_bytes / 4)
            bytes = (size_t)(dev->info.global_mem_bytes / 4);
        bytes &= ~(size_t)0xFFFF;
        r->copy_bytes = bytes;
        st = probe_copy(ctx, dev, prog, bytes, target, &r->copy_gbps);
    }
    r->ok = st == SWACL_OK;
    if (own) {
        swacl_cl_dev_close(own);
        free(own);
    }
    return st;
}

/* ------------------------------------------------------------------------ */
/* Kernels through the backend seam                                          */

typedef enum { OP_ATTN, OP_ROPE, OP_NORM, OP_ACT, OP_GEMM } op_kind;

typedef struct {
    op_kind kind;
    char name[64];
    int L, W, global;   /* attention: B=1, H=4, Hkv=1, d=64                  */
    int M, N, K;        /* GEMM y[M,N] = x[M,K] w[N,K]^T; rows/width else    */
    double flops, bytes;
} op_desc;

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

enum { ATT_H = 4, ATT_HKV = 1, ATT_D = 64 };

static swacl_status op_alloc(swacl_backend *be, const op_desc *op, op_bufs *ob)
{
    swacl_rng r = {7};
    memset(ob, 0, sizeof *ob);
    size_t sz[5] = {0};
    switch (op->kind) {
    case OP_ATTN: /* q, k, v, out */
        sz[0] = (size_t)op->L * ATT_H * ATT_D;
        sz[1] = sz[2] = (size_t)op->L * ATT_HKV * ATT_D;
        sz[3] = sz[0];
        break;
    case OP_ROPE: sz[0] = (size_t)op->M * op->N; break;
    case OP_NORM: sz[0] = sz[1] = (size_t)op->M * op->N; sz[2] = (size_t)op->N; break;
    case OP_ACT: sz[0] = sz[1] = sz[2] = (size_t)op->M * op->N; break;
    case OP_GEMM:
        sz[0] = (size_t)op->M * op->N;
        sz[1] = (size_t)op->M * op->K;
        sz[2] = (size_t)op->N * op->K;
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

static swacl_status op_run(swacl_backend *be, const op_desc *op, op_bufs *ob)
{
    const struct swacl_backend_i *f = be->iface;
    int pos0 = 0;
    switch (op->kind) {
    case OP_ATTN: {
        swacl_attn_args a;
        memset(&a, 0, sizeof a);
        int n_new = op->L;
        a.B = 1;
        a.T = op->L;
        a.H = ATT_H;
        a.Hkv = ATT_HKV;
        a.d = ATT_D;
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
    case OP_ROPE:
        SWACL_TRY(f->rope(be, ob->b[0], 1, op->M, op->N / ATT_D, ATT_D, &pos0,
                          SWACL_POS_ROPE_HALF, 10000.0f));
        break;
    case OP_NORM:
        SWACL_TRY(f->norm(be, SWACL_NORM_RMS, ob->b[1], ob->b[0], ob->b[2], NULL, op->M, op->N,
                          1e-6f));
        break;
    case OP_ACT:
        SWACL_TRY(f->act(be, SWACL_FFN_SWIGLU, ob->b[2], ob->b[0], ob->b[1],
                         (size_t)op->M * op->N));
        break;
    case OP_GEMM:
        SWACL_TRY(f->matmul(be, ob->b[0], ob->b[1], ob->b[2], NULL, op->M, op->N, op->K, 0));
        break;
    }
    return f->finish(be);
}

/* Warm-up, then the median of `reps` wall-clock runs (fewer for slow ops). */
static swacl_status op_time(swacl_backend *be, const op_desc *op, int reps, double *secs)
{
    op_bufs ob;
    swacl_status st = op_alloc(be, op, &ob);
    double ts[16];
    if (st == SWACL_OK) {
        double t0 = swacl_now();
        st = op_run(be, op, &ob);
        double tw = swacl_now() - t0;
        if (tw > 2.0 && reps > 2) reps = 2;
        else if (tw > 0.5 && reps > 3) reps = 3;
        if (reps > 16) reps = 16;
        for (int i = 0; i < reps && st == SWACL_OK; i++) {
            t0 = swacl_now();
            st = op_run(be, op, &ob);
            ts[i] = swacl_now() - t0;
        }
        if (st == SWACL_OK) *secs = median(ts, reps);
    }
    op_free(be, &ob);
    return st;
}

static int build_ops(const bench_opts *o, int small, op_desc *ops, int cap)
{
    int n = 0;
    int quick = o->quick || small;
    const int Ls_full[] = {1024, 4096, 16384}, Ls_quick[] = {1024, 4096};
    const int Ws_full[] = {128, 512, 4096}, Ws_quick[] = {128, 512};
    const int *Ls = quick ? Ls_quick : Ls_full, *Ws = quick ? Ws_quick : Ws_full;
    int nL = quick ? 2 : 3, nW = quick ? 2 : 3;
    for (int i = 0; i < nL; i++)
        for (int j = 0; j < nW && n < cap; j++) {
            op_desc *p = &ops[n++];
            memset(p, 0, sizeof *p);
            p->kind = OP_ATTN;
            p->L = Ls[i];
            p->W = Ws[j];
            snprintf(p->name, sizeof p->name, "attn band L=%d W=%d", p->L, p->W);
            p->flops = 4.0 * ATT_D * ATT_H * attn_pairs(p->L, p->W);
        }
    const int Gs[] = {1024, 4096};
    for (int i = 0; i < (quick ? 1 : 2) && n < cap; i++) {
        op_desc *p = &ops[n++];
        memset(p, 0, sizeof *p);
        p->kind = OP_ATTN;
        p->global = 1;
        p->L = Gs[i];
        snprintf(p->name, sizeof p->name, "attn causal L=%d", p->L);
        p->flops = 4.0 * ATT_D * ATT_H * attn_pairs(p->L, 0);
    }
    /* cohere2 preset dims */
    swacl_config c;
    swacl_preset("cohere2", &c);
    int D = c.hidden_size, F = c.ffn_dim;
    int QKV = (c.n_heads + 2 * c.n_kv_heads) * c.head_dim;
    int R = quick ? 4096 : 16384;
    if (n + 3 <= cap) {
        op_desc *p = &ops[n++];
        memset(p, 0, sizeof *p);
        p->kind = OP_ROPE;
        p->M = R;
        p->N = c.n_heads * c.head_dim;
        snprintf(p->name, sizeof p->name, "rope %dx%d", p->M, p->N);
        p->bytes = 2.0 * 4.0 * p->M * p->N;
        p = &ops[n++];
        memset(p, 0, sizeof *p);
        p->kind = OP_NORM;
        p->M = R;
        p->N = D;
        snprintf(p->name, sizeof p->name, "rmsnorm %dx%d", p->M, p->N);
        p->bytes = 4.0 * (2.0 * p->M * p->N + p->N);
        p = &ops[n++];
        memset(p, 0, sizeof *p);
        p->kind = OP_ACT;
        p->M = R;
        p->N = F;
        snprintf(p->name, sizeof p->name, "swiglu %dx%d", p->M, p->N);
        p->bytes = 3.0 * 4.0 * p->M * p->N;
    }
    const int rows_full[] = {1024, 4096};
    for (int i = 0; i < (quick ? 1 : 2); i++) {
        int shapes[3][2] = {{QKV, D}, {F, D}, {D, F}};
        const char *lab[3] = {"qkv", "up/gate", "down"};
        for (int s = 0; s < 3 && n < cap; s++) {
            op_desc *p = &ops[n++];
            memset(p, 0, sizeof *p);
            p->kind = OP_GEMM;
            p->M = rows_full[i];
            p->N = shapes[s][0];
            p->K = shapes[s][1];
            snprintf(p->name, sizeof p->name, "gemm %s %dx%d<-%d", lab[s], p->M, p->N, p->K);
            p->flops = 2.0 * p->M * p->N * p->K;
        }
    }
    return n;
}

/* ------------------------------------------------------------------------ */
/* End to end                                                                */

typedef struct {
    int n_seq;
    int seqs[MAX_SEQS];
    double prefill_tps[2][MAX_SEQS];  /* [preset][seq], 0 = failed          */
    uint64_t kv[2][MAX_SEQS];
    int n_ctx;
    int ctxs[MAX_SEQS];
    double decode_tps[2][MAX_SEQS];
} e2e_result;

static const char *const k_e2e_presets[2] = {"cohere2", "baseline"};
/* JSON "preset" of the e2e entries of a --model run */
#define E2E_MODEL_LABEL "model"

static void random_ids(int32_t *ids, int n, int vocab, uint64_t seed)
{
    swacl_rng r = {seed};
    for (int i = 0; i < n; i++) ids[i] = (int32_t)(swacl_rng_next(&r) % (uint64_t)vocab);
}

/* Both presets live side by side and every measurement alternates between
 * them (cohere2, baseline, cohere2, ...), so load from other processes on a
 * shared machine hits both alike and the speedup ratio stays meaningful. */
typedef struct {
    swacl_config cfg;
    swacl_weights *w;
    swacl_model *m;
    swacl_session *s;
    int pos;
} e2e_model;

/* one decode step of one token: ids, or embeds for continuous-input models */
static swacl_status e2e_step(e2e_model *e, const int32_t *ids, const float *emb, int edim,
                             float *out)
{
    int p = e->pos++;
    if (edim) return swacl_session_step(e->s, 1, NULL, NULL, &emb[(size_t)p * (size_t)edim], out);
    return swacl_session_step(e->s, 1, NULL, &ids[p], NULL, out);
}

static swacl_status e2e_run(swacl_ctx *ctx, const char *devname, const bench_opts *o,
                            e2e_result *res)
{
    e2e_model em[2];
    memset(em, 0, sizeof em);
    swacl_status st = SWACL_OK;
    /* --model: one loaded checkpoint (weights borrowed) instead of the pair */
    int nm = o->model_w ? 1 : 2;
    const char *const *names = k_e2e_presets;
    const char *const model_names[1] = {E2E_MODEL_LABEL};
    if (o->model_w) names = model_names;
    int maxn = 0, maxc = 0;
    for (int i = 0; i < res->n_seq; i++) maxn = res->seqs[i] > maxn ? res->seqs[i] : maxn;
    for (int i = 0; i < res->n_ctx; i++) maxc = res->ctxs[i] > maxc ? res->ctxs[i] : maxc;
    maxn = maxn > maxc ? maxn : maxc;
    int steps = o->quick ? 8 : 32, blocks = o->quick ? 2 : 4;
    size_t nids = (size_t)maxn + (size_t)MAX_SEQS * ((size_t)steps + 1) + 8;
    int32_t *ids = malloc(nids * sizeof *ids);
    float *out = NULL, *emb = NULL;
    int edim = 0; /* > 0: continuous-input model, random embeds instead of ids */
    if (!ids) return swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "out of host memory");
    for (int pi = 0; pi < nm; pi++) {
        if (o->model_w) {
            em[pi].cfg = *o->model_cfg;
            SWACL_TRY_GOTO(st, swacl_model_create(ctx, &em[pi].cfg, o->model_w, &em[pi].m),
                           done);
            continue;
        }
        SWACL_TRY_GOTO(st, swacl_preset(k_e2e_presets[pi], &em[pi].cfg), done);
        SWACL_TRY_GOTO(st, swacl_weights_create_random(&em[pi].cfg, 1, &em[pi].w), done);
        SWACL_TRY_GOTO(st, swacl_model_create(ctx, &em[pi].cfg, em[pi].w, &em[pi].m), done);
    }
    /* same dims for both presets (config.c small_decoder) */
    out = malloc((size_t)swacl_output_size(&em[0].cfg) * sizeof *out);
    if (!out) {
        st = swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "out of host memory");
        goto done;
    }
    if (em[0].cfg.vocab_size > 0) {
        random_ids(ids, (int)nids, em[0].cfg.vocab_size, 99);
    } else {
        edim = em[0].cfg.input_dim;
        if (edim <= 0) {
            st = swacl_set_error(ctx, SWACL_INVALID_ARG,
                                 "model has neither vocab_size nor input_dim");
            goto done;
        }
        emb = malloc(nids * (size_t)edim * sizeof *emb);
        if (!emb) {
            st = swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "out of host memory");
            goto done;
        }
        swacl_rng r = {99};
        for (size_t k = 0; k < nids * (size_t)edim; k++) emb[k] = swacl_rng_uniform(&r);
    }

    /* prefill: warm-up at each length up to 4096 (shape-dependent kernels,
     * e.g. CLBlast direct vs indirect GEMM, compile on first use), then
     * alternating repeats */
    for (int i = 0; i < res->n_seq; i++) {
        int L = res->seqs[i];
        int reps = o->quick ? 2 : (L <= 4096 ? 3 : 1);
        double ts[2][3];
        swacl_input in = {1, L, edim ? NULL : ids, edim ? emb : NULL};
        for (int pi = 0; pi < nm; pi++) {
            res->kv[pi][i] = swacl_kv_bytes(&em[pi].cfg, 1, L, NULL, NULL);
            if (L <= 4096) SWACL_TRY_GOTO(st, swacl_model_forward(em[pi].m, &in, 0, out), done);
        }
        for (int r = 0; r < reps; r++)
            for (int pi = 0; pi < nm; pi++) {
                double t0 = swacl_now();
                SWACL_TRY_GOTO(st, swacl_model_forward(em[pi].m, &in, 0, out), done);
                ts[pi][r] = swacl_now() - t0;
            }
        for (int pi = 0; pi < nm; pi++) {
            double t = median(ts[pi], reps);
            res->prefill_tps[pi][i] = L / t;
            progress(devname, "prefill %-8s L=%-6d %.3f s  %.0f tok/s", names[pi], L,
                     t, L / t);
        }
    }

    /* decode: one session per preset, contexts in increasing order (prefill
     * in chunks of 1024 up to the next context), one untimed step, then
     * `steps` single-token steps in alternating blocks; median block rate */
    for (int pi = 0; pi < nm && res->n_ctx > 0; pi++)
        SWACL_TRY_GOTO(st,
                       swacl_session_create(em[pi].m, 1, maxc + res->n_ctx * (steps + 1) + 8,
                                            &em[pi].s),
                       done);
    for (int i = 0; i < res->n_ctx; i++) {
        int C = res->ctxs[i];
        for (int pi = 0; pi < nm; pi++) {
            e2e_model *e = &em[pi];
            if (C > e->pos) {
                swacl_input pin = {1, C - e->pos, edim ? NULL : &ids[e->pos],
                                   edim ? &emb[(size_t)e->pos * (size_t)edim] : NULL};
                SWACL_TRY_GOTO(st, swacl_session_prefill(e->s, &pin, 1024, out), done);
                e->pos = C;
            }
            SWACL_TRY_GOTO(st, e2e_step(e, ids, emb, edim, out), done);
        }
        double rate[2][8];
        for (int b = 0; b < blocks; b++)
            for (int pi = 0; pi < nm; pi++) {
                e2e_model *e = &em[pi];
                int n = steps / blocks;
                double t0 = swacl_now();
                for (int k = 0; k < n; k++)
                    SWACL_TRY_GOTO(st, e2e_step(e, ids, emb, edim, out), done);
                rate[pi][b] = n / (swacl_now() - t0);
            }
        for (int pi = 0; pi < nm; pi++) {
            res->decode_tps[pi][i] = median(rate[pi], blocks);
            progress(devname, "decode  %-8s ctx=%-6d %d steps  %.1f tok/s", names[pi],
                     C, steps, res->decode_tps[pi][i]);
        }
    }
done:
    for (int pi = 0; pi < 2; pi++) {
        swacl_session_destroy(em[pi].s);
        swacl_model_destroy(em[pi].m);
        swacl_weights_destroy(em[pi].w); /* NULL for a borrowed --model */
    }
    free(ids);
    free(emb);
    free(out);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Cold vs warm start                                                        */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static swacl_status one_start(const char *selector, const char *cache, const swacl_weights *w,
                              const swacl_config *cfg, double *secs, double *compile_s, int *hits,
                              int *misses, char *err, size_t err_len)
{
    swacl_ctx_params p = swacl_ctx_params_default();
    p.device = selector;
    p.cache_dir = cache;
    swacl_ctx *ctx = NULL;
    swacl_model *m = NULL;
    int32_t ids[64];
    float *out = malloc((size_t)swacl_output_size(cfg) * sizeof *out);
    random_ids(ids, 64, cfg->vocab_size, 5);
    double t0 = swacl_now();
    swacl_status st = out ? swacl_ctx_create(&p, &ctx) : SWACL_OUT_OF_MEMORY;
    if (st == SWACL_OK) st = swacl_model_create(ctx, cfg, w, &m);
    swacl_input in = {1, 64, ids, NULL};
    if (st == SWACL_OK) st = swacl_model_forward(m, &in, 0, out);
    *secs = swacl_now() - t0;
    if (ctx) {
        *compile_s = swacl_ctx_compile_seconds(ctx, hits, misses);
        if (st != SWACL_OK) snprintf(err, err_len, "%s", swacl_ctx_errmsg(ctx));
    }
    swacl_model_destroy(m);
    swacl_ctx_destroy(ctx);
    free(out);
    return st;
}

static void bench_start(const char *selector, const char *devname, cJSON *jstart)
{
    const char *tmp = getenv("TMPDIR");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/swacl-bench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        cJSON_AddStringToObject(jstart, "error", strerror(errno));
        return;
    }
    swacl_config cfg;
    swacl_weights *w = NULL;
    swacl_preset("cohere2", &cfg);
    char err[512] = "";
    if (swacl_weights_create_random(&cfg, 3, &w) == SWACL_OK) {
        double s[2] = {0, 0}, c[2] = {0, 0};
        int h[2] = {0, 0}, mi[2] = {0, 0};
        swacl_status st = one_start(selector, dir, w, &cfg, &s[0], &c[0], &h[0], &mi[0], err,
                                    sizeof err);
        if (st == SWACL_OK)
            st = one_start(selector, dir, w, &cfg, &s[1], &c[1], &h[1], &mi[1], err, sizeof err);
        if (st == SWACL_OK) {
            cJSON_AddNumberToObject(jstart, "cold_s", s[0]);
            cJSON_AddNumberToObject(jstart, "warm_s", s[1]);
            cJSON_AddNumberToObject(jstart, "cold_compile_s", c[0]);
            cJSON_AddNumberToObject(jstart, "warm_compile_s", c[1]);
            cJSON_AddNumberToObject(jstart, "cold_cache_misses", mi[0]);
            cJSON_AddNumberToObject(jstart, "warm_cache_hits", h[1]);
            progress(devname, "start: cold %.2f s (compile %.2f s, %d builds), warm %.2f s "
                              "(compile %.2f s, %d cache hits)",
                     s[0], c[0], mi[0], s[1], c[1], h[1]);
        } else {
            cJSON_AddStringToObject(jstart, "error", err);
            progress(devname, "start failed: %s", err);
        }
    }
    swacl_weights_destroy(w);
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* ------------------------------------------------------------------------ */
/* One device                                                                */

static void print_rule(void)
{
    puts("------------------------------------------------------------------------------");
}

static int bench_device(const char *selector, const bench_opts *o, blas_peak *blas,
                        cJSON *jdevs)
{
    swacl_ctx_params p = swacl_ctx_params_default();
    p.device = selector;
    swacl_ctx *ctx = NULL;
    swacl_status st = swacl_ctx_create(&p, &ctx);
    if (st != SWACL_OK) {
        fprintf(stderr, "bench: device '%s': %s: %s\n", selector, swacl_status_string(st),
                ctx ? swacl_ctx_errmsg(ctx) : "");
        swacl_ctx_destroy(ctx);
        return 1;
    }
    int is_ref = swacl_ctx_is_reference(ctx);
    char devname[256];
    snprintf(devname, sizeof devname, "%s", swacl_ctx_device_name(ctx));
    int is_cpu = is_ref;
    swacl_cl_dev *cdev = NULL;
    if (!is_ref) cdev = swacl_cl_backend_dev(ctx->be);
    swacl_device_info info;
    memset(&info, 0, sizeof info);
    if (!is_ref) {
        /* device info from the list (matched by name), for type and driver */
        swacl_device_info *list = NULL;
        int n = 0;
        char e[256];
        (void)e;
        if (swacl_devices_list(NULL, &list, &n) == SWACL_OK) {
            for (int i = 0; i < n; i++)
                if (!strcmp(list[i].name, devname)) {
                    info = list[i];
                    break;
                }
        }
        swacl_devices_free(list);
        if (cdev) info = cdev->info;
        is_cpu = !strcmp(info.type, "cpu");
    }
    int failures = 0;
    cJSON *jd = cJSON_CreateObject();
    cJSON_AddItemToArray(jdevs, jd);
    cJSON_AddStringToObject(jd, "name", devname);
    cJSON_AddStringToObject(jd, "selector", selector);
    cJSON_AddStringToObject(jd, "type", is_ref ? "reference" : info.type);
    if (!is_ref) {
        cJSON_AddStringToObject(jd, "platform", info.platform_name);
        cJSON_AddStringToObject(jd, "driver", info.driver_version);
        cJSON_AddNumberToObject(jd, "compute_units", info.compute_units);
    }
    printf("\n== %s (%s%s%s)\n", devname, is_ref ? "CPU reference" : info.type,
           is_ref ? "" : ", driver ", is_ref ? "" : info.driver_version);
    print_rule();

    /* --e2e-only skips cold/warm start, peaks and kernels */
    if (!o->e2e_only) {
        /* cold / warm start first, before this process has compiled anything */
        cJSON *jstart = cJSON_AddObjectToObject(jd, "start");
        progress(devname, "cold/warm start");
        bench_start(selector, devname, jstart);

        /* peaks */
        cJSON *jp = cJSON_AddObjectToObject(jd, "peaks");
        probe_result pr;
        memset(&pr, 0, sizeof pr);
        if (!is_ref) {
            progress(devname, "peak probe (probe.cl)");
            st = run_probe(ctx, selector, o, &pr);
            if (st != SWACL_OK) {
                fprintf(stderr, "bench [%s]: probe failed: %s\n", devname, swacl_ctx_errmsg(ctx));
                cJSON_AddStringToObject(jp, "error", swacl_ctx_errmsg(ctx));
                failures++;
            }
        }
        if (is_cpu && !blas->done) {
            progress(devname, "OpenBLAS sgemm n=1024");
            blas->gflops = measure_openblas(1024, o->quick ? 0.3 : 0.6);
            blas->done = 1;
        }
        double fma_peak = pr.fma4_gflops > pr.fma8_gflops ? pr.fma4_gflops : pr.fma8_gflops;
        double blas_g = is_cpu ? blas->gflops : 0.0;
        if (pr.ok) {
            cJSON_AddNumberToObject(jp, "fma_float4_gflops", pr.fma4_gflops);
            cJSON_AddNumberToObject(jp, "fma_float8_gflops", pr.fma8_gflops);
            cJSON_AddNumberToObject(jp, "fma_gflops", fma_peak);
            cJSON_AddNumberToObject(jp, "copy_gbps", pr.copy_gbps);
            cJSON_AddNumberToObject(jp, "copy_bytes", (double)pr.copy_bytes);
        }
        if (is_cpu) {
            cJSON_AddNumberToObject(jp, "openblas_sgemm_gflops", blas_g);
            cJSON_AddNumberToObject(jp, "openblas_n", 1024);
        }
        char hb[32];
        if (pr.ok)
            printf("peaks: FMA float4 %.1f GFLOP/s, float8 %.1f GFLOP/s; copy %.1f GB/s (%s)\n",
                   pr.fma4_gflops, pr.fma8_gflops, pr.copy_gbps,
                   human_bytes((double)pr.copy_bytes, hb, sizeof hb));
        if (is_cpu)
            printf("       OpenBLAS sgemm n=1024 %.1f GFLOP/s (CPU practical peak)\n",
                   blas_g);
        cJSON *js = cJSON_GetObjectItem(jd, "start");
        if (cJSON_GetObjectItem(js, "cold_s"))
            printf("start: cold %.2f s (compile %.2f s), warm %.2f s (compile %.2f s)\n",
                   cJSON_GetObjectItem(js, "cold_s")->valuedouble,
                   cJSON_GetObjectItem(js, "cold_compile_s")->valuedouble,
                   cJSON_GetObjectItem(js, "warm_s")->valuedouble,
                   cJSON_GetObjectItem(js, "warm_compile_s")->valuedouble);

        /* kernels */
        cJSON *jk = cJSON_AddArrayToObject(jd, "kernels");
        op_desc ops[40];
        int nops = build_ops(o, is_ref, ops, 40);
        print_rule();
        printf("%-28s %11s %16s %8s %8s\n", "kernel", "ms", "rate", "%peak", "%sgemm");
        int reps = o->quick ? 3 : 5;
        for (int i = 0; i < nops; i++) {
            const op_desc *op = &ops[i];
            progress(devname, "kernel %s", op->name);
            double t = 0.0;
            st = op_time(ctx->be, op, reps, &t);
            cJSON *e = cJSON_CreateObject();
            cJSON_AddItemToArray(jk, e);
            cJSON_AddStringToObject(e, "name", op->name);
            const char *kinds[] = {"attention", "rope", "rmsnorm", "swiglu", "gemm"};
            cJSON_AddStringToObject(e, "op", kinds[op->kind]);
            if (op->kind == OP_ATTN) {
                cJSON_AddNumberToObject(e, "L", op->L);
                cJSON_AddNumberToObject(e, "W", op->global ? 0 : op->W);
                cJSON_AddBoolToObject(e, "global", op->global);
                cJSON_AddNumberToObject(e, "H", ATT_H);
                cJSON_AddNumberToObject(e, "Hkv", ATT_HKV);
                cJSON_AddNumberToObject(e, "d", ATT_D);
                cJSON_AddNumberToObject(e, "pairs", attn_pairs(op->L, op->global ? 0 : op->W));
            } else {
                cJSON_AddNumberToObject(e, "M", op->M);
                cJSON_AddNumberToObject(e, "N", op->N);
                if (op->kind == OP_GEMM) cJSON_AddNumberToObject(e, "K", op->K);
            }
            if (st != SWACL_OK) {
                failures++;
                cJSON_AddStringToObject(e, "error", swacl_ctx_errmsg(ctx));
                fprintf(stderr, "bench [%s]: kernel %s FAILED: %s\n", devname, op->name,
                        swacl_ctx_errmsg(ctx));
                printf("%-28s %11s\n", op->name, "FAILED");
                continue;
            }
            cJSON_AddNumberToObject(e, "seconds", t);
            char rate[32], fp[16] = "-", fb[16] = "-";
            if (op->flops > 0) {
                double g = op->flops / t / 1e9;
                cJSON_AddNumberToObject(e, "flops", op->flops);
                cJSON_AddNumberToObject(e, "gflops", g);
                snprintf(rate, sizeof rate, "%.2f GFLOP/s", g);
                if (fma_peak > 0) {
                    cJSON_AddNumberToObject(e, "frac_peak", g / fma_peak);
                    snprintf(fp, sizeof fp, "%.1f%%", 100.0 * g / fma_peak);
                }
                if (blas_g > 0) {
                    cJSON_AddNumberToObject(e, "frac_openblas", g / blas_g);
                    snprintf(fb, sizeof fb, "%.1f%%", 100.0 * g / blas_g);
                }
            } else {
                double gb = op->bytes / t / 1e9;
                cJSON_AddNumberToObject(e, "bytes", op->bytes);
                cJSON_AddNumberToObject(e, "gbps", gb);
                snprintf(rate, sizeof rate, "%.2f GB/s", gb);
                if (pr.copy_gbps > 0) {
                    cJSON_AddNumberToObject(e, "frac_peak", gb / pr.copy_gbps);
                    snprintf(fp, sizeof fp, "%.1f%%", 100.0 * gb / pr.copy_gbps);
                }
            }
            printf("%-28s %11.3f %16s %8s %8s\n", op->name, t * 1e3, rate, fp, fb);
            fflush(stdout);
        }
    }

    /* end to end */
    cJSON *je = cJSON_AddArrayToObject(jd, "e2e");
    e2e_result er;
    memset(&er, 0, sizeof er);
    int max_seq = o->max_seq > 0 ? o->max_seq : (is_cpu ? 16384 : 32768);
    if (is_ref && o->max_seq <= 0) max_seq = 2048;
    if (o->quick && o->max_seq <= 0) max_seq = 1024;
    const int seq_full[] = {1024, 4096, 16384, 32768}, seq_quick[] = {512, 1024};
    const int *sl = o->quick ? seq_quick : seq_full;
    int nsl = o->quick ? 2 : 4;
    for (int i = 0; i < nsl; i++)
        if (sl[i] <= max_seq) er.seqs[er.n_seq++] = sl[i];
    if (er.n_seq == 0) er.seqs[er.n_seq++] = max_seq;
    const int ctx_full[] = {256, 1024, 4096, 16384}, ctx_quick[] = {256, 1024};
    const int *cl = o->quick ? ctx_quick : ctx_full;
    int ncl = o->quick ? 2 : 4;
    for (int i = 0; i < ncl; i++)
        if (cl[i] <= max_seq) er.ctxs[er.n_ctx++] = cl[i];
    /* --model: a small --max-seq still measures decode, at half of it */
    if (o->model_w && er.n_ctx == 0) er.ctxs[er.n_ctx++] = max_seq / 2;
    st = e2e_run(ctx, devname, o, &er);
    if (st != SWACL_OK) {
        failures++;
        fprintf(stderr, "bench [%s]: e2e FAILED: %s\n", devname, swacl_ctx_errmsg(ctx));
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "kind", "error");
        cJSON_AddStringToObject(e, "error", swacl_ctx_errmsg(ctx));
        cJSON_AddItemToArray(je, e);
    }
    if (!o->e2e_only) print_rule();
    if (o->model_w) {
        /* --model: one loaded checkpoint, no comparison */
        printf("model: %s\n", o->model_dir);
        printf("%-8s %7s %14s %11s\n", "prefill", "seq", "tok/s", "kv");
        for (int i = 0; i < er.n_seq; i++) {
            int L = er.seqs[i];
            char k0[32];
            if (er.prefill_tps[0][i] > 0) {
                cJSON *e = cJSON_CreateObject();
                cJSON_AddStringToObject(e, "kind", "prefill");
                cJSON_AddStringToObject(e, "preset", E2E_MODEL_LABEL);
                cJSON_AddStringToObject(e, "model", o->model_dir);
                cJSON_AddNumberToObject(e, "seq", L);
                cJSON_AddNumberToObject(e, "seconds", L / er.prefill_tps[0][i]);
                cJSON_AddNumberToObject(e, "tokens_per_s", er.prefill_tps[0][i]);
                cJSON_AddNumberToObject(e, "kv_bytes", (double)er.kv[0][i]);
                cJSON_AddItemToArray(je, e);
            }
            printf("%-8s %7d %14.0f %11s\n", "", L, er.prefill_tps[0][i],
                   human_bytes((double)swacl_kv_bytes(o->model_cfg, 1, L, NULL, NULL), k0,
                               sizeof k0));
        }
        printf("%-8s %7s %14s\n", "decode", "ctx", "tok/s");
        for (int i = 0; i < er.n_ctx; i++) {
            if (er.decode_tps[0][i] > 0) {
                cJSON *e = cJSON_CreateObject();
                cJSON_AddStringToObject(e, "kind", "decode");
                cJSON_AddStringToObject(e, "preset", E2E_MODEL_LABEL);
                cJSON_AddStringToObject(e, "model", o->model_dir);
                cJSON_AddNumberToObject(e, "ctx", er.ctxs[i]);
                cJSON_AddNumberToObject(e, "steps", o->quick ? 8 : 32);
                cJSON_AddNumberToObject(e, "tokens_per_s", er.decode_tps[0][i]);
                cJSON_AddItemToArray(je, e);
            }
            printf("%-8s %7d %14.1f\n", "", er.ctxs[i], er.decode_tps[0][i]);
        }
    } else {
        printf("%-8s %7s %14s %14s %8s %11s %11s %8s\n", "prefill", "seq", "cohere2 tok/s",
               "baseline tok/s", "speedup", "kv cohere2", "kv baseline", "kv ratio");
        for (int i = 0; i < er.n_seq; i++) {
            int L = er.seqs[i];
            for (int pi = 0; pi < 2; pi++) {
                if (er.prefill_tps[pi][i] <= 0) continue;
                cJSON *e = cJSON_CreateObject();
                cJSON_AddStringToObject(e, "kind", "prefill");
                cJSON_AddStringToObject(e, "preset", k_e2e_presets[pi]);
                cJSON_AddNumberToObject(e, "seq", L);
                cJSON_AddNumberToObject(e, "seconds", L / er.prefill_tps[pi][i]);
                cJSON_AddNumberToObject(e, "tokens_per_s", er.prefill_tps[pi][i]);
                cJSON_AddNumberToObject(e, "kv_bytes", (double)er.kv[pi][i]);
                cJSON_AddItemToArray(je, e);
            }
            double sp = er.prefill_tps[1][i] > 0 ? er.prefill_tps[0][i] / er.prefill_tps[1][i] : 0;
            double kr = er.kv[1][i] ? (double)er.kv[0][i] / (double)er.kv[1][i] : 0;
            if (sp > 0) {
                cJSON *e = cJSON_CreateObject();
                cJSON_AddStringToObject(e, "kind", "compare");
                cJSON_AddNumberToObject(e, "seq", L);
                cJSON_AddNumberToObject(e, "speedup", sp);
                cJSON_AddNumberToObject(e, "kv_ratio", kr);
                cJSON_AddItemToArray(je, e);
            }
            char k0[32], k1[32];
            swacl_config c0;
            swacl_preset("cohere2", &c0);
            swacl_config c1;
            swacl_preset("baseline", &c1);
            printf("%-8s %7d %14.0f %14.0f %7.2fx %11s %11s %8.3f\n", "", L, er.prefill_tps[0][i],
                   er.prefill_tps[1][i], sp,
                   human_bytes((double)swacl_kv_bytes(&c0, 1, L, NULL, NULL), k0, sizeof k0),
                   human_bytes((double)swacl_kv_bytes(&c1, 1, L, NULL, NULL), k1, sizeof k1),
                   (double)swacl_kv_bytes(&c0, 1, L, NULL, NULL) /
                       (double)swacl_kv_bytes(&c1, 1, L, NULL, NULL));
        }
        printf("%-8s %7s %14s %14s %8s\n", "decode", "ctx", "cohere2 tok/s", "baseline tok/s",
               "speedup");
        for (int i = 0; i < er.n_ctx; i++) {
            for (int pi = 0; pi < 2; pi++) {
                if (er.decode_tps[pi][i] <= 0) continue;
                cJSON *e = cJSON_CreateObject();
                cJSON_AddStringToObject(e, "kind", "decode");
                cJSON_AddStringToObject(e, "preset", k_e2e_presets[pi]);
                cJSON_AddNumberToObject(e, "ctx", er.ctxs[i]);
                cJSON_AddNumberToObject(e, "steps", o->quick ? 8 : 32);
                cJSON_AddNumberToObject(e, "tokens_per_s", er.decode_tps[pi][i]);
                cJSON_AddItemToArray(je, e);
            }
            double sp = er.decode_tps[1][i] > 0 ? er.decode_tps[0][i] / er.decode_tps[1][i] : 0;
            printf("%-8s %7d %14.1f %14.1f %7.2fx\n", "", er.ctxs[i], er.decode_tps[0][i],
                   er.decode_tps[1][i], sp);
        }
    }
    fflush(stdout);
    swacl_ctx_destroy(ctx);
    return failures;
}

/* ------------------------------------------------------------------------ */
/* Pipeline: the layers split across the --devices list (include/swacl.h,   */
/* "Pipeline") vs each listed device alone, batch prefill, in the same run   */

#define PIPE_NMSE_TOL 1e-6

/* "layers 0-3 on dev 0 (name), 4-7 on dev 1 (name)" */
static void describe_placement(const swacl_pipeline_stage *stg, int ns, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = 0;
    for (int i = 0; i < ns && used + 1 < len; i++) {
        const swacl_pipeline_stage *s = &stg[i];
        char r[32];
        if (s->layer_end - s->layer_begin == 1)
            snprintf(r, sizeof r, "%d", s->layer_begin);
        else
            snprintf(r, sizeof r, "%d-%d", s->layer_begin, s->layer_end - 1);
        int n = snprintf(buf + used, len - used, "%s%s on dev %s (%s)%s%s", i ? ", " : "layers ", r,
                         s->selector, s->device_name, i ? " <- " : "", s->transfer_in);
        if (n < 0) break;
        used += (size_t)n;
    }
    if (used >= len && len > 4) memcpy(buf + len - 4, "...", 4);
}

/* The pipeline's model: --model, or cohere2 with the e2e section's weights.
 * *own receives the weights to destroy (NULL for a borrowed --model). */
static swacl_status pipe_model(const bench_opts *o, swacl_config *cfg, const swacl_weights **w,
                               swacl_weights **own)
{
    *own = NULL;
    if (o->model_w) {
        *cfg = *o->model_cfg;
        *w = o->model_w;
        return SWACL_OK;
    }
    SWACL_TRY(swacl_preset("cohere2", cfg));
    SWACL_TRY(swacl_weights_create_random(cfg, 1, own));
    *w = *own;
    return SWACL_OK;
}

/* Print swacl_pipeline_create's message; the exit status it maps to (a bad
 * SPEC is a usage error, 2; no such device / does not fit, 1). */
static int pipe_create_error(swacl_status st, const char *err)
{
    fprintf(stderr, "swacl bench: %s\n", *err ? err : swacl_status_string(st));
    return st == SWACL_INVALID_ARG ? 2 : 1;
}

/* Build the pipeline once and drop it, so that a bad SPEC, a missing device
 * or a placement that does not fit fails before the per-device sections
 * (minutes). With "auto" this also fills the calibration cache. */
static int pipe_precheck(const bench_opts *o)
{
    swacl_config cfg;
    const swacl_weights *w = NULL;
    swacl_weights *own = NULL;
    swacl_status st = pipe_model(o, &cfg, &w, &own);
    if (st != SWACL_OK) {
        fprintf(stderr, "swacl bench: pipeline model: %s\n", swacl_status_string(st));
        return 1;
    }
    swacl_pipeline *p = NULL;
    char err[1024] = "";
    swacl_ctx *pctx = cli_msg_ctx(NULL);
    st = swacl_pipeline_create(pctx, o->devices, o->placement, &cfg, w, &p);
    swacl_pipeline_destroy(p);
    cli_take_msg(pctx, err, sizeof err);
    swacl_weights_destroy(own);
    return st == SWACL_OK ? 0 : pipe_create_error(st, err);
}

static double nmse_of(const float *ref, const float *x, size_t n)
{
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)x[i] - (double)ref[i];
        num += d * d;
        den += (double)ref[i] * (double)ref[i];
    }
    return den > 0.0 ? num / den : num;
}

/* One warm-up, then iters timed forwards of the pipeline and of each device
 * alone, interleaved (pipeline, dev 0, dev 1, ..., pipeline, ...) so load
 * from other processes hits all alike; best of the timed runs. Returns the
 * failure count; *rc_create is set when the pipeline cannot be built. */
static int bench_pipeline(char sel[][64], int nsel, const bench_opts *o, cJSON *root,
                          int *rc_create)
{
    const char *tag = "pipeline";
    int failures = 0;
    *rc_create = 0;
    swacl_config cfg;
    const swacl_weights *w = NULL;
    swacl_weights *own = NULL;
    swacl_pipeline *p = NULL;
    swacl_ctx *pctx = NULL; /* hosts the pipeline: its errors land here */
    swacl_ctx **ctx = calloc((size_t)nsel, sizeof *ctx);
    swacl_model **m = calloc((size_t)nsel, sizeof *m);
    double *best1 = calloc((size_t)nsel, sizeof *best1);
    swacl_pipeline_stage *stg = calloc(MAX_DEVS, sizeof *stg);
    swacl_pipeline_stage *stg0 = calloc(MAX_DEVS, sizeof *stg0);
    int32_t *ids = NULL;
    float *emb = NULL, *out_p = NULL, *out_1 = NULL, *out_t = NULL;
    cJSON *jp = cJSON_AddObjectToObject(root, "pipeline");
    cJSON_AddStringToObject(jp, "devices", o->devices);
    cJSON_AddStringToObject(jp, "placement", o->placement);
    if (!ctx || !m || !best1 || !stg || !stg0) {
        fprintf(stderr, "swacl bench: out of host memory\n");
        failures++;
        goto done;
    }

    swacl_status st = pipe_model(o, &cfg, &w, &own);
    if (st != SWACL_OK) {
        fprintf(stderr, "swacl bench: pipeline model: %s\n", swacl_status_string(st));
        cJSON_AddStringToObject(jp, "error", swacl_status_string(st));
        failures++;
        goto done;
    }
    const int B = o->batch > 0 ? o->batch : 8;
    int T = o->quick ? 128 : 512;
    if (o->max_seq > 0 && T > o->max_seq) T = o->max_seq;
    const int iters = o->quick ? 2 : 3;
    const int V = swacl_output_size(&cfg);
    const size_t nout = (size_t)B * (size_t)V, ntok = (size_t)B * (size_t)T;
    cJSON_AddStringToObject(jp, "model", o->model_dir ? o->model_dir : "cohere2");
    cJSON_AddNumberToObject(jp, "layers", cfg.n_layers);
    cJSON_AddNumberToObject(jp, "batch", B);
    cJSON_AddNumberToObject(jp, "seq", T);
    cJSON_AddNumberToObject(jp, "iters", iters);

    /* the pipeline first: a bad SPEC or device fails before anything runs */
    progress(tag, "create: devices %s, placement %s, %s (%d layers)", o->devices, o->placement,
             o->model_dir ? o->model_dir : "cohere2", cfg.n_layers);
    char err[1024] = "";
    pctx = cli_msg_ctx(NULL);
    st = swacl_pipeline_create(pctx, o->devices, o->placement, &cfg, w, &p);
    if (st != SWACL_OK) {
        snprintf(err, sizeof err, "%s", pctx ? swacl_ctx_errmsg(pctx) : "");
        *rc_create = pipe_create_error(st, err);
        cJSON_AddStringToObject(jp, "error", *err ? err : swacl_status_string(st));
        failures++;
        goto done;
    }
    if (o->micro_batches > 0) swacl_pipeline_set_micro_batches(p, o->micro_batches);
    int ns = 0;
    swacl_pipeline_describe(p, stg, MAX_DEVS, &ns);
    if (ns > MAX_DEVS) ns = MAX_DEVS;
    /* as swacl_pipeline_set_micro_batches: 0 = one per stage, at most B */
    int n_mb = o->micro_batches > 0 ? o->micro_batches : ns;
    if (n_mb > B) n_mb = B;
    char desc[2048];
    describe_placement(stg, ns, desc, sizeof desc);
    /* list entries "auto" gave no layers (e.g. a slow "ref") */
    for (int d = 0; d < nsel; d++) {
        int used = 0;
        for (int i = 0; i < ns; i++) used |= stg[i].device == d;
        if (used) continue;
        char extra[96];
        snprintf(extra, sizeof extra, "; dev %.63s: no layers", sel[d]);
        size_t len = strlen(desc), add = strlen(extra);
        if (len + add < sizeof desc) memcpy(desc + len, extra, add + 1);
    }
    progress(tag, "%s", desc);

    /* inputs, outputs */
    ids = cfg.vocab_size > 0 ? malloc(ntok * sizeof *ids) : NULL;
    if (cfg.vocab_size <= 0) emb = malloc(ntok * (size_t)cfg.input_dim * sizeof *emb);
    out_p = malloc(nout * sizeof *out_p);
    out_1 = malloc(nout * sizeof *out_1);
    out_t = malloc(nout * sizeof *out_t);
    if ((!ids && !emb) || !out_p || !out_1 || !out_t) {
        fprintf(stderr, "swacl bench: out of host memory\n");
        failures++;
        goto done;
    }
    if (ids) {
        random_ids(ids, (int)ntok, cfg.vocab_size, 99);
    } else {
        swacl_rng r = {99};
        for (size_t k = 0; k < ntok * (size_t)cfg.input_dim; k++) emb[k] = swacl_rng_uniform(&r);
    }
    swacl_input in = {B, T, ids, emb};

    /* each listed device alone: a ctx + a whole model per device */
    for (int d = 0; d < nsel; d++) {
        progress(tag, "single device %s: create", sel[d]);
        swacl_ctx_params cp = swacl_ctx_params_default();
        cp.device = sel[d];
        st = swacl_ctx_create(&cp, &ctx[d]);
        if (st == SWACL_OK) st = swacl_model_create(ctx[d], &cfg, w, &m[d]);
        if (st != SWACL_OK) {
            fprintf(stderr, "bench [%s]: single device '%s': %s: %s\n", tag, sel[d],
                    swacl_status_string(st), ctx[d] ? swacl_ctx_errmsg(ctx[d]) : "");
            failures++;
            swacl_model_destroy(m[d]);
            m[d] = NULL;
        }
    }

    /* i == 0: warm-up (kernels compile on first use) */
    double best_p = 0.0, wall_p = 0.0;
    int ok_p = 1;
    for (int it = 0; it <= iters && ok_p; it++) {
        progress(tag, "%s %d/%d: pipeline + %d single device(s), batch %d x seq %d",
                 it ? "iteration" : "warm-up", it, iters, nsel, B, T);
        if (it == 1) swacl_pipeline_describe(p, stg0, MAX_DEVS, &ns);
        double t0 = swacl_now();
        st = swacl_pipeline_forward(p, &in, 0, out_p);
        double dt = swacl_now() - t0;
        if (st != SWACL_OK) {
            fprintf(stderr, "bench [%s]: pipeline forward FAILED: %s\n", tag,
                    swacl_ctx_errmsg(pctx));
            cJSON_AddStringToObject(jp, "error", swacl_ctx_errmsg(pctx));
            failures++;
            ok_p = 0;
            break;
        }
        if (it > 0) {
            wall_p += dt;
            if (best_p <= 0.0 || dt < best_p) best_p = dt;
        }
        for (int d = 0; d < nsel; d++) {
            if (!m[d]) continue;
            float *o1 = d == 0 ? out_1 : out_t;
            t0 = swacl_now();
            st = swacl_model_forward(m[d], &in, 0, o1);
            dt = swacl_now() - t0;
            if (st != SWACL_OK) {
                fprintf(stderr, "bench [%s]: single device '%s' forward FAILED: %s\n", tag,
                        sel[d], swacl_ctx_errmsg(ctx[d]));
                failures++;
                swacl_model_destroy(m[d]);
                m[d] = NULL;
                best1[d] = 0.0;
                continue;
            }
            if (it > 0 && (best1[d] <= 0.0 || dt < best1[d])) best1[d] = dt;
        }
    }
    if (!ok_p) goto done;
    swacl_pipeline_describe(p, stg, MAX_DEVS, &ns);
    if (ns > MAX_DEVS) ns = MAX_DEVS;

    /* the pipeline's output must be the first device's own */
    double nmse = -1.0;
    if (m[0]) nmse = nmse_of(out_1, out_p, nout);
    int check_ok = nmse >= 0.0 && nmse <= PIPE_NMSE_TOL;
    if (!check_ok) {
        failures++;
        if (nmse >= 0.0)
            fprintf(stderr, "bench [%s]: pipeline output differs from device %s alone: nmse "
                            "%.3e > %.0e\n", tag, sel[0], nmse, PIPE_NMSE_TOL);
        else
            fprintf(stderr, "bench [%s]: no single-device output on %s to check against\n", tag,
                    sel[0]);
    }

    const double tps_p = best_p > 0 ? (double)ntok / best_p : 0.0;
    double best_single = 0.0;
    for (int d = 0; d < nsel; d++)
        if (best1[d] > 0 && (double)ntok / best1[d] > best_single)
            best_single = (double)ntok / best1[d];
    const double speedup = best_single > 0 ? tps_p / best_single : 0.0;
    progress(tag, "%.1f tok/s vs best single device %.1f tok/s: %.2fx, nmse %.2e", tps_p,
             best_single, speedup, nmse);

    /* JSON */
    cJSON_AddStringToObject(jp, "description", desc);
    cJSON *js = cJSON_AddArrayToObject(jp, "stages");
    for (int i = 0; i < ns; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddItemToArray(js, e);
        double busy = stg[i].busy_s - stg0[i].busy_s;
        cJSON_AddNumberToObject(e, "device", stg[i].device);
        cJSON_AddStringToObject(e, "selector", stg[i].selector);
        cJSON_AddStringToObject(e, "device_name", stg[i].device_name);
        cJSON_AddNumberToObject(e, "layer_begin", stg[i].layer_begin);
        cJSON_AddNumberToObject(e, "layer_end", stg[i].layer_end);
        cJSON_AddNumberToObject(e, "weight_bytes", (double)stg[i].weight_bytes);
        cJSON_AddNumberToObject(e, "busy_s", stg[i].busy_s);
        cJSON_AddNumberToObject(e, "busy_fraction", wall_p > 0 ? busy / wall_p : 0.0);
        cJSON_AddStringToObject(e, "transfer_in", stg[i].transfer_in);
    }
    cJSON_AddNumberToObject(jp, "micro_batches", n_mb);
    cJSON_AddBoolToObject(jp, "micro_batches_auto", o->micro_batches <= 0);
    cJSON_AddNumberToObject(jp, "seconds", best_p);
    cJSON_AddNumberToObject(jp, "tokens_per_s", tps_p);
    cJSON *j1 = cJSON_AddArrayToObject(jp, "single");
    for (int d = 0; d < nsel; d++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddItemToArray(j1, e);
        cJSON_AddStringToObject(e, "selector", sel[d]);
        cJSON_AddStringToObject(e, "device_name", ctx[d] ? swacl_ctx_device_name(ctx[d]) : "");
        cJSON_AddNumberToObject(e, "tokens_per_s", best1[d] > 0 ? (double)ntok / best1[d] : 0.0);
        if (best1[d] <= 0) cJSON_AddStringToObject(e, "error", "failed");
    }
    cJSON_AddNumberToObject(jp, "speedup_vs_best_single", speedup);
    if (nmse >= 0.0)
        cJSON_AddNumberToObject(jp, "nmse", nmse);
    else
        cJSON_AddNullToObject(jp, "nmse");
    cJSON_AddBoolToObject(jp, "ok", check_ok);

    /* table */
    printf("\n== pipeline over devices %s (placement %s)\n", o->devices, o->placement);
    print_rule();
    printf("model: %s, %d layers; batch %d x seq %d, %d micro-batch%s; best of %d\n",
           o->model_dir ? o->model_dir : "cohere2", cfg.n_layers, B, T, n_mb,
           n_mb == 1 ? "" : "es", iters);
    printf("placement: %s\n", desc);
    printf("%-34s %14s %9s\n", "prefill", "tok/s", "vs best");
    char lab[64];
    snprintf(lab, sizeof lab, "pipeline %.24s", o->devices);
    printf("%-34s %14.1f %8.2fx\n", lab, tps_p, speedup);
    for (int d = 0; d < nsel; d++) {
        snprintf(lab, sizeof lab, "dev %.6s (%.20s)", sel[d],
                 ctx[d] ? swacl_ctx_device_name(ctx[d]) : "?");
        if (best1[d] > 0)
            printf("%-34s %14.1f %8.2fx\n", lab, (double)ntok / best1[d],
                   best_single > 0 ? (double)ntok / best1[d] / best_single : 0.0);
        else
            printf("%-34s %14s\n", lab, "FAILED");
    }
    printf("%-6s %-9s %-26s %11s %9s %7s\n", "stage", "layers", "device", "weights", "busy s",
           "busy");
    for (int i = 0; i < ns; i++) {
        char r[32], dv[64], hb[32];
        snprintf(r, sizeof r, "%d-%d", stg[i].layer_begin, stg[i].layer_end - 1);
        snprintf(dv, sizeof dv, "%.6s (%.17s)", stg[i].selector, stg[i].device_name);
        double busy = stg[i].busy_s - stg0[i].busy_s;
        printf("%-6d %-9s %-26s %11s %9.3f %6.1f%%\n", i, r, dv,
               human_bytes((double)stg[i].weight_bytes, hb, sizeof hb), stg[i].busy_s,
               wall_p > 0 ? 100.0 * busy / wall_p : 0.0);
    }
    if (nmse >= 0.0)
        printf("check: pipeline vs dev %s alone: nmse %.2e %s\n", sel[0], nmse,
               check_ok ? "ok" : "MISMATCH");
    else
        printf("check: pipeline vs dev %s alone: not run (device failed)\n", sel[0]);
    fflush(stdout);

done:
    swacl_pipeline_destroy(p);
    swacl_ctx_destroy(pctx);
    if (ctx && m)
        for (int d = 0; d < nsel; d++) {
            swacl_model_destroy(m[d]);
            swacl_ctx_destroy(ctx[d]);
        }
    swacl_weights_destroy(own);
    free(ctx);
    free(m);
    free(best1);
    free(stg);
    free(stg0);
    free(ids);
    free(emb);
    free(out_p);
    free(out_1);
    free(out_t);
    return failures;
}

/* ------------------------------------------------------------------------ */
/* Plot                                                                      */

static int gnuplot_available(void)
{
    return system("command -v gnuplot >/dev/null 2>&1") == 0;
}

/* e2e "preset" values plotted: the pair, or the --model checkpoint */
static const char *const k_plot_series[3] = {"cohere2", "baseline", E2E_MODEL_LABEL};

static int write_plot(const char *png, cJSON *jdevs)
{
    if (!gnuplot_available()) {
        fprintf(stderr, "bench: --plot: gnuplot not found in PATH (install gnuplot-nox); "
                        "no plot written\n");
        return 1;
    }
    const char *tmp = getenv("TMPDIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/swacl-plot-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) {
        fprintf(stderr, "bench: --plot: cannot create a temp file: %s\n", strerror(errno));
        return 1;
    }
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        remove(path);
        return 1;
    }
    fprintf(f, "set terminal pngcairo size 1000,650 noenhanced\n");
    fprintf(f, "set output '");
    for (const char *c = png; *c; c++) {
        if (*c == '\'') fputc('\'', f);
        fputc(*c, f);
    }
    fprintf(f, "'\nset logscale x 2\nset logscale y\nset grid\nset key below\n"
               "set xlabel 'sequence length (tokens)'\nset ylabel 'prefill tokens/s'\n"
               "set title 'swacl bench: prefill throughput'\n");
    /* one series per (device, preset) with data */
    int nseries = 0;
    cJSON *d;
    cJSON_ArrayForEach(d, jdevs)
    {
        for (int pi = 0; pi < 3; pi++) {
            cJSON *e;
            int has = 0;
            cJSON_ArrayForEach(e, cJSON_GetObjectItem(d, "e2e"))
            {
                cJSON *k = cJSON_GetObjectItem(e, "kind"), *p = cJSON_GetObjectItem(e, "preset");
                if (cJSON_IsString(k) && !strcmp(k->valuestring, "prefill") && cJSON_IsString(p) &&
                    !strcmp(p->valuestring, k_plot_series[pi]))
                    has = 1;
            }
            if (!has) continue;
            const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(d, "name"));
            char t[160];
            snprintf(t, sizeof t, "%.100s %s", name ? name : "?", k_plot_series[pi]);
            for (char *c = t; *c; c++)
                if (*c == '\'' || *c == '"') *c = ' ';
            fprintf(f, "%s '-' using 1:2 with linespoints lw 2 %s title '%s'",
                    nseries ? ", \\\n    " : "plot ", pi ? "dt 2" : "dt 1", t);
            nseries++;
        }
    }
    fputc('\n', f);
    cJSON_ArrayForEach(d, jdevs)
    {
        for (int pi = 0; pi < 3; pi++) {
            cJSON *e;
            int has = 0;
            char buf[1024] = "";
            size_t used = 0;
            cJSON_ArrayForEach(e, cJSON_GetObjectItem(d, "e2e"))
            {
                cJSON *k = cJSON_GetObjectItem(e, "kind"), *p = cJSON_GetObjectItem(e, "preset");
                if (cJSON_IsString(k) && !strcmp(k->valuestring, "prefill") && cJSON_IsString(p) &&
                    !strcmp(p->valuestring, k_plot_series[pi]) && used < sizeof buf - 64) {
                    has = 1;
                    used += (size_t)snprintf(
                        buf + used, sizeof buf - used, "%d %g\n",
                        (int)cJSON_GetNumberValue(cJSON_GetObjectItem(e, "seq")),
                        cJSON_GetNumberValue(cJSON_GetObjectItem(e, "tokens_per_s")));
                }
            }
            if (has) fprintf(f, "%se\n", buf);
        }
    }
    fclose(f);
    int rc = 0;
    if (nseries == 0) {
        fprintf(stderr, "bench: --plot: no prefill results to plot\n");
        rc = 1;
    } else {
        char cmd[1200];
        snprintf(cmd, sizeof cmd, "gnuplot '%s'", path);
        if (system(cmd) != 0) {
            fprintf(stderr, "bench: --plot: gnuplot failed (script kept at %s)\n", path);
            return 1;
        }
        fprintf(stderr, "bench: plot written to %s\n", png);
    }
    remove(path);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Entry point                                                               */

static const char k_bench_help[] =
    "usage: swacl bench [--devices all|LIST] [--json FILE] [--plot FILE.png] [--quick]\n"
    "                   [--max-seq N] [--model DIR] [--e2e-only]\n"
    "                   [--placement auto|SPEC [--pipeline-only] [--batch N] [--micro-batches N]]\n"
    "\n"
    "Per device: clpeak-style FMA GFLOP/s and copy GB/s (plus OpenBLAS sgemm on CPUs),\n"
    "banded/causal attention, RoPE, RMSNorm, SwiGLU and the cohere2 GEMMs with the\n"
    "fraction of peak, prefill tokens/s for cohere2 vs baseline with the KV-memory\n"
    "ratio, decode tokens/s through a KV-cache session, and cold vs warm start.\n"
    "With --placement, then: batch prefill tokens/s of the layer pipeline over the\n"
    "--devices list vs each listed device alone, in the same run.\n"
    "\n"
    "  --devices all|LIST  'all' = every OpenCL device (default; the CPU reference\n"
    "                      only when there is none);\n"
    "                      LIST = comma-separated selectors (index, name substring,\n"
    "                      'gpu', 'cpu', 'ref')\n"
    "  --json FILE         write every figure as one JSON object\n"
    "  --plot FILE.png     prefill tokens/s vs sequence length (needs gnuplot)\n"
    "  --quick             small sizes: the whole run takes under a minute\n"
    "  --max-seq N         cap prefill/decode lengths (default 16384 on CPUs, 32768 else)\n"
    "  --model DIR         end to end on a Hugging Face checkpoint (config.json +\n"
    "                      model.safetensors) instead of cohere2 vs baseline\n"
    "  --e2e-only          skip cold/warm start, peaks and kernels\n"
    "  --placement auto|SPEC\n"
    "                      add the pipeline section: the model's layers split over\n"
    "                      the --devices list ('auto': calibrated and balanced; SPEC:\n"
    "                      layer ranges per list position, e.g. 0-3:0,4-7:1), cohere2\n"
    "                      (or --model) at batch N x seq 512 (128 with --quick, capped\n"
    "                      by --max-seq), vs each device alone; output checked\n"
    "                      (nmse <= 1e-6 vs the first device alone)\n"
    "  --pipeline-only     only the pipeline section (needs --placement)\n"
    "  --batch N           pipeline batch (default 8)\n"
    "  --micro-batches N   micro-batches per pipeline forward (default: one per stage)\n";

int swacl_cmd_bench(int argc, char **argv)
{
    bench_opts o;
    memset(&o, 0, sizeof o);
    o.devices = "all";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_val = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(k_bench_help, stdout);
            return 0;
        } else if (!strcmp(a, "--quick")) {
            o.quick = 1;
        } else if (!strcmp(a, "--devices") && has_val) {
            o.devices = argv[++i];
        } else if (!strcmp(a, "--json") && has_val) {
            o.json_path = argv[++i];
        } else if (!strcmp(a, "--e2e-only")) {
            o.e2e_only = 1;
        } else if (!strcmp(a, "--model") && has_val) {
            o.model_dir = argv[++i];
        } else if (!strcmp(a, "--plot") && has_val) {
            o.plot_path = argv[++i];
        } else if (!strcmp(a, "--placement") && has_val) {
            o.placement = argv[++i];
        } else if (!strcmp(a, "--pipeline-only")) {
            o.pipeline_only = 1;
        } else if ((!strcmp(a, "--batch") || !strcmp(a, "--micro-batches")) && has_val) {
            char *end = NULL;
            long v = strtol(argv[++i], &end, 10);
            if (!end || *end || v < 1 || v > 4096) {
                fprintf(stderr, "swacl bench: %s wants an integer in [1, 4096]\n", a);
                return 2;
            }
            *(!strcmp(a, "--batch") ? &o.batch : &o.micro_batches) = (int)v;
        } else if (!strcmp(a, "--max-seq") && has_val) {
            char *end = NULL;
            long v = strtol(argv[++i], &end, 10);
            if (!end || *end || v < 16 || v > (1L << 22)) {
                fprintf(stderr, "swacl bench: --max-seq wants an integer in [16, 4194304]\n");
                return 2;
            }
            o.max_seq = (int)v;
        } else {
            fprintf(stderr, "swacl bench: unknown or incomplete option '%s'\n%s", a, k_bench_help);
            return 2;
        }
    }
    if (!o.placement && (o.pipeline_only || o.batch || o.micro_batches)) {
        fprintf(stderr, "swacl bench: --pipeline-only, --batch and --micro-batches need "
                        "--placement auto|SPEC\n");
        return 2;
    }
    if (o.placement && !*o.placement) {
        fprintf(stderr, "swacl bench: --placement wants 'auto' or a SPEC such as 0-3:0,4-7:1\n");
        return 2;
    }

    /* device selectors */
    char sel[MAX_DEVS][64];
    int nsel = 0;
    if (!strcmp(o.devices, "all")) {
        swacl_device_info *list = NULL;
        int n = 0;
        char err[512] = "";
        swacl_ctx *ec = cli_msg_ctx(NULL);
        swacl_status lst = swacl_devices_list(ec, &list, &n);
        cli_take_msg(ec, err, sizeof err);
        if (lst != SWACL_OK)
            fprintf(stderr, "swacl bench: listing OpenCL devices failed: %s\n", err);
        for (int i = 0; i < n && nsel < MAX_DEVS - 1; i++)
            snprintf(sel[nsel++], sizeof sel[0], "%d", list[i].index);
        swacl_devices_free(list);
        if (nsel == 0) snprintf(sel[nsel++], sizeof sel[0], "ref");
    } else {
        const char *s = o.devices;
        while (*s && nsel < MAX_DEVS) {
            size_t len = strcspn(s, ",");
            if (len > 0 && len < sizeof sel[0]) {
                memcpy(sel[nsel], s, len);
                sel[nsel++][len] = 0;
            } else if (len > 0) {
                fprintf(stderr, "swacl bench: device selector too long\n");
                return 2;
            }
            s += len;
            if (*s == ',') s++;
        }
        if (nsel == 0) {
            fprintf(stderr, "swacl bench: --devices: empty list\n");
            return 2;
        }
    }

    /* --model: loaded once, before any device, shared read-only */
    swacl_config mcfg;
    swacl_weights *mw = NULL;
    if (o.model_dir) {
        char err[1024] = "";
        char msg[512] = "";
        swacl_ctx *ec = cli_msg_ctx(NULL);
        if (swacl_load_hf(ec, o.model_dir, &mcfg, &mw) != SWACL_OK) {
            cli_take_msg(ec, err, sizeof err);
            fprintf(stderr, "swacl bench: cannot load --model %s: %s\n", o.model_dir, err);
            return 1;
        }
        swacl_status vst = swacl_config_validate(ec, &mcfg);
        cli_take_msg(ec, msg, sizeof msg);
        if (vst != SWACL_OK) {
            fprintf(stderr, "swacl bench: --model %s: invalid configuration: %s\n",
                    o.model_dir, msg);
            swacl_weights_destroy(mw);
            return 1;
        }
        o.model_cfg = &mcfg;
        o.model_w = mw;
    }
    if (o.placement && o.model_cfg && o.model_cfg->n_layers < 2) {
        fprintf(stderr, "swacl bench: --placement: --model %s has %d layer(s); the pipeline "
                        "needs at least 2\n", o.model_dir, o.model_cfg->n_layers);
        swacl_weights_destroy(mw);
        return 2;
    }
    /* a bad SPEC, device or fit fails now, not after the per-device sections */
    if (o.placement && !o.pipeline_only) {
        int rc = pipe_precheck(&o);
        if (rc) {
            swacl_weights_destroy(mw);
            return rc;
        }
    }

    cJSON *root = cJSON_CreateObject();
    cJSON *jdevs = cJSON_AddArrayToObject(root, "devices");
    cJSON_AddBoolToObject(root, "quick", o.quick);
    if (o.model_dir) cJSON_AddStringToObject(root, "model", o.model_dir);
    if (o.e2e_only) cJSON_AddBoolToObject(root, "e2e_only", 1);
    if (o.pipeline_only) cJSON_AddBoolToObject(root, "pipeline_only", 1);
    blas_peak blas = {0, 0.0};
    int failures = 0;
    double t0 = swacl_now();
    int rc_pipe = 0;
    if (!o.pipeline_only)
        for (int i = 0; i < nsel; i++) failures += bench_device(sel[i], &o, &blas, jdevs);
    if (o.placement) failures += bench_pipeline(sel, nsel, &o, root, &rc_pipe);
    cJSON_AddNumberToObject(root, "total_s", swacl_now() - t0);
    fprintf(stderr, "bench: done in %.1f s, %d failure(s)\n", swacl_now() - t0, failures);

    int rc = rc_pipe ? rc_pipe : failures ? 1 : 0;
    if (o.json_path) {
        char *txt = cJSON_Print(root);
        FILE *f = txt ? fopen(o.json_path, "w") : NULL;
        if (!f || fputs(txt, f) < 0 || fputc('\n', f) == EOF) {
            fprintf(stderr, "swacl bench: cannot write %s: %s\n", o.json_path, strerror(errno));
            rc = 1;
        }
        if (f && fclose(f) != 0) rc = 1;
        cJSON_free(txt);
    }
    if (o.plot_path && write_plot(o.plot_path, jdevs) != 0) rc = 1;
    cJSON_Delete(root);
    swacl_weights_destroy(mw);
    return rc;
}
