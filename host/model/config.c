/*
 * config.c - presets, validation, tensor naming and KV-cache sizing.
 *
 * Presets follow docs/MODEL.md Part A, scaled down so that a 2-core CPU
 * runs them; every size can be overridden (swacl_preset_ex). Values marked
 * UNVERIFIED there (SWAN-GPT's ratio, window, L_train) are parameters here.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static const char *const k_preset_names[] = {"rnope-swa", "swan",         "cohere2", "irope",
                                             "irope-llama4", "baseline", NULL};

const char *const *swacl_preset_names(void) { return k_preset_names; }

static swacl_layer_spec layer(swacl_span span, int size, swacl_pos pos, float theta)
{
    swacl_layer_spec l;
    memset(&l, 0, sizeof l);
    l.span = span;
    l.span_size = size;
    l.pos = pos;
    l.rope_theta = theta;
    return l;
}

/* Shared small decoder dims for the token-id presets (cohere2 and baseline
 * must match so that their speed and memory compare like for like). */
static void small_decoder(swacl_config *c)
{
    c->vocab_size = 2048;
    c->hidden_size = 256;
    c->n_heads = 4;
    c->n_kv_heads = 1; /* GQA 4:1, as Command R7B's 32:8 */
    c->head_dim = 64;
    c->ffn_dim = 768;
    c->ffn = SWACL_FFN_SWIGLU;
    c->final_norm = 1;
    c->output = SWACL_OUTPUT_LOGITS;
    c->logit_scale = 1.0f;
    c->n_layers = 8;
}

void swacl_config_init(swacl_config *c)
{
    if (!c) return;
    memset(c, 0, sizeof *c);
    c->struct_size = (uint32_t)sizeof *c;
    /* neutral values: settings that change nothing when left alone */
    c->norm_eps = 1e-5f;
    c->logit_scale = 1.0f;
    /* layers stay all-zero: GLOBAL, NoPE, no temperature, no QK-norm */
    c->norm_place = SWACL_NORMS_PRE;
    c->embed_scale = 1.0f;
    c->attn_out_bias = -1;
    for (int i = 0; i < SWACL_MAX_LAYERS; i++) {
        swacl_rope_scaling *r = &c->rope[i];
        r->type = SWACL_ROPE_DEFAULT;
        r->factor = 1.0f;
        r->low_freq_factor = 1.0f;
        r->high_freq_factor = 4.0f;
        r->beta_fast = 32.0f;
        r->beta_slow = 1.0f;
        r->attention_factor = 1.0f;
        r->truncate = 1;
    }
}

/* The 0.1 layout ended at layers[]: such callers are read with the 0.2
 * fields defaulted (swacl_config_read). */
#define SWACL_CONFIG_SIZE_0_1 ((uint32_t)offsetof(swacl_config, norm_place))

int swacl_config_size_ok(const swacl_config *c)
{
    return c && c->struct_size == (uint32_t)sizeof *c;
}

swacl_status swacl_config_read(swacl_ctx *ctx, const swacl_config *src, swacl_config *dst)
{
    if (!src || !dst) return swacl_set_error(ctx, SWACL_INVALID_ARG, "config is NULL");
    if (!swacl_config_size_ok(src) && src->struct_size != SWACL_CONFIG_SIZE_0_1)
        return swacl_set_error(ctx, SWACL_INVALID_ARG,
                               "swacl_config not initialised (call swacl_config_init)");
    swacl_config_init(dst);
    memcpy(dst, src, src->struct_size);
    dst->struct_size = (uint32_t)sizeof *dst;
    return SWACL_OK;
}

