/*
 * tune_gemm.c - swacl_tune_gemm: search CLBlast SGEMM parameters for a
 * model's GEMM shapes on one OpenCL device (see swacl.h).
 *
 * GEMMs are y = x W^T, row-major: C[M,N] = A[M,K] W[N,K]^T, as in
 * swacl_cl_sgemm(b_trans = 1). Steps:
 *   1. inputs in [-1,1), references by swacl_ref_gemm (the CPU reference's
 *      GEMM) per shape;
 *   2. "before": CLBlast defaults (no override) on every shape;
 *   3. OpenBLAS cblas_sgemm on every shape (same process, same inputs);
 *   4. phase A: Xgemm candidates with XGEMM_MIN_INDIRECT_SIZE = 0 (always
 *      the indirect kernel), on the search shapes;
 *   5. phase B: XgemmDirect candidates with the switch forced to direct;
 *   6. the switch size: the cut over m*n*k that fits the two best sets;
 *   7. "after": the combined set on every shape; stored when it beats the
 *      defaults (geometric mean of GFLOP/s over the shapes).
 * Every candidate run is checked against the reference BEFORE it is timed
 * (C is filled with NaN first, so a kernel that writes nothing fails), on
 * each shape plus one odd shape; a wrong or failing set is rejected.
 * With probe_exe, a set is first compiled and checked in a child process
 * (`probe_exe tune --probe-set ...`): PoCL's distro LLVM has assertions on
 * and some sets abort the compiler, which must not take the caller down.
 * The child leaves the binary in PoCL's kernel cache, so the parent's build
 * is cheap. The child is exec'd, not just forked: the OpenCL runtime's
 * threads do not survive a fork.
 * Timing: wall clock around clFinish, best of repeats (the machine is
 * shared; the minimum is the least noisy figure). budget_s bounds phases
 * 4-5 (each new set costs a CLBlast recompile: seconds on PoCL, cached by
 * PoCL on disk afterwards).
 */
#include <cblas.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tune/tune_internal.h"

#define TOP_N 3 /* Xgemm sets re-timed after the first look */

typedef struct {
    int cand;
    double score;
} top_entry;

/* ---- candidates -------------------------------------------------------- */

/* Xgemm sets in CLBlast order: GEMMK KREG KWG KWI MDIMA MDIMC MWG NDIMB NDIMC
 * NWG SA SB STRM STRN VWM VWN. In CLBlast's column-major view of our
 * row-major call its M is our N (weights) and its N our M (rows). Most
 * promising first (the budget cuts the tail). On PoCL (CPU) the per
 * work-item tile in vector types (VWM = 8: one AVX2 register) without local
 * memory does best; strided scalar sets measured 3-6x slower. */
