/*
 * gguf_load.c - a llama.cpp GGUF file -> swacl_config + weights under the
 * HF names swacl uses (swacl_load_hf with a .gguf path); 2-D F16 / BF16 /
 * Q8_0 / Q4_0 tensors keep their bytes as stored (deliver()).
 *
 * Metadata keys and tensor names as llama.cpp defines them (src/llama-arch.cpp,
 * src/models/<arch>.cpp, convert_hf_to_gguf.py), per general.architecture:
 *   llama    RMS, SwiGLU, RoPE; every layer GLOBAL, or WINDOW when
 *            llama.attention.sliding_window is set (convert_hf_to_gguf does
 *            not write Mistral's window, so converted Mistral files run
 *            global attention, as in llama.cpp). The converter permutes q/k
 *            rows into adjacent-pair RoPE order (LlamaModel.permute); the
 *            loader puts them back, so the layers are HF's RoPE half.
 *   qwen2    as llama without the permutation (and no window: llama.cpp
 *            ignores one), q/k/v biases, no o bias.
 *   qwen3    as llama without the permutation, per-head QK RMS norm.
 *   gemma2   sandwich norms, tanh GeGLU, embeddings x sqrt(D), attention and
 *            final soft-capping, sliding_window on the layers of
 *            sliding_window_pattern (default 2), tied.
 *   gemma3   as gemma2 without attention soft-capping, QK norm, pattern 6,
 *            rope.freq_base_swa (10000) on sliding layers.
 *   cohere2  parallel block, bias-free LayerNorm, logit_scale; sliding
 *            layers (pattern default 4) WINDOW + RoPE pair, the others
 *            GLOBAL NoPE; tied.
 * llama.cpp's converter stores Gemma's RMSNorm weights as (1 + w), so gemma
 * files load with norm_unit_offset 0. Not in GGUF, so not mapped: per-
 * frequency RoPE factors (rope_freqs.weight, Llama 3.1) and rope scaling
 * other than none/linear are refused by name.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/file.h"
#include "model/gguf.h"
#include "model/hf.h"

#define FAILR(st, ...)                                                       \
    do {                                                                     \
        swacl_format_msg(err, err_len, __VA_ARGS__);                         \
        return (st);                                                         \
    } while (0)

typedef struct {
    const swacl_gguf_file *f;
    char arch[32];
    char *err;
    size_t err_len;
} meta;

static const swacl_gguf_kv *mkv(const meta *m, const char *suffix)
{
    char key[128];
    snprintf(key, sizeof key, "%s.%s", m->arch, suffix);
    return swacl_gguf_find_kv(m->f, key);
}

static int is_int(uint32_t t)
{
    return t <= SWACL_GGUF_I32 || t == SWACL_GGUF_U64 || t == SWACL_GGUF_I64;
}

/* {arch}.suffix as an integer in [lo, hi]; def when absent (def < lo:
 * required). An array whose entries are all equal counts as that value
 * (llama.cpp writes per-layer head counts that way). */
static swacl_status get_int(const meta *m, const char *suffix, long def, long lo, long hi,
                            long *out)
{
    char *err = m->err;
    size_t err_len = m->err_len;
    const swacl_gguf_kv *kv = mkv(m, suffix);
    if (!kv) {
        if (def < lo) FAILR(SWACL_FORMAT, "gguf: missing metadata %s.%s", m->arch, suffix);
        *out = def;
        return SWACL_OK;
    }
    int64_t v;
    if (is_int(kv->type)) {
        v = kv->i;
    } else if (kv->type == SWACL_GGUF_ARRAY && is_int(kv->arr_type) && kv->arr_type != SWACL_GGUF_I64 &&
               kv->arr_type != SWACL_GGUF_U64 && kv->arr_n > 0) {
        const int es = kv->arr_type <= SWACL_GGUF_I8 ? 1 : kv->arr_type <= SWACL_GGUF_I16 ? 2 : 4;
        int64_t first = 0;
        for (uint64_t j = 0; j < kv->arr_n; j++) {
            uint64_t u = 0;
            for (int b = es - 1; b >= 0; b--) u = u << 8 | kv->data[j * (uint64_t)es + (uint64_t)b];
            int64_t s = (kv->arr_type & 1) ? (int64_t)(u ^ (1ull << (8 * es - 1))) - (int64_t)(1ull << (8 * es - 1))
                                           : (int64_t)u;
            if (j == 0) first = s;
            else if (s != first)
                FAILR(SWACL_UNSUPPORTED, "gguf: %s.%s differs between layers (swacl needs one value)",
                      m->arch, suffix);
        }
        v = first;
    } else {
        FAILR(SWACL_FORMAT, "gguf: metadata %s.%s must be an integer", m->arch, suffix);
    }
    if (v < lo || v > hi)
        FAILR(SWACL_FORMAT, "gguf: metadata %s.%s = %lld is outside [%ld, %ld]", m->arch, suffix,
              (long long)v, lo, hi);
    *out = (long)v;
    return SWACL_OK;
}

