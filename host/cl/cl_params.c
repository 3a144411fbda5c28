/*
 * cl_params.c - the per-device-class parameter table of the OpenCL kernels
 * (in the manner of CLBlast's database: rows keyed by device type and
 * vendor, the first match wins, the last row matches everything).
 *
 * Why the rows say what they say (measured on PoCL 3.1, 2 shared cores;
 * kernels_cl/attn.cl and norm.cl keep the full tables):
 *   cpu  attention attn_fwd_blk (v5): explicit float8, register-blocked,
 *        barrier-free, 4-6x the other versions (QB=4, KT=32, local 1 best;
 *        QB=8 and KT=16/64 slower). Norm norm_row: one work-item per row;
 *        PoCL's per-barrier cost makes norm_wg 1.4-2.3x slower.
 *        BQ 16 / BK 32 for the tiled kernel if forced: small barrier groups.
 *   gpu  attention attn_fwd (v2): K/V tiles shared through local memory by
 *        BQ = 32 queries; BK 16 at head_dim 128 keeps the two tiles at
 *        2 * 16 * 128 * 4 B = 16 KiB of local memory (and past 128 the
 *        rule swacl_attn_tiled_bk scales BK by 128 / d to keep it there).
 *        Norm norm_wg: a 64-item tree reduction per row.
 *   other (accelerators, unknown types): the GPU row.
 * GEMM (swacl_gemm_params, prefill M > 8): cpu runs the own kernel
 *   (kernels_cl/gemm.cl) for every weight type: 0.58-1.12x OpenBLAS sgemm
 *   on the 168M shapes vs CLBlast's 0.11-0.15x in the same run (docs/PERF.md
 *   3.1); MR 6 beat 8 and 12, K block 256 ~ all of K (noise), local 1 as
 *   attn_fwd_blk; M blocks of 512 at any M (mc_min_m 0; 8192 rows: 0.4x ->
 *   0.6-0.8x OpenBLAS; 256 / 1024 and 4 M tiles per work-item measured
 *   slower in gemm_mk cycles vs OpenBLAS's, bench/README.md). gpu / other: CLBlast (the own kernel is unmeasured there).
 * Decode GEMVs (k_gemv_rows; kernels_cl/matmul.cl has the measurements):
 *   cpu  f32 8 W rows per work-item (15-17.5 GB of W per CPU-second,
 *        streaming-read speed; 1 row: 11-14), 16 work-items per group
 *        (1..64 within noise; 16 keeps N = 256 at two groups for 2 cores).
 *   gpu  one row per work-item, 64 per group (not measured here).
 *   other one row per work-item, 16 per group (as v1 ran everywhere).
 * A new row goes before "other"; vendor is a case-insensitive substring of
 * CL_DEVICE_VENDOR (NULL: any).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cl/cl_params.h"

typedef struct {
    const char *name;
    const char *type;   /* swacl_device_info.type: "cpu", "gpu", ... (NULL: any) */
    const char *vendor; /* substring of swacl_device_info.vendor (NULL: any)      */
    swacl_kernel_params k;
    swacl_gemm_params g;
} kp_row;

static const kp_row k_rows[] = {
    {"cpu",
     "cpu",
     NULL,
     {.attn = SWACL_ATTN_KERNEL_BLK,
      .norm = SWACL_NORM_KERNEL_ROW,
      .attn_bq = 16,
      .attn_bk = 32,
      .attn_bk_d128 = 32,
      .attn_row_lx = 8,
      .attn_blk_qb = 4,
      .attn_blk_kt = 32,
      .attn_blk_lx = 1,
      .norm_wg_lx = 64,
      .norm_row_lx = 8},
     /* kc 512: one session on a quiet machine (bench/README.md) put every
      * prefill cell at 0.77-1.06x OpenBLAS, vs 0.55-1.0x at kc 256, whose
      * 512-row down projection (11 K blocks) dipped under 0.6x */
     {.own_f32 = 1, .own_packed = 1, .mr = 6, .lx = 1, .kc = 512, .mc = 512, .min_mnk = 0,
      .kern = SWACL_GEMM_KERN_MK, .lm_ts = 32, .lm_wpt = 4}},
    {"gpu",
     "gpu",
     NULL,
     {.attn = SWACL_ATTN_KERNEL_TILED,
      .norm = SWACL_NORM_KERNEL_WG,
      .attn_bq = 32,
      .attn_bk = 32,
      .attn_bk_d128 = 16,
      .attn_row_lx = 8,
      .attn_blk_qb = 4,
      .attn_blk_kt = 32,
      .attn_blk_lx = 1,
      .norm_wg_lx = 64,
      .norm_row_lx = 8},
     /* unmeasured on GPUs: CLBlast, whose database is tuned for them; the
      * own choice there is the local-memory kernel (gemm_lm.cl), 64 x 64
      * tiles of 4 x 4 per work-item (256 items, 8.3 KiB of local memory),
      * for `swacl tune` to try against CLBlast on the device */
     {.own_f32 = 0, .own_packed = 0, .mr = 6, .lx = 8, .kc = 0, .min_mnk = 0,
      .kern = SWACL_GEMM_KERN_LM, .lm_ts = 64, .lm_wpt = 4}},
    {"other",
     NULL,
     NULL,
     {.attn = SWACL_ATTN_KERNEL_TILED,
      .norm = SWACL_NORM_KERNEL_WG,
      .attn_bq = 32,
      .attn_bk = 32,
      .attn_bk_d128 = 16,
      .attn_row_lx = 8,
      .attn_blk_qb = 4,
      .attn_blk_kt = 32,
      .attn_blk_lx = 1,
      .norm_wg_lx = 64,
      .norm_row_lx = 8},
     {.own_f32 = 0, .own_packed = 0, .mr = 6, .lx = 8, .kc = 0, .min_mnk = 0,
      .kern = SWACL_GEMM_KERN_LM, .lm_ts = 32, .lm_wpt = 2}},
};

