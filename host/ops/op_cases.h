/*
 * op_cases.h - the one table of op cases (internal, not public API) and the
 * runner that executes a case on a backend.
 *
 * Each row names one op call with its shapes, the tolerance its output must
 * meet against the reference backend, the kernel variants it is checked
 * under and where it is used: tests/test_ops.c runs every SWACL_OPC_TEST
 * row on the device and on "ref" and compares; the kernel benchmark times
 * the SWACL_OPC_BENCH (full) or SWACL_OPC_BENCH_QUICK rows with the same
 * runner. Adding an op test = adding a row to op_cases.c (docs/OPS.md).
 */
#ifndef SWACL_OP_CASES_H
#define SWACL_OP_CASES_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

typedef enum {
    SWACL_OP_ATTENTION = 0,
    SWACL_OP_MATMUL,
    SWACL_OP_NORM,
    SWACL_OP_ROPE,
    SWACL_OP_ACT, /* swiglu / gelu                                           */
    SWACL_OP_ADD,
    SWACL_OP_SCALE,
    SWACL_OP_EMBED,
    SWACL_OP_GATHER_ROWS,
    SWACL_OP_KV_STORE,
    SWACL_OP_SOFTCAP, /* y = cap * tanh(y / cap) in place                 */
    SWACL_OP_MATMUL_MULTI, /* q/k/v of one x: 2 or 3 products, one output each */
    SWACL_OP_MATMUL_GLU,   /* act(x wg^T, x wu^T)                           */
    SWACL_OP_KIND_COUNT
} swacl_op_kind;

/* "attention", "matmul", ... ("?" out of range). */
const char *swacl_op_kind_name(swacl_op_kind k);

/* Where a row is used (the `use` column, a bit set). */
enum {
    SWACL_OPC_TEST = 1u << 0,        /* tests/test_ops.c: device vs ref       */
    SWACL_OPC_BENCH = 1u << 1,       /* kernel benchmark, full run            */
    SWACL_OPC_BENCH_QUICK = 1u << 2  /* kernel benchmark, --quick / on ref    */
};

/* Kernel variants a row is checked under (the `variants` column, a bit set
 * of SWACL_OPV_BIT(v); 0 = the device's default choice only). A variant
 * is forced through swacl_ctx_params.kernels when the context is created. */
typedef enum {
    SWACL_OPV_DEFAULT = 0,
    SWACL_OPV_ATTN_ROW,   /* attn_fwd_row                                   */
    SWACL_OPV_ATTN_TILED, /* attn_fwd: local-memory tiles, the GPU version  */
    SWACL_OPV_ATTN_BLK,   /* attn_fwd_blk: head blocks, the CPU version     */
    SWACL_OPV_NORM_ROW,   /* norm_row: one work-item per row, the CPU choice */
    SWACL_OPV_NORM_WG,    /* norm_wg: one work-group per row, the GPU choice */
    SWACL_OPV_GEMM_OWN,   /* M > 8: gemm.cl (pack + micro-kernel), CPU choice */
    SWACL_OPV_GEMM_CLBLAST, /* M > 8: CLBlast SGEMM (packed W: dequant panels) */
    SWACL_OPV_GEMV_R1,    /* gemv_f32_r1: f32 decode matmul, 1 row per item  */
    SWACL_OPV_GEMV_R2,    /* gemv_f32_r2                                     */
    SWACL_OPV_GEMV_R4,    /* gemv_f32_r4                                     */
    SWACL_OPV_GEMV_R8,    /* gemv_f32_r8: the CPU choice                     */
    SWACL_OPV_GEMM_LM,    /* M > 8: gemm_lm.cl (local-memory tiles), GPU kernel */
    SWACL_OPV_COUNT
} swacl_op_variant;

#define SWACL_OPV_BIT(v) (1u << (v))
#define SWACL_OPV_ATTN_ALL                                                    \
    (SWACL_OPV_BIT(SWACL_OPV_ATTN_ROW) | SWACL_OPV_BIT(SWACL_OPV_ATTN_TILED) | \
     SWACL_OPV_BIT(SWACL_OPV_ATTN_BLK))
