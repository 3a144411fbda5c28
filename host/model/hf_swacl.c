/*
 * hf_swacl.c - the "swacl" config.json format (swacl_save_hf): every field
 * of swacl_config and the per-layer spec, read back exactly.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/hf_json.h"

/* ------------------------------------------------------------------------ */
/* "swacl": our own full spec.                                               */

typedef struct {
    const char *name;
    int val;
} enum_name;

static const enum_name k_ffn[] = {{"swiglu", SWACL_FFN_SWIGLU},
                                  {"gelu", SWACL_FFN_GELU},
                                  {"geglu_tanh", SWACL_FFN_GEGLU_TANH},
                                  {0, 0}};
static const enum_name k_place[] = {{"pre", SWACL_NORMS_PRE},
                                    {"sandwich", SWACL_NORMS_SANDWICH},
                                    {"post", SWACL_NORMS_POST},
                                    {0, 0}};
static const enum_name k_rope[] = {{"default", SWACL_ROPE_DEFAULT}, {"linear", SWACL_ROPE_LINEAR},
                                   {"dynamic", SWACL_ROPE_DYNAMIC}, {"llama3", SWACL_ROPE_LLAMA3},
                                   {"yarn", SWACL_ROPE_YARN},       {0, 0}};
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
static const enum_name k_qkn[] = {{"none", SWACL_QKNORM_NONE},
                                  {"rms_after_rope", SWACL_QKNORM_RMS_AFTER_ROPE},
                                  {"rms_head", SWACL_QKNORM_RMS_HEAD},
                                  {"rms_full", SWACL_QKNORM_RMS_FULL},
                                  {0, 0}};

static const char *enum_str(const enum_name *t, int v)
{
    for (; t->name; t++)
        if (t->val == v) return t->name;
    return "?";
}

static swacl_status get_enum(const cJSON *o, const char *key, const enum_name *t, int *out,
                             const char *where, char *err, size_t err_len)
{
    const char *s = hf_get_str(o, key);
    if (!s) FAIL(SWACL_FORMAT, "config.json: %s'%s' must be a string", where, key);
    for (; t->name; t++)
        if (strcmp(s, t->name) == 0) {
            *out = t->val;
            return SWACL_OK;
        }
    FAIL(SWACL_FORMAT, "config.json: %s'%s' has unknown value '%.40s'", where, key, s);
}

