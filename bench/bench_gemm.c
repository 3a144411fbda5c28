/*
 * bench_gemm.c - the prefill GEMMs (y[M,N] = x[M,K] w[N,K]^T, FLOPs =
 * 2*M*N*K) three ways in one process, interleaved round by round so the
 * machine's state is shared (issue 12):
 *   own     swacl's gemm.cl (pack + register-blocked micro-kernel)
 *   clblast the CLBlast path (f32: SGEMM; packed W: dequant panels + SGEMM)
 *   blas    OpenBLAS cblas_sgemm on float32 host arrays of the same shape
 * through the op runner the tests use (host/ops), on one OpenCL device.
 *
 *   bench_gemm [--device SEL] [--types f32,f16,...] [--rounds R] [--shapes 168m|cohere2|swan|rnope-swa|all]
 *              [--lm-head] [--mr 1..12] [--lx N] [--kc N] [--mc N]   (own kernel's shape, else the table's)
 *              [--m M] (only shapes of M rows) [--no-clblast] (skip CLBlast: ratio column 0)
 *              [--vw 8|16] (accumulator width; --mr up to 24 at 16)
 *
 * Figure per cell: the best of R rounds (GFLOP/s, wall clock incl. the
 * pack); ratio = own / blas and clblast / blas of the same round set.
 * After each sgemm the bench naps 150 ms: OpenBLAS's worker threads spin
 * for ~0.1 s after a call returns, and an OpenCL kernel started in that
 * window got one of the two cores (cells read ~95 instead of ~170 GFLOP/s).
 */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cl/cl_params.h"
#include "internal.h"
#include "ops/op_cases.h"
#include "swacl.h"

typedef struct {
    const char *name;
    int M, N, K;
} shape;

static const char *const tname[SWACL_WT_COUNT] = {"auto", "f32", "f16", "bf16", "q8_0", "q4_0"};

static swacl_status dev_time(swacl_ctx *ctx, const swacl_op_case *c, swacl_op_bufs *b, double *s)
{
    double t0 = swacl_now();
    SWACL_TRY(swacl_op_launch(ctx, c, b));
    SWACL_TRY(ctx->be->iface->finish(ctx->be));
    *s = swacl_now() - t0;
    return SWACL_OK;
}

