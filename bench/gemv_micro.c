/*
 * gemv_micro.c - the decode GEMV (matmul with M <= GEMV_MAXM) per weight
 * storage type, against OpenBLAS sgemv on the same f32 matrix in the same
 * process (issue 11: decode is bound by reading W once per token).
 *
 *   gemv_micro [--device SEL] [--n 2816] [--k 1024] [--m 1] [--mb 256]
 *              [--types f32,f16,bf16,q8_0,q4_0] [--rows 1,2,4,8] [--json]
 *
 * Each case cycles over enough copies of W[N,K] to span --mb MiB, so W
 * streams from DRAM as in a model's decode step rather than from cache.
 * Rates: GB of W read per CPU-second (getrusage, all threads: holds on a
 * shared machine) and per wall second; the ratio is to OpenBLAS sgemv's
 * GB/cpu-s on the f32 copies (the same bytes as the f32 rows). --rows
 * forces gemv_f32_r<R> for the f32 rows (each R one row; default: the
 * device table's R). FLOPs = 2 M N K per call; bytes = W's stored bytes.
 */
#define _POSIX_C_SOURCE 200112L
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cl/cl_params.h"
#include "internal.h"

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + 1e-6 * (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static double wall_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

typedef struct {
    char name[24];
    double bytes, gb_cpu, gb_wall, ratio;
    int reps;
} result;

static void fill(float *p, size_t n, unsigned seed)
{
    unsigned s = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        p[i] = ((float)(s >> 8) / 16777216.0f - 0.5f) * 0.125f;
    }
}

/* rate of fn over >= 1.5 CPU-seconds (and >= 3 passes over the copies) */
#define MEASURE(res, per_call_bytes, ncopies, CALL)                                  \
    do {                                                                              \
        int reps_ = 0;                                                                \
        double c0_ = cpu_s(), w0_ = wall_s();                                         \
        while (cpu_s() - c0_ < 1.5 || reps_ < 3 * (ncopies)) {                        \
            const int i = reps_ % (ncopies);                                          \
            CALL;                                                                     \
            reps_++;                                                                  \
        }                                                                             \
        const double ct_ = cpu_s() - c0_, wt_ = wall_s() - w0_;                       \
        (res)->reps = reps_;                                                          \
        (res)->bytes = (per_call_bytes);                                              \
        (res)->gb_cpu = (per_call_bytes) * reps_ / ct_ * 1e-9;                        \
        (res)->gb_wall = (per_call_bytes) * reps_ / wt_ * 1e-9;                       \
    } while (0)