swacl_status swacl_preset_ex(const char *name, const swacl_preset_params *pp, swacl_config *c)
{
    if (!name || !c) return SWACL_INVALID_ARG;
    swacl_preset_params p;
    memset(&p, 0, sizeof p);
    if (pp) p = *pp;
    swacl_config_init(c);

    int which = -1;
    for (int i = 0; k_preset_names[i]; i++)
        if (strcmp(name, k_preset_names[i]) == 0) which = i;
    if (which < 0) return SWACL_INVALID_ARG;
    const char *n = k_preset_names[which];

    /* model-level fields */
    if (strcmp(n, "rnope-swa") == 0) {
        /* docs/MODEL.md 7.1 (a): Edifice RNoPESWA on continuous inputs. */
        c->input_dim = 128;
        c->hidden_size = 256;
        c->n_heads = 4;
        c->n_kv_heads = 4;
        c->head_dim = 64;
        c->ffn_dim = 1024; /* expansion 4 */
        c->ffn = SWACL_FFN_GELU;
        c->attn_bias = c->ffn_bias = 1;
        c->norm = SWACL_NORM_LAYER;
        c->norm_eps = 1e-5f;
        c->block = SWACL_BLOCK_SEQUENTIAL;
        c->final_norm = 1;
        c->output = SWACL_OUTPUT_LAST_HIDDEN;
        c->logit_scale = 1.0f;
        c->dropout = 0.1f; /* training only: ignored */
        c->n_layers = 6;
    } else if (strcmp(n, "cohere2") == 0 || strcmp(n, "baseline") == 0) {
        /* docs/MODEL.md section 4: parallel block, bias-free LayerNorm, tied head. */
        small_decoder(c);
        c->norm = SWACL_NORM_LAYER_NOBIAS;
        c->norm_eps = 1e-5f;
        c->block = SWACL_BLOCK_PARALLEL;
        c->tied_embeddings = 1;
        c->logit_scale = 0.25f;
    } else { /* swan, irope, irope-llama4: Llama-style sequential RMSNorm */
        small_decoder(c);
        c->n_kv_heads = 2;
        c->norm = SWACL_NORM_RMS;
        c->norm_eps = 1e-6f;
        c->block = SWACL_BLOCK_SEQUENTIAL;
        c->tied_embeddings = strcmp(n, "irope") == 0; /* SmolLM3 ties */
    }

    /* size overrides */
    if (p.hidden_size) c->hidden_size = p.hidden_size;
    if (p.n_heads) c->n_heads = p.n_heads;
    if (p.n_kv_heads) c->n_kv_heads = p.n_kv_heads;
    if (p.n_heads && !p.n_kv_heads && c->n_kv_heads > p.n_heads) c->n_kv_heads = p.n_heads;
    if (p.n_layers) c->n_layers = p.n_layers;
    if (p.ffn_dim) c->ffn_dim = p.ffn_dim;
    if (p.vocab_size && c->vocab_size) c->vocab_size = p.vocab_size;
    if (p.input_dim && c->input_dim) c->input_dim = p.input_dim;
    c->head_dim = c->n_heads > 0 ? c->hidden_size / c->n_heads : 0;
    if (c->n_layers < 1 || c->n_layers > SWACL_MAX_LAYERS) return SWACL_INVALID_ARG;

    /* per-layer spec */
    for (int i = 0; i < c->n_layers; i++) {
        int fourth = (i + 1) % 4 == 0; /* layers 3, 7, ... (0-based) */
        swacl_layer_spec *l = &c->layers[i];
        if (strcmp(n, "rnope-swa") == 0) {
            *l = layer(SWACL_SPAN_WINDOW, p.window ? p.window : 128, SWACL_POS_NONE, 0);
        } else if (strcmp(n, "swan") == 0) {
            /* 3 x SWA-RoPE + 1 x global NoPE with a log-ratio temperature
             * (SWAN-GPT; ratio, W and L_train UNVERIFIED: parameters). */
            if (!fourth) {
                *l = layer(SWACL_SPAN_WINDOW, p.window ? p.window : 512, SWACL_POS_ROPE_HALF,
                           10000.0f);
            } else {
                *l = layer(SWACL_SPAN_GLOBAL, 0, SWACL_POS_NONE, 0);
                l->temp = SWACL_TEMP_LOG_RATIO;
                l->temp_p0 = (float)(p.train_len ? p.train_len : 1024);
            }
        } else if (strcmp(n, "cohere2") == 0) {
            /* Command R7B: W 4096, theta 50000; W scaled to 512 here. */
            *l = fourth ? layer(SWACL_SPAN_GLOBAL, 0, SWACL_POS_NONE, 0)
                        : layer(SWACL_SPAN_WINDOW, p.window ? p.window : 512,
                                SWACL_POS_ROPE_PAIR, 50000.0f);
        } else if (strcmp(n, "irope") == 0) {
            /* SmolLM3 scheme: RoPE on layers with (i+1)%4 != 0, NoPE on the
             * rest, full causal attention everywhere. */
            *l = layer(SWACL_SPAN_GLOBAL, 0, fourth ? SWACL_POS_NONE : SWACL_POS_ROPE_HALF,
                       10000.0f);
        } else if (strcmp(n, "irope-llama4") == 0) {
            /* Llama 4 text: chunked RoPE layers with weightless QK-norm, global
             * NoPE layers with temperature tuning. C and floor_scale are 8192
             * in Llama 4; scaled to 2048 so that short runs exercise both. */
            int C = p.chunk ? p.chunk : 2048;
            if (!fourth) {
                *l = layer(SWACL_SPAN_CHUNK, C, SWACL_POS_ROPE_PAIR, 500000.0f);
                l->qk_norm = SWACL_QKNORM_RMS_AFTER_ROPE;
            } else {
                *l = layer(SWACL_SPAN_GLOBAL, 0, SWACL_POS_NONE, 0);
                l->temp = SWACL_TEMP_LLAMA4;
                l->temp_p0 = (float)(p.train_len ? p.train_len : 2048);
                l->temp_p1 = 0.1f;
            }
        } else { /* baseline: every layer global with RoPE (half) */
            *l = layer(SWACL_SPAN_GLOBAL, 0, SWACL_POS_ROPE_HALF, 10000.0f);
        }
    }
    return SWACL_OK;
}

