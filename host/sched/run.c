/*
 * run.c - pipeline execution (sched.h): the calling thread runs stage 0,
 * one more host thread per further stage. A call cuts the batch into
 * micro-batches of whole sequences; stage k's thread takes micro-batch i
 * from its bounded queue, brings the residual x in (device copy from the
 * previous stage's x, or a write from host staging), runs its layers
 * (swacl_graph_step with x_loaded), and hands i to stage k+1; the last
 * stage runs the head into the caller's output slice. So stage k works on
 * micro-batch i while stage k+1 works on i-1: the devices overlap, each
 * with its own in-order queue, and the only synchronisation is the
 * hand-off of one micro-batch (no global barrier per op). A one-stage
 * pipeline (a swacl_session) runs on the calling thread alone.
 *
 * Errors: the first failing stage records its message (sched_fail_stage)
 * and raises an abort flag that wakes every waiting thread; every thread
 * is joined before the call returns.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sched/sched.h"

#define QCAP 2 /* micro-batches in flight between two stages */

/* Bounded queues of micro-batch indices, one per stage after the first. */
typedef struct {
    int ring[QCAP], head, count;
} queue;

typedef struct run run;
typedef struct {
    run *r;
    int k;                   /* stage index                                 */
} worker;

struct run {
    swacl_pipeline *p;
    int T, all_positions, n_mb;
    sched_job *jobs;
    queue *q;                /* [n_stages]: q[k] feeds stage k (k >= 1)     */
    /* device links: stage k+1 publishes the event of its copy out of stage
     * k's x; stage k's queue waits for it before overwriting x           */
    swacl_event **xfree;     /* [n_stages]                                  */
    int *xfree_seq;          /* [n_stages] copies published so far          */
    swacl_event **ev_a, **ev_b; /* [n_stages * n_mb] busy-time marks        */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int abort;
    swacl_status st;         /* first failure                               */
};

