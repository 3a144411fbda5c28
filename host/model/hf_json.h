/*
 * hf_json.h - config.json helpers shared by the architecture mappers
 * (hf_config.c, hf_arch_*.c) and the "swacl" format (hf_swacl.c): bounded
 * getters and the settings several families share. Internal.
 */
#ifndef SWACL_MODEL_HF_JSON_H
#define SWACL_MODEL_HF_JSON_H

#include <cjson/cJSON.h>

#include "model/hf.h"

/* Leave a message in err and return st (every mapper has err, err_len). */
#define FAIL(st, ...)                                                        \
    do {                                                                     \
        swacl_format_msg(err, err_len, __VA_ARGS__);                         \
        return (st);                                                         \
    } while (0)

/* Absent or null keys give the default; a present key of the wrong type or
 * out of range is a FORMAT error naming the key. */
swacl_status hf_get_int(const cJSON *o, const char *key, long dflt, long lo, long hi, long *out, char *err, size_t err_len);
swacl_status hf_get_req_int(const cJSON *o, const char *key, long lo, long hi, int *out, char *err, size_t err_len);
swacl_status hf_get_float(const cJSON *o, const char *key, double dflt, float *out, char *err, size_t err_len);
swacl_status hf_get_bool(const cJSON *o, const char *key, int dflt, int *out, char *err, size_t err_len);
const char *hf_get_str(const cJSON *o, const char *key);
/* RoPE (hf_rope.c). hf_check_rope_type: r's type is one swacl implements.
 * hf_rope_for_layer: theta and scaling of a layer of type layer_type
 * ("full_attention", "sliding_attention", ...; NULL: the model's only
 * kind) from rope_scaling (v4) or rope_parameters (v5, flat or keyed by
 * layer type), top-level rope_theta / partial_rotary_factor /
 * original_max_position_embeddings, dflt_theta and max_pos_dflt (the
 * class defaults). hf_rope_layer: the same into c->layers[i].rope_theta and
 * c->rope[i] (c->head_dim must be set; partial_ok 0: whole-head RoPE, as
 * transformers' default rule for every family but Phi-3). hf_rope_theta: theta only,
 * refusing any scaling or partial RoPE. */
swacl_status hf_check_rope_type(const cJSON *r, const char *key, char *err, size_t err_len);
swacl_status hf_rope_for_layer(const cJSON *o, const char *layer_type, double dflt_theta, long max_pos_dflt, int head_dim, float *theta, swacl_rope_scaling *r, char *err, size_t err_len);
swacl_status hf_rope_layer(const cJSON *o, const char *layer_type, double dflt_theta, long max_pos_dflt, swacl_config *c, int i, int partial_ok, char *err, size_t err_len);
swacl_status hf_rope_theta(const cJSON *o, const char *layer_type, double dflt, float *out, char *err, size_t err_len);
swacl_status hf_layer_type(const cJSON *o, int i, int n_layers, const char **out, char *err, size_t err_len);
swacl_status hf_uses_rope(const cJSON *o, int i, int n_layers, int *out, char *err, size_t err_len);
swacl_status hf_check_act(const cJSON *o, const char *mt, char *err, size_t err_len);
swacl_status hf_common_dims(const cJSON *o, swacl_config *c, const char *ffn_key, long head_dim_dflt, char *err, size_t err_len);
swacl_status hf_llama_like(const cJSON *o, swacl_config *c, int tie_dflt, double eps_dflt, int bias_keys, char *err, size_t err_len);

/* Qwen 2 / Qwen 3 / OLMo 3 / Phi-3 (hf_qwen.c). */
swacl_status hf_map_qwen2(const cJSON *o, swacl_config *c, swacl_hf_map *map, char *err, size_t err_len);
swacl_status hf_map_qwen3(const cJSON *o, swacl_config *c, swacl_hf_map *map, char *err, size_t err_len);
swacl_status hf_map_olmo3(const cJSON *o, swacl_config *c, swacl_hf_map *map, char *err, size_t err_len);
swacl_status hf_map_phi3(const cJSON *o, swacl_config *c, swacl_hf_map *map, char *err, size_t err_len);
/* Gemma 2 / Gemma 3 (hf_gemma.c): registry mappers. */
swacl_status hf_map_gemma2(const cJSON *o, swacl_config *c, swacl_hf_map *map, char *err, size_t err_len);
swacl_status hf_map_gemma3_text(const cJSON *o, swacl_config *c, swacl_hf_map *map, char *err, size_t err_len);
swacl_status hf_map_gemma3(const cJSON *o, swacl_config *c, swacl_hf_map *map, char *err, size_t err_len);

/* "swacl" format (hf_swacl.c): our own full per-layer spec. */
swacl_status hf_map_swacl(const cJSON *o, swacl_config *c, char *err, size_t err_len);

#endif
