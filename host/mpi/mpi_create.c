/*
 * mpi_create.c - building a pipeline over MPI ranks (swacl_mpi.h): the
 * device list over ranks, placement over every rank's devices (a SPEC, or
 * `auto`: each rank calibrates its own devices, the MPI hop is timed, and
 * every rank runs the same balanced split on the gathered costs), then each
 * rank builds its part (its layers only, on its devices) with the core's
 * swacl_pipeline_create_ex and attaches the MPI link (mpi_link.c).
 *
 * Every step that can fail on one rank ends in an agreement (allreduce), so
 * all ranks fail together with the failing rank's message, or go on.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/env.h"
#include "mpi/mpi_internal.h"
#include "swacl_mpi.h"

#define MAX_DEV 64

typedef struct {
    int rank;
    char sel[64];
} rdev;

/* "0:0.0,1:0.1" (or a list without ranks: every rank those devices). */
static int parse_ranked(const char *devices, int size, rdev *d, int *n, char *err, size_t len)
{
    rdev item[MAX_DEV];
    int m = 0, ranked = 0, plain = 0;
    for (const char *p = devices; p && *p && m < MAX_DEV;) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        while (l && isspace((unsigned char)*p)) p++, l--;
        while (l && isspace((unsigned char)p[l - 1])) l--;
        char s[128];
        if (!l || l >= sizeof s) return snprintf(err, len, "--devices '%s': item %d is %s", devices, m + 1,
                                                 l ? "too long" : "empty"), -1;
        memcpy(s, p, l);
        s[l] = 0;
        char *c = strchr(s, ':');
        item[m].rank = -1;
        if (c) {
            *c = 0;
            char *end = NULL;
            long r = strtol(s, &end, 10);
            if (!*s || *end || r < 0 || r >= size)
                return snprintf(err, len, "--devices '%s': '%s' is not a rank of this job (0-%d)", devices, s,
                                size - 1), -1;
            item[m].rank = (int)r;
            snprintf(item[m].sel, sizeof item[m].sel, "%.63s", c + 1);
            ranked = 1;
        } else {
            snprintf(item[m].sel, sizeof item[m].sel, "%.63s", s);
            plain = 1;
        }
        m++;
        p = e ? e + 1 : NULL;
    }
    if (ranked && plain)
        return snprintf(err, len, "--devices '%s': give every entry a rank (RANK:SELECTOR) or none", devices), -1;
    *n = 0;
    if (plain) { /* every rank the same list, in rank order */
        if ((long)m * size > MAX_DEV) return snprintf(err, len, "--devices: more than %d devices", MAX_DEV), -1;
        for (int r = 0; r < size; r++)
            for (int i = 0; i < m; i++) d[(*n)++] = (rdev){.rank = r}, snprintf(d[*n - 1].sel, 64, "%s", item[i].sel);
    } else {
        memcpy(d, item, (size_t)m * sizeof *d);
        *n = m;
    }
    /* each rank's entries together, every rank present */
    for (int r = 0; r < size; r++) {
        int first = -1, last = -1;
        for (int i = 0; i < *n; i++)
            if (d[i].rank == r) last = i, first = first < 0 ? i : first;
        if (first < 0) return snprintf(err, len, "--devices '%s': rank %d has no device", devices, r), -1;
        for (int i = first; i <= last; i++)
            if (d[i].rank != r)
                return snprintf(err, len, "--devices '%s': list the devices of rank %d together", devices, r), -1;
    }
    return 0;
}

/* The gathered cost of the split (placement `auto`). */
typedef struct {
    double window_s, global_s, xfer_host_s, hop_s;
} dev_cost;

static int fit_any(int dev, int l0, int l1, void *user)
{
    (void)dev, (void)l0, (void)l1, (void)user;
    return 1; /* each rank's part checks its own memory when it is built */
}

/* Seconds of one x [seq, D] hop to rank `to` (ping-pong, best of 3);
 * the peer answers. */