static int q_push(run *r, int k, int mb)
{
    pthread_mutex_lock(&r->mu);
    while (!r->abort && r->q[k].count == QCAP) pthread_cond_wait(&r->cv, &r->mu);
    int ok = !r->abort;
    if (ok) {
        queue *q = &r->q[k];
        q->ring[(q->head + q->count) % QCAP] = mb;
        q->count++;
        pthread_cond_broadcast(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
    return ok ? 0 : -1;
}

static int q_pop(run *r, int k)
{
    pthread_mutex_lock(&r->mu);
    while (!r->abort && r->q[k].count == 0) pthread_cond_wait(&r->cv, &r->mu);
    int mb = -1;
    if (!r->abort) {
        queue *q = &r->q[k];
        mb = q->ring[q->head];
        q->head = (q->head + 1) % QCAP;
        q->count--;
        pthread_cond_broadcast(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
    return mb;
}

/* Stage k+1 has queued its copy of stage k's x for one more micro-batch. */
static void xfree_put(run *r, int k, swacl_event *ev)
{
    pthread_mutex_lock(&r->mu);
    r->xfree[k] = ev; /* the previous one was taken: strict alternation */
    r->xfree_seq[k]++;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

/* Stage k, about to start micro-batch i: the event of stage k+1's copy of
 * micro-batch i-1 (NULL when aborted), once that copy is queued. */
static swacl_event *xfree_take(run *r, int k, int i)
{
    pthread_mutex_lock(&r->mu);
    while (!r->abort && r->xfree_seq[k] < i) pthread_cond_wait(&r->cv, &r->mu);
    swacl_event *ev = NULL;
    if (!r->abort) {
        ev = r->xfree[k];
        r->xfree[k] = NULL;
    }
    pthread_mutex_unlock(&r->mu);
    return ev;
}

static void fail_run(run *r, int k, swacl_status st)
{
    pthread_mutex_lock(&r->mu);
    if (!r->abort) {
        sched_fail_stage(r->p, k, st);
        r->st = st;
        r->abort = 1;
    }
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

/* One stage's loop over the micro-batches. Device links chain the queues
 * with events, and a thread waits only for one event of its neighbour:
 *   producer k:   [wait free(i-1)] mark_a  layers  ready(i)  mark_b
 *   consumer k+1: [wait ready(i)]  mark_a  copy x_k -> x_k+1  free(i)  layers
 * so stage k computes micro-batch i while stage k+1 computes i-1, and no
 * stage ever finishes its queue (only the last stage's read of the output
 * blocks). A host link reads x into pinned host memory (a blocking read)
 * and the next stage writes it from there. */
static void *stage_main(void *arg)
{
    worker *w = arg;
    run *r = w->r;
    swacl_pipeline *p = r->p;
    const int k = w->k, last = k == p->n_stages - 1;
    sched_stage *s = &p->st[k];
    /* remote links (sched.h): x from the previous process into the first
     * stage, from the last stage to the next process; the model's head runs
     * only where its last layer is */
    sched_remote *rm = p->remote;
    const int rin = k == 0 && rm && !rm->first, rout = last && rm && !rm->last, head = last && !rout;
    const size_t D = (size_t)p->cfg.hidden_size, V = (size_t)swacl_output_size(&p->cfg);
    swacl_backend *be = s->m->be;
    const struct swacl_backend_i *f = be->iface;
    const int dev_out = !last && p->st[k + 1].link_in == SCHED_LINK_DEVICE;
    const int dev_in = s->link_in == SCHED_LINK_DEVICE;
    const int marks = !p->solo && f->mark && f->elapsed; /* busy time: describe */
    for (int i = 0; i < r->n_mb; i++) {
        int mb = k == 0 ? i : q_pop(r, k);
        if (mb < 0) break; /* aborted */
        sched_job *j = &r->jobs[mb];
        const int rows = j->nb * r->T;
        double t0 = swacl_now();
        swacl_status st = SWACL_OK;
        if (dev_out && i > 0) {
            swacl_event *ev = xfree_take(r, k, i);
            if (!ev) break; /* aborted */
            st = f->wait(be, ev);
            f->event_free(ev);
        }
        if (st == SWACL_OK && dev_in) {
            st = f->wait(be, j->ready);
            f->event_free(j->ready);
            j->ready = NULL;
        }
        if (rin) {
            double tx = swacl_now();
            rm->x_in(rm, i);
            s->xfer_s += swacl_now() - tx;
        }
        if (st == SWACL_OK && marks) st = f->mark(be, &r->ev_a[(size_t)k * r->n_mb + i]);
        if (st == SWACL_OK && dev_in) {
            st = swacl_graph_x_copy(s->m, p->st[k - 1].m, rows, NULL);
            swacl_event *done = NULL;
            if (st == SWACL_OK) st = f->mark(be, &done);
            if (st == SWACL_OK) xfree_put(r, k - 1, done);
        } else if (st == SWACL_OK && (k > 0 || rin)) {
            st = swacl_graph_x_write(s->m, rows, j->x);
        }
        swacl_step step = {
            .B = j->nb, .T = r->T, .pos0 = j->pos0, .n_new = j->n_new, .ids = j->ids,
            .embeds = j->embeds, .kv = j->kv, .layer_begin = s->l0, .layer_end = s->l1,
            .all_positions = r->all_positions, .x_loaded = k > 0 || rin, .no_wait = dev_out,
        };
        if (st == SWACL_OK) st = swacl_graph_step(s->m, &step, head ? j->out : NULL);
        if (st == SWACL_OK && dev_out) st = f->mark(be, &j->ready);
        else if (st == SWACL_OK && (!last || rout)) st = swacl_graph_x_read(s->m, rows, j->x);
        if (st == SWACL_OK && rm && (rout || !rm->root) && (rout || head)) {
            double tx = swacl_now(); /* non-blocking: the next micro-batch overlaps it */
            if (rout) rm->x_out(rm, i, (size_t)rows * D);
            else rm->out_send(rm, i, (size_t)j->nb * (r->all_positions ? r->T : 1) * V);
            s->xfer_s += swacl_now() - tx;
        }
        if (st == SWACL_OK && marks) st = f->mark(be, &r->ev_b[(size_t)k * r->n_mb + i]);
        if (st == SWACL_OK && p->fail_stage == k + 1 && i == r->n_mb - 1)
            st = swacl_set_error(s->ctx, SWACL_INTERNAL, "injected failure (test hook)");
        if (!marks) s->busy_s += swacl_now() - t0;
        if (st != SWACL_OK) {
            fail_run(r, k, st);
            break;
        }
        if (!last && q_push(r, k + 1, mb) != 0) break;
        pthread_mutex_lock(&r->mu);
        int ab = r->abort;
        pthread_mutex_unlock(&r->mu);
        if (ab) break;
    }
    return NULL;
}

/* After the threads are joined: device busy time from the marks, then
 * every event released. A failed run first drains every queue. */
static void run_cleanup(run *r)
{
    swacl_pipeline *p = r->p;
    const int S = p->n_stages;
    if (r->abort)
        for (int k = 0; k < S; k++) p->st[k].m->be->iface->finish(p->st[k].m->be);
    for (int k = 0; k < S; k++) {
        swacl_backend *be = p->st[k].m->be;
        const struct swacl_backend_i *f = be->iface;
        if (!f->event_free) continue;
        for (int i = 0; i < r->n_mb; i++) {
            swacl_event **a = &r->ev_a[(size_t)k * r->n_mb + i], **b = &r->ev_b[(size_t)k * r->n_mb + i];
            if (*a && *b) {
                double t = f->elapsed(be, *a, *b);
                if (t > 0) p->st[k].busy_s += t;
            }
            f->event_free(*a);
            f->event_free(*b);
            *a = *b = NULL;
        }
        f->event_free(r->xfree[k]);
        r->xfree[k] = NULL;
    }
    for (int i = 0; i < r->n_mb; i++) {
        /* left by an aborted run; only OpenCL stages make ready events */
        for (int k = 0; k < S && r->jobs[i].ready; k++)
            if (p->st[k].m->be->iface->event_free) {
                p->st[k].m->be->iface->event_free(r->jobs[i].ready);
                r->jobs[i].ready = NULL;
            }
    }
}

swacl_status sched_run(swacl_pipeline *p, int T, int all_positions, sched_job *jobs, int n_mb)
{
    const int S = p->n_stages;
    run r;
    memset(&r, 0, sizeof r);
    r.p = p;
    r.T = T;
    r.all_positions = all_positions;
    r.n_mb = n_mb;
    r.jobs = jobs;
    r.q = calloc((size_t)S, sizeof *r.q);
    r.xfree = calloc((size_t)S, sizeof *r.xfree);
    r.xfree_seq = calloc((size_t)S, sizeof *r.xfree_seq);
    r.ev_a = calloc((size_t)S * n_mb, sizeof *r.ev_a);
    r.ev_b = calloc((size_t)S * n_mb, sizeof *r.ev_b);
    worker *w = calloc((size_t)S, sizeof *w);
    pthread_t *th = calloc((size_t)S, sizeof *th);
    int *started = calloc((size_t)S, sizeof *started);
    if (!r.q || !r.xfree || !r.xfree_seq || !r.ev_a || !r.ev_b || !w || !th || !started) {
        free(r.q), free(r.xfree), free(r.xfree_seq), free(r.ev_a), free(r.ev_b);
        free(w), free(th), free(started);
        return sched_fail(p, SWACL_OUT_OF_MEMORY, "out of host memory");
    }
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv, NULL);
    for (int k = 0; k < S; k++) w[k] = (worker){&r, k};
    sched_remote *rm = p->remote;
    if (rm && rm->fault_fail) p->fail_stage = 1; /* test hook: a device error on this process */
    if (rm)
        rm->run_begin(rm, T, all_positions, jobs, n_mb, (size_t)p->cfg.hidden_size,
                      (size_t)swacl_output_size(&p->cfg));
    for (int k = 1; k < S; k++) {
        if (pthread_create(&th[k], NULL, stage_main, &w[k]) != 0) {
            pthread_mutex_lock(&r.mu);
            if (!r.abort) {
                r.st = sched_fail(p, SWACL_INTERNAL, "cannot start the thread of stage %d", k);
                r.abort = 1;
            }
            pthread_cond_broadcast(&r.cv);
            pthread_mutex_unlock(&r.mu);
            break;
        }
        started[k] = 1;
    }
    if (!r.abort) stage_main(&w[0]);
    for (int k = 1; k < S; k++)
        if (started[k]) pthread_join(th[k], NULL);
    run_cleanup(&r);
    if (rm) { /* a failure anywhere ends the job on every process (sched.h) */
        double tx = swacl_now();
        rm->run_end(rm, r.st, swacl_ctx_errmsg(p->owner));
        p->st[S - 1].xfer_s += swacl_now() - tx;
    }
    pthread_cond_destroy(&r.cv);
    pthread_mutex_destroy(&r.mu);
    free(r.q), free(r.xfree), free(r.xfree_seq), free(r.ev_a), free(r.ev_b);
    free(w), free(th), free(started);
    return r.st;
}

/* Host staging for the host links, [bytes]: pinned memory of the first
 * OpenCL stage when there is one (kept and grown across calls), else malloc.
 * NULL when no link goes through the host. */
float *sched_staging(swacl_pipeline *p, size_t bytes, int *oom)
{
    *oom = 0;
    int host_links = p->remote && (!p->remote->first || !p->remote->last);
    for (int k = 1; k < p->n_stages; k++) host_links |= p->st[k].link_in != SCHED_LINK_DEVICE;
    if (!host_links) return NULL;
    if (bytes <= p->pin_bytes) return p->pin_ptr;
    if (p->pin) p->pin_be->iface->host_free(p->pin_be, p->pin);
    else free(p->pin_ptr);
    p->pin = NULL;
    p->pin_ptr = NULL;
    p->pin_be = NULL;
    p->pin_bytes = 0;
    for (int k = 0; k < p->n_stages && !p->pin; k++) {
        swacl_backend *be = p->st[k].m->be;
        void *ptr = NULL;
        /* a runtime without pinned memory just gets malloc below */
        if (be->iface->host_alloc && be->iface->host_alloc(be, bytes, &p->pin, &ptr) == SWACL_OK) {
            p->pin_be = be;
            p->pin_ptr = ptr;
        }
    }
    if (!p->pin) p->pin_ptr = malloc(bytes);
    if (!p->pin_ptr) {
        *oom = 1;
        return NULL;
    }
    p->pin_bytes = bytes;
    return p->pin_ptr;
}

swacl_status swacl_pipeline_forward(swacl_pipeline *p, const swacl_input *in, int all_positions,
                                    float *out)
{
    if (!p) return SWACL_INVALID_ARG;
    sched_clear_error(p);
    if (!out) return sched_fail(p, SWACL_INVALID_ARG, "output buffer is NULL");
    swacl_status st = sched_check_input(p, in);
    if (st != SWACL_OK) return st;
    const swacl_config *c = &p->cfg;
    if (p->remote && p->remote->root)
        p->remote->command(p->remote, c, &(sched_cmd){.op = SCHED_CMD_FORWARD, .B = in->batch, .T = in->seq,
                                                      .all_positions = all_positions, .ids = in->ids,
                                                      .embeds = in->embeds});
    const int B = in->batch, T = in->seq, D = c->hidden_size, V = swacl_output_size(c);
    const size_t din = c->vocab_size > 0 ? 0 : (size_t)c->input_dim;
    const int n_mb = sched_micro_batches(p, B);
    int *pos0 = calloc((size_t)B, sizeof *pos0), *n_new = malloc((size_t)B * sizeof *n_new);
    int oom = 0;
    float *x = sched_staging(p, (size_t)B * T * D * sizeof *x, &oom);
    sched_job *jobs = calloc((size_t)n_mb, sizeof *jobs);
    if (!pos0 || !n_new || !jobs || oom) {
        st = sched_fail(p, SWACL_OUT_OF_MEMORY, "out of host memory");
        goto done;
    }
    for (int b = 0; b < B; b++) n_new[b] = T;
    for (int i = 0; i < n_mb; i++) {
        sched_job *j = &jobs[i];
        j->b0 = (int)((int64_t)i * B / n_mb);
        j->nb = (int)((int64_t)(i + 1) * B / n_mb) - j->b0;
        j->pos0 = pos0 + j->b0;
        j->n_new = n_new + j->b0;
        j->ids = in->ids ? in->ids + (size_t)j->b0 * T : NULL;
        j->embeds = in->embeds && din ? in->embeds + (size_t)j->b0 * T * din : NULL;
        j->x = x ? x + (size_t)j->b0 * T * D : NULL;
        j->out = out + (size_t)j->b0 * (all_positions ? T : 1) * V;
    }
    st = sched_run(p, T, all_positions, jobs, n_mb);
done:
    free(pos0);
    free(n_new);
    free(jobs);
    return st;
}