static swacl_status get_float(const meta *m, const char *suffix, double def, float *out)
{
    char *err = m->err;
    size_t err_len = m->err_len;
    const swacl_gguf_kv *kv = mkv(m, suffix);
    if (!kv) {
        if (isnan(def)) FAILR(SWACL_FORMAT, "gguf: missing metadata %s.%s", m->arch, suffix);
        *out = (float)def;
        return SWACL_OK;
    }
    if (kv->type != SWACL_GGUF_F32 && kv->type != SWACL_GGUF_F64 && !is_int(kv->type))
        FAILR(SWACL_FORMAT, "gguf: metadata %s.%s must be a number", m->arch, suffix);
    if (!isfinite(kv->f))
        FAILR(SWACL_FORMAT, "gguf: metadata %s.%s is not finite", m->arch, suffix);
    *out = (float)kv->f;
    return SWACL_OK;
}

static int has_tensor(const meta *m, const char *name)
{
    return swacl_gguf_find_tensor(m->f, name) != NULL;
}

/* Which layers are sliding: {arch}.attention.sliding_window_pattern as a
 * bool array, else a period n (llama_hparams::set_swa_pattern: layer i
 * slides iff i % n < n - 1; n == 0: all). */
static swacl_status swa_layers(const meta *m, int n_layers, long def_pattern, int *sliding)
{
    char *err = m->err;
    size_t err_len = m->err_len;
    const swacl_gguf_kv *kv = mkv(m, "attention.sliding_window_pattern");
    if (kv && kv->type == SWACL_GGUF_ARRAY) {
        if (kv->arr_type != SWACL_GGUF_BOOL || kv->arr_n != (uint64_t)n_layers)
            FAILR(SWACL_FORMAT, "gguf: %s.attention.sliding_window_pattern must be %d bools",
                  m->arch, n_layers);
        for (int i = 0; i < n_layers; i++) sliding[i] = kv->data[i] != 0;
        return SWACL_OK;
    }
    long n;
    SWACL_TRY(get_int(m, "attention.sliding_window_pattern", def_pattern, 0, 1 << 20, &n));
    for (int i = 0; i < n_layers; i++) sliding[i] = n == 0 || i % n < n - 1;
    return SWACL_OK;
}

