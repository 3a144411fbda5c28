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
 *   gemma2, gemma3_text, gemma3 (multimodal wrapper)   hf_gemma.c.
 *   swacl       our own files (swacl_save_hf): the full per-layer spec.
 *   qwen2, qwen3, olmo3, phi3: hf_qwen.c.
 * RoPE (hf_rope.c): rope_scaling (v4) or rope_parameters (v5, also keyed by
 * layer type) of type default, linear, dynamic, llama3 or yarn; any other
 * type is refused naming it. Unknown keys are ignored.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/file.h"
#include "model/hf_json.h"

/* One supported model_type: its mapper (or, for a multimodal wrapper, the
 * model_type of its text_config) and what `swacl models` says about it. */
typedef struct {
    const char *model_type;
    const char *text_of;   /* wrapper: map text_config as this model_type   */
    swacl_status (*map)(const cJSON *o, swacl_config *c, swacl_hf_map *map, char *err,
                        size_t err_len);
    const char *maps;      /* what swacl maps it onto                        */
    const char *refuses;   /* what it refuses (empty: nothing known)         */
} hf_arch;


static swacl_status map_cohere2(const cJSON *o, swacl_config *c, swacl_hf_map *map, char *err,
                                size_t err_len)
{
    (void)map;
    SWACL_TRY(hf_check_act(o, "cohere2", err, err_len));
    SWACL_TRY(hf_common_dims(o, c, "intermediate_size", -1, err, err_len));
    c->head_dim = c->hidden_size / c->n_heads; /* Cohere2Config forces it */
    c->norm = SWACL_NORM_LAYER_NOBIAS;
    c->block = SWACL_BLOCK_PARALLEL;
    SWACL_TRY(hf_get_float(o, "layer_norm_eps", 1e-5, &c->norm_eps, err, err_len));
    SWACL_TRY(hf_get_float(o, "logit_scale", 0.0625, &c->logit_scale, err, err_len));
    SWACL_TRY(hf_get_bool(o, "tie_word_embeddings", 1, &c->tied_embeddings, err, err_len));
    SWACL_TRY(hf_get_bool(o, "attention_bias", 0, &c->attn_bias, err, err_len));
    long W, pat;
    SWACL_TRY(hf_get_int(o, "sliding_window", 0, 1, 1L << 30, &W, err, err_len));
    {
        const cJSON *sw = cJSON_GetObjectItemCaseSensitive(o, "sliding_window");
        if (!sw) W = 4096; /* class default; an explicit null means no window */
    }
    SWACL_TRY(hf_get_int(o, "_sliding_window_pattern", 4, 1, 1 << 20, &pat, err, err_len));
    SWACL_TRY(hf_get_int(o, "sliding_window_pattern", pat, 1, 1 << 20, &pat, err, err_len));
    for (int i = 0; i < c->n_layers; i++) {
        const char *lt;
        SWACL_TRY(hf_layer_type(o, i, c->n_layers, &lt, err, err_len));
        int sliding = lt ? strcmp(lt, "sliding_attention") == 0 : (i + 1) % pat != 0;
        if (lt && strcmp(lt, "chunked_attention") == 0)
            FAIL(SWACL_UNSUPPORTED, "config.json: cohere2 layer_types[%d] chunked_attention", i);
        swacl_layer_spec *l = &c->layers[i];
        if (sliding && W > 0) {
            l->span = SWACL_SPAN_WINDOW;
            l->span_size = (int)W;
            l->pos = SWACL_POS_ROPE_PAIR;
            SWACL_TRY(hf_rope_layer(o, "sliding_attention", 10000.0, 8192, c, i, 0, err, err_len));
        } else {
            l->span = SWACL_SPAN_GLOBAL;
        }
    }
    return SWACL_OK;
}

