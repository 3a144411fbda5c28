/*
 * swacl.h - the public API of libswacl, a portable OpenCL backend for
 * hybrid-attention transformers (sliding-window RoPE layers interleaved with
 * global causal NoPE layers).
 *
 * Conventions
 *   - Opaque handles, each with a create/destroy pair; destroy accepts NULL.
 *   - Every fallible call returns a swacl_status; the detailed message (the
 *     OpenCL error name, the failing call, the first lines of a build log) is
 *     kept on the context: swacl_ctx_errmsg().
 *   - No global mutable state: two contexts never share anything.
 *   - All tensors are float32, row-major (C order). Dimension names used in
 *     comments: B batch, T tokens, D hidden, H heads, Hkv KV heads, d head
 *     dim, W window, F FFN width, V vocabulary, p absolute 0-based position.
 *
 * Semantics follow ../shared/ARCH.md Part A (masks, RoPE layouts, norms).
 */
#ifndef SWACL_H
#define SWACL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Exported from the shared library (built with -fvisibility=hidden): every
 * public declaration carries it. Define it empty before including this
 * header to declare the API without visibility attributes. */
#ifndef SWACL_API
#define SWACL_API __attribute__((visibility("default")))
#endif

#define SWACL_VERSION_MAJOR 0
#define SWACL_VERSION_MINOR 1
#define SWACL_VERSION_PATCH 0
#define SWACL_VERSION_NUMBER \
    (SWACL_VERSION_MAJOR * 10000 + SWACL_VERSION_MINOR * 100 + SWACL_VERSION_PATCH)
#define SWACL_VERSION_STRING "0.1.0"

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

/** Static text for a status code (never NULL). */
SWACL_API const char *swacl_status_string(swacl_status s);

/* ------------------------------------------------------------------------ */
/* Model configuration: a plain struct (ARCH.md Part B section 7).           */

#define SWACL_MAX_LAYERS 128

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
    /* SWAN-GPT style (constants UNVERIFIED, see ARCH.md section 2):
     * q *= max(1, ln(p+1) / ln(p0)); p0 = training length L_train.          */
    SWACL_TEMP_LOG_RATIO = 2
} swacl_temp;