typedef struct {
    const char *type; /* as kp_row.type (NULL: any) */
    swacl_gemv_params g;
} gemv_row;

static const gemv_row k_gemv_rows[] = {
    {"cpu", {.f32_rows = 8, .lx = 16}},
    {"gpu", {.f32_rows = 1, .lx = 64}},
    {NULL, {.f32_rows = 1, .lx = 16}},
};

const swacl_gemv_params *swacl_gemv_params_row(const swacl_device_info *info)
{
    const size_t n = sizeof k_gemv_rows / sizeof k_gemv_rows[0];
    for (size_t i = 0; i + 1 < n; i++)
        if (info && strcasecmp(info->type, k_gemv_rows[i].type) == 0) return &k_gemv_rows[i].g;
    return &k_gemv_rows[n - 1].g;
}

const char *swacl_attn_kernel_name(swacl_attn_kernel k)
{
    switch (k) {
    case SWACL_ATTN_KERNEL_AUTO: return "auto";
    case SWACL_ATTN_KERNEL_TILED: return "tiled";
    case SWACL_ATTN_KERNEL_ROW: return "row";
    case SWACL_ATTN_KERNEL_BLK: return "blk";
    }
    return "?";
}

const char *swacl_norm_kernel_name(swacl_norm_kernel k)
{
    switch (k) {
    case SWACL_NORM_KERNEL_AUTO: return "auto";
    case SWACL_NORM_KERNEL_ROW: return "row";
    case SWACL_NORM_KERNEL_WG: return "wg";
    }
    return "?";
}

int swacl_attn_tiled_bk(const swacl_kernel_params *kp, int d, uint64_t local_mem_bytes)
{
    int bk = d <= 64 ? kp->attn_bk : kp->attn_bk_d128;
    if (d > 128) bk = bk * 128 / d;
    /* Ks + Vs: 2 * bk * d floats */
    uint64_t fit = local_mem_bytes / (2ull * (uint64_t)d * sizeof(float));
    if (local_mem_bytes && (uint64_t)bk > fit) bk = (int)fit;
    return bk < 1 ? 1 : bk;
}

int swacl_attn_blk_qb(const swacl_kernel_params *kp, int d)
{
    int qb = kp->attn_blk_qb;
    return d > 128 && qb > 4 ? 4 : qb;
}

/* Case-insensitive substring. */
static int ci_contains(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0) return 1;
    return n == 0;
}

static const kp_row *row_for(const swacl_device_info *info)
{
    const size_t n = sizeof k_rows / sizeof k_rows[0];
    for (size_t i = 0; i < n; i++) {
        const kp_row *c = &k_rows[i];
        if (c->type && (!info || strcasecmp(info->type, c->type) != 0)) continue;
        if (c->vendor && (!info || !ci_contains(info->vendor, c->vendor))) continue;
        return c;
    }
    return &k_rows[n - 1];
}

const swacl_gemm_params *swacl_gemm_params_row(const swacl_device_info *info)
{
    return &row_for(info)->g;
}

const swacl_kernel_params *swacl_kernel_params_row(const swacl_device_info *info,
                                                   const char **row_name)
{
    const kp_row *r = row_for(info);
    if (row_name) *row_name = r->name;
    return &r->k;
}

/* One integer field: 0 (table) or within [lo, hi]. */
#define KP_RANGE(ctx, k, field, lo, hi)                                                            \
    SWACL_FAIL_IF(ctx, (k)->field != 0 && ((k)->field < (lo) || (k)->field > (hi)),                \
                  SWACL_INVALID_ARG,                                                               \
                  "kernels." #field " = %d: must be 0 (the device default) or %d..%d", (k)->field, \
                  (lo), (hi))

