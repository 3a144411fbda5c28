/*
 * tune_bench.c - the GEMM tuner's bench (see tune_internal.h): one device
 * opened without a tune file, seeded inputs, the CPU reference's GEMM as
 * the check, timing, and the child process that compiles a set first.
 */
#define _POSIX_C_SOURCE 200809L /* fork, execv, waitpid */
#include <cblas.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tune/tune_internal.h"

#define PROBE_WRONG 3  /* probe_exe's exit code for a wrong result */

void swacl_tune_note(const tbench *b, const char *fmt, ...)
{
    if (!b->p || !b->p->progress) return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    b->p->progress(b->p->user, line);
}


void swacl_tune_fmt_x(char *buf, size_t len, const size_t *x)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; i < SWACL_TUNE_NX && off < len; i++)
        off += (size_t)snprintf(buf + off, len - off, "%s%s=%zu", i ? " " : "",
                                swacl_tune_xgemm_names[i], x[i]);
}
void swacl_tune_fmt_d(char *buf, size_t len, const size_t *d)
{
    snprintf(buf, len, "WGD=%zu MDIMCD=%zu NDIMCD=%zu VWMD=%zu VWND=%zu KWID=%zu PAD=%zu/%zu", d[9],
             d[2], d[4], d[7], d[8], d[0], d[5], d[6]);
}

/* A set as text (the probe child's argument): x, d, then min_indirect. */
static void set_text(const swacl_tune_params *t, char *buf, size_t len)
{
    size_t used = 0;
    for (int i = 0; i < SWACL_TUNE_NX + SWACL_TUNE_ND + 1 && used < len; i++) {
        size_t v = i < SWACL_TUNE_NX ? t->x[i]
                   : i < SWACL_TUNE_NX + SWACL_TUNE_ND ? t->d[i - SWACL_TUNE_NX]
                                                       : t->min_indirect;
        used += (size_t)snprintf(buf + used, len - used, "%s%zu", i ? "," : "", v);
    }
}

static int set_parse(const char *q, swacl_tune_params *t)
{
    memset(t, 0, sizeof *t);
    for (int i = 0; i < SWACL_TUNE_NX + SWACL_TUNE_ND + 1; i++) {
        char *end = NULL;
        unsigned long v = strtoul(q, &end, 10);
        if (end == q || (*end && *end != ',')) return -1;
        if (i < SWACL_TUNE_NX)
            t->x[i] = v;
        else if (i < SWACL_TUNE_NX + SWACL_TUNE_ND)
            t->d[i - SWACL_TUNE_NX] = v;
        else
            t->min_indirect = v;
        q = *end ? end + 1 : end;
    }
    return *q ? -1 : 0;
}

/* ---- measuring --------------------------------------------------------- */

static swacl_status run_once(tbench *b, const tshape *s)
{
    return swacl_cl_sgemm(b->ctx, b->dev, 1, s->M, s->N, s->K, 1.0f, b->A, 0, (size_t)s->K, b->W,
                          0, (size_t)s->K, 0.0f, b->C, 0, (size_t)s->N);
}

int swacl_tune_measure(tbench *b, int i, double min_s, double *sec, double *max_err)
{
    const tshape *s = &b->sh[i];
    size_t n = (size_t)s->M * s->N;
    const float nan = NAN;
    if (clEnqueueFillBuffer(b->dev->queue, b->C, &nan, sizeof nan, 0, n * sizeof(float), 0, NULL,
                            NULL) != CL_SUCCESS)
        return -2;
    if (run_once(b, s) != SWACL_OK) return -2;
    if (clEnqueueReadBuffer(b->dev->queue, b->C, CL_TRUE, 0, n * sizeof(float), b->hC, 0, NULL,
                            NULL) != CL_SUCCESS)
        return -2;
    if (swacl_tune_check(b->hC, b->ref[i], n, s->K, max_err, NULL) != 0) return -1;
    if (min_s <= 0) return 0;
    double best = INFINITY, total = 0;
    for (int r = 0; r < 50 && (r < 2 || total < min_s); r++) {
        double t0 = swacl_now();
        if (run_once(b, s) != SWACL_OK) return -2;
        if (clFinish(b->dev->queue) != CL_SUCCESS) return -2;
        double dt = swacl_now() - t0;
        total += dt;
        if (dt < best) best = dt;
    }
    *sec = best;
    return 0;
}

double swacl_tune_time_openblas(const tbench *b, const tshape *s, float *C, double min_s)
{
    double best = INFINITY, total = 0;
    for (int r = 0; r < 60 && (r < 3 || total < min_s); r++) {
        double t0 = swacl_now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, s->M, s->N, s->K, 1.0f, b->hA, s->K,
                    b->hW, s->K, 0.0f, C, s->N);
        double dt = swacl_now() - t0;
        if (r > 0) { /* first call: thread start-up */
            total += dt;
            if (dt < best) best = dt;
        }
    }
    return best;
}

