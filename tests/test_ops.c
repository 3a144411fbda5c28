/*
 * test_ops.c - every OpenCL op against the CPU reference backend on
 * identical seeded inputs. The cases are the SWACL_OPC_TEST rows of the one
 * op-case table, host/ops/op_cases.c (shapes, tolerance, kernel variants;
 * the tolerances are explained there and in docs/OPS.md). One Criterion
 * parameterized test per op kind runs each of its rows once per listed
 * kernel variant, each in its own process: on the device and on "ref"
 * through the shared runner (swacl_op_check), then every compared range
 * through expect_close with the row's atol / rtol / nmse, the row's label
 * in the message.
 *
 * Also here: the table's own consistency (labels, variants, the benchmark
 * rows against the benchmark's historical list and the cohere2 preset) and
 * swacl_compare.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl/cl_params.h"
#include "helpers.h"

/* Both backends of one test: cl (skips without a device) and ref. */
typedef struct {
    swacl_ctx *clc, *refc;
    swacl_backend *cl, *ref;
} pair_t;

static pair_t pair_open(void)
{
    pair_t p;
    p.clc = test_cl_ctx();
    p.refc = test_ref_ctx();
    p.cl = p.clc->be;
    p.ref = p.refc->be;
    return p;
}

static void pair_close(pair_t *p)
{
    swacl_ctx_destroy(p->clc);
    swacl_ctx_destroy(p->refc);
}

/* Open both backends with the OpenCL side forced to kernel variant v (the
 * typed swacl_ctx_params.kernels override), and check the context really
 * runs it: a silently ignored override would test the default twice. */
static pair_t pair_open_variant(swacl_op_variant v)
{
    swacl_kernel_params kp;
    memset(&kp, 0, sizeof kp);
    switch (v) {
    case SWACL_OPV_ATTN_ROW: kp.attn = SWACL_ATTN_KERNEL_ROW; break;
    case SWACL_OPV_ATTN_TILED: kp.attn = SWACL_ATTN_KERNEL_TILED; break;
    case SWACL_OPV_ATTN_BLK: kp.attn = SWACL_ATTN_KERNEL_BLK; break;
    case SWACL_OPV_NORM_ROW: kp.norm = SWACL_NORM_KERNEL_ROW; break;
    case SWACL_OPV_NORM_WG: kp.norm = SWACL_NORM_KERNEL_WG; break;
    case SWACL_OPV_GEMM_OWN:
    case SWACL_OPV_GEMM_CLBLAST: {
        /* internal choice (not in the released swacl_kernel_params): set on
         * the backend, and only an OpenCL backend has one */
        pair_t p = pair_open();
        if (swacl_ctx_is_reference(p.clc)) cr_skip_test("GEMM variants need an OpenCL device");
        swacl_gemm_params *gp = swacl_cl_backend_gemm_params(p.cl);
        cr_assert(gp != NULL, "GEMM variant %s needs an OpenCL backend", swacl_op_variant_name(v));
        gp->own_f32 = gp->own_packed = v == SWACL_OPV_GEMM_OWN;
        gp->min_mnk = 0;
        /* the float16-accumulator micro-kernel (GEMM_VW 16, MR 7: odd slot
         * count) with M blocks of 7 rows (8 rounded down to GEMM_MR): every
         * own case splits M, ragged last block included; the device's own
         * choice (the default variant: the table's VW / MR) runs the same
         * cases unsplit */
        gp->vw = 16;
        gp->mr = 7;
        gp->mc = 8;
        return p;
    }
    case SWACL_OPV_GEMM_LM: { /* as GEMM_OWN, with the local-memory kernel */
        pair_t p = pair_open();
        if (swacl_ctx_is_reference(p.clc)) cr_skip_test("GEMM variants need an OpenCL device");
        swacl_gemm_params *gp = swacl_cl_backend_gemm_params(p.cl);
        cr_assert(gp != NULL, "GEMM variant lm needs an OpenCL backend");
        gp->own_f32 = gp->own_packed = 1;
        gp->min_mnk = 0;
        gp->kern = SWACL_GEMM_KERN_LM;
        gp->lm_ts = 32; /* 8 x 8 work-items: several tiles per case */
        gp->lm_wpt = 4;
        return p;
    }
    case SWACL_OPV_GEMV_R1:
    case SWACL_OPV_GEMV_R2:
    case SWACL_OPV_GEMV_R4:
    case SWACL_OPV_GEMV_R8: { /* not a public override: forced on the backend */
        pair_t p = pair_open();
        if (swacl_ctx_is_reference(p.clc)) cr_skip_test("gemv variants need an OpenCL device");
        const int rows = 1 << (v - SWACL_OPV_GEMV_R1);
        cr_assert_eq(swacl_cl_backend_force_gemv_rows(p.cl, rows), SWACL_OK, "gemv rows %d", rows);
        return p;
    }
    default: return pair_open(); /* the device's own choice */
    }
    pair_t p;
    p.clc = test_cl_ctx_kernels(&kp);
    p.refc = test_ref_ctx();
    p.cl = p.clc->be;
    p.ref = p.refc->be;
    swacl_kernel_params used;
    cr_assert_eq(swacl_ctx_kernel_params(p.clc, &used), SWACL_OK);
    if (kp.attn)
        cr_assert_eq(used.attn, kp.attn, "attention kernel %d, asked for %s", (int)used.attn,
                     swacl_op_variant_name(v));
    if (kp.norm)
        cr_assert_eq(used.norm, kp.norm, "norm kernel %d, asked for %s", (int)used.norm,
                     swacl_op_variant_name(v));
    return p;
}

