/*
 * hf_gemma.c - Gemma 2 / Gemma 3 config.json -> swacl_config, as
 * transformers 5.23 (modeling_gemma2.py, modeling_gemma3.py and their
 * configuration files) runs them:
 *
 *   both     sequential block with SANDWICH RMS norms (input_layernorm,
 *            post_attention_layernorm on the attention output,
 *            pre/post_feedforward_layernorm), every norm (1 + w)
 *            (norm_unit_offset), tanh GeGLU (hidden_activation
 *            gelu_pytorch_tanh), embeddings x float32(sqrt(hidden_size)),
 *            attn_scale = query_pre_attn_scalar^-0.5 (default 256), RoPE
 *            half on every layer; absent sizes take the class defaults
 *            (heads 8, kv heads 4, head_dim 256, ...), tied by default. Sliding layers: WINDOW
 *            sliding_window (W keys including self: transformers masks
 *            kv > q - W); null sliding_window: GLOBAL.
 *   gemma2   layer_types, else layer i sliding iff i is even; attention
 *            soft-cap attn_logit_softcapping (default 50) and final
 *            soft-cap final_logit_softcapping (default 30), null = off.
 *   gemma3_text  layer_types, else (i + 1) % sliding_window_pattern
 *            (default 6) != 0 is sliding; QK-norm per head with a learned
 *            (1 + w) weight before RoPE (RMS_HEAD); soft-caps default off.
 *            RoPE: v5 rope_parameters keyed by sliding_attention /
 *            full_attention; older files: rope_local_base_freq (sliding,
 *            default 1e4), rope_theta + rope_scaling (full, default 1e6).
 *   gemma3   the multimodal wrapper: text_config mapped as gemma3_text; the
 *            wrapper's own tie_word_embeddings (default true) decides the
 *            head, and Gemma3ForConditionalGeneration applies no final
 *            soft-cap (text_config's is ignored, as transformers does).
 *            The vision tower's tensors are never read.
 * RoPE: every scaling type hf_rope.c maps (default, linear, dynamic,
 * llama3, yarn), for Gemma 3 per layer type (gemma3_rope_dict).
 * use_bidirectional_attention (EmbeddingGemma) is refused.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "model/hf_json.h"

/* A soft-cap key: absent -> dflt, null -> 0 (off), else a positive number. */
static swacl_status get_cap(const cJSON *o, const char *key, double dflt, float *out, char *err,
                            size_t err_len)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
    if (j && cJSON_IsNull(j)) {
        *out = 0.0f;
        return SWACL_OK;
    }
    SWACL_TRY(hf_get_float(o, key, dflt, out, err, err_len));
    if (j && !(*out > 0)) FAIL(SWACL_FORMAT, "config.json: '%s' must be positive or null", key);
    return SWACL_OK;
}

/* Gemma3TextConfig.convert_rope_params_to_dict, as a dict hf_rope.c reads:
 * {"rope_parameters": {"sliding_attention": {..}, "full_attention": {..}},
 * max_position_embeddings, partial_rotary_factor}. Only the per-type
 * entries of rope_parameters count (else {"rope_type": "default"});
 * rope_scaling updates full_attention; a missing rope_theta is rope_theta
 * (full, 1e6) or rope_local_base_freq (sliding, 1e4). *out: cJSON_Delete. */
