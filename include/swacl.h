/*
 * swacl.h - the public API of libswacl, a portable OpenCL backend for
 * hybrid-attention transformers (sliding-window RoPE layers interleaved with
 * global causal NoPE layers).
 *
 * Conventions
 *   - Opaque handles, each with a create/destroy pair; destroy accepts NULL.
 *   - One error channel: every fallible call returns a swacl_status and
 *     leaves the detailed message (the OpenCL error name, the failing call,
 *     the file/key/tensor, the first lines of a build log) on a context,
 *     read with swacl_ctx_errmsg(). Calls on a model, session or pipeline
 *     report to the context it was created on; calls that need no device
 *     (swacl_load_hf, swacl_config_validate, swacl_devices_list, ...) take
 *     the context to report to first (a "ref" context is cheap to create);
 *     with ctx == NULL they still return the status, without a message.
 *   - No global mutable state: two contexts never share anything.
 *   - All tensors are float32, row-major (C order). Dimension names used in
 *     comments: B batch, T tokens, D hidden, H heads, Hkv KV heads, d head
 *     dim, W window, F FFN width, V vocabulary, p absolute 0-based position.
 *
 * Lifetimes and ownership
 *   - Destroy in reverse order of creation: sessions before their model,
 *     models before their context, pipeline sessions before their
 *     pipeline, a pipeline before the context it was created on. Destroying
 *     a context that still has models is a caller bug: both backends print
 *     a warning naming the leaked buffers (and abort with
 *     SWACL_STRICT_LEAKS=1); the model's handle then dangles.
 *   - swacl_model_create and swacl_pipeline_create copy the config and the
 *     weights onto the device: the caller may destroy its swacl_weights and
 *     free its config as soon as they return. (Where the device reads host
 *     memory, the model uses the weights' bytes in place and holds them
 *     until it is destroyed; swacl_weights_destroy then only drops the
 *     caller's hold, and swacl_weights_convert refuses meanwhile.)
 *   - Strings passed in (selectors, paths, names) are borrowed for the
 *     duration of the call only; swacl_ctx_create copies its params'
 *     strings. Strings returned (swacl_ctx_errmsg, swacl_ctx_device_name,
 *     swacl_weights_name, swacl_preset_names, swacl_status_string) are
 *     owned by the library: errmsg until the next call on that
 *     context, the others until their object is destroyed (or forever for
 *     the static tables). Arrays returned through out-pointers
 *     (swacl_devices_list) are the caller's, freed with the named function.
 *   - Threads: a context and everything created on it (models, sessions,
 *     pipelines) are used by one thread at a time; use one context per
 *     thread. Different contexts are independent and may run concurrently.
 *     A pipeline runs its own stage threads inside a call; the call is
 *     still made from one thread.
 *
 * Semantics follow docs/MODEL.md Part A (masks, RoPE layouts, norms).
 */
#ifndef SWACL_H
#define SWACL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SWACL_VERSION_MAJOR 0
#define SWACL_VERSION_MINOR 1
#define SWACL_VERSION_PATCH 0
#define SWACL_VERSION_NUMBER \
    (SWACL_VERSION_MAJOR * 10000 + SWACL_VERSION_MINOR * 100 + SWACL_VERSION_PATCH)
#define SWACL_VERSION_STRING "0.1.0"

/* Marks the functions libswacl exports (it is built with -fvisibility=hidden;
 * define SWACL_API empty before including this header to drop the attribute). */
#ifndef SWACL_API
#if defined(__GNUC__)
#define SWACL_API __attribute__((visibility("default")))
#else
#define SWACL_API
#endif
#endif

/** Runtime version, to detect a header/library skew. */
SWACL_API int swacl_version_number(void);

/* ------------------------------------------------------------------------ */
/* Status codes (one X-macro generates the enum and the strings).            */

#define SWACL_STATUS_MAP(XX)                                                 \
    XX(OK, 0, "ok")                                                          \
    XX(INVALID_ARG, -1, "invalid argument")                                  \
    XX(NO_DEVICE, -2, "no such device")                                      \
    XX(OPENCL, -3, "OpenCL error")                                           \
    XX(BUILD, -4, "kernel build failed")                                     \
    XX(OUT_OF_MEMORY, -5, "out of memory")                                   \
    XX(IO, -6, "I/O error")                                                  \
    XX(FORMAT, -7, "malformed input")                                        \
    XX(UNSUPPORTED, -8, "unsupported")                                       \
    XX(MISMATCH, -9, "result mismatch")                                      \
    XX(INTERNAL, -10, "internal error")

typedef enum {
#define SWACL_XX(name, val, str) SWACL_##name = (val),
    SWACL_STATUS_MAP(SWACL_XX)
#undef SWACL_XX
} swacl_status;

/* The context (see "Context" below): every fallible call reports to one.    */
typedef struct swacl_ctx swacl_ctx;

/** Static text for a status code (never NULL). */
SWACL_API const char *swacl_status_string(swacl_status s);

/* ------------------------------------------------------------------------ */
/* Model configuration: a plain struct (docs/MODEL.md Part B section 7).     */
/*                                                                           */
/* ABI rule: struct_size is the first field and says which layout the        */
/* caller was compiled with. New fields are only ever added at the END of    */
/* swacl_config (never inserted, reordered or resized), and the library      */
/* reads a caller's struct by its struct_size: fields beyond it take the     */
/* swacl_config_init defaults. So always start from swacl_config_init,       */
/* swacl_preset / swacl_preset_ex, swacl_recommended_defaults or             */
/* swacl_load_hf, which fill struct_size; a config whose struct_size this    */
/* library does not know (e.g. a memset-only struct) is rejected by every    */
/* entry point with SWACL_INVALID_ARG "swacl_config not initialised (call    */
/* swacl_config_init)". Per-layer specs live in layers[0..n_layers).         */

#define SWACL_MAX_LAYERS 128
/** Most CPU reference threads a context takes (swacl_ctx_params.threads). */
#define SWACL_MAX_THREADS 1024
/** Most tokens (batch x seq) of one forward pass or session. */
#define SWACL_MAX_TOKENS (2147483647 / 4)
/** Most float elements of one input (tokens x input_dim) or output
 * (rows x width) buffer: 2^32, 16 GiB of float32. */
#define SWACL_MAX_ELEMS 4294967296ULL

typedef enum {
    SWACL_SPAN_GLOBAL = 0, /* causal: keys 0..p                              */
    SWACL_SPAN_WINDOW = 1, /* keys max(0,p-W+1)..p: W keys including self    */
    SWACL_SPAN_CHUNK = 2   /* keys in the same chunk: floor(k/C)==floor(p/C) */
} swacl_span;

typedef enum {
    SWACL_POS_NONE = 0,      /* NoPE                                         */
    SWACL_POS_ROPE_PAIR = 1, /* rotate (x[2i], x[2i+1]): GPT-J / Cohere      */
    SWACL_POS_ROPE_HALF = 2  /* rotate (x[i], x[i+d/2]): NeoX / Llama        */
} swacl_pos;

typedef enum {
    SWACL_TEMP_NONE = 0,
    /* Llama 4: q *= 1 + p1 * ln(1 + floor((p+1)/p0)); p0 = floor_scale,
     * p1 = attn_scale.                                                      */
    SWACL_TEMP_LLAMA4 = 1,
    /* SWAN-GPT style (constants UNVERIFIED, see docs/MODEL.md section 2):
     * q *= max(1, ln(p+1) / ln(p0)); p0 = training length L_train.          */
    SWACL_TEMP_LOG_RATIO = 2
} swacl_temp;

typedef enum {
    SWACL_QKNORM_NONE = 0,
    SWACL_QKNORM_RMS_AFTER_ROPE = 1, /* Llama 4: weightless RMS per head     */
    /* Qwen 3, Gemma 3: RMS per head with a learned weight [d]
     * (self_attn.q_norm / k_norm), before RoPE                              */
    SWACL_QKNORM_RMS_HEAD = 2,
    /* OLMo 2/3: RMS over the whole projection with a weight [H*d] / [Hkv*d],
     * before RoPE                                                           */
    SWACL_QKNORM_RMS_FULL = 3
} swacl_qknorm;

typedef struct {
    swacl_span span;
    int span_size;     /* W for WINDOW, C for CHUNK; ignored for GLOBAL      */
    swacl_pos pos;
    float rope_theta;  /* base, e.g. 10000                                   */
    swacl_temp temp;
    float temp_p0;     /* LLAMA4: floor_scale; LOG_RATIO: L_train            */
    float temp_p1;     /* LLAMA4: attn_scale; LOG_RATIO: unused              */
    swacl_qknorm qk_norm;
} swacl_layer_spec;

typedef enum {
    SWACL_FFN_SWIGLU = 0,     /* silu(x Wg^T) * (x Wu^T)                       */
    SWACL_FFN_GELU = 1,       /* gelu_erf(x Wu^T), no gate                     */
    SWACL_FFN_GEGLU_TANH = 2  /* Gemma: gelu_tanh(x Wg^T) * (x Wu^T)           */
} swacl_ffn;
typedef enum {
    SWACL_NORM_RMS = 0,       /* w * x / sqrt(mean(x^2) + eps)               */
    SWACL_NORM_LAYER = 1,     /* w * (x - mu) / sqrt(var + eps) + b          */
    SWACL_NORM_LAYER_NOBIAS = 2 /* Cohere: LayerNorm without bias            */
} swacl_norm;
typedef enum {
    SWACL_BLOCK_SEQUENTIAL = 0, /* x += attn(n1(x)); x += ffn(n2(x))         */
    SWACL_BLOCK_PARALLEL = 1    /* Cohere: h = n(x); x += attn(h) + ffn(h)   */
} swacl_block;
/* Where a sequential block's norms sit (ignored by the parallel block). */
typedef enum {
    SWACL_NORMS_PRE = 0,      /* x += attn(n1(x)); x += ffn(n2(x))           */
    /* Gemma 2/3: x += n2(attn(n1(x))); x += n4(ffn(n3(x)))                  */
    SWACL_NORMS_SANDWICH = 1,
    /* OLMo 2/3: x += n2(attn(x)); x += n4(ffn(x))                           */
    SWACL_NORMS_POST = 2
} swacl_norm_place;

