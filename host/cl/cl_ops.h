/*
 * cl_ops.h - shared by the OpenCL backend's files: cl_backend.c (buffers,
 * kernel table, scratch uploads, queue and transfers, the vtable) and one
 * launcher per op, named like its kernel file and its reference
 * (host/cl/attn.c <-> kernels_cl/attn.cl <-> host/ref/attn.c). A launcher
 * checks shapes and buffer sizes (SWACL_INVALID_ARG with a message), picks
 * the kernel and its -D options from the backend's kernel parameters
 * (cl_params.c), and enqueues it without waiting.
 *
 * Local sizes always divide the global sizes: global sizes are padded and
 * the kernels guard their index ranges (PoCL has no non-uniform groups).
 */
#ifndef SWACL_CL_OPS_H
#define SWACL_CL_OPS_H

#include "cl/cl_internal.h"
#include "cl/cl_params.h"

struct swacl_buf {
    cl_mem mem;
    size_t size;
    void *map; /* host_alloc: the mapped host pointer */
    swacl_wtype wtype; /* storage type: F32 but for weight_create buffers */
};

#define SWACL_CL_KCACHE_MAX 128 /* (file, options, kernel): attention has one per head_dim */
#define SWACL_CL_SCRATCH_SLOTS 32

typedef struct {
    char file[16];
    char options[96];
    char name[32];
    cl_kernel kernel;
} swacl_cl_kentry;

typedef struct {
    cl_mem mem;
    size_t cap; /* bytes of mem and host */
    void *host;
    cl_event ev; /* last write from host into mem (or NULL) */
} swacl_cl_scratch;

/* A RoPE cos/sin table (rope.c) and the inputs it was made from. */
typedef struct {
    cl_mem mem;
    size_t cap;   /* bytes of mem                                          */
    void *key;    /* B, T, pairs, mscale, pos0[B], inv_freq (hi, lo) bytes  */
    size_t key_len;
} swacl_cl_rope_tab;
#define SWACL_CL_ROPE_TABS 2 /* e.g. Gemma's local and global theta */

typedef struct {
    swacl_backend base;
    swacl_cl_dev dev;
    int dev_open;
    swacl_cl_kentry kc[SWACL_CL_KCACHE_MAX];
    int n_kc;
    swacl_cl_scratch scratch[SWACL_CL_SCRATCH_SLOTS];
    int scratch_next;
    /* the last pos0 / n_new upload (swacl_cl_upload_meta): a decode step's
     * KV stores and attentions share one while its slot is not reused */
    int meta_valid, meta_slot, meta_n;
    int meta_val[64];
    /* kernel variants and launch shapes: the device class's table row with
     * the context's overrides (no AUTO, no zero; cl_params.c) */
    swacl_kernel_params kp;
    const char *kp_row; /* the table row's name                          */
    swacl_gemm_params gp; /* prefill GEMM choice and shape (cl_params.c)  */
    int gemv_rows;      /* f32 decode GEMV rows per work-item (cl_params.c) */
    cl_mem attn_part;   /* split-K attention partials, lazy (attn.c)      */
    size_t attn_part_bytes;
    cl_mem attn_kh, attn_vh; /* f16 caches: the step's K, V as f16, lazy */
    size_t attn_kvh_bytes;   /* bytes of each                             */
    cl_mem mm_panel;    /* decoded weight panel of packed prefill GEMMs  */
    size_t mm_panel_bytes;
    swacl_cl_rope_tab rope_tab[SWACL_CL_ROPE_TABS]; /* most recent first   */
    /* buffers handed out and not yet freed: LSan cannot see a forgotten
     * cl_mem (its allocation stack is inside the driver, which the CI
     * suppressions cover), so the backend counts them itself */
    long live_bufs;
    size_t live_bytes;
} swacl_cl_be;

static inline size_t swacl_round_up(size_t x, size_t m) { return (x + m - 1) / m * m; }

/* The kernel `name` of kernels_cl/<file>.cl built with options, created
 * once per (file, options, name) and kept by the backend. */
swacl_status swacl_cl_kernel(swacl_cl_be *be, const char *file, const char *options,
                             const char *name, cl_kernel *out);

/* Kernel arguments as (size, pointer) pairs. */
typedef struct {
    size_t size;
    const void *ptr;
} swacl_karg;
#define KA(x) ((swacl_karg){sizeof(x), &(x)})
swacl_status swacl_cl_set_args(swacl_cl_be *be, cl_kernel k, const swacl_karg *a, int n);

/* Enqueue k (nothing when a global size is 0); never waits. */
swacl_status swacl_cl_launch(swacl_cl_be *be, cl_kernel k, cl_uint dims, const size_t *global,
                             const size_t *local);

/* Copy a small host array (ids, positions, frequencies) into a ring slot
 * of backend-owned device buffers without stalling the queue. */
swacl_status swacl_cl_upload(swacl_cl_be *be, const void *src, size_t bytes, cl_mem *out);
/* pos0[B] then n_new[B] (n_new NULL: all T) as one int array. */
swacl_status swacl_cl_upload_meta(swacl_cl_be *be, const int *pos0, const int *n_new, int B, int T,
                                  cl_mem *out);

