/*
 * tune_own.c - swacl_tune_own: search the own prefill GEMM's parameters
 * (swacl_gemm_params, host/cl/cl_params.h) for one device (see swacl.h).
 *
 * Steps:
 *   1. a context on the device (its backend's swacl_gemm_params are set per
 *      candidate, starting from the table row, not from an earlier tune
 *      file) and one on the CPU reference; per shape the matmul op case
 *      (host/ops) with f32 and f16 weights, its buffers on the device and
 *      its reference output (computed once);
 *   2. candidates, each checked before it is timed: on every timed shape
 *      (y filled with NaN first, so a kernel that writes nothing fails) and
 *      on two odd shapes with bias and accumulate (f32 and q4_0), against
 *      the reference with the op tables' tolerance scaled by sqrt(K); wrong
 *      or failing (build error, launch error) = rejected. Scored by the
 *      aggregate GFLOP/s over the shapes with f32 weights (the packing cost
 *      of the other types does not depend on the shape of the kernel).
 *      CPU-like devices: mk (gemm.cl) by coordinate descent from the row,
 *      mr, then kc, lx (lm only in the quick search). GPUs: the
 *      lm tiles that fit first, then mk. Then (not quick) mc per M class:
 *      the M blocks and the M from which they apply (search_mc; default
 *      shapes at M 512, 2048 and 8192, the last timed but not checked:
 *      CHECK_MAX_M). budget_s stops new candidates.
 *   3. the winner, CLBlast (the table's CLBlast path) and the table's own
 *      choice on every shape with f32 and f16 weights, and OpenBLAS sgemm;
 *      own_f32 / own_packed / min_mnk minimise the summed log time ratio
 *      to the best path per shape (CLBlast stays where it is faster);
 *   4. saved when the tuned choice beats the table (geometric mean).
 * Timing: best of repeats of launch + finish (the machine may be shared).
 */
#include <cblas.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl/cl_tune_own.h"
#include "ops/op_cases.h"
#include "tune/tune_own.h"

#define MAX_CANDS 64
#define N_ODD 2
/* shapes above this M are timed, not checked: the host reference would
 * take minutes at 8192 rows, and every candidate is checked on the 512 /
 * 2048-row shapes (2048 > any mc tried: the M blocks are exercised) and
 * the odd shapes */
#define CHECK_MAX_M 2048

typedef struct {
    swacl_op_case c;
    swacl_op_bufs *b;
    float *ref;
} ocase;

typedef struct {
    swacl_ctx *ctx; /* the caller's: errors                                */
    swacl_ctx *dctx, *rctx;
    const swacl_tune_own_params *p;
    swacl_gemm_params *gp, table;
    const swacl_cl_dev *dev;
    int ns;
    tshape sh[SWACL_TUNE_MAX_SHAPES];
    ocase f32[SWACL_TUNE_MAX_SHAPES], f16[SWACL_TUNE_MAX_SHAPES], odd[N_ODD];
    float *host;   /* output scratch, largest shape                        */
    double min_s;  /* timing per shape and path                            */
    cJSON *cands;  /* the candidates' verdicts                              */
    int tried, rejected;
} otune;