/* One test: a row of the table and the variant to run it under. Plain ints:
 * Criterion copies parameters into the test's process by value. */
typedef struct {
    int row;
    int variant;
} row_param;

#define MAX_PARAMS 512

/* The TEST rows of one op kind, one parameter per listed variant. */
static size_t collect(swacl_op_kind kind, row_param *p, size_t cap)
{
    size_t n_rows, n = 0;
    const swacl_op_case *rows = swacl_op_cases(&n_rows);
    for (size_t i = 0; i < n_rows; i++) {
        if (rows[i].op != kind || !(rows[i].use & SWACL_OPC_TEST)) continue;
        for (int v = 0; v < SWACL_OPV_COUNT; v++) {
            int listed = rows[i].variants ? (rows[i].variants >> v) & 1u : v == SWACL_OPV_DEFAULT;
            if (listed && n < cap) p[n++] = (row_param){(int)i, v};
        }
    }
    cr_assert(n < cap, "more than %zu test cases for %s", cap, swacl_op_kind_name(kind));
    return n;
}

static void check_row(const row_param *p)
{
    size_t n_rows;
    const swacl_op_case *c = &swacl_op_cases(&n_rows)[p->row];
    const char *kind = swacl_op_kind_name(c->op);
    pair_t P = pair_open_variant((swacl_op_variant)p->variant);
    char what[192];
    if (p->variant != SWACL_OPV_DEFAULT)
        snprintf(what, sizeof what, "%s[%s] '%s'", kind,
                 swacl_op_variant_name((swacl_op_variant)p->variant), c->label);
    else
        snprintf(what, sizeof what, "%s '%s'", kind, c->label);

    swacl_op_check_result res;
    float *od = NULL, *or_ = NULL;
    swacl_status st = swacl_op_check(P.clc, P.refc, c, &res, &od, &or_);
    cr_assert(st == SWACL_OK || st == SWACL_MISMATCH, "%s: %s: %s%s", what,
              swacl_status_string(st), swacl_ctx_errmsg(P.clc), swacl_ctx_errmsg(P.refc));
    size_t off[SWACL_OPC_MAXB], len[SWACL_OPC_MAXB];
    int ns = swacl_op_segments(c, off, len);
    for (int i = 0; i < ns; i++) {
        char seg[224];
        if (c->op == SWACL_OP_ATTENTION) /* one range per sequence */
            snprintf(seg, sizeof seg, "%s seq %d", what, i);
        else
            snprintf(seg, sizeof seg, "%s", what);
        expect_close(seg, od + off[i], or_ + off[i], len[i], c->atol, c->rtol, c->nmse);
    }
    /* the runner's verdict (what a verifying benchmark reports) agrees */
    cr_assert(st == SWACL_OK, "%s: swacl_op_check: %s", what, swacl_ctx_errmsg(P.clc));
    free(od);
    free(or_);
    pair_close(&P);
}

