/*
 * test_quant.c - weight storage types (host/model/quant.c, swacl_wtype).
 *
 *   encoders:  swacl_row_encode gives the bytes of independent encoders on
 *              tests/fixtures/quant (tools/make_quant_fixture.py): numpy's
 *              float16, torch's bfloat16, and gguf-py's Q8_0 / Q4_0 (the
 *              llama.cpp project's port of quantize_row_q{8,4}_0_ref).
 *   roundtrip: every finite f16 / bf16 bit pattern decodes and re-encodes
 *              to itself; q8_0 / q4_0 decoding errors stay within half a
 *              quantization step.
 *   convert:   swacl_weights_convert stores 2-D tensors in the type, 1-D
 *              in float32, and reports bytes per type.
 *   fixtures:  the transformers fixtures loaded in every storage type
 *              (swacl_ctx_params.weights): the OpenCL device against the
 *              reference on the same packed bytes (NMSE <= 1e-9, prefill and
 *              decode), and the model against transformers' float32 logits
 *              (issue 11: f16/bf16 max|a-b|/max|b| <= 1e-2 and the same
 *              greedy tokens for 32 steps; q8_0 NMSE <= 1e-3; q4_0 <= 2e-2 on
 *              the trained fixture, a 5e-2 regression bound on the random-init
 *              ones, see the test).
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/file.h"
#include "helpers.h"
#include "model/hf.h"

#define QDIR SWACL_SOURCE_DIR "/tests/fixtures/quant"

static uint8_t *read_bin(const char *name, size_t *len)
{
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/%s", QDIR, name);
    uint8_t *buf = NULL;
    cr_assert(swacl_file_read_msg(path, 1 << 20, &buf, len, err, sizeof err) == SWACL_OK, "%s",
              err);
    return buf;
}

Test(quant, encoders_match_independent_implementations)
{
    float *x = NULL;
    int nd;
    int64_t sh[4];
    char err[256];
    cr_assert(swacl_npy_read_f32(QDIR "/input.npy", &x, &nd, sh, err, sizeof err) == SWACL_OK, "%s",
              err);
    cr_assert(nd == 2 && sh[1] % 32 == 0);
    const int R = (int)sh[0], K = (int)sh[1];
    const struct {
        swacl_wtype t;
        const char *file;
    } k[] = {{SWACL_WT_F16, "f16.bin"},
             {SWACL_WT_BF16, "bf16.bin"},
             {SWACL_WT_Q8_0, "q8_0.bin"},
             {SWACL_WT_Q4_0, "q4_0.bin"}};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        size_t len, rb = swacl_wtype_row_bytes(k[i].t, K);
        uint8_t *want = read_bin(k[i].file, &len);
        cr_assert_eq(len, rb * R, "%s: %zu bytes, want %zu", k[i].file, len, rb * R);
        uint8_t *got = malloc(len);
        for (int r = 0; r < R; r++) swacl_row_encode(k[i].t, x + (size_t)r * K, got + r * rb, K);
        for (size_t b = 0; b < len; b++)
            cr_expect(got[b] == want[b], "%s: byte %zu (row %zu) is 0x%02x, want 0x%02x",
                      swacl_wtype_name(k[i].t), b, b / rb, got[b], want[b]);
        free(got);
        free(want);
    }
    free(x);
}

/* The loader's NaN/Inf scan by exponent bits: the first bad index in each
 * float type, at block edges of the scan (0, 63, 64, the last), n when all
 * values are finite (including the largest finite ones and -0). */