static void note(const otune *t, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void note(const otune *t, const char *fmt, ...)
{
    if (!t->p->progress) return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    t->p->progress(t->p->user, line);
}

static void desc(const swacl_gemm_params *g, char *buf, size_t len)
{
    if (g->kern == SWACL_GEMM_KERN_LM)
        snprintf(buf, len, "lm ts=%d wpt=%d%s", g->lm_ts, g->lm_wpt,
                 g->test_drop_k ? " (broken on purpose)" : "");
    else
        snprintf(buf, len, "mk mr=%d lx=%d kc=%d mc=%d (M >= %d)", g->mr, g->lx, g->kc, g->mc,
                 g->mc_min_m);
}

/* The op tables' matmul tolerance (TOL_MATMUL at K <= 256), atol scaled by
 * sqrt(K / 256) as TOL_MATMUL_LONG / _4K are. */
static void case_init(swacl_op_case *c, const char *label, int M, int N, int K, int bias_acc,
                      swacl_wtype wt)
{
    memset(c, 0, sizeof *c);
    c->op = SWACL_OP_MATMUL;
    c->label = label;
    c->use = SWACL_OPC_BENCH;
    c->atol = 3e-5 * sqrt(K > 256 ? K / 256.0 : 1.0);
    c->rtol = 1e-5;
    c->nmse = 1e-10;
    c->mm = (swacl_opc_matmul){.M = M, .N = N, .K = K, .bias = bias_acc, .accumulate = bias_acc, .wt = wt};
}

static int passes(const ocase *o, const float *got, char *why, size_t len)
{
    if (!o->ref) return 1; /* a timing-only shape (M > CHECK_MAX_M) */
    size_t n = swacl_op_output_size(&o->c);
    swacl_compare_result r = swacl_compare(got, o->ref, n, o->c.atol, o->c.rtol);
    if (r.nonfinite == 0 && r.n_bad == 0 && r.nmse <= o->c.nmse) return 1;
    snprintf(why, len, "wrong result at %dx%dx%d %s: %zu non-finite, %zu of %zu over tolerance, "
             "max abs err %.3g",
             o->c.mm.M, o->c.mm.N, o->c.mm.K, o->c.mm.wt == SWACL_WT_F32 ? "f32" : "packed",
             r.nonfinite, r.n_bad, n, r.max_abs_err);
    return 0;
}

/* Check (NaN-filled y) then time one case under the backend's current gp.
 * 0 ok (*sec best seconds), -1 wrong / failing (why). */
static int run_case(otune *t, ocase *o, double *sec, char *why, size_t len)
{
    const size_t n = swacl_op_output_size(&o->c);
    for (size_t i = 0; i < n; i++) t->host[i] = NAN;
    swacl_status st = swacl_op_output_io(t->dctx, &o->c, o->b, t->host, 1);
    if (st == SWACL_OK) st = swacl_op_launch(t->dctx, &o->c, o->b);
    if (st == SWACL_OK) st = swacl_op_output_io(t->dctx, &o->c, o->b, t->host, 0);
    if (st != SWACL_OK) {
        snprintf(why, len, "failed: %.400s", swacl_ctx_errmsg(t->dctx));
        return -1;
    }
    if (!passes(o, t->host, why, len)) return -1;
    double best = INFINITY, total = 0;
    for (int r = 0; r < 20 && (r < 2 || total < t->min_s); r++) {
        double t0 = swacl_now();
        st = swacl_op_launch(t->dctx, &o->c, o->b);
        if (st == SWACL_OK) st = t->dctx->be->iface->finish(t->dctx->be);
        if (st != SWACL_OK) {
            snprintf(why, len, "failed: %.400s", swacl_ctx_errmsg(t->dctx));
            return -1;
        }
        double dt = swacl_now() - t0;
        total += dt;
        best = dt < best ? dt : best;
    }
    *sec = best;
    return 0;
}

/* The odd shapes, fresh buffers (bias + accumulate onto the seeded y). */
static int check_odd(otune *t, char *why, size_t len)
{
    for (int i = 0; i < N_ODD; i++) {
        float *got = NULL;
        if (swacl_op_exec(t->dctx, &t->odd[i].c, &got) != SWACL_OK) {
            snprintf(why, len, "failed on check shape: %.400s", swacl_ctx_errmsg(t->dctx));
            return -1;
        }
        int ok = passes(&t->odd[i], got, why, len);
        free(got);
        if (!ok) return -1;
    }
    return 0;
}

/* gp = g on the backend with the own kernel forced (own 1: every class to
 * the own kernel; 0: every class to CLBlast). */
static void set_gp(otune *t, const swacl_gemm_params *g, int own)
{
    *t->gp = *g;
    t->gp->own_f32 = t->gp->own_packed = own;
    t->gp->min_mnk = 0;
}

/* One candidate on the f32 shapes; its aggregate GFLOP/s or 0 (rejected),
 * recorded in t->cands. */
static double eval(otune *t, const swacl_gemm_params *g, double *sec)
{
    char d[96], why[600] = "";
    desc(g, d, sizeof d);
    set_gp(t, g, 1);
    t->tried++;
    double fl = 0, tm = 0;
    int rc = check_odd(t, why, sizeof why);
    for (int i = 0; rc == 0 && i < t->ns; i++) {
        rc = run_case(t, &t->f32[i], &sec[i], why, sizeof why);
        fl += 2.0 * t->sh[i].M * t->sh[i].N * (double)t->sh[i].K;
        tm += sec[i];
    }
    double g_agg = rc == 0 && tm > 0 ? fl / tm / 1e9 : 0;
    t->rejected += rc != 0;
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "candidate", d);
    cJSON_AddStringToObject(e, "verdict", rc == 0 ? "ok" : why);
    cJSON_AddNumberToObject(e, "gflops", g_agg);
    cJSON_AddItemToArray(t->cands, e);
    if (rc == 0)
        note(t, "tune: [own %2d] %s: %.1f GFLOP/s (aggregate, f32)", t->tried, d, g_agg);
    else
        note(t, "tune: [own %2d] %s: REJECTED %s", t->tried, d, why);
    return g_agg;
}