#define OP_TEST(name, kind)                                                  \
    ParameterizedTestParameters(ops, name)                                   \
    {                                                                        \
        static row_param params[MAX_PARAMS];                                 \
        size_t n = collect(kind, params, MAX_PARAMS);                        \
        return cr_make_param_array(row_param, params, n);                    \
    }                                                                        \
    ParameterizedTest(row_param *p, ops, name) { check_row(p); }

OP_TEST(attention, SWACL_OP_ATTENTION)
OP_TEST(matmul, SWACL_OP_MATMUL)
OP_TEST(norm, SWACL_OP_NORM)
OP_TEST(rope, SWACL_OP_ROPE)
OP_TEST(act, SWACL_OP_ACT)
OP_TEST(add, SWACL_OP_ADD)
OP_TEST(scale, SWACL_OP_SCALE)
OP_TEST(embed, SWACL_OP_EMBED)
OP_TEST(gather_rows, SWACL_OP_GATHER_ROWS)
OP_TEST(kv_store, SWACL_OP_KV_STORE)
OP_TEST(softcap, SWACL_OP_SOFTCAP)
OP_TEST(matmul_multi, SWACL_OP_MATMUL_MULTI)
OP_TEST(matmul_glu, SWACL_OP_MATMUL_GLU)

/* Error paths are not table rows: they assert a status, not a comparison. */
Test(ops, attention_bad_head_dim)
{
    pair_t P = pair_open();
    swacl_backend *be = P.cl;
    swacl_buf *b = test_alloc(be, 4 * 260);
    int pos0 = 0, n_new = 2;
    /* the kernels build for multiples of 4 from 4 to 256: 50 and 260 are not */
    swacl_attn_args a = {.B = 1, .T = 2, .H = 2, .Hkv = 2, .d = 50, .q = b, .k = b, .v = b,
                         .pos0 = &pos0, .n_new = &n_new, .span = SWACL_SPAN_GLOBAL,
                         .scale = 0.1f, .out = b};
    swacl_status st = be->iface->attention(be, &a);
    cr_assert_eq(st, SWACL_UNSUPPORTED, "got %s", swacl_status_string(st));
    cr_assert(strstr(swacl_ctx_errmsg(P.clc), "50") != NULL, "message: %s",
              swacl_ctx_errmsg(P.clc));
    a.d = 260;
    st = be->iface->attention(be, &a);
    cr_assert_eq(st, SWACL_UNSUPPORTED, "got %s", swacl_status_string(st));
    cr_assert(strstr(swacl_ctx_errmsg(P.clc), "260") != NULL, "message: %s",
              swacl_ctx_errmsg(P.clc));
    a.d = 64;
    a.Hkv = 3; /* does not divide H */
    st = be->iface->attention(be, &a);
    cr_assert_eq(st, SWACL_INVALID_ARG, "got %s", swacl_status_string(st));
    be->iface->buf_free(be, b);
    pair_close(&P);
}

/* ======================================================================== */
/* the table itself                                                          */

Test(op_cases, rows_are_well_formed)
{
    size_t n;
    const swacl_op_case *c = swacl_op_cases(&n);
    cr_assert(n > 0);
    for (size_t i = 0; i < n; i++) {
        const char *l = c[i].label;
        cr_assert(l && *l, "row %zu: no label", i);
        cr_assert((unsigned)c[i].op < SWACL_OP_KIND_COUNT, "'%s': op kind %d", l, (int)c[i].op);
        cr_assert(c[i].use != 0, "'%s': used nowhere", l);
        cr_assert(c[i].atol >= 0 && c[i].rtol >= 0 && c[i].nmse >= 0, "'%s': tolerance", l);
        cr_assert(swacl_op_case_find(l) == &c[i], "'%s': label not unique", l);
        for (int v = 1; v < SWACL_OPV_COUNT; v++)
            if ((c[i].variants >> v) & 1u)
                cr_assert(swacl_op_variant_kind((swacl_op_variant)v) == (int)c[i].op,
                          "'%s': variant '%s' is not a %s kernel", l,
                          swacl_op_variant_name((swacl_op_variant)v),
                          swacl_op_kind_name(c[i].op));
        int B = c[i].op == SWACL_OP_ATTENTION ? c[i].attn.B
                : c[i].op == SWACL_OP_ROPE    ? c[i].rope.B
                : c[i].op == SWACL_OP_KV_STORE ? c[i].kv.B
                                               : 1;
        cr_assert(B >= 1 && B <= SWACL_OPC_MAXB, "'%s': B = %d", l, B);
        cr_assert(swacl_op_output_size(&c[i]) > 0, "'%s': empty output", l);
    }
    cr_assert_null(swacl_op_case_find("no such row"));
}