static double hop_time(mpi_link *l, int peer, int lead, size_t n)
{
    float *buf = calloc(n, sizeof *buf);
    if (!buf) mpi_die(l, "out of host memory");
    double best = 1e9;
    for (int it = 0; it < 4; it++) {
        double t0 = swacl_now();
        if (lead) {
            MPI_Send(buf, (int)n, MPI_FLOAT, peer, 1, l->data);
            MPI_Recv(buf, (int)n, MPI_FLOAT, peer, 1, l->data, MPI_STATUS_IGNORE);
        } else {
            MPI_Recv(buf, (int)n, MPI_FLOAT, peer, 1, l->data, MPI_STATUS_IGNORE);
            MPI_Send(buf, (int)n, MPI_FLOAT, peer, 1, l->data);
        }
        double t = (swacl_now() - t0) / 2;
        if (it && t < best) best = t; /* the first is the warm-up */
    }
    free(buf);
    return best;
}

/* placement `auto` over the whole list: dev_of_layer[L] on every rank. */
static int place_auto(mpi_link *l, swacl_ctx *ctx, const swacl_config *cfg, const rdev *d, int n,
                      int *dev_of_layer, char *err, size_t len)
{
    const int L = cfg->n_layers, seq = 64;
    dev_cost *mine = calloc((size_t)n, sizeof *mine), *all = calloc((size_t)n, sizeof *all);
    double *cost = malloc((size_t)n * (L + 2) * sizeof *cost);
    if (!mine || !all || !cost) mpi_die(l, "out of host memory");
    char cache[4096];
    sched_cache_dir(swacl_ctx_params_of(ctx), cache, sizeof cache);
    int bad = 0;
    for (int k = 0; k < n && !bad; k++) {
        if (d[k].rank != l->rank) continue;
        swacl_ctx_params cp = *swacl_ctx_params_of(ctx);
        cp.device = d[k].sel;
        swacl_ctx *dc = NULL;
        sched_calib cal;
        memset(&cal, 0, sizeof cal);
        int cached = 0;
        swacl_status st = swacl_ctx_create(&cp, &dc);
        if (st == SWACL_OK) st = sched_calibrate(dc, cfg, cache, seq, &cal, &cached);
        if (st != SWACL_OK) {
            snprintf(err, len, "rank %d: calibrating device '%s': %s", l->rank, d[k].sel,
                     dc ? swacl_ctx_errmsg(dc) : swacl_status_string(st));
            bad = 1;
        }
        swacl_ctx_destroy(dc);
        mine[k] = (dev_cost){cal.window_s, cal.global_s, cal.xfer_host_s, 0};
    }
    /* the hop into each rank's first device from the rank listed before it */
    for (int k = 1; k < n; k++) {
        if (d[k].rank == d[k - 1].rank) continue;
        if (l->rank == d[k - 1].rank) hop_time(l, d[k].rank, 1, (size_t)seq * cfg->hidden_size);
        if (l->rank == d[k].rank) mine[k].hop_s = hop_time(l, d[k - 1].rank, 0, (size_t)seq * cfg->hidden_size);
        if (swacl_ctx_params_of(ctx)->verbose) { /* the hop of a 1024-row micro-batch, for the record */
            const size_t big = (size_t)1024 * cfg->hidden_size;
            if (l->rank == d[k - 1].rank) hop_time(l, d[k].rank, 1, big);
            if (l->rank == d[k].rank)
                fprintf(stderr, "swacl: mpi: hop rank %d -> %d: %d rows (%zu KiB) %.3f ms, 1024 rows (%zu KiB) "
                        "%.3f ms\n", d[k - 1].rank, d[k].rank, seq, (size_t)seq * cfg->hidden_size * 4 / 1024,
                        mine[k].hop_s * 1e3, big * 4 / 1024, hop_time(l, d[k - 1].rank, 0, big) * 1e3);
        }
    }
    int any = 0;
    MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, l->data);
    if (!any) {
        /* each device's entry is filled on its own rank only: a sum gathers them */
        MPI_Allreduce(mine, all, n * 4, MPI_DOUBLE, MPI_SUM, l->data);
        double *lc = cost, *t_in = cost + (size_t)n * L, *t_out = t_in + n;
        for (int k = 0; k < n; k++) {
            for (int q = 0; q < L; q++)
                lc[(size_t)k * L + q] = cfg->layers[q].span == SWACL_SPAN_GLOBAL ? all[k].global_s : all[k].window_s;
            /* via the host on both sides, plus the MPI hop between ranks */
            t_in[k] = 0.5 * all[k].xfer_host_s + all[k].hop_s;
            t_out[k] = 0.5 * all[k].xfer_host_s;
            if (l->rank == 0 && swacl_ctx_params_of(ctx)->verbose)
                fprintf(stderr, "swacl: mpi: device %d (%d:%s): window layer %.3f ms, global layer %.3f ms, "
                        "x in %.3f ms (MPI hop %.3f ms)\n", k, d[k].rank, d[k].sel, all[k].window_s * 1e3,
                        all[k].global_s * 1e3, t_in[k] * 1e3, all[k].hop_s * 1e3);
        }
        if (sched_split_ex(n, L, lc, t_in, t_out, fit_any, NULL, 1, dev_of_layer) != 0) {
            snprintf(err, len, "no placement of the %d layers over the %d devices", L, n);
            any = 1;
        }
    } else if (!bad) {
        snprintf(err, len, "another rank failed to calibrate its devices (its message above)");
    }
    free(mine), free(all), free(cost);
    return any ? -1 : 0;
}

