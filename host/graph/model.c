/*
 * model.c - the layer-graph executor. It walks the per-layer spec and calls
 * the backend seam (struct swacl_backend_i); it never sees OpenCL. The same
 * code runs on the CPU reference and on every OpenCL device, so a
 * comparison between the two isolates the kernels.
 *
 * One step processes T new rows for each of B sequences (rows r = b*T + t):
 *
 *   x = embed(ids) * embed_scale | input_proj(embeds)              [B*T, D]
 *   for each layer l:
 *     h = n1(x)                                      (x itself for POST norms)
 *     q, k, v = h Wq^T (+bq), h Wk^T, h Wv^T                   (GQA: Hkv <= H)
 *     q, k = rms(q) wq_n, rms(k) wk_n     (QK-norm HEAD / FULL: Qwen 3, OLMo)
 *     RoPE(q, k) at p = pos0[b] + t   (RoPE layers: pair or half, the layer's
 *                                       scaled inv_freq, first rot lanes)
 *     q, k = rms(q), rms(k) per head          (Llama 4 QK-norm layers only)
 *     a = attention(q, k, v, cache, span, temperature, softcap)
 *     cache <- k, v                           (when a KV cache is attached)
 *     PRE:       x += a Wo^T;     x += ffn(n2(x))
 *     SANDWICH:  x += n2'(a Wo^T); x += n4(ffn(n3(x)))       (Gemma 2 / 3)
 *     POST:      x += n2'(a Wo^T); x += n4(ffn(x))           (OLMo 2 / 3)
 *     parallel:  x += a Wo^T + ffn(h)        (Cohere: one norm, same input)
 *   y = final_norm(x) [at the last row of each sequence unless all rows]
 *   logits = softcap((y W_lm^T) * logit_scale)   (or y itself for LAST_HIDDEN)
 * Norm weights are uploaded as 1 + w when norm_unit_offset is set (Gemma).
 * 2-D weights go to the backend in their storage type (weight_create); a
 * backend that uses the host bytes in place makes the model retain them.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "graph/graph.h"

/* ------------------------------------------------------------------------ */
/* Weights on the backend.                                                   */

typedef struct {
    const char *fmt;   /* tensor name pattern                                */
    size_t field;      /* offset of the swacl_buf* in swacl_layer_bufs       */
} layer_slot;

#define SLOT(name, f) {name, offsetof(swacl_layer_bufs, f)}
static const layer_slot k_layer_slots[] = {
    SLOT("model.layers.%d.input_layernorm.weight", ln1_w),
    SLOT("model.layers.%d.input_layernorm.bias", ln1_b),
    SLOT("model.layers.%d.self_attn.q_proj.weight", wq),
    SLOT("model.layers.%d.self_attn.q_proj.bias", bq),
    SLOT("model.layers.%d.self_attn.k_proj.weight", wk),
    SLOT("model.layers.%d.self_attn.k_proj.bias", bk),
    SLOT("model.layers.%d.self_attn.v_proj.weight", wv),
    SLOT("model.layers.%d.self_attn.v_proj.bias", bv),
    SLOT("model.layers.%d.self_attn.o_proj.weight", wo),
    SLOT("model.layers.%d.self_attn.o_proj.bias", bo),
    SLOT("model.layers.%d.post_attention_layernorm.weight", ln2_w),
    SLOT("model.layers.%d.post_attention_layernorm.bias", ln2_b),
    SLOT("model.layers.%d.mlp.gate_proj.weight", wg),
    SLOT("model.layers.%d.mlp.gate_proj.bias", bg),
    SLOT("model.layers.%d.mlp.up_proj.weight", wu),
    SLOT("model.layers.%d.mlp.up_proj.bias", bu),
    SLOT("model.layers.%d.mlp.down_proj.weight", wd),
    SLOT("model.layers.%d.mlp.down_proj.bias", bd),
    SLOT("model.layers.%d.pre_feedforward_layernorm.weight", ln2_w),
    SLOT("model.layers.%d.post_feedforward_layernorm.weight", lnpf_w),
    SLOT("model.layers.%d.self_attn.q_norm.weight", qn_w),
    SLOT("model.layers.%d.self_attn.k_norm.weight", kn_w),
};
#undef SLOT

typedef struct {
    swacl_model *m;
    const swacl_weights *w;
    swacl_status st;
    int l0, l1;        /* resident layer range (a pipeline stage)            */
} upload_state;

