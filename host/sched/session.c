/*
 * session.c - KV-cache sessions (chunked prefill + decode): the one
 * implementation behind swacl_session_* and swacl_pipeline_session_*.
 *
 * Why a single device is a one-stage pipeline rather than a second session
 * stack: then there is one session struct, one KV allocation (kv.c), one
 * step check (sched_step_check), one way to step (sched_run, which calls
 * swacl_graph_step per stage) and one chunking loop, so a fix to any of
 * them reaches both APIs. sched_pipeline_solo wraps the caller's model
 * without copying it; a one-stage run is stage 0 on the calling thread (no
 * thread, no queue wait, no busy-time marks), so all it adds to a decode
 * step is a few small host allocations.
 *
 * A session keeps one KV cache per (micro-batch, layer) on the stage that
 * owns the layer, so the micro-batch cut is fixed at creation (one
 * micro-batch on a single device). Its sizing rules, and why a session is
 * bounded by max_ctx or streams on: kv.c.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "sched/sched.h"

struct swacl_pipeline_session {
    swacl_pipeline *p;
    int own_p;               /* p is the solo pipeline of a swacl_session   */
    int B, max_ctx, n_mb;
    int bounded;             /* steps stop at max_ctx (sched_kv_bounded)    */
    int *mb_b0;              /* [n_mb + 1] sequence boundaries              */
    swacl_kv_layer *kv;      /* [n_mb][n_layers], on the owning stage       */
    int *pos, *pos0, *n_new; /* [B] cached length; step scratch             */
    uint64_t kv_bytes;
    int kv_f16;              /* K/V stored as f16 (the models' kv_f16)      */
    uint64_t stage_kv[SWACL_MAX_LAYERS]; /* of kv_bytes, per stage (its
                                            stage's kv_bytes until destroy) */
    int handle;              /* its name in the other processes (remote)    */
};

/* A single-device session: a session on its model's one-stage pipeline. */
struct swacl_session {
    swacl_pipeline_session s;
};

/* ------------------------------------------------------------------------ */
/* The step check (every backend, both APIs).                                */

swacl_status sched_step_check(int B, int T, const int *n_new, const int *pos, int max_ctx,
                              int bounded, char *why, size_t len)
{
#define BAD(...) do { swacl_format_msg(why, len, __VA_ARGS__); return SWACL_INVALID_ARG; } while (0)
    if (T < 1) BAD("step length must be >= 1 (got %d)", T);
    /* the graph indexes rows b*T + t with an int, as swacl_graph_check_input */
    if ((int64_t)B * T > INT32_MAX / 4) BAD("a step of %d x %d rows is too large", B, T);
    const int64_t limit = bounded ? max_ctx : INT_MAX;
    for (int b = 0; b < B; b++) {
        const int nb = n_new ? n_new[b] : T;
        if (nb < 0 || nb > T) BAD("n_new[%d] = %d is outside 0..%d", b, nb, T);
        const int64_t reach = (int64_t)pos[b] + nb; /* 64-bit: cannot overflow */
        if (reach > limit) {
            if (bounded)
                BAD("sequence %d would reach %lld tokens, past the session's max_ctx %d", b, (long long)reach,
                    max_ctx);
            BAD("sequence %d would reach %lld tokens, past the %d positions a session addresses", b,
                (long long)reach, INT_MAX);
        }
    }
    return SWACL_OK;
#undef BAD
}

/* ------------------------------------------------------------------------ */
/* Create / destroy.                                                         */

static void sess_fini(swacl_pipeline_session *s)
{
    swacl_pipeline *p = s->p;
    if (s->kv) {
        const int L = p->cfg.n_layers;
        for (int k = 0; k < p->n_stages && k < SWACL_MAX_LAYERS; k++) p->st[k].kv_bytes -= s->stage_kv[k];
        for (int i = 0; i < s->n_mb * L; i++)
            if (p->stage_of_layer[i % L] >= 0) /* else another process's layer */
                sched_kv_free(p->st[p->stage_of_layer[i % L]].m->be, &s->kv[i]);
    }
    free(s->kv);
    free(s->mb_b0);
    free(s->pos);
    free(s->pos0);
    free(s->n_new);
    if (s->own_p) swacl_pipeline_destroy(p);
}

