/*
 * hf_config.c - config.json -> swacl_config (docs/MODEL.md Part B 4, 5, 6.2, 7),
 * the "swacl" config.json writer, and checkpoint tensor-name mapping.
 *
 * Supported model_type values and what they map to (i = 0-based layer):
 *   cohere2     layer_types, else (i+1) % sliding_window_pattern != 0 is
 *               sliding (pattern from sliding_window_pattern or
 *               _sliding_window_pattern, default 4). Sliding layers: WINDOW
 *               sliding_window + RoPE PAIR; full layers: GLOBAL NoPE.
 *               PARALLEL block, bias-free LayerNorm (layer_norm_eps),
 *               logit_scale (default 0.0625), tied by default, head_dim
 *               forced to hidden/heads (as Cohere2Config does).
 *   smollm3     no_rope_layers[i] == 1 means RoPE (HALF), else NoPE; default
 *               (i+1) % no_rope_layer_interval != 0. GLOBAL unless
 *               use_sliding_window with layer_types marks it sliding. RMS,
 *               sequential, tied by default.
 *   llama4_text (or llama4 with a text_config) dense FFN only: RoPE layers
 *               (no_rope_layers as SmolLM3) get CHUNK attention_chunk_size,
 *               PAIR RoPE and, with use_qk_norm, the weightless RMS after
 *               RoPE; NoPE layers get GLOBAL and, with
 *               attn_temperature_tuning, TEMP_LLAMA4(floor_scale,
 *               attn_scale). Any MoE layer -> SWACL_UNSUPPORTED. FFN width
 *               intermediate_size_mlp; tensors under feed_forward.; untied
 *               by default.
 *   mistral     every layer WINDOW sliding_window (GLOBAL when null), HALF.
 *   llama       every layer GLOBAL, HALF.
 *   swacl       our own files (swacl_save_hf): the full per-layer spec.
 * rope_scaling must be null or of type "default"; rope_parameters (v5) may
 * carry rope_theta, also keyed by layer type. Unknown keys are ignored.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/file.h"
#include "model/hf.h"

#define FAIL(st, ...)                                                        \
    do {                                                                     \
        swacl_format_msg(err, err_len, __VA_ARGS__);                         \
        return (st);                                                         \
    } while (0)

/* Bounded getters. Absent or null keys give the default; a present key of
 * the wrong type or out of range is a FORMAT error naming the key. */
static swacl_status get_int(const cJSON *o, const char *key, long dflt, long lo, long hi, long *out,
                            char *err, size_t err_len)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!j || cJSON_IsNull(j)) {
        *out = dflt;
        return SWACL_OK;
    }
    double d = cJSON_IsNumber(j) ? j->valuedouble : NAN;
    if (!(d >= (double)lo && d <= (double)hi) || floor(d) != d)
        FAIL(SWACL_FORMAT, "config.json: '%s' must be an integer in [%ld, %ld]", key, lo, hi);
    *out = (long)d;
    return SWACL_OK;
}

static swacl_status get_req_int(const cJSON *o, const char *key, long lo, long hi, int *out,
                                char *err, size_t err_len)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!j || cJSON_IsNull(j)) FAIL(SWACL_FORMAT, "config.json: missing required key '%s'", key);
    long v;
    SWACL_TRY(get_int(o, key, 0, lo, hi, &v, err, err_len));
    *out = (int)v;
    return SWACL_OK;
}

static swacl_status get_float(const cJSON *o, const char *key, double dflt, float *out, char *err,
                              size_t err_len)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!j || cJSON_IsNull(j)) {
        *out = (float)dflt;
        return SWACL_OK;
    }
    if (!cJSON_IsNumber(j) || !isfinite(j->valuedouble) || fabs(j->valuedouble) > 3.0e38)
        FAIL(SWACL_FORMAT, "config.json: '%s' must be a finite number", key);
    *out = (float)j->valuedouble;
    return SWACL_OK;
}

static swacl_status get_bool(const cJSON *o, const char *key, int dflt, int *out, char *err,
                             size_t err_len)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!j || cJSON_IsNull(j)) {
        *out = dflt;
        return SWACL_OK;
    }
    if (!cJSON_IsBool(j)) FAIL(SWACL_FORMAT, "config.json: '%s' must be true or false", key);
    *out = cJSON_IsTrue(j);
    return SWACL_OK;
}

static const char *get_str(const cJSON *o, const char *key)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(j) && j->valuestring ? j->valuestring : NULL;
}