/* Does a stage holding layers [l0, l1) need tensor `name`? Layer tensors of
 * its own layers; the input layer on the first stage; the final norm and
 * head on the last (the embedding as well when the head is tied to it). */
static int tensor_in_range(const swacl_config *c, const char *name, int l0, int l1)
{
    int layer = -1;
    if (sscanf(name, "model.layers.%d.", &layer) == 1) return layer >= l0 && layer < l1;
    const int first = l0 == 0, last = l1 == c->n_layers;
    if (!strcmp(name, "model.embed_tokens.weight"))
        return first || (last && c->output == SWACL_OUTPUT_LOGITS && c->tied_embeddings);
    if (!strncmp(name, "model.input_proj.", 17)) return first;
    return last; /* model.norm.*, lm_head.weight */
}

/* A norm's weight vector (every *norm.weight name: layer norms, QK-norms,
 * the final norm)? */
static int is_norm_weight(const char *name)
{
    size_t n = strlen(name);
    return n >= 11 && strcmp(name + n - 11, "norm.weight") == 0;
}

static swacl_status upload(swacl_model *m, const char *name, const swacl_tensor *t,
                           swacl_buf **out)
{
    swacl_backend *be = m->be;
    size_t bytes = (size_t)t->numel * sizeof(float);
    swacl_buf *b = NULL;
    if (t->ndim == 2 && t->nbytes) {
        /* matmul / embedding weights go as stored (the backend reads the
         * type), in place where the device shares host memory */
        int lent = 0;
        SWACL_TRY(be->iface->weight_create(be, t->type, t->bytes, t->nbytes, 1, &b, &lent));
        m->weight_bytes += t->nbytes;
        m->owned[m->n_owned++] = b;
        m->borrowed |= lent;
        m->low_prec |= t->type != SWACL_WT_F32;
        *out = b;
        return SWACL_OK;
    }
    SWACL_TRY(be->iface->buf_alloc(be, bytes ? bytes : sizeof(float), &b));
    m->owned[m->n_owned++] = b;
    m->weight_bytes += bytes;
    if (!bytes) {
        *out = b;
        return SWACL_OK;
    }
    if (m->cfg.norm_unit_offset && is_norm_weight(name)) {
        /* Gemma's RMSNorm scales by (1 + w), computed in float32 as here */
        float *w1 = malloc(bytes);
        if (!w1) return swacl_set_error(m->ctx, SWACL_OUT_OF_MEMORY, "out of host memory");
        for (int64_t i = 0; i < t->numel; i++) w1[i] = 1.0f + t->data[i];
        swacl_status st = be->iface->buf_write(be, b, 0, w1, bytes);
        free(w1);
        SWACL_TRY(st);
    } else {
        SWACL_TRY(be->iface->buf_write(be, b, 0, t->data, bytes));
    }
    *out = b;
    return SWACL_OK;
}