static swacl_status gemma3_rope_dict(const cJSON *o, cJSON **out, char *err, size_t err_len)
{
    static const char *const types[2] = {"sliding_attention", "full_attention"};
    static const char *const copy[2] = {"max_position_embeddings", "partial_rotary_factor"};
    float theta[2];
    SWACL_TRY(hf_get_float(o, "rope_local_base_freq", 10000.0, &theta[0], err, err_len));
    SWACL_TRY(hf_get_float(o, "rope_theta", 1000000.0, &theta[1], err, err_len));
    const cJSON *rp = cJSON_GetObjectItemCaseSensitive(o, "rope_parameters");
    const cJSON *rsc = cJSON_GetObjectItemCaseSensitive(o, "rope_scaling");
    if (rp && !cJSON_IsNull(rp) && !cJSON_IsObject(rp))
        FAIL(SWACL_FORMAT, "config.json: 'rope_parameters' must be an object or null");
    if (rsc && !cJSON_IsNull(rsc) && !cJSON_IsObject(rsc))
        FAIL(SWACL_FORMAT, "config.json: 'rope_scaling' must be an object or null");
    for (int k = 0; k < 2; k++) {
        const cJSON *e = rp ? cJSON_GetObjectItemCaseSensitive(rp, types[k]) : NULL;
        if (e && !cJSON_IsNull(e) && !cJSON_IsObject(e))
            FAIL(SWACL_FORMAT, "config.json: 'rope_parameters.%s' must be an object or null",
                 types[k]);
    }
    cJSON *root = cJSON_CreateObject();
    cJSON *dst = root ? cJSON_AddObjectToObject(root, "rope_parameters") : NULL;
    int ok = dst != NULL;
    for (int k = 0; ok && k < 2; k++) {
        const cJSON *e = rp ? cJSON_GetObjectItemCaseSensitive(rp, types[k]) : NULL;
        cJSON *d = cJSON_IsObject(e) ? cJSON_Duplicate(e, 1) : cJSON_CreateObject();
        ok = d && cJSON_AddItemToObject(dst, types[k], d);
        if (!ok) cJSON_Delete(d);
        if (ok && k == 1 && cJSON_IsObject(rsc)) /* full_attention.update(rope_scaling) */
            for (const cJSON *c = rsc->child; ok && c; c = c->next) {
                cJSON *v = cJSON_Duplicate(c, 1);
                cJSON_DeleteItemFromObjectCaseSensitive(d, c->string);
                ok = v && cJSON_AddItemToObject(d, c->string, v);
                if (!ok) cJSON_Delete(v);
            }
        if (ok && !cJSON_GetObjectItemCaseSensitive(d, "rope_theta"))
            ok = cJSON_AddNumberToObject(d, "rope_theta", theta[k]) != NULL;
    }
    for (int k = 0; ok && k < 2; k++) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, copy[k]);
        if (!e) continue;
        cJSON *v = cJSON_Duplicate(e, 1);
        ok = v && cJSON_AddItemToObject(root, copy[k], v);
        if (!ok) cJSON_Delete(v);
    }
    if (!ok) {
        cJSON_Delete(root);
        FAIL(SWACL_OUT_OF_MEMORY, "config.json: out of memory");
    }
    *out = root;
    return SWACL_OK;
}

/* Sizes with the config classes' defaults: released Gemma 3 wrappers
 * (e.g. gemma-3-4b-it) leave heads, head_dim and vocab_size out of
 * text_config. vocab: Gemma2Config 256000, Gemma3TextConfig 262208. */
static swacl_status gemma_dims(const cJSON *o, swacl_config *c, long vocab_dflt, char *err,
                               size_t err_len)
{
    const long big = 1 << 24;
    long v;
    SWACL_TRY(hf_get_int(o, "vocab_size", vocab_dflt, 1, 1L << 30, &v, err, err_len));
    c->vocab_size = (int)v;
    SWACL_TRY(hf_get_int(o, "hidden_size", 2304, 1, big, &v, err, err_len));
    c->hidden_size = (int)v;
    SWACL_TRY(hf_get_int(o, "intermediate_size", 9216, 1, 1L << 30, &v, err, err_len));
    c->ffn_dim = (int)v;
    SWACL_TRY(hf_get_int(o, "num_hidden_layers", 26, 1, SWACL_MAX_LAYERS, &v, err, err_len));
    c->n_layers = (int)v;
    SWACL_TRY(hf_get_int(o, "num_attention_heads", 8, 1, big, &v, err, err_len));
    c->n_heads = (int)v;
    SWACL_TRY(hf_get_int(o, "num_key_value_heads", 4, 1, big, &v, err, err_len));
    c->n_kv_heads = (int)v;
    SWACL_TRY(hf_get_int(o, "head_dim", 256, 1, big, &v, err, err_len));
    c->head_dim = (int)v;
    c->output = SWACL_OUTPUT_LOGITS;
    c->final_norm = 1;
    c->logit_scale = 1.0f;
    return SWACL_OK;
}