/* The kernel benchmark's case list as it was before it read this table
 * (cmd_bench.c's build_ops at 59e68bf), rebuilt the way it was built there:
 * the BENCH / BENCH_QUICK rows that swacl_bench_ops (host/bench/bench_ops.c)
 * now times must be exactly these, in this order, so the benchmark's names
 * and JSON stay the same. */
static size_t bench_labels(int quick, char out[][64], size_t cap)
{
    size_t n = 0;
    const int Ls[] = {1024, 4096, 16384}, Ws[] = {128, 512, 4096};
    int nL = quick ? 2 : 3, nW = quick ? 2 : 3;
    for (int i = 0; i < nL; i++)
        for (int j = 0; j < nW && n < cap; j++)
            snprintf(out[n++], 64, "attn band L=%d W=%d", Ls[i], Ws[j]);
    const int Gs[] = {1024, 4096};
    for (int i = 0; i < (quick ? 1 : 2) && n < cap; i++)
        snprintf(out[n++], 64, "attn causal L=%d", Gs[i]);
    swacl_config cfg;
    cr_assert(swacl_preset("cohere2", &cfg) == SWACL_OK);
    /* elementwise rows past the last-level cache, in both runs */
    int D = cfg.hidden_size, F = cfg.ffn_dim, R = 65536, RF = 16384;
    int QKV = (cfg.n_heads + 2 * cfg.n_kv_heads) * cfg.head_dim;
    if (n + 3 <= cap) {
        snprintf(out[n++], 64, "rope %dx%d", R, cfg.n_heads * cfg.head_dim);
        snprintf(out[n++], 64, "rmsnorm %dx%d", R, D);
        snprintf(out[n++], 64, "swiglu %dx%d", RF, F);
    }
    const int rows[] = {1024, 4096};
    for (int i = 0; i < (quick ? 1 : 2); i++) {
        int shapes[3][2] = {{QKV, D}, {F, D}, {D, F}};
        const char *lab[3] = {"qkv", "up/gate", "down"};
        for (int s = 0; s < 3 && n < cap; s++)
            snprintf(out[n++], 64, "gemm %s %dx%d<-%d", lab[s], rows[i], shapes[s][0],
                     shapes[s][1]);
    }
    return n;
}