static swacl_status map_smollm3(const cJSON *o, swacl_config *c, swacl_hf_map *map, char *err,
                                size_t err_len)
{
    (void)map;
    SWACL_TRY(hf_check_act(o, "smollm3", err, err_len));
    SWACL_TRY(hf_common_dims(o, c, "intermediate_size", -1, err, err_len));
    SWACL_TRY(hf_llama_like(o, c, 1, 1e-6, 1, err, err_len));
    int use_sw;
    long W;
    SWACL_TRY(hf_get_bool(o, "use_sliding_window", 0, &use_sw, err, err_len));
    SWACL_TRY(hf_get_int(o, "sliding_window", 0, 1, 1L << 30, &W, err, err_len));
    for (int i = 0; i < c->n_layers; i++) {
        int rope;
        const char *lt;
        SWACL_TRY(hf_uses_rope(o, i, c->n_layers, &rope, err, err_len));
        SWACL_TRY(hf_layer_type(o, i, c->n_layers, &lt, err, err_len));
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
            SWACL_TRY(hf_rope_layer(o, lt, 2000000.0, 32768, c, i, 0, err, err_len));
        }
    }
    return SWACL_OK;
}

static swacl_status map_llama4(const cJSON *o, swacl_config *c, swacl_hf_map *map, char *err,
                                size_t err_len)
{
    map->ffn_feed_forward = 1; /* Llama 4 files name the dense FFN feed_forward. */
    SWACL_TRY(hf_check_act(o, "llama4_text", err, err_len));
    long n_layers;
    SWACL_TRY(hf_get_int(o, "num_hidden_layers", 48, 1, SWACL_MAX_LAYERS, &n_layers, err, err_len));
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
        SWACL_TRY(hf_get_int(o, "interleave_moe_layer_step", 1, 0, 1 << 20, &step, err, err_len));
        if (step > 0 && step <= n_layers)
            FAIL(SWACL_UNSUPPORTED,
                 "config.json: llama4 MoE layers are not supported (no moe_layers list and "
                 "interleave_moe_layer_step %ld makes layer %ld MoE)",
                 step, step - 1);
    }
    SWACL_TRY(hf_common_dims(o, c, "intermediate_size_mlp", 128, err, err_len));
    SWACL_TRY(hf_llama_like(o, c, 0, 1e-5, 1, err, err_len));
    long C;
    int temp_tuning, qk_norm;
    float floor_scale, attn_scale;
    SWACL_TRY(hf_get_int(o, "attention_chunk_size", 0, 1, 1L << 30, &C, err, err_len));
    if (!cJSON_GetObjectItemCaseSensitive(o, "attention_chunk_size")) C = 8192;
    SWACL_TRY(hf_get_bool(o, "attn_temperature_tuning", 1, &temp_tuning, err, err_len));
    SWACL_TRY(hf_get_bool(o, "use_qk_norm", 1, &qk_norm, err, err_len));
    SWACL_TRY(hf_get_float(o, "floor_scale", 8192.0, &floor_scale, err, err_len));
    SWACL_TRY(hf_get_float(o, "attn_scale", 0.1, &attn_scale, err, err_len));
    for (int i = 0; i < c->n_layers; i++) {
        int rope;
        const char *lt;
        SWACL_TRY(hf_uses_rope(o, i, c->n_layers, &rope, err, err_len));
        SWACL_TRY(hf_layer_type(o, i, c->n_layers, &lt, err, err_len));
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
            SWACL_TRY(hf_rope_layer(o, lt, 500000.0, 131072, c, i, 0, err, err_len));
            if (qk_norm) l->qk_norm = SWACL_QKNORM_RMS_AFTER_ROPE;
        } else if (temp_tuning) {
            l->temp = SWACL_TEMP_LLAMA4;
            l->temp_p0 = floor_scale;
            l->temp_p1 = attn_scale;
        }
    }
    return SWACL_OK;
}