/* Check a required tensor's presence and shape, then upload it. */
static void need(const char *name, int ndim, const int64_t *shape, void *user)
{
    upload_state *us = user;
    if (us->st != SWACL_OK) return;
    swacl_model *m = us->m;
    if (!tensor_in_range(&m->cfg, name, us->l0, us->l1)) return;
    const swacl_tensor *t = swacl_weights_find(us->w, name);
    if (!t) {
        us->st = swacl_set_error(m->ctx, SWACL_FORMAT, "missing tensor '%s'", name);
        return;
    }
    int ok = t->ndim == ndim;
    for (int d = 0; ok && d < ndim; d++) ok = t->shape[d] == shape[d];
    if (!ok) {
        us->st = swacl_set_error(m->ctx, SWACL_FORMAT,
                                 "tensor '%s' has shape [%lld%s%lld], expected [%lld%s%lld]", name,
                                 (long long)t->shape[0], t->ndim > 1 ? ", " : "",
                                 t->ndim > 1 ? (long long)t->shape[1] : 0LL, (long long)shape[0],
                                 ndim > 1 ? ", " : "", ndim > 1 ? (long long)shape[1] : 0LL);
        return;
    }
    swacl_buf *b = NULL;
    if ((us->st = swacl_tensor_realize(us->w, t)) != SWACL_OK) {
        us->st = swacl_set_error(m->ctx, us->st, "cannot make tensor '%s'%s", name,
                                 us->st == SWACL_FORMAT ? ": it has a non-finite value (allow_nonfinite / "
                                                          "--allow-nonfinite loads it anyway)" : "");
        return;
    }
    us->st = upload(m, name, t, &b);
    if (us->st != SWACL_OK) return;

    /* route the buffer to its slot */
    int layer = -1;
    if (sscanf(name, "model.layers.%d.", &layer) == 1) {
        for (size_t s = 0; s < sizeof k_layer_slots / sizeof k_layer_slots[0]; s++) {
            char want[96];
            snprintf(want, sizeof want, k_layer_slots[s].fmt, layer);
            if (strcmp(want, name) == 0) {
                size_t field = k_layer_slots[s].field;
                /* Gemma / OLMo: post_attention_layernorm normalises the
                 * attention output, not the FFN input */
                if (field == offsetof(swacl_layer_bufs, ln2_w) && strstr(name, "post_attention") &&
                    m->cfg.norm_place != SWACL_NORMS_PRE)
                    field = offsetof(swacl_layer_bufs, lnpa_w);
                *(swacl_buf **)((char *)&m->layers[layer] + field) = b;
                return;
            }
        }
    } else if (strcmp(name, "model.embed_tokens.weight") == 0) m->embed = b;
    else if (strcmp(name, "model.input_proj.weight") == 0) m->in_w = b;
    else if (strcmp(name, "model.input_proj.bias") == 0) m->in_b = b;
    else if (strcmp(name, "model.norm.weight") == 0) m->norm_w = b;
    else if (strcmp(name, "model.norm.bias") == 0) m->norm_b = b;
    else if (strcmp(name, "lm_head.weight") == 0) m->lm_head = b;
}

static void count_tensor(const char *name, int ndim, const int64_t *shape, void *user)
{
    (void)name, (void)ndim, (void)shape;
    (*(int *)user)++;
}

swacl_status swacl_model_create(swacl_ctx *ctx, const swacl_config *cfg,
                                const swacl_weights *weights, swacl_model **out)
{
    return swacl_model_create_range(ctx, cfg, weights, 0, cfg ? cfg->n_layers : 0, out);
}

swacl_status swacl_model_create_range(swacl_ctx *ctx, const swacl_config *cfg,
                                      const swacl_weights *weights, int l0, int l1,
                                      swacl_model **out)
{
    if (!out) return SWACL_INVALID_ARG;
    *out = NULL;
    if (!ctx || !cfg || !weights) return swacl_set_error(ctx, SWACL_INVALID_ARG, "swacl_model_create: NULL argument");
    if (!ctx->be) return swacl_set_error(ctx, SWACL_INVALID_ARG, "context has no device (its creation failed)");
    char why[256];
    if (swacl_config_check(cfg, why, sizeof why) != SWACL_OK)
        return swacl_set_error(ctx, SWACL_INVALID_ARG, "invalid config: %s", why);
    if (l0 < 0 || l1 > cfg->n_layers || l0 >= l1)
        return swacl_set_error(ctx, SWACL_INVALID_ARG, "layer range [%d, %d) is not inside [0, %d)",
                               l0, l1, cfg->n_layers);
    if (ctx->be->iface->check_config) SWACL_TRY(ctx->be->iface->check_config(ctx->be, cfg));

    swacl_model *m = calloc(1, sizeof *m);
    if (!m) return swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "out of host memory");
    m->ctx = ctx;
    m->be = ctx->be;
    m->cfg = *cfg;
    m->layer_lo = l0;
    m->layer_hi = l1;
    m->has_input = l0 == 0;
    m->has_output = l1 == cfg->n_layers;
    int n = 0;
    swacl_config_tensors(cfg, count_tensor, &n);
    m->owned = calloc((size_t)n + 1, sizeof *m->owned);
    m->layers = calloc((size_t)cfg->n_layers, sizeof *m->layers);
    m->rope_inv = calloc((size_t)cfg->head_dim / 2 + 1, sizeof *m->rope_inv);
    if (!m->owned || !m->layers || !m->rope_inv) {
        swacl_model_destroy(m);
        return swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "out of host memory");
    }
    upload_state us = {m, weights, SWACL_OK, l0, l1};
    swacl_config_tensors(cfg, need, &us);
    const swacl_wtype kvt = ctx->params.kv_type;
    m->kv_f16 = kvt == SWACL_WT_F16 || (kvt == SWACL_WT_AUTO && m->low_prec);
    if (m->borrowed) { /* buffers use the host bytes: keep them alive with the model */
        m->wref = (swacl_weights *)weights;
        swacl_weights_retain(m->wref);
    }
    if (us.st == SWACL_OK && m->has_output && cfg->output == SWACL_OUTPUT_LOGITS)
        m->head = cfg->tied_embeddings ? m->embed : m->lm_head;
    if (us.st != SWACL_OK) {
        swacl_model_destroy(m);
        return us.st;
    }
    *out = m;
    return SWACL_OK;
}