swacl_status swacl_preset(const char *name, swacl_config *cfg)
{
    return swacl_preset_ex(name, NULL, cfg);
}

swacl_status swacl_config_resolve(swacl_ctx *ctx, const char *preset,
                                  const swacl_preset_params *pp, const char *dir,
                                  swacl_config *cfg, swacl_weights **w)
{
    SWACL_FAIL_IF(ctx, !cfg || !w || (!dir && !preset), SWACL_INVALID_ARG,
                  "swacl_config_resolve: a preset or dir, cfg and w are required");
    *w = NULL;
    const char *label = dir ? dir : preset; /* names the model in messages */
    static const swacl_preset_params none;
    /* a loaded model has its own sizes: overriding some would need weights
     * of other shapes, so refuse rather than ignore them */
    SWACL_FAIL_IF(ctx, dir && pp && memcmp(pp, &none, sizeof none) != 0, SWACL_INVALID_ARG,
                  "%s: size overrides (layers, window, hidden, heads...) apply to presets only, "
                  "not to a loaded model", dir);
    if (dir) {
        swacl_status st = swacl_load_hf(ctx, dir, cfg, w);
        if (st != SWACL_OK)
            return swacl_set_error(ctx, st, "cannot load %s: %s", dir, swacl_ctx_errmsg(ctx));
    } else if (swacl_preset_ex(preset, pp, cfg) != SWACL_OK) {
        char names[512];
        size_t off = 0;
        names[0] = '\0';
        for (const char *const *n = k_preset_names; *n && off < sizeof names; n++)
            off += (size_t)snprintf(names + off, sizeof names - off, "%s%s", off ? ", " : "", *n);
        if (swacl_preset(preset, cfg) != SWACL_OK)
            return swacl_set_error(ctx, SWACL_INVALID_ARG, "unknown preset '%s' (valid: %s)", preset,
                                   names);
        return swacl_set_error(ctx, SWACL_INVALID_ARG,
                               "preset '%s': invalid size override (e.g. the layer count must "
                               "be 1..%d)", preset, SWACL_MAX_LAYERS);
    }
    if (!dir && cfg->hidden_size % cfg->n_heads != 0)
        return swacl_set_error(ctx, SWACL_INVALID_ARG,
                               "invalid configuration for preset '%s': hidden_size %d is not "
                               "divisible by n_heads %d (a preset's head_dim is hidden / heads)",
                               preset, cfg->hidden_size, cfg->n_heads);
    if (swacl_config_validate(ctx, cfg) != SWACL_OK) {
        swacl_weights_destroy(*w);
        *w = NULL;
        return swacl_set_error(ctx, SWACL_INVALID_ARG, "invalid configuration for %s '%s': %s",
                               dir ? "model" : "preset", label, swacl_ctx_errmsg(ctx));
    }
    return SWACL_OK;
}

swacl_config swacl_recommended_defaults(void)
{
    swacl_config c;
    swacl_preset("rnope-swa", &c);
    return c;
}

int swacl_output_size(const swacl_config *c)
{
    if (!swacl_config_size_ok(c)) return 0;
    return c->output == SWACL_OUTPUT_LAST_HIDDEN ? c->hidden_size : c->vocab_size;
}