/* rope_scaling / rope_parameters must be the default rope type. */
static swacl_status check_rope_type(const cJSON *r, const char *key, char *err, size_t err_len)
{
    if (!r || cJSON_IsNull(r)) return SWACL_OK;
    if (!cJSON_IsObject(r)) FAIL(SWACL_FORMAT, "config.json: '%s' must be an object or null", key);
    const char *t = get_str(r, "rope_type");
    if (!t) t = get_str(r, "type");
    if (t && strcmp(t, "default") != 0)
        FAIL(SWACL_UNSUPPORTED, "config.json: %s type '%.40s' is not supported (only default RoPE)",
             key, t);
    float f;
    SWACL_TRY(get_float(r, "partial_rotary_factor", 1.0, &f, err, err_len));
    if (f != 1.0f)
        FAIL(SWACL_UNSUPPORTED, "config.json: %s partial_rotary_factor %g is not supported", key,
             (double)f);
    if (!t && cJSON_GetObjectItemCaseSensitive(r, "factor"))
        FAIL(SWACL_UNSUPPORTED, "config.json: %s with a scaling factor is not supported", key);
    return SWACL_OK;
}

/* RoPE theta for a layer type ("sliding_attention", "full_attention", ...),
 * from rope_parameters (v5, possibly keyed by layer type) or rope_theta. */
static swacl_status rope_theta(const cJSON *o, const char *layer_type, double dflt, float *out,
                               char *err, size_t err_len)
{
    SWACL_TRY(check_rope_type(cJSON_GetObjectItemCaseSensitive(o, "rope_scaling"), "rope_scaling",
                              err, err_len));
    SWACL_TRY(get_float(o, "rope_theta", dflt, out, err, err_len));
    const cJSON *rp = cJSON_GetObjectItemCaseSensitive(o, "rope_parameters");
    if (rp && !cJSON_IsNull(rp)) {
        if (!cJSON_IsObject(rp))
            FAIL(SWACL_FORMAT, "config.json: 'rope_parameters' must be an object");
        const cJSON *per = layer_type ? cJSON_GetObjectItemCaseSensitive(rp, layer_type) : NULL;
        if (cJSON_IsObject(per)) rp = per;
        SWACL_TRY(check_rope_type(rp, "rope_parameters", err, err_len));
        SWACL_TRY(get_float(rp, "rope_theta", *out, out, err, err_len));
    }
    if (!(*out > 0)) FAIL(SWACL_FORMAT, "config.json: rope_theta must be positive");
    return SWACL_OK;
}

/* layer_types[i] as a string, NULL when there is no list. */
static swacl_status layer_type(const cJSON *o, int i, int n_layers, const char **out, char *err,
                               size_t err_len)
{
    *out = NULL;
    const cJSON *lt = cJSON_GetObjectItemCaseSensitive(o, "layer_types");
    if (!lt || cJSON_IsNull(lt)) return SWACL_OK;
    if (!cJSON_IsArray(lt) || cJSON_GetArraySize(lt) != n_layers)
        FAIL(SWACL_FORMAT, "config.json: 'layer_types' must be an array of %d strings", n_layers);
    const cJSON *e = cJSON_GetArrayItem(lt, i);
    if (!cJSON_IsString(e) || !e->valuestring)
        FAIL(SWACL_FORMAT, "config.json: layer_types[%d] is not a string", i);
    *out = e->valuestring;
    if (strcmp(*out, "sliding_attention") && strcmp(*out, "full_attention") &&
        strcmp(*out, "chunked_attention"))
        FAIL(SWACL_UNSUPPORTED, "config.json: layer_types[%d] '%.40s' is not supported", i, *out);
    return SWACL_OK;
}

/* no_rope_layers[i] (1 = RoPE, docs/MODEL.md 5.1), else the interval rule. */
static swacl_status uses_rope(const cJSON *o, int i, int n_layers, int *out, char *err,
                              size_t err_len)
{
    const cJSON *nr = cJSON_GetObjectItemCaseSensitive(o, "no_rope_layers");
    /* HF: an absent, null or empty list falls back to the interval rule */
    if (nr && !cJSON_IsNull(nr) && !(cJSON_IsArray(nr) && cJSON_GetArraySize(nr) == 0)) {
        if (!cJSON_IsArray(nr) || cJSON_GetArraySize(nr) != n_layers)
            FAIL(SWACL_FORMAT, "config.json: 'no_rope_layers' must be an array of %d entries",
                 n_layers);
        const cJSON *e = cJSON_GetArrayItem(nr, i);
        if (cJSON_IsBool(e)) {
            *out = cJSON_IsTrue(e);
        } else if (cJSON_IsNumber(e) && (e->valuedouble == 0 || e->valuedouble == 1)) {
            *out = e->valuedouble == 1;
        } else {
            FAIL(SWACL_FORMAT, "config.json: no_rope_layers[%d] must be 0 or 1", i);
        }
        return SWACL_OK;
    }
    long iv;
    SWACL_TRY(get_int(o, "no_rope_layer_interval", 4, 1, 1 << 20, &iv, err, err_len));
    *out = (i + 1) % iv != 0;
    return SWACL_OK;
}