/* Agree: 0 when no rank failed; else this rank's message stays in err (or
 * names the failure elsewhere). */
static int agree(mpi_link *l, int bad, char *err, size_t len)
{
    int any = 0;
    MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, l->data);
    if (any && !bad) snprintf(err, len, "another rank failed building the pipeline (its message above)");
    return any;
}

swacl_status swacl_mpi_pipeline_create(swacl_ctx *ctx, const char *devices, const char *placement,
                                       const swacl_config *cfg, const swacl_weights *weights,
                                       swacl_pipeline **out)
{
    int init = 0, size = 1;
    MPI_Initialized(&init);
    if (init) MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (!init || !ctx || !out || !cfg || !devices || (size == 1 && !strchr(devices, ':')))
        return swacl_pipeline_create(ctx, devices, placement, cfg, weights, out);
    *out = NULL;
    char err[1024] = "";
    mpi_link *l = mpi_link_create(err, sizeof err);
    if (!l) return swacl_set_error(ctx, SWACL_INTERNAL, "MPI: %s", err);
    rdev d[MAX_DEV];
    int n = 0, bad = 0;
    const int L = cfg->n_layers;
    int *dol = calloc((size_t)(L > 0 ? L : 1), sizeof *dol), *loc = calloc((size_t)(L > 0 ? L : 1), sizeof *loc);
    swacl_pipeline *p = NULL;
    swacl_status st = SWACL_OK;
    if (!dol || !loc) mpi_die(l, "out of host memory");
    bad = parse_ranked(devices, size, d, &n, err, sizeof err) != 0;
    /* the split: a SPEC over the whole list, or measured */
    const int is_auto = !placement || !*placement || !strcasecmp(placement, "auto");
    if (!bad && !is_auto && sched_parse_spec(placement, L, n, dol, err, sizeof err) != SWACL_OK) bad = 1;
    if (agree(l, bad, err, sizeof err)) goto fail;
    if (is_auto && place_auto(l, ctx, cfg, d, n, dol, err, sizeof err) != 0) goto fail;
    /* this rank's layers: one contiguous range, and a part on every rank */
    int lo = -1, hi = -1, first_k = -1, nloc = 0;
    char local[4096] = "";
    l->glob = calloc((size_t)n, sizeof *l->glob);
    if (!l->glob) mpi_die(l, "out of host memory");
    for (int k = 0; k < n; k++)
        if (d[k].rank == l->rank) {
            if (first_k < 0) first_k = k;
            l->glob[nloc++] = k;
            size_t u = strlen(local);
            snprintf(local + u, sizeof local - u, "%s%s", u ? "," : "", d[k].sel);
        }
    for (int q = 0; q < L; q++)
        if (d[dol[q]].rank == l->rank) {
            if (lo < 0) lo = q;
            else if (hi != q) bad = 1;
            hi = q + 1;
            loc[q] = dol[q] - first_k;
        }
    if (lo < 0) snprintf(err, sizeof err, "rank %d got no layers (placement %s): give it fewer devices or a SPEC",
                         l->rank, placement ? placement : "auto"), bad = 1;
    else if (bad) snprintf(err, sizeof err, "rank %d's layers are not one contiguous range (placement %s)", l->rank,
                           placement ? placement : "auto");
    if (agree(l, bad, err, sizeof err)) goto fail;
    l->prev = lo > 0 ? d[dol[lo - 1]].rank : -1;
    l->next = hi < L ? d[dol[hi]].rank : -1;
    l->last_rank = d[dol[L - 1]].rank;
    l->rm.first = lo == 0;
    l->rm.last = hi == L;
    swacl_sched_opts o = {.layer_begin = lo, .layer_end = hi, .dev_of_layer = loc};
    st = swacl_pipeline_create_ex(ctx, local, NULL, cfg, weights, &o, &p);
    if (st != SWACL_OK) snprintf(err, sizeof err, "rank %d (devices %.200s, layers %d-%d): %s", l->rank, local, lo,
                                 hi - 1, swacl_ctx_errmsg(ctx));
    if (agree(l, st != SWACL_OK, err, sizeof err)) goto fail;
    p->remote = &l->rm;
    free(dol), free(loc);
    if (l->rank == 0) {
        *out = p;
        return SWACL_OK;
    }
    mpi_serve(l, p); /* until rank 0 destroys the pipeline (p and l are gone) */
    MPI_Finalize();
    exit(0);
fail:
    swacl_pipeline_destroy(p);
    free(dol), free(loc);
    mpi_link_destroy(l);
    return swacl_set_error(ctx, st != SWACL_OK ? st : SWACL_INVALID_ARG, "%s", err);
}