static const size_t k_xcands[][SWACL_TUNE_NX] = {
    {0, 1, 32, 2, 8, 8, 32, 8, 8, 32, 1, 1, 0, 0, 4, 4},     /* CLBlast HEAD default */
    {0, 1, 32, 2, 4, 4, 64, 4, 4, 16, 0, 0, 0, 0, 8, 4},     /* PoCL 3.1 Zen 4 winner */
    {0, 1, 64, 2, 4, 4, 64, 4, 4, 16, 0, 0, 0, 0, 8, 4},
    {0, 1, 32, 2, 8, 8, 128, 4, 4, 16, 0, 0, 0, 0, 8, 4},
    {0, 1, 32, 2, 4, 4, 64, 4, 4, 32, 0, 0, 0, 0, 8, 8},
    {0, 1, 32, 2, 8, 8, 64, 8, 8, 64, 0, 0, 0, 0, 8, 8},
    {0, 1, 32, 2, 8, 8, 128, 8, 8, 32, 0, 0, 0, 0, 8, 4},
    {0, 1, 32, 2, 4, 4, 32, 4, 4, 32, 0, 0, 0, 0, 8, 8},
    {0, 1, 32, 2, 8, 8, 64, 8, 8, 32, 0, 0, 0, 0, 8, 4},
    {0, 1, 32, 2, 8, 8, 64, 8, 8, 64, 0, 0, 0, 0, 4, 4},
    {1, 8, 1, 1, 8, 8, 64, 8, 8, 64, 0, 0, 0, 0, 8, 8},
    {1, 16, 1, 1, 8, 8, 64, 8, 8, 64, 0, 0, 0, 0, 8, 8},
    {1, 8, 1, 1, 8, 8, 64, 8, 8, 32, 0, 0, 0, 0, 8, 4},
    {1, 8, 1, 1, 16, 16, 128, 16, 16, 128, 0, 0, 0, 0, 8, 8},
    {1, 8, 1, 1, 8, 8, 64, 16, 16, 128, 0, 0, 0, 0, 8, 8},
    {1, 8, 1, 1, 16, 16, 128, 8, 8, 64, 0, 0, 0, 0, 8, 8},
    {1, 8, 1, 1, 8, 8, 64, 32, 32, 256, 0, 0, 0, 0, 8, 8},
    {1, 8, 1, 1, 16, 16, 64, 16, 16, 128, 0, 0, 0, 0, 4, 8},
    {1, 8, 1, 1, 4, 4, 32, 4, 4, 32, 0, 0, 0, 0, 8, 8},
    {1, 4, 1, 1, 8, 8, 32, 8, 8, 32, 0, 0, 0, 0, 4, 4},
    {0, 1, 16, 2, 8, 8, 64, 8, 8, 64, 0, 0, 0, 0, 8, 8},
    {0, 1, 64, 4, 8, 8, 64, 8, 8, 64, 0, 0, 0, 0, 8, 8},
    {0, 1, 32, 8, 8, 8, 64, 8, 8, 64, 0, 0, 0, 0, 8, 8},
    {0, 1, 32, 8, 4, 4, 64, 4, 4, 16, 0, 0, 0, 0, 8, 4},
    {0, 1, 32, 8, 8, 8, 64, 8, 8, 64, 1, 1, 0, 0, 8, 8},
    {0, 1, 32, 2, 8, 8, 64, 8, 8, 64, 1, 1, 0, 0, 8, 8},
    {0, 1, 32, 2, 16, 16, 128, 16, 16, 64, 0, 0, 0, 0, 8, 4},
    {0, 1, 32, 2, 8, 8, 32, 8, 8, 32, 0, 0, 0, 0, 4, 4},
    {0, 1, 32, 2, 8, 8, 64, 8, 8, 64, 0, 0, 0, 0, 8, 4},
    {0, 1, 32, 2, 16, 16, 64, 16, 16, 64, 1, 1, 0, 0, 4, 4}, /* 1.5.3-like, 256 WI */
    {0, 1, 32, 2, 8, 8, 32, 8, 8, 32, 0, 0, 0, 0, 2, 2},
    {0, 1, 32, 2, 16, 16, 64, 16, 16, 64, 0, 0, 1, 1, 1, 1},
    {0, 1, 32, 2, 8, 8, 64, 8, 8, 64, 0, 0, 1, 1, 2, 2},
};
/* {KWID, MDIMAD, MDIMCD, NDIMBD, NDIMCD, PADA, PADB, VWMD, VWND, WGD} */
static const size_t k_dcands[][SWACL_TUNE_ND] = {
    {2, 8, 8, 8, 8, 1, 1, 1, 1, 8},
    {2, 8, 8, 8, 8, 1, 1, 2, 2, 16},
    {2, 8, 8, 8, 8, 1, 1, 4, 4, 32},
    {8, 8, 8, 8, 8, 1, 1, 4, 4, 32},
    {2, 8, 8, 8, 8, 0, 0, 4, 4, 32},
    {2, 16, 16, 16, 16, 1, 1, 2, 2, 32},
    {2, 8, 8, 8, 8, 1, 1, 8, 8, 64},
    {2, 16, 16, 16, 16, 1, 1, 4, 4, 64},
    {2, 4, 4, 4, 4, 1, 1, 4, 4, 16},
    {16, 8, 8, 8, 8, 1, 1, 4, 4, 32},
};
#define N_XC ((int)(sizeof k_xcands / sizeof k_xcands[0]))
#define N_DC ((int)(sizeof k_dcands / sizeof k_dcands[0]))

/* ---- shapes ------------------------------------------------------------ */

