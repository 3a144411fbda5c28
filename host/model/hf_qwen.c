/*
 * hf_qwen.c - config.json mappers for Qwen 2, Qwen 3, OLMo 3 and Phi-3
 * (docs/MODEL.md "Qwen 2 / Qwen 3 / OLMo 3 / Phi-3"), checked against
 * transformers 5.23's configuration_* / modeling_* of each, and the split of
 * Phi-3's fused qkv_proj / gate_up_proj into the canonical tensors.
 *
 *   qwen2  sliding iff use_sliding_window and sliding_window set and
 *          i >= max_window_layers (an explicit layer_types list wins, but a
 *          sliding entry needs the window to be on); q/k/v biases, no o
 *          bias; RoPE half on every layer; untied by default.
 *   qwen3  as qwen2, plus head_dim 128 by default, attention_bias for all
 *          four projections, RMS QK-norm per head ([d] weight) before RoPE.
 *   olmo3  layer_types, default (i+1) % 4 != 0 sliding; post-norms
 *          (x += n(attn(x)); x += n(ffn(x))), RMS QK-norm over the whole
 *          projection, RoPE per layer type; attention_bias for all four.
 *   phi3   every layer WINDOW sliding_window (GLOBAL when null); fused
 *          qkv_proj [Q+2KV, D] and gate_up_proj [2F, D] (gate rows first);
 *          partial RoPE by partial_rotary_factor; only default RoPE (Phi3Config
 *          turns su / yarn into longrope and refuses other types).
 */
#include <stdio.h>
#include <string.h>

#include "model/hf_json.h"

/* Window of a Qwen-style config: sliding_window when use_sliding_window,
 * else 0 (Qwen2Config/Qwen3Config null it). */
static swacl_status qwen_window(const cJSON *o, long *W, long *mwl, char *err, size_t err_len)
{
    int use_sw;
    SWACL_TRY(hf_get_bool(o, "use_sliding_window", 0, &use_sw, err, err_len));
    SWACL_TRY(hf_get_int(o, "sliding_window", 0, 1, 1L << 30, W, err, err_len));
    if (!cJSON_GetObjectItemCaseSensitive(o, "sliding_window")) *W = 4096; /* class default */
    if (!use_sw) *W = 0;
    SWACL_TRY(hf_get_int(o, "max_window_layers", 28, 0, 1L << 20, mwl, err, err_len));
    return SWACL_OK;
}

/* Layer i of a Qwen 2/3 config: span and RoPE. */
static swacl_status qwen_layer(const cJSON *o, swacl_config *c, int i, long W, long mwl,
                               const char *mt, char *err, size_t err_len)
{
    const char *lt;
    SWACL_TRY(hf_layer_type(o, i, c->n_layers, &lt, err, err_len));
    if (lt && strcmp(lt, "chunked_attention") == 0)
        FAIL(SWACL_UNSUPPORTED, "config.json: %s layer_types[%d] chunked_attention", mt, i);
    const int sliding = lt ? strcmp(lt, "sliding_attention") == 0 : (W > 0 && i >= mwl);
    /* transformers cannot build a sliding mask without a window */
    if (sliding && W <= 0)
        FAIL(SWACL_FORMAT,
             "config.json: %s layer_types[%d] is sliding_attention but use_sliding_window / "
             "sliding_window leave no window",
             mt, i);
    swacl_layer_spec *l = &c->layers[i];
    if (sliding) {
        l->span = SWACL_SPAN_WINDOW;
        l->span_size = (int)W;
    }
    l->pos = SWACL_POS_ROPE_HALF;
    return hf_rope_layer(o, NULL, 10000.0, 32768, c, i, 0, err, err_len);
}

swacl_status hf_map_qwen2(const cJSON *o, swacl_config *c, swacl_hf_map *map, char *err,
                          size_t err_len)
{
    (void)map;
    SWACL_TRY(hf_check_act(o, "qwen2", err, err_len));
    SWACL_TRY(hf_common_dims(o, c, "intermediate_size", -1, err, err_len));
    SWACL_TRY(hf_llama_like(o, c, 0, 1e-6, 0, err, err_len));
    c->attn_bias = 1; /* Qwen2Attention: q/k/v bias=True, o_proj bias=False */
    c->attn_out_bias = 0;
    long W, mwl;
    SWACL_TRY(qwen_window(o, &W, &mwl, err, err_len));
    for (int i = 0; i < c->n_layers; i++)
        SWACL_TRY(qwen_layer(o, c, i, W, mwl, "qwen2", err, err_len));
    return SWACL_OK;
}