static swacl_status check_act(const cJSON *o, const char *mt, char *err, size_t err_len)
{
    const char *act = get_str(o, "hidden_act");
    if (!act) act = get_str(o, "hidden_activation");
    if (act && strcmp(act, "silu") && strcmp(act, "swish"))
        FAIL(SWACL_UNSUPPORTED,
             "config.json: hidden_act '%.40s' is not supported for model_type %s (only silu)", act,
             mt);
    return SWACL_OK;
}

/* Shared dims. head_dim_dflt < 0: hidden / heads. */
static swacl_status common_dims(const cJSON *o, swacl_config *c, const char *ffn_key,
                                long head_dim_dflt, char *err, size_t err_len)
{
    const long big = 1 << 24;
    SWACL_TRY(get_req_int(o, "hidden_size", 1, big, &c->hidden_size, err, err_len));
    SWACL_TRY(get_req_int(o, "num_hidden_layers", 1, SWACL_MAX_LAYERS, &c->n_layers, err, err_len));
    SWACL_TRY(get_req_int(o, "num_attention_heads", 1, big, &c->n_heads, err, err_len));
    SWACL_TRY(get_req_int(o, "vocab_size", 1, 1L << 30, &c->vocab_size, err, err_len));
    SWACL_TRY(get_req_int(o, ffn_key, 1, 1L << 30, &c->ffn_dim, err, err_len));
    long v;
    SWACL_TRY(get_int(o, "num_key_value_heads", c->n_heads, 1, big, &v, err, err_len));
    c->n_kv_heads = (int)v;
    if (head_dim_dflt < 0) head_dim_dflt = c->hidden_size / c->n_heads;
    SWACL_TRY(get_int(o, "head_dim", head_dim_dflt, 1, big, &v, err, err_len));
    c->head_dim = (int)v;
    c->ffn = SWACL_FFN_SWIGLU;
    c->output = SWACL_OUTPUT_LOGITS;
    c->final_norm = 1;
    c->logit_scale = 1.0f;
    return SWACL_OK;
}

/* Llama / Mistral / SmolLM3 / Llama 4 shared block. */
static swacl_status llama_like(const cJSON *o, swacl_config *c, int tie_dflt, double eps_dflt,
                               int bias_keys, char *err, size_t err_len)
{
    c->norm = SWACL_NORM_RMS;
    c->block = SWACL_BLOCK_SEQUENTIAL;
    SWACL_TRY(get_float(o, "rms_norm_eps", eps_dflt, &c->norm_eps, err, err_len));
    SWACL_TRY(get_bool(o, "tie_word_embeddings", tie_dflt, &c->tied_embeddings, err, err_len));
    if (bias_keys) {
        SWACL_TRY(get_bool(o, "attention_bias", 0, &c->attn_bias, err, err_len));
        SWACL_TRY(get_bool(o, "mlp_bias", 0, &c->ffn_bias, err, err_len));
    }
    return SWACL_OK;
}

static swacl_status map_cohere2(const cJSON *o, swacl_config *c, char *err, size_t err_len)
{
    SWACL_TRY(check_act(o, "cohere2", err, err_len));
    SWACL_TRY(common_dims(o, c, "intermediate_size", -1, err, err_len));
    c->head_dim = c->hidden_size / c->n_heads; /* Cohere2Config forces it */
    c->norm = SWACL_NORM_LAYER_NOBIAS;
    c->block = SWACL_BLOCK_PARALLEL;
    SWACL_TRY(get_float(o, "layer_norm_eps", 1e-5, &c->norm_eps, err, err_len));
    SWACL_TRY(get_float(o, "logit_scale", 0.0625, &c->logit_scale, err, err_len));
    SWACL_TRY(get_bool(o, "tie_word_embeddings", 1, &c->tied_embeddings, err, err_len));
    SWACL_TRY(get_bool(o, "attention_bias", 0, &c->attn_bias, err, err_len));
    long W, pat;
    SWACL_TRY(get_int(o, "sliding_window", 0, 1, 1L << 30, &W, err, err_len));
    {
        const cJSON *sw = cJSON_GetObjectItemCaseSensitive(o, "sliding_window");
        if (!sw) W = 4096; /* class default; an explicit null means no window */
    }
    SWACL_TRY(get_int(o, "_sliding_window_pattern", 4, 1, 1 << 20, &pat, err, err_len));
    SWACL_TRY(get_int(o, "sliding_window_pattern", pat, 1, 1 << 20, &pat, err, err_len));
    for (int i = 0; i < c->n_layers; i++) {
        const char *lt;
        SWACL_TRY(layer_type(o, i, c->n_layers, &lt, err, err_len));
        int sliding = lt ? strcmp(lt, "sliding_attention") == 0 : (i + 1) % pat != 0;
        if (lt && strcmp(lt, "chunked_attention") == 0)
            FAIL(SWACL_UNSUPPORTED, "config.json: cohere2 layer_types[%d] chunked_attention", i);
        swacl_layer_spec *l = &c->layers[i];
        if (sliding && W > 0) {
            l->span = SWACL_SPAN_WINDOW;
            l->span_size = (int)W;
            l->pos = SWACL_POS_ROPE_PAIR;
            SWACL_TRY(rope_theta(o, "sliding_attention", 10000.0, &l->rope_theta, err, err_len));
        } else {
            l->span = SWACL_SPAN_GLOBAL;
        }
    }
    return SWACL_OK;
}

