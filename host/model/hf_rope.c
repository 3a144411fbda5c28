/*
 * hf_rope.c - rope_scaling (transformers v4) / rope_parameters (v5, possibly
 * keyed by layer type) -> a layer's rope_theta and swacl_rope_scaling
 * (docs/MODEL.md "RoPE scaling"). Every value the runtime needs is final
 * here: YaRN's attention_factor (from mscale / mscale_all_dim when absent),
 * its factor from max_position_embeddings / original_max_position_embeddings
 * when null, and the lengths each rule reads, with the precedence
 * transformers 5.23's RotaryEmbeddingConfigMixin.standardize_rope_params and
 * modeling_rope_utils._compute_*_parameters give them.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "model/hf_json.h"

static const char *const k_layer_keys[] = {"full_attention", "sliding_attention",
                                           "chunked_attention", NULL};

/* A non-empty object (Python: `rope_scaling or rope_parameters`). */
static int nonempty_obj(const cJSON *j)
{
    return cJSON_IsObject(j) && j->child != NULL;
}

/* The number under key as a double (absent / null: dflt; has_out = 0). */
static swacl_status get_num(const cJSON *o, const char *key, double dflt, double *out, int *has,
                            char *err, size_t err_len)
{
    const cJSON *j = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
    if (has) *has = 0;
    *out = dflt;
    if (!j || cJSON_IsNull(j)) return SWACL_OK;
    if (!cJSON_IsNumber(j) || !isfinite(j->valuedouble) || fabs(j->valuedouble) > FLT_MAX)
        FAIL(SWACL_FORMAT, "config.json: rope '%s' must be a finite number", key);
    *out = j->valuedouble;
    if (has) *has = 1;
    return SWACL_OK;
}

static double yarn_get_mscale(double scale, double mscale)
{
    return scale <= 1 ? 1.0 : 0.1 * mscale * log(scale) + 1.0;
}

swacl_status hf_check_rope_type(const cJSON *r, const char *key, char *err, size_t err_len)
{
    if (!r || cJSON_IsNull(r)) return SWACL_OK;
    if (!cJSON_IsObject(r)) FAIL(SWACL_FORMAT, "config.json: '%s' must be an object or null", key);
    const char *t = hf_get_str(r, "rope_type");
    if (!t) t = hf_get_str(r, "type");
    if (!t) {
        const cJSON *j = cJSON_GetObjectItemCaseSensitive(r, "rope_type");
        if (!j) j = cJSON_GetObjectItemCaseSensitive(r, "type");
        if (j && !cJSON_IsNull(j)) FAIL(SWACL_FORMAT, "config.json: %s type must be a string", key);
        return SWACL_OK; /* default */
    }
    static const char *const ok[] = {"default", "linear", "dynamic", "llama3", "yarn", NULL};
    for (int i = 0; ok[i]; i++)
        if (strcmp(t, ok[i]) == 0) return SWACL_OK;
    FAIL(SWACL_UNSUPPORTED,
         "config.json: rope_scaling type '%.40s' is not supported (supported: default, linear, "
         "dynamic, llama3, yarn)",
         t);
}