/* ---- the search ---------------------------------------------------------- */

typedef struct {
    swacl_gemm_params best;
    double score, t0;
    int have;
} osearch;

static int out_of_time(const otune *t, const osearch *s)
{
    return s->have && swacl_now() - s->t0 > t->p->budget_s;
}

static void try_cand(otune *t, osearch *s, const swacl_gemm_params *g, double *sec)
{
    if (out_of_time(t, s)) return;
    double v = eval(t, g, sec);
    if (v > s->score) {
        s->score = v;
        s->best = *g;
        s->have = 1;
    }
}

static const int k_mcs[] = {0, 256, 512, 1024};
#define N_MCS 4

/* mk by coordinate descent from the row (mr, kc, mc, lx), each value once;
 * mc is then re-picked per M class (search_mc) */
static void search_mk(otune *t, osearch *s, double *sec)
{
    static const int mrs[] = {4, 6, 8, 10, 12}, kcs[] = {128, 256, 512, 0},
                     *mcs = k_mcs, lxs[] = {1, 2, 4, 8};
    swacl_gemm_params base = t->table;
    base.kern = SWACL_GEMM_KERN_MK;
    base.test_drop_k = 0;
    const size_t mwg = t->dev->info.max_work_group_size;
    if (t->p->quick) { /* the row and one other mr */
        try_cand(t, s, &base, sec);
        base.mr = base.mr == 8 ? 6 : 8;
        try_cand(t, s, &base, sec);
        return;
    }
    try_cand(t, s, &base, sec);
    for (int phase = 0; phase < 4; phase++) {
        if (phase == 2) continue; /* mc: search_mc, per M class */
        const int *v = phase == 0 ? mrs : phase == 1 ? kcs : phase == 2 ? mcs : lxs;
        const int nv = phase == 0 ? 5 : 4;
        swacl_gemm_params cur = s->have && s->best.kern == SWACL_GEMM_KERN_MK ? s->best : base;
        for (int i = 0; i < nv; i++) {
            swacl_gemm_params g = cur;
            int *f = phase == 0 ? &g.mr : phase == 1 ? &g.kc : phase == 2 ? &g.mc : &g.lx;
            if (*f == v[i] || (phase == 3 && mwg && (size_t)v[i] > mwg)) continue;
            *f = v[i];
            try_cand(t, s, &g, sec);
        }
    }
}

int swacl_tune_pick_mc(int n_m, const int *ms, int n_mc, const int *mcs, const double *tm,
                       int *mc, int *mc_min_m)
{
    double best_cost = INFINITY;
    int found = 0;
    for (int v = 0; v < n_mc; v++) /* mc 0: no blocks at any M */
        for (int c = -1; c < n_m && (c < 0 || mcs[v] > 0); c++) {
            /* threshold: 0 (any M) or class c's M */
            const int T = c < 0 ? 0 : ms[c];
            double cost = 0;
            for (int i = 0; i < n_m; i++) {
                double m = INFINITY, ch = INFINITY;
                for (int u = 0; u < n_mc; u++) {
                    const double x = tm[(size_t)i * n_mc + u];
                    m = fmin(m, x);
                    if (ms[i] >= T && mcs[v] > 0 ? u == v : mcs[u] <= 0) ch = x;
                }
                cost += isfinite(ch) && isfinite(m) && m > 0 ? log(ch / m) : 1e9;
            }
            if (cost < best_cost - 1e-9) {
                best_cost = cost;
                *mc = mcs[v] > 0 ? mcs[v] : 0;
                *mc_min_m = mcs[v] > 0 ? T : 0;
                found = 1;
            }
        }
    return found ? 0 : -1;
}