static void free_scratch(swacl_model *m)
{
    swacl_backend *be = m->be;
    swacl_buf **s[] = {&m->x, &m->h, &m->q, &m->k, &m->v, &m->a, &m->g, &m->u, &m->inp, &m->y, &m->logits};
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        if (*s[i]) be->iface->buf_free(be, *s[i]);
        *s[i] = NULL;
    }
    m->scratch_rows = m->out_rows = 0;
}

void swacl_model_destroy(swacl_model *m)
{
    if (!m) return;
    if (m->be) {
        free_scratch(m);
        for (int i = 0; i < m->n_owned; i++) m->be->iface->buf_free(m->be, m->owned[i]);
    }
    free(m->owned);
    swacl_weights_destroy(m->wref); /* after the buffers that borrowed from it */
    free(m->layers);
    free(m->rope_inv);
    free(m);
}

const swacl_config *swacl_model_config(const swacl_model *m) { return m ? &m->cfg : NULL; }

/* ------------------------------------------------------------------------ */
/* Scratch: grown to the largest step seen, never shrunk.                    */

static swacl_status grow(swacl_model *m, swacl_buf **b, size_t floats)
{
    if (*b) m->be->iface->buf_free(m->be, *b);
    *b = NULL;
    swacl_status st = m->be->iface->buf_alloc(m->be, (floats ? floats : 1) * sizeof(float), b);
    if (st != SWACL_OK)
        swacl_set_error(m->ctx, st, "allocating %zu MiB of activations failed: %s",
                        floats * sizeof(float) >> 20, swacl_ctx_errmsg(m->ctx));
    return st;
}

static swacl_status ensure_scratch(swacl_model *m, int rows, int out_rows)
{
    const swacl_config *c = &m->cfg;
    size_t R = (size_t)rows;
    if (rows > m->scratch_rows) {
        size_t Q = (size_t)c->n_heads * c->head_dim, KV = (size_t)c->n_kv_heads * c->head_dim;
        size_t din = c->input_dim > 0 ? (size_t)c->input_dim : 1;
        SWACL_TRY(grow(m, &m->x, R * c->hidden_size));
        SWACL_TRY(grow(m, &m->h, R * c->hidden_size));
        SWACL_TRY(grow(m, &m->q, R * Q));
        SWACL_TRY(grow(m, &m->k, R * KV));
        SWACL_TRY(grow(m, &m->v, R * KV));
        SWACL_TRY(grow(m, &m->a, R * Q));
        SWACL_TRY(grow(m, &m->g, R * c->ffn_dim));
        SWACL_TRY(grow(m, &m->u, R * c->ffn_dim));
        SWACL_TRY(grow(m, &m->inp, R * din));
        m->scratch_rows = rows;
    }
    if (out_rows > m->out_rows) {
        SWACL_TRY(grow(m, &m->y, (size_t)out_rows * c->hidden_size));
        if (c->output == SWACL_OUTPUT_LOGITS)
            SWACL_TRY(grow(m, &m->logits, (size_t)out_rows * c->vocab_size));
        m->out_rows = out_rows;
    }
    return SWACL_OK;
}

/* ------------------------------------------------------------------------ */
/* The step.                                                                 */

static swacl_norm norm_kind(const swacl_config *c)
{
    return c->norm == SWACL_NORM_RMS ? SWACL_NORM_RMS : SWACL_NORM_LAYER;
}

/* x += ffn(in), or x += n4(ffn(in)) with a post-FFN norm (in is h, or x
 * itself for POST norms; h is free once the gate and up products exist) */
