/*
 * cl_internal.h - the OpenCL side of libswacl.
 *
 *   cl_device.c   ICD enumeration (swacl_devices_list), device selection,
 *                 context + in-order queue creation (swacl_cl_dev_open)
 *   cl_program.c  program composition (common.cl + <file>.cl + a generated
 *                 #define header), build with the log on failure, in-memory
 *                 program cache and on-disk binary cache
 *   cl_errors.c   OpenCL/CLBlast error names
 *   cl_backend.c  struct swacl_backend_i for a device: buffers and ops
 *   cl_gemm.c     the only file that includes clblast_c.h
 */
#ifndef SWACL_CL_INTERNAL_H
#define SWACL_CL_INTERNAL_H

#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#include <CL/cl.h>

#include "internal.h"

/* Name of an OpenCL (or CLBlast, whose codes overlap) error: "CL_OUT_OF_RESOURCES". */
const char *swacl_cl_error_name(int err);

/* Run an OpenCL call; on failure record "<call> failed: <NAME> (<code>)" with
 * file:line on ctx and return SWACL_OPENCL (SWACL_OUT_OF_MEMORY for the
 * allocation failures). */
#define SWACL_CL(ctx, call)                                                  \
    do {                                                                     \
        cl_int swacl_cl_err_ = (call);                                       \
        if (swacl_cl_err_ != CL_SUCCESS)                                     \
            return swacl_cl_fail((ctx), swacl_cl_err_, #call, __FILE__, __LINE__); \
    } while (0)
swacl_status swacl_cl_fail(swacl_ctx *ctx, cl_int err, const char *what, const char *file,
                           int line);

/* One compiled program, kept for the life of the device. */
typedef struct {
    char key[512];      /* "<file>|<options>"                                */
    cl_program program;
} swacl_cl_prog_entry;

#define SWACL_CL_MAX_PROGRAMS 64

typedef struct {
    cl_platform_id platform;
    cl_device_id device;
    cl_context context;
    cl_command_queue queue;   /* in-order, profiling enabled                */
    int index;                /* global device index                        */
    swacl_device_info info;
    int is_cpu;               /* CL_DEVICE_TYPE_CPU                          */
    /* program sources and cache */
    char kernel_dir[1024];    /* "" = embedded sources                       */
    char cache_dir[1024];     /* "" = disk cache off                         */
    int verbose;
    swacl_cl_prog_entry progs[SWACL_CL_MAX_PROGRAMS];
    int n_progs;
    double compile_seconds;   /* total time in swacl_cl_program              */
    int cache_hits, cache_misses;
} swacl_cl_dev;

/* Select the device named by p->device (see swacl_ctx_params), create its
 * context and queue, resolve kernel_dir / cache_dir from p and the
 * environment. Errors (unknown device, no OpenCL platform) go to ctx.      */
swacl_status swacl_cl_dev_open(swacl_ctx *ctx, const swacl_ctx_params *p, swacl_cl_dev *dev);
void swacl_cl_dev_close(swacl_cl_dev *dev);

/* Get (build or load) the program for kernels_cl/<file>.cl with extra build
 * options (e.g. "-DHEAD_DIM=64"). The source is a generated header of
 * device defines + kernels_cl/common.cl + kernels_cl/<file>.cl. Cached in
 * memory per (file, options) and on disk keyed by a hash of the source,
 * options, device name, device version, driver version and platform
 * version. A build failure returns SWACL_BUILD with the build log in the
 * ctx message. The program stays owned by dev.                              */
swacl_status swacl_cl_program(swacl_ctx *ctx, swacl_cl_dev *dev, const char *file,
                              const char *options, cl_program *out);

/* GEMM through CLBlast (cl_gemm.c), row-major:
 * C[M,N] = alpha * A[M,K] * op(B) + beta * C, op(B) = B^T when b_trans
 * (B stored [N,K]) else B ([K,N]). Offsets in elements.                    */
swacl_status swacl_cl_sgemm(swacl_ctx *ctx, swacl_cl_dev *dev, int b_trans, int M, int N, int K,
                            float alpha, cl_mem A, size_t a_off, size_t lda, cl_mem B,
                            size_t b_off, size_t ldb, float beta, cl_mem C, size_t c_off,
                            size_t ldc);

#endif /* SWACL_CL_INTERNAL_H */