int swacl_tune_parse_shapes(const char *s, tshape *out, int cap)
{
    int n = 0;
    while (*s) {
        while (*s == ';' || *s == ' ' || *s == '/') s++;
        if (!*s) break;
        int M, N, K, used = 0;
        if (sscanf(s, "%d,%d,%d%n", &M, &N, &K, &used) != 3 || M < 1 || N < 1 || K < 1 ||
            M > 65536 || N > 65536 || K > 65536 || n >= cap)
            return -1;
        out[n++] = (tshape){M, N, K, 1};
        s += used;
        if (*s && *s != ';' && *s != ' ' && *s != '/') return -1;
    }
    return n ? n : -1;
}

static int model_shapes(const swacl_config *c, tshape *out)
{
    static const int rows[] = {1, 512, 1024, 2048, 4096};
    return swacl_tune_model_shapes(c, rows, 5, out);
}

int swacl_tune_model_shapes(const swacl_config *c, const int *rows, int n_rows, tshape *out)
{
    const int D = c->hidden_size, Q = c->n_heads * c->head_dim, KV = c->n_kv_heads * c->head_dim;
    const int nk[5][2] = {{Q, D}, {KV, D}, {D, Q}, {c->ffn_dim, D}, {D, c->ffn_dim}};
    int u[5][2], nu = 0;
    for (int j = 0; j < 5; j++) {
        int dup = 0;
        for (int k = 0; k < nu; k++) dup |= u[k][0] == nk[j][0] && u[k][1] == nk[j][1];
        if (!dup && nk[j][0] > 0 && nk[j][1] > 0) {
            u[nu][0] = nk[j][0];
            u[nu++][1] = nk[j][1];
        }
    }
    int n = 0;
    for (int r = 0; r < n_rows; r++)
        for (int j = 0; j < nu; j++)
            out[n++] = (tshape){rows[r], u[j][0], u[j][1],
                                rows[r] == 1 || rows[r] == 512 || rows[r] == 2048};
    return n;
}

static double flops(const tshape *s) { return 2.0 * s->M * s->N * s->K; }

/* Geometric mean of GFLOP/s over the search shapes (or all). */
static double geomean(const tbench *b, const double *sec, int search_only)
{
    double lsum = 0;
    int k = 0;
    for (int i = 0; i < b->n; i++) {
        if (search_only && !b->sh[i].search) continue;
        if (!(sec[i] > 0) || !isfinite(sec[i])) return 0;
        lsum += log(flops(&b->sh[i]) / sec[i] / 1e9);
        k++;
    }
    return k ? exp(lsum / k) : 0;
}

/* Aggregate GFLOP/s (total flops / total time) over the search shapes with
 * M > 1 (all search shapes when none): what prefill throughput sees. */
static double aggregate(const tbench *b, const double *sec)
{
    double f = 0, t = 0;
    for (int pass = 0; pass < 2 && t == 0; pass++)
        for (int i = 0; i < b->n; i++) {
            if (!b->sh[i].search || (pass == 0 && b->sh[i].M == 1)) continue;
            if (!(sec[i] > 0) || !isfinite(sec[i])) return 0;
            f += flops(&b->sh[i]);
            t += sec[i];
        }
    return t > 0 ? f / t / 1e9 : 0;
}

/* Evaluate one parameter set on the search shapes. Returns 0 ok, -1 rejected
 * (wrong or failing), 1 pruned (much slower than best on some shape). */