static swacl_status ffn(swacl_model *m, const swacl_layer_bufs *L, const swacl_buf *in, int rows)
{
    const swacl_config *c = &m->cfg;
    swacl_backend *be = m->be;
    const struct swacl_backend_i *f = be->iface;
    const int D = c->hidden_size, F = c->ffn_dim;
    if (c->ffn != SWACL_FFN_GELU && f->matmul_glu && !L->bg && !L->bu) {
        SWACL_TRY(f->matmul_glu(be, c->ffn, m->g, m->u, in, L->wg, L->wu, rows, F, D));
    } else if (c->ffn != SWACL_FFN_GELU) {
        SWACL_TRY(f->matmul(be, m->g, in, L->wg, L->bg, rows, F, D, 0));
        SWACL_TRY(f->matmul(be, m->u, in, L->wu, L->bu, rows, F, D, 0));
        SWACL_TRY(f->act(be, c->ffn, m->g, m->g, m->u, (size_t)rows * F));
    } else {
        SWACL_TRY(f->matmul(be, m->g, in, L->wu, L->bu, rows, F, D, 0));
        SWACL_TRY(f->act(be, SWACL_FFN_GELU, m->g, m->g, NULL, (size_t)rows * F));
    }
    if (!L->lnpf_w) return f->matmul(be, m->x, m->g, L->wd, L->bd, rows, D, F, 1);
    SWACL_TRY(f->matmul(be, m->h, m->g, L->wd, L->bd, rows, D, F, 0));
    SWACL_TRY(f->norm(be, SWACL_NORM_RMS, m->h, m->h, L->lnpf_w, NULL, rows, D, c->norm_eps));
    return f->add(be, m->x, m->h, (size_t)rows * D);
}

/* RoPE of layer l on q and k: the layer's inverse frequencies at the step's
 * context length (the largest position + 1; DYNAMIC scaling grows with it). */
static swacl_status rope_qk(swacl_model *m, const swacl_step *s, int l)
{
    const swacl_config *c = &m->cfg;
    const swacl_layer_spec *ls = &c->layers[l];
    const swacl_rope_scaling *rs = &c->rope[l];
    const int d = c->head_dim, rot = rs->rotary_dim > 0 ? rs->rotary_dim : d;
    long ctx_len = 0;
    for (int b = 0; b < s->B; b++) {
        long e = (long)s->pos0[b] + (s->n_new ? s->n_new[b] : s->T);
        if (e > ctx_len) ctx_len = e;
    }
    swacl_rope_args r = {ls->pos, rot, m->rope_inv, 1.0f};
    swacl_rope_freqs(rs, ls->rope_theta, rot, ctx_len, m->rope_inv, &r.mscale);
    swacl_backend *be = m->be;
    SWACL_TRY(be->iface->rope(be, m->q, s->B, s->T, c->n_heads, d, s->pos0, &r));
    return be->iface->rope(be, m->k, s->B, s->T, c->n_kv_heads, d, s->pos0, &r);
}