typedef enum {
    SWACL_QKNORM_NONE = 0,
    SWACL_QKNORM_RMS_AFTER_ROPE = 1 /* Llama 4: weightless RMS per head      */
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

typedef enum { SWACL_FFN_SWIGLU = 0, SWACL_FFN_GELU = 1 } swacl_ffn;
typedef enum {
    SWACL_NORM_RMS = 0,       /* w * x / sqrt(mean(x^2) + eps)               */
    SWACL_NORM_LAYER = 1,     /* w * (x - mu) / sqrt(var + eps) + b          */
    SWACL_NORM_LAYER_NOBIAS = 2 /* Cohere: LayerNorm without bias            */
} swacl_norm;
typedef enum {
    SWACL_BLOCK_SEQUENTIAL = 0, /* x += attn(n1(x)); x += ffn(n2(x))         */
    SWACL_BLOCK_PARALLEL = 1    /* Cohere: h = n(x); x += attn(h) + ffn(h)   */
} swacl_block;
typedef enum {
    SWACL_OUTPUT_LOGITS = 0,     /* logits = (final_norm(x) W_lm^T) * scale  */
    SWACL_OUTPUT_LAST_HIDDEN = 1 /* final_norm(x) at the last position       */
} swacl_output;

typedef struct {
    int vocab_size;     /* > 0: token-id input (embedding lookup)            */
    int input_dim;      /* > 0 (and vocab_size == 0): continuous input
                           [B, T, input_dim], projected to hidden when
                           input_dim != hidden_size                          */
    int hidden_size;    /* D                                                 */
    int n_heads;        /* H                                                 */
    int n_kv_heads;     /* Hkv, divides H (GQA)                              */
    int head_dim;       /* d (32, 64 or 128 on the OpenCL path)              */
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
} swacl_config;

/** Names of the built-in presets, NULL-terminated. */
SWACL_API const char *const *swacl_preset_names(void);

/**
 * Fill *cfg with a built-in preset: "rnope-swa", "swan", "cohere2",
 * "irope", "baseline". @return SWACL_INVALID_ARG for an unknown name.
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

/** Width of one output row: hidden_size for LAST_HIDDEN, vocab for LOGITS. */
SWACL_API int swacl_output_size(const swacl_config *cfg);

/**
 * Check a configuration. On failure writes a one-line reason into msg
 * (when msg != NULL) and @return SWACL_INVALID_ARG.
 */
SWACL_API swacl_status swacl_config_validate(const swacl_config *cfg, char *msg, size_t msg_len);

/** Bytes of KV cache a decode at context length n_ctx holds for batch B
 * (global layers keep n_ctx positions, window layers min(W, n_ctx)). */
SWACL_API uint64_t swacl_kv_bytes(const swacl_config *cfg, int batch, int n_ctx, uint64_t *global_bytes,
                        uint64_t *window_bytes);

/* ------------------------------------------------------------------------ */
/* Host weights: named float32 tensors (HF-style names, nn.Linear [out, in]). */

typedef struct swacl_weights swacl_weights;

/** Seeded random weights for cfg (uniform, scaled by 1/sqrt(fan_in)). */
SWACL_API swacl_status swacl_weights_create_random(const swacl_config *cfg, uint64_t seed,
                                         swacl_weights **out);
SWACL_API void swacl_weights_destroy(swacl_weights *w);
/** Number of tensors, and the i-th tensor's name/shape/data (borrowed). */
SWACL_API int swacl_weights_count(const swacl_weights *w);
SWACL_API const char *swacl_weights_name(const swacl_weights *w, int i, int *ndim, int64_t shape[4],
                               const float **data);

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
 * error: *n = 0. On an OpenCL failure a message goes to err.
 */
SWACL_API swacl_status swacl_devices_list(swacl_device_info **out, int *n, char *err, size_t err_len);
SWACL_API void swacl_devices_free(swacl_device_info *list);

/* ------------------------------------------------------------------------ */
/* Context: one backend (an OpenCL device, or the CPU reference "ref").       */

typedef struct swacl_ctx swacl_ctx;

typedef struct {
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
    int threads;            /* CPU reference threads (0 = all cores)         */
    int verbose;            /* log compile/cache events to stderr            */
} swacl_ctx_params;

SWACL_API swacl_ctx_params swacl_ctx_params_default(void);

/**
 * Create a context. On failure other than out-of-memory, *out still receives
 * a context that holds only the error message (read it with
 * swacl_ctx_errmsg, then destroy it), as sqlite3_open does.
 */
SWACL_API swacl_status swacl_ctx_create(const swacl_ctx_params *params, swacl_ctx **out);
SWACL_API void swacl_ctx_destroy(swacl_ctx *ctx);
/** The last detailed error message ("" if none). */
SWACL_API const char *swacl_ctx_errmsg(const swacl_ctx *ctx);
/** Human-readable device name ("cpu-reference" for ref). */
SWACL_API const char *swacl_ctx_device_name(const swacl_ctx *ctx);
/** 1 when this context runs the CPU reference. */
SWACL_API int swacl_ctx_is_reference(const swacl_ctx *ctx);
/** Seconds spent compiling / loading programs so far, and how many program
 * builds hit the binary cache vs compiled from source. */
SWACL_API double swacl_ctx_compile_seconds(const swacl_ctx *ctx, int *cache_hits, int *cache_misses);

/* ------------------------------------------------------------------------ */
/* Model: a config plus its weights resident on a context's device.          */

typedef struct swacl_model swacl_model;

SWACL_API swacl_status swacl_model_create(swacl_ctx *ctx, const swacl_config *cfg,
                                const swacl_weights *weights, swacl_model **out);
SWACL_API void swacl_model_destroy(swacl_model *m);
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
/* ring of exactly W positions and CHUNK layers a ring of C, so their memory */
/* does not grow with the context. Only global layers bound the context.     */

typedef struct swacl_session swacl_session;

SWACL_API swacl_status swacl_session_create(swacl_model *m, int batch, int max_ctx, swacl_session **out);
SWACL_API void swacl_session_destroy(swacl_session *s);
/** Tokens cached so far for sequence b. */
SWACL_API int swacl_session_pos(const swacl_session *s, int b);
/** Bytes held by this session's KV cache. */
SWACL_API uint64_t swacl_session_kv_bytes(const swacl_session *s);
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
/* Hugging Face checkpoints (ARCH.md Part B 4-7): a directory with config.json
 * and model.safetensors, or shards + model.safetensors.index.json. Weights in
 * F32, F16 or BF16 are memory-mapped and converted to float32 at load.
 * model_type: cohere2, smollm3, llama4_text (dense FFN layers only), mistral,
 * llama, and "swacl" (written by swacl_save_hf, carrying the full per-layer
 * spec). Errors (a one-line message naming the file, key or tensor in err):
 * SWACL_IO (missing file), SWACL_FORMAT (malformed safetensors/JSON, missing
 * tensor, wrong shape), SWACL_UNSUPPORTED (model_type, MoE, rope_scaling,
 * dtype swacl does not implement).                                          */

SWACL_API swacl_status swacl_load_hf(const char *dir, swacl_config *cfg, swacl_weights **out, char *err,
                           size_t err_len);
/** Write cfg + w to dir (created if needed): config.json with model_type
 * "swacl" and a swacl_layers array, model.safetensors in F32 with HF tensor
 * names. swacl_load_hf reads it back bit-exactly. */
SWACL_API swacl_status swacl_save_hf(const char *dir, const swacl_config *cfg, const swacl_weights *w,
                           char *err, size_t err_len);

/* ------------------------------------------------------------------------ */
/* Pipeline: the layer graph split across several devices (host/sched/).     */
/*                                                                           */
/* Each stage is a context + a model holding only its contiguous layer range */
/* (+ the input layer on the first stage, final norm + head on the last) and */
/* its layers' KV cache. A batch is cut into micro-batches of sequences that */
/* flow through the stages, one host thread per stage, so the devices work   */
/* at the same time; the residual x crosses devices through host memory.     */
/*                                                                           */
/*   swacl_pipeline *p; char err[512];                                       */
/*   swacl_pipeline_create("0,1", "auto", &cfg, w, NULL, &p, err, sizeof err);*/
/*   swacl_pipeline_forward(p, &in, 0, out);                                 */
/*   swacl_pipeline_describe(p, stages, 8, &n);   (layers + busy seconds)    */
/*   swacl_pipeline_destroy(p);                                              */

typedef struct swacl_pipeline swacl_pipeline;
typedef struct swacl_pipeline_session swacl_pipeline_session;

/**
 * Build a pipeline.
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
 * @param base      context parameters for every stage (device ignored);
 *                  may be NULL.
 * @return SWACL_NO_DEVICE (bad device), SWACL_INVALID_ARG (bad SPEC),
 *         SWACL_OUT_OF_MEMORY (a stage does not fit: the message names the
 *         device and the bytes), or a context/model creation error; the
 *         message goes to err.
 */
SWACL_API swacl_status swacl_pipeline_create(const char *devices, const char *placement,
                                   const swacl_config *cfg, const swacl_weights *weights,
                                   const swacl_ctx_params *base, swacl_pipeline **out, char *err,
                                   size_t err_len);
SWACL_API void swacl_pipeline_destroy(swacl_pipeline *p);
/** The last detailed error message of a pipeline call ("" if none). */
SWACL_API const char *swacl_pipeline_errmsg(const swacl_pipeline *p);
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
                                "host"                                      */
} swacl_pipeline_stage;