static int eval_set(tbench *b, const swacl_tune_params *t, const double *best_sec, double *sec,
                    double *compile_s, char *why, size_t why_len, int probe)
{
    why[0] = '\0';
    b->ctx->errmsg[0] = '\0';
    if (probe && b->p->probe_exe && swacl_tune_probe_child(b, t, why, why_len) != 0) return -1;
    if (swacl_tune_override(b->ctx, b->dev, t) != SWACL_OK) {
        snprintf(why, why_len, "%.500s", b->ctx->errmsg);
        return -1;
    }
    double err = 0, t0 = swacl_now();
    int rc = swacl_tune_measure(b, b->n, 0, NULL, &err); /* odd shape; compiles the program */
    *compile_s = swacl_now() - t0;
    if (rc != 0) {
        if (rc == -1)
            snprintf(why, why_len, "wrong result on odd shape (max rel err %.3g)", err);
        else
            snprintf(why, why_len, "%.500s", b->ctx->errmsg[0] ? b->ctx->errmsg : "OpenCL error");
        return -1;
    }
    for (int i = 0; i < b->n; i++) {
        sec[i] = INFINITY;
        if (!b->sh[i].search) continue;
        rc = swacl_tune_measure(b, i, 0.08, &sec[i], &err);
        if (rc == -1) {
            snprintf(why, why_len, "wrong result at %dx%dx%d (max rel err %.3g)", b->sh[i].M,
                     b->sh[i].N, b->sh[i].K, err);
            return -1;
        }
        if (rc == -2) {
            snprintf(why, why_len, "%.500s", b->ctx->errmsg[0] ? b->ctx->errmsg : "OpenCL error");
            return -1;
        }
        if (best_sec && b->sh[i].M > 1 && isfinite(best_sec[i]) && sec[i] > 3.0 * best_sec[i]) {
            snprintf(why, why_len, "pruned: %.1fx slower than best at %dx%dx%d",
                     sec[i] / best_sec[i], b->sh[i].M, b->sh[i].N, b->sh[i].K);
            return 1;
        }
    }
    return 0;
}

/* Smallest T with T^3 > v. */
static size_t cube_above(double v)
{
    size_t t = (size_t)cbrt(v);
    while ((double)t * t * t <= v) t++;
    while (t > 1 && (double)(t - 1) * (t - 1) * (t - 1) > v) t--;
    return t;
}

/* The switch size that best fits per-shape times of the indirect (ti) and
 * direct (td) sets: shapes with m*n*k < T^3 go direct. Minimises the sum of
 * log(chosen / best) over the search shapes. */
static size_t pick_switch(const tbench *b, const double *ti, const double *td)
{
    size_t cands[128];
    int nc = 0;
    cands[nc++] = 0;
    cands[nc++] = FORCE_DIRECT;
    for (int i = 0; i < b->n && nc < 128; i++)
        if (b->sh[i].search) cands[nc++] = cube_above((double)b->sh[i].M * b->sh[i].N * b->sh[i].K);
    size_t best_t = 0;
    double best_cost = INFINITY;
    for (int c = 0; c < nc; c++) {
        double T3 = (double)cands[c] * cands[c] * cands[c], cost = 0;
        for (int i = 0; i < b->n; i++) {
            if (!b->sh[i].search) continue;
            double mnk = (double)b->sh[i].M * b->sh[i].N * b->sh[i].K;
            double t = mnk < T3 ? td[i] : ti[i];
            double m = fmin(ti[i], td[i]);
            cost += isfinite(t) ? log(t / m) : 1e9;
        }
        if (cost < best_cost - 1e-9) {
            best_cost = cost;
            best_t = cands[c];
        }
    }
    return best_t;
}

/* The best TOP_N Xgemm sets of the first look, best first. */
static void top_add(top_entry *top, int *n, int cand, double score)
{
    int k;
    if (*n < TOP_N)
        k = (*n)++;
    else if (score > top[TOP_N - 1].score)
        k = TOP_N - 1;
    else
        return;
    top[k] = (top_entry){cand, score};
    for (; k > 0 && top[k].score > top[k - 1].score; k--) {
        top_entry tmp = top[k];
        top[k] = top[k - 1];
        top[k - 1] = tmp;
    }
}

/* ---- the search ---------------------------------------------------------- */

typedef struct {
    swacl_tune_params best;
    double *cur, *best_i, *best_d; /* seconds per shape                     */
    int have_x, have_d, tried, rejected, pruned;
    double t_search;
} search;

/* Phase A: Xgemm sets, always indirect; then re-time the best few (the
 * machine is shared: keep the best of the second look). */