Test(op_cases, bench_rows_are_the_benchmark_list)
{
    swacl_config cfg;
    cr_assert(swacl_preset("cohere2", &cfg) == SWACL_OK);
    size_t n;
    const swacl_op_case *c = swacl_op_cases(&n);
    for (int quick = 0; quick < 2; quick++) {
        char want[40][64];
        size_t nw = bench_labels(quick, want, 40), k = 0;
        unsigned flag = quick ? SWACL_OPC_BENCH_QUICK : SWACL_OPC_BENCH;
        for (size_t i = 0; i < n; i++) {
            if (!(c[i].use & flag)) continue;
            cr_assert(k < nw, "%s: extra bench row '%s'", quick ? "quick" : "full", c[i].label);
            cr_assert_str_eq(c[i].label, want[k], "%s bench row %zu", quick ? "quick" : "full",
                             k);
            k++;
            cr_assert_eq(c[i].variants, 0u, "'%s': the benchmark times the default kernel",
                         c[i].label);
            /* the shapes behind the names: cohere2 dims */
            const swacl_op_case *r = &c[i];
            switch (r->op) {
            case SWACL_OP_ATTENTION:
                cr_assert(r->attn.B == 1 && r->attn.H == cfg.n_heads &&
                              r->attn.Hkv == cfg.n_kv_heads && r->attn.d == cfg.head_dim &&
                              r->attn.cap == 0 && r->attn.pos0[0] == 0 && r->attn.n_new[0] == 0,
                          "'%s'", r->label);
                break;
            case SWACL_OP_ROPE:
                cr_assert(r->rope.nh == cfg.n_heads && r->rope.d == cfg.head_dim, "'%s'",
                          r->label);
                break;
            case SWACL_OP_NORM:
                cr_assert(r->norm.n == cfg.hidden_size && r->norm.kind == SWACL_NORM_RMS, "'%s'",
                          r->label);
                break;
            case SWACL_OP_ACT:
                cr_assert(r->elt.n == cfg.ffn_dim && r->elt.ffn == SWACL_FFN_SWIGLU, "'%s'",
                          r->label);
                break;
            case SWACL_OP_MATMUL:
                cr_assert(!r->mm.bias && !r->mm.accumulate, "'%s'", r->label);
                break;
            default: cr_assert_fail("'%s': no benchmark of %s", r->label,
                                    swacl_op_kind_name(r->op));
            }
        }
        cr_assert_eq(k, nw, "%s bench: %zu rows, want %zu", quick ? "quick" : "full", k, nw);
    }
    /* the work figures cmd_bench printed rates from */
    double fl, by;
    swacl_op_work(swacl_op_case_find("attn band L=4096 W=512"), &fl, &by);
    cr_assert_float_eq(fl, 4.0 * 64 * 4 * (4096.0 * 512 - 512.0 * 511 / 2), 1e-3);
    swacl_op_work(swacl_op_case_find("attn causal L=1024"), &fl, &by);
    cr_assert_float_eq(fl, 4.0 * 64 * 4 * (1024.0 * 1025 / 2), 1e-3);
    swacl_op_work(swacl_op_case_find("gemm down 1024x256<-768"), &fl, &by);
    cr_assert_float_eq(fl, 2.0 * 1024 * 256 * 768, 1e-3);
    swacl_op_work(swacl_op_case_find("rmsnorm 4096x256"), &fl, &by);
    cr_assert_float_eq(by, 4.0 * (2.0 * 4096 * 256 + 256), 1e-3);
    swacl_op_work(swacl_op_case_find("swiglu 4096x768"), &fl, &by);
    cr_assert_float_eq(by, 3.0 * 4.0 * 4096 * 768, 1e-3);
    swacl_op_work(swacl_op_case_find("rope 4096x256"), &fl, &by);
    cr_assert_float_eq(by, 2.0 * 4.0 * 4096 * 256, 1e-3);
}

/* The runner's verdict on the reference against itself: exact; with an
 * impossible tolerance: SWACL_MISMATCH naming the row. No device needed. */
Test(op_cases, check_verdict)
{
    swacl_ctx *a = test_ref_ctx(), *b = test_ref_ctx();
    swacl_op_case c = *swacl_op_case_find("global cache ragged");
    swacl_op_check_result r;
    float *oa = NULL, *ob = NULL;
    cr_assert_eq(swacl_op_check(a, b, &c, &r, &oa, &ob), SWACL_OK, "%s", swacl_ctx_errmsg(a));
    cr_assert(oa && ob);
    cr_assert_eq(r.worst.max_abs_err, 0.0);
    cr_assert_eq(r.worst.n_bad, 0);
    cr_assert(r.segment >= 0 && r.segment < 2);
    free(oa);
    free(ob);
    c.atol = -1.0; /* every element over */
    cr_assert_eq(swacl_op_check(a, b, &c, &r, NULL, NULL), SWACL_MISMATCH);
    cr_assert(strstr(swacl_ctx_errmsg(a), "'global cache ragged'") != NULL, "%s",
              swacl_ctx_errmsg(a));
    cr_assert_eq(r.segment, 0);
    cr_assert_eq(r.worst.n_bad, (size_t)20 * 4 * 32, "n_bad %zu", r.worst.n_bad);
    swacl_ctx_destroy(a);
    swacl_ctx_destroy(b);
}

/* ======================================================================== */
/* swacl_compare                                                             */