/* mc and mc_min_m per M class: the shapes of each M timed under each mc of
 * k_mcs (the rest of the winner fixed), summed per class; one aggregate
 * over all shapes let the 512 / 2048-row classes (where mc hardly matters)
 * pick mc 0 and undo the blocks 8192 rows need (0.4x vs 0.6-0.8x BLAS) */
static void search_mc(otune *t, osearch *s, double *sec)
{
    if (!s->have || s->best.kern != SWACL_GEMM_KERN_MK) return;
    int ms[SWACL_TUNE_MAX_SHAPES], n_m = 0;
    for (int i = 0; i < t->ns; i++) {
        int k = 0;
        while (k < n_m && ms[k] != t->sh[i].M) k++;
        if (k == n_m) ms[n_m++] = t->sh[i].M;
    }
    for (int a = 1; a < n_m; a++) /* ascending */
        for (int b = a; b > 0 && ms[b - 1] > ms[b]; b--) {
            int x = ms[b];
            ms[b] = ms[b - 1];
            ms[b - 1] = x;
        }
    double tm[SWACL_TUNE_MAX_SHAPES * N_MCS];
    for (int v = 0; v < N_MCS; v++) {
        swacl_gemm_params g = s->best;
        g.mc = k_mcs[v];
        g.mc_min_m = 0;
        if (out_of_time(t, s) || eval(t, &g, sec) <= 0) return; /* keep the descent's */
        for (int c = 0; c < n_m; c++) {
            double sum = 0;
            for (int i = 0; i < t->ns; i++)
                if (t->sh[i].M == ms[c]) sum += sec[i];
            tm[c * N_MCS + v] = sum;
        }
    }
    int mc, mmin;
    if (swacl_tune_pick_mc(n_m, ms, N_MCS, k_mcs, tm, &mc, &mmin) == 0) {
        s->best.mc = mc;
        s->best.mc_min_m = mmin;
        note(t, "tune: M blocks: mc %d from M %d (per M class)", mc, mmin);
    }
}

static void search_lm(otune *t, osearch *s, double *sec)
{
    static const int tiles[][2] = {{64, 4}, {32, 4}, {64, 8}, {32, 2}, {128, 8}, {16, 2}};
    /* CPUs: only in the quick search, for information and coverage: PoCL
     * runs the barriered work-groups ~60x slower than mk (1.1 vs 67-72
     * GFLOP/s on small shapes), minutes per candidate on model shapes */
    const int n = t->p->quick ? 1 : t->dev->is_cpu ? 0 : 6;
    for (int i = 0, done = 0; i < 6 && done < n; i++) {
        swacl_gemm_params g = t->table;
        g.kern = SWACL_GEMM_KERN_LM;
        g.lm_ts = tiles[t->p->quick ? 1 : i][0];
        g.lm_wpt = tiles[t->p->quick ? 1 : i][1];
        g.test_drop_k = 0;
        if (!swacl_gemm_lm_fits(g.lm_ts, g.lm_wpt, t->dev->info.max_work_group_size,
                                t->dev->info.local_mem_bytes))
            continue;
        done++;
        try_cand(t, s, &g, sec);
    }
}

/* ---- the own / CLBlast choice ---------------------------------------------- */

/* time [class][shape]: 0 own, 1 clblast; the choice minimising the summed
 * log(chosen / best) into w (own_f32, own_packed, min_mnk) */