static void search_xgemm(tbench *b, search *s)
{
    const swacl_cl_dev *dev = b->dev;
    double best_score = 0, budget_a = 0.6 * b->p->budget_s, comp = 0;
    top_entry top[TOP_N];
    int n_top = 0;
    char desc[512], why[600];
    swacl_tune_params t;
    for (int c = 0; c < N_XC; c++) {
        if (swacl_now() - s->t_search > budget_a && s->have_x) break; /* one valid set first */
        t = s->best;
        memcpy(t.x, k_xcands[c], sizeof t.x);
        t.min_indirect = 0;
        if (!swacl_tune_xgemm_ok(t.x, dev->info.max_work_group_size, dev->info.local_mem_bytes))
            continue;
        swacl_tune_fmt_x(desc, sizeof desc, t.x);
        s->tried++;
        int r = eval_set(b, &t, s->have_x ? s->best_i : NULL, s->cur, &comp, why, sizeof why, 1);
        double g = r == 0 ? aggregate(b, s->cur) : 0;
        if (r == 0 && g > best_score) {
            best_score = g;
            memcpy(s->best.x, t.x, sizeof t.x);
            memcpy(s->best_i, s->cur, (size_t)b->n * sizeof(double));
            s->have_x = 1;
        }
        if (r == 0) top_add(top, &n_top, c, g);
        s->rejected += r < 0;
        s->pruned += r > 0;
        if (r == 0)
            swacl_tune_note(b, "tune: [xgemm %2d/%d %4.0fs] %s: %.1f GFLOP/s (best %.1f, aggregate) compile %.1fs",
                 c + 1, N_XC, swacl_now() - s->t_search, desc, g, best_score, comp);
        else
            swacl_tune_note(b, "tune: [xgemm %2d/%d %4.0fs] %s: %s %s", c + 1, N_XC,
                 swacl_now() - s->t_search, desc, r < 0 ? "REJECTED" : "", why);
    }
    if (n_top > 1) {
        best_score = 0;
        for (int k = 0; k < n_top; k++) {
            t = s->best;
            memcpy(t.x, k_xcands[top[k].cand], sizeof t.x);
            t.min_indirect = 0;
            if (eval_set(b, &t, NULL, s->cur, &comp, why, sizeof why, 0) != 0) continue;
            double g = aggregate(b, s->cur);
            swacl_tune_note(b, "tune: [xgemm recheck %d/%d] set %d: %.1f GFLOP/s (first look %.1f)", k + 1,
                 n_top, top[k].cand + 1, g, top[k].score);
            if (g > best_score) {
                best_score = g;
                memcpy(s->best.x, t.x, sizeof t.x);
                memcpy(s->best_i, s->cur, (size_t)b->n * sizeof(double));
            }
        }
    }
    if (!s->have_x) memcpy(s->best.x, k_xcands[0], sizeof s->best.x);
}

/* Phase B: XgemmDirect sets, always direct. */
static void search_direct(tbench *b, search *s)
{
    const swacl_cl_dev *dev = b->dev;
    double best_score = 0, comp = 0;
    char desc[512], why[600];
    for (int c = 0; c < N_DC; c++) {
        if (swacl_now() - s->t_search > b->p->budget_s && s->have_d) break;
        swacl_tune_params t = s->best;
        memcpy(t.d, k_dcands[c], sizeof t.d);
        t.min_indirect = FORCE_DIRECT;
        if (!swacl_tune_direct_ok(t.d, dev->info.max_work_group_size, dev->info.local_mem_bytes))
            continue;
        swacl_tune_fmt_d(desc, sizeof desc, t.d);
        s->tried++;
        int r = eval_set(b, &t, s->have_d ? s->best_d : NULL, s->cur, &comp, why, sizeof why, 1);
        double g = r == 0 ? geomean(b, s->cur, 1) : 0;
        if (r == 0 && g > best_score) {
            best_score = g;
            memcpy(s->best.d, t.d, sizeof t.d);
            memcpy(s->best_d, s->cur, (size_t)b->n * sizeof(double));
            s->have_d = 1;
        }
        s->rejected += r < 0;
        s->pruned += r > 0;
        if (r == 0)
            swacl_tune_note(b, "tune: [direct %2d/%d %4.0fs] %s: %.1f GFLOP/s (best %.1f, geomean) compile %.1fs",
                 c + 1, N_DC, swacl_now() - s->t_search, desc, g, best_score, comp);
        else
            swacl_tune_note(b, "tune: [direct %2d/%d %4.0fs] %s: %s %s", c + 1, N_DC,
                 swacl_now() - s->t_search, desc, r < 0 ? "REJECTED" : "", why);
    }
}