swacl_status hf_map_qwen3(const cJSON *o, swacl_config *c, swacl_hf_map *map, char *err,
                          size_t err_len)
{
    (void)map;
    SWACL_TRY(hf_check_act(o, "qwen3", err, err_len));
    SWACL_TRY(hf_common_dims(o, c, "intermediate_size", 128, err, err_len));
    SWACL_TRY(hf_llama_like(o, c, 0, 1e-6, 0, err, err_len));
    SWACL_TRY(hf_get_bool(o, "attention_bias", 0, &c->attn_bias, err, err_len));
    long W, mwl;
    SWACL_TRY(qwen_window(o, &W, &mwl, err, err_len));
    for (int i = 0; i < c->n_layers; i++) {
        SWACL_TRY(qwen_layer(o, c, i, W, mwl, "qwen3", err, err_len));
        c->layers[i].qk_norm = SWACL_QKNORM_RMS_HEAD;
    }
    return SWACL_OK;
}

/* OLMo 3's RoPE dicts as Olmo3Config builds them: keyed by layer type; a v4
 * rope_scaling updates full_attention only; a missing rope_theta is the
 * top-level one for full_attention but always default_theta (500000) for
 * sliding_attention (the top-level key is consumed by the first). Written
 * into a copy of o as a nested rope_parameters. */
static swacl_status olmo3_rope_json(const cJSON *o, cJSON **out, char *err, size_t err_len)
{
    *out = NULL;
    const cJSON *rp = cJSON_GetObjectItemCaseSensitive(o, "rope_parameters");
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(o, "rope_scaling");
    const cJSON *th = cJSON_GetObjectItemCaseSensitive(o, "rope_theta");
    if (rp && !cJSON_IsNull(rp) && !cJSON_IsObject(rp))
        FAIL(SWACL_FORMAT, "config.json: 'rope_parameters' must be an object or null");
    if (rs && !cJSON_IsNull(rs) && !cJSON_IsObject(rs))
        FAIL(SWACL_FORMAT, "config.json: 'rope_scaling' must be an object or null");
    if (th && !cJSON_IsNull(th) && !cJSON_IsNumber(th))
        FAIL(SWACL_FORMAT, "config.json: 'rope_theta' must be a finite number");
    cJSON *cp = cJSON_Duplicate(o, 1);
    cJSON *nest = cJSON_CreateObject();
    if (!cp || !nest) goto oom;
    static const char *const types[] = {"full_attention", "sliding_attention"};
    for (int k = 0; k < 2; k++) {
        const cJSON *src = cJSON_IsObject(rp) ? cJSON_GetObjectItemCaseSensitive(rp, types[k]) : NULL;
        cJSON *e = cJSON_IsObject(src) ? cJSON_Duplicate(src, 1) : cJSON_CreateObject();
        if (!e || !cJSON_AddItemToObject(nest, types[k], e)) {
            cJSON_Delete(e);
            goto oom;
        }
        if (k == 0 && cJSON_IsObject(rs))
            for (const cJSON *m = rs->child; m; m = m->next) {
                cJSON *v = cJSON_Duplicate(m, 1);
                if (!v) goto oom;
                cJSON_DeleteItemFromObjectCaseSensitive(e, m->string);
                if (!cJSON_AddItemToObject(e, m->string, v)) {
                    cJSON_Delete(v);
                    goto oom;
                }
            }
        const cJSON *et = cJSON_GetObjectItemCaseSensitive(e, "rope_theta");
        if (!et || cJSON_IsNull(et)) {
            double t = k == 0 && cJSON_IsNumber(th) ? th->valuedouble : 500000.0;
            cJSON_DeleteItemFromObjectCaseSensitive(e, "rope_theta");
            if (!cJSON_AddNumberToObject(e, "rope_theta", t)) goto oom;
        }
    }
    cJSON_DeleteItemFromObjectCaseSensitive(cp, "rope_scaling");
    cJSON_DeleteItemFromObjectCaseSensitive(cp, "rope_parameters");
    if (!cJSON_AddItemToObject(cp, "rope_parameters", nest)) goto oom;
    *out = cp;
    return SWACL_OK;
oom:
    cJSON_Delete(cp);
    cJSON_Delete(nest);
    FAIL(SWACL_OUT_OF_MEMORY, "config.json: out of memory");
}