Test(quant, first_nonfinite_by_bits)
{
    const size_t n = 131;
    const size_t at[] = {0, 63, 64, 100, 130};
    float f[131];
    uint16_t h[131], bf[131];
    for (int kind = 0; kind < 3; kind++) {
        const float bad = kind == 0 ? NAN : kind == 1 ? INFINITY : -INFINITY;
        for (size_t a = 0; a <= sizeof at / sizeof at[0]; a++) {
            for (size_t i = 0; i < n; i++) {
                f[i] = i % 3 == 0 ? 65504.0f : i % 3 == 1 ? -0.0f : (float)i * -0.37f;
                h[i] = swacl_f32_to_f16(f[i]);
                bf[i] = swacl_f32_to_bf16(f[i]);
            }
            f[7] = 3.0e38f; /* finite in f32 (not in f16: stays out of h) */
            size_t want = n;
            if (a < sizeof at / sizeof at[0]) {
                want = at[a];
                f[want] = bad;
                h[want] = swacl_f32_to_f16(bad);
                bf[want] = swacl_f32_to_bf16(bad);
            }
            cr_assert_eq(swacl_wtype_first_nonfinite(SWACL_WT_F32, f, n), want, "f32 %zu", want);
            cr_assert_eq(swacl_wtype_first_nonfinite(SWACL_WT_F16, h, n), want, "f16 %zu", want);
            cr_assert_eq(swacl_wtype_first_nonfinite(SWACL_WT_BF16, bf, n), want, "bf16 %zu",
                         want);
        }
    }
    cr_assert_eq(swacl_wtype_first_nonfinite(SWACL_WT_Q8_0, f, n), n); /* no float bits */
}

Test(quant, half_and_bfloat_roundtrip_every_pattern)
{
    for (uint32_t h = 0; h < 65536; h++) {
        uint8_t b[2] = {(uint8_t)h, (uint8_t)(h >> 8)}, o[2];
        float f;
        swacl_row_decode(SWACL_WT_F16, b, &f, 1);
        if (!isnan(f)) {
            swacl_row_encode(SWACL_WT_F16, &f, o, 1);
            cr_assert(o[0] == b[0] && o[1] == b[1], "f16 0x%04x -> %g -> 0x%02x%02x", h, f, o[1], o[0]);
        }
        swacl_row_decode(SWACL_WT_BF16, b, &f, 1);
        if (!isnan(f)) {
            swacl_row_encode(SWACL_WT_BF16, &f, o, 1);
            cr_assert(o[0] == b[0] && o[1] == b[1], "bf16 0x%04x -> %g", h, f);
        }
    }
}

Test(quant, block_decode_within_half_a_step)
{
    enum { K = 256 };
    float x[K], y[K];
    uint8_t buf[K * 2];
    fill_uniform(x, K, 5, 3.0f);
    const swacl_wtype ts[] = {SWACL_WT_Q8_0, SWACL_WT_Q4_0};
    for (int i = 0; i < 2; i++) {
        swacl_row_encode(ts[i], x, buf, K);
        swacl_row_decode(ts[i], buf, y, K);
        for (int b = 0; b < K / 32; b++) {
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[b * 32 + j]));
            /* a step is amax/127 (q8) or amax/8 (q4); the f16 scale adds
             * a relative 2^-11 of the value */
            float step = ts[i] == SWACL_WT_Q8_0 ? amax / 127 : amax / 8;
            /* q4_0 spans [-8d, 7d] with d = -max/8: the values opposite in
             * sign to max clip to 7d, up to one whole step away */
            float bound = ts[i] == SWACL_WT_Q8_0 ? 0.5f * step : step;
            for (int j = 0; j < 32; j++) {
                float e = fabsf(y[b * 32 + j] - x[b * 32 + j]);
                cr_expect(e <= bound * 1.001f + amax * 1e-3f, "%s block %d [%d]: %g vs %g",
                          swacl_wtype_name(ts[i]), b, j, y[b * 32 + j], x[b * 32 + j]);
            }
        }
    }
}