swacl_status hf_map_swacl(const cJSON *o, swacl_config *c, char *err, size_t err_len)
{
    const long big = 1L << 30;
    long v;
    int e;
#define INT(key, field, lo)                                                  \
    SWACL_TRY(hf_get_int(o, key, 0, lo, big, &v, err, err_len));                \
    c->field = (int)v
    INT("vocab_size", vocab_size, 0);
    INT("input_dim", input_dim, 0);
    INT("hidden_size", hidden_size, 1);
    INT("num_attention_heads", n_heads, 1);
    INT("num_key_value_heads", n_kv_heads, 1);
    INT("head_dim", head_dim, 1);
    INT("intermediate_size", ffn_dim, 1);
#undef INT
    SWACL_TRY(hf_get_req_int(o, "num_hidden_layers", 1, SWACL_MAX_LAYERS, &c->n_layers, err, err_len));
    SWACL_TRY(get_enum(o, "ffn", k_ffn, &e, "", err, err_len));
    c->ffn = (swacl_ffn)e;
    SWACL_TRY(get_enum(o, "norm", k_norm, &e, "", err, err_len));
    c->norm = (swacl_norm)e;
    SWACL_TRY(get_enum(o, "block", k_block, &e, "", err, err_len));
    c->block = (swacl_block)e;
    SWACL_TRY(get_enum(o, "output", k_output, &e, "", err, err_len));
    c->output = (swacl_output)e;
    SWACL_TRY(hf_get_bool(o, "attention_bias", 0, &c->attn_bias, err, err_len));
    SWACL_TRY(hf_get_bool(o, "mlp_bias", 0, &c->ffn_bias, err, err_len));
    SWACL_TRY(hf_get_bool(o, "final_norm", 1, &c->final_norm, err, err_len));
    SWACL_TRY(hf_get_bool(o, "tie_word_embeddings", 0, &c->tied_embeddings, err, err_len));
    SWACL_TRY(hf_get_float(o, "norm_eps", 1e-5, &c->norm_eps, err, err_len));
    SWACL_TRY(hf_get_float(o, "logit_scale", 1.0, &c->logit_scale, err, err_len));
    SWACL_TRY(hf_get_float(o, "attn_scale", 0.0, &c->attn_scale, err, err_len));
    SWACL_TRY(hf_get_float(o, "dropout", 0.0, &c->dropout, err, err_len));
    /* 0.2 keys; absent in files of 0.1, which then get the defaults */
    if (cJSON_GetObjectItemCaseSensitive(o, "norm_place")) {
        SWACL_TRY(get_enum(o, "norm_place", k_place, &e, "", err, err_len));
        c->norm_place = (swacl_norm_place)e;
    }
    SWACL_TRY(hf_get_bool(o, "norm_unit_offset", 0, &c->norm_unit_offset, err, err_len));
    SWACL_TRY(hf_get_float(o, "embed_scale", 1.0, &c->embed_scale, err, err_len));
    SWACL_TRY(hf_get_float(o, "attn_softcap", 0.0, &c->attn_softcap, err, err_len));
    SWACL_TRY(hf_get_float(o, "final_softcap", 0.0, &c->final_softcap, err, err_len));
    SWACL_TRY(hf_get_int(o, "attn_out_bias", -1, -1, 1, &v, err, err_len));
    c->attn_out_bias = (int)v;
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
        SWACL_TRY(hf_get_int(lj, "span_size", 0, 0, big, &v, err, err_len));
        l->span_size = (int)v;
        SWACL_TRY(get_enum(lj, "pos", k_pos, &e, where, err, err_len));
        l->pos = (swacl_pos)e;
        SWACL_TRY(hf_get_float(lj, "rope_theta", 0.0, &l->rope_theta, err, err_len));
        SWACL_TRY(get_enum(lj, "temp", k_temp, &e, where, err, err_len));
        l->temp = (swacl_temp)e;
        SWACL_TRY(hf_get_float(lj, "temp_p0", 0.0, &l->temp_p0, err, err_len));
        SWACL_TRY(hf_get_float(lj, "temp_p1", 0.0, &l->temp_p1, err, err_len));
        SWACL_TRY(get_enum(lj, "qk_norm", k_qkn, &e, where, err, err_len));
        l->qk_norm = (swacl_qknorm)e;
        swacl_rope_scaling *r = &c->rope[i];
        SWACL_TRY(hf_get_int(lj, "rotary_dim", 0, 0, 1 << 20, &v, err, err_len));
        r->rotary_dim = (int)v;
        const cJSON *rj = cJSON_GetObjectItemCaseSensitive(lj, "rope_scaling");
        if (rj && !cJSON_IsNull(rj)) {
            if (!cJSON_IsObject(rj)) FAIL(SWACL_FORMAT, "config.json: %srope_scaling is not an object", where);
            SWACL_TRY(get_enum(rj, "type", k_rope, &e, where, err, err_len));
            r->type = (swacl_rope_type)e;
            SWACL_TRY(hf_get_float(rj, "factor", 1.0, &r->factor, err, err_len));
            SWACL_TRY(hf_get_int(rj, "original_max_pos", 0, 0, big, &v, err, err_len));
            r->original_max_pos = (int)v;
            SWACL_TRY(hf_get_float(rj, "low_freq_factor", 1.0, &r->low_freq_factor, err, err_len));
            SWACL_TRY(hf_get_float(rj, "high_freq_factor", 4.0, &r->high_freq_factor, err, err_len));
            SWACL_TRY(hf_get_float(rj, "beta_fast", 32.0, &r->beta_fast, err, err_len));
            SWACL_TRY(hf_get_float(rj, "beta_slow", 1.0, &r->beta_slow, err, err_len));
            SWACL_TRY(hf_get_float(rj, "attention_factor", 1.0, &r->attention_factor, err, err_len));
            SWACL_TRY(hf_get_bool(rj, "truncate", 1, &r->truncate, err, err_len));
        }
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
    cJSON_AddStringToObject(o, "norm_place", enum_str(k_place, c->norm_place));
    cJSON_AddBoolToObject(o, "norm_unit_offset", c->norm_unit_offset != 0);
    cJSON_AddNumberToObject(o, "embed_scale", (double)c->embed_scale);
    cJSON_AddNumberToObject(o, "attn_softcap", (double)c->attn_softcap);
    cJSON_AddNumberToObject(o, "final_softcap", (double)c->final_softcap);
    cJSON_AddNumberToObject(o, "attn_out_bias", c->attn_out_bias);
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
        const swacl_rope_scaling *r = &c->rope[i];
        cJSON_AddNumberToObject(lj, "rotary_dim", r->rotary_dim);
        cJSON *rj = cJSON_AddObjectToObject(lj, "rope_scaling");
        if (rj) {
            cJSON_AddStringToObject(rj, "type", enum_str(k_rope, r->type));
            cJSON_AddNumberToObject(rj, "factor", (double)r->factor);
            cJSON_AddNumberToObject(rj, "original_max_pos", r->original_max_pos);
            cJSON_AddNumberToObject(rj, "low_freq_factor", (double)r->low_freq_factor);
            cJSON_AddNumberToObject(rj, "high_freq_factor", (double)r->high_freq_factor);
            cJSON_AddNumberToObject(rj, "beta_fast", (double)r->beta_fast);
            cJSON_AddNumberToObject(rj, "beta_slow", (double)r->beta_slow);
            cJSON_AddNumberToObject(rj, "attention_factor", (double)r->attention_factor);
            cJSON_AddBoolToObject(rj, "truncate", r->truncate != 0);
        }
        cJSON_AddItemToArray(ls, lj);
    }
    char *s = cJSON_Print(o);
    cJSON_Delete(o);
    return s;
}