static swacl_status map_smollm3(const cJSON *o, swacl_config *c, char *err, size_t err_len)
{
    SWACL_TRY(check_act(o, "smollm3", err, err_len));
    SWACL_TRY(common_dims(o, c, "intermediate_size", -1, err, err_len));
    SWACL_TRY(llama_like(o, c, 1, 1e-6, 1, err, err_len));
    int use_sw;
    long W;
    SWACL_TRY(get_bool(o, "use_sliding_window", 0, &use_sw, err, err_len));
    SWACL_TRY(get_int(o, "sliding_window", 0, 1, 1L << 30, &W, err, err_len));
    for (int i = 0; i < c->n_layers; i++) {
        int rope;
        const char *lt;
        SWACL_TRY(uses_rope(o, i, c->n_layers, &rope, err, err_len));
        SWACL_TRY(layer_type(o, i, c->n_layers, &lt, err, err_len));
        /* SmolLM3Config: sliding iff use_sliding_window and NoPE layer; an
         * explicit layer_types list wins. */
        int sliding = lt ? strcmp(lt, "sliding_attention") == 0 : (use_sw && W > 0 && !rope);
        if (lt && strcmp(lt, "chunked_attention") == 0)
            FAIL(SWACL_UNSUPPORTED, "config.json: smollm3 layer_types[%d] chunked_attention", i);
        swacl_layer_spec *l = &c->layers[i];
        if (sliding && W > 0) {
            l->span = SWACL_SPAN_WINDOW;
            l->span_size = (int)W;
        }
        if (rope) {
            l->pos = SWACL_POS_ROPE_HALF;
            SWACL_TRY(rope_theta(o, lt, 2000000.0, &l->rope_theta, err, err_len));
        }
    }
    return SWACL_OK;
}