swacl_status swacl_gguf_config(const swacl_gguf_file *f, swacl_config *c, int *permute_qk,
                               char *err, size_t err_len)
{
    meta m = {f, "", err, err_len};
    const swacl_gguf_kv *a = swacl_gguf_find_kv(f, "general.architecture");
    if (!a || a->type != SWACL_GGUF_STRING || a->len == 0 || a->len >= sizeof m.arch ||
        memchr(a->data, 0, (size_t)a->len))
        FAILR(SWACL_FORMAT, "gguf: missing or bad general.architecture");
    memcpy(m.arch, a->data, (size_t)a->len);
    m.arch[a->len] = 0;
    enum { LLAMA, QWEN2, QWEN3, GEMMA2, GEMMA3, COHERE2 } arch;
    static const char *const names[] = {"llama", "qwen2", "qwen3", "gemma2", "gemma3", "cohere2"};
    int found = -1;
    for (int i = 0; i < 6; i++)
        if (strcmp(m.arch, names[i]) == 0) found = i;
    if (found < 0)
        FAILR(SWACL_UNSUPPORTED, "gguf: architecture '%s' is not supported (swacl loads GGUF "
              "llama, qwen2, qwen3, gemma2, gemma3, cohere2)", m.arch);
    arch = found;
    const int gemma = arch == GEMMA2 || arch == GEMMA3;
    swacl_config_init(c);
    *permute_qk = arch == LLAMA;

    long L, D, H, Hkv, d, F, V;
    SWACL_TRY(get_int(&m, "block_count", -1, 1, SWACL_MAX_LAYERS, &L));
    SWACL_TRY(get_int(&m, "embedding_length", -1, 1, 1 << 20, &D));
    SWACL_TRY(get_int(&m, "attention.head_count", -1, 1, 1 << 16, &H));
    SWACL_TRY(get_int(&m, "attention.head_count_kv", H, 1, 1 << 16, &Hkv));
    SWACL_TRY(get_int(&m, "attention.key_length", D / H, 1, 1 << 16, &d));
    long dv;
    SWACL_TRY(get_int(&m, "attention.value_length", d, 1, 1 << 16, &dv));
    if (dv != d)
        FAILR(SWACL_UNSUPPORTED, "gguf: value_length %ld != key_length %ld", dv, d);
    SWACL_TRY(get_int(&m, "feed_forward_length", -1, 1, 1 << 24, &F));
    const swacl_gguf_tensor *emb = swacl_gguf_find_tensor(f, "token_embd.weight");
    if (!emb || emb->n_dims != 2)
        FAILR(SWACL_FORMAT, "gguf: missing 2-D tensor 'token_embd.weight'");
    SWACL_TRY(get_int(&m, "vocab_size", (long)emb->ne[1], 1, 1L << 30, &V));
    if (V != emb->ne[1])
        FAILR(SWACL_FORMAT, "gguf: %s.vocab_size %ld but token_embd.weight has %lld rows", m.arch,
              V, (long long)emb->ne[1]);
    c->vocab_size = (int)V;
    c->hidden_size = (int)D;
    c->n_heads = (int)H;
    c->n_kv_heads = (int)Hkv;
    c->head_dim = (int)d;
    c->ffn_dim = (int)F;
    c->n_layers = (int)L;
    c->final_norm = 1;
    c->tied_embeddings = !has_tensor(&m, "output.weight");
    c->attn_bias = has_tensor(&m, "blk.0.attn_q.bias");
    c->ffn_bias = has_tensor(&m, "blk.0.ffn_up.bias");
    if (has_tensor(&m, "rope_freqs.weight"))
        FAILR(SWACL_UNSUPPORTED, "gguf: tensor 'rope_freqs.weight' (per-frequency RoPE factors, "
              "Llama 3.1 style) is not supported");
    if (has_tensor(&m, "blk.0.attn_qkv.weight"))
        FAILR(SWACL_UNSUPPORTED, "gguf: fused 'blk.0.attn_qkv.weight' is not supported (swacl "
              "loads separate attn_q/attn_k/attn_v)");

    /* RoPE */
    float theta, theta_swa, factor = 1;
    SWACL_TRY(get_float(&m, "rope.freq_base", arch == GEMMA3 ? 1000000.0 : 10000.0, &theta));
    SWACL_TRY(get_float(&m, "rope.freq_base_swa", arch == GEMMA3 ? 10000.0 : theta, &theta_swa));
    long rot;
    SWACL_TRY(get_int(&m, "rope.dimension_count", d, 2, d, &rot));
    const swacl_gguf_kv *st = mkv(&m, "rope.scaling.type");
    if (st) {
        if (st->type != SWACL_GGUF_STRING) FAILR(SWACL_FORMAT, "gguf: rope.scaling.type: not a string");
        if (st->len == 6 && memcmp(st->data, "linear", 6) == 0) {
            SWACL_TRY(get_float(&m, "rope.scaling.factor", NAN, &factor));
            if (!(factor > 0)) FAILR(SWACL_FORMAT, "gguf: rope.scaling.factor must be positive");
        } else if (!(st->len == 4 && memcmp(st->data, "none", 4) == 0)) {
            FAILR(SWACL_UNSUPPORTED, "gguf: %s.rope.scaling.type '%.*s' is not supported (none, "
                  "linear)", m.arch, (int)(st->len > 20 ? 20 : st->len), (const char *)st->data);
        }
    }

    /* norms, block, FFN */
    const char *eps_key = arch == COHERE2 ? "attention.layer_norm_epsilon"
                                          : "attention.layer_norm_rms_epsilon";
    SWACL_TRY(get_float(&m, eps_key, gemma ? 1e-6 : 1e-5, &c->norm_eps));
    if (arch == COHERE2) {
        c->norm = SWACL_NORM_LAYER_NOBIAS;
        c->block = SWACL_BLOCK_PARALLEL;
        SWACL_TRY(get_float(&m, "logit_scale", 1.0, &c->logit_scale));
    }
    if (arch == QWEN2) c->attn_out_bias = has_tensor(&m, "blk.0.attn_output.bias");
    if (gemma) {
        c->norm_place = SWACL_NORMS_SANDWICH;
        c->ffn = SWACL_FFN_GEGLU_TANH;
        c->embed_scale = sqrtf((float)D);
        SWACL_TRY(get_float(&m, "final_logit_softcapping", arch == GEMMA2 ? 30.0 : 0.0,
                            &c->final_softcap));
        if (arch == GEMMA2)
            SWACL_TRY(get_float(&m, "attn_logit_softcapping", 50.0, &c->attn_softcap));
        /* llama.cpp: 27B scales scores by 1/sqrt(D/H), the others 1/sqrt(d) */
        if ((arch == GEMMA2 && L == 46) || (arch == GEMMA3 && L == 62))
            c->attn_scale = 1.0f / sqrtf((float)(D / H));
    }
    float ascale;
    SWACL_TRY(get_float(&m, "attention.scale", 0.0, &ascale));
    if (ascale > 0) c->attn_scale = ascale;

    /* layers */
    long W;
    int sliding[SWACL_MAX_LAYERS];
    SWACL_TRY(get_int(&m, "attention.sliding_window", arch == GEMMA2 ? 4096 : 0, 0, 1L << 30, &W));
    if (arch == QWEN2 || arch == QWEN3) W = 0; /* llama.cpp runs these globally, as HF by default */
    if (arch == COHERE2 && !mkv(&m, "attention.sliding_window"))
        FAILR(SWACL_FORMAT, "gguf: missing metadata cohere2.attention.sliding_window");
    const long def_pat = arch == GEMMA2 ? 2 : arch == GEMMA3 ? 6 : arch == COHERE2 ? 4 : 0;
    SWACL_TRY(swa_layers(&m, (int)L, def_pat, sliding));
    for (int i = 0; i < L; i++) {
        swacl_layer_spec *l = &c->layers[i];
        const int slide = W > 0 && sliding[i];
        if (slide) {
            l->span = SWACL_SPAN_WINDOW;
            l->span_size = (int)W;
        }
        if (arch == COHERE2 && !slide) continue; /* global layers: NoPE */
        l->pos = arch == COHERE2 ? SWACL_POS_ROPE_PAIR : SWACL_POS_ROPE_HALF;
        l->rope_theta = slide ? theta_swa : theta;
        if (rot != d) c->rope[i].rotary_dim = (int)rot;
        /* llama.cpp applies rope.scaling to the full-attention layers only
         * where it keeps a separate SWA scale (gemma3); elsewhere to all */
        if (factor != 1 && !(arch == GEMMA3 && slide)) {
            c->rope[i].type = SWACL_ROPE_LINEAR;
            c->rope[i].factor = factor;
        }
        if (arch == QWEN3 || arch == GEMMA3) l->qk_norm = SWACL_QKNORM_RMS_HEAD;
    }
    char msg[256];
    if (swacl_config_check(c, msg, sizeof msg) != SWACL_OK)
        FAILR(SWACL_FORMAT, "gguf (%s): invalid configuration: %s", m.arch, msg);
    return SWACL_OK;
}