int swacl_mpi_size(void)
{
    int init = 0, size = 1;
    MPI_Initialized(&init);
    if (init) MPI_Comm_size(MPI_COMM_WORLD, &size);
    return size;
}

int swacl_mpi_main(int argc, char **argv, int (*fn)(int, char **))
{
    /* not under a launcher: no MPI (a singleton MPI_Init costs ~1 s) */
    if (!swacl_env(SWACL_ENV_OMPI_SIZE) && !swacl_env(SWACL_ENV_PMI_SIZE) && !swacl_env(SWACL_ENV_PMIX_RANK))
        return fn(argc, argv);
    int provided = 0;
    if (MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "swacl: MPI_Init_thread failed\n");
        return 1;
    }
    if (provided < MPI_THREAD_SERIALIZED) { /* stage threads call MPI, one at a time */
        fprintf(stderr, "swacl: this MPI gives thread level %d, below MPI_THREAD_SERIALIZED\n", provided);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    int rc = fn(argc, argv);
    int size = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (size > 1 && rc != 0) {
        /* rank 0 (or any rank) failed before or without a pipeline: the
         * others may be waiting in one; end them, never a hang */
        int rank = 0;
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
        fflush(stdout);
        fprintf(stderr, "swacl: rank %d exits with status %d; ending the job\n", rank, rc);
        MPI_Abort(MPI_COMM_WORLD, rc);
    }
    MPI_Finalize();
    return rc;
}