/* b non-NULL and holding at least n_floats; else SWACL_INVALID_ARG naming
 * op and what. */
swacl_status swacl_cl_check_buf(swacl_cl_be *be, const char *op, const char *what,
                                const swacl_buf *b, size_t n_floats);

/* w non-NULL and holding rows x K values of its storage type (block types:
 * K % 32 == 0); else SWACL_INVALID_ARG naming op and what. */
swacl_status swacl_cl_check_rows(swacl_cl_be *be, const char *op, const char *what,
                                 const swacl_buf *w, size_t rows, int K);
/* The backend's matmul panel scratch, grown to at least bytes (matmul.c). */
swacl_status swacl_cl_panel(swacl_cl_be *be, size_t bytes, cl_mem *out);

/* gemm.c: 1 when the own GEMM takes this product under gp (weight type,
 * shape class); then swacl_cl_gemm_own computes y (+)= x w^T (+ bias). */
int swacl_cl_gemm_own_ok(const swacl_gemm_params *gp, swacl_wtype wt, int M, int N, int K);
swacl_status swacl_cl_gemm_own(swacl_cl_be *be, swacl_buf *y, const swacl_buf *x,
                               const swacl_buf *w, const swacl_buf *bias, int M, int N, int K,
                               int accumulate);
/* gemm_lm.c: the local-memory tiled kernel (kernels_cl/gemm_lm.cl), what
 * swacl_cl_gemm_own runs when gp->kern is SWACL_GEMM_KERN_LM. */
swacl_status swacl_cl_gemm_lm(swacl_cl_be *be, swacl_buf *y, const swacl_buf *x,
                              const swacl_buf *w, const swacl_buf *bias, int M, int N, int K,
                              int accumulate);

/* The launchers (signatures of struct swacl_backend_i), one file each. */
/* matmul.c: gemv_* kernels for M <= 8, else CLBlast; bias_rows for the bias */
swacl_status swacl_cl_op_matmul(swacl_backend *base, swacl_buf *y, const swacl_buf *x,
                                const swacl_buf *w, const swacl_buf *bias, int M, int N, int K,
                                int accumulate);
/* norm.c */
swacl_status swacl_cl_op_norm(swacl_backend *base, swacl_norm kind, swacl_buf *y,
                              const swacl_buf *x, const swacl_buf *w, const swacl_buf *b, int rows,
                              int n, float eps);
/* rope.c */
swacl_status swacl_cl_op_rope(swacl_backend *base, swacl_buf *x, int B, int T, int nh, int d,
                              const int *pos0, const swacl_rope_args *r);
/* attn.c */
swacl_status swacl_cl_op_attention(swacl_backend *base, const swacl_attn_args *a);
/* act.c */
/* the decode fusions (matmul.c) */
swacl_status swacl_cl_op_matmul_multi(swacl_backend *base, int n, swacl_buf *const *y,
                                      const swacl_buf *x, const swacl_buf *const *w,
                                      const int *N, int M, int K);
swacl_status swacl_cl_op_matmul_glu(swacl_backend *base, swacl_ffn kind, swacl_buf *y,
                                    swacl_buf *tmp, const swacl_buf *x, const swacl_buf *wg,
                                    const swacl_buf *wu, int M, int F, int K);
swacl_status swacl_cl_op_act(swacl_backend *base, swacl_ffn kind, swacl_buf *out,
                             const swacl_buf *gate, const swacl_buf *up, size_t n);
/* add.c */
swacl_status swacl_cl_op_add(swacl_backend *base, swacl_buf *y, const swacl_buf *x, size_t n);
/* scale.c */
swacl_status swacl_cl_op_scale(swacl_backend *base, swacl_buf *y, float s, size_t n);
/* softcap.c */
swacl_status swacl_cl_op_softcap(swacl_backend *base, swacl_buf *y, float cap, size_t n);
/* embed.c: embedding lookup and row gather share gather_rows */
swacl_status swacl_cl_op_embed(swacl_backend *base, swacl_buf *out, const swacl_buf *table,
                               const int32_t *ids, int n, int D);
swacl_status swacl_cl_op_gather_rows(swacl_backend *base, swacl_buf *dst, const swacl_buf *src,
                                     const int *rows, int n, int width);
/* kv_store.c */
swacl_status swacl_cl_op_kv_store(swacl_backend *base, swacl_buf *cache, const swacl_buf *src,
                                  int B, int T, int cap, int width, const int *pos0,
                                  const int *n_new, int f16);
/* hk[i], hv[i] = k[i], v[i] as f16 (round to nearest even) for i < n: an
 * f16 cache's attention reads the step's new rows from these. */
swacl_status swacl_cl_kv_to_half(swacl_cl_be *be, cl_mem hk, cl_mem hv, cl_mem k, cl_mem v, size_t n);

#endif /* SWACL_CL_OPS_H */
