/*
 * cl_params.h - kernel variants and launch shapes as data: a table of rows
 * keyed by device class (cl_params.c), one picked per device at backend
 * creation, with the typed overrides of swacl_ctx_params.kernels applied.
 * No OpenCL types: rows match on swacl_device_info (type and vendor).
 */
#ifndef SWACL_CL_PARAMS_H
#define SWACL_CL_PARAMS_H

#include "internal.h"

/* Range checks of the overrides, device-independent (0 = table value):
 * SWACL_INVALID_ARG naming the field ("kernels.attn_blk_qb ..."). Called
 * by swacl_ctx_create for every backend. */
swacl_status swacl_kernel_params_check(swacl_ctx *ctx, const swacl_kernel_params *k);

/* The table row for info (never NULL: the last row matches any device),
 * its name ("cpu", "gpu", "other") in *row_name when non-NULL. */
const swacl_kernel_params *swacl_kernel_params_row(const swacl_device_info *info,
                                                   const char **row_name);

/* *out = the row for info with the non-zero fields of over applied, then
 * checked against the device's limits (work-group size, local memory):
 * SWACL_INVALID_ARG naming the field when over asks for more. over may
 * be NULL. out has no AUTO and no zero field. */
swacl_status swacl_kernel_params_resolve(swacl_ctx *ctx, const swacl_device_info *info,
                                         const swacl_kernel_params *over, swacl_kernel_params *out,
                                         const char **row_name);

/* Decode GEMV launch shape (the gemv_* kernels of kernels_cl/matmul.cl),
 * per device class like the rows above; kept out of swacl_kernel_params,
 * whose layout is released. */
typedef struct {
    int f32_rows; /* W rows per work-item of gemv_f32_r<R>: 1, 2, 4 or 8 */
    int lx;       /* local size of every gemv kernel                     */
} swacl_gemv_params;
const swacl_gemv_params *swacl_gemv_params_row(const swacl_device_info *info);

/* Force an OpenCL backend's gemv_f32_r<R> (rows 1, 2, 4 or 8; the table's
 * choice otherwise), so tests run every version on any device; another
 * backend or another value: SWACL_INVALID_ARG (no message). */
swacl_status swacl_cl_backend_force_gemv_rows(swacl_backend *be, int rows);

/* The resolved parameters of an OpenCL backend (NULL for any other). */
const swacl_kernel_params *swacl_cl_backend_kernel_params(const swacl_backend *be);

/* Head dims the OpenCL attention kernels are built for: multiples of 4
 * from 4 to 256 (kernels_cl/attn.cl, -DHEAD_DIM). */
#define SWACL_CL_HEAD_DIM_MIN 4
#define SWACL_CL_HEAD_DIM_MAX 256
static inline int swacl_cl_head_dim_ok(int d)
{
    return d >= SWACL_CL_HEAD_DIM_MIN && d <= SWACL_CL_HEAD_DIM_MAX && d % 4 == 0;
}

/* Shape rules by head_dim d (the table gives the values at d <= 128):
 * TILED keys per local-memory tile: attn_bk for d <= 64, attn_bk_d128 for
 * 64 < d <= 128, past 128 attn_bk_d128 * 128 / d (the two tiles keep the
 * d = 128 footprint), then at most what fits local_mem_bytes (0: unknown).
 * BLK query slots per work-item: attn_blk_qb, at most 4 past d = 128 (q
 * and O stay at 2 * 4 * 256 floats of private memory; PoCL, L 4096 W 512
 * d 256: QB 4 0.72 of sgemm, QB 2 0.55). */
int swacl_attn_tiled_bk(const swacl_kernel_params *kp, int d, uint64_t local_mem_bytes);
int swacl_attn_blk_qb(const swacl_kernel_params *kp, int d);

/* The prefill GEMM (M > GEMV_MAXM rows) per device class: swacl's own
 * kernel (kernels_cl/gemm.cl) or CLBlast SGEMM, and the own kernel's
 * launch shape. Internal (not in swacl_kernel_params, whose layout is
 * released); `swacl tune` reports it (cl_params.c has the measurements). */
typedef enum {
    SWACL_GEMM_KERN_MK = 0, /* gemm.cl: pack + register micro-kernel (CPUs) */
    SWACL_GEMM_KERN_LM = 1  /* gemm_lm.cl: local-memory tiles (GPUs)        */
} swacl_gemm_kern;

typedef struct {
    int own_f32;    /* 1: own kernel for float32 W, 0: CLBlast          */
    int own_packed; /* 1: own kernel for f16/bf16/q8_0/q4_0 W (one pass
                       decode + pack), 0: dequant panels + CLBlast      */
    int mr;         /* rows of y per work-item (-DGEMM_MR, 1..12; 1..24 at vw 16) */
    int vw;         /* accumulator width (-DGEMM_VW): 8 = two float8 per
                       row of 16 columns, 16 = one float16 (0: 8)        */
    int lx;         /* work-items per group along M                      */
    int kc;         /* K block per launch (0: all of K)                  */
    int mc;         /* M rows per launch (0: all of M): keeps the x block
                       (mc x kc floats) cache-resident while the panel's
                       micro-panels cycle over it                        */
    int mc_min_m;   /* M blocks only when M >= mc_min_m (0: at any M);
                       `swacl tune --own` picks mc and this per M class,
                       so a file tuned on small M keeps large M blocked */
    long long min_mnk; /* shape class: M*N*K below this goes to CLBlast  */
    int kern;       /* swacl_gemm_kern: which own kernel                */
    int lm_ts;      /* LM: tile of y per work-group (LM_TS x LM_TS)     */
    int lm_wpt;     /* LM: rows and columns per work-item (divides ts)  */
    int test_drop_k; /* tests only (0 otherwise): the LM kernel sums K -
                        test_drop_k terms, a deliberately wrong candidate
                        the tuner must reject                           */
} swacl_gemm_params;

/* 1 when gemm_lm.cl's tile (ts, wpt) is valid and fits a device with
 * max_wg work-items per group and local_mem bytes (0: no limit). */
int swacl_gemm_lm_fits(int ts, int wpt, size_t max_wg, uint64_t local_mem);

/* The GEMM row for info (same matching as swacl_kernel_params_row). */
const swacl_gemm_params *swacl_gemm_params_row(const swacl_device_info *info);

/* The GEMM choice an OpenCL backend runs with (NULL for any other), to
 * read or change: the bench and the tests compare both paths on one
 * backend, `swacl tune` validates the row. */
swacl_gemm_params *swacl_cl_backend_gemm_params(swacl_backend *be);

/* "tiled", "row", "blk" / "row", "wg" ("auto" for AUTO, "?" otherwise). */
const char *swacl_attn_kernel_name(swacl_attn_kernel k);
const char *swacl_norm_kernel_name(swacl_norm_kernel k);

#endif /* SWACL_CL_PARAMS_H */