/* RoPE frequency scaling (docs/MODEL.md "RoPE scaling"). */
typedef enum {
    SWACL_ROPE_DEFAULT = 0, /* inv_freq_i = theta^(-2i/rot)                  */
    SWACL_ROPE_LINEAR = 1,  /* inv_freq / factor                             */
    /* NTK-aware: once the context L = max position + 1 of a step exceeds
     * original_max_pos, theta' = theta * (factor*L/orig - (factor-1))^(rot/(rot-2)) */
    SWACL_ROPE_DYNAMIC = 2,
    SWACL_ROPE_LLAMA3 = 3,  /* wavelength bands: low_freq_factor, high_freq_factor */
    SWACL_ROPE_YARN = 4     /* ramp between beta_fast and beta_slow, cos/sin x attention_factor */
} swacl_rope_type;

/* Per-layer RoPE extent and scaling; used by layers whose pos is a RoPE
 * layout. swacl_config_init leaves every layer at {0, DEFAULT}: full-width
 * RoPE, no scaling. */
typedef struct {
    int rotary_dim;          /* rotated lanes per head, even, <= head_dim;
                                0 = head_dim (partial RoPE: Phi-3, NeoX)     */
    swacl_rope_type type;
    float factor;            /* LINEAR, DYNAMIC, LLAMA3, YARN (> 0)          */
    int original_max_pos;    /* DYNAMIC, LLAMA3, YARN                        */
    float low_freq_factor;   /* LLAMA3 (1 in Llama 3.1)                      */
    float high_freq_factor;  /* LLAMA3 (4 in Llama 3.1)                      */
    float beta_fast;         /* YARN (32)                                    */
    float beta_slow;         /* YARN (1)                                     */
    float attention_factor;  /* YARN: cos and sin are multiplied by it       */
    int truncate;            /* YARN: floor/ceil the correction range (1)    */
} swacl_rope_scaling;

typedef enum {
    SWACL_OUTPUT_LOGITS = 0,     /* logits = (final_norm(x) W_lm^T) * scale  */
    SWACL_OUTPUT_LAST_HIDDEN = 1 /* final_norm(x) at the last position       */
} swacl_output;

typedef struct {
    uint32_t struct_size; /* sizeof(swacl_config) of the caller's header:
                           set by swacl_config_init and the presets         */
    int vocab_size;     /* > 0: token-id input (embedding lookup)            */
    int input_dim;      /* > 0 (and vocab_size == 0): continuous input
                           [B, T, input_dim], projected to hidden when
                           input_dim != hidden_size                          */
    int hidden_size;    /* D                                                 */
    int n_heads;        /* H                                                 */
    int n_kv_heads;     /* Hkv, divides H (GQA)                              */
    int head_dim;       /* d; H*d need not equal D (Gemma, Qwen 3)           */
    int ffn_dim;        /* F                                                 */
    swacl_ffn ffn;
    int attn_bias;      /* q/k/v/o projections carry biases                  */
    int ffn_bias;       /* FFN matrices carry biases                         */
    swacl_norm norm;
    float norm_eps;
    swacl_block block;
    int final_norm;     /* apply a final norm before the output             */
    int tied_embeddings;/* lm_head = embed_tokens                            */
    float logit_scale;  /* multiplies logits (Cohere), 1 otherwise           */
    float attn_scale;   /* 0 means 1/sqrt(head_dim)                          */
    swacl_output output;
    float dropout;      /* accepted for API parity, ignored (inference)      */
    int n_layers;
    swacl_layer_spec layers[SWACL_MAX_LAYERS];

    /* ---- appended in 0.2 (model families). A caller compiled against the
     * 0.1 layout (struct_size ends above) gets the swacl_config_init
     * defaults for everything below. ---- */
    swacl_norm_place norm_place; /* sequential block: PRE (default)          */
    int norm_unit_offset;  /* RMS norm weights act as (1 + w) (Gemma)        */
    float embed_scale;     /* token embeddings x this (Gemma: sqrt(D)); 1    */
    float attn_softcap;    /* > 0: scores s -> c tanh(s / c) (Gemma 2); 0    */
    float final_softcap;   /* > 0: logits -> c tanh(logits / c) (Gemma 2); 0 */
    int attn_out_bias;     /* o_proj bias: -1 (default) as attn_bias, 0, 1
                              (Qwen 2: q/k/v biases, no o bias)              */
    swacl_rope_scaling rope[SWACL_MAX_LAYERS]; /* per layer, with layers[]   */
} swacl_config;

/**
 * Initialise *cfg: struct_size set, every other field neutral (zero sizes,
 * n_layers 0, norm_eps 1e-5, logit_scale 1, every layer all-zero: GLOBAL,
 * NoPE, no temperature, no QK-norm; set rope_theta with a RoPE layout). Call it before filling a
 * config by hand; the sizes are then the caller's to set.
 */
SWACL_API void swacl_config_init(swacl_config *cfg);

/** Names of the built-in presets, NULL-terminated (static storage). */
SWACL_API const char *const *swacl_preset_names(void);

/**
 * Fill *cfg with a built-in preset: "rnope-swa", "swan", "cohere2",
 * "irope", "baseline" (the whole struct is overwritten, struct_size
 * included). @return SWACL_INVALID_ARG for an unknown name.
 */
SWACL_API swacl_status swacl_preset(const char *name, swacl_config *cfg);

/** Size overrides for a preset; 0 keeps the preset's value. */
typedef struct {
    int hidden_size;
    int n_heads;
    int n_kv_heads;
    int n_layers;
    int ffn_dim;
    int vocab_size;
    int input_dim;
    int window;     /* W of every WINDOW layer                               */
    int chunk;      /* C of every CHUNK layer                                */
    int train_len;  /* L_train / floor_scale of temperature rules            */
} swacl_preset_params;

/** swacl_preset with overrides (the layer pattern is re-derived for
 * n_layers). params may be NULL. */
SWACL_API swacl_status swacl_preset_ex(const char *name, const swacl_preset_params *params,
                             swacl_config *cfg);

/** The "rnope-swa" defaults (hidden 256, 4 heads, 6 layers, window 128). */
SWACL_API swacl_config swacl_recommended_defaults(void);

/** Width of one output row: hidden_size for LAST_HIDDEN, vocab for LOGITS
 * (0 for NULL or an uninitialised config). */
SWACL_API int swacl_output_size(const swacl_config *cfg);

/**
 * Check a configuration. On failure leaves a one-line reason on ctx (which
 * may be NULL) and @return SWACL_INVALID_ARG.
 */
SWACL_API swacl_status swacl_config_validate(swacl_ctx *ctx, const swacl_config *cfg);

/** Number of config.json model_type values swacl_load_hf accepts. */
SWACL_API int swacl_model_type_count(void);
/** The i-th supported model_type, what it maps onto and what it refuses
 * (static strings; any pointer may be NULL). @return SWACL_INVALID_ARG
 * when i is out of range. */
SWACL_API swacl_status swacl_model_type_info(int i, const char **model_type, const char **maps,
                                             const char **refuses);

/** Bytes of KV cache a decode at context length n_ctx holds for batch B
 * (global layers keep n_ctx positions, window layers min(W, n_ctx); 0 for
 * an uninitialised config). */
SWACL_API uint64_t swacl_kv_bytes(const swacl_config *cfg, int batch, int n_ctx, uint64_t *global_bytes,
                        uint64_t *window_bytes);
/** As swacl_kv_bytes for a cache stored in kv_type (F16: 2 bytes a value;
 * anything else: F32, 4). */
SWACL_API uint64_t swacl_kv_bytes_ex(const swacl_config *cfg, int kv_type, int batch, int n_ctx,
                                     uint64_t *global_bytes, uint64_t *window_bytes);

/* ------------------------------------------------------------------------ */
/* Host weights: named float32 tensors (HF-style names, nn.Linear [out, in]). */

typedef struct swacl_weights swacl_weights;

/** Storage type of a weight tensor on the host and on the device.
 * Activations and accumulation are always float32; matmul and embedding
 * weights (every 2-D tensor) are read in their storage type, norm weights
 * and biases (1-D) are kept in float32. q8_0 / q4_0 are llama.cpp's
 * blocks of 32 along a row (ggml-common.h block_q8_0: f16 scale + 32 int8,
 * 34 bytes; block_q4_0: f16 scale + 16 bytes of nibbles, 18 bytes), made
 * by llama.cpp's reference quantizers. AUTO: as stored (swacl_load_hf) /
 * unchanged (swacl_weights_convert). */
typedef enum {
    SWACL_WT_AUTO = 0,
    SWACL_WT_F32,
    SWACL_WT_F16,
    SWACL_WT_BF16,
    SWACL_WT_Q8_0,
    SWACL_WT_Q4_0,
    SWACL_WT_COUNT
} swacl_wtype;

/** "f32", "f16", "bf16", "q8_0", "q4_0" ("auto" for AUTO; NULL if invalid). */
SWACL_API const char *swacl_wtype_name(swacl_wtype t);
/** The type named s (as swacl_wtype_name, also "auto"); -1 if unknown. */
SWACL_API int swacl_wtype_parse(const char *s);
/** Re-encode every 2-D tensor of w into type t (AUTO: nothing to do); 1-D
 * tensors stay float32. Rows whose length is not a multiple of 32 cannot
 * be block-quantized: those tensors get f16 instead. In place; the old
 * bytes are released. SWACL_OUT_OF_MEMORY / SWACL_INVALID_ARG on ctx. */
SWACL_API swacl_status swacl_weights_convert(swacl_ctx *ctx, swacl_weights *w, swacl_wtype t);
/** Bytes of w's tensors in storage type t (AUTO: all types), the packed
 * bytes as held and uploaded. */
SWACL_API uint64_t swacl_weights_bytes(const swacl_weights *w, swacl_wtype t);
/** Storage type of the i-th tensor (AUTO when i is out of range). */
SWACL_API swacl_wtype swacl_weights_type(const swacl_weights *w, int i);
/** Peak resident set size of this process so far, in bytes (getrusage). */
SWACL_API uint64_t swacl_peak_rss_bytes(void);

/** Seeded random weights for cfg (uniform, scaled by 1/sqrt(fan_in)).
 * SWACL_INVALID_ARG (no message: check with swacl_config_validate) for an
 * invalid or uninitialised cfg. *out is the caller's (swacl_weights_destroy). */