#define BAD(...)                                                             \
    do {                                                                     \
        swacl_format_msg(msg, msg_len, __VA_ARGS__);                         \
        return SWACL_INVALID_ARG;                                            \
    } while (0)

swacl_status swacl_config_validate(swacl_ctx *ctx, const swacl_config *cfg)
{
    swacl_config c;
    SWACL_TRY(swacl_config_read(ctx, cfg, &c));
    char msg[512];
    if (swacl_config_check(&c, msg, sizeof msg) != SWACL_OK)
        return swacl_set_error(ctx, SWACL_INVALID_ARG, "%s", msg);
    return SWACL_OK;
}

swacl_status swacl_config_check(const swacl_config *c, char *msg, size_t msg_len)
{
    if (msg && msg_len) msg[0] = 0;
    if (!c) BAD("config is NULL");
    if (!swacl_config_size_ok(c)) BAD("swacl_config not initialised (call swacl_config_init)");
    if (c->n_layers < 1 || c->n_layers > SWACL_MAX_LAYERS)
        BAD("n_layers must be in 1..%d (got %d)", SWACL_MAX_LAYERS, c->n_layers);
    if (c->hidden_size < 1) BAD("hidden_size must be positive (got %d)", c->hidden_size);
    if (c->n_heads < 1) BAD("n_heads must be positive (got %d)", c->n_heads);
    if (c->n_kv_heads < 1 || c->n_heads % c->n_kv_heads != 0)
        BAD("n_heads %d is not divisible by n_kv_heads %d", c->n_heads, c->n_kv_heads);
    if (c->head_dim < 1) BAD("head_dim must be positive (got %d)", c->head_dim);
    if (c->ffn_dim < 1) BAD("ffn_dim must be positive (got %d)", c->ffn_dim);
    if (c->vocab_size < 0 || c->input_dim < 0) BAD("vocab_size and input_dim must be >= 0");
    if (c->vocab_size == 0 && c->input_dim == 0)
        BAD("either vocab_size (token input) or input_dim (continuous input) must be set");
    if (c->vocab_size > 0 && c->input_dim > 0)
        BAD("set only one of vocab_size (%d) and input_dim (%d)", c->vocab_size, c->input_dim);
    if (c->output == SWACL_OUTPUT_LOGITS && c->vocab_size < 1)
        BAD("LOGITS output needs vocab_size > 0");
    if ((unsigned)c->ffn > SWACL_FFN_GEGLU_TANH) BAD("unknown ffn kind %d", (int)c->ffn);
    if ((unsigned)c->norm > SWACL_NORM_LAYER_NOBIAS) BAD("unknown norm kind %d", (int)c->norm);
    if ((unsigned)c->block > SWACL_BLOCK_PARALLEL) BAD("unknown block kind %d", (int)c->block);
    if ((unsigned)c->output > SWACL_OUTPUT_LAST_HIDDEN) BAD("unknown output kind %d", (int)c->output);
    if (!(c->norm_eps > 0) || !isfinite(c->norm_eps)) BAD("norm_eps must be positive (got %g)", (double)c->norm_eps);
    if (!isfinite(c->logit_scale) || !isfinite(c->attn_scale) || c->attn_scale < 0)
        BAD("logit_scale / attn_scale must be finite (attn_scale >= 0)");
    if ((unsigned)c->norm_place > SWACL_NORMS_POST) BAD("unknown norm placement %d", (int)c->norm_place);
    if (c->norm_place != SWACL_NORMS_PRE && (c->block != SWACL_BLOCK_SEQUENTIAL || c->norm != SWACL_NORM_RMS))
        BAD("sandwich / post norms need the sequential block with RMS norms");
    if (c->norm_unit_offset && c->norm != SWACL_NORM_RMS) BAD("norm_unit_offset (1 + w) needs RMS norms");
    if (!(c->embed_scale > 0) || !isfinite(c->embed_scale))
        BAD("embed_scale must be positive and finite (got %g)", (double)c->embed_scale);
    if (!(c->attn_softcap >= 0) || !isfinite(c->attn_softcap) || !(c->final_softcap >= 0) ||
        !isfinite(c->final_softcap))
        BAD("attn_softcap / final_softcap must be >= 0 and finite (0 = off)");
    if (c->attn_out_bias < -1 || c->attn_out_bias > 1) BAD("attn_out_bias must be -1, 0 or 1 (got %d)", c->attn_out_bias);
    for (int i = 0; i < c->n_layers; i++) {
        const swacl_layer_spec *l = &c->layers[i];
        const swacl_rope_scaling *r = &c->rope[i];
        if (l->pos != SWACL_POS_NONE) {
            if (r->rotary_dim < 0 || r->rotary_dim > c->head_dim || r->rotary_dim % 2 ||
                (r->rotary_dim > 0 && r->rotary_dim < 2))
                BAD("layer %d: rotary_dim must be even and in 2..head_dim %d, or 0 (got %d)", i,
                    c->head_dim, r->rotary_dim);
            if ((unsigned)r->type > SWACL_ROPE_YARN) BAD("layer %d: unknown RoPE scaling type %d", i, (int)r->type);
            if (r->type != SWACL_ROPE_DEFAULT && (!(r->factor > 0) || !isfinite(r->factor)))
                BAD("layer %d: RoPE scaling factor must be positive (got %g)", i, (double)r->factor);
            if ((r->type == SWACL_ROPE_DYNAMIC || r->type == SWACL_ROPE_LLAMA3 || r->type == SWACL_ROPE_YARN) &&
                r->original_max_pos < 1)
                BAD("layer %d: RoPE scaling needs original_max_pos >= 1 (got %d)", i, r->original_max_pos);
            if (r->type == SWACL_ROPE_LLAMA3 && !(r->high_freq_factor >= r->low_freq_factor && r->low_freq_factor > 0))
                BAD("layer %d: llama3 RoPE needs 0 < low_freq_factor <= high_freq_factor", i);
            if (r->type == SWACL_ROPE_YARN && (!(r->attention_factor > 0) || !isfinite(r->attention_factor) ||
                                               !isfinite(r->beta_fast) || !isfinite(r->beta_slow)))
                BAD("layer %d: yarn RoPE needs a positive attention_factor and finite betas", i);
        }
        if ((unsigned)l->span > SWACL_SPAN_CHUNK) BAD("layer %d: unknown span %d", i, (int)l->span);
        if (l->span == SWACL_SPAN_WINDOW && l->span_size < 1)
            BAD("layer %d: window must be >= 1 (got %d)", i, l->span_size);
        if (l->span == SWACL_SPAN_CHUNK && l->span_size < 1)
            BAD("layer %d: chunk size must be >= 1 (got %d)", i, l->span_size);
        if ((unsigned)l->pos > SWACL_POS_ROPE_HALF) BAD("layer %d: unknown positional encoding %d", i, (int)l->pos);
        if (l->pos != SWACL_POS_NONE) {
            if (c->head_dim % 2) BAD("layer %d: RoPE needs an even head_dim (got %d)", i, c->head_dim);
            if (!(l->rope_theta > 0)) BAD("layer %d: rope_theta must be positive (got %g)", i, (double)l->rope_theta);
        }
        if ((unsigned)l->temp > SWACL_TEMP_LOG_RATIO) BAD("layer %d: unknown temperature rule %d", i, (int)l->temp);
        if (l->temp == SWACL_TEMP_LLAMA4 && !(l->temp_p0 >= 1))
            BAD("layer %d: Llama 4 floor_scale must be >= 1 (got %g)", i, (double)l->temp_p0);
        if (l->temp == SWACL_TEMP_LOG_RATIO && !(l->temp_p0 > 1))
            BAD("layer %d: log-ratio training length must be > 1 (got %g)", i, (double)l->temp_p0);
        if ((unsigned)l->qk_norm > SWACL_QKNORM_RMS_FULL) BAD("layer %d: unknown qk_norm %d", i, (int)l->qk_norm);
    }
    return SWACL_OK;
}