swacl_status swacl_graph_step(swacl_model *m, const swacl_step *s, float *out)
{
    const swacl_config *c = &m->cfg;
    swacl_backend *be = m->be;
    const struct swacl_backend_i *f = be->iface;
    const int B = s->B, T = s->T, rows = B * T;
    const int D = c->hidden_size, H = c->n_heads, Hkv = c->n_kv_heads, d = c->head_dim;
    const int Q = H * d, KV = Hkv * d;
    const int out_rows = s->all_positions ? rows : B;
    const float scale = c->attn_scale > 0 ? c->attn_scale : 1.0f / sqrtf((float)d);

    if (s->layer_begin < m->layer_lo || s->layer_end > m->layer_hi || (!s->x_loaded && !m->has_input) ||
        (out && !m->has_output))
        return swacl_set_error(m->ctx, SWACL_INTERNAL,
                               "step over layers [%d, %d)%s%s on a model holding [%d, %d)%s%s",
                               s->layer_begin, s->layer_end, s->x_loaded ? "" : " from the input",
                               out ? " to the output" : "", m->layer_lo, m->layer_hi,
                               m->has_input ? " + input" : "", m->has_output ? " + output" : "");
    SWACL_TRY(ensure_scratch(m, rows, out_rows));

    /* input (a pipeline stage after the first starts from the staged x) */
    if (s->x_loaded) {
        /* x already holds the previous stage's residual */
    } else if (c->vocab_size > 0) {
        SWACL_TRY(f->embed(be, m->x, m->embed, s->ids, rows, D));
        if (c->embed_scale != 1.0f) SWACL_TRY(f->scale(be, m->x, c->embed_scale, (size_t)rows * D));
    } else if (c->input_dim != D) {
        SWACL_TRY(f->buf_write(be, m->inp, 0, s->embeds, (size_t)rows * c->input_dim * sizeof(float)));
        SWACL_TRY(f->matmul(be, m->x, m->inp, m->in_w, m->in_b, rows, D, c->input_dim, 0));
    } else {
        SWACL_TRY(f->buf_write(be, m->x, 0, s->embeds, (size_t)rows * D * sizeof(float)));
    }

    for (int l = s->layer_begin; l < s->layer_end; l++) {
        const swacl_layer_spec *ls = &c->layers[l];
        const swacl_layer_bufs *L = &m->layers[l];
        swacl_kv_layer *kv = s->kv ? &s->kv[l] : NULL;

        const swacl_buf *hin = m->h; /* the projections' input */
        if (c->norm_place == SWACL_NORMS_POST)
            hin = m->x; /* OLMo: no pre-norm, the residual itself */
        else
            SWACL_TRY(f->norm(be, norm_kind(c), m->h, m->x, L->ln1_w, L->ln1_b, rows, D, c->norm_eps));
        if (f->matmul_multi && !L->bq && !L->bk && !L->bv) {
            swacl_buf *ys[3] = {m->q, m->k, m->v};
            const swacl_buf *ws[3] = {L->wq, L->wk, L->wv};
            const int ns[3] = {Q, KV, KV};
            SWACL_TRY(f->matmul_multi(be, 3, ys, hin, ws, ns, rows, D));
        } else {
            SWACL_TRY(f->matmul(be, m->q, hin, L->wq, L->bq, rows, Q, D, 0));
            SWACL_TRY(f->matmul(be, m->k, hin, L->wk, L->bk, rows, KV, D, 0));
            SWACL_TRY(f->matmul(be, m->v, hin, L->wv, L->bv, rows, KV, D, 0));
        }
        if (ls->qk_norm == SWACL_QKNORM_RMS_HEAD) {
            /* Qwen 3 / Gemma 3: learned [d] weight per head, before RoPE */
            SWACL_TRY(f->norm(be, SWACL_NORM_RMS, m->q, m->q, L->qn_w, NULL, rows * H, d, c->norm_eps));
            SWACL_TRY(f->norm(be, SWACL_NORM_RMS, m->k, m->k, L->kn_w, NULL, rows * Hkv, d, c->norm_eps));
        } else if (ls->qk_norm == SWACL_QKNORM_RMS_FULL) {
            /* OLMo: over the whole projection, before the heads split */
            SWACL_TRY(f->norm(be, SWACL_NORM_RMS, m->q, m->q, L->qn_w, NULL, rows, Q, c->norm_eps));
            SWACL_TRY(f->norm(be, SWACL_NORM_RMS, m->k, m->k, L->kn_w, NULL, rows, KV, c->norm_eps));
        }
        if (ls->pos != SWACL_POS_NONE) SWACL_TRY(rope_qk(m, s, l));
        if (ls->qk_norm == SWACL_QKNORM_RMS_AFTER_ROPE) {
            /* Llama 4 "L2Norm": weightless RMS over each head's d values */
            SWACL_TRY(f->norm(be, SWACL_NORM_RMS, m->q, m->q, NULL, NULL, rows * H, d, c->norm_eps));
            SWACL_TRY(f->norm(be, SWACL_NORM_RMS, m->k, m->k, NULL, NULL, rows * Hkv, d, c->norm_eps));
        }
        swacl_attn_args a = {
            .B = B, .T = T, .H = H, .Hkv = Hkv, .d = d,
            .q = m->q, .k = m->k, .v = m->v,
            .kc = kv ? kv->k : NULL, .vc = kv ? kv->v : NULL, .cap = kv ? kv->cap : 0,
            .pos0 = s->pos0, .n_new = s->n_new,
            .span = ls->span, .span_size = ls->span_size, .scale = scale,
            .temp = ls->temp, .temp_p0 = ls->temp_p0, .temp_p1 = ls->temp_p1,
            .softcap = c->attn_softcap, .out = m->a, .kv_f16 = kv ? kv->f16 : 0,
        };
        SWACL_TRY(f->attention(be, &a));
        if (kv) {
            SWACL_TRY(f->kv_store(be, kv->k, m->k, B, T, kv->cap, KV, s->pos0, s->n_new, kv->f16));
            SWACL_TRY(f->kv_store(be, kv->v, m->v, B, T, kv->cap, KV, s->pos0, s->n_new, kv->f16));
        }
        /* x += a Wo^T + bo (through the post-attention norm when there is
         * one); the parallel block then adds ffn(h) of the same h */
        if (L->lnpa_w) {
            SWACL_TRY(f->matmul(be, m->h, m->a, L->wo, L->bo, rows, D, Q, 0));
            SWACL_TRY(f->norm(be, SWACL_NORM_RMS, m->h, m->h, L->lnpa_w, NULL, rows, D, c->norm_eps));
            SWACL_TRY(f->add(be, m->x, m->h, (size_t)rows * D));
        } else {
            SWACL_TRY(f->matmul(be, m->x, m->a, L->wo, L->bo, rows, D, Q, 1));
        }
        const swacl_buf *fin = m->h;
        if (c->block == SWACL_BLOCK_SEQUENTIAL && c->norm_place == SWACL_NORMS_POST)
            fin = m->x;
        else if (c->block == SWACL_BLOCK_SEQUENTIAL)
            SWACL_TRY(f->norm(be, norm_kind(c), m->h, m->x, L->ln2_w, L->ln2_b, rows, D, c->norm_eps));
        SWACL_TRY(ffn(m, L, fin, rows));
    }

    if (!out) return s->no_wait ? SWACL_OK : f->finish(be); /* a pipeline stage: x stays on device */

    /* output rows: all, or the last valid row of each sequence */
    swacl_buf *y = m->x;
    if (!s->all_positions) {
        int *last = malloc((size_t)B * sizeof *last);
        if (!last) return swacl_set_error(m->ctx, SWACL_OUT_OF_MEMORY, "out of host memory");
        for (int b = 0; b < B; b++) {
            int nb = s->n_new ? s->n_new[b] : T;
            last[b] = b * T + (nb > 0 ? nb - 1 : 0); /* nb == 0: unspecified row */
        }
        swacl_status st = f->gather_rows(be, m->y, m->x, last, B, D);
        free(last);
        SWACL_TRY(st);
        y = m->y;
    }
    if (c->final_norm)
        SWACL_TRY(f->norm(be, norm_kind(c), y, y, m->norm_w, m->norm_b, out_rows, D, c->norm_eps));
    if (c->output == SWACL_OUTPUT_LOGITS) {
        SWACL_TRY(f->matmul(be, m->logits, y, m->head, NULL, out_rows, c->vocab_size, D, 0));
        if (c->logit_scale != 1.0f)
            SWACL_TRY(f->scale(be, m->logits, c->logit_scale, (size_t)out_rows * c->vocab_size));
        if (c->final_softcap > 0)
            SWACL_TRY(f->softcap(be, m->logits, c->final_softcap, (size_t)out_rows * c->vocab_size));
        SWACL_TRY(f->buf_read(be, m->logits, 0, out, (size_t)out_rows * c->vocab_size * sizeof(float)));
    } else {
        SWACL_TRY(f->buf_read(be, y, 0, out, (size_t)out_rows * D * sizeof(float)));
    }
    return f->finish(be);
}