swacl_status hf_map_olmo3(const cJSON *o, swacl_config *c, swacl_hf_map *map, char *err,
                          size_t err_len)
{
    (void)map;
    SWACL_TRY(hf_check_act(o, "olmo3", err, err_len));
    SWACL_TRY(hf_common_dims(o, c, "intermediate_size", -1, err, err_len));
    SWACL_TRY(hf_llama_like(o, c, 0, 1e-5, 0, err, err_len));
    SWACL_TRY(hf_get_bool(o, "attention_bias", 0, &c->attn_bias, err, err_len));
    c->norm_place = SWACL_NORMS_POST;
    long W;
    SWACL_TRY(hf_get_int(o, "sliding_window", 0, 1, 1L << 30, &W, err, err_len));
    if (!cJSON_GetObjectItemCaseSensitive(o, "sliding_window")) W = 4096; /* class default */
    cJSON *ro;
    SWACL_TRY(olmo3_rope_json(o, &ro, err, err_len));
    swacl_status st = SWACL_OK;
    for (int i = 0; i < c->n_layers && st == SWACL_OK; i++) {
        const char *lt;
        st = hf_layer_type(o, i, c->n_layers, &lt, err, err_len);
        if (st != SWACL_OK) break;
        const int sliding = lt ? strcmp(lt, "sliding_attention") == 0 : (i + 1) % 4 != 0;
        if (lt && strcmp(lt, "chunked_attention") == 0) {
            swacl_format_msg(err, err_len, "config.json: olmo3 layer_types[%d] chunked_attention", i);
            st = SWACL_UNSUPPORTED;
            break;
        }
        if (sliding && W <= 0) { /* transformers cannot build that mask */
            swacl_format_msg(err, err_len,
                             "config.json: olmo3 layer %d is sliding but sliding_window is null", i);
            st = SWACL_FORMAT;
            break;
        }
        swacl_layer_spec *l = &c->layers[i];
        if (sliding) {
            l->span = SWACL_SPAN_WINDOW;
            l->span_size = (int)W;
        }
        l->pos = SWACL_POS_ROPE_HALF;
        l->qk_norm = SWACL_QKNORM_RMS_FULL;
        st = hf_rope_layer(ro, sliding ? "sliding_attention" : "full_attention", 500000.0, 2048, c,
                           i, 0, err, err_len);
    }
    cJSON_Delete(ro);
    return st;
}

swacl_status hf_map_phi3(const cJSON *o, swacl_config *c, swacl_hf_map *map, char *err,
                         size_t err_len)
{
    map->fused_phi3 = 1;
    SWACL_TRY(hf_check_act(o, "phi3", err, err_len));
    SWACL_TRY(hf_common_dims(o, c, "intermediate_size", -1, err, err_len));
    SWACL_TRY(hf_llama_like(o, c, 0, 1e-5, 0, err, err_len));
    /* Phi3Config: su / yarn mean longrope; anything but default is refused */
    const cJSON *rd = cJSON_GetObjectItemCaseSensitive(o, "rope_scaling");
    if (!cJSON_IsObject(rd) || !rd->child) rd = cJSON_GetObjectItemCaseSensitive(o, "rope_parameters");
    const char *t = cJSON_IsObject(rd) ? hf_get_str(rd, "rope_type") : NULL;
    if (!t && cJSON_IsObject(rd)) t = hf_get_str(rd, "type");
    if (t && (!strcmp(t, "su") || !strcmp(t, "yarn") || !strcmp(t, "longrope")))
        FAIL(SWACL_UNSUPPORTED,
             "config.json: rope_scaling type 'longrope' is not supported (supported: default, "
             "linear, dynamic, llama3, yarn; phi3 '%.20s' means longrope)",
             t);
    if (t && strcmp(t, "default"))
        FAIL(SWACL_UNSUPPORTED,
             "config.json: phi3 rope_scaling type '%.40s': Phi3Config accepts only default and "
             "longrope",
             t);
    long W;
    SWACL_TRY(hf_get_int(o, "sliding_window", 0, 1, 1L << 30, &W, err, err_len));
    for (int i = 0; i < c->n_layers; i++) {
        swacl_layer_spec *l = &c->layers[i];
        if (W > 0) {
            l->span = SWACL_SPAN_WINDOW;
            l->span_size = (int)W;
        }
        l->pos = SWACL_POS_ROPE_HALF;
        SWACL_TRY(hf_rope_layer(o, NULL, 10000.0, 4096, c, i, 1, err, err_len));
    }
    return SWACL_OK;
}

int swacl_hf_fused_part(const swacl_hf_map *map, const swacl_config *c, const char *canon,
                        char fused[192], int64_t *row0, int64_t *fused_rows)
{
    if (!map || !map->fused_phi3) return 0;
    int li, n = 0;
    char part[16];
    if (sscanf(canon, "model.layers.%d.self_attn.%15[a-z]_proj.weight%n", &li, part, &n) == 2 &&
        canon[n] == 0) {
        const int64_t Q = (int64_t)c->n_heads * c->head_dim,
                      KV = (int64_t)c->n_kv_heads * c->head_dim;
        int64_t r;
        if (!strcmp(part, "q")) r = 0;
        else if (!strcmp(part, "k")) r = Q;
        else if (!strcmp(part, "v")) r = Q + KV;
        else return 0;
        snprintf(fused, 192, "model.layers.%d.self_attn.qkv_proj.weight", li);
        *row0 = r;
        *fused_rows = Q + 2 * KV;
        return 1;
    }
    n = 0;
    if (sscanf(canon, "model.layers.%d.mlp.%15[a-z]_proj.weight%n", &li, part, &n) == 2 &&
        canon[n] == 0) {
        if (!strcmp(part, "gate")) *row0 = 0; /* gate, up = gate_up_proj(x).chunk(2) */
        else if (!strcmp(part, "up")) *row0 = c->ffn_dim;
        else return 0;
        snprintf(fused, 192, "model.layers.%d.mlp.gate_up_proj.weight", li);
        *fused_rows = 2 * (int64_t)c->ffn_dim;
        return 1;
    }
    return 0;
}