Test(quant, convert_types_and_bytes)
{
    swacl_config c;
    cr_assert(swacl_preset("cohere2", &c) == SWACL_OK);
    for (int t = SWACL_WT_F32; t < SWACL_WT_COUNT; t++) {
        swacl_weights *w = NULL;
        cr_assert(swacl_weights_create_random(&c, 3, &w) == SWACL_OK);
        swacl_ctx *ctx = test_ref_ctx();
        cr_assert(swacl_weights_convert(ctx, w, (swacl_wtype)t) == SWACL_OK, "%s",
                  swacl_ctx_errmsg(ctx));
        uint64_t want = 0, f32 = 0;
        for (int i = 0; i < swacl_weights_count(w); i++) {
            int nd;
            int64_t sh[4];
            const float *data;
            const char *name = swacl_weights_name(w, i, &nd, sh, &data);
            swacl_wtype got = swacl_weights_type(w, i);
            swacl_wtype exp = swacl_wtype_for(name, nd, sh[nd - 1], (swacl_wtype)t);
            cr_expect(got == exp, "%s: %s is %s", swacl_wtype_name((swacl_wtype)t), name,
                      swacl_wtype_name(got));
            cr_expect((data != NULL) == (got == SWACL_WT_F32), "%s: float view", name);
            uint64_t b = (uint64_t)swacl_wtype_row_bytes(got, sh[nd - 1]) * (nd == 2 ? sh[0] : 1);
            want += b;
            if (got == SWACL_WT_F32) f32 += b;
        }
        cr_expect_eq(swacl_weights_bytes(w, SWACL_WT_AUTO), want, "%s total bytes",
                     swacl_wtype_name((swacl_wtype)t));
        cr_expect_eq(swacl_weights_bytes(w, SWACL_WT_F32), f32);
        swacl_ctx_destroy(ctx);
        swacl_weights_destroy(w);
    }
    cr_expect_eq(swacl_wtype_parse("q4_0"), SWACL_WT_Q4_0);
    cr_expect_eq(swacl_wtype_parse("int3"), -1);
}

/* ------------------------------------------------------------------------ */
/* fixtures in every storage type                                            */

static int32_t *read_ids(const char *dir, int *B, int *T)
{
    char path[600], err[256];
    snprintf(path, sizeof path, "%s/ids.txt", dir);
    uint8_t *buf;
    size_t len;
    cr_assert(swacl_file_read_msg(path, SWACL_FILE_MAX_IDS, &buf, &len, err, sizeof err) == SWACL_OK);
    int32_t *ids = malloc(len * sizeof *ids + 4);
    int n = 0, rows = 0;
    char *save = NULL;
    for (char *line = strtok_r((char *)buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        int c = 0;
        for (char *t = strtok(line, " \t\r"); t; t = strtok(NULL, " \t\r")) ids[n++] = atoi(t), c++;
        if (c) rows++;
    }
    free(buf);
    *B = rows;
    *T = rows ? n / rows : 0;
    return ids;
}

static swacl_weights *load_as(const char *dir, swacl_wtype t, swacl_config *cfg)
{
    swacl_ctx_params p = swacl_ctx_params_default();
    p.device = "ref";
    p.weights = t;
    swacl_ctx *ctx = NULL;
    cr_assert(swacl_ctx_create(&p, &ctx) == SWACL_OK);
    swacl_weights *w = NULL;
    cr_assert(swacl_load_hf(ctx, dir, cfg, &w) == SWACL_OK, "%s", swacl_ctx_errmsg(ctx));
    swacl_ctx_destroy(ctx);
    return w;
}

static double nmse(const float *a, const float *b, size_t n)
{
    double e = 0, s = 0;
    for (size_t i = 0; i < n; i++) e += ((double)a[i] - b[i]) * ((double)a[i] - b[i]), s += (double)b[i] * b[i];
    return s > 0 ? e / s : e;
}

static int argmax(const float *x, int n)
{
    int k = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[k]) k = i;
    return k;
}

/* Greedy continuation of prompt row 0 for `steps` tokens on model m. */
static void greedy(swacl_model *m, const int32_t *prompt, int T, int V, int steps, int32_t *out)
{
    swacl_session *s = NULL;
    cr_assert(swacl_session_create(m, 1, T + steps, &s) == SWACL_OK);
    float *lg = calloc((size_t)V, sizeof *lg);
    swacl_input in = {1, T, prompt, NULL};
    cr_assert(swacl_session_prefill(s, &in, 0, lg) == SWACL_OK);
    for (int i = 0; i < steps; i++) {
        out[i] = argmax(lg, V);
        if (i + 1 < steps) cr_assert(swacl_session_step(s, 1, NULL, &out[i], NULL, lg) == SWACL_OK);
    }
    free(lg);
    swacl_session_destroy(s);
}