int main(int argc, char **argv)
{
    const char *device = NULL, *types = "f32,f16", *set = "all";
    int rounds = 3, lm = 0, mr = 0, lx = 0, kc = -1, mc = -1, only_m = 0, noclb = 0, vw = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--device") && v) device = argv[++i];
        else if (!strcmp(a, "--types") && v) types = argv[++i];
        else if (!strcmp(a, "--rounds") && v) rounds = atoi(argv[++i]);
        else if (!strcmp(a, "--shapes") && v) set = argv[++i];
        else if (!strcmp(a, "--lm-head")) lm = 1;
        else if (!strcmp(a, "--mr") && v) mr = atoi(argv[++i]);
        else if (!strcmp(a, "--lx") && v) lx = atoi(argv[++i]);
        else if (!strcmp(a, "--kc") && v) kc = atoi(argv[++i]);
        else if (!strcmp(a, "--mc") && v) mc = atoi(argv[++i]);
        else if (!strcmp(a, "--m") && v) only_m = atoi(argv[++i]);
        else if (!strcmp(a, "--no-clblast")) noclb = 1;
        else if (!strcmp(a, "--vw") && v) vw = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--device SEL] [--types f32,f16,bf16,q8_0,q4_0] "
                            "[--rounds R] [--shapes 168m|cohere2|swan|rnope-swa|all] [--lm-head] [--mr 1..12] [--lx N] [--kc N] [--mc N] [--m M] [--no-clblast] [--vw 8|16]\n", argv[0]);
            return 2;
        }
    }
    if (rounds < 1) rounds = 1;
    /* the 168M Cohere2 bench model (D 1024, 8 heads / 2 KV of d 128, F 2816,
     * vocab 32000) and the cohere2 preset (D 256, 4 / 1 of d 64, F 768) */
    const shape all[] = {
        {"168m qkv", 512, 1536, 1024},   {"168m o", 512, 1024, 1024},
        {"168m gate/up", 512, 2816, 1024}, {"168m down", 512, 1024, 2816},
        {"168m lm_head", 512, 32000, 1024},
        {"168m qkv", 2048, 1536, 1024},  {"168m o", 2048, 1024, 1024},
        {"168m gate/up", 2048, 2816, 1024}, {"168m down", 2048, 1024, 2816},
        {"168m qkv", 8192, 1536, 1024},  {"168m o", 8192, 1024, 1024},
        {"168m gate/up", 8192, 2816, 1024}, {"168m down", 8192, 1024, 2816},
        {"cohere2 qkv", 512, 384, 256},  {"cohere2 o", 512, 256, 256},
        {"cohere2 gate/up", 512, 768, 256}, {"cohere2 down", 512, 256, 768},
        {"cohere2 lm_head", 512, 2048, 256},
        {"cohere2 qkv", 2048, 384, 256}, {"cohere2 gate/up", 2048, 768, 256},
        {"cohere2 down", 2048, 256, 768},
        /* the projections as the layer runs them (q, k and v are three
         * GEMMs; "qkv" above is their sum), and the other presets' shapes:
         * swan / irope (D 256, 4 / 2 of d 64, F 768), rnope-swa (D 256,
         * 4 / 4, GELU F 1024) */
        {"168m q", 512, 1024, 1024},     {"168m k/v", 512, 256, 1024},
        {"168m k/v", 2048, 256, 1024},   {"168m k/v", 8192, 256, 1024},
        {"cohere2 k/v", 512, 64, 256},   {"cohere2 k/v", 2048, 64, 256},
        {"swan k/v", 512, 128, 256},     {"swan k/v", 2048, 128, 256},
        {"rnope-swa up", 512, 1024, 256}, {"rnope-swa down", 512, 256, 1024},
        {"rnope-swa up", 2048, 1024, 256}, {"rnope-swa down", 2048, 256, 1024},
    };
    swacl_ctx_params cp = swacl_ctx_params_default();
    cp.device = device;
    swacl_ctx *ctx = NULL;
    if (swacl_ctx_create(&cp, &ctx) != SWACL_OK) {
        fprintf(stderr, "bench_gemm: %s\n", ctx ? swacl_ctx_errmsg(ctx) : "no context");
        swacl_ctx_destroy(ctx);
        return 1;
    }
    swacl_gemm_params *gp = swacl_cl_backend_gemm_params(ctx->be);
    if (!gp) {
        fprintf(stderr, "bench_gemm: needs an OpenCL device\n");
        swacl_ctx_destroy(ctx);
        return 1;
    }
    if (mr >= 1 && mr <= 24) gp->mr = mr;
    if (vw == 8 || vw == 16) gp->vw = vw; /* search a launch shape by hand */
    if (lx >= 1) gp->lx = lx;
    if (kc >= 0) gp->kc = kc;
    if (mc >= 0) gp->mc = mc;
    const swacl_gemm_params row = *gp;
    printf("device: %s  own kernel: GEMM_MR %d, VW %d, lx %d, kc %d, mc %d; best of %d interleaved rounds\n",
           swacl_ctx_device_name(ctx), row.mr, row.vw ? row.vw : 8, row.lx, row.kc, row.mc, rounds);
    printf("%-16s %5s %6s %5s %-5s %8s %8s %8s %6s %6s\n", "shape", "M", "N", "K", "w", "own",
           "clblast", "blas", "own/b", "clb/b");
    int rc = 0;
    for (int t = SWACL_WT_F32; t < SWACL_WT_COUNT && !rc; t++) {
        if (!strstr(types, tname[t])) continue;
        for (size_t s = 0; s < sizeof all / sizeof all[0] && !rc; s++) {
            const shape *sh = &all[s];
            if (strcmp(set, "all") && strncmp(sh->name, set, strlen(set))) continue;
            if (!lm && strstr(sh->name, "lm_head") && sh->N > 4096) continue;
            if (only_m > 0 && sh->M != only_m) continue;
            swacl_op_case c;
            memset(&c, 0, sizeof c);
            c.op = SWACL_OP_MATMUL;
            c.label = sh->name;
            c.mm = (swacl_opc_matmul){.M = sh->M, .N = sh->N, .K = sh->K, .wt = (swacl_wtype)t};
            swacl_op_bufs *b = NULL;
            float *hx = malloc(sizeof(float) * sh->M * sh->K);
            float *hw = malloc(sizeof(float) * sh->N * sh->K);
            float *hy = malloc(sizeof(float) * sh->M * sh->N);
            if (!hx || !hw || !hy || swacl_op_bufs_create(ctx, &c, &b) != SWACL_OK) {
                fprintf(stderr, "bench_gemm: %s\n", swacl_ctx_errmsg(ctx));
                rc = 1;
            }
            swacl_op_fill_uniform(hx, (size_t)sh->M * sh->K, 1, 1.0f);
            swacl_op_fill_uniform(hw, (size_t)sh->N * sh->K, 2, 0.05f);
            double best[3] = {1e30, 1e30, 1e30};
            for (int r = -1; r < rounds && !rc; r++) { /* r = -1: warm-up */
                for (int impl = 0; impl < 3 && !rc; impl++) {
                    double sec = 0.0;
                    if (impl == 1 && noclb) continue; /* CLBlast: 5-10x slower here */
                    if (impl == 2) {
                        double t0 = swacl_now();
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, sh->M, sh->N, sh->K,
                                    1.0f, hx, sh->K, hw, sh->K, 0.0f, hy, sh->N);
                        sec = swacl_now() - t0;
                        nanosleep(&(struct timespec){0, 150000000L}, NULL); /* let BLAS threads park */
                    } else {
                        *gp = row;
                        gp->own_f32 = gp->own_packed = impl == 0;
                        if (dev_time(ctx, &c, b, &sec) != SWACL_OK) {
                            fprintf(stderr, "bench_gemm: %s\n", swacl_ctx_errmsg(ctx));
                            rc = 1;
                        }
                    }
                    if (r >= 0 && sec < best[impl]) best[impl] = sec;
                }
            }
            *gp = row;
            if (!rc) {
                const double fl = 2.0 * sh->M * sh->N * (double)sh->K * 1e-9;
                printf("%-16s %5d %6d %5d %-5s %8.1f %8.1f %8.1f %6.2f %6.2f\n", sh->name, sh->M,
                       sh->N, sh->K, tname[t], fl / best[0], fl / best[1], fl / best[2],
                       best[2] / best[0], best[2] / best[1]);
                fflush(stdout);
            }
            swacl_op_bufs_destroy(b);
            free(hx);
            free(hw);
            free(hy);
        }
    }
    swacl_ctx_destroy(ctx);
    return rc;
}