SWACL_API swacl_status swacl_weights_create_random(const swacl_config *cfg, uint64_t seed,
                                         swacl_weights **out);
/** The same weights as swacl_weights_create_random, each tensor made (and
 * stored as swacl_weights_convert asked) only when a model first uploads it
 * or swacl_weights_name hands out its data: a pipeline part over MPI builds
 * only its layers' tensors. swacl_weights_bytes counts the tensors made so far. */
SWACL_API swacl_status swacl_weights_create_seeded(const swacl_config *cfg, uint64_t seed,
                                                   swacl_weights **out);
SWACL_API void swacl_weights_destroy(swacl_weights *w);
/** Number of tensors, and the i-th tensor's name/shape/data (borrowed:
 * valid until swacl_weights_destroy; *data is NULL for a tensor not stored
 * in float32: see swacl_weights_type). */
SWACL_API int swacl_weights_count(const swacl_weights *w);
SWACL_API const char *swacl_weights_name(const swacl_weights *w, int i, int *ndim, int64_t shape[4],
                               const float **data);

/**
 * The config a tool runs: the Hugging Face checkpoint in dir (swacl_load_hf;
 * *w its weights) when dir is not NULL, else the preset `preset` with the
 * overrides pp (may be NULL; *w = NULL: make weights with
 * swacl_weights_create_random); then swacl_config_validate. One message on
 * ctx names the preset or dir: "unknown preset 'x' (valid: ...)", "preset
 * 'x': invalid size override ...", "invalid configuration for preset 'x':
 * ...", "cannot load DIR: ...". Load errors as swacl_load_hf; else
 * SWACL_INVALID_ARG.
 */
SWACL_API swacl_status swacl_config_resolve(swacl_ctx *ctx, const char *preset,
                                            const swacl_preset_params *pp, const char *dir,
                                            swacl_config *cfg, swacl_weights **w);

/* ------------------------------------------------------------------------ */
/* Devices.                                                                  */

typedef struct {
    int index;                 /* global index across platforms              */
    int platform_index;
    char platform_name[128];
    char name[256];
    char vendor[128];
    char type[16];             /* "gpu", "cpu", "accelerator", "other"      */
    int compute_units;
    uint64_t global_mem_bytes;
    uint64_t local_mem_bytes;
    uint64_t max_alloc_bytes;
    size_t max_work_group_size;
    char opencl_c_version[64];
    char driver_version[128];
    char device_version[128];
} swacl_device_info;

/**
 * Enumerate every OpenCL device of every platform the ICD loader exposes.
 * *out is malloc'd (free with swacl_devices_free). No platform is not an
 * error: *n = 0. On an OpenCL failure the message goes to ctx (a "ref"
 * context will do: the enumeration does not use its device; may be NULL).
 */
SWACL_API swacl_status swacl_devices_list(swacl_ctx *ctx, swacl_device_info **out, int *n);
SWACL_API void swacl_devices_free(swacl_device_info *list);

/* ------------------------------------------------------------------------ */
/* Context: one backend (an OpenCL device, or the CPU reference "ref").       */

/* Kernel variants and launch shapes of the OpenCL backend (the reference
 * backend ignores them, but they are validated for it too). The zero value
 * of every field means "the device class's choice": at context creation the
 * backend takes the row of its parameter table (host/cl/cl_params.c) that
 * matches the device - CPU devices: attention BLK and norm ROW; GPUs and
 * other devices: attention TILED and norm WG - and then applies the
 * non-zero fields given here. A value out of range, or over the device's
 * limits (work-group size, local memory), fails swacl_ctx_create with
 * SWACL_INVALID_ARG and a message naming the field. */
typedef enum {
    SWACL_ATTN_KERNEL_AUTO = 0,
    SWACL_ATTN_KERNEL_TILED = 1, /* attn_fwd: K/V tiles in local memory (GPUs) */
    SWACL_ATTN_KERNEL_ROW = 2,   /* attn_fwd_row: a query per work-item, no barriers */
    SWACL_ATTN_KERNEL_BLK = 3    /* attn_fwd_blk: register-blocked float8 (CPUs) */
} swacl_attn_kernel;

typedef enum {
    SWACL_NORM_KERNEL_AUTO = 0,
    SWACL_NORM_KERNEL_ROW = 1, /* norm_row: a row per work-item (CPUs)         */
    SWACL_NORM_KERNEL_WG = 2   /* norm_wg: a work-group per row (GPUs)         */
} swacl_norm_kernel;

typedef struct {
    swacl_attn_kernel attn;
    swacl_norm_kernel norm;
    /* launch shapes; 0 = the table row's value                             */
    int attn_bq;      /* TILED: queries per work-group, 1..256               */
    int attn_bk;      /* TILED: keys per local-memory tile, head_dim <= 64, 1..128 */
    int attn_bk_d128; /* TILED: the same for head_dim 65..128 (scaled down past 128), 1..128 */
    int attn_row_lx;  /* ROW: queries per work-group, 1..256                 */
    int attn_blk_qb;  /* BLK: query slots per work-item, even, 2..16         */
    int attn_blk_kt;  /* BLK: keys per tile, a multiple of 8, 8..128         */
    int attn_blk_lx;  /* BLK: work-group size, 1..64                         */
    int norm_wg_lx;   /* WG: work-items per row, a power of two, 1..1024     */
    int norm_row_lx;  /* ROW: rows per work-group, 1..256                    */
} swacl_kernel_params;

typedef struct {
    /* sizeof(swacl_ctx_params) as the caller was compiled: set by
     * swacl_ctx_params_default(), so fields appended later do not break
     * callers built against this header (0 is read as this header's size). */
    size_t struct_size;
    /* Device selector: NULL or "" = default (first GPU, else first CPU
     * device); "ref" = the plain-C CPU reference; "N" = global device index;
     * "N.K" = the K-th one-compute-unit sub-device of device N (for devices
     * that can be partitioned, e.g. a CPU under PoCL: "0.0" and "0.1" are two
     * one-core devices); "gpu" / "cpu" = first device of that type;
     * otherwise a case-insensitive substring of the device name.            */
    const char *device;
    const char *kernel_dir; /* read .cl from here instead of the embedded
                               copies (NULL: $SWACL_KERNEL_DIR, else embedded) */
    const char *cache_dir;  /* program binary cache (NULL: $SWACL_CACHE_DIR,
                               else $XDG_CACHE_HOME/swacl, else ~/.cache/swacl;
                               "off" disables)                               */
    int threads;            /* CPU reference threads (0 = all cores), at most
                               SWACL_MAX_THREADS                             */
    int verbose;            /* log compile/cache events to stderr            */
    swacl_kernel_params kernels; /* OpenCL kernel variants and launch shapes
                                    (all zero: the device class's choice)  */
    int allow_nonfinite;    /* swacl_load_hf on this context accepts NaN/Inf
                               weights (0: SWACL_FORMAT naming the tensor) */
    swacl_wtype weights;    /* swacl_load_hf on this context stores 2-D
                               tensors in this type (AUTO: as in the file,
                               F32/F16/BF16 kept without conversion)       */
    swacl_wtype kv_type;    /* KV-cache storage of sessions on this context:
                               F32, or F16 (2 bytes a value, written with
                               vstore_half, read with vload_half: no
                               cl_khr_fp16 needed; attention then reads every
                               K / V value rounded to f16, cached or new);
                               AUTO: F16 when some matmul weight is not F32,
                               else F32                                    */
    /* New fields go here, at the end (struct_size tells them apart); the
     * layout of swacl_kernel_params stays as released.                    */
    int lazy_weights;       /* swacl_load_hf (safetensors or GGUF) on this context
                               reads and converts each tensor only when a
                               model first uploads it or swacl_weights_name
                               hands out its data: a pipeline part over MPI
                               loads only its layers. A NaN/Inf is then an
                               error of that upload (SWACL_FORMAT)         */
} swacl_ctx_params;

SWACL_API swacl_ctx_params swacl_ctx_params_default(void);

/**
 * Create a context. params (may be NULL: defaults) is copied, its strings
 * included; the context remembers it (pipelines created on the context give
 * their stages the same parameters). On failure other than out-of-memory,
 * *out still receives a context that holds only the error message (read it
 * with swacl_ctx_errmsg, then destroy it), as sqlite3_open does. That
 * context can still receive messages from device-free calls.
 */
SWACL_API swacl_status swacl_ctx_create(const swacl_ctx_params *params, swacl_ctx **out);
/** Destroy models, sessions and pipelines created on ctx first. */
SWACL_API void swacl_ctx_destroy(swacl_ctx *ctx);
/** The last detailed error message ("" if none; set by a failing call, not
 * cleared by a succeeding one). Owned by ctx: copy it to keep it. */
SWACL_API const char *swacl_ctx_errmsg(const swacl_ctx *ctx);
/** Human-readable device name ("cpu-reference" for ref). */
SWACL_API const char *swacl_ctx_device_name(const swacl_ctx *ctx);
/** 1 when this context runs the CPU reference. */
SWACL_API int swacl_ctx_is_reference(const swacl_ctx *ctx);
/** Seconds spent compiling / loading programs so far, and how many program
 * builds hit the binary cache vs compiled from source. */
SWACL_API double swacl_ctx_compile_seconds(const swacl_ctx *ctx, int *cache_hits, int *cache_misses);
/** The kernel variants and launch shapes an OpenCL context runs with (its
 * table row with the overrides applied: no AUTO, no zero). SWACL_UNSUPPORTED
 * for a reference context. */
SWACL_API swacl_status swacl_ctx_kernel_params(swacl_ctx *ctx, swacl_kernel_params *out);

/* ------------------------------------------------------------------------ */
/* Model: a config plus its weights resident on a context's device.          */

typedef struct swacl_model swacl_model;

/** Upload cfg + weights to ctx's device. Both are copied (the caller may
 * free them on return; see the lifetime notes above for weights used in
 * place); the model keeps ctx, which must outlive it.
 * Errors go to ctx. */
SWACL_API swacl_status swacl_model_create(swacl_ctx *ctx, const swacl_config *cfg,
                                const swacl_weights *weights, swacl_model **out);
/** Destroy the model's sessions first; before its context. */
SWACL_API void swacl_model_destroy(swacl_model *m);
/** The model's own copy of its config (valid until swacl_model_destroy). */
SWACL_API const swacl_config *swacl_model_config(const swacl_model *m);