/* Everything Gemma 2 and Gemma 3 text share; *sliding_w gets the window
 * (0 = none). */
static swacl_status gemma_common(const cJSON *o, swacl_config *c, const char *mt, long vocab_dflt,
                                 long *sliding_w, char *err, size_t err_len)
{
    const char *act = hf_get_str(o, "hidden_activation");
    if (!act) act = "gelu_pytorch_tanh"; /* the class default; hidden_act is not read */
    if (strcmp(act, "gelu_pytorch_tanh") && strcmp(act, "gelu_new"))
        FAIL(SWACL_UNSUPPORTED,
             "config.json: hidden_activation '%.40s' is not supported for model_type %s "
             "(gelu_pytorch_tanh)", act, mt);
    SWACL_TRY(gemma_dims(o, c, vocab_dflt, err, err_len));
    c->ffn = SWACL_FFN_GEGLU_TANH;
    c->norm = SWACL_NORM_RMS;
    c->block = SWACL_BLOCK_SEQUENTIAL;
    c->norm_place = SWACL_NORMS_SANDWICH;
    c->norm_unit_offset = 1;
    /* Gemma*TextScaledWordEmbedding: a float32 buffer of hidden**0.5 */
    c->embed_scale = (float)sqrt((double)c->hidden_size);
    SWACL_TRY(hf_get_float(o, "rms_norm_eps", 1e-6, &c->norm_eps, err, err_len));
    SWACL_TRY(hf_get_bool(o, "tie_word_embeddings", 1, &c->tied_embeddings, err, err_len));
    SWACL_TRY(hf_get_bool(o, "attention_bias", 0, &c->attn_bias, err, err_len));
    int bidir;
    SWACL_TRY(hf_get_bool(o, "use_bidirectional_attention", 0, &bidir, err, err_len));
    if (bidir)
        FAIL(SWACL_UNSUPPORTED, "config.json: %s use_bidirectional_attention is not supported "
             "(causal attention only)", mt);
    float qpas;
    SWACL_TRY(hf_get_float(o, "query_pre_attn_scalar", 256.0, &qpas, err, err_len));
    if (!(qpas > 0)) FAIL(SWACL_FORMAT, "config.json: 'query_pre_attn_scalar' must be positive");
    c->attn_scale = (float)pow((double)qpas, -0.5);
    SWACL_TRY(hf_get_int(o, "sliding_window", 4096, 1, 1L << 30, sliding_w, err, err_len));
    if (cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "sliding_window"))) *sliding_w = 0;
    return SWACL_OK;
}

static swacl_status layer_span(const cJSON *o, int i, int n, int dflt_sliding, long W, const char *mt,
                               swacl_layer_spec *l, int *sliding, char *err, size_t err_len)
{
    const char *lt;
    SWACL_TRY(hf_layer_type(o, i, n, &lt, err, err_len));
    if (lt && strcmp(lt, "chunked_attention") == 0)
        FAIL(SWACL_UNSUPPORTED, "config.json: %s layer_types[%d] chunked_attention", mt, i);
    *sliding = lt ? strcmp(lt, "sliding_attention") == 0 : dflt_sliding;
    if (*sliding && W > 0) {
        l->span = SWACL_SPAN_WINDOW;
        l->span_size = (int)W;
    }
    return SWACL_OK;
}