/* stored: the checkpoint's dtype. The greedy criterion is the for
 * f32 checkpoints; an f16 file re-encoded as bf16 loses mantissa bits the
 * f32 baseline (the f16 values) keeps, so there it is not asked. */
static void fixture_types(const char *arch, swacl_wtype stored)
{
    char dir[512], path[600], err[256];
    snprintf(dir, sizeof dir, "%s/tests/fixtures/%s", SWACL_SOURCE_DIR, arch);
    int B, T;
    int32_t *ids = read_ids(dir, &B, &T);
    float *tf = NULL; /* transformers, float32 */
    int nd;
    int64_t sh[4];
    snprintf(path, sizeof path, "%s/logits.npy", dir);
    cr_assert(swacl_npy_read_f32(path, &tf, &nd, sh, err, sizeof err) == SWACL_OK, "%s", err);
    swacl_ctx *cl = test_cl_ctx(), *ref = test_ref_ctx();
    swacl_config cfg;
    const int steps = 32;
    int32_t g32[32], gt[32];
    for (int t = SWACL_WT_F32; t < SWACL_WT_COUNT; t++) {
        swacl_weights *w = load_as(dir, (swacl_wtype)t, &cfg);
        const int V = cfg.vocab_size;
        const size_t n = (size_t)B * T * V;
        swacl_model *md = NULL, *mr = NULL;
        cr_assert(swacl_model_create(cl, &cfg, w, &md) == SWACL_OK, "%s", swacl_ctx_errmsg(cl));
        cr_assert(swacl_model_create(ref, &cfg, w, &mr) == SWACL_OK, "%s", swacl_ctx_errmsg(ref));
        float *yd = calloc(n, sizeof *yd), *yr = calloc(n, sizeof *yr);
        swacl_input in = {B, T, ids, NULL};
        cr_assert(swacl_model_forward(md, &in, 1, yd) == SWACL_OK, "%s", swacl_ctx_errmsg(cl));
        cr_assert(swacl_model_forward(mr, &in, 1, yr) == SWACL_OK, "%s", swacl_ctx_errmsg(ref));
        const char *tn = swacl_wtype_name((swacl_wtype)t);
        double own = nmse(yd, yr, n), vs = nmse(yr, tf, n), mx = 0, mb = 0;
        for (size_t i = 0; i < n; i++) mx = fmax(mx, fabs((double)yr[i] - tf[i])), mb = fmax(mb, fabs(tf[i]));
        greedy(md, ids, T, V, steps, t == SWACL_WT_F32 ? g32 : gt);
        int same = 0;
        if (t != SWACL_WT_F32)
            while (same < steps && gt[same] == g32[same]) same++;
        fprintf(stderr,
                "[quant] %-12s %-5s device vs own ref nmse %.2e | vs f32 (transformers) nmse %.2e "
                "max|a-b|/max|b| %.2e | greedy %d/%d | weights %llu bytes\n",
                arch, tn, own, vs, mx / mb, t == SWACL_WT_F32 ? steps : same, steps,
                (unsigned long long)swacl_weights_bytes(w, SWACL_WT_AUTO));
        cr_expect(own <= 1e-9, "%s %s: device vs its reference nmse %.3e > 1e-9", arch, tn, own);
        if (t == SWACL_WT_F16 || t == SWACL_WT_BF16) {
            cr_expect(mx / mb <= 1e-2, "%s %s: max|a-b|/max|b| %.3e > 1e-2", arch, tn, mx / mb);
            if (stored == SWACL_WT_F32 || stored == (swacl_wtype)t)
                cr_expect(same == steps, "%s %s: greedy tokens differ from f32 at step %d", arch,
                          tn, same);
        }
        if (t == SWACL_WT_Q8_0) cr_expect(vs <= 1e-3, "%s q8_0: nmse %.3e > 1e-3", arch, vs);
        /* issue 11's q4_0 bar (2e-2) holds on the trained fixture; the
         * random-init ones (Gaussian weights, no structure) amplify the same
         * per-weight error (7.4e-3, llama.cpp's exact q4_0) to 2.8e-2 ..
         * 4.4e-2 of the logits: there the bound guards against regressions */
        const double q4_bar = strcmp(arch, "llama_trained") == 0 ? 2e-2 : 5e-2;
        if (t == SWACL_WT_Q4_0)
            cr_expect(vs <= q4_bar, "%s q4_0: nmse %.3e > %.0e", arch, vs, q4_bar);
        /* decode on the device vs the reference, 4 steps after a prefill */
        swacl_session *sd = NULL, *sr = NULL;
        cr_assert(swacl_session_create(md, B, T, &sd) == SWACL_OK);
        cr_assert(swacl_session_create(mr, B, T, &sr) == SWACL_OK);
        int32_t *pre = malloc((size_t)B * (T - 4) * sizeof *pre);
        for (int b = 0; b < B; b++) memcpy(pre + (size_t)b * (T - 4), ids + (size_t)b * T, (size_t)(T - 4) * 4);
        swacl_input pin = {B, T - 4, pre, NULL};
        cr_assert(swacl_session_prefill(sd, &pin, 0, yd) == SWACL_OK);
        cr_assert(swacl_session_prefill(sr, &pin, 0, yr) == SWACL_OK);
        for (int s = T - 4; s < T; s++) {
            int32_t tok[8];
            for (int b = 0; b < B; b++) tok[b] = ids[(size_t)b * T + s];
            cr_assert(swacl_session_step(sd, 1, NULL, tok, NULL, yd) == SWACL_OK);
            cr_assert(swacl_session_step(sr, 1, NULL, tok, NULL, yr) == SWACL_OK);
            /* an f16 KV cache (the default for these types) rounds K/V on
             * both sides, but a value within ~1e-7 of a rounding boundary
             * can land on the other f16 neighbour (1e-3 relative): the
             * bound is 1e-8 there (measured up to 2.0e-9), 1e-9 otherwise */
            const double bar = swacl_session_kv_type(sd) == SWACL_WT_F16 ? 1e-8 : 1e-9;
            double e = nmse(yd, yr, (size_t)B * V);
            cr_expect(e <= bar, "%s %s decode t=%d: nmse %.3e > %.0e", arch, tn, s, e, bar);
        }
        free(pre);
        swacl_session_destroy(sd);
        swacl_session_destroy(sr);
        free(yd);
        free(yr);
        swacl_model_destroy(md);
        swacl_model_destroy(mr);
        swacl_weights_destroy(w);
    }
    swacl_ctx_destroy(cl);
    swacl_ctx_destroy(ref);
    free(tf);
    free(ids);
}