/** Stages in layer order: at most max written to stages, *n = count. */
SWACL_API swacl_status swacl_pipeline_describe(const swacl_pipeline *p, swacl_pipeline_stage *stages,
                                     int max, int *n);

/** As swacl_model_forward, through the stages. */
SWACL_API swacl_status swacl_pipeline_forward(swacl_pipeline *p, const swacl_input *in, int all_positions,
                                    float *out);

/** As swacl_session_*: each stage holds its own layers' KV cache. */
SWACL_API swacl_status swacl_pipeline_session_create(swacl_pipeline *p, int batch, int max_ctx,
                                           swacl_pipeline_session **out);
SWACL_API void swacl_pipeline_session_destroy(swacl_pipeline_session *s);
SWACL_API int swacl_pipeline_session_pos(const swacl_pipeline_session *s, int b);
SWACL_API swacl_status swacl_pipeline_session_step(swacl_pipeline_session *s, int T, const int *n_new,
                                         const int32_t *ids, const float *embeds, float *out);
SWACL_API swacl_status swacl_pipeline_session_prefill(swacl_pipeline_session *s, const swacl_input *in,
                                            int chunk, float *out);

/* ------------------------------------------------------------------------ */
/* Host helpers for programs that drive models (the swacl CLI is one).       */

/* (engineer D) Compare an output with a reference. */
typedef struct {
    double max_abs_err;  /* max |a - ref| over pairs where both are finite   */
    size_t worst;        /* index of that element                            */
    double nmse;         /* sum (a-ref)^2 / sum ref^2 over finite pairs
                            (the plain sum of squares when ref is all zero)  */
    size_t n_bad;        /* elements with |a-ref| > atol + rtol*|ref|        */
    size_t nonfinite;    /* elements where a or ref is NaN/Inf               */
} swacl_compare_result;
SWACL_API swacl_compare_result swacl_compare(const float *a, const float *ref, size_t n,
                                             double atol, double rtol);

/** The layer pattern in one line, e.g. "W512+rope W512+rope G+temp" (span
 * Global/Window/Chunk with its size, +rope, +temp per layer); "..." when
 * it does not fit len. */
SWACL_API void swacl_config_pattern(const swacl_config *cfg, char *buf, size_t len);

/** Free memory the library allocated for the caller (ids, .npy data). */
SWACL_API void swacl_free(void *p);

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
/** swacl_ids_parse on the contents of a file (SWACL_IO when unreadable). */
SWACL_API swacl_status swacl_ids_read(swacl_ctx *ctx, const char *path, int vocab, int32_t **ids,
                                      int *batch, int *seq);

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

#ifdef __cplusplus
}
#endif
#endif /* SWACL_H */