static swacl_status map_llama4(const cJSON *o, swacl_config *c, char *err, size_t err_len)
{
    SWACL_TRY(check_act(o, "llama4_text", err, err_len));
    long n_layers;
    SWACL_TRY(get_int(o, "num_hidden_layers", 48, 1, SWACL_MAX_LAYERS, &n_layers, err, err_len));
    /* MoE: moe_layers, else every interleave_moe_layer_step-th layer
     * (Llama4TextConfig default step 1 = every layer). */
    const cJSON *moe = cJSON_GetObjectItemCaseSensitive(o, "moe_layers");
    if (moe && !cJSON_IsNull(moe)) {
        if (!cJSON_IsArray(moe))
            FAIL(SWACL_FORMAT, "config.json: 'moe_layers' must be an array");
        if (cJSON_GetArraySize(moe) > 0)
            FAIL(SWACL_UNSUPPORTED,
                 "config.json: llama4 MoE layers are not supported (moe_layers has %d entries; "
                 "only dense feed-forward layers are)",
                 cJSON_GetArraySize(moe));
    } else {
        long step;
        SWACL_TRY(get_int(o, "interleave_moe_layer_step", 1, 0, 1 << 20, &step, err, err_len));
        if (step > 0 && step <= n_layers)
            FAIL(SWACL_UNSUPPORTED,
                 "config.json: llama4 MoE layers are not supported (no moe_layers list and "
                 "interleave_moe_layer_step %ld makes layer %ld MoE)",
                 step, step - 1);
    }
    SWACL_TRY(common_dims(o, c, "intermediate_size_mlp", 128, err, err_len));
    SWACL_TRY(llama_like(o, c, 0, 1e-5, 1, err, err_len));
    long C;
    int temp_tuning, qk_norm;
    float floor_scale, attn_scale;
    SWACL_TRY(get_int(o, "attention_chunk_size", 0, 1, 1L << 30, &C, err, err_len));
    if (!cJSON_GetObjectItemCaseSensitive(o, "attention_chunk_size")) C = 8192;
    SWACL_TRY(get_bool(o, "attn_temperature_tuning", 1, &temp_tuning, err, err_len));
    SWACL_TRY(get_bool(o, "use_qk_norm", 1, &qk_norm, err, err_len));
    SWACL_TRY(get_float(o, "floor_scale", 8192.0, &floor_scale, err, err_len));
    SWACL_TRY(get_float(o, "attn_scale", 0.1, &attn_scale, err, err_len));
    for (int i = 0; i < c->n_layers; i++) {
        int rope;
        const char *lt;
        SWACL_TRY(uses_rope(o, i, c->n_layers, &rope, err, err_len));
        SWACL_TRY(layer_type(o, i, c->n_layers, &lt, err, err_len));
        if (lt && strcmp(lt, "sliding_attention") == 0)
            FAIL(SWACL_UNSUPPORTED, "config.json: llama4 layer_types[%d] sliding_attention", i);
        /* Llama4TextConfig: layer_types default chunked where RoPE. */
        int chunked = lt ? strcmp(lt, "chunked_attention") == 0 : rope;
        swacl_layer_spec *l = &c->layers[i];
        if (chunked && C > 0) {
            l->span = SWACL_SPAN_CHUNK;
            l->span_size = (int)C;
        }
        if (rope) {
            l->pos = SWACL_POS_ROPE_PAIR;
            SWACL_TRY(rope_theta(o, lt, 500000.0, &l->rope_theta, err, err_len));
            if (qk_norm) l->qk_norm = SWACL_QKNORM_RMS_AFTER_ROPE;
        } else if (temp_tuning) {
            l->temp = SWACL_TEMP_LLAMA4;
            l->temp_p0 = floor_scale;
            l->temp_p1 = attn_scale;
        }
    }
    return SWACL_OK;
}

static swacl_status map_mistral(const cJSON *o, swacl_config *c, char *err, size_t err_len)
{
    SWACL_TRY(check_act(o, "mistral", err, err_len));
    SWACL_TRY(common_dims(o, c, "intermediate_size", -1, err, err_len));
    /* Mistral hard-codes bias=False (attention_bias / mlp_bias ignored). */
    SWACL_TRY(llama_like(o, c, 0, 1e-6, 0, err, err_len));
    long W;
    SWACL_TRY(get_int(o, "sliding_window", 0, 1, 1L << 30, &W, err, err_len));
    for (int i = 0; i < c->n_layers; i++) {
        swacl_layer_spec *l = &c->layers[i];
        if (W > 0) {
            l->span = SWACL_SPAN_WINDOW;
            l->span_size = (int)W;
        }
        l->pos = SWACL_POS_ROPE_HALF;
        SWACL_TRY(rope_theta(o, NULL, 10000.0, &l->rope_theta, err, err_len));
    }
    return SWACL_OK;
}

static swacl_status map_llama(const cJSON *o, swacl_config *c, char *err, size_t err_len)
{
    SWACL_TRY(check_act(o, "llama", err, err_len));
    SWACL_TRY(common_dims(o, c, "intermediate_size", -1, err, err_len));
    SWACL_TRY(llama_like(o, c, 0, 1e-6, 1, err, err_len));
    for (int i = 0; i < c->n_layers; i++) {
        swacl_layer_spec *l = &c->layers[i];
        l->pos = SWACL_POS_ROPE_HALF;
        SWACL_TRY(rope_theta(o, NULL, 10000.0, &l->rope_theta, err, err_len));
    }
    return SWACL_OK;
}

/* ------------------------------------------------------------------------ */
/* "swacl": our own full spec.                                               */

typedef struct {
    const char *name;
    int val;
} enum_name;

static const enum_name k_ffn[] = {{"swiglu", SWACL_FFN_SWIGLU}, {"gelu", SWACL_FFN_GELU}, {0, 0}};
static const enum_name k_norm[] = {{"rms", SWACL_NORM_RMS},
                                   {"layer", SWACL_NORM_LAYER},
                                   {"layer_nobias", SWACL_NORM_LAYER_NOBIAS},
                                   {0, 0}};
static const enum_name k_block[] = {
    {"sequential", SWACL_BLOCK_SEQUENTIAL}, {"parallel", SWACL_BLOCK_PARALLEL}, {0, 0}};
static const enum_name k_output[] = {
    {"logits", SWACL_OUTPUT_LOGITS}, {"last_hidden", SWACL_OUTPUT_LAST_HIDDEN}, {0, 0}};