Test(quant, fixture_cohere2_every_type) { fixture_types("cohere2", SWACL_WT_F32); }
Test(quant, fixture_smollm3_every_type) { fixture_types("smollm3", SWACL_WT_F32); }
Test(quant, fixture_llama4_text_every_type) { fixture_types("llama4_text", SWACL_WT_F32); }
Test(quant, fixture_llama_bf16_file_every_type) { fixture_types("llama", SWACL_WT_BF16); }
Test(quant, fixture_mistral_f16_file_every_type) { fixture_types("mistral", SWACL_WT_F16); }
Test(quant, fixture_llama_trained_every_type) { fixture_types("llama_trained", SWACL_WT_F32); }

/* An OpenCL (or "ref") context whose sessions store K/V as kv. */
static swacl_ctx *ctx_kv(const char *device, swacl_wtype kv)
{
    swacl_ctx_params p = swacl_ctx_params_default();
    p.device = device;
    p.kv_type = kv;
    swacl_ctx *ctx = NULL;
    cr_assert(swacl_ctx_create(&p, &ctx) == SWACL_OK, "%s", ctx ? swacl_ctx_errmsg(ctx) : "?");
    return ctx;
}

/* The f16 KV cache (swacl_ctx_params.kv_type) against the float32 cache on
 * the same f32 weights: the same greedy tokens for 32 steps and, over the
 * prefill and every decode step, logits max|a-b|/max|b| <= 1e-2 (measured
 * 1e-4 .. 1e-3: see the [kv] line); against the reference with the same
 * f16 cache (which rounds K/V like vstore_half_rte) nmse <= 1e-8 (a value
 * within float rounding of an f16 boundary may round the other way on the
 * device: measured up to 2e-9, vs 1e-13 with float caches); half the bytes. cohere2's window of 5 makes the ring wrap. */