#define SWACL_OPV_NORM_ALL (SWACL_OPV_BIT(SWACL_OPV_NORM_ROW) | SWACL_OPV_BIT(SWACL_OPV_NORM_WG))
#define SWACL_OPV_GEMM_ALL                                                    \
    (SWACL_OPV_BIT(SWACL_OPV_GEMM_OWN) | SWACL_OPV_BIT(SWACL_OPV_GEMM_CLBLAST) | \
     SWACL_OPV_BIT(SWACL_OPV_GEMM_LM))
#define SWACL_OPV_GEMV_ALL                                                    \
    (SWACL_OPV_BIT(SWACL_OPV_GEMV_R1) | SWACL_OPV_BIT(SWACL_OPV_GEMV_R2) |   \
     SWACL_OPV_BIT(SWACL_OPV_GEMV_R4) | SWACL_OPV_BIT(SWACL_OPV_GEMV_R8))

/* "default", "row", "tiled", "blk", "row", "wg", "own", "clblast", "r1".."r8",
 * "lm": the
 * kernel's name as the variant setting spells it. A GEMM variant is forced
 * on the backend's swacl_gemm_params (internal, host/cl/cl_params.h). */
const char *swacl_op_variant_name(swacl_op_variant v);
/* The op kind a variant belongs to (ATTENTION, NORM or MATMUL; DEFAULT:
 * any, -1). */
int swacl_op_variant_kind(swacl_op_variant v);

#define SWACL_OPC_MAXB 4 /* sequences per case (pos0 / n_new arrays)         */
#define SWACL_OPC_MAXD 512 /* largest rope head_dim of a case                 */

/* Shapes, one struct per op kind (the row's union member). */
typedef struct { /* swacl_attn_args; scale = 1/sqrt(d)                      */
    int B, T, H, Hkv, d;
    swacl_span span;
    int S;                       /* W or C                                  */
    swacl_temp temp;
    float p0, p1;
    int cap;                     /* 0: no cache                             */
    int pos0[SWACL_OPC_MAXB];
    int n_new[SWACL_OPC_MAXB];   /* 0 means T                               */
    float softcap;               /* score soft-cap; 0 = off                 */
    int kv_f16;                  /* kc / vc hold f16 values (kv_f16)        */
} swacl_opc_attn;

typedef struct { /* y[M,N] (= or +=) x[M,K] w[N,K]^T (+ bias)               */
    int M, N, K, bias, accumulate;
    swacl_wtype wt; /* storage type of w (0: f32)                          */
    int N1, N2;     /* MATMUL_MULTI: the second / third outputs' N (N2 0:
                     * two products); bias and accumulate unused           */
    swacl_ffn ffn;  /* MATMUL_GLU: the gated kind (N = F)                  */
} swacl_opc_matmul;

typedef struct {
    swacl_norm kind;
    int rows, n, weight, bias, in_place;
    float eps;
} swacl_opc_norm;

typedef struct { /* in place on x [B*T, nh*d]                               */
    swacl_pos layout;
    int B, T, nh, d;
    float theta;
    int pos0[SWACL_OPC_MAXB];
    int rot;                     /* rotated lanes; 0 = d (full)             */
    float mscale;                /* cos/sin multiplier; 0 = 1               */
} swacl_opc_rope;

typedef struct { /* act / add / scale / softcap over rows*n elements         */
    int rows, n;
    swacl_ffn ffn;               /* ACT                                     */
    int in_place;                /* ACT: out aliases gate                   */
    float s;                     /* SCALE: the factor; SOFTCAP: the cap     */
} swacl_opc_elt;

typedef struct { /* embed: ids[r]; gather_rows: rows[r]; table [V, D]        */
    int V, D, n;
    swacl_wtype wt; /* storage type of the table (0: f32; embed only)      */
} swacl_opc_embed;

typedef struct { /* cache [B, cap, width] <- src [B*T, width]                */
    int B, T, cap, width;
    int pos0[SWACL_OPC_MAXB];
    int n_new[SWACL_OPC_MAXB];   /* exact (0 = nothing to store)            */
    int f16;                     /* the cache holds f16 (read back decoded) */
} swacl_opc_kv;