swacl_tune_gemm_params swacl_tune_gemm_params_default(void)
{
    swacl_tune_gemm_params p;
    memset(&p, 0, sizeof p);
    p.budget_s = 300;
    p.save = 1;
    return p;
}

/* The winner on every shape (steps 6-7) into out; 0 or a status. */
static swacl_status final_pass(tbench *b, search *s, double *after)
{
    s->best.min_indirect = !s->have_d ? 0 : !s->have_x ? FORCE_DIRECT
                                                      : pick_switch(b, s->best_i, s->best_d);
    swacl_tune_note(b, "tune: final set (switch %zu), all %d shapes", s->best.min_indirect, b->n);
    b->ctx->errmsg[0] = '\0';
    if (swacl_tune_override(b->ctx, b->dev, &s->best) != SWACL_OK) return SWACL_OPENCL;
    double e = 0;
    if (swacl_tune_measure(b, b->n, 0, NULL, &e) != 0)
        return swacl_set_error(b->ctx, SWACL_MISMATCH,
                               "tune: the combined winner fails the odd-shape check (max rel err %.3g)", e);
    for (int i = 0; i < b->n; i++) {
        int r = swacl_tune_measure(b, i, 0.25, &after[i], &e);
        if (r != 0)
            return swacl_set_error(b->ctx, r == -1 ? SWACL_MISMATCH : SWACL_OPENCL,
                                   "tune: the combined winner %s at %dx%dx%d",
                                   r == -1 ? "is WRONG" : "fails", b->sh[i].M, b->sh[i].N,
                                   b->sh[i].K);
    }
    return SWACL_OK;
}

/* Fill the result, and save the tune file when asked and better. */
static void report(tbench *b, const search *s, const double *before, const double *after,
                   const double *blas, int defaults_ok, swacl_tune_gemm_result *out)
{
    const swacl_tune_params *w = &s->best;
    snprintf(out->device, sizeof out->device, "%s", b->dev->info.name);
    snprintf(out->driver_version, sizeof out->driver_version, "%s", b->dev->info.driver_version);
    out->n_xgemm = SWACL_TUNE_NX;
    out->n_direct = SWACL_TUNE_ND;
    for (int i = 0; i < SWACL_TUNE_NX; i++)
        out->xgemm[i] = (swacl_tune_gemm_value){swacl_tune_xgemm_names[i], w->x[i]};
    for (int i = 0; i < SWACL_TUNE_ND; i++)
        out->direct[i] = (swacl_tune_gemm_value){swacl_tune_direct_names[i], w->d[i]};
    out->min_indirect_size = w->min_indirect;
    swacl_tune_fmt_x(out->xgemm_desc, sizeof out->xgemm_desc, w->x);
    swacl_tune_fmt_d(out->direct_desc, sizeof out->direct_desc, w->d);
    out->n_shapes = b->n;
    cJSON *meas = cJSON_CreateArray();
    for (int i = 0; i < b->n; i++) {
        const tshape *sh = &b->sh[i];
        double f = flops(sh) / 1e9, T = (double)w->min_indirect;
        swacl_tune_gemm_shape *r = &out->shapes[i];
        *r = (swacl_tune_gemm_shape){sh->M, sh->N, sh->K, (double)sh->M * sh->N * sh->K < T * T * T,
                                     isfinite(before[i]) ? f / before[i] : 0, f / after[i],
                                     f / blas[i]};
        cJSON *j = cJSON_CreateObject();
        cJSON_AddNumberToObject(j, "M", sh->M);
        cJSON_AddNumberToObject(j, "N", sh->N);
        cJSON_AddNumberToObject(j, "K", sh->K);
        cJSON_AddStringToObject(j, "path", r->direct ? "direct" : "indirect");
        cJSON_AddNumberToObject(j, "default_gflops", r->default_gflops);
        cJSON_AddNumberToObject(j, "tuned_gflops", r->tuned_gflops);
        cJSON_AddNumberToObject(j, "openblas_gflops", r->openblas_gflops);
        cJSON_AddNumberToObject(j, "tuned_vs_openblas", blas[i] / after[i]);
        cJSON_AddItemToArray(meas, j);
    }
    out->default_gflops_geomean = defaults_ok ? geomean(b, before, 0) : 0;
    out->tuned_gflops_geomean = geomean(b, after, 0);
    out->openblas_gflops_geomean = geomean(b, blas, 0);
    out->tried = s->tried;
    out->rejected = s->rejected;
    out->pruned = s->pruned;
    int improved = out->tuned_gflops_geomean > out->default_gflops_geomean;
    snprintf(out->not_saved, sizeof out->not_saved, "%s",
             !b->p->save ? "--no-save" : !improved ? "not better than defaults" : "");
    if (b->p->save && improved) {
        b->ctx->errmsg[0] = '\0';
        if (meas && swacl_tune_save(b->ctx, b->dev, w, meas, out->tune_file,
                                    sizeof out->tune_file) == SWACL_OK) {
            out->saved = 1;
        } else {
            swacl_tune_note(b, "tune: warning: not saved: %s", b->ctx->errmsg);
            snprintf(out->not_saved, sizeof out->not_saved, "write failed");
        }
    }
    cJSON_Delete(meas);
}