static void pick_choice(const otune *t, double *const tm[2][2], swacl_gemm_params *w)
{
    double best_cost = INFINITY;
    for (int of = 0; of < 2; of++)
        for (int op = 0; op < 2; op++)
            for (int c = -1; c < t->ns; c++) {
                const long long T =
                    c < 0 ? 0 : (long long)t->sh[c].M * t->sh[c].N * (long long)t->sh[c].K + 1;
                double cost = 0;
                for (int k = 0; k < 2; k++)
                    for (int i = 0; i < t->ns; i++) {
                        const long long mnk = (long long)t->sh[i].M * t->sh[i].N * t->sh[i].K;
                        const int own = (k ? op : of) && mnk >= T;
                        const double a = tm[k][0][i], b = tm[k][1][i];
                        const double ch = own ? a : b, m = fmin(a, b);
                        cost += isfinite(ch) ? log(ch / m) : 1e9;
                    }
                if (cost < best_cost - 1e-9) {
                    best_cost = cost;
                    w->own_f32 = of;
                    w->own_packed = op;
                    w->min_mnk = T;
                }
            }
    if (!w->own_f32 && !w->own_packed) w->min_mnk = 0;
}

static double gf(const tshape *s, double sec)
{
    return isfinite(sec) && sec > 0 ? 2.0 * s->M * s->N * (double)s->K / sec / 1e9 : 0;
}

/* Time one class on all shapes under gp g (own forced as asked, or the
 * row's own choice with asis). Unmeasurable (rejected) = INFINITY. */
static void time_all(otune *t, ocase *set, const swacl_gemm_params *g, int own, int asis,
                     double *sec)
{
    char why[600];
    if (asis)
        *t->gp = *g;
    else
        set_gp(t, g, own);
    for (int i = 0; i < t->ns; i++)
        if (run_case(t, &set[i], &sec[i], why, sizeof why) != 0) {
            note(t, "tune: %s: %s", own ? "own" : "CLBlast", why);
            sec[i] = INFINITY;
        }
}

static double blas_time(const otune *t, const tshape *s, float *x, float *w, float *y)
{
    double best = INFINITY, total = 0;
    for (int r = 0; r < 20 && (r < 3 || total < t->min_s); r++) {
        double t0 = swacl_now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, s->M, s->N, s->K, 1.0f, x, s->K, w,
                    s->K, 0.0f, y, s->N);
        double dt = swacl_now() - t0;
        if (r > 0) { /* first call: thread start-up */
            total += dt;
            best = dt < best ? dt : best;
        }
    }
    return best;
}

static cJSON *params_json(const swacl_gemm_params *g)
{
    cJSON *o = cJSON_CreateObject();
    char d[96];
    desc(g, d, sizeof d);
    cJSON_AddStringToObject(o, "kernel", d);
    cJSON_AddBoolToObject(o, "own_f32", g->own_f32);
    cJSON_AddBoolToObject(o, "own_packed", g->own_packed);
    cJSON_AddNumberToObject(o, "min_mnk", (double)g->min_mnk);
    cJSON_AddStringToObject(o, "kern", g->kern == SWACL_GEMM_KERN_LM ? "lm" : "mk");
    cJSON_AddNumberToObject(o, "mr", g->mr);
    cJSON_AddNumberToObject(o, "lx", g->lx);
    cJSON_AddNumberToObject(o, "kc", g->kc);
    cJSON_AddNumberToObject(o, "mc", g->mc);
    cJSON_AddNumberToObject(o, "mc_min_m", g->mc_min_m);
    cJSON_AddNumberToObject(o, "lm_ts", g->lm_ts);
    cJSON_AddNumberToObject(o, "lm_wpt", g->lm_wpt);
    return o;
}

/* ---- set-up ------------------------------------------------------------- */