swacl_status swacl_kernel_params_check(swacl_ctx *ctx, const swacl_kernel_params *k)
{
    if (!k) return SWACL_OK;
    /* (int): a caller may store any int in an enum field */
    SWACL_FAIL_IF(
        ctx, (int)k->attn < 0 || (int)k->attn > (int)SWACL_ATTN_KERNEL_BLK, SWACL_INVALID_ARG,
        "kernels.attn = %d: not a swacl_attn_kernel (AUTO, TILED, ROW or BLK)", (int)k->attn);
    SWACL_FAIL_IF(ctx, (int)k->norm < 0 || (int)k->norm > (int)SWACL_NORM_KERNEL_WG,
                  SWACL_INVALID_ARG, "kernels.norm = %d: not a swacl_norm_kernel (AUTO, ROW or WG)",
                  (int)k->norm);
    KP_RANGE(ctx, k, attn_bq, 1, 256);
    KP_RANGE(ctx, k, attn_bk, 1, 128);
    KP_RANGE(ctx, k, attn_bk_d128, 1, 128);
    KP_RANGE(ctx, k, attn_row_lx, 1, 256);
    KP_RANGE(ctx, k, attn_blk_qb, 2, 16);
    SWACL_FAIL_IF(ctx, k->attn_blk_qb % 2, SWACL_INVALID_ARG,
                  "kernels.attn_blk_qb = %d: must be even", k->attn_blk_qb);
    KP_RANGE(ctx, k, attn_blk_kt, 8, 128);
    SWACL_FAIL_IF(ctx, k->attn_blk_kt % 8, SWACL_INVALID_ARG,
                  "kernels.attn_blk_kt = %d: must be a multiple of 8", k->attn_blk_kt);
    KP_RANGE(ctx, k, attn_blk_lx, 1, 64);
    KP_RANGE(ctx, k, norm_wg_lx, 1, 1024);
    SWACL_FAIL_IF(ctx, k->norm_wg_lx & (k->norm_wg_lx - 1), SWACL_INVALID_ARG,
                  "kernels.norm_wg_lx = %d: must be a power of two (tree reduction)",
                  k->norm_wg_lx);
    KP_RANGE(ctx, k, norm_row_lx, 1, 256);
    return SWACL_OK;
}

/* An overridden work-group size field against the device's maximum (the
 * table's own values are not second-guessed). */
#define KP_WG(ctx, over, out, field, info)                                                         \
    SWACL_FAIL_IF(ctx,                                                                             \
                  (over)->field && (info)->max_work_group_size &&                                  \
                      (size_t)(out)->field > (info)->max_work_group_size,                          \
                  SWACL_INVALID_ARG,                                                               \
                  "kernels." #field " = %d exceeds the device's maximum work-group size %zu",      \
                  (out)->field, (info)->max_work_group_size)

swacl_status swacl_kernel_params_resolve(swacl_ctx *ctx, const swacl_device_info *info,
                                         const swacl_kernel_params *over, swacl_kernel_params *out,
                                         const char **row_name)
{
    SWACL_TRY(swacl_kernel_params_check(ctx, over));
    *out = *swacl_kernel_params_row(info, row_name);
    if (over) {
        if (over->attn) out->attn = over->attn;
        if (over->norm) out->norm = over->norm;
#define KP_SET(field)                                                                              \
    do {                                                                                           \
        if (over->field) out->field = over->field;                                                 \
    } while (0)
        KP_SET(attn_bq);
        KP_SET(attn_bk);
        KP_SET(attn_bk_d128);
        KP_SET(attn_row_lx);
        KP_SET(attn_blk_qb);
        KP_SET(attn_blk_kt);
        KP_SET(attn_blk_lx);
        KP_SET(norm_wg_lx);
        KP_SET(norm_row_lx);
#undef KP_SET
    }
    if (!info || !over) return SWACL_OK;
    KP_WG(ctx, over, out, attn_bq, info);
    KP_WG(ctx, over, out, attn_row_lx, info);
    KP_WG(ctx, over, out, attn_blk_lx, info);
    KP_WG(ctx, over, out, norm_wg_lx, info);
    KP_WG(ctx, over, out, norm_row_lx, info);
    /* the tiled kernel stages one K and one V tile of BK rows of head_dim
     * floats in local memory */
    const uint64_t lm = info->local_mem_bytes;
    SWACL_FAIL_IF(ctx, over->attn_bk && lm && 2ull * out->attn_bk * 64 * sizeof(float) > lm,
                  SWACL_INVALID_ARG,
                  "kernels.attn_bk = %d: two tiles of %d x 64 floats exceed the device's %llu "
                  "bytes of local memory",
                  out->attn_bk, out->attn_bk, (unsigned long long)lm);
    SWACL_FAIL_IF(ctx,
                  over->attn_bk_d128 && lm && 2ull * out->attn_bk_d128 * 128 * sizeof(float) > lm,
                  SWACL_INVALID_ARG,
                  "kernels.attn_bk_d128 = %d: two tiles of %d x 128 floats exceed the device's "
                  "%llu bytes of local memory",
                  out->attn_bk_d128, out->attn_bk_d128, (unsigned long long)lm);
    return SWACL_OK;
}