swacl_status swacl_tune_gemm(swacl_ctx *ctx, const swacl_tune_gemm_params *p,
                             swacl_tune_gemm_result *out)
{
    /* ctx is required: candidates' messages are read back from it */
    if (!ctx || !p || !out) return swacl_set_error(ctx, SWACL_INVALID_ARG, "swacl_tune_gemm: NULL argument");
    memset(out, 0, sizeof *out);
    SWACL_FAIL_IF(ctx, !(p->budget_s >= 0), SWACL_INVALID_ARG, "tune: budget_s must be >= 0");
    tbench b;
    memset(&b, 0, sizeof b);
    b.ctx = ctx;
    b.p = p;
    if (p->shapes) {
        b.n = swacl_tune_parse_shapes(p->shapes, b.sh, SWACL_TUNE_MAX_SHAPES);
        if (b.n < 0)
            return swacl_set_error(ctx, SWACL_INVALID_ARG,
                                   "tune: invalid --shapes '%s': expected 'M,N,K;M,N,K;...' (each "
                                   "1..65536)", p->shapes);
    } else {
        swacl_config c;
        if (p->model)
            c = *p->model;
        else if (swacl_preset("cohere2", &c) != SWACL_OK)
            return swacl_set_error(ctx, SWACL_INTERNAL, "tune: no cohere2 preset");
        b.n = model_shapes(&c, b.sh);
    }
    double t_start = swacl_now();
    swacl_status st = swacl_tune_bench_open(&b, p->device);
    size_t nb = (size_t)b.n * sizeof(double);
    double *before = malloc(nb), *after = malloc(nb), *blas = malloc(nb);
    search s;
    memset(&s, 0, sizeof s);
    s.cur = malloc(nb);
    s.best_i = malloc(nb);
    s.best_d = malloc(nb);
    if (st == SWACL_OK && !(before && after && blas && s.cur && s.best_i && s.best_d))
        st = swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "tune: out of host memory");
    if (st != SWACL_OK) goto done;
    swacl_tune_note(&b, "tune: device %s (%s), budget %.0f s", b.dev->info.name, b.dev->info.driver_version,
         p->budget_s);

    /* 2. defaults */
    swacl_tune_note(&b, "tune: CLBlast defaults (first call compiles)");
    int defaults_ok = 1;
    for (int i = 0; i < b.n; i++) {
        double e = 0;
        int r = swacl_tune_measure(&b, i, 0.25, &before[i], &e);
        if (r != 0) {
            swacl_tune_note(&b, "tune: defaults %s at %dx%dx%d", r == -1 ? "WRONG" : "failed", b.sh[i].M,
                 b.sh[i].N, b.sh[i].K);
            before[i] = INFINITY;
            defaults_ok = 0;
        }
    }
    /* 3. OpenBLAS, into the host C buffer (sized for the largest shape) */
    swacl_tune_note(&b, "tune: OpenBLAS sgemm (%d threads)", openblas_get_num_threads());
    for (int i = 0; i < b.n; i++) blas[i] = swacl_tune_time_openblas(&b, &b.sh[i], b.hC, 0.25);

    /* 4-5. the search */
    memcpy(s.best.d, k_dcands[0], sizeof s.best.d);
    for (int i = 0; i < b.n; i++) s.best_i[i] = s.best_d[i] = INFINITY;
    s.t_search = swacl_now();
    search_xgemm(&b, &s);
    search_direct(&b, &s);
    out->search_seconds = swacl_now() - s.t_search;
    if (!s.have_x && !s.have_d) {
        st = swacl_set_error(ctx, SWACL_MISMATCH,
                             "tune: no candidate parameter set gave correct results on %s",
                             b.dev->info.name);
        goto done;
    }
    /* 6-7. switch, the winner on every shape */
    if ((st = final_pass(&b, &s, after)) != SWACL_OK) goto done;
    report(&b, &s, before, after, blas, defaults_ok, out);
    out->total_seconds = swacl_now() - t_start;
    ctx->errmsg[0] = '\0';