typedef struct {
    swacl_op_kind op;
    const char *label;  /* unique; names the case in failures and bench output */
    unsigned use;       /* SWACL_OPC_* bits                                  */
    unsigned variants;  /* SWACL_OPV_BIT set; 0 = default only               */
    /* pass: no NaN/Inf, every |dev - ref| <= atol + rtol*|ref|, and
     * sum (dev-ref)^2 / sum ref^2 <= nmse (per compared segment)           */
    double atol, rtol, nmse;
    union {
        swacl_opc_attn attn;
        swacl_opc_matmul mm;
        swacl_opc_norm norm;
        swacl_opc_rope rope;
        swacl_opc_elt elt;
        swacl_opc_embed embed;
        swacl_opc_kv kv;
    };
} swacl_op_case;

/* The table (static, read-only); *n = rows. */
const swacl_op_case *swacl_op_cases(size_t *n);
/* Row by label (NULL if none). */
const swacl_op_case *swacl_op_case_find(const char *label);

/* ------------------------------------------------------------------------ */
/* Runner (op_run.c). Inputs are drawn from fixed seeds, so every backend
 * sees the same values; errors go to ctx's message.                         */

/* Uniform [-scale, scale) floats from a seed (what the tests' fill_uniform
 * draws too). */
void swacl_op_fill_uniform(float *x, size_t n, uint64_t seed, float scale);

/* A case's buffers on one backend. */
typedef struct swacl_op_bufs swacl_op_bufs;

/* Allocate and fill c's inputs (and zeroed outputs) on ctx's backend. */
swacl_status swacl_op_bufs_create(swacl_ctx *ctx, const swacl_op_case *c, swacl_op_bufs **out);
void swacl_op_bufs_destroy(swacl_op_bufs *b); /* NULL-safe */

/* Queue c once on b's buffers (no finish). In-place ops (rope, add, scale,
 * in-place act/norm, kv_store) update their input, so a repeat sees the
 * previous result: fine for timing, not for comparing. */
swacl_status swacl_op_launch(swacl_ctx *ctx, const swacl_op_case *c, swacl_op_bufs *b);

/* Copy c's output on b to host h (write 0) or h to it (write 1; the
 * tuner fills it with NaN before a check): swacl_op_output_size(c) floats,
 * finishing the queue first. */
swacl_status swacl_op_output_io(swacl_ctx *ctx, const swacl_op_case *c, swacl_op_bufs *b,
                                float *h, int write);

/* Elements of c's output and the ranges that are compared (attention: the
 * valid rows t < n_new[b] of each sequence; one range otherwise).
 * Returns the range count (<= SWACL_OPC_MAXB); off/len may be NULL. */
size_t swacl_op_output_size(const swacl_op_case *c);
int swacl_op_segments(const swacl_op_case *c, size_t off[SWACL_OPC_MAXB],
                      size_t len[SWACL_OPC_MAXB]);

/* Inputs, one launch, finish, read back: *out (malloc'd, the caller frees)
 * holds swacl_op_output_size(c) floats. */
swacl_status swacl_op_exec(swacl_ctx *ctx, const swacl_op_case *c, float **out);

/* Work of one launch, for rates: *flops (attention, matmul; else 0) and
 * *bytes moved (the memory-bound ops; else 0). */
void swacl_op_work(const swacl_op_case *c, double *flops, double *bytes);

/* c on dev and on ref from identical inputs, each range compared with the
 * row's tolerance. SWACL_OK when all pass; SWACL_MISMATCH (message on dev)
 * names the row and the first failing range; other errors as the op's.
 * worst: the failing range's comparison (else the one with the largest
 * nmse); dev_out / ref_out (may be NULL) receive the outputs to free. */
typedef struct {
    swacl_compare_result worst;
    int segment; /* index of the range in `worst`                           */
} swacl_op_check_result;
swacl_status swacl_op_check(swacl_ctx *dev, swacl_ctx *ref, const swacl_op_case *c,
                            swacl_op_check_result *res, float **dev_out, float **ref_out);

#endif /* SWACL_OP_CASES_H */
