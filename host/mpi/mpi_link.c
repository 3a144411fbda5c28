/*
 * mpi_link.c - the sched_remote hooks over MPI (mpi_internal.h): rank 0's
 * announcements, the activation / output links of a run, the serve loop of
 * the other ranks, and the one way a failure ends the job (mpi_die).
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/env.h"
#include "mpi/mpi_internal.h"

#define TAG_X 0          /* + micro-batch: activations to the next rank     */
#define TAG_OUT 16384    /* + micro-batch: the last layer's output to rank 0 */
#define TAG_DESCRIBE 32000
#define MAX_SESSIONS 64  /* sessions open at once on one pipeline          */

_Noreturn void mpi_die(const mpi_link *l, const char *fmt, ...)
{
    char msg[SWACL_ERRMSG_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "swacl: rank %d (%s): %s; ending the job\n", l->rank, l->host, msg);
    fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);
    _exit(1); /* MPI_Abort does not return; if it did, still never hang */
}

static void nap(long ns)
{
    struct timespec ts = {0, ns};
    nanosleep(&ts, NULL);
}

void mpi_wait(mpi_link *l, MPI_Request *rq, double timeout, const char *what)
{
    const double t_end = swacl_now() + timeout;
    for (long n = 0;; n++) {
        int done = 0;
        pthread_mutex_lock(&l->mu);
        int rc = MPI_Test(rq, &done, MPI_STATUS_IGNORE);
        pthread_mutex_unlock(&l->mu);
        if (rc != MPI_SUCCESS) {
            char es[MPI_MAX_ERROR_STRING];
            int len = 0;
            MPI_Error_string(rc, es, &len);
            mpi_die(l, "MPI error while waiting for %s: %s", what, es);
        }
        if (done) return;
        if (timeout > 0 && swacl_now() > t_end)
            mpi_die(l, "no %s within %.0f s (that rank died, hung or failed; SWACL_MPI_TIMEOUT sets the limit)",
                    what, timeout);
        /* spin briefly (a micro-batch hand-off), then sleep: idle ranks leave
         * the cores to the ones computing */
        if (n > 200) nap(n > 20000 ? 1000000 : 20000);
    }
}

static void check(mpi_link *l, int rc, const char *what)
{
    if (rc == MPI_SUCCESS) return;
    char es[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, es, &len);
    mpi_die(l, "%s: %s", what, es);
}

/* ------------------------------------------------------------------------ */
/* Announcements (rank 0) and their payloads.                                */

enum { HDR_OP, HDR_HANDLE, HDR_B, HDR_T, HDR_ALL, HDR_CHUNK, HDR_N, HDR_FLAGS, HDR_LEN };
enum { HAS_N_NEW = 1, HAS_IDS = 2, HAS_EMBEDS = 4 };

static void bcast(mpi_link *l, void *buf, int count, MPI_Datatype type, double timeout, const char *what)
{
    MPI_Request rq;
    pthread_mutex_lock(&l->mu);
    int rc = MPI_Ibcast(buf, count, type, 0, l->cmd, &rq);
    pthread_mutex_unlock(&l->mu);
    check(l, rc, what);
    mpi_wait(l, &rq, timeout, what);
}

/* Payload sizes of a header; 0 where the count would not fit an int. */
static int payload(const int *h, const swacl_config *c, int *n_ids, int *n_emb)
{
    const long long bt = (long long)h[HDR_B] * h[HDR_T];
    const long long din = c->vocab_size > 0 ? 0 : c->input_dim;
    *n_ids = h[HDR_FLAGS] & HAS_IDS && bt > 0 && bt <= INT32_MAX ? (int)bt : 0;
    *n_emb = h[HDR_FLAGS] & HAS_EMBEDS && bt > 0 && bt * din <= INT32_MAX ? (int)(bt * din) : 0;
    return h[HDR_FLAGS] & HAS_N_NEW && h[HDR_B] > 0 ? h[HDR_B] : 0;
}