done:
    free(before);
    free(after);
    free(blas);
    free(s.cur);
    free(s.best_i);
    free(s.best_d);
    swacl_tune_bench_close(&b);
    return st;
}

char *swacl_tune_gemm_result_json(const swacl_tune_gemm_result *r)
{
    if (!r) return NULL;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddBoolToObject(root, "ok", 1);
    cJSON_AddStringToObject(root, "device", r->device);
    cJSON_AddStringToObject(root, "driver_version", r->driver_version);
    cJSON *w = cJSON_AddObjectToObject(root, "winner");
    cJSON *x = cJSON_AddObjectToObject(w, "xgemm");
    for (int i = 0; i < r->n_xgemm; i++)
        cJSON_AddNumberToObject(x, r->xgemm[i].name, (double)r->xgemm[i].value);
    cJSON *d = cJSON_AddObjectToObject(w, "xgemm_direct");
    for (int i = 0; i < r->n_direct; i++)
        cJSON_AddNumberToObject(d, r->direct[i].name, (double)r->direct[i].value);
    cJSON_AddNumberToObject(w, "min_indirect_size", (double)r->min_indirect_size);
    cJSON *meas = cJSON_AddArrayToObject(root, "shapes");
    for (int i = 0; i < r->n_shapes; i++) {
        const swacl_tune_gemm_shape *s = &r->shapes[i];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "M", s->M);
        cJSON_AddNumberToObject(e, "N", s->N);
        cJSON_AddNumberToObject(e, "K", s->K);
        cJSON_AddStringToObject(e, "path", s->direct ? "direct" : "indirect");
        cJSON_AddNumberToObject(e, "default_gflops", s->default_gflops);
        cJSON_AddNumberToObject(e, "tuned_gflops", s->tuned_gflops);
        cJSON_AddNumberToObject(e, "openblas_gflops", s->openblas_gflops);
        cJSON_AddNumberToObject(e, "tuned_vs_openblas", s->tuned_gflops / s->openblas_gflops);
        cJSON_AddItemToArray(meas, e);
    }
    double g = r->openblas_gflops_geomean;
    cJSON_AddNumberToObject(root, "default_gflops_geomean", r->default_gflops_geomean);
    cJSON_AddNumberToObject(root, "tuned_gflops_geomean", r->tuned_gflops_geomean);
    cJSON_AddNumberToObject(root, "openblas_gflops_geomean", g);
    cJSON_AddNumberToObject(root, "tuned_vs_openblas_geomean",
                            g > 0 ? r->tuned_gflops_geomean / g : 0.0);
    cJSON_AddNumberToObject(root, "candidates_tried", r->tried);
    cJSON_AddNumberToObject(root, "candidates_rejected", r->rejected);
    cJSON_AddNumberToObject(root, "candidates_pruned", r->pruned);
    cJSON_AddNumberToObject(root, "search_seconds", r->search_seconds);
    cJSON_AddNumberToObject(root, "total_seconds", r->total_seconds);
    cJSON_AddBoolToObject(root, "saved", r->saved);
    cJSON_AddStringToObject(root, "tune_file", r->tune_file);
    if (!r->saved) cJSON_AddStringToObject(root, "not_saved", r->not_saved);
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return s;
}