static void kv_f16_fixture(const char *arch)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/tests/fixtures/%s", SWACL_SOURCE_DIR, arch);
    int B, T;
    int32_t *ids = read_ids(dir, &B, &T);
    swacl_ctx *probe = test_cl_ctx(); /* skips without a device */
    swacl_ctx_destroy(probe);
    const char *env = getenv("SWACL_TEST_DEVICE");
    const char *dev = env && *env ? env : NULL;
    swacl_ctx *c32 = ctx_kv(dev, SWACL_WT_F32), *c16 = ctx_kv(dev, SWACL_WT_F16);
    swacl_ctx *r16 = ctx_kv("ref", SWACL_WT_F16);
    swacl_config cfg;
    swacl_weights *w = load_as(dir, SWACL_WT_F32, &cfg);
    const int V = cfg.vocab_size, steps = 32;
    swacl_model *m32 = NULL, *m16 = NULL, *mr = NULL;
    cr_assert(swacl_model_create(c32, &cfg, w, &m32) == SWACL_OK, "%s", swacl_ctx_errmsg(c32));
    cr_assert(swacl_model_create(c16, &cfg, w, &m16) == SWACL_OK, "%s", swacl_ctx_errmsg(c16));
    cr_assert(swacl_model_create(r16, &cfg, w, &mr) == SWACL_OK, "%s", swacl_ctx_errmsg(r16));
    int32_t g32[32], g16[32];
    greedy(m32, ids, T, V, steps, g32);
    greedy(m16, ids, T, V, steps, g16);
    int same = 0;
    while (same < steps && g16[same] == g32[same]) same++;
    swacl_session *s32 = NULL, *s16 = NULL, *sr = NULL;
    cr_assert(swacl_session_create(m32, 1, T + steps, &s32) == SWACL_OK);
    cr_assert(swacl_session_create(m16, 1, T + steps, &s16) == SWACL_OK);
    cr_assert(swacl_session_create(mr, 1, T + steps, &sr) == SWACL_OK);
    cr_expect(swacl_session_kv_type(s32) == SWACL_WT_F32 && swacl_session_kv_type(s16) == SWACL_WT_F16);
    cr_expect(swacl_session_kv_bytes(s16) * 2 == swacl_session_kv_bytes(s32), "%s: f16 kv %llu bytes, f32 %llu",
              arch, (unsigned long long)swacl_session_kv_bytes(s16),
              (unsigned long long)swacl_session_kv_bytes(s32));
    cr_expect(swacl_session_kv_bytes(s16) == swacl_kv_bytes_ex(&cfg, SWACL_WT_F16, 1, T + steps, NULL, NULL));
    float *a = calloc((size_t)V, sizeof *a), *b = calloc((size_t)V, sizeof *b), *r = calloc((size_t)V, sizeof *r);
    swacl_input in = {1, T, ids, NULL};
    double rel = 0, own = 0;
    for (int s = -1; s < steps; s++) { /* s = -1: the prefill */
        if (s < 0) {
            cr_assert(swacl_session_prefill(s32, &in, 0, b) == SWACL_OK);
            cr_assert(swacl_session_prefill(s16, &in, 0, a) == SWACL_OK);
            cr_assert(swacl_session_prefill(sr, &in, 0, r) == SWACL_OK);
        } else {
            cr_assert(swacl_session_step(s32, 1, NULL, &g32[s], NULL, b) == SWACL_OK);
            cr_assert(swacl_session_step(s16, 1, NULL, &g32[s], NULL, a) == SWACL_OK);
            cr_assert(swacl_session_step(sr, 1, NULL, &g32[s], NULL, r) == SWACL_OK);
        }
        double mx = 0, mb = 0;
        for (int i = 0; i < V; i++) mx = fmax(mx, fabs((double)a[i] - b[i])), mb = fmax(mb, fabs(b[i]));
        rel = fmax(rel, mx / mb);
        own = fmax(own, nmse(a, r, (size_t)V));
    }
    fprintf(stderr, "[kv] %-10s f16 vs f32 cache: greedy %d/%d, logits max|a-b|/max|b| %.2e; device vs ref "
            "(f16 cache) nmse %.2e; kv bytes %llu vs %llu\n", arch, same, steps, rel, own,
            (unsigned long long)swacl_session_kv_bytes(s16), (unsigned long long)swacl_session_kv_bytes(s32));
    cr_expect(same == steps, "%s: f16 kv greedy tokens differ from the f32 cache at step %d", arch, same);
    cr_expect(rel <= 1e-2, "%s: f16 kv logits max|a-b|/max|b| %.3e > 1e-2", arch, rel);
    cr_expect(own <= 1e-8, "%s: f16 kv device vs reference nmse %.3e > 1e-8", arch, own);
    cr_expect(rel > 0, "%s: the f16 cache changed nothing (is it used?)", arch);
    free(a);
    free(b);
    free(r);
    swacl_session_destroy(s32);
    swacl_session_destroy(s16);
    swacl_session_destroy(sr);
    swacl_model_destroy(m32);
    swacl_model_destroy(m16);
    swacl_model_destroy(mr);
    swacl_weights_destroy(w);
    swacl_ctx_destroy(c32);
    swacl_ctx_destroy(c16);
    swacl_ctx_destroy(r16);
    free(ids);
}