/** Input of a forward pass: exactly one of ids / embeds is used. */
typedef struct {
    int batch;             /* B                                              */
    int seq;               /* T                                              */
    const int32_t *ids;    /* [B, T] token ids (vocab models)                */
    const float *embeds;   /* [B, T, input_dim] (continuous-input models)    */
} swacl_input;

/**
 * Prefill forward pass with no cache. out receives, for LOGITS models,
 * [B, T, V] logits when all_positions != 0 else [B, V] at the last position;
 * for LAST_HIDDEN models [B, D] (or [B, T, D] with all_positions).
 */
SWACL_API swacl_status swacl_model_forward(swacl_model *m, const swacl_input *in, int all_positions,
                                 float *out);

/* ------------------------------------------------------------------------ */
/* Session: a KV cache for B sequences, for chunked prefill and decode.      */
/*                                                                           */
/* Global layers keep max_ctx positions per sequence; WINDOW layers keep a   */
/* ring of min(W, max_ctx) positions and CHUNK layers a ring of min(C,       */
/* max_ctx), so their memory does not grow with the context. A step that     */
/* would take a sequence past max_ctx is refused (SWACL_INVALID_ARG) when    */
/* the model has a global layer or max_ctx cuts a ring below W (C); a model  */
/* of whole rings only streams on, up to INT_MAX positions.                  */

typedef struct swacl_session swacl_session;

/** A session borrows m (it must outlive the session); errors go to m's
 * context. */
SWACL_API swacl_status swacl_session_create(swacl_model *m, int batch, int max_ctx, swacl_session **out);
SWACL_API void swacl_session_destroy(swacl_session *s);
/** Tokens cached so far for sequence b. */
SWACL_API int swacl_session_pos(const swacl_session *s, int b);
/** Bytes held by this session's KV cache. */
SWACL_API uint64_t swacl_session_kv_bytes(const swacl_session *s);
/** The KV cache's storage type (SWACL_WT_F32 or SWACL_WT_F16; swacl_ctx_params.kv_type). */
SWACL_API int swacl_session_kv_type(const swacl_session *s);
/** Forget every sequence (positions back to 0). */
SWACL_API void swacl_session_reset(swacl_session *s);

/**
 * Append n_new[b] tokens (0 <= n_new[b] <= T) to each sequence b: ids is
 * [B, T] (row b's first n_new[b] entries used) or embeds [B, T, input_dim].
 * n_new == NULL means T for every sequence. out receives, per sequence, the
 * output at its last new position ([B, V] logits or [B, D] hidden); the row
 * of a sequence with n_new[b] == 0 is unspecified.
 */
SWACL_API swacl_status swacl_session_step(swacl_session *s, int T, const int *n_new, const int32_t *ids,
                                const float *embeds, float *out);

/**
 * Prefill in->seq tokens of every sequence in chunks of `chunk` tokens
 * (0 = one chunk), so activation memory is bounded by the chunk size.
 * out as for swacl_session_step (output at the last prompt token).
 */
SWACL_API swacl_status swacl_session_prefill(swacl_session *s, const swacl_input *in, int chunk,
                                   float *out);

/* ------------------------------------------------------------------------ */
/* Hugging Face checkpoints (docs/MODEL.md Part B 4-7): a directory with
 * config.json and model.safetensors, or shards + model.safetensors.index.json,
 * or a llama.cpp GGUF file (a .gguf path, or a directory holding one).
 * Weights in F32, F16 or BF16 are memory-mapped; 2-D tensors are kept in
 * the file's type (borrowed from the mapping, no copy) or re-encoded into
 * swacl_ctx_params.weights, 1-D ones converted to float32. model_type: every
 * one swacl_model_type_info lists (cohere2, smollm3, llama4_text with dense
 * FFN layers, qwen2, qwen3, olmo3, phi3, mistral, llama, gemma2, gemma3_text,
 * the llama4 / gemma3 wrappers) and "swacl" (written by swacl_save_hf,
 * carrying the full per-layer spec). Errors (a one-line message naming the file, key or
 * tensor, on ctx; ctx may be NULL): SWACL_IO (missing file), SWACL_FORMAT
 * (malformed safetensors/JSON, missing tensor, wrong shape),
 * SWACL_UNSUPPORTED (model_type, MoE, rope_scaling, dtype swacl does not
 * implement). A NaN or Inf in any weight is SWACL_FORMAT naming the tensor
 * and the first bad index, unless ctx was created with allow_nonfinite.  */

/** Fills *cfg whole (struct_size included) and *out (the caller's: it
 * holds the file mappings its borrowed tensors point into until
 * swacl_weights_destroy). */
SWACL_API swacl_status swacl_load_hf(swacl_ctx *ctx, const char *dir, swacl_config *cfg,
                           swacl_weights **out);
/** Write cfg + w to dir (created if needed): config.json with model_type
 * "swacl" and a swacl_layers array, model.safetensors in F32 with HF tensor
 * names. swacl_load_hf reads it back bit-exactly. Atomic: written into a
 * new directory beside dir, fsync'd, then swapped into place, so a kill or a
 * write error (SWACL_IO, errno text) leaves the old model or the new one,
 * never a mix; other files of an existing dir are kept (hard links). */
SWACL_API swacl_status swacl_save_hf(swacl_ctx *ctx, const char *dir, const swacl_config *cfg,
                           const swacl_weights *w);

/* ------------------------------------------------------------------------ */
/* Pipeline: the layer graph split across several devices (host/sched/).     */
/*                                                                           */
/* Each stage is a context + a model holding only its contiguous layer range */
/* (+ the input layer on the first stage, final norm + head on the last) and */
/* its layers' KV cache. A batch is cut into micro-batches of sequences that */
/* flow through the stages, one host thread per stage, so the devices work   */
/* at the same time; the residual x crosses devices through host memory.     */
/*                                                                           */
/*   swacl_pipeline *p;                                                      */
/*   swacl_pipeline_create(ctx, "0,1", "auto", &cfg, w, &p);                 */
/*   swacl_pipeline_forward(p, &in, 0, out);                                 */
/*   swacl_pipeline_describe(p, stages, 8, &n);   (layers + busy seconds)    */
/*   swacl_pipeline_destroy(p);                                              */

typedef struct swacl_pipeline swacl_pipeline;
typedef struct swacl_pipeline_session swacl_pipeline_session;

/**
 * Build a pipeline on ctx: its stages' contexts get ctx's creation
 * parameters (swacl_ctx_params, device excepted), and every error of the
 * pipeline and of its sessions goes to ctx (swacl_ctx_errmsg). ctx may be
 * a "ref" context; it must outlive the pipeline. cfg and weights are copied.
 * @param devices   "all" (every OpenCL device; "ref" when there is none) or
 *                  a comma list of selectors as in swacl_ctx_params.device:
 *                  "0,1", "0,ref". An index that does not exist is an error.
 *                  A device may appear twice (two contexts on it).
 * @param placement "auto" (NULL too): calibrate each device once (a window
 *                  and a global layer at a small seq; cached as JSON in the
 *                  cache dir) and split contiguous layer ranges so stage
 *                  times are about equal and each stage fits its device's
 *                  memory; or a SPEC "0-3:0,4-7:1" mapping layer ranges (in
 *                  order, each layer once) to indices into the device list.
 * @return SWACL_NO_DEVICE (bad device), SWACL_INVALID_ARG (bad SPEC),
 *         SWACL_OUT_OF_MEMORY (a stage does not fit: the message names the
 *         device and the bytes), or a context/model creation error.
 */
SWACL_API swacl_status swacl_pipeline_create(swacl_ctx *ctx, const char *devices, const char *placement,
                                   const swacl_config *cfg, const swacl_weights *weights,
                                   swacl_pipeline **out);
/** Destroy its sessions first; before the context it was created on. */
SWACL_API void swacl_pipeline_destroy(swacl_pipeline *p);
/** The pipeline of one stage over model m (borrowed: destroy the pipeline
 * first), what a swacl_session runs on: one code path then drives one
 * device or several. Its errors go to m's context; describe gives one stage
 * (selector "", busy_s 0). */
SWACL_API swacl_status swacl_pipeline_solo(swacl_model *m, swacl_pipeline **out);
/** Micro-batches a forward / new session cuts the batch into (0 = auto:
 * one per stage, at most the batch). */
SWACL_API void swacl_pipeline_set_micro_batches(swacl_pipeline *p, int n);

typedef struct {
    int device;              /* index into the pipeline's device list       */
    char selector[64];       /* that list entry: "0", "ref", ...            */
    char device_name[256];
    int layer_begin, layer_end; /* layers [layer_begin, layer_end)          */
    uint64_t weight_bytes;   /* weights resident on this stage              */
    double busy_s;           /* seconds of work since creation (device time
                                from queue markers; host time on "ref")     */
    char transfer_in[16];    /* how activations arrive: "" (first stage),
                                "device-copy" (one shared OpenCL context),
                                "host-pinned" (via mapped host memory) or
                                "host", "mpi" (from another process)        */
    int rank;                /* the MPI rank holding the stage (0: one process) */
    double transfer_s;       /* host seconds this stage spent passing
                                activations / outputs to or from other
                                ranks (0 within one process)                */
    uint64_t host_weight_bytes; /* host bytes of weights the stage's process
                                made or converted when the pipeline was
                                built (all its stages together: the same on
                                each of its stages; a mapped checkpoint's
                                unconverted tensors are not counted)        */
    uint64_t kv_bytes;       /* KV cache the stage's layers hold now (the
                                sessions open on the pipeline)              */
} swacl_pipeline_stage;

/** Stages in layer order: at most max written to stages, *n = count. */
SWACL_API swacl_status swacl_pipeline_describe(const swacl_pipeline *p, swacl_pipeline_stage *stages,
                                     int max, int *n);

/**
 * p's placement as one JSON object (*json the caller's, swacl_free):
 * "placement": per stage {device, selector, name, layers [first, last],
 * busy_s, transfer_s, rank, transfer_in, weight_bytes, kv_bytes,
 * kv_held_bytes}, "busy_s": [per stage], "ranks": per process {rank,
 * layers, stages, busy_s, transfer_s, weight_bytes (uploaded),
 * host_weight_bytes (made or converted on its host), kv_bytes (of a
 * session of batch x n_ctx over its layers; 0 when n_ctx is 0),
 * kv_held_bytes (its sessions' now)}. On rank 0 of an MPI pipeline: every
 * rank's stages.
 */
