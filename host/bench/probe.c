/*
 * probe.c - what a device can do at best: clpeak-style FMA and copy peaks
 * run on the context's own queue (kernels_cl/probe.cl), and OpenBLAS sgemm
 * as the host CPU's practical peak. Probes take the best of three timed
 * launches (as clpeak does) after calibrating the work to a target time.
 */
#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_internal.h"
#include "cl/cl_internal.h"

swacl_status swacl_bench_device_info(swacl_ctx *ctx, swacl_device_info *out)
{
    if (!ctx || !out) return swacl_set_error(ctx, SWACL_INVALID_ARG, "bench: NULL argument");
    memset(out, 0, sizeof *out);
    if (ctx->is_ref) {
        snprintf(out->name, sizeof out->name, "%s", ctx->device_name);
        snprintf(out->type, sizeof out->type, "reference");
        return SWACL_OK;
    }
    swacl_cl_dev *dev = swacl_cl_backend_dev(ctx->be);
    if (!dev) return swacl_set_error(ctx, SWACL_INVALID_ARG, "bench: context has no device");
    *out = dev->info;
    return SWACL_OK;
}

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
    float a = 0.9f; /* kernels_cl/probe.cl: m = 0.75 a keeps the chains bounded */
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
        double best = t;
        for (int i = 0; i < 2; i++) {
            SWACL_TRY_GOTO(st, probe_launch(ctx, dev, k, global, local, 1, &t), done);
            if (t < best) best = t;
        }
        /* 16 chain steps of `width` lanes per iteration, 2 FLOPs per FMA */
        *gflops = (double)global * iters * 16.0 * 2.0 * width / best / 1e9;
    }
done:
    clReleaseMemObject(out);
    clReleaseKernel(k);
    return st;
}

/* Bytes/s of kernel `name` streaming over `bytes`: `per_item` float4s per
 * work-item; in place (one buffer) or a copy (two). */
static swacl_status probe_stream(swacl_ctx *ctx, swacl_cl_dev *dev, cl_program prog,
                                 const char *name, int per_item, int in_place, size_t bytes,
                                 double target_s, double *gbps)
{
    cl_int err = CL_SUCCESS;
    cl_kernel k = clCreateKernel(prog, name, &err);
    if (err != CL_SUCCESS) return swacl_cl_fail(ctx, err, "clCreateKernel", __FILE__, __LINE__);
    swacl_status st = SWACL_OK;
    cl_mem in = clCreateBuffer(dev->context, CL_MEM_READ_WRITE, bytes, NULL, &err);
    cl_mem out = NULL;
    if (err == CL_SUCCESS && !in_place)
        out = clCreateBuffer(dev->context, CL_MEM_READ_WRITE, bytes, NULL, &err);
    if (err != CL_SUCCESS) {
        st = swacl_cl_fail(ctx, err, "clCreateBuffer", __FILE__, __LINE__);
        goto done;
    }
    float zero = 0.0f;
    if ((err = clEnqueueFillBuffer(dev->queue, in, &zero, sizeof zero, 0, bytes, 0, NULL,
                                   NULL)) != CL_SUCCESS ||
        (err = clSetKernelArg(k, 0, sizeof in, &in)) != CL_SUCCESS ||
        (!in_place && (err = clSetKernelArg(k, 1, sizeof out, &out)) != CL_SUCCESS)) {
        st = swacl_cl_fail(ctx, err, "clSetKernelArg", __FILE__, __LINE__);
        goto done;
    }
    size_t items = bytes / (16 * (size_t)per_item);
    size_t local = dev->info.max_work_group_size >= 64 ? 64 : dev->info.max_work_group_size;
    if (per_item > 1 && local > 8) local = 8; /* 8 x 1 KiB per group, as the kernels */
    items = items / local * local;
    double t = 0.0;
    SWACL_TRY_GOTO(st, probe_launch(ctx, dev, k, items, local, 1, &t), done); /* warm-up */
    SWACL_TRY_GOTO(st, probe_launch(ctx, dev, k, items, local, 1, &t), done);
    int times = t > 1e-6 ? (int)(target_s / t) : 10;
    if (times < 2) times = 2;
    if (times > 1000) times = 1000;
    double best = 1e30;
    for (int i = 0; i < 3; i++) {
        SWACL_TRY_GOTO(st, probe_launch(ctx, dev, k, items, local, times, &t), done);
        if (t / times < best) best = t / times;
    }
    *gbps = 2.0 * 16.0 * per_item * (double)items / best / 1e9; /* read + write */
done:
    if (in) clReleaseMemObject(in);
    if (out) clReleaseMemObject(out);
    clReleaseKernel(k);
    return st;
}