Test(quant, kv_f16_cache_cohere2) { kv_f16_fixture("cohere2"); }
Test(quant, kv_f16_cache_llama) { kv_f16_fixture("llama"); }
Test(quant, kv_type_default_and_invalid)
{
    swacl_ctx_params p = swacl_ctx_params_default();
    cr_expect(p.kv_type == SWACL_WT_AUTO);
    p.device = "ref";
    p.kv_type = SWACL_WT_Q8_0;
    swacl_ctx *ctx = NULL;
    cr_expect(swacl_ctx_create(&p, &ctx) == SWACL_INVALID_ARG);
    cr_expect(strstr(swacl_ctx_errmsg(ctx), "f32 or f16") != NULL, "%s", swacl_ctx_errmsg(ctx));
    swacl_ctx_destroy(ctx);
}

/* swacl_ctx_params.lazy_weights (a pipeline part over MPI reads only its
 * layers): nothing is read at load; each tensor, made on first use, has the
 * eager load's type and bytes, and a model on it gives the same output bit
 * for bit; a NaN in the file is then an error of the upload. */
static swacl_weights *load_lazy(const char *dir, swacl_wtype t, swacl_config *cfg, swacl_status want)
{
    swacl_ctx_params p = swacl_ctx_params_default();
    p.device = "ref";
    p.weights = t;
    p.lazy_weights = 1;
    swacl_ctx *ctx = NULL;
    cr_assert(swacl_ctx_create(&p, &ctx) == SWACL_OK);
    swacl_weights *w = NULL;
    cr_assert(swacl_load_hf(ctx, dir, cfg, &w) == want, "%s", swacl_ctx_errmsg(ctx));
    swacl_ctx_destroy(ctx);
    return w;
}