/* Compile + check a set in a child process. 0 ok, -1 rejected (why set). */
int swacl_tune_probe_child(const tbench *b, const swacl_tune_params *t, char *why, size_t why_len)
{
    char vals[512];
    set_text(t, vals, sizeof vals);
    const char *device = b->p->device;
    char *args[8] = {"swacl", "tune", "--probe-set", vals, NULL, NULL, NULL, NULL};
    if (device && *device) {
        args[4] = "--device";
        args[5] = (char *)device;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, why_len, "fork failed");
        return -1;
    }
    if (pid == 0) {
        execv(b->p->probe_exe, args);
        _exit(127);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) {
        snprintf(why, why_len, "waitpid failed");
        return -1;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
    if (WIFSIGNALED(status))
        snprintf(why, why_len, "the OpenCL compiler crashed on it (signal %d, in a child)",
                 WTERMSIG(status));
    else if (WEXITSTATUS(status) == PROBE_WRONG)
        snprintf(why, why_len, "wrong result on odd shape (child check)");
    else
        snprintf(why, why_len, "build or run failed (child exit %d)", WEXITSTATUS(status));
    return -1;
}

/* ---- device, buffers, references ---------------------------------------- */

void swacl_tune_bench_close(tbench *b)
{
    if (b->A) clReleaseMemObject(b->A);
    if (b->W) clReleaseMemObject(b->W);
    if (b->C) clReleaseMemObject(b->C);
    if (b->ref)
        for (int i = 0; i <= b->n; i++) free(b->ref[i]);
    free(b->ref);
    free(b->hA);
    free(b->hW);
    free(b->hC);
    if (b->dev) swacl_cl_dev_close(b->dev);
    free(b->dev);
}

swacl_status swacl_tune_bench_open(tbench *b, const char *device)
{
    swacl_ctx *ctx = b->ctx;
    b->sh[b->n] = (tshape){67, 45, 93, 0}; /* odd check-only shape */
    if (device && !strcasecmp(device, "ref"))
        return swacl_set_error(ctx, SWACL_INVALID_ARG,
                               "tune: the CPU reference has no GEMM to tune; pick an OpenCL device");
    b->dev = calloc(1, sizeof *b->dev);
    if (!b->dev) return swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "tune: out of host memory");
    swacl_ctx_params cp = swacl_ctx_params_default();
    cp.device = device;
    swacl_status st = swacl_cl_dev_open(ctx, &cp, b->dev);
    if (st != SWACL_OK) {
        char why[1024];
        snprintf(why, sizeof why, "%.1000s", ctx->errmsg);
        free(b->dev);
        b->dev = NULL;
        return swacl_set_error(ctx, st, "tune: cannot open device: %s", why);
    }
    size_t maxA = 0, maxW = 0, maxC = 0;
    for (int i = 0; i <= b->n; i++) {
        size_t a = (size_t)b->sh[i].M * b->sh[i].K, w = (size_t)b->sh[i].N * b->sh[i].K;
        size_t c = (size_t)b->sh[i].M * b->sh[i].N;
        maxA = a > maxA ? a : maxA;
        maxW = w > maxW ? w : maxW;
        maxC = c > maxC ? c : maxC;
    }
    b->ref = calloc((size_t)b->n + 1, sizeof(float *));
    b->hA = malloc(maxA * sizeof(float));
    b->hW = malloc(maxW * sizeof(float));
    b->hC = malloc(maxC * sizeof(float));
    int ok = b->ref && b->hA && b->hW && b->hC;
    for (int i = 0; ok && i <= b->n; i++)
        ok = (b->ref[i] = malloc((size_t)b->sh[i].M * b->sh[i].N * sizeof(float))) != NULL;
    if (!ok) return swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "tune: out of host memory");
    uint64_t seed = 0x5eed7e57ull;
    swacl_random_uniform(&seed, b->hA, maxA);
    swacl_random_uniform(&seed, b->hW, maxW);
    cl_int err = CL_SUCCESS;
    cl_context c = b->dev->context;
    b->A = clCreateBuffer(c, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, maxA * 4, b->hA, &err);
    if (err == CL_SUCCESS)
        b->W = clCreateBuffer(c, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, maxW * 4, b->hW, &err);
    if (err == CL_SUCCESS) b->C = clCreateBuffer(c, CL_MEM_READ_WRITE, maxC * 4, NULL, &err);
    if (err != CL_SUCCESS)
        return swacl_set_error(ctx, SWACL_OPENCL, "tune: clCreateBuffer failed: %s (%d)",
                               swacl_cl_error_name(err), (int)err);
    swacl_tune_note(b, "tune: reference GEMMs for %d shapes", b->n + 1);
    for (int i = 0; i <= b->n; i++)
        swacl_ref_gemm(b->sh[i].M, b->sh[i].N, b->sh[i].K, b->hA, b->hW, NULL, b->ref[i], 0, 0);
    return SWACL_OK;
}

swacl_status swacl_tune_gemm_probe(swacl_ctx *ctx, const char *device, const char *set)
{
    swacl_tune_params t;
    if (!ctx) return SWACL_INVALID_ARG;
    if (!set || set_parse(set, &t) != 0)
        return swacl_set_error(ctx, SWACL_INVALID_ARG, "tune: invalid --probe-set");
    tbench b;
    memset(&b, 0, sizeof b);
    b.ctx = ctx;
    swacl_status st = swacl_tune_bench_open(&b, device);
    double e = 0;
    if (st == SWACL_OK) st = swacl_tune_override(ctx, b.dev, &t);
    if (st == SWACL_OK) {
        int r = swacl_tune_measure(&b, 0, 0, NULL, &e);
        if (r == -1) st = swacl_set_error(ctx, SWACL_MISMATCH, "tune: wrong result (err %.3g)", e);
        if (r == -2) st = ctx->errmsg[0] ? SWACL_OPENCL : swacl_set_error(ctx, SWACL_OPENCL, "tune: GEMM failed");
    }
    swacl_tune_bench_close(&b);
    return st;
}