/* s->p set, the rest zero; on failure sess_fini releases what was made. */
static swacl_status sess_init(swacl_pipeline_session *s, int batch, int max_ctx)
{
    swacl_pipeline *p = s->p;
    sched_clear_error(p);
    if (batch < 1) return sched_fail(p, SWACL_INVALID_ARG, "session batch must be >= 1 (got %d)", batch);
    if (max_ctx < 1) return sched_fail(p, SWACL_INVALID_ARG, "session max_ctx must be >= 1 (got %d)", max_ctx);
    SWACL_TRY(sched_session_fits(p, batch, max_ctx));
    const swacl_config *c = &p->cfg;
    const int L = c->n_layers;
    s->B = batch;
    s->max_ctx = max_ctx;
    s->bounded = sched_kv_bounded(c, max_ctx);
    s->n_mb = sched_micro_batches(p, batch);
    s->mb_b0 = malloc((size_t)(s->n_mb + 1) * sizeof *s->mb_b0);
    s->kv = calloc((size_t)s->n_mb * L, sizeof *s->kv);
    s->pos = calloc((size_t)batch, sizeof *s->pos);
    s->pos0 = calloc((size_t)batch, sizeof *s->pos0);
    s->n_new = calloc((size_t)batch, sizeof *s->n_new);
    if (!s->mb_b0 || !s->kv || !s->pos || !s->pos0 || !s->n_new)
        return sched_fail(p, SWACL_OUT_OF_MEMORY, "out of host memory");
    for (int i = 0; i <= s->n_mb; i++) s->mb_b0[i] = (int)((int64_t)i * batch / s->n_mb);
    /* one cache type for the session: the first local stage's model decides */
    for (int l = L - 1; l >= 0; l--)
        if (p->stage_of_layer[l] >= 0) s->kv_f16 = p->st[p->stage_of_layer[l]].m->kv_f16;
    for (int l = 0; l < L; l++) {
        if (p->stage_of_layer[l] < 0) continue; /* another process holds it */
        sched_stage *sg = &p->st[p->stage_of_layer[l]];
        for (int i = 0; i < s->n_mb; i++) {
            uint64_t bytes = 0;
            swacl_status st = sched_kv_alloc(sg->m->be, c, l, s->mb_b0[i + 1] - s->mb_b0[i], max_ctx,
                                             s->kv_f16, &s->kv[(size_t)i * L + l], &bytes);
            if (st != SWACL_OK)
                return sched_fail(p, st, "allocating the layer-%d KV cache (%llu bytes, %llu MiB) on device %d "
                                  "('%s') failed: %s", l, (unsigned long long)bytes,
                                  (unsigned long long)(bytes >> 20), sg->dev, p->dev[sg->dev].name,
                                  swacl_ctx_errmsg(sg->ctx));
            s->kv_bytes += bytes;
            s->stage_kv[p->stage_of_layer[l]] += bytes;
            sg->kv_bytes += bytes;
        }
    }
    return SWACL_OK;
}

/* ------------------------------------------------------------------------ */
/* Step and prefill.                                                         */

static swacl_status sess_step(swacl_pipeline_session *s, int T, const int *n_new, const int32_t *ids,
                              const float *embeds, float *out)
{
    swacl_pipeline *p = s->p;
    const swacl_config *c = &p->cfg;
    sched_clear_error(p);
    if (!out) return sched_fail(p, SWACL_INVALID_ARG, "output buffer is NULL");
    if (c->vocab_size > 0 ? !ids : !embeds)
        return sched_fail(p, SWACL_INVALID_ARG, "this model takes %s",
                          c->vocab_size > 0 ? "token ids (ids is NULL)" : "continuous inputs (embeds is NULL)");
    char why[256];
    if (sched_step_check(s->B, T, n_new, s->pos, s->max_ctx, s->bounded, why, sizeof why) != SWACL_OK)
        return sched_fail(p, SWACL_INVALID_ARG, "%s", why);
    for (int b = 0; b < s->B; b++) {
        s->pos0[b] = s->pos[b];
        s->n_new[b] = n_new ? n_new[b] : T;
    }
    /* only the used ids (t < n_new[b]) are read: the rest of the caller's
     * rows may be anything */
    if (c->vocab_size > 0)
        for (int b = 0; b < s->B; b++)
            for (int t = 0; t < s->n_new[b]; t++) {
                int32_t id = ids[(size_t)b * T + t];
                if (id < 0 || id >= c->vocab_size)
                    return sched_fail(p, SWACL_INVALID_ARG,
                                      "token id %d (sequence %d, position %d) is outside [0, %d)", id, b, t,
                                      c->vocab_size);
            }
    const int L = c->n_layers, D = c->hidden_size, V = swacl_output_size(c);
    const size_t din = c->vocab_size > 0 ? 0 : (size_t)c->input_dim;
    swacl_status st = SWACL_OK;
    /* padded rows (t >= n_new[b]) still flow through the per-row ops: give
     * them id 0 so the embedding lookup stays in bounds */
    int32_t *ids_safe = din ? NULL : malloc((size_t)s->B * T * sizeof *ids_safe);
    int oom = 0;
    float *x = sched_staging(p, (size_t)s->B * T * D * sizeof *x, &oom);
    sched_job *jobs = calloc((size_t)s->n_mb, sizeof *jobs);
    if ((!din && !ids_safe) || oom || !jobs) {
        st = sched_fail(p, SWACL_OUT_OF_MEMORY, "out of host memory");
        goto done;
    }
    if (ids_safe)
        for (int b = 0; b < s->B; b++)
            for (int t = 0; t < T; t++)
                ids_safe[(size_t)b * T + t] = t < s->n_new[b] ? ids[(size_t)b * T + t] : 0;
    for (int i = 0; i < s->n_mb; i++) {
        sched_job *j = &jobs[i];
        j->b0 = s->mb_b0[i];
        j->nb = s->mb_b0[i + 1] - j->b0;
        j->pos0 = s->pos0 + j->b0;
        j->n_new = s->n_new + j->b0;
        j->ids = ids_safe ? ids_safe + (size_t)j->b0 * T : NULL;
        j->embeds = din ? embeds + (size_t)j->b0 * T * din : NULL;
        j->kv = &s->kv[(size_t)i * L];
        j->x = x ? x + (size_t)j->b0 * T * D : NULL;
        j->out = out + (size_t)j->b0 * V;
    }
    st = sched_run(p, T, 0, jobs, s->n_mb);
    if (st == SWACL_OK) /* a failed step does not advance */
        for (int b = 0; b < s->B; b++) s->pos[b] += s->n_new[b];
done:
    free(ids_safe);
    free(jobs);
    return st;
}