swacl_status hf_rope_for_layer(const cJSON *o, const char *layer_type, double dflt_theta,
                               long max_pos_dflt, int head_dim, float *theta,
                               swacl_rope_scaling *r, char *err, size_t err_len)
{
    swacl_rope_scaling s;
    memset(&s, 0, sizeof s);
    s.type = SWACL_ROPE_DEFAULT;
    s.factor = 1.0f;
    s.low_freq_factor = 1.0f;
    s.high_freq_factor = 4.0f;
    s.beta_fast = 32.0f;
    s.beta_slow = 1.0f;
    s.attention_factor = 1.0f;
    s.truncate = 1;

    /* v4 rope_scaling wins when it is a non-empty object, else v5 rope_parameters */
    const char *key = "rope_scaling";
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(o, key);
    if (d && !cJSON_IsNull(d) && !cJSON_IsObject(d))
        FAIL(SWACL_FORMAT, "config.json: 'rope_scaling' must be an object or null");
    if (!nonempty_obj(d)) {
        key = "rope_parameters";
        d = cJSON_GetObjectItemCaseSensitive(o, key);
        if (d && !cJSON_IsNull(d) && !cJSON_IsObject(d))
            FAIL(SWACL_FORMAT, "config.json: 'rope_parameters' must be an object or null");
    }
    const cJSON *top = cJSON_IsObject(d) ? d : NULL; /* where YaRN's truncate lives */
    int nested = 0;
    for (int k = 0; top && k_layer_keys[k]; k++) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(top, k_layer_keys[k]);
        if (e && (cJSON_IsObject(e) || cJSON_IsNull(e))) nested = 1;
    }
    if (nested) { /* keyed by layer type (Gemma 3, OLMo 3) */
        char sub[64];
        d = cJSON_GetObjectItemCaseSensitive(top, layer_type ? layer_type : "full_attention");
        if (d && !cJSON_IsNull(d) && !cJSON_IsObject(d)) {
            snprintf(sub, sizeof sub, "%s.%.40s", key, layer_type ? layer_type : "full_attention");
            FAIL(SWACL_FORMAT, "config.json: '%s' must be an object or null", sub);
        }
        if (!cJSON_IsObject(d)) d = NULL;
    } else if (!cJSON_IsObject(d)) {
        d = NULL;
    }
    SWACL_TRY(hf_check_rope_type(d, key, err, err_len));
    const char *t = d ? hf_get_str(d, "rope_type") : NULL;
    if (!t && d) t = hf_get_str(d, "type");
    if (!t) t = "default";

    /* theta and partial_rotary_factor: the dict's, else the top level's */
    double th, prf;
    SWACL_TRY(get_num(o, "rope_theta", dflt_theta, &th, NULL, err, err_len));
    SWACL_TRY(get_num(d, "rope_theta", th, &th, NULL, err, err_len));
    if (!(th > 0)) FAIL(SWACL_FORMAT, "config.json: rope_theta must be positive");
    SWACL_TRY(get_num(o, "partial_rotary_factor", 1.0, &prf, NULL, err, err_len));
    SWACL_TRY(get_num(d, "partial_rotary_factor", prf, &prf, NULL, err, err_len));
    if (!(prf > 0 && prf <= 1))
        FAIL(SWACL_FORMAT, "config.json: partial_rotary_factor must be in (0, 1] (got %g)", prf);
    /* int(head_dim * partial_rotary_factor); parity is the caller's (and
     * swacl_config_check's) business: whole-head families ignore it */
    const int dim = (int)(head_dim * prf);
    if (dim < 1)
        FAIL(SWACL_FORMAT, "config.json: partial_rotary_factor %g leaves no rotary lane", prf);
    s.rotary_dim = dim == head_dim ? 0 : dim;

    double max_pos, factor;
    int has_factor;
    SWACL_TRY(get_num(o, "max_position_embeddings", (double)max_pos_dflt, &max_pos, NULL, err,
                      err_len));
    SWACL_TRY(get_num(d, "factor", 1.0, &factor, &has_factor, err, err_len));
    if (strcmp(t, "default") == 0) {
        /* nothing more */
    } else if (strcmp(t, "linear") == 0 || strcmp(t, "dynamic") == 0) {
        if (!has_factor) FAIL(SWACL_FORMAT, "config.json: %s type %s needs a 'factor'", key, t);
        s.type = t[0] == 'l' ? SWACL_ROPE_LINEAR : SWACL_ROPE_DYNAMIC;
        s.factor = (float)factor;
        /* dynamic NTK grows past config.max_position_embeddings (not the
         * original_max_position_embeddings of llama3 / yarn) */
        if (s.type == SWACL_ROPE_DYNAMIC) {
            if (dim == 2) /* rot / (rot - 2) */
                FAIL(SWACL_UNSUPPORTED, "config.json: dynamic RoPE needs more than 2 rotary lanes");
            if (!(max_pos >= 1 && max_pos <= 1 << 30))
                FAIL(SWACL_FORMAT, "config.json: max_position_embeddings must be in [1, 2^30]");
            s.original_max_pos = (int)max_pos;
        }
    } else { /* llama3, yarn */
        /* original_max_position_embeddings: a top-level key wins over the
         * dict's for a flat dict (standardize_rope_params); else the dict's;
         * else max_position_embeddings */
        double omp;
        SWACL_TRY(get_num(d, "original_max_position_embeddings", max_pos, &omp, NULL, err, err_len));
        if (!nested) {
            SWACL_TRY(get_num(o, "original_max_position_embeddings", omp, &omp, NULL, err, err_len));
        }
        if (!(omp >= 1 && omp <= 1 << 30) || floor(omp) != omp)
            FAIL(SWACL_FORMAT,
                 "config.json: original_max_position_embeddings must be an integer in [1, 2^30]");
        s.original_max_pos = (int)omp;
        if (strcmp(t, "llama3") == 0) {
            double lo, hi;
            int has_lo, has_hi;
            if (!has_factor) FAIL(SWACL_FORMAT, "config.json: %s type llama3 needs a 'factor'", key);
            SWACL_TRY(get_num(d, "low_freq_factor", 1.0, &lo, &has_lo, err, err_len));
            SWACL_TRY(get_num(d, "high_freq_factor", 4.0, &hi, &has_hi, err, err_len));
            if (!has_lo || !has_hi)
                FAIL(SWACL_FORMAT,
                     "config.json: %s type llama3 needs low_freq_factor and high_freq_factor", key);
            s.type = SWACL_ROPE_LLAMA3;
            s.factor = (float)factor;
            s.low_freq_factor = (float)lo;
            s.high_freq_factor = (float)hi;
        } else {
            if (!has_factor) factor = max_pos / omp; /* factor null: the length ratio */
            double af, ms, msa, bf, bs;
            int has_af;
            SWACL_TRY(get_num(d, "attention_factor", 0, &af, &has_af, err, err_len));
            SWACL_TRY(get_num(d, "mscale", 0, &ms, NULL, err, err_len));
            SWACL_TRY(get_num(d, "mscale_all_dim", 0, &msa, NULL, err, err_len));
            if (!has_af)
                af = ms != 0 && msa != 0 ? yarn_get_mscale(factor, ms) / yarn_get_mscale(factor, msa)
                                         : yarn_get_mscale(factor, 1.0);
            /* `beta_fast or 32`: 0 and null both give the default */
            SWACL_TRY(get_num(d, "beta_fast", 32, &bf, NULL, err, err_len));
            SWACL_TRY(get_num(d, "beta_slow", 1, &bs, NULL, err, err_len));
            int tr;
            SWACL_TRY(hf_get_bool(top, "truncate", 1, &tr, err, err_len));
            s.type = SWACL_ROPE_YARN;
            s.factor = (float)factor;
            s.attention_factor = (float)af;
            s.beta_fast = (float)(bf != 0 ? bf : 32);
            s.beta_slow = (float)(bs != 0 ? bs : 1);
            s.truncate = tr;
        }
    }
    if (s.type != SWACL_ROPE_DEFAULT && !(s.factor > 0))
        FAIL(SWACL_FORMAT, "config.json: %s factor must be positive (got %g)", key, factor);
    *theta = (float)th;
    *r = s;
    return SWACL_OK;
}

