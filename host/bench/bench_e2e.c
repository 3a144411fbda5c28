/*
 * bench_e2e.c - end to end: prefill tokens/s at several lengths and decode
 * tokens/s through a KV-cache session at several contexts, for cohere2 vs
 * baseline (same dims, host/model/config.c small_decoder) or one given model.
 *
 * Both presets live side by side and every measurement alternates between
 * them (cohere2, baseline, cohere2, ...), so load from other processes on a
 * shared machine hits both alike and the speedup ratio stays meaningful.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_internal.h"

static const char *const k_pair[2] = {"cohere2", "baseline"};

typedef struct {
    swacl_config cfg;
    swacl_weights *w; /* NULL for a borrowed model                          */
    swacl_model *m;
    swacl_session *s;
    int pos;
} e2e_model;

/* one decode step of one token: ids, or embeds for continuous-input models */
static swacl_status e2e_step(e2e_model *e, const int32_t *ids, const float *emb, int edim,
                             float *out)
{
    int p = e->pos++;
    if (edim) return swacl_session_step(e->s, 1, NULL, NULL, &emb[(size_t)p * (size_t)edim], out);
    return swacl_session_step(e->s, 1, NULL, &ids[p], NULL, out);
}

/* The lengths: the default lists capped at max_seq (0: per device). */
static void e2e_lengths(const swacl_ctx *ctx, const swacl_bench_e2e_params *p,
                        swacl_bench_e2e_result *r)
{
    int is_cpu = ctx->is_ref;
    if (!ctx->is_ref) {
        swacl_device_info info;
        if (swacl_bench_device_info((swacl_ctx *)ctx, &info) == SWACL_OK)
            is_cpu = !strcmp(info.type, "cpu");
    }
    int max_seq = p->max_seq > 0 ? p->max_seq : (is_cpu ? 16384 : 32768);
    if (ctx->is_ref && p->max_seq <= 0) max_seq = 2048;
    if (p->quick && p->max_seq <= 0) max_seq = 1024;
    const int seq_full[] = {1024, 4096, 16384, 32768}, seq_quick[] = {512, 1024};
    const int ctx_full[] = {256, 1024, 4096, 16384}, ctx_quick[] = {256, 1024};
    const int *sl = p->quick ? seq_quick : seq_full, *cl = p->quick ? ctx_quick : ctx_full;
    int ns = p->quick ? 2 : 4, nc = p->quick ? 2 : 4;
    for (int i = 0; i < ns; i++)
        if (sl[i] <= max_seq) r->seq_len[r->n_seq++] = sl[i];
    if (r->n_seq == 0) r->seq_len[r->n_seq++] = max_seq;
    for (int i = 0; i < nc; i++)
        if (cl[i] <= max_seq) r->ctx_len[r->n_ctx++] = cl[i];
    /* one model: a small max_seq still measures decode, at half of it */
    if (p->model_weights && r->n_ctx == 0) r->ctx_len[r->n_ctx++] = max_seq / 2;
}

static swacl_status e2e_prefill(const swacl_bench_e2e_params *p, e2e_model *em,
                                const int32_t *ids, const float *emb, float *out,
                                swacl_bench_e2e_result *res)
{
    int nm = res->n_models;
    /* warm-up at each length up to 4096 (shape-dependent kernels, e.g.
     * CLBlast direct vs indirect GEMM, compile on first use), then
     * alternating repeats */
    for (int i = 0; i < res->n_seq; i++) {
        int L = res->seq_len[i];
        int reps = p->quick ? 2 : (L <= 4096 ? 3 : 1);
        double ts[2][3];
        swacl_input in = {1, L, emb ? NULL : ids, emb};
        for (int pi = 0; pi < nm; pi++)
            if (L <= 4096) SWACL_TRY(swacl_model_forward(em[pi].m, &in, 0, out));
        for (int r = 0; r < reps; r++)
            for (int pi = 0; pi < nm; pi++) {
                double t0 = swacl_now();
                SWACL_TRY(swacl_model_forward(em[pi].m, &in, 0, out));
                ts[pi][r] = swacl_now() - t0;
            }
        for (int pi = 0; pi < nm; pi++) {
            double t = swacl_bench_median(ts[pi], reps);
            res->prefill_tps[pi][i] = L / t;
            swacl_bench_say(p->progress, p->user, "prefill %-8s L=%-6d %.3f s  %.0f tok/s",
                            res->model[pi], L, t, L / t);
        }
    }
    return SWACL_OK;
}

/* one session per model, contexts in increasing order (prefill in chunks of
 * 1024 up to the next context), one untimed step, then `steps` single-token
 * steps in alternating blocks; median block rate */