static swacl_status sess_prefill(swacl_pipeline_session *s, const swacl_input *in, int chunk, float *out)
{
    swacl_pipeline *p = s->p;
    const swacl_config *c = &p->cfg;
    sched_clear_error(p);
    SWACL_TRY(sched_check_input(p, in));
    if (in->batch != s->B)
        return sched_fail(p, SWACL_INVALID_ARG, "input batch %d != session batch %d", in->batch, s->B);
    if (chunk < 0) return sched_fail(p, SWACL_INVALID_ARG, "chunk must be >= 0 (got %d)", chunk);
    const int T = in->seq, Tc = chunk > 0 && chunk < T ? chunk : T;
    if (Tc == T) return sess_step(s, T, NULL, in->ids, in->embeds, out);
    /* repack [B, T] into [B, Tc] slices; the last one may be short */
    const size_t din = c->vocab_size > 0 ? 0 : (size_t)c->input_dim;
    int32_t *ids = din ? NULL : malloc((size_t)s->B * Tc * sizeof *ids);
    float *emb = din ? malloc((size_t)s->B * Tc * din * sizeof *emb) : NULL;
    int *nn = malloc((size_t)s->B * sizeof *nn);
    swacl_status st = SWACL_OK;
    if ((!ids && !emb) || !nn) st = sched_fail(p, SWACL_OUT_OF_MEMORY, "out of host memory");
    for (int t0 = 0; t0 < T && st == SWACL_OK; t0 += Tc) {
        int n = T - t0 < Tc ? T - t0 : Tc;
        for (int b = 0; b < s->B; b++) {
            nn[b] = n;
            if (ids) memcpy(ids + (size_t)b * Tc, in->ids + (size_t)b * T + t0, (size_t)n * sizeof *ids);
            else
                memcpy(emb + (size_t)b * Tc * din, in->embeds + ((size_t)b * T + t0) * din,
                       (size_t)n * din * sizeof *emb);
        }
        st = sess_step(s, Tc, nn, ids, emb, out);
    }
    free(ids);
    free(emb);
    free(nn);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Public: pipeline sessions.                                                */

swacl_status swacl_pipeline_session_create(swacl_pipeline *p, int batch, int max_ctx,
                                           swacl_pipeline_session **out)
{
    if (!out) return SWACL_INVALID_ARG;
    *out = NULL;
    if (!p) return SWACL_INVALID_ARG;
    swacl_pipeline_session *s = calloc(1, sizeof *s);
    if (!s) return sched_fail(p, SWACL_OUT_OF_MEMORY, "out of host memory");
    s->p = p;
    s->handle = -1;
    swacl_status st = sess_init(s, batch, max_ctx);
    if (st != SWACL_OK) {
        swacl_pipeline_session_destroy(s);
        return st;
    }
    s->handle = p->session_seq++;
    if (p->remote && p->remote->root) /* made here first: the others then make theirs */
        p->remote->command(p->remote, &p->cfg, &(sched_cmd){.op = SCHED_CMD_SESS_CREATE, .handle = s->handle,
                                                            .B = batch, .n = max_ctx});
    *out = s;
    return SWACL_OK;
}

/* The root announces a call on a session before running it (sched.h). */
static void sess_announce(swacl_pipeline_session *s, sched_cmd c)
{
    swacl_pipeline *p = s->p;
    if (!p->remote || !p->remote->root || s->handle < 0) return;
    c.handle = s->handle;
    c.B = s->B;
    p->remote->command(p->remote, &p->cfg, &c);
}

void swacl_pipeline_session_destroy(swacl_pipeline_session *s)
{
    if (!s) return;
    sess_announce(s, (sched_cmd){.op = SCHED_CMD_SESS_DESTROY});
    sess_fini(s);
    free(s);
}

int swacl_pipeline_session_pos(const swacl_pipeline_session *s, int b)
{
    return s && b >= 0 && b < s->B ? s->pos[b] : -1;
}

swacl_status swacl_pipeline_session_step(swacl_pipeline_session *s, int T, const int *n_new,
                                         const int32_t *ids, const float *embeds, float *out)
{
    if (!s) return SWACL_INVALID_ARG;
    sess_announce(s, (sched_cmd){.op = SCHED_CMD_SESS_STEP, .T = T, .n_new = n_new, .ids = ids, .embeds = embeds});
    return sess_step(s, T, n_new, ids, embeds, out);
}

swacl_status swacl_pipeline_session_prefill(swacl_pipeline_session *s, const swacl_input *in,
                                            int chunk, float *out)
{
    if (!s) return SWACL_INVALID_ARG;
    if (in && in->batch == s->B) /* else every process refuses it alike */
        sess_announce(s, (sched_cmd){.op = SCHED_CMD_SESS_PREFILL, .T = in->seq, .chunk = chunk,
                                     .ids = in->ids, .embeds = in->embeds});
    return sess_prefill(s, in, chunk, out);
}

/* ------------------------------------------------------------------------ */
/* Public: single-device sessions, on the model's one-stage pipeline.        */

swacl_status swacl_session_create(swacl_model *m, int batch, int max_ctx, swacl_session **out)
{
    if (!out) return SWACL_INVALID_ARG;
    *out = NULL;
    if (!m) return SWACL_INVALID_ARG;
    swacl_session *ss = calloc(1, sizeof *ss);
    if (!ss) return swacl_set_error(m->ctx, SWACL_OUT_OF_MEMORY, "out of host memory");
    swacl_status st = sched_pipeline_solo(m, &ss->s.p);
    if (st != SWACL_OK) {
        free(ss);
        return st;
    }
    ss->s.own_p = 1;
    st = sess_init(&ss->s, batch, max_ctx);
    if (st != SWACL_OK) {
        swacl_session_destroy(ss);
        return st;
    }
    *out = ss;
    return SWACL_OK;
}

void swacl_session_destroy(swacl_session *s)
{
    if (!s) return;
    sess_fini(&s->s);
    free(s);
}

int swacl_session_pos(const swacl_session *s, int b) { return s ? swacl_pipeline_session_pos(&s->s, b) : -1; }

uint64_t swacl_session_kv_bytes(const swacl_session *s) { return s ? s->s.kv_bytes : 0; }
uint64_t swacl_pipeline_session_kv_bytes(const swacl_pipeline_session *s) { return s ? s->kv_bytes : 0; }
int swacl_session_kv_type(const swacl_session *s) { return s && s->s.kv_f16 ? SWACL_WT_F16 : SWACL_WT_F32; }
int swacl_pipeline_session_kv_type(const swacl_pipeline_session *s)
{
    return s && s->kv_f16 ? SWACL_WT_F16 : SWACL_WT_F32;
}

void swacl_session_reset(swacl_session *s)
{
    if (s) memset(s->s.pos, 0, (size_t)s->s.B * sizeof *s->s.pos);
}

swacl_status swacl_session_step(swacl_session *s, int T, const int *n_new, const int32_t *ids,
                                const float *embeds, float *out)
{
    return s ? sess_step(&s->s, T, n_new, ids, embeds, out) : SWACL_INVALID_ARG;
}

swacl_status swacl_session_prefill(swacl_session *s, const swacl_input *in, int chunk, float *out)
{
    return s ? sess_prefill(&s->s, in, chunk, out) : SWACL_INVALID_ARG;
}
