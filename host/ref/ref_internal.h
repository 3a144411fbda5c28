/*
 * ref_internal.h - shared by the CPU reference backend's files: ref_backend.c
 * (buffers, the vtable, construction) and one file per op, named like the
 * op's kernel file and OpenCL launcher (attn.c <-> kernels_cl/attn.cl <->
 * host/cl/attn.c). Each op function implements the contract of its
 * struct swacl_backend_i entry (host/internal.h) with plain loops and double
 * accumulation, and checks its buffers' sizes first (swacl_ref_need).
 */
#ifndef SWACL_REF_INTERNAL_H
#define SWACL_REF_INTERNAL_H

#include "internal.h"

struct swacl_buf {
    size_t bytes;        /* usable size                                      */
    unsigned char *data; /* malloc'd, at least 1 byte                        */
    swacl_wtype wtype;   /* storage type (F32 but for weight_create buffers) */
    int borrowed;        /* data is the caller's (weight_create): not freed  */
};

typedef struct {
    swacl_backend base; /* must be first: swacl_backend* <-> ref_backend*   */
    int threads;        /* OpenMP threads for every parallel loop            */
    long live_bufs;     /* allocated, not yet freed: a model or session that */
    size_t live_bytes;  /* outlives its context shows up here (ref_free)     */
} ref_backend;

static inline int nthreads(const swacl_backend *be) { return ((const ref_backend *)be)->threads; }

static inline float *fdata(const swacl_buf *b) { return (float *)(void *)b->data; }

/* sum_i a[i]*b[i] in double. Eight independent accumulators: no reordering
 * of any one sum, but the compiler can keep them in SIMD lanes (ILP). */
static inline double dot_f64(const float *a, const float *b, int n)
{
    double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; l++) s[l] += (double)a[i + l] * (double)b[i + l];
    for (; i < n; i++) s[0] += (double)a[i] * (double)b[i];
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

/* sum_i a[i]*b[i] in double, one accumulator in i order: the matmul's sum
 * (matmul.c tiles it over outputs, never over i, so its bits are these). */
static inline double ref_dot_seq(const float *a, const float *b, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += (double)a[i] * (double)b[i];
    return s;
}

/* SWACL_OK when buf exists and holds at least n floats; else
 * SWACL_INVALID_ARG naming op and what. */
swacl_status swacl_ref_need(swacl_backend *be, const char *op, const char *what,
                            const swacl_buf *buf, size_t n);

/* SWACL_OK when w is a weight buffer holding rows x K values of its type. */
swacl_status swacl_ref_need_rows(swacl_backend *be, const char *op, const char *what,
                                 const swacl_buf *w, size_t rows, int K);

/* The ops (signatures of struct swacl_backend_i), one file each. */
/* matmul.c */
/* the decode fusions (internal.h), as the unfused matmul / act calls */
swacl_status swacl_ref_matmul_multi(swacl_backend *be, int n, swacl_buf *const *y,
                                    const swacl_buf *x, const swacl_buf *const *w, const int *N,
                                    int M, int K);
swacl_status swacl_ref_matmul_glu(swacl_backend *be, swacl_ffn kind, swacl_buf *y, swacl_buf *tmp,
                                  const swacl_buf *x, const swacl_buf *wg, const swacl_buf *wu,
                                  int M, int F, int K);
swacl_status swacl_ref_matmul(swacl_backend *be, swacl_buf *y, const swacl_buf *x,
                              const swacl_buf *w, const swacl_buf *bias, int M, int N, int K,
                              int accumulate);
/* The packed-weight GEMM (matmul.c): as swacl_ref_gemm with W rows of type
 * wt; 0, or -1 when out of memory. */
int swacl_ref_gemm_typed(int M, int N, int K, const float *X, swacl_wtype wt, const void *W,
                         const float *Bs, float *Y, int accumulate, int threads);
/* norm.c */
swacl_status swacl_ref_norm(swacl_backend *be, swacl_norm kind, swacl_buf *y, const swacl_buf *x,
                            const swacl_buf *w, const swacl_buf *b, int rows, int n, float eps);
/* rope.c */
swacl_status swacl_ref_rope(swacl_backend *be, swacl_buf *x, int B, int T, int nh, int d,
                            const int *pos0, const swacl_rope_args *r);
/* attn.c */
swacl_status swacl_ref_attention(swacl_backend *be, const swacl_attn_args *a);
/* act.c */
swacl_status swacl_ref_act(swacl_backend *be, swacl_ffn kind, swacl_buf *out, const swacl_buf *gate,
                           const swacl_buf *up, size_t n);
/* add.c */
swacl_status swacl_ref_add(swacl_backend *be, swacl_buf *y, const swacl_buf *x, size_t n);
/* scale.c */
swacl_status swacl_ref_scale(swacl_backend *be, swacl_buf *y, float s, size_t n);
/* softcap.c */
swacl_status swacl_ref_softcap(swacl_backend *be, swacl_buf *y, float cap, size_t n);
/* embed.c: embedding lookup and row gather (one kernel on the device) */
swacl_status swacl_ref_embed(swacl_backend *be, swacl_buf *out, const swacl_buf *table,
                             const int32_t *ids, int n, int D);
swacl_status swacl_ref_gather_rows(swacl_backend *be, swacl_buf *dst, const swacl_buf *src,
                                   const int *rows, int n, int width);
/* kv_store.c */
swacl_status swacl_ref_kv_store(swacl_backend *be, swacl_buf *cache, const swacl_buf *src, int B,
                                int T, int cap, int width, const int *pos0, const int *n_new, int f16);

#endif /* SWACL_REF_INTERNAL_H */