static swacl_status open_all(otune *t)
{
    swacl_ctx *ctx = t->ctx;
    swacl_ctx_params cp = swacl_ctx_params_default();
    cp.device = t->p->device;
    if (swacl_ctx_create(&cp, &t->dctx) != SWACL_OK)
        return swacl_set_error(ctx, SWACL_NO_DEVICE, "tune: cannot open device: %s",
                               t->dctx ? swacl_ctx_errmsg(t->dctx) : "no context");
    t->gp = swacl_cl_backend_gemm_params(t->dctx->be);
    t->dev = swacl_cl_backend_dev(t->dctx->be);
    if (!t->gp || !t->dev)
        return swacl_set_error(ctx, SWACL_INVALID_ARG,
                               "tune: the own GEMM runs on OpenCL devices, not on the reference");
    t->table = *swacl_gemm_params_row(&t->dev->info); /* not an earlier tune file */
    cp.device = "ref";
    if (swacl_ctx_create(&cp, &t->rctx) != SWACL_OK)
        return swacl_set_error(ctx, SWACL_INTERNAL, "tune: no reference context");
    size_t maxc = 1;
    note(t, "tune: device %s (%s): buffers and CPU reference outputs for %d shapes x 2 types",
         t->dev->info.name, t->dev->info.driver_version, t->ns);
    for (int k = 0; k < 2 + 1; k++) {
        const int n = k < 2 ? t->ns : N_ODD;
        for (int i = 0; i < n; i++) {
            ocase *o = k == 0 ? &t->f32[i] : k == 1 ? &t->f16[i] : &t->odd[i];
            if (k < 2)
                case_init(&o->c, k ? "tune f16" : "tune f32", t->sh[i].M, t->sh[i].N, t->sh[i].K,
                          0, k ? SWACL_WT_F16 : SWACL_WT_F32);
            else if (i == 0)
                case_init(&o->c, "tune check f32", 67, 45, 93, 1, SWACL_WT_F32);
            else
                case_init(&o->c, "tune check q4_0", 37, 70, 96, 1, SWACL_WT_Q4_0);
            if ((k == 2 || o->c.mm.M <= CHECK_MAX_M) &&
                swacl_op_exec(t->rctx, &o->c, &o->ref) != SWACL_OK)
                return swacl_set_error(ctx, SWACL_INTERNAL, "tune: reference: %s",
                                       swacl_ctx_errmsg(t->rctx));
            if (k < 2 && swacl_op_bufs_create(t->dctx, &o->c, &o->b) != SWACL_OK)
                return swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "tune: device buffers: %s",
                                       swacl_ctx_errmsg(t->dctx));
            size_t n_out = swacl_op_output_size(&o->c);
            maxc = n_out > maxc ? n_out : maxc;
        }
    }
    t->host = malloc(maxc * sizeof(float));
    t->cands = cJSON_CreateArray();
    if (!t->host || !t->cands)
        return swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "tune: out of host memory");
    return SWACL_OK;
}

static void close_all(otune *t)
{
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < (k < 2 ? t->ns : N_ODD); i++) {
            ocase *o = k == 0 ? &t->f32[i] : k == 1 ? &t->f16[i] : &t->odd[i];
            swacl_op_bufs_destroy(o->b);
            free(o->ref);
        }
    free(t->host);
    cJSON_Delete(t->cands);
    swacl_ctx_destroy(t->dctx);
    swacl_ctx_destroy(t->rctx);
}

swacl_tune_own_params swacl_tune_own_params_default(void)
{
    swacl_tune_own_params p;
    memset(&p, 0, sizeof p);
    p.budget_s = 300;
    p.save = 1;
    return p;
}

/* ---- the report ------------------------------------------------------------ */

