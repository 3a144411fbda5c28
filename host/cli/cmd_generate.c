/*
 * cmd_generate.c - `swacl generate`: prefill a prompt into a KV-cache session,
 * then decode token by token with temperature / top-k / top-p sampling,
 * streaming ids as they come. --verify runs the CPU reference in lockstep
 * (same sampled tokens) and checks every step's logits.
 *
 * Continuous-input models (rnope-swa) have no tokens: each step feeds a
 * seeded random input vector and the checked output is the hidden state.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct {
    cli_model m;
    cli_device d;
    const char *prompt_ids, *prompt, *prompt_file;
    int prompt_len, max_new, seed, verify, json, chunk, ignore_eos;
    swacl_sample_params sp;
    double tol;
    uint64_t verify_mem;
} gen_opts;

static void gen_report(const gen_opts *o, const cli_runner *dev, const swacl_config *cfg,
                       const swacl_weights *w, int P, double t_prefill, double t_decode,
                       const swacl_verify_result *c, int ok, cJSON *toks, const char *text)
{
    uint64_t kvg = 0, kvw = 0;
    const int kvt = swacl_pipeline_session_kv_type(dev->ps);
    uint64_t kv = swacl_kv_bytes_ex(cfg, kvt, 1, P + o->max_new, &kvg, &kvw);
    double pf_tps = P / t_prefill, dec_tps = o->max_new > 0 ? o->max_new / t_decode : 0;
    cJSON *j = cJSON_CreateObject();
    cli_json_add(j, "s:device s:preset i:prompt_tokens i:new_tokens d:prefill_tokens_per_s d:decode_tokens_per_s "
                 "s:kv_type u:kv_bytes u:kv_bytes_global u:kv_bytes_window u:session_kv_bytes", dev->name,
                 o->m.preset, P, o->max_new, pf_tps, dec_tps, swacl_wtype_name((swacl_wtype)kvt), kv, kvg, kvw,
                 swacl_pipeline_session_kv_bytes(dev->ps));
    cli_json_mem(j, w);
    cli_json_pipeline(j, dev, 1, P + o->max_new);
    if (o->json) cJSON_AddItemToObject(j, "tokens", toks); /* text mode streamed them already */
    else cJSON_Delete(toks);
    if (o->json && text) cJSON_AddStringToObject(j, "text", text);
    cli_json_add(j, "b:verified", o->verify && !c->skipped);
    if (c->skipped) cJSON_AddStringToObject(j, "verify_skipped", c->skip_reason);
    if (o->verify && !c->skipped) cli_json_add(j, "d:max_abs_err d:nmse", c->max_abs_err, c->nmse);
    else cli_json_add(j, "-:max_abs_err -:nmse");
    cli_json_add(j, "b:ok", ok);
    cli_output(j, o->json);
}