Test(quant, lazy_load_on_first_use)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/tests/fixtures/mistral", SWACL_SOURCE_DIR); /* an f16 file */
    int B, T;
    int32_t *ids = read_ids(dir, &B, &T);
    swacl_ctx *ref = test_ref_ctx();
    const swacl_wtype types[] = {SWACL_WT_AUTO, SWACL_WT_F32, SWACL_WT_Q8_0};
    for (int k = 0; k < 3; k++) {
        swacl_config ce, cz;
        swacl_weights *we = load_as(dir, types[k], &ce), *wz = load_lazy(dir, types[k], &cz, SWACL_OK);
        cr_assert(memcmp(&ce, &cz, sizeof ce) == 0);
        cr_expect(swacl_weights_bytes(wz, SWACL_WT_AUTO) == 0, "lazy: %llu bytes made at load",
                  (unsigned long long)swacl_weights_bytes(wz, SWACL_WT_AUTO));
        for (int i = 0; i < swacl_weights_count(we); i++)
            cr_expect(swacl_weights_type(we, i) == swacl_weights_type(wz, i), "tensor %d type", i);
        const size_t n = (size_t)B * T * (size_t)ce.vocab_size;
        float *ye = calloc(n, sizeof *ye), *yz = calloc(n, sizeof *yz);
        swacl_model *me = NULL, *mz = NULL;
        swacl_input in = {B, T, ids, NULL};
        cr_assert(swacl_model_create(ref, &ce, we, &me) == SWACL_OK, "%s", swacl_ctx_errmsg(ref));
        cr_assert(swacl_model_create(ref, &cz, wz, &mz) == SWACL_OK, "%s", swacl_ctx_errmsg(ref));
        cr_assert(swacl_model_forward(me, &in, 1, ye) == SWACL_OK);
        cr_assert(swacl_model_forward(mz, &in, 1, yz) == SWACL_OK);
        cr_expect(memcmp(ye, yz, n * sizeof *ye) == 0, "%s: lazy output differs", swacl_wtype_name(types[k]));
        cr_expect(swacl_weights_bytes(we, SWACL_WT_AUTO) == swacl_weights_bytes(wz, SWACL_WT_AUTO));
        swacl_model_destroy(me), swacl_model_destroy(mz);
        swacl_weights_destroy(we), swacl_weights_destroy(wz);
        free(ye), free(yz);
    }
    /* a NaN in a layer's norm: loads, then its upload fails naming it */
    swacl_config c;
    swacl_weights *w = NULL;
    cr_assert(swacl_preset("cohere2", &c) == SWACL_OK);
    cr_assert(swacl_weights_create_random(&c, 3, &w) == SWACL_OK);
    const float *x = NULL;
    int bad = -1;
    for (int i = 0; i < swacl_weights_count(w) && bad < 0; i++)
        if (strstr(swacl_weights_name(w, i, NULL, NULL, &x), "layers.5.input_layernorm")) bad = i;
    cr_assert(bad >= 0 && x);
    ((float *)x)[3] = NAN;
    char tmp[] = "/tmp/swacl-lazy-XXXXXX";
    cr_assert(mkdtemp(tmp) != NULL);
    cr_assert(swacl_save_hf(ref, tmp, &c, w) == SWACL_OK, "%s", swacl_ctx_errmsg(ref));
    swacl_weights_destroy(w);
    swacl_weights *wz = NULL;
    cr_expect(swacl_load_hf(ref, tmp, &c, &wz) == SWACL_FORMAT); /* eager: refused at load */
    swacl_weights_destroy(wz);
    wz = load_lazy(tmp, SWACL_WT_AUTO, &c, SWACL_OK);
    swacl_model *m = NULL;
    cr_expect(swacl_model_create(ref, &c, wz, &m) == SWACL_FORMAT);
    cr_expect(strstr(swacl_ctx_errmsg(ref), "layers.5.input_layernorm") &&
              strstr(swacl_ctx_errmsg(ref), "non-finite"), "%s", swacl_ctx_errmsg(ref));
    swacl_model_destroy(m);
    m = NULL; /* the refused tensor stays pending: a second build is refused too */
    cr_expect(swacl_model_create(ref, &c, wz, &m) == SWACL_FORMAT, "a second build accepted the NaN");
    swacl_model_destroy(m);
    swacl_weights_destroy(wz);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    cr_expect(system(cmd) == 0);
    swacl_ctx_destroy(ref);
    free(ids);
}