static void link_command(sched_remote *r, const swacl_config *c, const sched_cmd *cmd)
{
    mpi_link *l = r->user;
    int h[HDR_LEN] = {cmd->op, cmd->handle, cmd->B, cmd->T, cmd->all_positions, cmd->chunk, cmd->n, 0};
    h[HDR_FLAGS] = (cmd->n_new ? HAS_N_NEW : 0) | (cmd->ids ? HAS_IDS : 0) | (cmd->embeds ? HAS_EMBEDS : 0);
    int n_ids, n_emb, n_nn = payload(h, c, &n_ids, &n_emb);
    /* a payload too large to send goes as none: every rank then refuses
     * the call alike (its input check) */
    if ((h[HDR_FLAGS] & HAS_IDS && !n_ids) || (h[HDR_FLAGS] & HAS_EMBEDS && !n_emb)) h[HDR_FLAGS] = 0;
    bcast(l, h, HDR_LEN, MPI_INT, l->timeout, "the other ranks to take rank 0's call");
    if (n_nn && h[HDR_FLAGS] & HAS_N_NEW) bcast(l, (void *)cmd->n_new, n_nn, MPI_INT, l->timeout, "n_new");
    if (n_ids && h[HDR_FLAGS] & HAS_IDS) bcast(l, (void *)cmd->ids, n_ids, MPI_INT32_T, l->timeout, "token ids");
    if (n_emb && h[HDR_FLAGS] & HAS_EMBEDS) bcast(l, (void *)cmd->embeds, n_emb, MPI_FLOAT, l->timeout, "inputs");
}

/* ------------------------------------------------------------------------ */
/* The links of a run.                                                       */

static int count_of(mpi_link *l, size_t n)
{
    if (n > INT32_MAX) mpi_die(l, "a message of %zu floats is too large for one MPI transfer", n);
    return (int)n;
}

static void link_run_begin(sched_remote *r, int T, int all_positions, sched_job *jobs, int n_mb, size_t D,
                           size_t V)
{
    mpi_link *l = r->user;
    if (l->fault_kill == 1) raise(SIGKILL); /* test hooks: this rank dies / hangs mid-job */
    while (l->fault_kill == 2) nap(100000000);
    if (n_mb > l->cap) {
        MPI_Request *a = realloc(l->rx, (size_t)n_mb * sizeof *a);
        if (a) l->rx = a;
        MPI_Request *b = realloc(l->tx, (size_t)n_mb * sizeof *b);
        if (b) l->tx = b;
        MPI_Request *c = realloc(l->ro, (size_t)n_mb * sizeof *c);
        if (c) l->ro = c;
        if (!a || !b || !c) mpi_die(l, "out of host memory");
        l->cap = n_mb;
    }
    l->jobs = jobs;
    l->n_mb = n_mb;
    pthread_mutex_lock(&l->mu);
    l->active = 1;
    pthread_cond_broadcast(&l->cv);
    for (int i = 0; i < n_mb; i++) {
        const sched_job *j = &jobs[i];
        l->rx[i] = l->tx[i] = l->ro[i] = MPI_REQUEST_NULL;
        int rc = MPI_SUCCESS;
        if (l->prev >= 0)
            rc = MPI_Irecv(j->x, count_of(l, (size_t)j->nb * T * D), MPI_FLOAT, l->prev, TAG_X + i % 16384,
                           l->data, &l->rx[i]);
        if (rc == MPI_SUCCESS && r->root && l->last_rank != l->rank)
            rc = MPI_Irecv(j->out, count_of(l, (size_t)j->nb * (all_positions ? T : 1) * V), MPI_FLOAT,
                           l->last_rank, TAG_OUT + i % 16384, l->data, &l->ro[i]);
        if (rc != MPI_SUCCESS) {
            pthread_mutex_unlock(&l->mu);
            check(l, rc, "posting a receive");
        }
    }
    pthread_mutex_unlock(&l->mu);
}

static void link_x_in(sched_remote *r, int i)
{
    mpi_link *l = r->user;
    char what[64];
    snprintf(what, sizeof what, "activations from rank %d", l->prev);
    mpi_wait(l, &l->rx[i], l->timeout, what);
}

static void link_send(mpi_link *l, const float *buf, size_t n, int to, int tag, MPI_Request *rq)
{
    pthread_mutex_lock(&l->mu);
    int rc = MPI_Isend(buf, count_of(l, n), MPI_FLOAT, to, tag, l->data, rq);
    pthread_mutex_unlock(&l->mu);
    check(l, rc, "sending to another rank");
}

static void link_x_out(sched_remote *r, int i, size_t n)
{
    mpi_link *l = r->user;
    link_send(l, l->jobs[i].x, n, l->next, TAG_X + i % 16384, &l->tx[i]);
}