static swacl_status map_mistral(const cJSON *o, swacl_config *c, swacl_hf_map *map, char *err,
                                size_t err_len)
{
    (void)map;
    SWACL_TRY(hf_check_act(o, "mistral", err, err_len));
    SWACL_TRY(hf_common_dims(o, c, "intermediate_size", -1, err, err_len));
    /* Mistral hard-codes bias=False (attention_bias / mlp_bias ignored). */
    SWACL_TRY(hf_llama_like(o, c, 0, 1e-6, 0, err, err_len));
    long W;
    SWACL_TRY(hf_get_int(o, "sliding_window", 0, 1, 1L << 30, &W, err, err_len));
    for (int i = 0; i < c->n_layers; i++) {
        swacl_layer_spec *l = &c->layers[i];
        if (W > 0) {
            l->span = SWACL_SPAN_WINDOW;
            l->span_size = (int)W;
        }
        l->pos = SWACL_POS_ROPE_HALF;
        SWACL_TRY(hf_rope_layer(o, NULL, 10000.0, 131072, c, i, 0, err, err_len));
    }
    return SWACL_OK;
}

static swacl_status map_llama(const cJSON *o, swacl_config *c, swacl_hf_map *map, char *err,
                                size_t err_len)
{
    (void)map;
    SWACL_TRY(hf_check_act(o, "llama", err, err_len));
    SWACL_TRY(hf_common_dims(o, c, "intermediate_size", -1, err, err_len));
    SWACL_TRY(hf_llama_like(o, c, 0, 1e-6, 1, err, err_len));
    for (int i = 0; i < c->n_layers; i++) {
        swacl_layer_spec *l = &c->layers[i];
        l->pos = SWACL_POS_ROPE_HALF;
        SWACL_TRY(hf_rope_layer(o, NULL, 10000.0, 2048, c, i, 0, err, err_len));
    }
    return SWACL_OK;
}

/* ------------------------------------------------------------------------ */

/* ------------------------------------------------------------------------ */
/* The registry: every model_type config.json may name (swacl models).       */

static swacl_status map_swacl_fmt(const cJSON *o, swacl_config *c, swacl_hf_map *map, char *err,
                                  size_t err_len)
{
    (void)map;
    return hf_map_swacl(o, c, err, err_len);
}

static const hf_arch k_archs[] = {
    {"cohere2", NULL, map_cohere2,
     "sliding layers (layer_types or sliding_window_pattern): WINDOW + RoPE pair; full layers: "
     "GLOBAL NoPE; parallel block, bias-free LayerNorm, logit_scale, tied",
     "chunked_attention layers; rope_scaling types other than default, linear, dynamic, llama3, "
     "yarn"},
    {"smollm3", NULL, map_smollm3,
     "no_rope_layers: RoPE half or NoPE; GLOBAL unless layer_types / use_sliding_window make it "
     "WINDOW; RMSNorm, sequential, tied",
     "chunked_attention layers"},
    {"llama4_text", NULL, map_llama4,
     "RoPE layers: CHUNK attention_chunk_size + RoPE pair + weightless QK-norm; NoPE layers: "
     "GLOBAL + temperature tuning; dense FFN",
     "MoE layers (moe_layers / interleave_moe_layer_step)"},
    {"llama4", "llama4_text", NULL, "the text_config of the multimodal wrapper, as llama4_text",
     "vision tower (ignored)"},
    {"qwen2", NULL, hf_map_qwen2,
     "sliding iff use_sliding_window and i >= max_window_layers (or layer_types): WINDOW, else "
     "GLOBAL; RoPE half; q/k/v biases, no o bias; RMSNorm, untied",
     "chunked_attention layers; rope_scaling types other than default, linear, dynamic, llama3, "
     "yarn"},
    {"qwen3", NULL, hf_map_qwen3,
     "as qwen2 plus per-head RMS QK-norm before RoPE, attention_bias on all four projections, "
     "head_dim 128 by default",
     "chunked_attention layers; rope_scaling types other than default, linear, dynamic, llama3, "
     "yarn"},
    {"olmo3", NULL, hf_map_olmo3,
     "layer_types (default 3 sliding : 1 full): WINDOW / GLOBAL, RoPE half per layer type; "
     "post-norms, RMS QK-norm over the whole projection",
     "chunked_attention layers; rope_scaling types other than default, linear, dynamic, llama3, "
     "yarn"},
    {"phi3", NULL, hf_map_phi3,
     "every layer WINDOW sliding_window (GLOBAL when null), RoPE half, partial_rotary_factor; "
     "fused qkv_proj / gate_up_proj split on load",
     "longrope (su, yarn) and other RoPE scaling (Phi3Config allows default and longrope)"},
    {"mistral", NULL, map_mistral, "every layer WINDOW sliding_window (GLOBAL when null), RoPE half",
     ""},
    {"llama", NULL, map_llama, "every layer GLOBAL, RoPE half", ""},
    {"gemma2", NULL, hf_map_gemma2,
     "layer_types (else even layers sliding): WINDOW sliding_window / GLOBAL, RoPE half; "
     "attention and final soft-caps, query_pre_attn_scalar, sandwich (1 + w) RMSNorm, tanh GeGLU, "
     "sqrt(hidden) embeddings, tied",
     "longrope; use_bidirectional_attention; chunked layers"},
    {"gemma3_text", NULL, hf_map_gemma3_text,
     "layer_types (else 5 local : 1 global by sliding_window_pattern): WINDOW + local RoPE theta "
     "/ GLOBAL + global theta and scaling; per-head (1 + w) QK-norm, sandwich norms, tanh GeGLU, "
     "sqrt(hidden) embeddings, query_pre_attn_scalar, soft-caps when set",
     "longrope; use_bidirectional_attention; chunked layers"},
    {"gemma3", NULL, hf_map_gemma3,
     "the text_config of Gemma3ForConditionalGeneration, as gemma3_text (no final soft-cap, the "
     "wrapper's tie_word_embeddings)",
     "vision tower (ignored)"},
    {"swacl", NULL, map_swacl_fmt, "swacl's own files (swacl_save_hf): the full per-layer spec", ""},
    {NULL, NULL, NULL, NULL, NULL},
};