SWACL_API swacl_status swacl_pipeline_report(const swacl_pipeline *p, int batch, int n_ctx, char **json);

/** As swacl_model_forward, through the stages. */
SWACL_API swacl_status swacl_pipeline_forward(swacl_pipeline *p, const swacl_input *in, int all_positions,
                                    float *out);

/** As swacl_session_*: each stage holds its own layers' KV cache. A
 * pipeline session borrows p (destroy it first); errors go to p's ctx. */
SWACL_API swacl_status swacl_pipeline_session_create(swacl_pipeline *p, int batch, int max_ctx,
                                           swacl_pipeline_session **out);
SWACL_API void swacl_pipeline_session_destroy(swacl_pipeline_session *s);
SWACL_API int swacl_pipeline_session_pos(const swacl_pipeline_session *s, int b);
/** Bytes held by the session's KV caches, over every stage. */
SWACL_API uint64_t swacl_pipeline_session_kv_bytes(const swacl_pipeline_session *s);
SWACL_API int swacl_pipeline_session_kv_type(const swacl_pipeline_session *s);
SWACL_API swacl_status swacl_pipeline_session_step(swacl_pipeline_session *s, int T, const int *n_new,
                                         const int32_t *ids, const float *embeds, float *out);
SWACL_API swacl_status swacl_pipeline_session_prefill(swacl_pipeline_session *s, const swacl_input *in,
                                            int chunk, float *out);

/* ------------------------------------------------------------------------ */
/* Comparing outputs                                                         */

/** Result of swacl_compare. A pair (a[i], ref[i]) is "finite" when both are
 *  finite; the error statistics cover finite pairs only, so one NaN does not
 *  hide the size of the other errors. */
typedef struct {
    double max_abs_err;  /* max |a - ref| over pairs where both are finite   */
    size_t worst;        /* index of that element                            */
    double nmse;         /* sum (a-ref)^2 / sum ref^2 over finite pairs
                            (the plain sum of squares when ref is all zero)  */
    size_t n_bad;        /* elements with |a-ref| > atol + rtol*|ref|        */
    size_t nonfinite;    /* elements where a or ref is NaN/Inf               */
} swacl_compare_result;

/** Compare a[0..n) with ref[0..n) (accumulated in double). n_bad counts
 *  finite pairs only; a pair with a NaN/Inf on either side (matching
 *  infinities included) counts in nonfinite instead. With no finite pair,
 *  max_abs_err, worst and nmse are 0. A typical pass:
 *  nonfinite == 0 && n_bad == 0 && nmse <= bound. Pure; never fails. */
SWACL_API swacl_compare_result swacl_compare(const float *a, const float *ref, size_t n,
                                             double atol, double rtol);

/* ------------------------------------------------------------------------ */
/* Checking a device against the CPU reference (host/common/verify.c)        */
/*                                                                           */
/* A verifier holds a reference model of the same config and weights on a   */
/* CPU reference context of its own; each call runs the same forward /       */
/* prefill / step there and compares the reference's output with the one    */
/* the caller's device produced (swacl_compare), keeping the worst so far.   */
/*                                                                           */
/*   swacl_verifier *v;                                                      */
/*   swacl_verifier_create(ctx, &cfg, w, NULL, 1, max_ctx, &v);              */
/*   swacl_session_prefill(s, &in, 0, out);                                  */
/*   swacl_verifier_prefill(v, &in, 0, out);       (then per decode step:)   */
/*   swacl_verifier_step(v, 1, NULL, &id, NULL, out);                        */
/*   swacl_verify_result r = swacl_verifier_result(v);    (r.ok)             */
/*   swacl_verifier_destroy(v);                                              */

/** What counts as a match. Start from swacl_tolerance_default(): fields
 * added later go at the end and struct_size tells them apart (0 is read as
 * this header's size). */
typedef struct {
    size_t struct_size; /* sizeof(swacl_tolerance) of the caller's header    */
    double nmse;       /* bound on sum (a-r)^2 / sum r^2 per output (1e-6)    */
    double atol, rtol; /* elementwise |a-r| <= atol + rtol*|r|, checked when
                          either is >= 0 (a negative one then counts as 0)    */
    double calibrated; /* with atol and rtol both < 0 (the default): the
                          elementwise bound calibrated to float32 rounding
                          for the model and length (docs/VERIFY.md), times
                          this factor (default 1); 0: no elementwise check  */
    uint64_t mem_limit; /* bytes the reference may take (its estimate: every
                          weight as float32 + activations and KV cache of
                          the checked tokens); 0: MemAvailable of
                          /proc/meminfo (no limit where that is unknown).
                          Over it the check is skipped (swacl_verify_result
                          .skipped) instead of running out of memory        */
} swacl_tolerance;

/** The defaults: nmse 1e-6 plus the calibrated elementwise bound
 *  (atol = rtol = -1, calibrated 1), struct_size set. */
SWACL_API swacl_tolerance swacl_tolerance_default(void);

/** Worst over every output compared so far. */
typedef struct {
    int checks;          /* outputs compared                                 */
    double max_abs_err;  /* largest |a - ref| over finite pairs              */
    double nmse;         /* largest per-output nmse                          */
    size_t n_bad;        /* elements over atol + rtol*|ref| (0 when the
                            elementwise check is off)                        */
    size_t nonfinite;    /* pairs with a NaN/Inf on either side              */
    int ok;              /* nonfinite == 0, every nmse within the bound and
                            n_bad == 0 (1 before the first check)           */
    double ref_seconds;  /* wall time of the reference's calls               */
    size_t nonfinite_out; /* of those, NaN/Inf values in the device output    */
    double atol, rtol;   /* the elementwise bound of the last check (both 0
                            when it is off)                                   */
    double bound_ratio;  /* largest |a-r| / (atol + rtol*|r|): < 1 passes     */
    int skipped;         /* the reference does not fit (tolerance.mem_limit):
                            nothing was compared (ok stays 1)               */
    char skip_reason[256]; /* why, one line, when skipped                    */
} swacl_verify_result;

typedef struct swacl_verifier swacl_verifier;

/**
 * A verifier for outputs of cfg + weights (both copied). Its reference
 * context takes ctx's creation parameters (threads...) with device "ref";
 * with max_ctx > 0 it also holds a session of batch x max_ctx for
 * swacl_verifier_prefill / _step. tol may be NULL (the defaults). Errors of
 * every verifier call go to ctx, which must outlive the verifier.
 */
SWACL_API swacl_status swacl_verifier_create(swacl_ctx *ctx, const swacl_config *cfg,
                                             const swacl_weights *weights,
                                             const swacl_tolerance *tol, int batch, int max_ctx,
                                             swacl_verifier **out);
SWACL_API void swacl_verifier_destroy(swacl_verifier *v);
/** Run the reference on the same arguments as swacl_model_forward /
 * swacl_session_prefill / swacl_session_step and compare with out, the
 * device's output of that call. A mismatch is not an error (SWACL_OK; see
 * swacl_verifier_result); a failing reference call is. _step with n_new
 * leaves out the rows of sequences with n_new[b] == 0 (unspecified). */
SWACL_API swacl_status swacl_verifier_forward(swacl_verifier *v, const swacl_input *in,
                                              int all_positions, const float *out);
SWACL_API swacl_status swacl_verifier_prefill(swacl_verifier *v, const swacl_input *in, int chunk,
                                              const float *out);
SWACL_API swacl_status swacl_verifier_step(swacl_verifier *v, int T, const int *n_new,
                                           const int32_t *ids, const float *embeds,
                                           const float *out);
SWACL_API swacl_verify_result swacl_verifier_result(const swacl_verifier *v);

/** The verdict of r in one line for messages, e.g. "3 non-finite values in
 *  the device output" or "12 values over the elementwise bound (worst 4.1x
 *  of it), nmse 2.0e-07 (tol 1.0e-06)"; "ok" when r->ok. Returns buf. */
SWACL_API const char *swacl_verify_describe(const swacl_verify_result *r, double nmse_tol,
                                            char *buf, size_t len);

/** The reference's estimated bytes for cfg over `tokens` tokens (batch x
 * sequence or session length): every weight as float32 plus activations
 * and KV cache (what tolerance.mem_limit is compared with). */
SWACL_API uint64_t swacl_verify_mem_estimate(const swacl_config *cfg, uint64_t tokens);

/** One forward checked: create, swacl_verifier_forward, result, destroy.
 * A reference that does not fit (tol->mem_limit) is not built: res->skipped. */
SWACL_API swacl_status swacl_verify_forward(swacl_ctx *ctx, const swacl_config *cfg,
                                            const swacl_weights *weights, const swacl_input *in,
                                            int all_positions, const float *out,
                                            const swacl_tolerance *tol, swacl_verify_result *res);

/* ------------------------------------------------------------------------ */
/* Benchmarks and device probes (host/bench/): what `swacl bench` measures,  */
/* returned as plain structs. Timing is wall clock around the work plus a    */
/* backend finish, warm-up first, then the median (probes: the best) of      */
/* repeats, never a single library event. Every call below takes a context   */
/* first; its errors go to that context's message (swacl_ctx_errmsg). Calls  */
/* that create contexts of their own (start-up, pipeline) use it only for    */
/* errors, so an error-only or reference context is fine there.              */

/** One progress line of a long benchmark (no trailing newline). */
typedef void (*swacl_bench_progress_fn)(const char *line, void *user);

/** Common settings; a NULL params pointer means all zero. */
typedef struct {
    int quick;                        /* small sizes and fewer repeats      */
    swacl_bench_progress_fn progress; /* NULL: silent                       */
    void *user;                       /* handed to progress                 */
} swacl_bench_params;

/** Facts of ctx's device: for OpenCL its swacl_devices_list entry (type
 * "cpu", "gpu", ...); for the reference name "cpu-reference", type
 * "reference", everything else zero. */
SWACL_API swacl_status swacl_bench_device_info(swacl_ctx *ctx, swacl_device_info *out);