/* ------------------------------------------------------------------------ */
/* HF name -> GGUF name (llama-arch.cpp LLM_TENSOR_NAMES).                   */

int swacl_gguf_tensor_name(const swacl_config *c, const char *canon, char *out, size_t out_len)
{
    static const struct {
        const char *hf, *gguf;
    } k_top[] = {{"model.embed_tokens.weight", "token_embd.weight"},
                 {"lm_head.weight", "output.weight"},
                 {"model.norm.weight", "output_norm.weight"},
                 {"model.norm.bias", "output_norm.bias"}};
    for (size_t i = 0; i < sizeof k_top / sizeof k_top[0]; i++)
        if (strcmp(canon, k_top[i].hf) == 0) return snprintf(out, out_len, "%s", k_top[i].gguf) > 0;
    int layer, n = 0;
    if (sscanf(canon, "model.layers.%d.%n", &layer, &n) != 1 || n == 0) return 0;
    const char *rest = canon + n;
    const int pre = c->norm_place == SWACL_NORMS_PRE;
    static const struct {
        const char *hf, *gguf;
    } k_layer[] = {
        {"input_layernorm", "attn_norm"},      {"self_attn.q_proj", "attn_q"},
        {"self_attn.k_proj", "attn_k"},        {"self_attn.v_proj", "attn_v"},
        {"self_attn.o_proj", "attn_output"},   {"self_attn.q_norm", "attn_q_norm"},
        {"self_attn.k_norm", "attn_k_norm"},   {"pre_feedforward_layernorm", "ffn_norm"},
        {"post_feedforward_layernorm", "post_ffw_norm"},
        {"mlp.gate_proj", "ffn_gate"},         {"mlp.up_proj", "ffn_up"},
        {"mlp.down_proj", "ffn_down"},
        /* the pre-FFN norm of a PRE block; the attention-output norm otherwise */
        {"post_attention_layernorm", NULL},
    };
    for (size_t i = 0; i < sizeof k_layer / sizeof k_layer[0]; i++) {
        size_t k = strlen(k_layer[i].hf);
        if (strncmp(rest, k_layer[i].hf, k) != 0 || rest[k] != '.') continue;
        const char *g = k_layer[i].gguf ? k_layer[i].gguf : pre ? "ffn_norm" : "post_attention_norm";
        int w = snprintf(out, out_len, "blk.%d.%s%s", layer, g, rest + k);
        return w > 0 && (size_t)w < out_len;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* The load.                                                                 */

static void shape_str(char *buf, size_t len, int ndim, const int64_t *shape)
{
    size_t off = (size_t)snprintf(buf, len, "[");
    for (int d = 0; d < ndim && off < len; d++)
        off += (size_t)snprintf(buf + off, len - off, "%s%lld", d ? ", " : "", (long long)shape[d]);
    if (off < len) snprintf(buf + off, len - off, "]");
}

/* The storage type of a GGUF tensor type (F32 -> AUTO: not packed). */
static swacl_wtype packed_type(uint32_t ggml)
{
    switch (ggml) {
    case SWACL_GGML_F16: return SWACL_WT_F16;
    case SWACL_GGML_BF16: return SWACL_WT_BF16;
    case SWACL_GGML_Q8_0: return SWACL_WT_Q8_0;
    case SWACL_GGML_Q4_0: return SWACL_WT_Q4_0;
    default: return SWACL_WT_AUTO;
    }
}

/* The type tensor t is delivered in: as stored for a packed 2-D tensor (a
 * q4_0 embedding stays q4_0: swacl_wtype_for's q8_0 head rule is for
 * re-encoding float weights, not for decoding them), else float32. */
static swacl_wtype delivered_type(const struct swacl_hf_need_t *nd, const swacl_gguf_tensor *t)
{
    const swacl_wtype st = packed_type(t->type);
    return nd->ndim == 2 && st != SWACL_WT_AUTO && swacl_wtype_fits(st, t->ne[0]) ? st
                                                                                   : SWACL_WT_F32;
}

/* A tensor read on first use (swacl_tensor_load): the same bytes deliver()
 * makes, from the mapping the weights keep. */
static swacl_status defer(swacl_weights *w, const struct swacl_hf_need_t *nd,
                          const swacl_gguf_file *f, const swacl_gguf_tensor *t, int unpermute_heads,
                          char *err, size_t err_len)
{
    if (!swacl_ggml_type_supported(t->type)) /* its message names the type; writes nothing */
        return swacl_gguf_to_f32(f, t, NULL, err, err_len);
    swacl_tensor *dst;
    if (swacl_weights_add_meta(w, nd->name, nd->ndim, nd->shape, &dst) != SWACL_OK)
        FAILR(SWACL_OUT_OF_MEMORY, "gguf: cannot allocate tensor '%s'", nd->name);
    const swacl_wtype st = packed_type(t->type);
    dst->pending = 2;
    dst->src = f->buf + f->data_off + t->offset;
    dst->src_type = st == SWACL_WT_AUTO ? SWACL_WT_F32 : st;
    dst->type = delivered_type(nd, t);
    dst->src_heads = unpermute_heads;
    dst->src_copy = 1;
    return SWACL_OK;
}

/* One tensor into the weights: a 2-D F16/BF16/Q8_0/Q4_0 tensor keeps its
 * bytes as stored (swacl's storage types use ggml's block layouts), rows
 * un-permuted in place; 1-D tensors and F32 ones become float32, exactly,
 * not re-quantised. *bad: the first non-finite value's index,
 * numel if none. */
static swacl_status deliver(swacl_weights *w, const struct swacl_hf_need_t *nd,
                            const swacl_gguf_file *f, const swacl_gguf_tensor *t, int unpermute_heads,
                            int head_dim, size_t *bad, float *badv, char *err, size_t err_len)
{
    const swacl_wtype st = packed_type(t->type);
    const int64_t K = t->ne[0];
    const swacl_wtype want = delivered_type(nd, t);
    swacl_tensor *dst;
    *bad = (size_t)t->numel;
    if (want == st) { /* as stored */
        if (swacl_weights_add_meta(w, nd->name, nd->ndim, nd->shape, &dst) != SWACL_OK)
            FAILR(SWACL_OUT_OF_MEMORY, "gguf: cannot allocate tensor '%s'", nd->name);
        const size_t rb = swacl_wtype_row_bytes(st, K);
        uint8_t *b = swacl_weight_alloc((size_t)t->nbytes);
        float *row = malloc((size_t)K * sizeof *row);
        if (!b || !row || rb * (size_t)t->ne[1] != t->nbytes) {
            free(b);
            free(row);
            w->n--;
            FAILR(SWACL_OUT_OF_MEMORY, "gguf: cannot allocate tensor '%s'", nd->name);
        }
        memcpy(b, f->buf + f->data_off + t->offset, (size_t)t->nbytes);
        if (st == SWACL_WT_F16 || st == SWACL_WT_BF16) { /* bit test, no decode */
            *bad = swacl_wtype_first_nonfinite(st, b, (size_t)t->numel);
            if (*bad < (size_t)t->numel) {
                swacl_row_decode(st, b + *bad / (size_t)K * rb, row, K);
                *badv = row[*bad % (size_t)K];
            }
        }
        for (int64_t r = 0; r < t->ne[1] && *bad == (size_t)t->numel && st != SWACL_WT_F16 &&
                            st != SWACL_WT_BF16;
             r++) {
            swacl_row_decode(st, b + (size_t)r * rb, row, K);
            for (int64_t k = 0; k < K; k++)
                if (!isfinite(row[k])) {
                    *bad = (size_t)(r * K + k);
                    *badv = row[k];
                    break;
                }
        }
        free(row);
        swacl_tensor_set(dst, st, b, (size_t)t->nbytes, 1);
        swacl_file_map_drop(f->buf + f->data_off + t->offset, (size_t)t->nbytes);
        if (unpermute_heads && swacl_gguf_unpermute_rows(b, unpermute_heads, head_dim, rb) != 0)
            FAILR(SWACL_OUT_OF_MEMORY, "gguf: out of memory");
        return SWACL_OK;
    }
    if (swacl_weights_add(w, nd->name, nd->ndim, nd->shape, &dst) != SWACL_OK)
        FAILR(SWACL_OUT_OF_MEMORY, "gguf: cannot allocate tensor '%s'", nd->name);
    SWACL_TRY(swacl_gguf_to_f32(f, t, dst->data, err, err_len));
    swacl_file_map_drop(f->buf + f->data_off + t->offset, (size_t)t->nbytes);
    if (unpermute_heads &&
        swacl_gguf_unpermute_rows(dst->data, unpermute_heads, head_dim,
                                  (size_t)t->ne[0] * sizeof(float)) != 0)
        FAILR(SWACL_OUT_OF_MEMORY, "gguf: out of memory");
    *bad = swacl_wtype_first_nonfinite(SWACL_WT_F32, dst->data, (size_t)dst->numel);
    if (*bad < (size_t)dst->numel) *badv = dst->data[*bad];
    return SWACL_OK;
}

static swacl_status load_tensors(const swacl_gguf_file *f, const swacl_config *c, int permute_qk,
                                 int allow_nonfinite, int lazy, swacl_weights *w,
                                 const char *fname, char *err, size_t err_len)
{
    swacl_hf_need need = {0, 0, NULL, 0};
    swacl_status st = SWACL_OK;
    swacl_config_tensors(c, swacl_hf_collect, &need);
    if (need.oom) {
        free(need.t);
        FAILR(SWACL_OUT_OF_MEMORY, "gguf: out of memory");
    }
    for (int i = 0; i < need.n && st == SWACL_OK; i++) {
        const struct swacl_hf_need_t *nd = &need.t[i];
        char gname[160];
        const swacl_gguf_tensor *t = NULL;
        if (swacl_gguf_tensor_name(c, nd->name, gname, sizeof gname))
            t = swacl_gguf_find_tensor(f, gname);
        if (!t) {
            swacl_format_msg(err, err_len, "%s: missing tensor '%s' (%s)", fname,
                             swacl_gguf_tensor_name(c, nd->name, gname, sizeof gname) ? gname : "?",
                             nd->name);
            st = SWACL_FORMAT;
            break;
        }
        /* GGUF ne is the HF shape reversed */
        int ok = t->n_dims == nd->ndim && t->ne[0] == nd->shape[nd->ndim - 1] &&
                 (nd->ndim < 2 || t->ne[1] == nd->shape[0]);
        if (!ok) {
            char a[96], b[96];
            int64_t ne[4];
            for (int d = 0; d < t->n_dims; d++) ne[d] = t->ne[t->n_dims - 1 - d];
            shape_str(a, sizeof a, t->n_dims, ne);
            shape_str(b, sizeof b, nd->ndim, nd->shape);
            swacl_format_msg(err, err_len, "%s: tensor '%s' has shape %s, the metadata implies %s",
                             fname, t->name, a, b);
            st = SWACL_FORMAT;
            break;
        }
        int heads = 0;
        if (permute_qk && strstr(nd->name, ".self_attn.q_proj.")) heads = c->n_heads;
        if (permute_qk && strstr(nd->name, ".self_attn.k_proj.")) heads = c->n_kv_heads;
        char e2[512];
        size_t bad = (size_t)t->numel;
        float badv = 0;
        st = lazy ? defer(w, nd, f, t, heads, e2, sizeof e2)
                  : deliver(w, nd, f, t, heads, c->head_dim, &bad, &badv, e2, sizeof e2);
        if (st != SWACL_OK) {
            swacl_format_msg(err, err_len, "%s: %s", fname, e2);
            break;
        }
        if (!allow_nonfinite && bad < (size_t)t->numel) { /* would run and "pass" as a constant output */
            swacl_format_msg(err, err_len,
                             "%s: tensor '%s' has a non-finite value (%s) at index %zu "
                             "(allow_nonfinite / --allow-nonfinite loads it anyway)",
                             fname, t->name, isnan(badv) ? "NaN" : badv > 0 ? "+Inf" : "-Inf", bad);
            st = SWACL_FORMAT;
            break;
        }
    }
    free(need.t);
    return st;
}

swacl_status swacl_gguf_load(const char *path, int allow_nonfinite, int lazy, swacl_config *cfg,
                             swacl_weights **out, char *err, size_t err_len)
{
    if (err && err_len) err[0] = 0;
    *out = NULL;
    swacl_file_map mp;
    SWACL_TRY(swacl_file_map_open(path, &mp, err, err_len));
    swacl_gguf_file f;
    swacl_status st = swacl_gguf_parse(mp.map, mp.len, path, &f, err, err_len);
    if (st != SWACL_OK) {
        swacl_file_map_close(&mp);
        return st;
    }
    swacl_config c;
    int permute = 0;
    swacl_weights *w = NULL;
    char e2[768];
    st = swacl_gguf_config(&f, &c, &permute, e2, sizeof e2);
    if (st != SWACL_OK) {
        swacl_format_msg(err, err_len, "%s: %s", path, e2);
    } else if (!(w = calloc(1, sizeof *w))) {
        st = SWACL_OUT_OF_MEMORY;
        swacl_format_msg(err, err_len, "%s: out of memory", path);
    } else {
        st = load_tensors(&f, &c, permute, allow_nonfinite, lazy, w, path, err, err_len);
    }
    if (st == SWACL_OK && lazy) { /* the pending tensors read the mapping: w keeps it */
        struct swacl_weights_map *m = malloc(sizeof *m);
        if (!m) {
            st = SWACL_OUT_OF_MEMORY;
            swacl_format_msg(err, err_len, "%s: out of memory", path);
        } else {
            m->addr = mp.map;
            m->len = mp.len;
            w->maps = m;
            w->n_maps = 1;
            w->allow_nonfinite = allow_nonfinite;
            mp.map = NULL;
        }
    }
    swacl_gguf_free(&f);
    swacl_file_map_close(&mp);
    if (st != SWACL_OK) {
        swacl_weights_destroy(w);
        return st;
    }
    *cfg = c;
    *out = w;
    return SWACL_OK;
}

/* ------------------------------------------------------------------------ */
/* Which path is a GGUF model.                                               */

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

int swacl_gguf_resolve(const char *path, char *out, size_t out_len, char *err, size_t err_len)
{
    struct stat sb;
    if (!path || stat(path, &sb) != 0) return 0; /* the safetensors path reports it */
    if (!S_ISDIR(sb.st_mode)) {
        if (!ends_with(path, ".gguf")) return 0;
        snprintf(out, out_len, "%s", path);
        return 1;
    }
    char p[4096];
    snprintf(p, sizeof p, "%s/model.safetensors", path);
    if (swacl_file_present(p)) return 0;
    snprintf(p, sizeof p, "%s/model.safetensors.index.json", path);
    if (swacl_file_present(p)) return 0;
    DIR *dir = opendir(path);
    if (!dir) return 0;
    int n = 0;
    char first[256] = "", second[256] = "";
    for (struct dirent *e; (e = readdir(dir)) != NULL;) {
        if (e->d_name[0] == '.' || !ends_with(e->d_name, ".gguf")) continue;
        if (n == 0) snprintf(first, sizeof first, "%s", e->d_name);
        else if (n == 1) snprintf(second, sizeof second, "%s", e->d_name);
        n++;
    }
    closedir(dir);
    if (n == 0) return 0;
    if (n > 1) {
        swacl_format_msg(err, err_len, "%s: %d .gguf files (%s, %s%s) and no model.safetensors: "
                         "pass the one to load", path, n, first, second, n > 2 ? ", ..." : "");
        return -1;
    }
    int w = snprintf(out, out_len, "%s/%s", path, first);
    if (w < 0 || (size_t)w >= out_len) {
        swacl_format_msg(err, err_len, "%s: path too long", path);
        return -1;
    }
    return 1;
}