static void link_out_send(sched_remote *r, int i, size_t n)
{
    mpi_link *l = r->user;
    link_send(l, l->jobs[i].out, n, 0, TAG_OUT + i % 16384, &l->ro[i]);
}

static void link_run_end(sched_remote *r, swacl_status st, const char *msg)
{
    mpi_link *l = r->user;
    if (st != SWACL_OK) mpi_die(l, "%s", msg && *msg ? msg : swacl_status_string(st));
    char w1[64], w2[64];
    snprintf(w1, sizeof w1, "rank %d to take the activations", l->next);
    snprintf(w2, sizeof w2, r->root ? "the output from rank %d" : "rank 0 to take the output", l->last_rank);
    for (int i = 0; i < l->n_mb; i++) {
        mpi_wait(l, &l->tx[i], l->timeout, w1);
        mpi_wait(l, &l->ro[i], l->timeout, w2);
    }
    pthread_mutex_lock(&l->mu);
    l->active = 0;
    pthread_mutex_unlock(&l->mu);
    l->jobs = NULL;
}

/* ------------------------------------------------------------------------ */
/* describe: every rank's stages, on rank 0.                                 */

static int describe_here(mpi_link *l, const swacl_pipeline *p, swacl_pipeline_stage *st, int max)
{
    int n = sched_describe_local(p, st, max);
    for (int i = 0; i < n && i < max; i++) {
        char sel[sizeof st[i].selector];
        snprintf(sel, sizeof sel, "%s", st[i].selector);
        snprintf(st[i].selector, sizeof st[i].selector, "%d:%.50s", l->rank, sel);
        st[i].device = l->glob[st[i].device];
    }
    return n < max ? n : max;
}

static int by_layer(const void *a, const void *b)
{
    return ((const swacl_pipeline_stage *)a)->layer_begin - ((const swacl_pipeline_stage *)b)->layer_begin;
}

static int link_describe(sched_remote *r, const swacl_pipeline *p, swacl_pipeline_stage *stages, int max)
{
    mpi_link *l = r->user;
    link_command(r, &p->cfg, &(sched_cmd){.op = SCHED_CMD_DESCRIBE});
    swacl_pipeline_stage *all = calloc((size_t)SWACL_MAX_LAYERS, sizeof *all);
    if (!all) mpi_die(l, "out of host memory");
    int n = describe_here(l, p, all, SWACL_MAX_LAYERS);
    for (int q = 1; q < l->size; q++) {
        int cnt = 0;
        MPI_Request rq;
        pthread_mutex_lock(&l->mu);
        int rc = MPI_Irecv(&cnt, 1, MPI_INT, q, TAG_DESCRIBE, l->data, &rq);
        pthread_mutex_unlock(&l->mu);
        check(l, rc, "describe");
        mpi_wait(l, &rq, l->timeout, "the stages of another rank");
        if (cnt < 0 || cnt > SWACL_MAX_LAYERS - n) mpi_die(l, "rank %d reports %d stages", q, cnt);
        pthread_mutex_lock(&l->mu);
        rc = MPI_Irecv(all + n, cnt * (int)sizeof *all, MPI_BYTE, q, TAG_DESCRIBE, l->data, &rq);
        pthread_mutex_unlock(&l->mu);
        check(l, rc, "describe");
        mpi_wait(l, &rq, l->timeout, "the stages of another rank");
        n += cnt;
    }
    qsort(all, (size_t)n, sizeof *all, by_layer);
    memcpy(stages, all, (size_t)(n < max ? n : max) * sizeof *all);
    free(all);
    return n;
}

static void describe_send(mpi_link *l, const swacl_pipeline *p)
{
    swacl_pipeline_stage st[SWACL_MAX_LAYERS];
    int n = describe_here(l, p, st, SWACL_MAX_LAYERS);
    MPI_Request rq[2];
    pthread_mutex_lock(&l->mu);
    MPI_Isend(&n, 1, MPI_INT, 0, TAG_DESCRIBE, l->data, &rq[0]);
    MPI_Isend(st, n * (int)sizeof *st, MPI_BYTE, 0, TAG_DESCRIBE, l->data, &rq[1]);
    pthread_mutex_unlock(&l->mu);
    mpi_wait(l, &rq[0], l->timeout, "rank 0 to take the stages");
    mpi_wait(l, &rq[1], l->timeout, "rank 0 to take the stages");
}