/**
 * Expand a device list as `swacl bench --devices` takes it into selectors
 * (swacl_ctx_params.device): "all" = every OpenCL device by global index,
 * else the comma-separated entries. At most max are written, *n = count.
 * @return SWACL_INVALID_ARG (*n = 0) for an empty list or an entry of 64+
 * characters; when "all" cannot list the devices, the listing's status with
 * *n = 1, "ref" (the caller may go on with the reference). "all" with no
 * OpenCL device is "ref" and SWACL_OK.
 */
SWACL_API swacl_status swacl_bench_devices(swacl_ctx *ctx, const char *devices,
                                           char (*selectors)[64], int max, int *n);

/** Peak probe settings (kernels_cl/probe.cl); zero fields take defaults. */
typedef struct {
    double target_s;   /* seconds of one timed launch (0: 0.3)              */
    size_t copy_bytes; /* copy buffer (0: 256 MiB), capped at the device's
                          max allocation and 1/4 of its memory               */
} swacl_probe_params;

typedef struct {
    double fma4_gflops; /* independent FMA chains on float4, GFLOP/s        */
    double fma8_gflops; /* ... on float8                                     */
    double fma_gflops;  /* the larger of the two: the compute peak           */
    double copy_gbps;   /* device copy, read + write bytes per second / 1e9  */
    double update_gbps; /* in-place update x = f(x), read + write bytes / 1e9 */
    double mem_gbps;    /* the memory peak: max(copy_gbps, update_gbps)      */
    size_t copy_bytes;  /* buffer size the copy ran on                       */
} swacl_probe_result;

/**
 * clpeak-style peaks of ctx's OpenCL device (best of three timed launches
 * after calibration). params may be NULL. @return SWACL_UNSUPPORTED on a
 * reference context.
 */
SWACL_API swacl_status swacl_device_probe(swacl_ctx *ctx, const swacl_probe_params *params,
                                          swacl_probe_result *out);

/** OpenBLAS sgemm (n x n x n, B transposed) GFLOP/s on the host CPU: the
 * practical peak a CPU device is compared with. Median of repeats that
 * take about target_s seconds together. */
SWACL_API swacl_status swacl_bench_host_sgemm(swacl_ctx *ctx, int n, double target_s,
                                              double *gflops);

/** One op benchmark case and its timing. */
typedef struct {
    char name[64];     /* "attn band L=1024 W=128", "gemm qkv 1024x384<-256" */
    char op[16];       /* "attention", "rope", "rmsnorm", "swiglu", "gemm"   */
    int L, W, global;  /* attention: rows (B = 1), window (0 when global)    */
    int H, Hkv, d;     /* attention: heads, KV heads, head dim               */
    double pairs;      /* attention: (query, key) pairs the mask allows      */
    int M, N, K;       /* gemm y[M,N] = x[M,K] w[N,K]^T; else rows x width   */
    double flops;      /* theoretical FLOPs (0 for the memory-bound ops)     */
    double bytes;      /* theoretical bytes moved (0 for attention, gemm)    */
    double seconds;    /* median wall time of a run; 0 when error is set     */
    char error[1024];  /* "" or why the case failed (the context message)   */
} swacl_bench_op;

/**
 * Time the backend ops of ctx (attention band/causal, RoPE, RMSNorm, SwiGLU
 * and the cohere2 GEMMs) over the benchmark's case list (small with
 * params->quick or on the reference). *out is malloc'd (free with
 * swacl_bench_ops_free), *n cases; a case that fails carries its message in
 * error and the others still run. params may be NULL.
 */
SWACL_API swacl_status swacl_bench_ops(swacl_ctx *ctx, const swacl_bench_params *params,
                                       swacl_bench_op **out, int *n);
SWACL_API void swacl_bench_ops_free(swacl_bench_op *ops);

/** Cold vs warm start: (checkpoint load +) context + model create + a
 * 64-token forward + teardown, first with an empty program cache, then
 * again with the cache it filled. */
typedef struct {
    double cold_s, warm_s;
    double cold_compile_s, warm_compile_s;  /* swacl_ctx_compile_seconds    */
    int cold_cache_hits, cold_cache_misses; /* program builds: cache or not */
    int warm_cache_hits, warm_cache_misses;
    /* the warm run by phase, wall seconds: checkpoint load (0 for the
     * preset), context create, model create (weight upload), the forward,
     * model + context + weights destroy; and the process CPU seconds of the
     * whole warm run (all threads: on a shared machine the wall time
     * includes waiting for a core, the CPU time does not) */
    double warm_load_s, warm_ctx_s, warm_model_s, warm_forward_s, warm_teardown_s;
    double warm_cpu_s;
} swacl_bench_start_result;

/** Measure start-up on `device` (a selector) with a fresh temporary cache
 * directory (removed after). ctx receives errors only. params may be NULL. */
SWACL_API swacl_status swacl_bench_start(swacl_ctx *ctx, const char *device,
                                         const swacl_bench_params *params,
                                         swacl_bench_start_result *out);
/** The same for the checkpoint in model_dir (a Hugging Face directory or a
 * .gguf file, loaded inside the timing as `swacl run --model` does; NULL:
 * the cohere2 preset with random weights, as swacl_bench_start). */
SWACL_API swacl_status swacl_bench_start_model(swacl_ctx *ctx, const char *device,
                                               const char *model_dir,
                                               const swacl_bench_params *params,
                                               swacl_bench_start_result *out);

#define SWACL_BENCH_MAX_LENS 8

typedef struct {
    int quick;
    int max_seq; /* cap on prefill / decode lengths (0: 16384 on CPUs,
                    32768 else, 2048 on the reference, 1024 with quick)      */
    /* NULL: cohere2 vs baseline (random weights, alternating measurements);
     * else this one model (weights borrowed, not copied).                   */
    const swacl_config *model_cfg;
    const swacl_weights *model_weights;
    swacl_bench_progress_fn progress;
    void *user;
} swacl_bench_e2e_params;

typedef struct {
    int n_models;       /* 2: cohere2, baseline; 1: the given model          */
    char model[2][16];  /* "cohere2", "baseline"; or "model"                 */
    int n_seq, seq_len[SWACL_BENCH_MAX_LENS];
    double prefill_tps[2][SWACL_BENCH_MAX_LENS]; /* tokens/s, 0 = not run    */
    uint64_t kv_bytes[2][SWACL_BENCH_MAX_LENS];  /* swacl_kv_bytes at seq_len */
    int n_ctx, ctx_len[SWACL_BENCH_MAX_LENS];
    int decode_steps;                            /* timed steps per context   */
    double decode_tps[2][SWACL_BENCH_MAX_LENS];  /* tokens/s, 0 = not run    */
} swacl_bench_e2e_result;

/**
 * End to end on ctx: prefill tokens/s (swacl_model_forward) at each length,
 * then decode tokens/s through a session at each context (chunked prefill up
 * to it, single-token steps). params may be NULL (the full cohere2 vs
 * baseline run). On failure *out keeps what was measured.
 */
SWACL_API swacl_status swacl_bench_e2e(swacl_ctx *ctx, const swacl_bench_e2e_params *params,
                                       swacl_bench_e2e_result *out);

#define SWACL_BENCH_MAX_DEVICES 32

/** What builds the benchmarked pipeline: swacl_pipeline_create, or one with
 * its signature that spreads it over processes (the CLI passes the MPI one,
 * host/mpi/swacl_mpi.h, so the library never needs MPI). Such a builder
 * returns the pipeline on one process only; devices then are "RANK:SEL,..."
 * and each device alone runs its selector after the "RANK:" on this process. */
typedef swacl_status (*swacl_pipeline_create_fn)(swacl_ctx *ctx, const char *devices,
                                                 const char *placement, const swacl_config *cfg,
                                                 const swacl_weights *weights,
                                                 swacl_pipeline **out);

typedef struct {
    int quick;
    const char *devices;   /* as swacl_bench_devices / swacl_pipeline_create */
    const char *placement; /* "auto" or a SPEC, as swacl_pipeline_create     */
    const swacl_config *model_cfg;      /* NULL: cohere2, random weights     */
    const swacl_weights *model_weights; /* borrowed                          */
    const char *model_name; /* model_cfg's name in progress lines (NULL: "model") */
    int batch;         /* 0: 8                                               */
    int max_seq;       /* caps seq (512; 128 with quick); 0: no cap          */
    int micro_batches; /* 0: auto (swacl_pipeline_set_micro_batches)         */
    swacl_bench_progress_fn progress;
    void *user;
    swacl_pipeline_create_fn pipeline_create; /* NULL: swacl_pipeline_create */
} swacl_bench_pipeline_params;

typedef struct {
    char selector[64];
    char device_name[256];
    double tokens_per_s; /* best timed forward alone; 0 = failed             */
} swacl_bench_single;

typedef struct {
    int created;        /* 1 once the pipeline was built                     */
    int n_layers, batch, seq, iters;
    int micro_batches;  /* as used (auto resolved)                           */
    char description[2048]; /* "layers 0-3 on dev 0 (name), 4-7 on dev 1 ..." */
    int n_stages;
    swacl_pipeline_stage stages[SWACL_BENCH_MAX_DEVICES];
    double busy_fraction[SWACL_BENCH_MAX_DEVICES]; /* busy / wall, timed runs */
    double seconds, tokens_per_s; /* best timed pipeline forward              */
    int n_single;
    swacl_bench_single single[SWACL_BENCH_MAX_DEVICES];
    double speedup;     /* tokens_per_s / the best single device's           */
    double nmse;        /* pipeline vs the first device alone; < 0: not run  */
    int ok;             /* nmse within 1e-6                                  */
    int failures;       /* single devices that failed + a failed check       */
    /* per stage, mean per timed forward: busy and transfer seconds (for a
     * stage on another process, host time in its links: waits included) */
    double stage_busy_s[SWACL_BENCH_MAX_DEVICES], stage_transfer_s[SWACL_BENCH_MAX_DEVICES];
} swacl_bench_pipeline_result;

/**
 * Batch prefill of the layer pipeline over params->devices vs each listed
 * device alone, interleaved (pipeline, dev 0, dev 1, ...), one warm-up then
 * the best of the timed runs; the pipeline's output is checked against the
 * first device's. Failures of a single device or of the check are counted
 * in out->failures (status SWACL_OK); a pipeline that cannot be built
 * (out->created == 0) or whose forward fails returns its status.
 * params is required (devices NULL: "all"; placement NULL: "auto").
 */