static swacl_status e2e_decode(const swacl_bench_e2e_params *p, e2e_model *em, int maxc,
                               const int32_t *ids, const float *emb, int edim, float *out,
                               swacl_bench_e2e_result *res)
{
    int nm = res->n_models, steps = res->decode_steps, blocks = p->quick ? 2 : 4;
    for (int pi = 0; pi < nm && res->n_ctx > 0; pi++)
        SWACL_TRY(swacl_session_create(em[pi].m, 1, maxc + res->n_ctx * (steps + 1) + 8,
                                       &em[pi].s));
    for (int i = 0; i < res->n_ctx; i++) {
        int C = res->ctx_len[i];
        for (int pi = 0; pi < nm; pi++) {
            e2e_model *e = &em[pi];
            if (C > e->pos) {
                swacl_input pin = {1, C - e->pos, edim ? NULL : &ids[e->pos],
                                   edim ? &emb[(size_t)e->pos * (size_t)edim] : NULL};
                SWACL_TRY(swacl_session_prefill(e->s, &pin, 1024, out));
                e->pos = C;
            }
            SWACL_TRY(e2e_step(e, ids, emb, edim, out));
        }
        double rate[2][8];
        for (int b = 0; b < blocks; b++)
            for (int pi = 0; pi < nm; pi++) {
                int n = steps / blocks;
                double t0 = swacl_now();
                for (int k = 0; k < n; k++) SWACL_TRY(e2e_step(&em[pi], ids, emb, edim, out));
                rate[pi][b] = n / (swacl_now() - t0);
            }
        for (int pi = 0; pi < nm; pi++) {
            res->decode_tps[pi][i] = swacl_bench_median(rate[pi], blocks);
            swacl_bench_say(p->progress, p->user, "decode  %-8s ctx=%-6d %d steps  %.1f tok/s",
                            res->model[pi], C, steps, res->decode_tps[pi][i]);
        }
    }
    return SWACL_OK;
}

swacl_status swacl_bench_e2e(swacl_ctx *ctx, const swacl_bench_e2e_params *params,
                             swacl_bench_e2e_result *res)
{
    if (!ctx || !ctx->be || !res)
        return swacl_set_error(ctx, SWACL_INVALID_ARG, "bench e2e: NULL argument or no backend");
    swacl_bench_e2e_params defaults;
    memset(&defaults, 0, sizeof defaults);
    const swacl_bench_e2e_params *p = params ? params : &defaults;
    if (!p->model_cfg != !p->model_weights)
        return swacl_set_error(ctx, SWACL_INVALID_ARG,
                               "bench e2e: model_cfg and model_weights go together");
    memset(res, 0, sizeof *res);
    e2e_lengths(ctx, p, res);
    res->n_models = p->model_weights ? 1 : 2;
    res->decode_steps = p->quick ? 8 : 32;
    e2e_model em[2];
    memset(em, 0, sizeof em);
    swacl_status st = SWACL_OK;
    int32_t *ids = NULL;
    float *out = NULL, *emb = NULL;
    for (int pi = 0; pi < res->n_models; pi++) {
        snprintf(res->model[pi], sizeof res->model[pi], "%s",
                 p->model_weights ? "model" : k_pair[pi]);
        if (p->model_weights) {
            em[pi].cfg = *p->model_cfg;
        } else {
            SWACL_TRY_GOTO(st, swacl_preset(k_pair[pi], &em[pi].cfg), done);
            SWACL_TRY_GOTO(st, swacl_weights_create_random(&em[pi].cfg, 1, &em[pi].w), done);
        }
        for (int i = 0; i < res->n_seq; i++)
            res->kv_bytes[pi][i] = swacl_kv_bytes(&em[pi].cfg, 1, res->seq_len[i], NULL, NULL);
        SWACL_TRY_GOTO(st,
                       swacl_model_create(ctx, &em[pi].cfg,
                                          p->model_weights ? p->model_weights : em[pi].w,
                                          &em[pi].m),
                       done);
    }
    int maxn = 0, maxc = 0;
    for (int i = 0; i < res->n_seq; i++) maxn = res->seq_len[i] > maxn ? res->seq_len[i] : maxn;
    for (int i = 0; i < res->n_ctx; i++) maxc = res->ctx_len[i] > maxc ? res->ctx_len[i] : maxc;
    maxn = maxn > maxc ? maxn : maxc;
    size_t nids = (size_t)maxn + (size_t)SWACL_BENCH_MAX_LENS * ((size_t)res->decode_steps + 1) + 8;
    int edim = 0; /* > 0: continuous-input model, random embeds instead of ids */
    ids = malloc(nids * sizeof *ids);
    /* same output width for both presets (same dims) */
    out = malloc((size_t)swacl_output_size(&em[0].cfg) * sizeof *out);
    if (!ids || !out) {
        st = swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "out of host memory");
        goto done;
    }
    if (em[0].cfg.vocab_size > 0) {
        swacl_bench_random_ids(ids, (int)nids, em[0].cfg.vocab_size, 99);
    } else {
        edim = em[0].cfg.input_dim;
        if (edim <= 0) {
            st = swacl_set_error(ctx, SWACL_INVALID_ARG,
                                 "model has neither vocab_size nor input_dim");
            goto done;
        }
        emb = malloc(nids * (size_t)edim * sizeof *emb);
        if (!emb) {
            st = swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "out of host memory");
            goto done;
        }
        swacl_rng r = {99};
        for (size_t k = 0; k < nids * (size_t)edim; k++) emb[k] = swacl_rng_uniform(&r);
    }
    SWACL_TRY_GOTO(st, e2e_prefill(p, em, ids, emb, out, res), done);
    st = e2e_decode(p, em, maxc, ids, emb, edim, out, res);
done:
    for (int pi = 0; pi < 2; pi++) {
        swacl_session_destroy(em[pi].s);
        swacl_model_destroy(em[pi].m);
        swacl_weights_destroy(em[pi].w);
    }
    free(ids);
    free(emb);
    free(out);
    return st;
}