static swacl_status finish(otune *t, const osearch *s, swacl_gemm_params *w, double t_search,
                           char **json)
{
    const int n = t->ns;
    double *a = calloc((size_t)n * 7, sizeof(double));
    if (!a) return swacl_set_error(t->ctx, SWACL_OUT_OF_MEMORY, "tune: out of host memory");
    /* [class][path] seconds: own, clblast; table (as is) per class; blas */
    double *tm[2][2] = {{a, a + n}, {a + 2 * n, a + 3 * n}}, *tab[2] = {a + 4 * n, a + 5 * n};
    double *blas = a + 6 * n;
    note(t, "tune: final: winner, CLBlast and the table's choice on %d shapes x f32/f16", n);
    for (int k = 0; k < 2; k++) {
        ocase *set = k ? t->f16 : t->f32;
        time_all(t, set, &s->best, 1, 0, tm[k][0]);
        time_all(t, set, &t->table, 0, 0, tm[k][1]);
        time_all(t, set, &t->table, 0, 1, tab[k]);
    }
    *w = s->best;
    pick_choice(t, tm, w);
    size_t mx = 0, mw = 0, my = 0;
    for (int i = 0; i < n; i++) {
        mx = (size_t)t->sh[i].M * t->sh[i].K > mx ? (size_t)t->sh[i].M * t->sh[i].K : mx;
        mw = (size_t)t->sh[i].N * t->sh[i].K > mw ? (size_t)t->sh[i].N * t->sh[i].K : mw;
        my = (size_t)t->sh[i].M * t->sh[i].N > my ? (size_t)t->sh[i].M * t->sh[i].N : my;
    }
    float *hx = malloc(mx * 4), *hw = malloc(mw * 4), *hy = malloc(my * 4);
    if (hx && hw && hy) {
        swacl_op_fill_uniform(hx, mx, 1, 1.0f);
        swacl_op_fill_uniform(hw, mw, 2, 0.05f);
        for (int i = 0; i < n; i++) blas[i] = blas_time(t, &t->sh[i], hx, hw, hy);
    } else {
        for (int i = 0; i < n; i++) blas[i] = INFINITY;
    }
    free(hx);
    free(hw);
    free(hy);

    cJSON *root = cJSON_CreateObject(), *shapes = cJSON_CreateArray();
    cJSON_AddBoolToObject(root, "ok", 1);
    cJSON_AddStringToObject(root, "device", t->dev->info.name);
    cJSON_AddStringToObject(root, "driver_version", t->dev->info.driver_version);
    double lt = 0, lb = 0;
    int cnt = 0;
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < n; i++) {
            const tshape *sh = &t->sh[i];
            const long long mnk = (long long)sh->M * sh->N * sh->K;
            const int own = (k ? w->own_packed : w->own_f32) && mnk >= w->min_mnk;
            const double tuned = own ? tm[k][0][i] : tm[k][1][i];
            cJSON *e = cJSON_CreateObject();
            cJSON_AddNumberToObject(e, "M", sh->M);
            cJSON_AddNumberToObject(e, "N", sh->N);
            cJSON_AddNumberToObject(e, "K", sh->K);
            cJSON_AddStringToObject(e, "w", k ? "f16" : "f32");
            cJSON_AddStringToObject(e, "path", own ? "own" : "clblast");
            cJSON_AddNumberToObject(e, "table_gflops", gf(sh, tab[k][i]));
            cJSON_AddNumberToObject(e, "own_gflops", gf(sh, tm[k][0][i]));
            cJSON_AddNumberToObject(e, "clblast_gflops", gf(sh, tm[k][1][i]));
            cJSON_AddNumberToObject(e, "openblas_gflops", gf(sh, blas[i]));
            cJSON_AddNumberToObject(e, "tuned_vs_openblas", gf(sh, tuned) / fmax(gf(sh, blas[i]), 1e-30));
            cJSON_AddNumberToObject(e, "table_vs_openblas", gf(sh, tab[k][i]) / fmax(gf(sh, blas[i]), 1e-30));
            cJSON_AddItemToArray(shapes, e);
            if (isfinite(tuned) && isfinite(tab[k][i])) {
                lt += log(gf(sh, tuned));
                lb += log(gf(sh, tab[k][i]));
                cnt++;
            }
        }
    const double g_tuned = cnt ? exp(lt / cnt) : 0, g_table = cnt ? exp(lb / cnt) : 0;
    const char *row = "?";
    swacl_kernel_params_row(&t->dev->info, &row);
    cJSON_AddStringToObject(root, "table_row", row);
    cJSON_AddItemToObject(root, "table", params_json(&t->table));
    cJSON_AddItemToObject(root, "winner", params_json(w));
    cJSON_AddItemToObject(root, "candidates", t->cands);
    t->cands = NULL;
    cJSON_AddItemToObject(root, "shapes", shapes);
    cJSON_AddNumberToObject(root, "tuned_gflops_geomean", g_tuned);
    cJSON_AddNumberToObject(root, "table_gflops_geomean", g_table);
    cJSON_AddNumberToObject(root, "candidates_tried", t->tried);
    cJSON_AddNumberToObject(root, "candidates_rejected", t->rejected);
    cJSON_AddNumberToObject(root, "search_seconds", t_search);
    char path[1200] = "";
    const int better = g_tuned >= g_table;
    int saved = 0;
    if (t->p->save && better) {
        t->ctx->errmsg[0] = '\0';
        if (swacl_gemm_own_save(t->ctx, t->dev, w, shapes, path, sizeof path) == SWACL_OK)
            saved = 1;
        else
            note(t, "tune: warning: not saved: %s", t->ctx->errmsg);
    }
    cJSON_AddBoolToObject(root, "saved", saved);
    cJSON_AddStringToObject(root, "tune_file", path);
    if (!saved)
        cJSON_AddStringToObject(root, "not_saved",
                                !t->p->save ? "--no-save"
                                : !better   ? "not better than the table's choice"
                                            : "write failed");
    free(a);
    *json = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return *json ? SWACL_OK : swacl_set_error(t->ctx, SWACL_OUT_OF_MEMORY, "out of host memory");
}

