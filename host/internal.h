/*
 * internal.h - the seams inside libswacl.
 *
 *   common/   status strings, error recording (ctx message), small utils
 *   model/    config validation, presets, host weights (random, named)
 *   graph/    the layer-graph executor: walks the per-layer spec and calls a
 *             backend through struct swacl_backend_i (never includes CL)
 *   ref/      the CPU reference backend: plain loops, double accumulation
 *   cl/       the OpenCL backend: devices, program build + binary cache,
 *             kernels_cl ops, CLBlast GEMMs
 *   cli/      the swacl command (uses only include/swacl.h + this file)
 *
 * Layouts (all float32, row-major; "row" r = b*T + t):
 *   activations  x [B*T, D]; q [B*T, H*d]; k, v [B*T, Hkv*d]
 *   KV cache     kc, vc [B, cap, Hkv*d]; position p lives in slot p % cap
 *   weights      nn.Linear layout [out, in]: y = x W^T + b
 */
#ifndef SWACL_INTERNAL_H
#define SWACL_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "swacl.h"

/* ------------------------------------------------------------------------ */
/* Errors: record a message on the context and return a status.             */

#define SWACL_ERRMSG_LEN 8192

/* printf-style message into ctx (NULL-safe); returns st for chaining. */
swacl_status swacl_set_error(swacl_ctx *ctx, swacl_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* swacl_set_error(ctx, st, "%s", msg), the status string when msg is empty:
 * hands an internal err-buffer message on to the context. */
swacl_status swacl_copy_error(swacl_ctx *ctx, swacl_status st, const char *msg);
/* printf-style into a caller buffer: internal parsers (hf, placement) that
 * run without a context; public entry points copy the text to their ctx. */
void swacl_format_msg(char *buf, size_t len, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#define SWACL_TRY(expr)                                                      \
    do {                                                                     \
        swacl_status swacl_try_st_ = (expr);                                 \
        if (swacl_try_st_ != SWACL_OK) return swacl_try_st_;                 \
    } while (0)

/* Jump to a cleanup label with st set, as `goto fail` in one place. */
#define SWACL_TRY_GOTO(st, expr, label)                                      \
    do {                                                                     \
        (st) = (expr);                                                       \
        if ((st) != SWACL_OK) goto label;                                    \
    } while (0)

#define SWACL_FAIL_IF(ctx, cond, st, ...)                                    \
    do {                                                                     \
        if (cond) return swacl_set_error((ctx), (st), __VA_ARGS__);          \
    } while (0)

/* ------------------------------------------------------------------------ */
/* Backend seam.                                                             */

typedef struct swacl_backend swacl_backend;
typedef struct swacl_buf swacl_buf; /* backend-owned, opaque to the graph   */
typedef struct swacl_event swacl_event; /* a point in a backend's queue     */

/* Attention over new queries, reading keys from the new K/V rows and, for
 * positions before pos0[b], from the cache. Query (b, t) for t < n_new[b]
 * sits at absolute position p = pos0[b] + t and sees the keys the span rule
 * allows (docs/MODEL.md 1.5):
 *   GLOBAL lo = 0; WINDOW lo = max(0, p - W + 1); CHUNK lo = floor(p/C)*C
 * and keys lo..p. A key at position j >= pos0[b] is the new row
 * b*T + (j - pos0[b]); a key j < pos0[b] is cache slot j % cap of sequence b.
 * The caller guarantees the cache still holds every needed j (cap >= W for
 * windows, cap >= context for global). Rows t >= n_new[b] are left unspecified.
 * GQA: query head h reads KV head h / (H / Hkv).
 * Query temperature s(p) multiplies q before the dot product.               */
typedef struct {
    int B, T;               /* sequences; new-token rows per sequence        */
    int H, Hkv, d;
    const swacl_buf *q;     /* [B*T, H*d]                                    */
    const swacl_buf *k;     /* [B*T, Hkv*d] new keys                         */
    const swacl_buf *v;     /* [B*T, Hkv*d] new values                       */
    const swacl_buf *kc;    /* [B, cap, Hkv*d] or NULL (no cache)            */
    const swacl_buf *vc;
    int cap;                /* cache slots per sequence (0 without cache)    */
    const int *pos0;        /* host [B]: first new position = cached length  */
    const int *n_new;       /* host [B]: valid new rows (<= T)               */
    swacl_span span;
    int span_size;          /* W or C                                        */
    float scale;            /* logit multiplier, usually 1/sqrt(d)           */
    swacl_temp temp;
    float temp_p0, temp_p1;
    float softcap;          /* > 0: s -> softcap * tanh(s / softcap), s the
                               scaled score, before the mask (Gemma 2)       */
    swacl_buf *out;         /* [B*T, H*d]                                    */
    int kv_f16;             /* kc / vc hold f16 values (2 bytes each); every
                               K / V value is then read rounded to f16 (round
                               to nearest even), the new rows k / v too, so a
                               result does not depend on which keys came from
                               the cache (prefill chunking)                  */
} swacl_attn_args;

/* One RoPE application. Pair i < rot/2 of each head rotates by angle
 * a = p * inv_freq[i]:  PAIR (x[2i], x[2i+1]), HALF (x[i], x[i + rot/2]);
 * lanes >= rot pass through (partial RoPE). Every backend gets the same
 * inv_freq (swacl_rope_freqs, host/model/rope_freq.c), so scaling rules
 * live in one place. */
typedef struct {
    swacl_pos layout;       /* PAIR or HALF (NONE: nothing to do)            */
    int rot;                /* rotated lanes per head, even, 2..d            */
    const double *inv_freq; /* [rot/2]                                       */
    float mscale;           /* cos and sin are multiplied by it (YaRN), 1    */
} swacl_rope_args;

/* Inverse frequencies of a layer's RoPE at context length ctx_len (the
 * largest position + 1 of the step: DYNAMIC depends on it), into
 * inv_freq[rot/2]; *mscale gets the cos/sin multiplier. rot = the
 * layer's rotated lanes (rotary_dim, or head_dim when 0). */
void swacl_rope_freqs(const swacl_rope_scaling *r, float theta, int rot, long ctx_len,
                      double *inv_freq, float *mscale);

struct swacl_backend_i {
    const char *name;
    void (*free)(swacl_backend *be);

    /* memory */
    swacl_status (*buf_alloc)(swacl_backend *be, size_t bytes, swacl_buf **out);
    void (*buf_free)(swacl_backend *be, swacl_buf *buf);
    swacl_status (*buf_write)(swacl_backend *be, swacl_buf *buf, size_t off_bytes,
                              const void *src, size_t bytes);
    swacl_status (*buf_read)(swacl_backend *be, const swacl_buf *buf, size_t off_bytes,
                             void *dst, size_t bytes);

    /* A weight buffer of storage type wt holding src[0, bytes) (packed rows,
     * swacl_wtype_row_bytes each). matmul's w and embed's table read their
     * type from the buffer; buffers from buf_alloc are F32. may_borrow: the
     * backend may use src's pages itself instead of a copy (the reference;
     * OpenCL devices with host-unified memory, CL_MEM_USE_HOST_PTR, when
     * src is aligned); *borrowed (may be NULL) says whether it did, and the
     * caller then keeps src alive until buf_free.                           */
    swacl_status (*weight_create)(swacl_backend *be, swacl_wtype wt, const void *src,
                                  size_t bytes, int may_borrow, swacl_buf **out, int *borrowed);
    /* y[M,N] = x[M,K] w[N,K]^T + bias[N] (bias may be NULL);
     * accumulate != 0 adds into y instead of overwriting it. w in any
     * storage type (weight_create), dequantized exactly as
     * swacl_row_decode; x, y and bias are float32.                          */
    swacl_status (*matmul)(swacl_backend *be, swacl_buf *y, const swacl_buf *x,
                           const swacl_buf *w, const swacl_buf *bias, int M, int N, int K,
                           int accumulate);
    /* y[rows, n] = norm(x) * w + b, per row; kind RMS or LAYER (NOBIAS is
     * LAYER with b == NULL); w NULL = weightless. In place (y == x) allowed. */
    swacl_status (*norm)(swacl_backend *be, swacl_norm kind, swacl_buf *y, const swacl_buf *x,
                         const swacl_buf *w, const swacl_buf *b, int rows, int n, float eps);
    /* In-place RoPE on x [B*T, nh*d]: row b*T+t is at position pos0[b]+t.   */
    swacl_status (*rope)(swacl_backend *be, swacl_buf *x, int B, int T, int nh, int d,
                         const int *pos0, const swacl_rope_args *r);
    swacl_status (*attention)(swacl_backend *be, const swacl_attn_args *a);
    /* SWIGLU: out = silu(gate) * up; GELU (exact erf): out = gelu(gate),
     * up unused; GEGLU_TANH: out = gelu_tanh(gate) * up with gelu_tanh(x) =
     * 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). n elements; out may
     * alias gate.                                                           */
    swacl_status (*act)(swacl_backend *be, swacl_ffn kind, swacl_buf *out, const swacl_buf *gate,
                        const swacl_buf *up, size_t n);
    /* y[i] += x[i] for n elements.                                          */
    swacl_status (*add)(swacl_backend *be, swacl_buf *y, const swacl_buf *x, size_t n);
    /* y[n] *= s                                                             */
    swacl_status (*scale)(swacl_backend *be, swacl_buf *y, float s, size_t n);
    /* y[n] = cap * tanh(y / cap), cap > 0 (Gemma 2 final logits)            */
    swacl_status (*softcap)(swacl_backend *be, swacl_buf *y, float cap, size_t n);
    /* out[r, :] = table[ids[r], :] for r < n; ids host, already validated.  */
    swacl_status (*embed)(swacl_backend *be, swacl_buf *out, const swacl_buf *table,
                          const int32_t *ids, int n, int D);
    /* dst[i, :] = src[rows[i], :] for i < n (host row indices).              */
    swacl_status (*gather_rows)(swacl_backend *be, swacl_buf *dst, const swacl_buf *src,
                                const int *rows, int n, int width);
    /* Append new rows into a cache: for t < n_new[b] with t >= n_new[b]-cap,
     * cache[b, (pos0[b]+t) % cap, :] = src[b*T + t, :]; f16: the cache
     * holds f16 values (2 bytes, src rounded to nearest even).               */
    swacl_status (*kv_store)(swacl_backend *be, swacl_buf *cache, const swacl_buf *src, int B,
                             int T, int cap, int width, const int *pos0, const int *n_new,
                             int f16);
    /* Wait for all queued work.                                             */
    swacl_status (*finish)(swacl_backend *be);

    /* Transfers between pipeline stages (host/sched/pipeline.c). NULL in
     * the reference backend: stages then go through host memory and are
     * timed on the host clock.                                              */
    /* 1 when src_be's buffers can be copied on be's queue (one context).    */
    int (*peer)(const swacl_backend *be, const swacl_backend *src_be);
    /* dst[0, bytes) = src[0, bytes), src a peer's buffer; on be's queue,
     * once `after` (an event of the peer, or NULL) has completed.            */
    swacl_status (*copy_peer)(swacl_backend *be, swacl_buf *dst, const swacl_buf *src,
                              size_t bytes, swacl_event *after);
    /* *ev completes when the work queued so far has; flushes the queue.     */
    swacl_status (*mark)(swacl_backend *be, swacl_event **ev);
    /* The calling thread waits for ev: one event, never a whole queue. Not
     * a device-side barrier: PoCL 3.1's basic device hangs on a barrier
     * for another device's event, and each stage has its own thread.     */
    swacl_status (*wait)(swacl_backend *be, swacl_event *ev);
    /* Device seconds from a's completion to b's (marks of this backend);
     * waits for b. < 0 when the runtime cannot tell.                        */
    double (*elapsed)(swacl_backend *be, swacl_event *a, swacl_event *b);
    void (*event_free)(swacl_event *ev);
    /* Host memory the device reads and writes fastest (pinned / mapped):
     * *ptr stays valid until host_free.                                     */
    swacl_status (*host_alloc)(swacl_backend *be, size_t bytes, swacl_buf **h, void **ptr);
    void (*host_free)(swacl_backend *be, swacl_buf *h);

    /* Whether the device can run a model of config c (a valid config), at
     * swacl_model_create: SWACL_UNSUPPORTED with the reason on be's ctx
     * (e.g. a head_dim its kernels are not built for). NULL accepts all.  */
    swacl_status (*check_config)(swacl_backend *be, const swacl_config *c);

    /* Decode fusions: one call for products that share an input, so a
     * device can launch one kernel (the reference does the unfused math).
     * NULL: the graph calls matmul / act. Outputs alias no input.
     * matmul_multi: y[i][M, N[i]] = x[M,K] w[i][N[i],K]^T for i < n
     * (1 <= n <= 3; no bias, no accumulate).                              */
    swacl_status (*matmul_multi)(swacl_backend *be, int n, swacl_buf *const *y,
                                 const swacl_buf *x, const swacl_buf *const *w, const int *N,
                                 int M, int K);
    /* matmul_glu: y[M,F] = act(x wg^T, x wu^T) for a gated kind (SWIGLU,
     * GEGLU_TANH: the act op's formulas); tmp [M,F] scratch, left
     * undefined.                                                          */
    swacl_status (*matmul_glu)(swacl_backend *be, swacl_ffn kind, swacl_buf *y, swacl_buf *tmp,
                               const swacl_buf *x, const swacl_buf *wg, const swacl_buf *wu,
                               int M, int F, int K);
};

struct swacl_backend {
    const struct swacl_backend_i *iface;
    swacl_ctx *ctx; /* errors go to ctx's message                           */
};

/* The CPU reference's GEMM: Y[M,N] (= or += when accumulate) X[M,K]
 * W[N,K]^T + bias[N] (bias may be NULL), double accumulation, on threads
 * OpenMP threads (0 = all cores). */
void swacl_ref_gemm(int M, int N, int K, const float *X, const float *W, const float *bias,
                    float *Y, int accumulate, int threads);
/* The same with W rows of type wt and the tile variant isa (0 plain C, 1 AVX2,
 * 2 AVX-512, -1 the widest this CPU runs; every one gives the same bits, and
 * tests check each): 0, -1 out of memory, -2 when this CPU does not run isa. */
int swacl_ref_gemm_isa(int isa, int M, int N, int K, const float *X, swacl_wtype wt,
                       const void *W, const float *Bs, float *Y, int accumulate, int threads);

/* Backend constructors. */
swacl_status swacl_ref_backend_create(swacl_ctx *ctx, int threads, swacl_backend **out);
/* One OpenCL context per platform over the devices that two or more of
 * the selectors name (pipeline stages on them copy device to device).
 * "ref" and unknown selectors are skipped; a runtime refusing the context
 * just leaves that platform out. swacl_share_count: contexts made. */
typedef struct swacl_share swacl_share;
swacl_status swacl_share_create(const char *const *selectors, int n, swacl_share **out,
                                char *err, size_t err_len);
int swacl_share_count(const swacl_share *sh);
void swacl_share_destroy(swacl_share *sh); /* contexts live on in their users */

/* `device` selector as in swacl_ctx_params.device (never "ref"); the device
 * joins share's context when share holds it (share may be NULL). */
swacl_status swacl_cl_backend_create(swacl_ctx *ctx, const swacl_ctx_params *p,
                                     const swacl_share *share, swacl_backend **out);
/* swacl_ctx_create, the OpenCL device joining share's context if it is in one. */
swacl_status swacl_ctx_create_shared(const swacl_ctx_params *p, const swacl_share *share,
                                     swacl_ctx **out);
/* Compile stats for the CL backend (0s for ref). */
double swacl_cl_backend_compile_seconds(const swacl_backend *be, int *hits, int *misses);
const char *swacl_cl_backend_device_name(const swacl_backend *be);

/* swacl_devices_list without a context (cl_device.c); message into err. */
swacl_status swacl_cl_devices_list(swacl_device_info **out, int *n, char *err, size_t err_len);

/* ------------------------------------------------------------------------ */
/* Context.                                                                  */

struct swacl_ctx {
    swacl_backend *be;         /* NULL in an error-only context             */
    int is_ref;
    char device_name[256];
    /* The parameters it was created with (pipeline stages inherit them);
     * its string fields point at the copies below, owned by the ctx.      */
    swacl_ctx_params params;
    char *param_strs[3];       /* device, kernel_dir, cache_dir             */
    char errmsg[SWACL_ERRMSG_LEN];
};

/* The parameters ctx was created with (NULL for a NULL ctx). */
const swacl_ctx_params *swacl_ctx_params_of(const swacl_ctx *ctx);

/* ------------------------------------------------------------------------ */
/* Config (model/config.c).                                                  */

/* swacl_config_validate's checks, the reason into msg (may be NULL). */
swacl_status swacl_config_check(const swacl_config *cfg, char *msg, size_t msg_len);
/* A caller's config as this library's struct: checks struct_size (the
 * "not initialised" error on ctx), copies the bytes the caller has and
 * leaves fields newer than the caller's struct at swacl_config_init's
 * neutral values. Entry points read *dst, never the caller's struct. */
swacl_status swacl_config_read(swacl_ctx *ctx, const swacl_config *src, swacl_config *dst);
/* 1 when cfg->struct_size is one this library can read. */
int swacl_config_size_ok(const swacl_config *cfg);

/* ------------------------------------------------------------------------ */
/* Host weights.                                                             */

/* A host tensor in its storage type (swacl_wtype; never AUTO). bytes holds
 * the packed rows (swacl_wtype_bytes); they are either owned (malloc'd) or
 * borrowed from a file mapping the swacl_weights keeps open. data is the
 * float32 view, == bytes for F32 tensors and NULL otherwise. */
typedef struct {
    char name[96];
    int ndim;
    int64_t shape[4];
    int64_t numel;
    float *data;
    swacl_wtype type;
    const void *bytes;
    size_t nbytes;
    int owned;          /* bytes is malloc'd by the tensor                   */
    /* seeded weights (swacl_weights_create_seeded): the bytes are made on
     * first use (swacl_tensor_realize), then encoded as `type` says, so a
     * pipeline part builds only the tensors of its layers */
    int pending;
    /* lazily loaded (swacl_ctx_params.lazy_weights): pending == 2, the
     * file's values at src (a mapping the weights keep) in src_type;
     * src_heads > 0: a GGUF q/k projection whose rows come back from
     * llama.cpp's RoPE permutation over that many heads; src_copy: never
     * borrow the mapping (GGUF: its loader owns what it delivers) */
    const void *src;
    swacl_wtype src_type;
    int src_heads;
    int src_copy;
} swacl_tensor;

struct swacl_weights {
    int n, cap;
    swacl_tensor *t;
    int refs;           /* models borrowing the bytes (swacl_weights_retain);
                           destroy frees when none is left                  */
    int n_maps;         /* file mappings borrowed tensors point into         */
    uint64_t seed;      /* of the pending tensors                            */
    int allow_nonfinite; /* lazily loaded tensors: NaN/Inf accepted          */
    struct swacl_weights_map {
        void *addr;
        size_t len;
    } *maps;
};

/* Storage types (model/quant.c). Block types pack QK = 32 values per block
 * along a row; a row of K values of type t takes swacl_wtype_row_bytes. */
#define SWACL_QK 32
#define SWACL_Q8_0_BLOCK 34 /* f16 d, int8 qs[32]                           */
#define SWACL_Q4_0_BLOCK 18 /* f16 d, uint8 qs[16]: lo nibble j, hi j + 16   */
size_t swacl_wtype_row_bytes(swacl_wtype t, int64_t K);
/* 1 when type t can hold rows of K values (blocks need K % 32 == 0). */
int swacl_wtype_fits(swacl_wtype t, int64_t K);
/* The storage type a tensor gets when `want` is asked for: 1-D -> F32;
 * q4_0 embedding / lm_head -> q8_0; block types on K % 32 != 0 -> F16. */
swacl_wtype swacl_wtype_for(const char *name, int ndim, int64_t K, swacl_wtype want);
/* One row of K values: encode float32 -> t, decode t -> float32. Block
 * types follow llama.cpp's quantize_row_q{8,4}_0_ref bit for bit; f16 and
 * bf16 round to nearest even. */
void swacl_row_encode(swacl_wtype t, const float *src, void *dst, int64_t K);
void swacl_row_decode(swacl_wtype t, const void *src, float *dst, int64_t K);
/* Index of the first NaN/Inf among n values of type t, read from their
 * exponent bits without decoding; n when there is none. t: F32, F16 or
 * BF16 (other types have no such bits: n). */
size_t swacl_wtype_first_nonfinite(swacl_wtype t, const void *src, size_t n);
uint16_t swacl_f32_to_f16(float f);
uint16_t swacl_f32_to_bf16(float f);
/* Give tensor t the type wt over rows of K = shape[ndim-1] from its current
 * bytes (any type); releases the old bytes if owned. */
swacl_status swacl_tensor_encode(swacl_tensor *t, swacl_wtype wt);
/* Owned tensor bytes: aligned to SWACL_WEIGHT_ALIGN so that a device can use
 * the pages in place (CL_MEM_USE_HOST_PTR needs the device's base-address
 * alignment, 128 bytes on PoCL); release with free(). */
#define SWACL_WEIGHT_ALIGN 4096
void *swacl_weight_alloc(size_t bytes);
/* A model borrowing w's bytes keeps w alive: swacl_weights_destroy then
 * frees only after the last swacl_weights_release. */
void swacl_weights_retain(swacl_weights *w);
/* Set t's storage to src (borrowed when own == 0). */
void swacl_tensor_set(swacl_tensor *t, swacl_wtype wt, const void *src, size_t nbytes, int own);

/* Find a tensor by exact name (NULL if absent). */
const swacl_tensor *swacl_weights_find(const swacl_weights *w, const char *name);
/* Make a pending tensor's bytes (seeded values, encoded as t->type); a
 * no-op for others. Not thread-safe: models are built one at a time. */
swacl_status swacl_tensor_realize(const swacl_weights *w, const swacl_tensor *t);
/* A lazily loaded tensor (pending == 2, safetensors or GGUF) from its file
 * bytes (hf_load.c): SWACL_FORMAT for a NaN/Inf unless allow_nonfinite, and
 * the tensor then stays pending, so that every later build fails alike. */
swacl_status swacl_tensor_load(swacl_tensor *t, int allow_nonfinite);
/* Bytes of w's tensors this process made or converted (owned: not pending,
 * not borrowed from a file mapping). */
uint64_t swacl_weights_owned_bytes(const swacl_weights *w);
/* Add a zero-filled tensor (takes a copy of the name). */
swacl_status swacl_weights_add(swacl_weights *w, const char *name, int ndim,
                               const int64_t *shape, swacl_tensor **out);
/* The same without storage (type AUTO, no bytes): the caller sets it with
 * swacl_tensor_set before anything reads the tensor (hf_load: no float32
 * buffer for a tensor that is stored packed). */
swacl_status swacl_weights_add_meta(swacl_weights *w, const char *name, int ndim,
                                    const int64_t *shape, swacl_tensor **out);
/* The tensor names a config needs, with shapes, in a fixed order.
 * Calls fn(name, ndim, shape, user) for each; canonical (HF) names:
 *   model.embed_tokens.weight [V, D]         (vocab models)
 *   model.input_proj.weight [D, Din], .bias  (continuous, Din != D)
 *   model.layers.{i}.input_layernorm.weight [D] (+ .bias for LAYER)
 *   model.layers.{i}.self_attn.{q,k,v,o}_proj.weight (+ .bias if attn_bias)
 *   model.layers.{i}.post_attention_layernorm.weight (+ .bias) (SEQUENTIAL)
 *   model.layers.{i}.mlp.{gate,up,down}_proj.weight (SWIGLU) or
 *   model.layers.{i}.mlp.{up,down}_proj.weight (GELU) (+ .bias if ffn_bias)
 *   model.norm.weight (+ .bias) (final_norm)
 *   lm_head.weight [V, D]                    (LOGITS and not tied)          */
typedef void (*swacl_tensor_fn)(const char *name, int ndim, const int64_t *shape, void *user);
void swacl_config_tensors(const swacl_config *cfg, swacl_tensor_fn fn, void *user);

/* ------------------------------------------------------------------------ */
/* Small utilities.                                                          */

double swacl_now(void); /* monotonic seconds */
/* mkdir -p: create dir and its missing parents; 0, or -1 with errno set
 * (also when dir exists but is not a directory). */
int swacl_mkdir_p(const char *dir);
/* Deterministic RNG (splitmix64 + xoshiro-ish), per-call state, no globals. */
typedef struct {
    uint64_t s;
} swacl_rng;
uint64_t swacl_rng_next(swacl_rng *r);
float swacl_rng_uniform(swacl_rng *r); /* [-1, 1) */

/* KV-cache slots a layer needs per sequence at context n_ctx. */
int swacl_layer_cache_cap(const swacl_layer_spec *l, int n_ctx);

/* Query temperature multiplier s(p) for a layer rule (1 for NONE). */
float swacl_temp_factor(swacl_temp t, float p0, float p1, int p);

#endif /* SWACL_INTERNAL_H */