int swacl_cmd_generate(int argc, char **argv)
{
    gen_opts o = {.m = {.preset = "cohere2"}, .prompt_len = 16, .max_new = 32, .seed = 1,
                  .chunk = 256, .sp = {0.8, 0, 1.0}, .tol = 1e-6};
    const cli_opt opts[] = {
        CLI_MODEL_OPTS(&o.m, "cohere2"),
        {"prompt and sampling", CLI_SECTION, NULL, 0, 0, NULL, ""},
        {"--prompt-len", CLI_INT, &o.prompt_len, 1, 1 << 30, "N",
         "random prompt tokens (default 16)"},
        {"--prompt-ids", CLI_STR, &o.prompt_ids, 0, 0, "1,2,3", "the prompt's token ids instead"},
        {"--prompt", CLI_STR, &o.prompt, 0, 0, "TEXT",
         "the prompt as text (--model's tokenizer.json); prints\nthe continuation as text, --json adds \"text\""},
        {"--prompt-file", CLI_STR, &o.prompt_file, 0, 0, "F", "the prompt text from F ('-': stdin)"},
        {"--ignore-eos", CLI_FLAG, &o.ignore_eos, 0, 0, NULL, "with a text prompt: do not stop at EOS"},
        {"--max-new", CLI_INT, &o.max_new, 0, 1 << 30, "M", "tokens to decode (default 32)"},
        {"--temperature", CLI_DOUBLE, &o.sp.temperature, 0, 100, "T",
         "sampling temperature; 0 is greedy (default 0.8)"},
        {"--top-k", CLI_INT, &o.sp.top_k, 0, 1 << 30, "K", "keep the K most likely (0 = off)"},
        {"--top-p", CLI_DOUBLE, &o.sp.top_p, 1e-6, 1, "P", "nucleus mass (default 1 = off)"},
        {"--seed", CLI_INT, &o.seed, 0, 1 << 30, "S", "seed of the prompt and sampling (default 1)"},
        {"--prefill-chunk", CLI_INT, &o.chunk, 0, 1 << 30, "C", /* --chunk: the model's C */
         "prefill chunk in tokens (default 256; 0 = one chunk)"},
        CLI_DEVICE_OPTS(&o.d),
        {"check", CLI_SECTION, NULL, 0, 0, NULL, ""},
        {"--verify", CLI_FLAG, &o.verify, 0, 0, NULL,
         "check every step against the CPU reference (exit 3 if not)"},
        {"--tol", CLI_DOUBLE, &o.tol, 0, 1e30, "NMSE", "max normalised MSE per step (default 1e-6)"},
        CLI_VERIFY_MEM_OPT(&o.verify_mem),
        {"output", CLI_SECTION, NULL, 0, 0, NULL, ""},
        CLI_OUTPUT_OPTS(&o.json),
        {NULL}};
    const cli_cmd cmd = {"generate",
                         "usage: swacl generate [options]\n\n"
                         "Prefill a prompt, then decode with a KV cache (window layers keep only W\n"
                         "positions), sampling with temperature / top-k / top-p.\n\n",
                         opts, 1};
    int rc = cli_parse(&cmd, argc, argv);
    if (rc != CLI_CONTINUE) return rc;
    if ((rc = cli_device_check(&o.d)) != 0) return rc;

    swacl_config cfg;
    swacl_weights *w = NULL; /* --model: loaded here, else random below */
    if ((rc = cli_model_setup(&o.m, &cfg, &w)) != 0) return rc;
    const int tokens_model = cfg.vocab_size > 0;
    const int V = swacl_output_size(&cfg), din = cfg.input_dim;
    swacl_ctx *host = cli_host_ctx();
    int32_t *prompt = NULL, *ids = NULL;
    float *emb = NULL, *out = NULL;
    cli_runner dev = {0};
    swacl_verifier *ver = NULL; /* --verify: the CPU reference in lockstep */
    swacl_sampler *smp = NULL;
    swacl_tokenizer *tok = NULL; /* --prompt / --prompt-file */
    swacl_tokenizer_stream *ts = NULL;
    char *text = NULL;
    cJSON *toks = NULL;
    int P = o.prompt_len, B1 = 1;
    rc = EXIT_USAGE;
    if (!host) goto done;
    swacl_status st;
    if ((o.prompt_ids && (st = swacl_ids_parse(host, o.prompt_ids, "--prompt-ids", cfg.vocab_size,
                                               &prompt, &B1, &P)) != SWACL_OK) ||
        ((o.prompt || o.prompt_file) && !o.prompt_ids &&
         ((st = swacl_tokenizer_prompt(host, o.m.model_dir, o.prompt, o.prompt_file, cfg.vocab_size,
                                       &tok, &prompt, &P)) != SWACL_OK ||
          (st = swacl_tokenizer_stream_create(host, tok, 1, &ts)) != SWACL_OK)) ||
        (st = swacl_input_check(host, &cfg, 1, (int64_t)P + o.max_new, 0)) != SWACL_OK) {
        rc = cli_fail(host, st, "generate"); /* prompt + new tokens: bounded in 64-bit */
        goto done;
    }
    if (B1 != 1 || (o.prompt_ids && (o.prompt || o.prompt_file))) {
        cli_die_msg("--prompt-ids: one sequence only, and not with --prompt / --prompt-file");
        goto done;
    }
    rc = EXIT_RUNTIME;
    const int total = P + o.max_new;
    ids = calloc((size_t)total, sizeof *ids);
    emb = tokens_model ? NULL : malloc((size_t)total * din * sizeof *emb);
    out = malloc((size_t)V * sizeof *out);
    toks = cJSON_CreateArray();
    if (!ids || (!tokens_model && !emb) || !out || !toks) {
        cli_die_msg("out of host memory");
        goto done;
    }
    /* one seeded stream: prompt ids, then input vectors, then sampling */
    uint64_t rs = (uint64_t)o.seed * 0x9E3779B97F4A7C15ull + 7;
    if (prompt)
        memcpy(ids, prompt, (size_t)P * sizeof *ids);
    else if (tokens_model)
        swacl_random_ids(&rs, cfg.vocab_size, ids, (size_t)P);
    if (emb) swacl_random_uniform(&rs, emb, (size_t)total * din);
    if (tokens_model && (st = swacl_sampler_create(host, &o.sp, V, rs, &smp)) != SWACL_OK) {
        rc = cli_fail(host, st, "generate");
        goto done;
    }
    if ((rc = cli_model_weights(&o.m, &cfg, 42, &w)) != 0 ||
        (rc = cli_runner_open(&dev, &o.d, &cfg, w, 1, total)) != 0)
        goto done;
    swacl_tolerance tol = swacl_tolerance_default();
    tol.nmse = o.tol, tol.mem_limit = o.verify_mem;
    if (o.verify && (st = swacl_verifier_create(dev.ctx, &cfg, w, &tol, 1, total, &ver)) != SWACL_OK) {
        rc = cli_fail(dev.ctx, st, "verification");
        goto done;
    }
    if (swacl_verifier_result(ver).skipped)
        fprintf(stderr, "swacl: verification skipped: %s\n", swacl_verifier_result(ver).skip_reason);

    /* prefill */
    cli_progress("prefill %d tokens on %s...", P, dev.name);
    swacl_input in = {.batch = 1, .seq = P, .ids = tokens_model ? ids : NULL, .embeds = emb};
    double t0 = cli_now();
    st = swacl_pipeline_session_prefill(dev.ps, &in, o.chunk, out);
    double t_prefill = cli_now() - t0, t_decode = 0;
    if (st != SWACL_OK) {
        rc = cli_runner_fail(&dev, st, "prefill");
        goto done;
    }
    if (ver && (st = swacl_verifier_prefill(ver, &in, o.chunk, out)) != SWACL_OK) {
        rc = cli_fail(dev.ctx, st, "verification");
        goto done;
    }

    /* decode */
    if (!o.json && tokens_model && !tok) printf("tokens:");
    for (int t = P; t < total; t++) {
        if (tokens_model) {
            ids[t] = swacl_sampler_next(smp, out);
            cJSON_AddItemToArray(toks, cJSON_CreateNumber(ids[t]));
            const char *piece = NULL;
            size_t pl = 0;
            if (ts && swacl_tokenizer_stream_step(host, ts, ids[t], &piece, &pl) != SWACL_OK) pl = 0;
            if (!o.json && (tok ? fwrite(piece, 1, pl, stdout) : (size_t)printf(" %d", ids[t])))
                fflush(stdout);
            if (tok && !o.ignore_eos && swacl_tokenizer_is_eos(tok, ids[t])) {
                o.max_new = t + 1 - P; /* the EOS is the last new token */
                break;
            }
        }
        const int32_t *pi = tokens_model ? &ids[t] : NULL;
        const float *pe = emb ? emb + (size_t)t * din : NULL;
        t0 = cli_now();
        st = swacl_pipeline_session_step(dev.ps, 1, NULL, pi, pe, out);
        t_decode += cli_now() - t0;
        if (st != SWACL_OK) {
            fputc('\n', stderr);
            rc = cli_runner_fail(&dev, st, "decode step");
            goto done;
        }
        if (ver && (st = swacl_verifier_step(ver, 1, NULL, pi, pe, out)) != SWACL_OK) {
            rc = cli_fail(dev.ctx, st, "verification");
            goto done;
        }
    }
    const char *rest = ""; /* what the stream still holds: an incomplete character as U+FFFD */
    size_t rl = 0;
    if (ts && !o.json && swacl_tokenizer_stream_flush(host, ts, &rest, &rl) == SWACL_OK) fwrite(rest, 1, rl, stdout);
    if (ts && swacl_tokenizer_decode(host, tok, ids + P, o.max_new, 1, &text, NULL) != SWACL_OK) text = NULL;
    if (!o.json && tokens_model) printf("\n");

    swacl_verify_result chk = swacl_verifier_result(ver);
    int ok = !o.verify || chk.ok;
    gen_report(&o, &dev, &cfg, w, P, t_prefill, t_decode, &chk, ok, toks, text);
    toks = NULL;
    rc = ok ? EXIT_OK : EXIT_VERIFY;
    char msg[320];
    if (!ok) cli_die_msg("verification failed: %s", swacl_verify_describe(&chk, o.tol, msg, sizeof msg));
done:
    cJSON_Delete(toks);
    swacl_tokenizer_stream_destroy(ts), swacl_tokenizer_destroy(tok), swacl_free(text);
    swacl_sampler_destroy(smp);
    swacl_verifier_destroy(ver);
    cli_runner_close(&dev);
    swacl_ctx_destroy(host);
    swacl_weights_destroy(w);
    swacl_free(prompt);
    free(ids), free(emb), free(out);
    return rc;
}

