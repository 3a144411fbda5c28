/*
 * attn_micro.c - attention kernel micro-benchmark against OpenBLAS sgemm in
 * the same process (issue 6: banded attention >= 0.5x sgemm).
 *
 * Rates are GFLOP per CPU-second (getrusage, all threads), so they hold on
 * a shared, noisy machine; wall-clock GFLOP/s is printed too. Attention
 * FLOPs = 4 * d * pairs per (query head), pairs = L*W - W(W-1)/2 (window)
 * or L(L+1)/2 (global causal); softmax not counted.
 *
 * usage: attn_micro [variant ...]   variant = tiled | row | blk[:qb,kt,lx]
 *        (default: tiled row blk) ; env ATTN_CASES=all|quick, ATTN_DEVICE
 * The variant and shape go through swacl_ctx_params.kernels.
 */
#define _POSIX_C_SOURCE 200112L
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "internal.h"

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
           1e-6 * (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static void fill(float *x, size_t n, unsigned s)
{
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = (float)((s >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
}

static double sgemm_rate(int n, double *wall_rate)
{
    float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n);
    float *c = calloc((size_t)n * n, sizeof(float));
    fill(a, (size_t)n * n, 1);
    fill(b, (size_t)n * n, 2);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
    int reps = 0;
    double c0 = cpu_s(), w0 = wall_s();
    while (cpu_s() - c0 < 1.0 || reps < 3) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
        reps++;
    }
    double ct = cpu_s() - c0, wt = wall_s() - w0, fl = 2.0 * n * n * (double)n * reps;
    free(a);
    free(b);
    free(c);
    *wall_rate = fl / wt * 1e-9;
    return fl / ct * 1e-9;
}

typedef struct {
    const char *name;
    int L, H, Hkv, d;
    swacl_span span;
    int W;
} bcase;

static int run_case(const char *variant, const bcase *c, double sg)
{
    char kind[16] = "", shape[32] = "";
    sscanf(variant, "%15[^:]:%31s", kind, shape);
    swacl_ctx_params p = swacl_ctx_params_default();
    p.device = getenv("ATTN_DEVICE");
    if (!strcmp(kind, "tiled")) p.kernels.attn = SWACL_ATTN_KERNEL_TILED;
    else if (!strcmp(kind, "row")) p.kernels.attn = SWACL_ATTN_KERNEL_ROW;
    else if (!strcmp(kind, "blk")) p.kernels.attn = SWACL_ATTN_KERNEL_BLK;
    else {
        fprintf(stderr, "unknown variant '%s' (tiled, row, blk[:qb,kt,lx])\n", variant);
        return 1;
    }
    /* blk:qb,kt,lx - the attn_fwd_blk shape (checked by swacl_ctx_create) */
    if (shape[0] && sscanf(shape, "%d,%d,%d", &p.kernels.attn_blk_qb, &p.kernels.attn_blk_kt,
                           &p.kernels.attn_blk_lx) != 3) {
        fprintf(stderr, "bad shape '%s' in '%s' (want qb,kt,lx)\n", shape, variant);
        return 1;
    }
    swacl_ctx *ctx = NULL;
    if (swacl_ctx_create(&p, &ctx) != SWACL_OK) {
        fprintf(stderr, "ctx: %s\n", ctx ? swacl_ctx_errmsg(ctx) : "?");
        swacl_ctx_destroy(ctx);
        return 1;
    }
    swacl_backend *be = ctx->be;
    size_t nq = (size_t)c->L * c->H * c->d, nkv = (size_t)c->L * c->Hkv * c->d;
    float *h = malloc(sizeof(float) * nq);
    swacl_buf *q, *k, *v, *o;
    be->iface->buf_alloc(be, nq * 4, &q);
    be->iface->buf_alloc(be, nkv * 4, &k);
    be->iface->buf_alloc(be, nkv * 4, &v);
    be->iface->buf_alloc(be, nq * 4, &o);
    fill(h, nq, 3);
    be->iface->buf_write(be, q, 0, h, nq * 4);
    fill(h, nkv, 4);
    be->iface->buf_write(be, k, 0, h, nkv * 4);
    fill(h, nkv, 5);
    be->iface->buf_write(be, v, 0, h, nkv * 4);
    int pos0 = 0, n_new = c->L;
    swacl_attn_args a = {.B = 1, .T = c->L, .H = c->H, .Hkv = c->Hkv, .d = c->d, .q = q, .k = k,
                         .v = v, .pos0 = &pos0, .n_new = &n_new, .span = c->span,
                         .span_size = c->W, .scale = 1.0f / sqrtf((float)c->d),
                         .temp = SWACL_TEMP_NONE, .out = o};
    swacl_status st = be->iface->attention(be, &a);
    if (st == SWACL_OK) st = be->iface->finish(be); /* compile + first launch */
    if (st != SWACL_OK) {
        fprintf(stderr, "%s: %s\n", variant, swacl_ctx_errmsg(ctx));
        return 1;
    }
    double L = c->L, W = c->W;
    double pairs = c->span == SWACL_SPAN_GLOBAL ? L * (L + 1) / 2 : L * W - W * (W - 1) / 2;
    double fl = 4.0 * c->d * pairs * c->H;
    int reps = 0;
    double c0 = cpu_s(), w0 = wall_s();
    while ((cpu_s() - c0 < 1.5 && reps < 50) || reps < 2) {
        be->iface->attention(be, &a);
        be->iface->finish(be);
        reps++;
    }
    double ct = cpu_s() - c0, wt = wall_s() - w0;
    double rate = fl * reps / ct * 1e-9;
    printf("%-28s %-16s %8.2f GFLOP/cpu-s  %8.2f GFLOP/s wall  ratio %.3f  (%d reps)\n", c->name,
           variant, rate, fl * reps / wt * 1e-9, rate / sg, reps);
    fflush(stdout);
    be->iface->buf_free(be, q);
    be->iface->buf_free(be, k);
    be->iface->buf_free(be, v);
    be->iface->buf_free(be, o);
    free(h);
    swacl_ctx_destroy(ctx);
    return 0;
}

int main(int argc, char **argv)
{
    static const bcase all[] = {
        {"L8192 W512 d64 H4 Hkv1", 8192, 4, 1, 64, SWACL_SPAN_WINDOW, 512},
        {"L8192 W128 d64 H4 Hkv1", 8192, 4, 1, 64, SWACL_SPAN_WINDOW, 128},
        {"L8192 W4096 d64 H4 Hkv1", 8192, 4, 1, 64, SWACL_SPAN_WINDOW, 4096},
        {"L4096 global d64 H4 Hkv1", 4096, 4, 1, 64, SWACL_SPAN_GLOBAL, 0},
        {"L8192 W512 d64 H4 Hkv4", 8192, 4, 4, 64, SWACL_SPAN_WINDOW, 512},
        {"L8192 W512 d128 H4 Hkv1", 8192, 4, 1, 128, SWACL_SPAN_WINDOW, 512},
    };
    const char *cs = getenv("ATTN_CASES");
    int ncase = cs && !strcmp(cs, "quick") ? 1 : cs && !strcmp(cs, "all") ? 6 : 4;
    const char *defv[] = {"tiled", "row", "blk"};
    const char **vars = argc > 1 ? (const char **)argv + 1 : defv;
    int nv = argc > 1 ? argc - 1 : 3;
    double sgw, sg = sgemm_rate(1024, &sgw);
    printf("OpenBLAS sgemm n=1024: %.1f GFLOP/cpu-s, %.1f GFLOP/s wall\n", sg, sgw);
    for (int i = 0; i < ncase; i++)
        for (int j = 0; j < nv; j++)
            if (run_case(vars[j], &all[i], sg)) return 1;
    sg = sgemm_rate(1024, &sgw);
    printf("OpenBLAS sgemm n=1024 (again): %.1f GFLOP/cpu-s, %.1f GFLOP/s wall\n", sg, sgw);
    return 0;
}