static const enum_name k_span[] = {{"global", SWACL_SPAN_GLOBAL},
                                   {"window", SWACL_SPAN_WINDOW},
                                   {"chunk", SWACL_SPAN_CHUNK},
                                   {0, 0}};
static const enum_name k_pos[] = {{"none", SWACL_POS_NONE},
                                  {"rope_pair", SWACL_POS_ROPE_PAIR},
                                  {"rope_half", SWACL_POS_ROPE_HALF},
                                  {0, 0}};
static const enum_name k_temp[] = {{"none", SWACL_TEMP_NONE},
                                   {"llama4", SWACL_TEMP_LLAMA4},
                                   {"log_ratio", SWACL_TEMP_LOG_RATIO},
                                   {0, 0}};
static const enum_name k_qkn[] = {
    {"none", SWACL_QKNORM_NONE}, {"rms_after_rope", SWACL_QKNORM_RMS_AFTER_ROPE}, {0, 0}};

static const char *enum_str(const enum_name *t, int v)
{
    for (; t->name; t++)
        if (t->val == v) return t->name;
    return "?";
}

static swacl_status get_enum(const cJSON *o, const char *key, const enum_name *t, int *out,
                             const char *where, char *err, size_t err_len)
{
    const char *s = get_str(o, key);
    if (!s) FAIL(SWACL_FORMAT, "config.json: %s'%s' must be a string", where, key);
    for (; t->name; t++)
        if (strcmp(s, t->name) == 0) {
            *out = t->val;
            return SWACL_OK;
        }
    FAIL(SWACL_FORMAT, "config.json: %s'%s' has unknown value '%.40s'", where, key, s);
}

static swacl_status map_swacl(const cJSON *o, swacl_config *c, char *err, size_t err_len)
{
    const long big = 1L << 30;
    long v;
    int e;
#define INT(key, field, lo)                                                  \
    SWACL_TRY(get_int(o, key, 0, lo, big, &v, err, err_len));                \
    c->field = (int)v
    INT("vocab_size", vocab_size, 0);
    INT("input_dim", input_dim, 0);
    INT("hidden_size", hidden_size, 1);
    INT("num_attention_heads", n_heads, 1);
    INT("num_key_value_heads", n_kv_heads, 1);
    INT("head_dim", head_dim, 1);
    INT("intermediate_size", ffn_dim, 1);
#undef INT
    SWACL_TRY(get_req_int(o, "num_hidden_layers", 1, SWACL_MAX_LAYERS, &c->n_layers, err, err_len));
    SWACL_TRY(get_enum(o, "ffn", k_ffn, &e, "", err, err_len));
    c->ffn = (swacl_ffn)e;
    SWACL_TRY(get_enum(o, "norm", k_norm, &e, "", err, err_len));
    c->norm = (swacl_norm)e;
    SWACL_TRY(get_enum(o, "block", k_block, &e, "", err, err_len));
    c->block = (swacl_block)e;
    SWACL_TRY(get_enum(o, "output", k_output, &e, "", err, err_len));
    c->output = (swacl_output)e;
    SWACL_TRY(get_bool(o, "attention_bias", 0, &c->attn_bias, err, err_len));
    SWACL_TRY(get_bool(o, "mlp_bias", 0, &c->ffn_bias, err, err_len));
    SWACL_TRY(get_bool(o, "final_norm", 1, &c->final_norm, err, err_len));
    SWACL_TRY(get_bool(o, "tie_word_embeddings", 0, &c->tied_embeddings, err, err_len));
    SWACL_TRY(get_float(o, "norm_eps", 1e-5, &c->norm_eps, err, err_len));
    SWACL_TRY(get_float(o, "logit_scale", 1.0, &c->logit_scale, err, err_len));
    SWACL_TRY(get_float(o, "attn_scale", 0.0, &c->attn_scale, err, err_len));
    SWACL_TRY(get_float(o, "dropout", 0.0, &c->dropout, err, err_len));
    const cJSON *ls = cJSON_GetObjectItemCaseSensitive(o, "swacl_layers");
    if (!cJSON_IsArray(ls) || cJSON_GetArraySize(ls) != c->n_layers)
        FAIL(SWACL_FORMAT, "config.json: 'swacl_layers' must be an array of %d layer objects",
             c->n_layers);
    int i = 0;
    for (const cJSON *lj = ls->child; lj; lj = lj->next, i++) {
        swacl_layer_spec *l = &c->layers[i];
        char where[48];
        snprintf(where, sizeof where, "swacl_layers[%d] ", i);
        if (!cJSON_IsObject(lj)) FAIL(SWACL_FORMAT, "config.json: %sis not an object", where);
        SWACL_TRY(get_enum(lj, "span", k_span, &e, where, err, err_len));
        l->span = (swacl_span)e;
        SWACL_TRY(get_int(lj, "span_size", 0, 0, big, &v, err, err_len));
        l->span_size = (int)v;
        SWACL_TRY(get_enum(lj, "pos", k_pos, &e, where, err, err_len));
        l->pos = (swacl_pos)e;
        SWACL_TRY(get_float(lj, "rope_theta", 0.0, &l->rope_theta, err, err_len));
        SWACL_TRY(get_enum(lj, "temp", k_temp, &e, where, err, err_len));
        l->temp = (swacl_temp)e;
        SWACL_TRY(get_float(lj, "temp_p0", 0.0, &l->temp_p0, err, err_len));
        SWACL_TRY(get_float(lj, "temp_p1", 0.0, &l->temp_p1, err, err_len));
        SWACL_TRY(get_enum(lj, "qk_norm", k_qkn, &e, where, err, err_len));
        l->qk_norm = (swacl_qknorm)e;
    }
    return SWACL_OK;
}