/* swacl_layer_cache_cap, swacl_kv_bytes: host/sched/kv.c (KV sizing in one place). */

/* ------------------------------------------------------------------------ */
/* Tensor names (HF module paths) a config needs.                            */

static void emit(swacl_tensor_fn fn, void *user, int64_t a, int64_t b, const char *fmt, int i)
{
    char name[96];
    snprintf(name, sizeof name, fmt, i);
    int64_t shape[2] = {a, b};
    fn(name, b ? 2 : 1, shape, user);
}

void swacl_config_tensors(const swacl_config *c, swacl_tensor_fn fn, void *user)
{
    const int64_t D = c->hidden_size, F = c->ffn_dim;
    const int64_t Q = (int64_t)c->n_heads * c->head_dim, KV = (int64_t)c->n_kv_heads * c->head_dim;
    const int nb = c->norm == SWACL_NORM_LAYER; /* norms carry a bias */
    if (c->vocab_size > 0) emit(fn, user, c->vocab_size, D, "model.embed_tokens.weight", 0);
    if (c->input_dim > 0 && c->input_dim != c->hidden_size) {
        emit(fn, user, D, c->input_dim, "model.input_proj.weight", 0);
        emit(fn, user, D, 0, "model.input_proj.bias", 0);
    }
    const int gated = c->ffn != SWACL_FFN_GELU;
    const int o_bias = c->attn_out_bias < 0 ? c->attn_bias : c->attn_out_bias;
    for (int i = 0; i < c->n_layers; i++) {
        const swacl_qknorm qkn = c->layers[i].qk_norm;
        if (c->norm_place != SWACL_NORMS_POST) {
            emit(fn, user, D, 0, "model.layers.%d.input_layernorm.weight", i);
            if (nb) emit(fn, user, D, 0, "model.layers.%d.input_layernorm.bias", i);
        }
        emit(fn, user, Q, D, "model.layers.%d.self_attn.q_proj.weight", i);
        emit(fn, user, KV, D, "model.layers.%d.self_attn.k_proj.weight", i);
        emit(fn, user, KV, D, "model.layers.%d.self_attn.v_proj.weight", i);
        emit(fn, user, D, Q, "model.layers.%d.self_attn.o_proj.weight", i);
        if (c->attn_bias) {
            emit(fn, user, Q, 0, "model.layers.%d.self_attn.q_proj.bias", i);
            emit(fn, user, KV, 0, "model.layers.%d.self_attn.k_proj.bias", i);
            emit(fn, user, KV, 0, "model.layers.%d.self_attn.v_proj.bias", i);
        }
        if (o_bias) emit(fn, user, D, 0, "model.layers.%d.self_attn.o_proj.bias", i);
        if (qkn == SWACL_QKNORM_RMS_HEAD || qkn == SWACL_QKNORM_RMS_FULL) {
            const int full = qkn == SWACL_QKNORM_RMS_FULL;
            emit(fn, user, full ? Q : c->head_dim, 0, "model.layers.%d.self_attn.q_norm.weight", i);
            emit(fn, user, full ? KV : c->head_dim, 0, "model.layers.%d.self_attn.k_norm.weight", i);
        }
        /* post_attention_layernorm: the pre-FFN norm of a PRE block, the
         * norm of the attention output otherwise (Gemma, OLMo) */
        if (c->block == SWACL_BLOCK_SEQUENTIAL) {
            emit(fn, user, D, 0, "model.layers.%d.post_attention_layernorm.weight", i);
            if (nb) emit(fn, user, D, 0, "model.layers.%d.post_attention_layernorm.bias", i);
        }
        if (c->norm_place == SWACL_NORMS_SANDWICH)
            emit(fn, user, D, 0, "model.layers.%d.pre_feedforward_layernorm.weight", i);
        if (c->norm_place != SWACL_NORMS_PRE)
            emit(fn, user, D, 0, "model.layers.%d.post_feedforward_layernorm.weight", i);
        if (gated) emit(fn, user, F, D, "model.layers.%d.mlp.gate_proj.weight", i);
        emit(fn, user, F, D, "model.layers.%d.mlp.up_proj.weight", i);
        emit(fn, user, D, F, "model.layers.%d.mlp.down_proj.weight", i);
        if (c->ffn_bias) {
            if (gated) emit(fn, user, F, 0, "model.layers.%d.mlp.gate_proj.bias", i);
            emit(fn, user, F, 0, "model.layers.%d.mlp.up_proj.bias", i);
            emit(fn, user, D, 0, "model.layers.%d.mlp.down_proj.bias", i);
        }
    }
    if (c->final_norm) {
        emit(fn, user, D, 0, "model.norm.weight", 0);
        if (nb) emit(fn, user, D, 0, "model.norm.bias", 0);
    }
    if (c->output == SWACL_OUTPUT_LOGITS && !c->tied_embeddings)
        emit(fn, user, c->vocab_size, D, "lm_head.weight", 0);
}