int swacl_model_type_count(void)
{
    return (int)(sizeof k_archs / sizeof k_archs[0]) - 1;
}

swacl_status swacl_model_type_info(int i, const char **model_type, const char **maps,
                                   const char **refuses)
{
    if (i < 0 || i >= swacl_model_type_count()) return SWACL_INVALID_ARG;
    if (model_type) *model_type = k_archs[i].model_type;
    if (maps) *maps = k_archs[i].maps;
    if (refuses) *refuses = k_archs[i].refuses;
    return SWACL_OK;
}

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
    const char *mt = hf_get_str(o, "model_type");
    if (!mt) {
        swacl_format_msg(err, err_len, "config.json: missing 'model_type'");
        st = SWACL_FORMAT;
        goto out;
    }
    /* multimodal wrappers (llama4, gemma3) nest the text model under text_config */
    const hf_arch *arch = NULL;
    for (int i = 0; k_archs[i].model_type; i++)
        if (strcmp(mt, k_archs[i].model_type) == 0) arch = &k_archs[i];
    if (arch && arch->text_of) {
        const cJSON *tc = cJSON_GetObjectItemCaseSensitive(o, "text_config");
        if (!cJSON_IsObject(tc)) {
            swacl_format_msg(err, err_len, "config.json: model_type %s without a text_config", mt);
            st = SWACL_FORMAT;
            goto out;
        }
        o = tc;
        mt = arch->text_of;
        arch = NULL;
        for (int i = 0; k_archs[i].model_type; i++)
            if (strcmp(mt, k_archs[i].model_type) == 0) arch = &k_archs[i];
    }
    snprintf(m.model_type, sizeof m.model_type, "%.31s", mt);
    if (arch && arch->map) {
        st = arch->map(o, cfg, &m, err, err_len);
    } else {
        char names[512];
        size_t off = 0;
        for (int i = 0; k_archs[i].model_type && off < sizeof names; i++)
            off += (size_t)snprintf(names + off, sizeof names - off, "%s%s", i ? ", " : "",
                                    k_archs[i].model_type);
        swacl_format_msg(err, err_len, "config.json: unsupported model_type '%.40s' (supported: %s)",
                         mt, names);
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