char *swacl_hf_config_write(const swacl_config *c)
{
    if (!c || c->n_layers < 1 || c->n_layers > SWACL_MAX_LAYERS) return NULL;
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON *arch = cJSON_AddArrayToObject(o, "architectures");
    if (arch) cJSON_AddItemToArray(arch, cJSON_CreateString("SwaclForCausalLM"));
    cJSON_AddStringToObject(o, "model_type", "swacl");
    cJSON_AddStringToObject(o, "swacl_version", SWACL_VERSION_STRING);
    cJSON_AddStringToObject(o, "torch_dtype", "float32");
    cJSON_AddNumberToObject(o, "vocab_size", c->vocab_size);
    cJSON_AddNumberToObject(o, "input_dim", c->input_dim);
    cJSON_AddNumberToObject(o, "hidden_size", c->hidden_size);
    cJSON_AddNumberToObject(o, "num_attention_heads", c->n_heads);
    cJSON_AddNumberToObject(o, "num_key_value_heads", c->n_kv_heads);
    cJSON_AddNumberToObject(o, "head_dim", c->head_dim);
    cJSON_AddNumberToObject(o, "intermediate_size", c->ffn_dim);
    cJSON_AddNumberToObject(o, "num_hidden_layers", c->n_layers);
    cJSON_AddStringToObject(o, "ffn", enum_str(k_ffn, c->ffn));
    cJSON_AddStringToObject(o, "norm", enum_str(k_norm, c->norm));
    cJSON_AddStringToObject(o, "block", enum_str(k_block, c->block));
    cJSON_AddStringToObject(o, "output", enum_str(k_output, c->output));
    cJSON_AddBoolToObject(o, "attention_bias", c->attn_bias != 0);
    cJSON_AddBoolToObject(o, "mlp_bias", c->ffn_bias != 0);
    cJSON_AddBoolToObject(o, "final_norm", c->final_norm != 0);
    cJSON_AddBoolToObject(o, "tie_word_embeddings", c->tied_embeddings != 0);
    /* floats go through double: cJSON prints up to 17 significant digits,
     * so float -> double -> text -> double -> float is exact. */
    cJSON_AddNumberToObject(o, "norm_eps", (double)c->norm_eps);
    cJSON_AddNumberToObject(o, "logit_scale", (double)c->logit_scale);
    cJSON_AddNumberToObject(o, "attn_scale", (double)c->attn_scale);
    cJSON_AddNumberToObject(o, "dropout", (double)c->dropout);
    cJSON *ls = cJSON_AddArrayToObject(o, "swacl_layers");
    for (int i = 0; ls && i < c->n_layers; i++) {
        const swacl_layer_spec *l = &c->layers[i];
        cJSON *lj = cJSON_CreateObject();
        if (!lj) break;
        cJSON_AddStringToObject(lj, "span", enum_str(k_span, l->span));
        cJSON_AddNumberToObject(lj, "span_size", l->span_size);
        cJSON_AddStringToObject(lj, "pos", enum_str(k_pos, l->pos));
        cJSON_AddNumberToObject(lj, "rope_theta", (double)l->rope_theta);
        cJSON_AddStringToObject(lj, "temp", enum_str(k_temp, l->temp));
        cJSON_AddNumberToObject(lj, "temp_p0", (double)l->temp_p0);
        cJSON_AddNumberToObject(lj, "temp_p1", (double)l->temp_p1);
        cJSON_AddStringToObject(lj, "qk_norm", enum_str(k_qkn, l->qk_norm));
        cJSON_AddItemToArray(ls, lj);
    }
    char *s = cJSON_Print(o);
    cJSON_Delete(o);
    return s;
}

