/*
 * test_tools.c - the library's helpers for tools (swacl.h "Host helpers"
 * and the tuner's argument checks): swacl_compare, token-id text, the
 * sampler, the seeded random stream, the layer pattern, swacl_tune_gemm's
 * usage errors. None needs an OpenCL device.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "swacl.h"

static swacl_ctx *host_ctx(void)
{
    swacl_ctx_params p = swacl_ctx_params_default();
    p.device = "ref";
    swacl_ctx *ctx = NULL;
    cr_assert(swacl_ctx_create(&p, &ctx) == SWACL_OK);
    return ctx;
}

Test(tools, compare)
{
    const float a[] = {1.0f, 2.5f, NAN, 4.0f, 0.0f};
    const float r[] = {1.0f, 2.0f, 3.0f, INFINITY, 0.1f};
    swacl_compare_result c = swacl_compare(a, r, 5, 0.2, 0.0);
    cr_expect(c.nonfinite == 2, "nonfinite %zu", c.nonfinite);
    cr_expect(fabs(c.max_abs_err - 0.5) < 1e-6 && c.worst == 1, "max %g at %zu", c.max_abs_err,
              c.worst);
    cr_expect(c.n_bad == 1, "n_bad %zu (only |2.5-2| > 0.2)", c.n_bad);
    double nmse = (0.25 + 0.01) / (1.0 + 4.0 + 0.01);
    cr_expect(fabs(c.nmse - nmse) < 1e-6, "nmse %g, want %g", c.nmse, nmse);
    const float z[] = {0, 0}, y[] = {0.5f, 0};
    c = swacl_compare(y, z, 2, 0, 0);
    cr_expect(fabs(c.nmse - 0.25) < 1e-9, "all-zero reference: plain sum of squares");
}

Test(tools, ids_parse)
{
    swacl_ctx *ctx = host_ctx();
    int32_t *ids = NULL;
    int B = 0, T = 0;
    cr_assert(swacl_ids_parse(ctx, "1 2 3\n4,5,6\n\n", "t", 10, &ids, &B, &T) == SWACL_OK, "%s",
              swacl_ctx_errmsg(ctx));
    cr_expect(B == 2 && T == 3 && ids[0] == 1 && ids[3] == 4 && ids[5] == 6);
    swacl_free(ids);
    cr_expect(swacl_ids_parse(ctx, "1 2\n3", "f", 10, &ids, &B, &T) == SWACL_FORMAT);
    cr_expect(strstr(swacl_ctx_errmsg(ctx), "f:2:") != NULL, "%s", swacl_ctx_errmsg(ctx));
    cr_expect(swacl_ids_parse(ctx, "1,x,3", "--prompt-ids", 10, &ids, &B, &T) == SWACL_FORMAT);
    cr_expect(strstr(swacl_ctx_errmsg(ctx), "'x'") != NULL, "%s", swacl_ctx_errmsg(ctx));
    cr_expect(swacl_ids_parse(ctx, "9 10", "v", 10, &ids, &B, &T) == SWACL_FORMAT, "id == vocab");
    cr_expect(swacl_ids_parse(ctx, " \n ", "e", 10, &ids, &B, &T) == SWACL_FORMAT, "no ids");
    cr_expect(swacl_ids_parse(ctx, "1", "c", 0, &ids, &B, &T) == SWACL_INVALID_ARG, "no vocab");
    cr_expect(ids == NULL);
    cr_expect(swacl_ids_read(ctx, "/nonexistent/ids.txt", 10, &ids, &B, &T) == SWACL_IO);
    swacl_ctx_destroy(ctx);
}

Test(tools, sampler_and_random)
{
    swacl_ctx *ctx = host_ctx();
    const float logits[] = {0.1f, 3.0f, -1.0f, 2.9f};
    swacl_sample_params greedy = {0, 0, 1.0}, topk1 = {1.0, 1, 1.0}, hot = {1.0, 0, 1.0};
    swacl_sampler *s = NULL, *s2 = NULL;
    cr_assert(swacl_sampler_create(ctx, &greedy, 4, 7, &s) == SWACL_OK);
    cr_expect(swacl_sampler_next(s, logits) == 1);
    swacl_sampler_destroy(s);
    cr_assert(swacl_sampler_create(ctx, &topk1, 4, 7, &s) == SWACL_OK);
    for (int i = 0; i < 20; i++) cr_expect(swacl_sampler_next(s, logits) == 1, "top_k 1");
    swacl_sampler_destroy(s);
    cr_assert(swacl_sampler_create(ctx, &hot, 4, 99, &s) == SWACL_OK);
    cr_assert(swacl_sampler_create(ctx, &hot, 4, 99, &s2) == SWACL_OK);
    for (int i = 0; i < 50; i++) {
        int32_t a = swacl_sampler_next(s, logits);
        cr_expect(a == swacl_sampler_next(s2, logits) && a >= 0 && a < 4, "same seed, same ids");
    }
    swacl_sampler_destroy(s);
    swacl_sampler_destroy(s2);
    swacl_sample_params bad = {1.0, 0, 0.0};
    cr_expect(swacl_sampler_create(ctx, &bad, 4, 1, &s) == SWACL_INVALID_ARG && !s, "top_p 0");

    uint64_t st1 = 5, st2 = 5;
    int32_t i1[8], i2[8];
    float f1[8];
    swacl_random_ids(&st1, 3, i1, 8);
    swacl_random_ids(&st2, 3, i2, 8);
    cr_expect(!memcmp(i1, i2, sizeof i1) && st1 == st2 && st1 != 5, "deterministic, advances");
    swacl_random_uniform(&st1, f1, 8);
    for (int i = 0; i < 8; i++) cr_expect(i1[i] >= 0 && i1[i] < 3 && f1[i] >= -1 && f1[i] < 1);
    swacl_ctx_destroy(ctx);
}

Test(tools, config_pattern)
{
    swacl_config cfg;
    cr_assert(swacl_preset("cohere2", &cfg) == SWACL_OK);
    char buf[512], tiny[12];
    swacl_config_pattern(&cfg, buf, sizeof buf);
    cr_expect(strchr(buf, 'G') && strstr(buf, "W") && strstr(buf, "+rope"), "%s", buf);
    swacl_config_pattern(&cfg, tiny, sizeof tiny);
    cr_expect(strstr(tiny, "...") && strlen(tiny) < sizeof tiny, "truncated: '%s'", tiny);
}

Test(tools, tune_gemm_usage_errors)
{
    swacl_ctx *ctx = host_ctx();
    swacl_tune_gemm_params p = swacl_tune_gemm_params_default();
    swacl_tune_gemm_result r;
    p.shapes = "1,2";
    cr_expect(swacl_tune_gemm(ctx, &p, &r) == SWACL_INVALID_ARG);
    cr_expect(strstr(swacl_ctx_errmsg(ctx), "--shapes") != NULL, "%s", swacl_ctx_errmsg(ctx));
    p.shapes = "8,8,8";
    p.device = "ref";
    cr_expect(swacl_tune_gemm(ctx, &p, &r) == SWACL_INVALID_ARG, "ref has no GEMM to tune");
    p.device = NULL;
    p.budget_s = -1;
    cr_expect(swacl_tune_gemm(ctx, &p, &r) == SWACL_INVALID_ARG);
    cr_expect(swacl_tune_gemm_probe(ctx, NULL, "1,2,x") == SWACL_INVALID_ARG);
    swacl_ctx_destroy(ctx);
}