/* Validate a public input (sizes, ids in range). */
swacl_status swacl_graph_check_input(swacl_model *m, const swacl_input *in)
{
    const swacl_config *c = &m->cfg;
    if (!in) return swacl_set_error(m->ctx, SWACL_INVALID_ARG, "input is NULL");
    if (in->batch < 1) return swacl_set_error(m->ctx, SWACL_INVALID_ARG, "batch must be >= 1 (got %d)", in->batch);
    if (in->seq < 1) return swacl_set_error(m->ctx, SWACL_INVALID_ARG, "seq must be >= 1 (got %d)", in->seq);
    if ((int64_t)in->batch * in->seq > SWACL_MAX_TOKENS)
        return swacl_set_error(m->ctx, SWACL_INVALID_ARG, "batch*seq = %lld is too large",
                               (long long)in->batch * in->seq);
    if (c->vocab_size > 0) {
        if (!in->ids) return swacl_set_error(m->ctx, SWACL_INVALID_ARG, "this model takes token ids (input.ids is NULL)");
        size_t n = (size_t)in->batch * in->seq;
        for (size_t i = 0; i < n; i++)
            if (in->ids[i] < 0 || in->ids[i] >= c->vocab_size)
                return swacl_set_error(m->ctx, SWACL_INVALID_ARG,
                                       "token id %d at index %zu is outside [0, %d)", in->ids[i], i,
                                       c->vocab_size);
    } else if (!in->embeds) {
        return swacl_set_error(m->ctx, SWACL_INVALID_ARG,
                               "this model takes continuous inputs (input.embeds is NULL)");
    }
    return SWACL_OK;
}

