/*
 * test_remote.c - the scheduler's seam to pipeline parts in other processes
 * (sched_remote, host/sched/sched.h; host/mpi/ implements it over MPI),
 * checked without MPI: two parts of one model in one process, the second
 * replaying the first's calls on its own thread, joined by an in-memory
 * fake of the transport (the same hooks, copies instead of messages).
 *
 *   forward:  every preset, split at 1 and at L-1: the two-part output at
 *             every position equals the one-part pipeline bit for bit.
 *   session:  chunked prefill + 8 decode steps + a ragged step through two
 *             parts equal one part (each part holds only its layers' KV).
 *   describe: rank 0 lists both parts' stages, the second "mpi"-fed.
 *   failure:  a device error on the second part reaches its run_end with
 *             the stage's message (the MPI transport ends the job there).
 *   no MPI:   a RANK:SELECTOR list in the plain library is a clear error.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "sched/sched.h"

#define NSLOT 16

typedef struct fake fake;
typedef struct {
    sched_remote rm;
    fake *f;
    sched_job *jobs;
    int n_mb;
} end;

struct fake {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    end e[2];                /* 0: the root part, 1: the other              */
    swacl_pipeline *part[2];
    /* one announcement in flight, root -> other */
    int has_cmd;
    sched_cmd cmd;
    int32_t *ids;
    int *n_new;
    /* micro-batch i's x, root -> other; its output, other -> root */
    float *x[NSLOT], *out[NSLOT], *emb;
    size_t x_n[NSLOT];
    int out_n[NSLOT];
    /* the other part's replies */
    int described;
    swacl_pipeline_stage stages[8];
    int n_stages;
    int failed;
    char fail_msg[1024];
};