/* ------------------------------------------------------------------------ */
/* The serve loop of ranks other than 0.                                     */

typedef struct {
    int handle;
    swacl_pipeline_session *s;
} served_session;

static swacl_pipeline_session **session_of(mpi_link *l, served_session *ss, int handle, int make)
{
    for (int i = 0; i < MAX_SESSIONS; i++)
        if (ss[i].s && ss[i].handle == handle) return &ss[i].s;
    if (make)
        for (int i = 0; i < MAX_SESSIONS; i++)
            if (!ss[i].s) {
                ss[i].handle = handle;
                return &ss[i].s;
            }
    if (make) mpi_die(l, "more than %d sessions open at once", MAX_SESSIONS);
    return NULL;
}

void mpi_serve(mpi_link *l, swacl_pipeline *p)
{
    const swacl_config *c = &p->cfg;
    served_session ss[MAX_SESSIONS];
    memset(ss, 0, sizeof ss);
    int32_t *ids = NULL;
    float *emb = NULL, *out = NULL;
    int *n_new = NULL;
    size_t out_cap = 0;
    for (;;) {
        int h[HDR_LEN];
        bcast(l, h, HDR_LEN, MPI_INT, 0, "rank 0's next call"); /* rank 0 may verify for long */
        int n_ids, n_emb, n_nn = payload(h, c, &n_ids, &n_emb);
        free(ids), free(emb), free(n_new);
        ids = n_ids ? malloc((size_t)n_ids * sizeof *ids) : NULL;
        emb = n_emb ? malloc((size_t)n_emb * sizeof *emb) : NULL;
        n_new = n_nn ? malloc((size_t)n_nn * sizeof *n_new) : NULL;
        if ((n_ids && !ids) || (n_emb && !emb) || (n_nn && !n_new)) mpi_die(l, "out of host memory");
        if (n_nn) bcast(l, n_new, n_nn, MPI_INT, l->timeout, "n_new from rank 0");
        if (n_ids) bcast(l, ids, n_ids, MPI_INT32_T, l->timeout, "token ids from rank 0");
        if (n_emb) bcast(l, emb, n_emb, MPI_FLOAT, l->timeout, "inputs from rank 0");
        const int B = h[HDR_B], T = h[HDR_T], op = h[HDR_OP];
        /* the output: only the rank of the last layer writes it (and sends it on) */
        size_t need = op == SCHED_CMD_FORWARD || op == SCHED_CMD_SESS_STEP || op == SCHED_CMD_SESS_PREFILL
                          ? (size_t)(B > 0 ? B : 1) * (h[HDR_ALL] && T > 0 ? (size_t)T : 1) *
                                (size_t)swacl_output_size(c)
                          : 0;
        if (need > out_cap) {
            free(out);
            if (!(out = malloc(need * sizeof *out))) mpi_die(l, "out of host memory (%zu floats)", need);
            out_cap = need;
        }
        swacl_input in = {.batch = B, .seq = T, .ids = ids, .embeds = emb};
        swacl_pipeline_session **s = NULL;
        /* A refused call (its input check) was refused on rank 0 too; any
         * failure inside a run has already ended the job (run_end). */
        switch (op) {
        case SCHED_CMD_FORWARD:
            swacl_pipeline_forward(p, &in, h[HDR_ALL], out);
            break;
        case SCHED_CMD_SESS_CREATE:
            s = session_of(l, ss, h[HDR_HANDLE], 1);
            if (swacl_pipeline_session_create(p, B, h[HDR_N], s) != SWACL_OK)
                mpi_die(l, "cannot open the session's KV cache of this rank's layers: %s",
                        swacl_ctx_errmsg(swacl_pipeline_ctx(p)));
            break;
        case SCHED_CMD_SESS_STEP:
            if ((s = session_of(l, ss, h[HDR_HANDLE], 0)))
                swacl_pipeline_session_step(*s, T, n_new, ids, emb, out);
            break;
        case SCHED_CMD_SESS_PREFILL:
            if ((s = session_of(l, ss, h[HDR_HANDLE], 0))) swacl_pipeline_session_prefill(*s, &in, h[HDR_CHUNK], out);
            break;
        case SCHED_CMD_SESS_DESTROY:
            if ((s = session_of(l, ss, h[HDR_HANDLE], 0))) {
                swacl_pipeline_session_destroy(*s);
                *s = NULL;
            }
            break;
        case SCHED_CMD_MICRO_BATCHES:
            swacl_pipeline_set_micro_batches(p, h[HDR_N]);
            break;
        case SCHED_CMD_DESCRIBE:
            describe_send(l, p);
            break;
        case SCHED_CMD_DESTROY:
            for (int i = 0; i < MAX_SESSIONS; i++) swacl_pipeline_session_destroy(ss[i].s);
            free(ids), free(emb), free(n_new), free(out);
            swacl_pipeline_destroy(p); /* and l, through p->remote */
            return;
        default:
            mpi_die(l, "unknown call %d from rank 0", op);
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Create / destroy.                                                         */

static void link_destroy_hook(sched_remote *r) { mpi_link_destroy(r->user); }

static void *progress_main(void *arg)
{
    mpi_link *l = arg;
    pthread_mutex_lock(&l->mu);
    while (!l->quit) {
        if (!l->active) {
            pthread_cond_wait(&l->cv, &l->mu);
            continue;
        }
        int flag = 0;
        MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, l->data, &flag, MPI_STATUS_IGNORE); /* drives progress */
        pthread_mutex_unlock(&l->mu);
        nap(100000);
        pthread_mutex_lock(&l->mu);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

mpi_link *mpi_link_create(char *err, size_t len)
{
    mpi_link *l = calloc(1, sizeof *l);
    if (!l) {
        snprintf(err, len, "out of host memory");
        return NULL;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &l->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &l->size);
    int hl = 0;
    MPI_Get_processor_name(l->host, &hl);
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    if (MPI_Comm_dup(MPI_COMM_WORLD, &l->data) != MPI_SUCCESS || MPI_Comm_dup(MPI_COMM_WORLD, &l->cmd) != MPI_SUCCESS) {
        snprintf(err, len, "MPI_Comm_dup failed");
        free(l);
        return NULL;
    }
    MPI_Comm_set_errhandler(l->data, MPI_ERRORS_RETURN);
    MPI_Comm_set_errhandler(l->cmd, MPI_ERRORS_RETURN);
    const char *t = swacl_env(SWACL_ENV_MPI_TIMEOUT);
    l->timeout = t && atof(t) > 0 ? atof(t) : 120.0;
    const char *f = swacl_env(SWACL_ENV_MPI_FAULT);
    int fr = -1;
    if (f && !strncmp(f, "kill:", 5) && (fr = atoi(f + 5)) == l->rank) l->fault_kill = 1;
    if (f && !strncmp(f, "hang:", 5) && (fr = atoi(f + 5)) == l->rank) l->fault_kill = 2;
    if (f && !strncmp(f, "fail:", 5) && (fr = atoi(f + 5)) == l->rank) l->rm.fault_fail = 1;
    l->prev = l->next = -1;
    l->rm = (sched_remote){
        .user = l, .rank = l->rank, .root = l->rank == 0, .fault_fail = l->rm.fault_fail,
        .command = link_command, .run_begin = link_run_begin, .x_in = link_x_in, .x_out = link_x_out,
        .out_send = link_out_send, .run_end = link_run_end, .describe = link_describe,
        .destroy = link_destroy_hook,
    };
    int level = 0;
    MPI_Query_thread(&level);
    /* the thread needs MPI_THREAD_MULTIPLE; without it transfers progress
     * only in the stage threads' own calls */
    l->started = level == MPI_THREAD_MULTIPLE && pthread_create(&l->progress, NULL, progress_main, l) == 0;
    return l;
}

void mpi_link_destroy(mpi_link *l)
{
    if (!l) return;
    if (l->started) {
        pthread_mutex_lock(&l->mu);
        l->quit = 1;
        pthread_cond_broadcast(&l->cv);
        pthread_mutex_unlock(&l->mu);
        pthread_join(l->progress, NULL);
    }
    pthread_cond_destroy(&l->cv);
    MPI_Comm_free(&l->data);
    MPI_Comm_free(&l->cmd);
    pthread_mutex_destroy(&l->mu);
    free(l->glob);
    free(l->rx), free(l->tx), free(l->ro);
    free(l);
}