swacl_status swacl_tune_own_run(swacl_ctx *ctx, const swacl_tune_own_params *p,
                                const swacl_gemm_params *extra, int n_extra, char **json)
{
    if (!ctx || !p || !json)
        return swacl_set_error(ctx, SWACL_INVALID_ARG, "swacl_tune_own: NULL argument");
    *json = NULL;
    SWACL_FAIL_IF(ctx, !(p->budget_s >= 0), SWACL_INVALID_ARG, "tune: budget_s must be >= 0");
    otune *t = calloc(1, sizeof *t);
    SWACL_FAIL_IF(ctx, !t, SWACL_OUT_OF_MEMORY, "tune: out of host memory");
    t->ctx = ctx;
    t->p = p;
    t->min_s = p->quick ? 0.02 : 0.15;
    if (p->shapes) {
        t->ns = swacl_tune_parse_shapes(p->shapes, t->sh, SWACL_TUNE_MAX_SHAPES);
    } else {
        /* 8192: the class where the M blocks matter (search_mc) */
        static const int rows[] = {512, 2048, 8192};
        swacl_config c;
        if (p->model)
            c = *p->model;
        else if (swacl_preset("cohere2", &c) != SWACL_OK)
            t->ns = -1;
        if (t->ns == 0) t->ns = swacl_tune_model_shapes(&c, rows, p->quick ? 1 : 3, t->sh);
    }
    swacl_status st = SWACL_OK;
    if (t->ns <= 0)
        st = swacl_set_error(ctx, SWACL_INVALID_ARG,
                             "tune: invalid shapes '%s': expected 'M,N,K;M,N,K;...' (each "
                             "1..65536)", p->shapes ? p->shapes : "(model)");
    if (st == SWACL_OK) st = open_all(t);
    double *sec = st == SWACL_OK ? malloc((size_t)t->ns * sizeof(double)) : NULL;
    if (st == SWACL_OK && !sec) st = swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "out of memory");
    if (st == SWACL_OK) {
        osearch s;
        memset(&s, 0, sizeof s);
        s.t0 = swacl_now();
        note(t, "tune: own GEMM search on %d shapes, budget %.0f s%s", t->ns, p->budget_s,
             p->quick ? " (quick)" : "");
        for (int i = 0; i < n_extra && i < MAX_CANDS; i++) try_cand(t, &s, &extra[i], sec);
        if (t->dev->is_cpu) {
            search_mk(t, &s, sec);
            search_lm(t, &s, sec);
        } else {
            search_lm(t, &s, sec);
            search_mk(t, &s, sec);
        }
        if (!p->quick) search_mc(t, &s, sec);
        if (!s.have)
            st = swacl_set_error(ctx, SWACL_MISMATCH,
                                 "tune: no own GEMM candidate gave correct results on %s",
                                 t->dev->info.name);
        swacl_gemm_params w;
        if (st == SWACL_OK) st = finish(t, &s, &w, swacl_now() - s.t0, json);
    }
    free(sec);
    close_all(t);
    free(t);
    return st;
}

swacl_status swacl_tune_own(swacl_ctx *ctx, const swacl_tune_own_params *p, char **json)
{
    return swacl_tune_own_run(ctx, p, NULL, 0, json);
}