int swacl_cmd_tokenize(int argc, char **argv)
{
    const int detok = !strcmp(argv[0], "detokenize");
    const char *dir = NULL, *input = NULL, *file = NULL;
    int verbose = 0, json = 0, no_special = 0;
    const cli_opt opts[] = {
        {"--model", CLI_STR, &dir, 0, 0, "DIR", "checkpoint directory with tokenizer.json (or the file)"},
        {"--file", CLI_STR, &file, 0, 0, "F", "read the input from F ('-': stdin)"},
        {"-v|--verbose", CLI_FLAG, &verbose, 0, 0, NULL, "tokenize: one line per token, with its piece"},
        {"--no-special", CLI_FLAG, &no_special, 0, 0, NULL, "tokenize: no BOS/EOS of the post-processor"},
        {detok ? "IDS" : "TEXT", CLI_STR, &input, 0, 0, NULL, detok ? "ids, \"1,2,3\" or \"1 2 3\"" : "the text"},
        CLI_OUTPUT_OPTS(&json),
        {NULL}};
    const cli_cmd cmd = {argv[0], detok ? "usage: swacl detokenize --model DIR IDS|--file F\n\n"
                                          "Token ids to text with the checkpoint's tokenizer.json.\n\n"
                                        : "usage: swacl tokenize --model DIR TEXT|--file F\n\n"
                                          "Text to token ids with the checkpoint's tokenizer.json.\n\n",
                         opts, 0};
    int rc = cli_parse(&cmd, argc, argv);
    if (rc != CLI_CONTINUE) return rc;
    if (!dir) return cli_die_msg("%s: --model DIR is required", argv[0]), EXIT_USAGE;
    swacl_ctx *host = cli_host_ctx();
    char *out = NULL;
    unsigned fl = (detok ? SWACL_TOKREP_DETOKENIZE : 0) | (verbose ? SWACL_TOKREP_VERBOSE : 0) |
                  (json ? SWACL_TOKREP_JSON : 0) | (no_special ? SWACL_TOKREP_NO_SPECIAL : 0);
    swacl_status st = host ? swacl_tokenizer_report(host, dir, input, file, fl, &out) : SWACL_OUT_OF_MEMORY;
    rc = st == SWACL_OK ? (fputs(out, stdout), EXIT_OK) : host ? cli_fail(host, st, argv[0]) : EXIT_RUNTIME;
    swacl_free(out);
    swacl_ctx_destroy(host);
    return rc;
}