Test(compare, counts_and_stats)
{
    const float ref[5] = {1.0f, 2.0f, -4.0f, 0.0f, 8.0f};
    const float a[5] = {1.0f, 2.25f, -4.5f, 1e-7f, 8.0f};
    /* thresholds atol + rtol|ref|: 0.11, 0.21, 0.41, 0.01, 0.81 */
    swacl_compare_result r = swacl_compare(a, ref, 5, 0.01, 0.1);
    cr_assert_eq(r.n_bad, 2, "n_bad %zu", r.n_bad); /* 0.25 > 0.21, 0.5 > 0.41 */
    cr_assert_eq(r.nonfinite, 0);
    cr_assert_float_eq(r.max_abs_err, 0.5, 1e-12);
    cr_assert_eq(r.worst, 2);
    double num = 0.0625 + 0.25 + (double)1e-7f * (double)1e-7f;
    cr_assert_float_eq(r.nmse, num / (1 + 4 + 16 + 64), 1e-15);
    /* a larger rtol admits both */
    cr_assert_eq(swacl_compare(a, ref, 5, 0.01, 0.2).n_bad, 0);
    /* equal arrays, and n = 0 */
    r = swacl_compare(ref, ref, 5, 0, 0);
    cr_assert(r.max_abs_err == 0 && r.nmse == 0 && r.n_bad == 0 && r.nonfinite == 0);
    r = swacl_compare(NULL, NULL, 0, 0, 0);
    cr_assert(r.max_abs_err == 0 && r.worst == 0 && r.nmse == 0 && r.n_bad == 0 &&
              r.nonfinite == 0);
}

Test(compare, nan_and_inf)
{
    const float ref[6] = {1.0f, INFINITY, INFINITY, 4.0f, -INFINITY, NAN};
    const float a[6] = {NAN, INFINITY, -INFINITY, 5.0f, -INFINITY, NAN};
    swacl_compare_result r = swacl_compare(a, ref, 6, 0.0, 0.0);
    /* every pair with a NaN/Inf on either side, matching infinities too */
    cr_assert_eq(r.nonfinite, 5, "nonfinite %zu", r.nonfinite);
    /* statistics over the one finite pair only, which alone is "bad" */
    cr_assert_eq(r.n_bad, 1);
    cr_assert_float_eq(r.max_abs_err, 1.0, 1e-12);
    cr_assert_eq(r.worst, 3);
    cr_assert_float_eq(r.nmse, 1.0 / 16.0, 1e-15);
    /* nothing finite: zero statistics, all counted non-finite */
    r = swacl_compare(a, ref, 3, 0.0, 0.0);
    cr_assert(r.nonfinite == 3 && r.n_bad == 0 && r.max_abs_err == 0 && r.nmse == 0);
    /* the test helper's rule on top: matching infinities pass, NaN never */
    cmp_result c = cmp_arrays(a + 1, ref + 1, 1, 0, 0);
    cr_assert_eq(c.nonfinite, 0);
    c = cmp_arrays(a, ref, 6, 0, 0);
    cr_assert_eq(c.nonfinite, 3, "helper nonfinite %d", c.nonfinite); /* NaN, -inf vs inf, NaN */
    cr_assert_eq(c.first_bad, 0);
    cr_assert_eq(c.n_bad, 1);
}

Test(compare, all_zero_reference)
{
    const float ref[3] = {0.0f, 0.0f, 0.0f};
    const float a[3] = {0.0f, 3.0f, -4.0f};
    swacl_compare_result r = swacl_compare(a, ref, 3, 1.0, 0.5);
    cr_assert_float_eq(r.nmse, 25.0, 1e-12); /* the plain sum of squares */
    cr_assert_float_eq(r.max_abs_err, 4.0, 1e-12);
    cr_assert_eq(r.worst, 2);
    cr_assert_eq(r.n_bad, 2);
    r = swacl_compare(ref, ref, 3, 0, 0);
    cr_assert_eq(r.nmse, 0.0);
    /* helper: first offender and the counts carry through */
    cmp_result c = cmp_arrays(a, ref, 3, 1.0, 0.5);
    cr_assert(c.first_bad == 1 && c.n_bad == 2 && c.worst == 2 && c.nmse == 25.0);
}
