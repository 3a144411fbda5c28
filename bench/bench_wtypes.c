/*
 * bench_wtypes.c - decode tokens/s per weight storage type (issue 11), in
 * one run so the ratios to float32 share the machine's state.
 *
 *   bench_wtypes [--device SEL] [--preset NAME] [--hidden D] [--heads H] [--layers L]
 *                [--ffn F] [--vocab V] [--prompt N] [--steps N]
 *                [--types f32,bf16,f16,q8_0,q4_0] [--json]
 *
 * One model per type from the same seeded float32 weights
 * (swacl_weights_convert), each with a session prefilled with N prompt
 * tokens (default 512); then ROUNDS interleaved blocks of --steps single-
 * token steps per type (each step reads its logits back, so it is
 * synchronous). The figure is the median block rate; the ratio is to the
 * f32 model's. Weight bytes per type are printed beside them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "swacl.h"

#define ROUNDS 5
#define MAXT SWACL_WT_COUNT

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    const char *device = NULL, *preset = "cohere2", *types = "f32,bf16,f16,q8_0,q4_0";
    swacl_preset_params pp;
    memset(&pp, 0, sizeof pp);
    int prompt = 512, steps = 16, json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--json")) json = 1;
        else if (!v) goto usage;
        else if (!strcmp(a, "--device")) device = v, i++;
        else if (!strcmp(a, "--preset")) preset = v, i++;
        else if (!strcmp(a, "--types")) types = v, i++;
        else if (!strcmp(a, "--hidden")) pp.hidden_size = atoi(v), i++;
        else if (!strcmp(a, "--layers")) pp.n_layers = atoi(v), i++;
        else if (!strcmp(a, "--heads")) pp.n_heads = atoi(v), i++;
        else if (!strcmp(a, "--ffn")) pp.ffn_dim = atoi(v), i++;
        else if (!strcmp(a, "--vocab")) pp.vocab_size = atoi(v), i++;
        else if (!strcmp(a, "--prompt")) prompt = atoi(v), i++;
        else if (!strcmp(a, "--steps")) steps = atoi(v), i++;
        else goto usage;
    }
    swacl_config cfg;
    if (swacl_preset_ex(preset, &pp, &cfg) != SWACL_OK || cfg.vocab_size <= 0 || prompt < 1 ||
        steps < 1) {
        fprintf(stderr, "bench_wtypes: bad preset or sizes (token-id presets only)\n");
        return 2;
    }
    swacl_ctx_params p = swacl_ctx_params_default();
    p.device = device;
    swacl_ctx *ctx = NULL;
    if (swacl_ctx_create(&p, &ctx) != SWACL_OK) {
        fprintf(stderr, "bench_wtypes: %s\n", swacl_ctx_errmsg(ctx));
        swacl_ctx_destroy(ctx);
        return 1;
    }
    int nt = 0, tl[MAXT];
    char buf[128];
    snprintf(buf, sizeof buf, "%s", types);
    for (char *s = strtok(buf, ","); s && nt < MAXT; s = strtok(NULL, ",")) {
        int t = swacl_wtype_parse(s);
        if (t <= 0) {
            fprintf(stderr, "bench_wtypes: unknown type '%s'\n", s);
            return 2;
        }
        tl[nt++] = t;
    }
    swacl_weights *w[MAXT] = {0};
    swacl_model *m[MAXT] = {0};
    swacl_session *s[MAXT] = {0};
    const int V = cfg.vocab_size, total = prompt + 1 + ROUNDS * steps;
    int32_t *ids = malloc((size_t)total * sizeof *ids);
    float *out = malloc((size_t)V * sizeof *out);
    double rate[MAXT][ROUNDS], med[MAXT];
    int rc = 1;
    for (int i = 0; i < total; i++) ids[i] = (int32_t)((i * 7919u) % (unsigned)V);
    for (int k = 0; k < nt; k++) {
        swacl_input in = {1, prompt, ids, NULL};
        if (swacl_weights_create_random(&cfg, 1, &w[k]) != SWACL_OK ||
            swacl_weights_convert(ctx, w[k], (swacl_wtype)tl[k]) != SWACL_OK ||
            swacl_model_create(ctx, &cfg, w[k], &m[k]) != SWACL_OK ||
            swacl_session_create(m[k], 1, total, &s[k]) != SWACL_OK ||
            swacl_session_prefill(s[k], &in, 0, out) != SWACL_OK ||
            swacl_session_step(s[k], 1, NULL, &ids[prompt], NULL, out) != SWACL_OK) {
            fprintf(stderr, "bench_wtypes: %s: %s\n", swacl_wtype_name(tl[k]), swacl_ctx_errmsg(ctx));
            goto done;
        }
    }
    for (int r = 0; r < ROUNDS; r++)
        for (int k = 0; k < nt; k++) {
            int pos = prompt + 1 + r * steps;
            double t0 = swacl_now();
            for (int i = 0; i < steps; i++)
                if (swacl_session_step(s[k], 1, NULL, &ids[pos + i], NULL, out) != SWACL_OK) {
                    fprintf(stderr, "bench_wtypes: %s\n", swacl_ctx_errmsg(ctx));
                    goto done;
                }
            rate[k][r] = steps / (swacl_now() - t0);
        }
    double base = 0;
    for (int k = 0; k < nt; k++) {
        qsort(rate[k], ROUNDS, sizeof rate[k][0], cmp_double);
        med[k] = rate[k][ROUNDS / 2];
        if (tl[k] == SWACL_WT_F32) base = med[k];
    }
    if (json) printf("{\"device\":\"%s\",\"preset\":\"%s\",\"prompt\":%d,\"types\":[", swacl_ctx_device_name(ctx), preset, prompt);
    else printf("device %s, preset %s (hidden %d, layers %d, ffn %d, vocab %d), decode after %d tokens\n",
                swacl_ctx_device_name(ctx), preset, cfg.hidden_size, cfg.n_layers, cfg.ffn_dim, V, prompt);
    for (int k = 0; k < nt; k++) {
        unsigned long long b = (unsigned long long)swacl_weights_bytes(w[k], SWACL_WT_AUTO);
        if (json)
            printf("%s{\"weights\":\"%s\",\"weight_bytes\":%llu,\"decode_tokens_per_s\":%.3f,"
                   "\"ratio_vs_f32\":%.3f}", k ? "," : "", swacl_wtype_name(tl[k]), b, med[k],
                   base > 0 ? med[k] / base : 0.0);
        else
            printf("  %-5s %12llu weight bytes  %8.2f tok/s  x%.2f vs f32\n", swacl_wtype_name(tl[k]),
                   b, med[k], base > 0 ? med[k] / base : 0.0);
    }
    if (json) printf("]}\n");
    rc = 0;
done:
    for (int k = 0; k < nt; k++) {
        swacl_session_destroy(s[k]);
        swacl_model_destroy(m[k]);
        swacl_weights_destroy(w[k]);
    }
    free(ids);
    free(out);
    swacl_ctx_destroy(ctx);
    return rc;
usage:
    fprintf(stderr, "usage: bench_wtypes [--device SEL] [--preset P] [--hidden D] [--heads H] [--layers L] "
                    "[--ffn F] [--vocab V] [--prompt N] [--steps N] [--types LIST] [--json]\n");
    return 2;
}