/* ------------------------------------------------------------------------ */

swacl_status swacl_hf_config_parse(const char *json, size_t len, swacl_config *cfg,
                                   swacl_hf_map *map, char *err, size_t err_len)
{
    if (err && err_len) err[0] = 0;
    if (!json || !cfg) FAIL(SWACL_INVALID_ARG, "config.json: no input");
    swacl_hf_map m;
    memset(&m, 0, sizeof m);
    swacl_config_init(cfg);
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root) FAIL(SWACL_FORMAT, "config.json: not valid JSON");
    /* a repeated key: the last one counts, as in Python's json / transformers */
    if (swacl_json_last_wins(root) != 0) {
        cJSON_Delete(root);
        FAIL(SWACL_OUT_OF_MEMORY, "config.json: out of memory");
    }
    swacl_status st = SWACL_OK;
    const cJSON *o = root;
    if (!cJSON_IsObject(o)) {
        swacl_format_msg(err, err_len, "config.json: top level is not a JSON object");
        st = SWACL_FORMAT;
        goto out;
    }
    const char *mt = get_str(o, "model_type");
    if (!mt) {
        swacl_format_msg(err, err_len, "config.json: missing 'model_type'");
        st = SWACL_FORMAT;
        goto out;
    }
    /* Llama 4 multimodal wrappers nest the text model under text_config. */
    if (strcmp(mt, "llama4") == 0) {
        const cJSON *tc = cJSON_GetObjectItemCaseSensitive(o, "text_config");
        if (!cJSON_IsObject(tc)) {
            swacl_format_msg(err, err_len, "config.json: model_type llama4 without a text_config");
            st = SWACL_FORMAT;
            goto out;
        }
        o = tc;
        mt = "llama4_text";
    }
    snprintf(m.model_type, sizeof m.model_type, "%.31s", mt);
    if (strcmp(mt, "cohere2") == 0) {
        st = map_cohere2(o, cfg, err, err_len);
    } else if (strcmp(mt, "smollm3") == 0) {
        st = map_smollm3(o, cfg, err, err_len);
    } else if (strcmp(mt, "llama4_text") == 0) {
        m.ffn_feed_forward = 1;
        st = map_llama4(o, cfg, err, err_len);
    } else if (strcmp(mt, "mistral") == 0) {
        st = map_mistral(o, cfg, err, err_len);
    } else if (strcmp(mt, "llama") == 0) {
        st = map_llama(o, cfg, err, err_len);
    } else if (strcmp(mt, "swacl") == 0) {
        st = map_swacl(o, cfg, err, err_len);
    } else {
        swacl_format_msg(err, err_len,
                         "config.json: unsupported model_type '%.40s' (supported: cohere2, smollm3, "
                         "llama4_text, mistral, llama, swacl)",
                         mt);
        st = SWACL_UNSUPPORTED;
    }
    if (st == SWACL_OK) {
        char msg[256];
        if (swacl_config_check(cfg, msg, sizeof msg) != SWACL_OK) {
            swacl_format_msg(err, err_len, "config.json (%s): invalid configuration: %s", m.model_type,
                             msg);
            st = SWACL_FORMAT;
        }
    }
out:
    cJSON_Delete(root);
    if (st == SWACL_OK && map) *map = m;
    return st;
}

int swacl_hf_name_candidates(const swacl_hf_map *map, const char *canon, char (*out)[192], int max)
{
    char base[2][192];
    int nb = 0;
    snprintf(base[nb++], sizeof base[0], "%s", canon);
    const char *mlp = strstr(canon, ".mlp.");
    if (map && map->ffn_feed_forward && mlp) {
        snprintf(base[nb++], sizeof base[0], "%.*s.feed_forward.%s", (int)(mlp - canon), canon,
                 mlp + 5);
        /* Llama 4 files name the dense FFN feed_forward.: try it first */
        char tmp[192];
        memcpy(tmp, base[0], sizeof tmp);
        memcpy(base[0], base[1], sizeof tmp);
        memcpy(base[1], tmp, sizeof tmp);
    }
    int n = 0;
    for (int b = 0; b < nb; b++) {
        const char *x = base[b];
        if (n < max) snprintf(out[n++], 192, "%s", x);
        if (n < max) snprintf(out[n++], 192, "language_model.%.170s", x);
        if (strncmp(x, "model.", 6) == 0 && n < max)
            snprintf(out[n++], 192, "model.language_model.%.160s", x + 6);
    }
    return n;
}