static void f_command(sched_remote *r, const swacl_config *c, const sched_cmd *cmd)
{
    fake *f = ((end *)r->user)->f;
    pthread_mutex_lock(&f->mu);
    while (f->has_cmd) pthread_cond_wait(&f->cv, &f->mu);
    f->cmd = *cmd;
    size_t bt = cmd->B > 0 && cmd->T > 0 ? (size_t)cmd->B * cmd->T : 0;
    f->ids = cmd->ids && bt ? malloc(bt * sizeof *f->ids) : NULL;
    if (f->ids) memcpy(f->ids, cmd->ids, bt * sizeof *f->ids);
    f->n_new = cmd->n_new ? malloc((size_t)cmd->B * sizeof *f->n_new) : NULL;
    if (f->n_new) memcpy(f->n_new, cmd->n_new, (size_t)cmd->B * sizeof *f->n_new);
    const size_t din = c->vocab_size > 0 ? 0 : (size_t)c->input_dim;
    f->emb = cmd->embeds && bt && din ? malloc(bt * din * sizeof *f->emb) : NULL;
    if (f->emb) memcpy(f->emb, cmd->embeds, bt * din * sizeof *f->emb);
    f->cmd.embeds = f->emb;
    f->cmd.ids = f->ids;
    f->cmd.n_new = f->n_new;
    f->has_cmd = 1;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

static void f_run_begin(sched_remote *r, int T, int all_positions, sched_job *jobs, int n_mb, size_t D, size_t V)
{
    end *e = r->user;
    (void)T, (void)all_positions, (void)D, (void)V;
    cr_assert(n_mb <= NSLOT);
    e->jobs = jobs;
    e->n_mb = n_mb;
}

static void f_x_in(sched_remote *r, int i)
{
    end *e = r->user;
    fake *f = e->f;
    pthread_mutex_lock(&f->mu);
    while (!f->x[i]) pthread_cond_wait(&f->cv, &f->mu);
    memcpy(e->jobs[i].x, f->x[i], f->x_n[i] * sizeof(float));
    free(f->x[i]); /* consumed: the slot is free for the next run */
    f->x[i] = NULL;
    pthread_mutex_unlock(&f->mu);
}

static void f_x_out(sched_remote *r, int i, size_t n)
{
    end *e = r->user;
    fake *f = e->f;
    float *c = malloc(n * sizeof *c);
    memcpy(c, e->jobs[i].x, n * sizeof *c);
    pthread_mutex_lock(&f->mu);
    f->x[i] = c;
    f->x_n[i] = n;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

static void f_out_send(sched_remote *r, int i, size_t n)
{
    end *e = r->user;
    fake *f = e->f;
    float *c = malloc(n * sizeof *c);
    memcpy(c, e->jobs[i].out, n * sizeof *c);
    pthread_mutex_lock(&f->mu);
    f->out[i] = c;
    f->out_n[i] = (int)n;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

static void f_run_end(sched_remote *r, swacl_status st, const char *msg)
{
    end *e = r->user;
    fake *f = e->f;
    pthread_mutex_lock(&f->mu);
    if (st != SWACL_OK) { /* the MPI transport ends the job here */
        f->failed = 1;
        snprintf(f->fail_msg, sizeof f->fail_msg, "%s", msg ? msg : "");
        for (int i = 0; i < NSLOT; i++)
            if (!f->out[i]) f->out[i] = calloc(1, sizeof(float)), f->out_n[i] = 0;
        pthread_cond_broadcast(&f->cv);
    }
    if (r->root) /* the output of every micro-batch, from the other part */
        for (int i = 0; i < e->n_mb; i++) {
            while (!f->out[i]) pthread_cond_wait(&f->cv, &f->mu);
            if (f->out_n[i]) memcpy(e->jobs[i].out, f->out[i], (size_t)f->out_n[i] * sizeof(float));
            free(f->out[i]);
            f->out[i] = NULL;
        }
    pthread_mutex_unlock(&f->mu);
}

static int f_describe(sched_remote *r, const swacl_pipeline *p, swacl_pipeline_stage *stages, int max)
{
    fake *f = ((end *)r->user)->f;
    f_command(r, &p->cfg, &(sched_cmd){.op = SCHED_CMD_DESCRIBE});
    int n = sched_describe_local(p, stages, max);
    pthread_mutex_lock(&f->mu);
    while (!f->described) pthread_cond_wait(&f->cv, &f->mu);
    f->described = 0;
    for (int i = 0; i < f->n_stages && n < max; i++) stages[n++] = f->stages[i];
    pthread_mutex_unlock(&f->mu);
    return n;
}

static void f_destroy(sched_remote *r) { (void)r; }

/* The other part's thread: replay every announcement on its part. */
static void *other_main(void *arg)
{
    fake *f = arg;
    swacl_pipeline *p = f->part[1];
    swacl_pipeline_session *sess[4] = {0};
    const int V = swacl_output_size(&p->cfg);
    for (;;) {
        pthread_mutex_lock(&f->mu);
        while (!f->has_cmd) pthread_cond_wait(&f->cv, &f->mu);
        sched_cmd c = f->cmd;
        int32_t *ids = f->ids;
        int *n_new = f->n_new;
        float *emb = f->emb;
        f->has_cmd = 0;
        pthread_cond_broadcast(&f->cv);
        pthread_mutex_unlock(&f->mu);
        size_t on = (size_t)(c.B > 0 ? c.B : 1) * (c.all_positions && c.T > 0 ? c.T : 1) * V;
        float *out = malloc(on * sizeof *out);
        swacl_input in = {.batch = c.B, .seq = c.T, .ids = ids, .embeds = emb};
        if (c.op == SCHED_CMD_FORWARD) swacl_pipeline_forward(p, &in, c.all_positions, out);
        if (c.op == SCHED_CMD_SESS_CREATE)
            cr_assert(swacl_pipeline_session_create(p, c.B, c.n, &sess[c.handle % 4]) == SWACL_OK);
        if (c.op == SCHED_CMD_SESS_STEP) swacl_pipeline_session_step(sess[c.handle % 4], c.T, n_new, ids, emb, out);
        if (c.op == SCHED_CMD_SESS_PREFILL) swacl_pipeline_session_prefill(sess[c.handle % 4], &in, c.chunk, out);
        if (c.op == SCHED_CMD_SESS_DESTROY) {
            swacl_pipeline_session_destroy(sess[c.handle % 4]);
            sess[c.handle % 4] = NULL;
        }
        if (c.op == SCHED_CMD_MICRO_BATCHES) swacl_pipeline_set_micro_batches(p, c.n);
        if (c.op == SCHED_CMD_DESCRIBE) {
            pthread_mutex_lock(&f->mu);
            f->n_stages = sched_describe_local(p, f->stages, 8);
            f->described = 1;
            pthread_cond_broadcast(&f->cv);
            pthread_mutex_unlock(&f->mu);
        }
        free(out);
        free(ids);
        free(n_new);
        free(emb);
        if (c.op == SCHED_CMD_DESTROY) return NULL;
    }
}

/* Two parts [0, k) and [k, L) on "ref", joined by the fake. */
typedef struct {
    fake f;
    pthread_t th;
    swacl_ctx *ctx[2];
} two_parts;

static void parts_open(two_parts *t, const swacl_config *c, const swacl_weights *w, int k, int fail_other)
{
    memset(t, 0, sizeof *t);
    fake *f = &t->f;
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    const int L = c->n_layers;
    int dol[SWACL_MAX_LAYERS] = {0};
    for (int s = 0; s < 2; s++) {
        t->ctx[s] = test_ref_ctx();
        swacl_sched_opts o = {.layer_begin = s ? k : 0, .layer_end = s ? L : k, .dev_of_layer = dol};
        cr_assert(swacl_pipeline_create_ex(t->ctx[s], "ref", NULL, c, w, &o, &f->part[s]) == SWACL_OK, "part %d: %s",
                  s, swacl_ctx_errmsg(t->ctx[s]));
        end *e = &f->e[s];
        e->f = f;
        e->rm = (sched_remote){.user = e, .rank = s, .root = !s, .first = !s, .last = s, .fault_fail = s && fail_other,
                               .command = f_command, .run_begin = f_run_begin, .x_in = f_x_in, .x_out = f_x_out,
                               .out_send = f_out_send, .run_end = f_run_end, .describe = f_describe,
                               .destroy = f_destroy};
        f->part[s]->remote = &e->rm;
    }
    cr_assert(pthread_create(&t->th, NULL, other_main, f) == 0);
}

static void parts_close(two_parts *t)
{
    swacl_pipeline_destroy(t->f.part[0]); /* announces DESTROY */
    pthread_join(t->th, NULL);
    swacl_pipeline_destroy(t->f.part[1]);
    for (int i = 0; i < NSLOT; i++) free(t->f.x[i]), free(t->f.out[i]);
    for (int s = 0; s < 2; s++) swacl_ctx_destroy(t->ctx[s]);
    pthread_cond_destroy(&t->f.cv);
    pthread_mutex_destroy(&t->f.mu);
}

static swacl_config small(const char *name, int layers)
{
    swacl_preset_params p;
    memset(&p, 0, sizeof p);
    p.hidden_size = 64;
    p.n_heads = 4;
    p.n_layers = layers;
    p.ffn_dim = 96;
    p.vocab_size = 97;
    p.input_dim = 24;
    p.window = 5;
    p.chunk = 5;
    p.train_len = 4;
    swacl_config c;
    cr_assert(swacl_preset_ex(name, &p, &c) == SWACL_OK, "preset %s", name);
    return c;
}

static void inputs(const swacl_config *c, int B, int T, uint64_t seed, int32_t **ids, float **emb)
{
    size_t n = (size_t)B * T;
    *ids = NULL;
    *emb = NULL;
    swacl_rng r = {seed};
    if (c->vocab_size > 0) {
        *ids = malloc(n * sizeof **ids);
        for (size_t i = 0; i < n; i++) (*ids)[i] = (int32_t)(swacl_rng_next(&r) % (uint64_t)c->vocab_size);
    } else {
        *emb = malloc(n * c->input_dim * sizeof **emb);
        fill_uniform(*emb, n * c->input_dim, seed, 1.0f);
    }
}

static swacl_pipeline *one_part(swacl_ctx *ctx, const swacl_config *c, const swacl_weights *w)
{
    swacl_pipeline *p = NULL;
    cr_assert(swacl_pipeline_create(ctx, "ref", "auto", c, w, &p) == SWACL_OK, "%s", swacl_ctx_errmsg(ctx));
    return p;
}

typedef struct {
    char preset[24];
    int split;
} fwd_case;

ParameterizedTestParameters(remote, forward)
{
    static fwd_case cases[16];
    const char *const *names = swacl_preset_names();
    int n = 0;
    for (int i = 0; names[i] && n + 2 <= 16; i++)
        for (int s = 0; s < 2; s++) {
            snprintf(cases[n].preset, sizeof cases[n].preset, "%s", names[i]);
            cases[n++].split = s;
        }
    return cr_make_param_array(fwd_case, cases, n);
}

ParameterizedTest(fwd_case *fc, remote, forward, .timeout = 120)
{
    const int L = 4, k = fc->split ? L - 1 : 1;
    swacl_config c = small(fc->preset, L);
    swacl_weights *w = NULL;
    cr_assert(swacl_weights_create_random(&c, 3, &w) == SWACL_OK);
    const int B = 3, T = 7, V = swacl_output_size(&c);
    int32_t *ids;
    float *emb;
    inputs(&c, B, T, 5, &ids, &emb);
    swacl_input in = {.batch = B, .seq = T, .ids = ids, .embeds = emb};
    size_t n = (size_t)B * T * V;
    float *a = calloc(n, sizeof *a), *b = calloc(n, sizeof *b);
    swacl_ctx *ctx = test_ref_ctx();
    swacl_pipeline *p1 = one_part(ctx, &c, w);
    swacl_pipeline_set_micro_batches(p1, 3);
    cr_assert(swacl_pipeline_forward(p1, &in, 1, a) == SWACL_OK, "%s", swacl_ctx_errmsg(ctx));
    two_parts t;
    parts_open(&t, &c, w, k, 0);
    swacl_pipeline_set_micro_batches(t.f.part[0], 3); /* announced: both parts cut 3 ways */
    for (int rep = 0; rep < 2; rep++) { /* twice: the links reset between runs */
        memset(b, 0, n * sizeof *b);
        cr_assert(swacl_pipeline_forward(t.f.part[0], &in, 1, b) == SWACL_OK, "%s", swacl_ctx_errmsg(t.ctx[0]));
        cr_assert(memcmp(a, b, n * sizeof *a) == 0, "%s split at %d: two parts differ from one (run %d)",
                  fc->preset, k, rep);
    }
    parts_close(&t);
    swacl_pipeline_destroy(p1);
    swacl_ctx_destroy(ctx);
    swacl_weights_destroy(w);
    free(a), free(b), free(ids), free(emb);
}

Test(remote, session_and_describe, .timeout = 120)
{
    swacl_config c = small("cohere2", 4);
    swacl_weights *w = NULL;
    cr_assert(swacl_weights_create_random(&c, 4, &w) == SWACL_OK);
    const int B = 2, T = 9, V = swacl_output_size(&c), max_ctx = 32;
    int32_t *ids;
    float *emb;
    inputs(&c, B, T, 6, &ids, &emb);
    swacl_input in = {.batch = B, .seq = T, .ids = ids};
    swacl_ctx *ctx = test_ref_ctx();
    swacl_pipeline *p1 = one_part(ctx, &c, w);
    two_parts t;
    parts_open(&t, &c, w, 2, 0);
    swacl_pipeline_session *s1 = NULL, *s2 = NULL;
    cr_assert(swacl_pipeline_session_create(p1, B, max_ctx, &s1) == SWACL_OK);
    cr_assert(swacl_pipeline_session_create(t.f.part[0], B, max_ctx, &s2) == SWACL_OK, "%s",
              swacl_ctx_errmsg(t.ctx[0]));
    /* each part holds only its layers' KV: half of the one part's each */
    cr_expect(swacl_pipeline_session_kv_bytes(s2) > 0 &&
              swacl_pipeline_session_kv_bytes(s2) < swacl_pipeline_session_kv_bytes(s1));
    float *a = calloc((size_t)B * V, sizeof *a), *b = calloc((size_t)B * V, sizeof *b);
    cr_assert(swacl_pipeline_session_prefill(s1, &in, 4, a) == SWACL_OK);
    cr_assert(swacl_pipeline_session_prefill(s2, &in, 4, b) == SWACL_OK, "%s", swacl_ctx_errmsg(t.ctx[0]));
    cr_assert(memcmp(a, b, (size_t)B * V * sizeof *a) == 0, "chunked prefill differs");
    for (int step = 0; step < 9; step++) {
        int32_t tok[2] = {(int32_t)(step * 7 % c.vocab_size), (int32_t)(step * 13 % c.vocab_size)};
        int nn[2] = {1, step == 8 ? 0 : 1}; /* the last step is ragged */
        cr_assert(swacl_pipeline_session_step(s1, 1, nn, tok, NULL, a) == SWACL_OK);
        cr_assert(swacl_pipeline_session_step(s2, 1, nn, tok, NULL, b) == SWACL_OK);
        cr_assert(memcmp(a, b, (size_t)V * sizeof *a) == 0, "decode step %d differs", step);
        if (nn[1]) cr_assert(memcmp(a + V, b + V, (size_t)V * sizeof *a) == 0, "decode step %d differs", step);
    }
    cr_expect_eq(swacl_pipeline_session_pos(s2, 0), T + 9);
    cr_expect_eq(swacl_pipeline_session_pos(s2, 1), T + 8);
    swacl_pipeline_stage st[8];
    int ns = 0;
    cr_assert(swacl_pipeline_describe(t.f.part[0], st, 8, &ns) == SWACL_OK);
    cr_assert_eq(ns, 2);
    cr_expect(st[0].layer_begin == 0 && st[0].layer_end == 2 && st[0].rank == 0 && !st[0].transfer_in[0]);
    cr_expect(st[1].layer_begin == 2 && st[1].layer_end == 4 && st[1].rank == 1);
    cr_expect_str_eq(st[1].transfer_in, "mpi");
    cr_expect(st[1].transfer_s > 0 && st[0].transfer_s > 0, "transfer time %g %g", st[0].transfer_s,
              st[1].transfer_s);
    swacl_pipeline_session_destroy(s2); /* announced: the other part drops its KV */
    swacl_pipeline_session_destroy(s1);
    parts_close(&t);
    swacl_pipeline_destroy(p1);
    swacl_ctx_destroy(ctx);
    swacl_weights_destroy(w);
    free(a), free(b), free(ids);
}

Test(remote, failure_reaches_run_end, .timeout = 120)
{
    swacl_config c = small("cohere2", 4);
    swacl_weights *w = NULL;
    cr_assert(swacl_weights_create_random(&c, 4, &w) == SWACL_OK);
    int32_t *ids;
    float *emb;
    inputs(&c, 2, 5, 6, &ids, &emb);
    swacl_input in = {.batch = 2, .seq = 5, .ids = ids};
    float *out = calloc((size_t)2 * swacl_output_size(&c), sizeof *out);
    two_parts t;
    parts_open(&t, &c, w, 2, 1);
    swacl_pipeline_forward(t.f.part[0], &in, 0, out);
    /* the other part fails after its last output went out, so the root's
     * forward may return first: join it (parts_close) before looking */
    parts_close(&t);
    cr_assert(t.f.failed, "the failing part's run_end saw no error");
    cr_expect(strstr(t.f.fail_msg, "layers 2-3") && strstr(t.f.fail_msg, "injected failure"), "message: %s",
              t.f.fail_msg);
    swacl_weights_destroy(w);
    free(out), free(ids);
}

Test(remote, ranked_list_needs_mpi)
{
    swacl_config c = small("cohere2", 4);
    swacl_weights *w = NULL;
    cr_assert(swacl_weights_create_random(&c, 4, &w) == SWACL_OK);
    swacl_ctx *ctx = test_ref_ctx();
    swacl_pipeline *p = NULL;
    cr_assert_eq(swacl_pipeline_create(ctx, "0:ref,1:ref", "auto", &c, w, &p), SWACL_INVALID_ARG);
    cr_expect(strstr(swacl_ctx_errmsg(ctx), "names an MPI rank"), "%s", swacl_ctx_errmsg(ctx));
    swacl_ctx_destroy(ctx);
    swacl_weights_destroy(w);
}
