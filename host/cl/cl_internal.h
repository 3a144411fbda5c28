/*
 * cl_internal.h - the OpenCL side of libswacl.
 *
 *   cl_device.c   ICD enumeration (swacl_devices_list), device selection,
 *                 context + in-order queue creation (swacl_cl_dev_open)
 *   cl_program.c  program composition (common.cl + <file>.cl + a generated
 *                 #define header), build with the log on failure, in-memory
 *                 program cache and on-disk binary cache
 *   cl_errors.c   OpenCL/CLBlast error names
 *   cl_backend.c  struct swacl_backend_i for a device: buffers, kernel
 *                 table, scratch uploads, transfers (cl_ops.h)
 *   <op>.c        one launcher per op, named like kernels_cl/<op>.cl and
 *                 host/ref/<op>.c: matmul, norm, rope, attn, act, add,
 *                 scale, embed, kv_store (cl_ops.h)
 *   cl_params.c   kernel variants and launch shapes per device class, with
 *                 the overrides of swacl_ctx_params.kernels (cl_params.h)
 *   cl_gemm.c     CLBlast SGEMM (with cl_tune.c the only users of clblast_c.h)
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

#define SWACL_CL_MAX_PROGRAMS 128 /* attention builds per head_dim, variant, softcap */

typedef struct {
    cl_platform_id platform;
    cl_device_id device;
    cl_context context;
    cl_command_queue queue;   /* in-order, profiling enabled                */
    int index;                /* global device index                        */
    swacl_device_info info;
    int is_cpu;               /* CL_DEVICE_TYPE_CPU                          */
    int shared;               /* context shared with other devices/queues    */
    int sub_device;           /* "N.K": device is a sub-device we release    */
    /* program sources and cache */
    char kernel_dir[1024];    /* "" = embedded sources                       */
    char cache_dir[1024];     /* "" = disk cache off                         */
    int verbose;
    swacl_cl_prog_entry progs[SWACL_CL_MAX_PROGRAMS];
    int n_progs;
    double compile_seconds;   /* total time in swacl_cl_program              */
    int cache_hits, cache_misses;
    cl_mem gemm_tmp;          /* CLBlast's GEMM temporary, reused (cl_gemm.c) */
    size_t gemm_tmp_bytes;
} swacl_cl_dev;

/* Select the device named by p->device (see swacl_ctx_params), create its
 * context and queue, resolve kernel_dir / cache_dir from p and the
 * environment. Errors (unknown device, no OpenCL platform) go to ctx.      */
swacl_status swacl_cl_dev_open(swacl_ctx *ctx, const swacl_ctx_params *p, swacl_cl_dev *dev);
/* The same, joining share's context when it holds the device (NULL share:
 * a context of its own). */
swacl_status swacl_cl_dev_open_shared(swacl_ctx *ctx, const swacl_ctx_params *p,
                                      const swacl_share *share, swacl_cl_dev *dev);
void swacl_cl_dev_close(swacl_cl_dev *dev);
/* Remove stale temp files of killed cache writers in dir ("*.bin.tmp.<pid>[.x]",
 * "*.json.tmp.<pid>"): the writer's pid is gone, or older than max_age_s.
 * Called when a device opens its cache dir; returns the number removed. */
int swacl_cl_cache_sweep(const char *dir, double max_age_s, int verbose);
#define SWACL_CACHE_TMP_MAX_AGE_S 600.0

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

/* ---- GEMM tuning (cl_tune.c; searched by host/tune/tune_gemm.c) ---------
 * cl_tune.c also includes clblast_c.h (for CLBlastOverrideParameters).
 * The parameter set, its constraints and the tune file parser live in
 * cl_tune_file.h/.c, free of OpenCL (the fuzzer links them alone).       */
#include "cl/cl_tune_file.h"
struct cJSON;
/* CLBlastOverrideParameters for all three entries (next GEMM recompiles). */
swacl_status swacl_tune_override(swacl_ctx *ctx, swacl_cl_dev *dev, const swacl_tune_params *t);
/* 0 when got matches ref (n values, inner size K), -1 otherwise (NaN too);
 * max relative error and the first bad (or worst) index when non-NULL.    */
int swacl_tune_check(const float *got, const float *ref, size_t n, int K, double *max_err,
                     size_t *bad_index);
/* Tune file: <cache_dir>/gemm-tune-<name>-<hash(name, driver, version)>.json */
int swacl_tune_path(const swacl_cl_dev *dev, char *path, size_t len);
/* The same name with another prefix ("gemm-own": cl_tune_own.c). */
int swacl_tune_path_named(const swacl_cl_dev *dev, const char *prefix, char *path, size_t len);
/* A tune file's start, shared by both files: its path (prefix as above) in
 * path, the cache dir created, and a root object holding format and the
 * device's name / driver / version in *root.                           */
swacl_status swacl_tune_file_begin(swacl_ctx *ctx, const swacl_cl_dev *dev, const char *prefix,
                                   const char *format, char *path, size_t len,
                                   struct cJSON **root);
/* Write root (consumed) to path via a renamed temporary file; *path_out = path. */
swacl_status swacl_tune_write_json(swacl_ctx *ctx, struct cJSON *root, const char *path,
                                   char *path_out, size_t path_len);
/* Parse/load a tune file for dev (dev NULL: no device match/limits);
 * 0 ok, -1 with the reason in why. Never crashes on bad input.            */
int swacl_tune_parse(const swacl_cl_dev *dev, const char *text, swacl_tune_params *out,
                     char *why, size_t why_len);
int swacl_tune_load(const swacl_cl_dev *dev, const char *path, swacl_tune_params *out, char *why,
                    size_t why_len);
/* Write the tune file (extra: optional object stored as "measured").      */
swacl_status swacl_tune_save(swacl_ctx *ctx, const swacl_cl_dev *dev, const swacl_tune_params *t,
                             struct cJSON *extra, char *path_out, size_t path_len);
/* Backend-creation hook: apply dev's tune file if there is a valid one
 * (SWACL_GEMM_TUNE=off skips it). Returns 1 when applied; never fails.    */
int swacl_cl_tune_apply(swacl_ctx *ctx, swacl_cl_dev *dev);

/* The device of an OpenCL backend (NULL for any other backend): for tools
 * that run their own programs on a context's queue (bench probes, tune). */
swacl_cl_dev *swacl_cl_backend_dev(swacl_backend *base);

#endif /* SWACL_CL_INTERNAL_H */