swacl_status swacl_model_forward(swacl_model *m, const swacl_input *in, int all_positions,
                                 float *out)
{
    if (!m) return SWACL_INVALID_ARG;
    if (!out) return swacl_set_error(m->ctx, SWACL_INVALID_ARG, "output buffer is NULL");
    SWACL_TRY(swacl_graph_check_input(m, in));
    int *pos0 = calloc((size_t)in->batch, sizeof *pos0);
    int *n_new = malloc((size_t)in->batch * sizeof *n_new);
    if (!pos0 || !n_new) {
        free(pos0);
        free(n_new);
        return swacl_set_error(m->ctx, SWACL_OUT_OF_MEMORY, "out of host memory");
    }
    for (int b = 0; b < in->batch; b++) n_new[b] = in->seq;
    swacl_step s = {
        .B = in->batch, .T = in->seq, .pos0 = pos0, .n_new = n_new,
        .ids = in->ids, .embeds = in->embeds, .kv = NULL,
        .layer_begin = 0, .layer_end = m->cfg.n_layers, .all_positions = all_positions,
    };
    swacl_status st = swacl_graph_step(m, &s, out);
    free(pos0);
    free(n_new);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Pipeline stages: the residual crosses devices through host memory.       */

swacl_status swacl_graph_x_write(swacl_model *m, int rows, const float *x)
{
    SWACL_TRY(ensure_scratch(m, rows, 0));
    return m->be->iface->buf_write(m->be, m->x, 0, x, (size_t)rows * m->cfg.hidden_size * sizeof(float));
}

swacl_status swacl_graph_x_read(swacl_model *m, int rows, float *x)
{
    if (rows > m->scratch_rows)
        return swacl_set_error(m->ctx, SWACL_INTERNAL, "x_read of %d rows, scratch holds %d", rows,
                               m->scratch_rows);
    return m->be->iface->buf_read(m->be, m->x, 0, x, (size_t)rows * m->cfg.hidden_size * sizeof(float));
}

swacl_status swacl_graph_x_copy(swacl_model *dst, const swacl_model *src, int rows,
                                swacl_event *after)
{
    const struct swacl_backend_i *f = dst->be->iface;
    if (!f->copy_peer || !f->peer || !f->peer(dst->be, src->be))
        return swacl_set_error(dst->ctx, SWACL_INTERNAL, "x_copy between backends that are not peers");
    if (rows > src->scratch_rows)
        return swacl_set_error(dst->ctx, SWACL_INTERNAL, "x_copy of %d rows, the source holds %d", rows,
                               src->scratch_rows);
    SWACL_TRY(ensure_scratch(dst, rows, 0));
    return f->copy_peer(dst->be, dst->x, src->x, (size_t)rows * dst->cfg.hidden_size * sizeof(float),
                        after);
}

typedef struct {
    const swacl_config *c;
    int l0, l1;
    uint64_t bytes, max_tensor;
} range_bytes_state;

static void add_bytes(const char *name, int ndim, const int64_t *shape, void *user)
{
    range_bytes_state *rb = user;
    if (!tensor_in_range(rb->c, name, rb->l0, rb->l1)) return;
    uint64_t n = sizeof(float);
    for (int d = 0; d < ndim; d++) n *= (uint64_t)shape[d];
    rb->bytes += n;
    if (n > rb->max_tensor) rb->max_tensor = n;
}

uint64_t swacl_model_range_bytes(const swacl_config *cfg, int l0, int l1, uint64_t *max_tensor)
{
    range_bytes_state rb = {cfg, l0, l1, 0, 0};
    swacl_config_tensors(cfg, add_bytes, &rb);
    if (max_tensor) *max_tensor = rb.max_tensor;
    return rb.bytes;
}
