/*
 * hf_json.c - bounded config.json getters and the settings several model
 * families share (layer_types, no_rope_layers, RoPE theta, common sizes).
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/hf_json.h"

/* Bounded getters. Absent or null keys give the default; a present key of
 * the wrong type or out of range is a FORMAT error naming the key. */
swacl_status hf_get_int(const cJSON *o, const char *key, long dflt, long lo, long hi, long *out,
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

swacl_status hf_get_req_int(const cJSON *o, const char *key, long lo, long hi, int *out,
                                char *err, size_t err_len)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!j || cJSON_IsNull(j)) FAIL(SWACL_FORMAT, "config.json: missing required key '%s'", key);
    long v;
    SWACL_TRY(hf_get_int(o, key, 0, lo, hi, &v, err, err_len));
    *out = (int)v;
    return SWACL_OK;
}

swacl_status hf_get_float(const cJSON *o, const char *key, double dflt, float *out, char *err,
                              size_t err_len)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!j || cJSON_IsNull(j)) {
        *out = (float)dflt;
        return SWACL_OK;
    }
    /* FLT_MAX, not a rounder bound: every float swacl_hf_config_write prints
     * must read back (2.9999e38 once passed a 3e38 check, became 3.00000001e38
     * as a float and was refused on re-read). */
    if (!cJSON_IsNumber(j) || !isfinite(j->valuedouble) || fabs(j->valuedouble) > FLT_MAX)
        FAIL(SWACL_FORMAT, "config.json: '%s' must be a finite number", key);
    *out = (float)j->valuedouble;
    return SWACL_OK;
}

swacl_status hf_get_bool(const cJSON *o, const char *key, int dflt, int *out, char *err,
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

const char *hf_get_str(const cJSON *o, const char *key)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(j) && j->valuestring ? j->valuestring : NULL;
}

/* hf_check_rope_type, hf_rope_theta: hf_rope.c (with the scaling rules). */

/* layer_types[i] as a string, NULL when there is no list. */
swacl_status hf_layer_type(const cJSON *o, int i, int n_layers, const char **out, char *err,
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
swacl_status hf_uses_rope(const cJSON *o, int i, int n_layers, int *out, char *err,
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
    SWACL_TRY(hf_get_int(o, "no_rope_layer_interval", 4, 1, 1 << 20, &iv, err, err_len));
    *out = (i + 1) % iv != 0;
    return SWACL_OK;
}

swacl_status hf_check_act(const cJSON *o, const char *mt, char *err, size_t err_len)
{
    const char *act = hf_get_str(o, "hidden_act");
    if (!act) act = hf_get_str(o, "hidden_activation");
    if (act && strcmp(act, "silu") && strcmp(act, "swish"))
        FAIL(SWACL_UNSUPPORTED,
             "config.json: hidden_act '%.40s' is not supported for model_type %s (only silu)", act,
             mt);
    return SWACL_OK;
}

/* Shared dims. head_dim_dflt < 0: hidden / heads. */
swacl_status hf_common_dims(const cJSON *o, swacl_config *c, const char *ffn_key,
                                long head_dim_dflt, char *err, size_t err_len)
{
    const long big = 1 << 24;
    SWACL_TRY(hf_get_req_int(o, "hidden_size", 1, big, &c->hidden_size, err, err_len));
    SWACL_TRY(hf_get_req_int(o, "num_hidden_layers", 1, SWACL_MAX_LAYERS, &c->n_layers, err, err_len));
    SWACL_TRY(hf_get_req_int(o, "num_attention_heads", 1, big, &c->n_heads, err, err_len));
    SWACL_TRY(hf_get_req_int(o, "vocab_size", 1, 1L << 30, &c->vocab_size, err, err_len));
    SWACL_TRY(hf_get_req_int(o, ffn_key, 1, 1L << 30, &c->ffn_dim, err, err_len));
    long v;
    SWACL_TRY(hf_get_int(o, "num_key_value_heads", c->n_heads, 1, big, &v, err, err_len));
    c->n_kv_heads = (int)v;
    if (head_dim_dflt < 0) head_dim_dflt = c->hidden_size / c->n_heads;
    SWACL_TRY(hf_get_int(o, "head_dim", head_dim_dflt, 1, big, &v, err, err_len));
    c->head_dim = (int)v;
    c->ffn = SWACL_FFN_SWIGLU;
    c->output = SWACL_OUTPUT_LOGITS;
    c->final_norm = 1;
    c->logit_scale = 1.0f;
    return SWACL_OK;
}

/* Llama / Mistral / SmolLM3 / Llama 4 shared block. */
swacl_status hf_llama_like(const cJSON *o, swacl_config *c, int tie_dflt, double eps_dflt,
                               int bias_keys, char *err, size_t err_len)
{
    c->norm = SWACL_NORM_RMS;
    c->block = SWACL_BLOCK_SEQUENTIAL;
    SWACL_TRY(hf_get_float(o, "rms_norm_eps", eps_dflt, &c->norm_eps, err, err_len));
    SWACL_TRY(hf_get_bool(o, "tie_word_embeddings", tie_dflt, &c->tied_embeddings, err, err_len));
    if (bias_keys) {
        SWACL_TRY(hf_get_bool(o, "attention_bias", 0, &c->attn_bias, err, err_len));
        SWACL_TRY(hf_get_bool(o, "mlp_bias", 0, &c->ffn_bias, err, err_len));
    }
    return SWACL_OK;
}

/* Mistral / Phi-3: every layer WINDOW sliding_window (GLOBAL when null or
 * absent) with half-layout RoPE and that class's max_position_embeddings. */
swacl_status hf_every_layer_window(const cJSON *o, swacl_config *c, long max_pos_dflt,
                                   int partial_ok, char *err, size_t err_len)
{
    long W;
    SWACL_TRY(hf_get_int(o, "sliding_window", 0, 1, 1L << 30, &W, err, err_len));
    for (int i = 0; i < c->n_layers; i++) {
        swacl_layer_spec *l = &c->layers[i];
        if (W > 0) {
            l->span = SWACL_SPAN_WINDOW;
            l->span_size = (int)W;
        }
        l->pos = SWACL_POS_ROPE_HALF;
        SWACL_TRY(hf_rope_layer(o, NULL, 10000.0, max_pos_dflt, c, i, partial_ok, err, err_len));
    }
    return SWACL_OK;
}