SWACL_API swacl_status swacl_bench_pipeline(swacl_ctx *ctx,
                                            const swacl_bench_pipeline_params *params,
                                            swacl_bench_pipeline_result *out);
/** Only build (and drop) the pipeline: a bad SPEC or device, or a placement
 * that does not fit, fails fast; "auto" also fills the calibration cache. */
SWACL_API swacl_status swacl_bench_pipeline_check(swacl_ctx *ctx,
                                                  const swacl_bench_pipeline_params *params);

/** What swacl_bench_report runs (`swacl bench` options); zero = default. */
typedef struct {
    int quick;
    int e2e_only;      /* skip start-up, peaks and kernels                   */
    int pipeline_only; /* only the pipeline section (needs placement)        */
    int max_seq;       /* as swacl_bench_e2e_params / _pipeline_params       */
    int batch, micro_batches;  /* pipeline, as swacl_bench_pipeline_params   */
    const char *devices;   /* as swacl_bench_devices (NULL: "all")           */
    const char *placement; /* NULL: no pipeline section; else "auto" / SPEC  */
    const char *model_dir; /* NULL: cohere2 vs baseline; else a Hugging Face
                              checkpoint, loaded once (also its label)       */
    swacl_bench_progress_fn progress; /* lines "[device] ..."; NULL: silent */
    void *user;
    /* NULL: swacl_pipeline_create; else as swacl_bench_pipeline_params (a
     * builder over processes: no build-and-drop check ahead of the run) */
    swacl_pipeline_create_fn pipeline_create;
} swacl_bench_report_params;

/**
 * The whole `swacl bench` run: for each device of params->devices its own
 * context with start-up, peaks, kernels and end to end (swacl_bench_* above),
 * then with a placement the pipeline section; *json is the report (the
 * object `swacl bench --json` writes: devices[], quick, model, e2e_only,
 * pipeline_only, pipeline{}, total_s), the caller's (swacl_free).
 * *failures counts failed cases / devices / checks (still SWACL_OK).
 * Refused before any device runs (*json NULL): an empty device list, a
 * --model that does not load or validate, a placement that cannot be built
 * (SWACL_INVALID_ARG: a usage error such as a bad SPEC). A pipeline that
 * cannot be built under pipeline_only returns its status with *json set
 * (pipeline.error). ctx receives errors only (a reference ctx is fine).
 */
SWACL_API swacl_status swacl_bench_report(swacl_ctx *ctx, const swacl_bench_report_params *params,
                                          char **json, int *failures);
/** The swacl_bench_report JSON as text on out: per device its scalars and
 * tables (start-up and peaks as "start ..." / "peaks ..." lines), then the
 * pipeline section. SWACL_FORMAT when json is not one object. */
SWACL_API swacl_status swacl_bench_report_print(swacl_ctx *ctx, const char *json, FILE *out);
/** A gnuplot script (data inline) that draws prefill tokens/s vs sequence
 * length, one series per (device, model), from a swacl_bench_report JSON
 * into png; *script is the caller's (swacl_free). SWACL_INVALID_ARG when
 * the report has no prefill results. */
SWACL_API swacl_status swacl_bench_plot_script(swacl_ctx *ctx, const char *json,
                                               const char *png, char **script);

/* ------------------------------------------------------------------------ */
/* Host helpers for programs that drive models (the swacl CLI is one).       */

/** The layer pattern in one line, e.g. "W512+rope W512+rope G+temp" (span
 * Global/Window/Chunk with its size, +rope, +temp per layer); "..." when
 * it does not fit len. */
SWACL_API void swacl_config_pattern(const swacl_config *cfg, char *buf, size_t len);

/** Free memory the library allocated for the caller (ids, .npy data). */
SWACL_API void swacl_free(void *p);

/** Print a report (one JSON object, e.g. swacl_bench_report's or what
 * `swacl ... --json` prints) for people: scalars as aligned "key  value"
 * lines (byte counts humanised, booleans yes/no), each array of objects as
 * a table. SWACL_FORMAT when json is not one object. ctx may be NULL. */
SWACL_API swacl_status swacl_report_print(swacl_ctx *ctx, const char *json, FILE *out);

/** Seeded host random numbers, the stream swacl's tools draw their inputs
 * from: the same *state gives the same numbers; *state advances. Ids are
 * uniform in [0, vocab), floats in [-1, 1). */
SWACL_API void swacl_random_ids(uint64_t *state, int vocab, int32_t *ids, size_t n);
SWACL_API void swacl_random_uniform(uint64_t *state, float *x, size_t n);

/**
 * Token ids as text: ids separated by whitespace or commas, one line per
 * sequence, every line the same length, each id in [0, vocab). *ids
 * [*batch, *seq] is the caller's (swacl_free). name labels messages
 * ("name:line: ..."). SWACL_FORMAT for bad text; messages go to ctx.
 */
SWACL_API swacl_status swacl_ids_parse(swacl_ctx *ctx, const char *text, const char *name,
                                       int vocab, int32_t **ids, int *batch, int *seq);
/** swacl_ids_parse on the contents of a file (SWACL_IO when unreadable, not
 * a regular file or over 64 MiB; SWACL_FORMAT for a NUL byte in it). */
SWACL_API swacl_status swacl_ids_read(swacl_ctx *ctx, const char *path, int vocab, int32_t **ids,
                                      int *batch, int *seq);

/**
 * Check the sizes of a forward pass or session of cfg from outside (files,
 * options) before anything is allocated, in 64-bit: batch, seq >= 1,
 * batch x seq <= SWACL_MAX_TOKENS, the input (tokens x input_dim) and the
 * output (batch, or batch x seq with all_positions, x output width) at most
 * SWACL_MAX_ELEMS elements. SWACL_INVALID_ARG with a message naming the
 * sizes and the limit. swacl_input_load calls it.
 */
SWACL_API swacl_status swacl_input_check(swacl_ctx *ctx, const swacl_config *cfg, int64_t batch,
                                         int64_t seq, int all_positions);

/**
 * The input of a forward pass of cfg, as swacl's tools prepare it: token ids
 * from the text file ids_path (swacl_ids_read), or a float32 .npy file
 * [B, T, input_dim] at npy_path (continuous-input models); B and T are then
 * the file's and batch / seq are ignored. With both paths NULL, batch x seq
 * seeded random ids or input vectors (swacl_random_ids / _uniform from
 * state). *in's arrays are the caller's: swacl_input_free. SWACL_INVALID_ARG
 * for both paths, or a file of the wrong kind for cfg; SWACL_FORMAT for a
 * bad file; messages go to ctx.
 */
SWACL_API swacl_status swacl_input_load(swacl_ctx *ctx, const swacl_config *cfg,
                                        const char *ids_path, const char *npy_path, int batch,
                                        int seq, uint64_t state, swacl_input *in);
/** Free in's ids / embeds (from swacl_input_load) and set them NULL. */
SWACL_API void swacl_input_free(swacl_input *in);

/** float32 .npy files (C order, little-endian, 1..4 dimensions). *data is
 * the caller's (swacl_free). */
SWACL_API swacl_status swacl_npy_load(swacl_ctx *ctx, const char *path, float **data, int *ndim,
                                      int64_t shape[4]);
SWACL_API swacl_status swacl_npy_save(swacl_ctx *ctx, const char *path, const float *data,
                                      int ndim, const int64_t *shape);

/** Next-token sampling: temperature, then top-k, then top-p (nucleus). */
typedef struct {
    double temperature; /* 0: greedy (argmax), the RNG is not used          */
    int top_k;          /* 0: off                                           */
    double top_p;       /* 1: off; in (0, 1]                                */
} swacl_sample_params;
typedef struct swacl_sampler swacl_sampler;
/** A sampler over vocab logits, its RNG starting at state (see
 * swacl_random_ids). */
SWACL_API swacl_status swacl_sampler_create(swacl_ctx *ctx, const swacl_sample_params *p,
                                            int vocab, uint64_t state, swacl_sampler **out);
SWACL_API void swacl_sampler_destroy(swacl_sampler *s);
/** The sampled id for one row of vocab logits. */
SWACL_API int32_t swacl_sampler_next(swacl_sampler *s, const float *logits);

/* ------------------------------------------------------------------------ */
/* GEMM tuning (host/tune/): search CLBlast SGEMM parameters (Xgemm,          */
/* XgemmDirect and the direct/indirect switch) for a model's GEMM shapes on  */
/* one OpenCL device. Every candidate is checked against the CPU reference's */
/* GEMM before it is timed; the winner is stored in the swacl cache dir      */
/* (gemm-tune-<device>-<hash>.json), which CL backends on that device apply. */

typedef struct {
    const char *device;        /* selector as swacl_ctx_params.device, not
                                  "ref"; opened without any tune file, so
                                  the "default" figures are CLBlast's own   */
    const swacl_config *model; /* default shapes: its layer GEMMs (q, k/v,
                                  o, FFN) at M = 1, 512, 1024, 2048, 4096
                                  (searched at 1, 512, 2048); NULL: the
                                  cohere2 preset                            */
    const char *shapes;        /* or "M,N,K;M,N,K;..." (each 1..65536, all
                                  searched): C[M,N] = A[M,K] W[N,K]^T       */
    double budget_s;           /* seconds for the search phases (>= 0)      */
    int save;                  /* write the tune file when the winner beats
                                  the defaults                              */
    const char *probe_exe;     /* compile + check each new set first in a
                                  child process, `probe_exe tune --probe-set
                                  SET [--device D]` (a swacl CLI; it exits 0
                                  ok, 3 wrong result), so a compiler crash
                                  rejects the set instead of killing the
                                  caller; NULL: in this process             */
    void (*progress)(void *user, const char *line); /* NULL: silent         */
    void *user;
} swacl_tune_gemm_params;

SWACL_API swacl_tune_gemm_params swacl_tune_gemm_params_default(void);

#define SWACL_TUNE_MAX_SHAPES 64
typedef struct {
    int M, N, K;
    int direct;                /* the tuned switch sends it to XgemmDirect  */
    double default_gflops;     /* 0 when CLBlast's defaults failed on it    */
    double tuned_gflops, openblas_gflops;
} swacl_tune_gemm_shape;

typedef struct {
    const char *name;          /* CLBlast's parameter name (static string)  */
    size_t value;
} swacl_tune_gemm_value;