swacl_status hf_rope_layer(const cJSON *o, const char *layer_type, double dflt_theta,
                           long max_pos_dflt, swacl_config *c, int i, int partial_ok, char *err,
                           size_t err_len)
{
    swacl_rope_scaling *r = &c->rope[i];
    SWACL_TRY(hf_rope_for_layer(o, layer_type, dflt_theta, max_pos_dflt, c->head_dim,
                                &c->layers[i].rope_theta, r, err, err_len));
    if (r->rotary_dim != 0 && partial_ok && (r->rotary_dim < 2 || r->rotary_dim % 2))
        FAIL(SWACL_UNSUPPORTED,
             "config.json: partial_rotary_factor gives %d rotary lanes of head_dim %d (an even "
             "count >= 2 is supported)",
             r->rotary_dim, c->head_dim);
    if (r->rotary_dim != 0 && !partial_ok) {
        /* these families rotate whole heads: their default inverse
         * frequencies ignore partial_rotary_factor, the scaled ones would
         * not fit the head (transformers fails) */
        if (r->type != SWACL_ROPE_DEFAULT)
            FAIL(SWACL_UNSUPPORTED,
                 "config.json: partial_rotary_factor with RoPE scaling is not supported for this "
                 "model_type (it rotates whole heads)");
        r->rotary_dim = 0;
    }
    return SWACL_OK;
}

/* Theta only, for a mapper that keeps no scaling: anything but plain RoPE
 * is refused rather than dropped. */
swacl_status hf_rope_theta(const cJSON *o, const char *layer_type, double dflt, float *out,
                           char *err, size_t err_len)
{
    swacl_rope_scaling r;
    SWACL_TRY(hf_rope_for_layer(o, layer_type, dflt, 2048, 1 << 20, out, &r, err, err_len));
    if (r.type != SWACL_ROPE_DEFAULT || r.rotary_dim != 0)
        FAIL(SWACL_UNSUPPORTED,
             "config.json: RoPE scaling / partial RoPE is not supported by this model_type's mapper");
    return SWACL_OK;
}