swacl_status hf_map_gemma2(const cJSON *o, swacl_config *c, swacl_hf_map *map, char *err,
                           size_t err_len)
{
    (void)map;
    long W;
    SWACL_TRY(gemma_common(o, c, "gemma2", 256000, &W, err, err_len));
    SWACL_TRY(get_cap(o, "attn_logit_softcapping", 50.0, &c->attn_softcap, err, err_len));
    SWACL_TRY(get_cap(o, "final_logit_softcapping", 30.0, &c->final_softcap, err, err_len));
    /* one RoPE for every layer: flat rope_parameters (v5) or rope_scaling +
     * rope_theta (older files); class defaults theta 1e4, 8192 positions */
    for (int i = 0; i < c->n_layers; i++) {
        int sliding;
        SWACL_TRY(layer_span(o, i, c->n_layers, i % 2 == 0, W, "gemma2", &c->layers[i], &sliding,
                             err, err_len));
        c->layers[i].pos = SWACL_POS_ROPE_HALF;
        SWACL_TRY(hf_rope_layer(o, NULL, 10000.0, 8192, c, i, 0, err, err_len));
    }
    return SWACL_OK;
}

swacl_status hf_map_gemma3_text(const cJSON *o, swacl_config *c, swacl_hf_map *map, char *err,
                                size_t err_len)
{
    (void)map;
    long W, pat;
    SWACL_TRY(gemma_common(o, c, "gemma3_text", 262208, &W, err, err_len));
    SWACL_TRY(get_cap(o, "attn_logit_softcapping", 0.0, &c->attn_softcap, err, err_len));
    SWACL_TRY(get_cap(o, "final_logit_softcapping", 0.0, &c->final_softcap, err, err_len));
    /* Gemma3TextConfig reads the kwarg sliding_window_pattern (default 6);
     * the _sliding_window_pattern it saves is not read back. */
    SWACL_TRY(hf_get_int(o, "sliding_window_pattern", 6, 1, 1 << 20, &pat, err, err_len));
    cJSON *rd = NULL;
    SWACL_TRY(gemma3_rope_dict(o, &rd, err, err_len));
    swacl_status st = SWACL_OK;
    for (int i = 0; i < c->n_layers && st == SWACL_OK; i++) {
        int sliding;
        swacl_layer_spec *l = &c->layers[i];
        st = layer_span(o, i, c->n_layers, (i + 1) % pat != 0, W, "gemma3_text", l, &sliding, err,
                        err_len);
        if (st != SWACL_OK) break;
        l->pos = SWACL_POS_ROPE_HALF;
        l->qk_norm = SWACL_QKNORM_RMS_HEAD;
        st = hf_rope_layer(rd, sliding ? "sliding_attention" : "full_attention",
                           sliding ? 10000.0 : 1000000.0, 131072, c, i, 0, err, err_len);
    }
    cJSON_Delete(rd);
    return st;
}

swacl_status hf_map_gemma3(const cJSON *o, swacl_config *c, swacl_hf_map *map, char *err,
                           size_t err_len)
{
    const cJSON *tc = cJSON_GetObjectItemCaseSensitive(o, "text_config");
    if (!cJSON_IsObject(tc))
        FAIL(SWACL_FORMAT, "config.json: model_type gemma3 without a text_config");
    const char *tmt = hf_get_str(tc, "model_type");
    if (tmt && strcmp(tmt, "gemma3_text") != 0)
        FAIL(SWACL_UNSUPPORTED, "config.json: gemma3 text_config model_type '%.40s' (gemma3_text)",
             tmt);
    SWACL_TRY(hf_map_gemma3_text(tc, c, map, err, err_len));
    SWACL_TRY(hf_get_bool(o, "tie_word_embeddings", 1, &c->tied_embeddings, err, err_len));
    c->final_softcap = 0.0f; /* Gemma3ForConditionalGeneration.forward has none */
    return SWACL_OK;
}