typedef struct {
    char device[256], driver_version[128];
    swacl_tune_gemm_value xgemm[32], direct[32]; /* the winner              */
    int n_xgemm, n_direct;
    size_t min_indirect_size;  /* direct when M*N*K < this^3               */
    char xgemm_desc[512], direct_desc[256]; /* the winner, one line each    */
    int n_shapes;
    swacl_tune_gemm_shape shapes[SWACL_TUNE_MAX_SHAPES];
    double default_gflops_geomean, tuned_gflops_geomean, openblas_gflops_geomean;
    int tried, rejected, pruned;
    double search_seconds, total_seconds;
    int saved;
    char tune_file[1200];      /* when saved                                */
    char not_saved[256];       /* when not: why                             */
} swacl_tune_gemm_result;

/** Run the search (minutes; budget_s bounds it). ctx receives the message
 * of a failure (its own device is not used). SWACL_INVALID_ARG: bad
 * shapes or "ref"; SWACL_NO_DEVICE; SWACL_MISMATCH: no candidate (or the
 * combined winner) gives correct results. */
SWACL_API swacl_status swacl_tune_gemm(swacl_ctx *ctx, const swacl_tune_gemm_params *p,
                                       swacl_tune_gemm_result *out);
/** Compile one set (swacl_tune_gemm's SET text) on device and check it on
 * an odd shape: what a probe_exe child does. SWACL_MISMATCH when wrong. */
SWACL_API swacl_status swacl_tune_gemm_probe(swacl_ctx *ctx, const char *device, const char *set);

/* Tuning swacl's own prefill GEMM (host/tune/tune_own.c, `swacl tune
 * --own`): which own kernel (gemm.cl's register micro-kernel "mk", or
 * gemm_lm.cl's local-memory tiles "lm"), its launch shape (mk: rows per
 * work-item mr, group size lx, K block kc, M block mc and the M it
 * applies from, picked per M class; lm: tile and
 * work per item), and per weight class (f32; f16 standing for the packed
 * types) own kernel or CLBlast, with the M*N*K size below which CLBlast
 * runs. Every candidate is checked against the CPU reference on every
 * timed shape up to M 2048 (output filled with NaN first) and on two odd check shapes
 * with bias and accumulate; a wrong or failing one is rejected. The winner
 * is stored in the swacl cache dir (gemm-own-<device>-<hash>.json), which
 * CL backends on that device apply over the per-device-class table.       */
typedef struct {
    const char *device;        /* selector as swacl_ctx_params.device       */
    const swacl_config *model; /* default shapes: its layer GEMMs at M = 512,
                                  2048 and 8192 (quick: 512); NULL: cohere2 */
    const char *shapes;        /* or "M,N,K;M,N,K;..." (each 1..65536)      */
    double budget_s;           /* no new candidate after this many seconds
                                  of search (the first always runs)        */
    int quick;                 /* three candidates, not the full descent    */
    int save;                  /* write the tune file when the result beats
                                  the table's choice (geometric mean)       */
    void (*progress)(void *user, const char *line); /* NULL: silent         */
    void *user;
} swacl_tune_own_params;

SWACL_API swacl_tune_own_params swacl_tune_own_params_default(void);
/** Run the search; *json (swacl_free) is the report: the winner, the table
 * row, every candidate with its verdict, and per shape and weight class
 * GFLOP/s of the table's choice, the own kernel, CLBlast and OpenBLAS
 * sgemm in the same run (swacl_report_print renders it). SWACL_MISMATCH
 * when no candidate is correct; SWACL_NO_DEVICE; SWACL_INVALID_ARG. */
SWACL_API swacl_status swacl_tune_own(swacl_ctx *ctx, const swacl_tune_own_params *p, char **json);
/** The CLBlast tuner's result as the JSON object `swacl tune --json`
 * prints (swacl_free). NULL when out of memory. */
SWACL_API char *swacl_tune_gemm_result_json(const swacl_tune_gemm_result *r);

/* ------------------------------------------------------------------------ */
/* Tokenizer: a checkpoint's tokenizer.json (Hugging Face tokenizers format,
 * BPE models: byte-level with a regex pre-tokenizer as Llama 3 / Qwen /
 * Cohere / GPT-2, and SentencePiece-style with byte fallback as Llama 2 /
 * Mistral / Gemma). Encoding and decoding give exactly what the tokenizers
 * package gives (tests/fixtures/tok/README.md). A tokenizer is read-only
 * once loaded: several threads may encode with one at the same time.     */

typedef struct swacl_tokenizer swacl_tokenizer;

/** Load path: a model directory (its tokenizer.json, with the EOS / BOS of
 * tokenizer_config.json and generation_config.json when present) or a
 * tokenizer.json file (those two files beside it). A malformed file is
 * SWACL_FORMAT, an unknown model type or component SWACL_UNSUPPORTED; the
 * message names the component ("pre_tokenizer.pretokenizers[1]: ..."). */
SWACL_API swacl_status swacl_tokenizer_load(swacl_ctx *ctx, const char *path, swacl_tokenizer **out);
/** The same from tokenizer.json text in memory (no EOS / BOS files). */
SWACL_API swacl_status swacl_tokenizer_from_json(swacl_ctx *ctx, const char *json, size_t len,
                                                 swacl_tokenizer **out);
SWACL_API void swacl_tokenizer_destroy(swacl_tokenizer *tok);

/** text[0..len) -> *ids (the caller's, swacl_free; never NULL on success),
 * *n_ids. add_special: run the post-processor (BOS / EOS as the file's
 * template says). Special tokens written in the text are matched. Text
 * that is not valid UTF-8 is refused (SWACL_INVALID_ARG, with the byte
 * offset): tokenizers only ever sees valid strings. */
SWACL_API swacl_status swacl_tokenizer_encode(swacl_ctx *ctx, const swacl_tokenizer *tok,
                                              const char *text, size_t len, int add_special,
                                              int32_t **ids, int *n_ids);
/** ids -> *text (NUL-terminated UTF-8, the caller's: swacl_free), *len
 * bytes (len may be NULL). skip_special drops special added tokens; ids
 * the tokenizer does not know are skipped, as tokenizers does. */
SWACL_API swacl_status swacl_tokenizer_decode(swacl_ctx *ctx, const swacl_tokenizer *tok,
                                              const int32_t *ids, int n_ids, int skip_special,
                                              char **text, size_t *len);
/** Ids are < this (model vocabulary and added tokens). */
SWACL_API int swacl_tokenizer_vocab_size(const swacl_tokenizer *tok);
/** The token string of id ("Ġthe", "<0x0A>", "<s>"), not NUL-safe: use
 * *len; NULL for an unknown id. Valid while tok lives. */
SWACL_API const char *swacl_tokenizer_piece(const swacl_tokenizer *tok, int32_t id, size_t *len);
/** End-of-sequence ids: generation_config.json eos_token_id (one or a
 * list), then tokenizer_config.json eos_token. Returns the count. */
SWACL_API int swacl_tokenizer_eos(const swacl_tokenizer *tok, const int32_t **ids);
SWACL_API int swacl_tokenizer_is_eos(const swacl_tokenizer *tok, int32_t id);
/** generation_config.json bos_token_id, else tokenizer_config.json
 * bos_token, else -1 (informational: BOS is added by the post-processor). */
SWACL_API int32_t swacl_tokenizer_bos(const swacl_tokenizer *tok);

/** Streaming decoder: feed ids one at a time, get the new text. A step
 * returns text only when it ends in a complete character, so no UTF-8
 * sequence is ever split across steps (byte-level tokens that carry half
 * a character wait for the rest); what steps return, concatenated, is the
 * decode of all ids so far. *text is valid until the next call. flush:
 * whatever is still held (possibly U+FFFD), then the stream starts over. */
typedef struct swacl_tokenizer_stream swacl_tokenizer_stream;
SWACL_API swacl_status swacl_tokenizer_stream_create(swacl_ctx *ctx, const swacl_tokenizer *tok,
                                                     int skip_special, swacl_tokenizer_stream **out);
SWACL_API swacl_status swacl_tokenizer_stream_step(swacl_ctx *ctx, swacl_tokenizer_stream *s,
                                                   int32_t id, const char **text, size_t *len);
SWACL_API swacl_status swacl_tokenizer_stream_flush(swacl_ctx *ctx, swacl_tokenizer_stream *s,
                                                    const char **text, size_t *len);
SWACL_API void swacl_tokenizer_stream_destroy(swacl_tokenizer_stream *s);

/** `swacl generate --prompt` in one call: the tokenizer of model_dir, the
 * prompt from text or file ("-": stdin; exactly one of the two), encoded
 * with the post-processor's special tokens (BOS where the file adds it).
 * Every id must be < vocab (the model's); an empty encoding is refused.
 * *tok (swacl_tokenizer_destroy) and *ids (swacl_free) are the caller's. */
SWACL_API swacl_status swacl_tokenizer_prompt(swacl_ctx *ctx, const char *model_dir, const char *text,
                                              const char *file, int vocab, swacl_tokenizer **tok,
                                              int32_t **ids, int *n_ids);

/** The output of `swacl tokenize` / `detokenize` for the tokenizer at path
 * (as swacl_tokenizer_load), on input or the contents of file ("-":
 * stdin). Tokenize: the ids on one line (VERBOSE: one "id<TAB>"piece""
 * line each), with JSON {"count", "ids"[, "pieces"]}; special tokens as
 * the post-processor adds them unless NO_SPECIAL. Detokenize (input: ids
 * as swacl_ids_parse reads one line): the text, with JSON {"count",
 * "text"}. *out ends with a newline and is the caller's (swacl_free). */
#define SWACL_TOKREP_DETOKENIZE 1u
#define SWACL_TOKREP_VERBOSE 2u
#define SWACL_TOKREP_JSON 4u
#define SWACL_TOKREP_NO_SPECIAL 8u
SWACL_API swacl_status swacl_tokenizer_report(swacl_ctx *ctx, const char *path, const char *input,
                                              const char *file, unsigned flags, char **out);

/** A whole text file, or stdin for "-" (a prompt): *text NUL-terminated,
 * the caller's (swacl_free); at most 64 MiB. */
SWACL_API swacl_status swacl_text_read(swacl_ctx *ctx, const char *path, char **text, size_t *len);

#ifdef __cplusplus
}
#endif
#endif /* SWACL_H */
