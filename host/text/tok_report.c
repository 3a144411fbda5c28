/*
 * tok_report.c - what the command line needs from the tokenizer, kept in
 * the library so the CLI stays glue: the prompt of `swacl generate
 * --prompt/--prompt-file` (tokenizer of the model directory, text from an
 * argument, a file or stdin, ids checked against the model's vocabulary)
 * and the whole output of `swacl tokenize` / `swacl detokenize`.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text/tok.h"

/* text, or the contents of file ("-": stdin): *buf is what to free. */
static swacl_status input_text(swacl_ctx *ctx, const char *text, const char *file, char **buf,
                               const char **s, size_t *n)
{
    *buf = NULL;
    SWACL_FAIL_IF(ctx, !text == !file, SWACL_INVALID_ARG, "give either the text or a file, not %s",
                  text ? "both" : "neither");
    if (text) return *s = text, *n = strlen(text), SWACL_OK;
    SWACL_TRY(swacl_text_read(ctx, file, buf, n));
    *s = *buf;
    return SWACL_OK;
}

SWACL_API swacl_status swacl_tokenizer_prompt(swacl_ctx *ctx, const char *model_dir, const char *text,
                                              const char *file, int vocab, swacl_tokenizer **tok,
                                              int32_t **ids, int *n_ids)
{
    SWACL_FAIL_IF(ctx, !tok || !ids || !n_ids, SWACL_INVALID_ARG, "tokenizer_prompt: NULL argument");
    *tok = NULL, *ids = NULL, *n_ids = 0;
    SWACL_FAIL_IF(ctx, !model_dir, SWACL_INVALID_ARG,
                  "--prompt / --prompt-file need --model DIR (a checkpoint with tokenizer.json)");
    char *buf = NULL;
    const char *s = NULL;
    size_t n = 0;
    swacl_status st = input_text(ctx, text, file, &buf, &s, &n);
    if (st == SWACL_OK) st = swacl_tokenizer_load(ctx, model_dir, tok);
    if (st == SWACL_OK) st = swacl_tokenizer_encode(ctx, *tok, s, n, 1, ids, n_ids);
    free(buf);
    if (st == SWACL_OK && *n_ids == 0)
        st = swacl_set_error(ctx, SWACL_INVALID_ARG, "the prompt encodes to no tokens");
    for (int i = 0; st == SWACL_OK && i < *n_ids; i++)
        if ((*ids)[i] >= vocab)
            st = swacl_set_error(ctx, SWACL_INVALID_ARG,
                                 "prompt token %d is id %d, outside the model's vocabulary of %d",
                                 i, (int)(*ids)[i], vocab);
    if (st != SWACL_OK) {
        swacl_tokenizer_destroy(*tok);
        swacl_free(*ids);
        *tok = NULL, *ids = NULL, *n_ids = 0;
    }
    return st;
}

static int put_quoted(tk_buf *b, const char *s, size_t n)
{
    char *tmp = malloc(n + 1);
    if (!tmp) return -1;
    memcpy(tmp, s, n), tmp[n] = 0;
    cJSON *j = cJSON_CreateString(tmp); /* a NUL inside a piece ends it: display only */
    char *q = j ? cJSON_PrintUnformatted(j) : NULL;
    int rc = q ? tk_buf_put(b, q, strlen(q)) : -1;
    cJSON_free(q), cJSON_Delete(j), free(tmp);
    return rc;
}

SWACL_API swacl_status swacl_tokenizer_report(swacl_ctx *ctx, const char *path, const char *input,
                                              const char *file, unsigned flags, char **out)
{
    SWACL_FAIL_IF(ctx, !path || !out, SWACL_INVALID_ARG, "tokenizer_report: NULL argument");
    *out = NULL;
    char *buf = NULL;
    const char *s = NULL;
    size_t n = 0;
    swacl_tokenizer *t = NULL;
    int32_t *ids = NULL;
    int n_ids = 0, batch = 0;
    char *text = NULL;
    size_t tlen = 0;
    SWACL_TRY(input_text(ctx, input, file, &buf, &s, &n));
    swacl_status st = swacl_tokenizer_load(ctx, path, &t);
    const int detok = flags & SWACL_TOKREP_DETOKENIZE, json = flags & SWACL_TOKREP_JSON;
    if (st == SWACL_OK && detok) {
        st = swacl_ids_parse(ctx, s, file ? file : "ids", swacl_tokenizer_vocab_size(t), &ids, &batch, &n_ids);
        if (st == SWACL_OK && batch > 1)
            st = swacl_set_error(ctx, SWACL_INVALID_ARG, "detokenize: one line of ids only");
        n_ids *= batch;
        if (st == SWACL_OK) st = swacl_tokenizer_decode(ctx, t, ids, n_ids, 0, &text, &tlen);
    } else if (st == SWACL_OK) {
        st = swacl_tokenizer_encode(ctx, t, s, n, (flags & SWACL_TOKREP_NO_SPECIAL) == 0, &ids, &n_ids);
    }
    tk_buf b = {0};
    int bad = 0;
    if (st == SWACL_OK && detok) { /* the text, or {"count", "text"} */
        if (json) {
            char num[24];
            snprintf(num, sizeof num, "%d,\"text\":", n_ids);
            bad = tk_buf_put(&b, "{\"count\":", 9) || tk_buf_put(&b, num, strlen(num)) ||
                  put_quoted(&b, text, tlen) || tk_buf_put(&b, "}\n", 2);
        } else {
            bad = tk_buf_put(&b, text, tlen) || tk_buf_putc(&b, '\n');
        }
    } else if (st == SWACL_OK) { /* ids on one line (verbose: "id piece" lines), or JSON */
        char num[24];
        snprintf(num, sizeof num, "%d", n_ids);
        if (json) bad = tk_buf_put(&b, "{\"count\":", 9) || tk_buf_put(&b, num, strlen(num)) ||
                        tk_buf_put(&b, ",\"ids\":[", 8);
        for (int i = 0; i < n_ids && !bad; i++) {
            snprintf(num, sizeof num, "%d", (int)ids[i]);
            const char *sep = json ? "," : (flags & SWACL_TOKREP_VERBOSE) ? "\n" : " ";
            bad = (i && tk_buf_put(&b, sep, 1)) || tk_buf_put(&b, num, strlen(num));
            if (!json && (flags & SWACL_TOKREP_VERBOSE)) {
                size_t pl = 0;
                const char *p = swacl_tokenizer_piece(t, ids[i], &pl);
                bad = bad || tk_buf_putc(&b, '\t') || put_quoted(&b, p ? p : "", p ? pl : 0);
            }
        }
        if (json && (flags & SWACL_TOKREP_VERBOSE)) {
            bad = bad || tk_buf_put(&b, "],\"pieces\":[", 12);
            for (int i = 0; i < n_ids && !bad; i++) {
                size_t pl = 0;
                const char *p = swacl_tokenizer_piece(t, ids[i], &pl);
                bad = (i && tk_buf_putc(&b, ',')) || put_quoted(&b, p ? p : "", p ? pl : 0);
            }
        }
        bad = bad || (json ? tk_buf_put(&b, "]}\n", 3) : tk_buf_putc(&b, '\n'));
    }
    if (st == SWACL_OK && bad) st = swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "tokenizer_report: out of memory");
    if (st == SWACL_OK) *out = b.p;
    else tk_buf_free(&b);
    swacl_free(text);
    swacl_free(ids);
    swacl_tokenizer_destroy(t);
    free(buf);
    return st;
}