swacl_status swacl_device_probe(swacl_ctx *ctx, const swacl_probe_params *params,
                                swacl_probe_result *out)
{
    if (!ctx || !out) return swacl_set_error(ctx, SWACL_INVALID_ARG, "probe: NULL argument");
    memset(out, 0, sizeof *out);
    swacl_cl_dev *dev = ctx->is_ref ? NULL : swacl_cl_backend_dev(ctx->be);
    if (!dev)
        return swacl_set_error(ctx, SWACL_UNSUPPORTED,
                               "probe: needs an OpenCL device (this context runs %s)",
                               ctx->is_ref ? "the CPU reference" : "no backend");
    double target = params && params->target_s > 0 ? params->target_s : 0.3;
    size_t bytes = params && params->copy_bytes ? params->copy_bytes : (size_t)256 << 20;
    if (dev->info.max_alloc_bytes && bytes > dev->info.max_alloc_bytes)
        bytes = (size_t)dev->info.max_alloc_bytes;
    if (dev->info.global_mem_bytes && bytes > dev->info.global_mem_bytes / 4)
        bytes = (size_t)(dev->info.global_mem_bytes / 4);
    bytes &= ~(size_t)0xFFFF; /* whole work-groups of float4 */
    if (bytes == 0)
        return swacl_set_error(ctx, SWACL_INVALID_ARG, "probe: copy buffer under 64 KiB");
    cl_program prog;
    SWACL_TRY(swacl_cl_program(ctx, dev, "probe", "", &prog));
    SWACL_TRY(probe_fma(ctx, dev, prog, "probe_fma4", 4, target, &out->fma4_gflops));
    SWACL_TRY(probe_fma(ctx, dev, prog, "probe_fma8", 8, target, &out->fma8_gflops));
    out->fma_gflops = out->fma4_gflops > out->fma8_gflops ? out->fma4_gflops : out->fma8_gflops;
    out->copy_bytes = bytes;
    /* copy: the better of one float4 and 64 floats per work-item */
    double c4 = 0.0, c64 = 0.0;
    SWACL_TRY(probe_stream(ctx, dev, prog, "probe_copy4", 1, 0, bytes, target, &c4));
    SWACL_TRY(probe_stream(ctx, dev, prog, "probe_copy64", 16, 0, bytes, target, &c64));
    out->copy_gbps = c4 > c64 ? c4 : c64;
    SWACL_TRY(probe_stream(ctx, dev, prog, "probe_update64", 16, 1, bytes, target,
                           &out->update_gbps));
    out->mem_gbps = out->copy_gbps > out->update_gbps ? out->copy_gbps : out->update_gbps;
    return SWACL_OK;
}

swacl_status swacl_bench_host_sgemm(swacl_ctx *ctx, int n, double target_s, double *gflops)
{
    if (!gflops || n < 1 || n > 16384)
        return swacl_set_error(ctx, SWACL_INVALID_ARG, "host sgemm: n must be in [1, 16384]");
    *gflops = 0.0;
    size_t nn = (size_t)n * (size_t)n;
    float *a = malloc(nn * sizeof *a), *b = malloc(nn * sizeof *b), *c = malloc(nn * sizeof *c);
    swacl_status st = SWACL_OK;
    double *ts = NULL;
    if (!a || !b || !c) {
        st = swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "host sgemm: out of host memory");
        goto done;
    }
    swacl_rng r = {12345};
    for (size_t i = 0; i < nn; i++) {
        a[i] = swacl_rng_uniform(&r);
        b[i] = swacl_rng_uniform(&r);
    }
    /* warm-up (starts OpenBLAS's thread pool), then one run to size the repeats */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
    double t0 = swacl_now();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
    double t1 = swacl_now() - t0;
    int reps = t1 > 0 ? (int)(target_s / t1) : 10;
    if (reps < 3) reps = 3;
    if (reps > 200) reps = 200;
    ts = malloc((size_t)reps * sizeof *ts);
    if (!ts) {
        st = swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "host sgemm: out of host memory");
        goto done;
    }
    for (int i = 0; i < reps; i++) {
        t0 = swacl_now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c,
                    n);
        ts[i] = swacl_now() - t0;
    }
    *gflops = 2.0 * n * (double)n * n / swacl_bench_median(ts, reps) / 1e9;
done:
    free(ts);
    free(a);
    free(b);
    free(c);
    return st;
}