int main(int argc, char **argv)
{
    const char *device = NULL, *types = "f32,f16,bf16,q8_0,q4_0", *rows = NULL;
    int N = 2816, K = 1024, M = 1, mb = 256, json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--json")) json = 1;
        else if (!v) goto usage;
        else if (!strcmp(a, "--device")) device = v, i++;
        else if (!strcmp(a, "--types")) types = v, i++;
        else if (!strcmp(a, "--rows")) rows = v, i++;
        else if (!strcmp(a, "--n")) N = atoi(v), i++;
        else if (!strcmp(a, "--k")) K = atoi(v), i++;
        else if (!strcmp(a, "--m")) M = atoi(v), i++;
        else if (!strcmp(a, "--mb")) mb = atoi(v), i++;
        else goto usage;
    }
    if (N < 1 || K < 32 || K % 32 || M < 1 || M > 8 || mb < 1) {
        fprintf(stderr, "gemv_micro: need N >= 1, K a multiple of 32, 1 <= M <= 8, --mb >= 1\n");
        return 2;
    }
    swacl_ctx_params p = swacl_ctx_params_default();
    p.device = device;
    swacl_ctx *ctx = NULL;
    if (swacl_ctx_create(&p, &ctx) != SWACL_OK) {
        fprintf(stderr, "gemv_micro: %s\n", ctx ? swacl_ctx_errmsg(ctx) : "cannot create a context");
        swacl_ctx_destroy(ctx);
        return 1;
    }
    swacl_backend *be = ctx->be;
    const size_t nw = (size_t)N * K;
    const int ncopies = (int)fmax(2.0, ceil((double)mb * 1048576.0 / (nw * 4.0)));
    float *w32 = malloc(nw * 4 * ncopies), *x = malloc((size_t)M * K * 4), *y = malloc((size_t)M * N * 4);
    void *packed = malloc(swacl_wtype_row_bytes(SWACL_WT_F32, K) * N);
    result res[32];
    int nres = 0, rc = 0;
    if (!w32 || !x || !y || !packed) {
        fprintf(stderr, "gemv_micro: out of host memory\n");
        rc = 1;
        goto out;
    }
    for (int c = 0; c < ncopies; c++) fill(w32 + (size_t)c * nw, nw, 7 + c);
    fill(x, (size_t)M * K, 3);

    /* the reference: OpenBLAS sgemv (M = 1) / sgemm (M > 1) on the f32 copies */
    result ref = {.name = "openblas"};
    MEASURE(&ref, nw * 4.0, ncopies,
            M == 1 ? cblas_sgemv(CblasRowMajor, CblasNoTrans, N, K, 1.0f, w32 + (size_t)i * nw, K,
                                 x, 1, 0.0f, y, 1)
                   : cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, x, K,
                                 w32 + (size_t)i * nw, K, 0.0f, y, N));
    ref.ratio = 1.0;

    swacl_buf *xb = NULL, *yb = NULL;
    if (be->iface->buf_alloc(be, (size_t)M * K * 4, &xb) != SWACL_OK ||
        be->iface->buf_alloc(be, (size_t)M * N * 4, &yb) != SWACL_OK ||
        be->iface->buf_write(be, xb, 0, x, (size_t)M * K * 4) != SWACL_OK) {
        fprintf(stderr, "gemv_micro: %s\n", swacl_ctx_errmsg(ctx));
        rc = 1;
        goto bufs;
    }
    char list[256];
    snprintf(list, sizeof list, "%s", types);
    for (char *save = NULL, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        const int wt = swacl_wtype_parse(t);
        if (wt < 0 || wt == SWACL_WT_AUTO) {
            fprintf(stderr, "gemv_micro: unknown type '%s'\n", t);
            rc = 2;
            break;
        }
        const size_t rb = swacl_wtype_row_bytes((swacl_wtype)wt, K), bytes = rb * N;
        const int nc = (int)fmax(2.0, ceil((double)mb * 1048576.0 / (double)bytes));
        swacl_buf **wb = calloc((size_t)nc, sizeof *wb);
        if (!wb) break;
        int ok = 1;
        for (int c = 0; c < nc && ok; c++) {
            const float *src = w32 + (size_t)(c % ncopies) * nw;
            for (int n = 0; n < N; n++)
                swacl_row_encode((swacl_wtype)wt, src + (size_t)n * K, (char *)packed + rb * n, K);
            ok = be->iface->weight_create(be, (swacl_wtype)wt, packed, bytes, 0, &wb[c], NULL) ==
                 SWACL_OK;
        }
        char rl[64];
        snprintf(rl, sizeof rl, "%s", wt == SWACL_WT_F32 && rows ? rows : "0");
        for (char *s2 = NULL, *r = strtok_r(rl, ",", &s2); ok && r; r = strtok_r(NULL, ",", &s2)) {
            result *e = &res[nres];
            memset(e, 0, sizeof *e);
            if (atoi(r) > 0) {
                if (swacl_cl_backend_force_gemv_rows(be, atoi(r)) != SWACL_OK) {
                    fprintf(stderr, "gemv_micro: --rows %s: not an OpenCL device or not 1/2/4/8\n", r);
                    ok = 0;
                    rc = 2;
                    break;
                }
                snprintf(e->name, sizeof e->name, "%s r%s", t, r);
            } else {
                snprintf(e->name, sizeof e->name, "%s", t);
            }
            /* compile + first launch outside the timing */
            ok = be->iface->matmul(be, yb, xb, wb[0], NULL, M, N, K, 0) == SWACL_OK &&
                 be->iface->finish(be) == SWACL_OK;
            if (!ok) break;
            MEASURE(e, (double)bytes, nc, {
                be->iface->matmul(be, yb, xb, wb[i], NULL, M, N, K, 0);
                be->iface->finish(be);
            });
            e->ratio = e->gb_cpu / ref.gb_cpu;
            nres++;
        }
        for (int c = 0; c < nc; c++)
            if (wb[c]) be->iface->buf_free(be, wb[c]);
        free(wb);
        if (!ok) {
            if (!rc) fprintf(stderr, "gemv_micro: %s: %s\n", t, swacl_ctx_errmsg(ctx));
            rc = rc ? rc : 1;
            break;
        }
        if (!json) fprintf(stderr, "  %s done\n", t);
    }
    if (json) {
        printf("{\"device\": \"%s\", \"M\": %d, \"N\": %d, \"K\": %d, \"flops_per_call\": %.0f, "
               "\"openblas_gb_per_cpu_s\": %.3f, \"openblas_gb_per_s\": %.3f, \"cases\": [",
               swacl_ctx_device_name(ctx), M, N, K, 2.0 * M * N * K, ref.gb_cpu, ref.gb_wall);
        for (int i = 0; i < nres; i++)
            printf("%s{\"name\": \"%s\", \"bytes_per_call\": %.0f, \"gb_per_cpu_s\": %.3f, "
                   "\"gb_per_s\": %.3f, \"ratio_openblas\": %.3f, \"reps\": %d}",
                   i ? ", " : "", res[i].name, res[i].bytes, res[i].gb_cpu, res[i].gb_wall,
                   res[i].ratio, res[i].reps);
        printf("]}\n");
    } else {
        printf("device %s, M %d, N %d x K %d (%.1f MFLOP per call), W cycled over >= %d MiB\n",
               swacl_ctx_device_name(ctx), M, N, K, 2e-6 * M * N * K, mb);
        printf("%-12s %12s %12s %12s %10s\n", "case", "W bytes", "GB/cpu-s", "GB/s wall",
               "/openblas");
        printf("%-12s %12.0f %12.2f %12.2f %10.3f\n", "openblas f32", ref.bytes, ref.gb_cpu,
               ref.gb_wall, 1.0);
        for (int i = 0; i < nres; i++)
            printf("%-12s %12.0f %12.2f %12.2f %10.3f\n", res[i].name, res[i].bytes, res[i].gb_cpu,
                   res[i].gb_wall, res[i].ratio);
    }
bufs:
    if (xb) be->iface->buf_free(be, xb);
    if (yb) be->iface->buf_free(be, yb);
out:
    free(w32);
    free(x);
    free(y);
    free(packed);
    swacl_ctx_destroy(ctx);
    return rc;
usage:
    fprintf(stderr, "usage: gemv_micro [--device SEL] [--n N] [--k K] [--m M] [--mb MiB] "
                    "[--types f32,f16,bf16,q8_0,q4_0] [--rows 1,2,4,8] [--json]\n");
    return 2;
}
