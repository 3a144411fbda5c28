/*
 * tok_api.c - the public tokenizer (swacl.h "Tokenizer"): loading a model
 * directory (tokenizer.json, plus the BOS/EOS of tokenizer_config.json and
 * generation_config.json), encode / decode through a context, the
 * streaming decoder (DecodeStream of huggingface/tokenizers: text comes
 * out only when it does not end in an incomplete character), and prompt
 * text from a file or stdin.
 */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/file.h"
#include "text/tok.h"

static swacl_status parse_status(const char *msg)
{
    if (strstr(msg, "out of memory")) return SWACL_OUT_OF_MEMORY;
    return strstr(msg, "unsupported") ? SWACL_UNSUPPORTED : SWACL_FORMAT;
}

SWACL_API swacl_status swacl_tokenizer_from_json(swacl_ctx *ctx, const char *json, size_t len,
                                                 swacl_tokenizer **out)
{
    SWACL_FAIL_IF(ctx, !json || !out, SWACL_INVALID_ARG, "tokenizer_from_json: NULL argument");
    char err[512];
    if (tk_parse(json, len, out, err, sizeof err) == 0) return SWACL_OK;
    return swacl_set_error(ctx, parse_status(err), "%s", err);
}

/* The id of a token named in tokenizer_config.json: "x" or {"content": "x"}. */
static int32_t config_token(const tk_tokenizer *t, const cJSON *v)
{
    if (cJSON_IsObject(v)) v = cJSON_GetObjectItemCaseSensitive(v, "content");
    if (!cJSON_IsString(v)) return -1;
    size_t n = strlen(v->valuestring);
    for (int i = 0; i < t->n_added; i++)
        if (t->added[i].len == n && !memcmp(t->pool.p + t->added[i].off, v->valuestring, n))
            return t->added[i].id;
    return tk_strmap_get(&t->vocab, v->valuestring, n);
}

/* One EOS id (a number within the vocabulary; others are ignored). -1: out of memory. */
static int add_eos(tk_tokenizer *t, const cJSON *v)
{
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble >= t->n_total) return 0;
    int32_t id = (int32_t)v->valuedouble;
    for (int i = 0; i < t->n_eos; i++)
        if (t->eos[i] == id) return 0;
    int32_t *p = realloc(t->eos, (size_t)(t->n_eos + 1) * sizeof *p);
    if (!p) return -1;
    (t->eos = p)[t->n_eos++] = id;
    return 0;
}

/* An optional JSON file beside tokenizer.json: NULL when absent. */
static swacl_status side_json(swacl_ctx *ctx, const char *dir, const char *name, cJSON **out)
{
    char path[4200];
    *out = NULL;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat sb;
    if (stat(path, &sb) != 0) return SWACL_OK;
    uint8_t *buf = NULL;
    size_t len = 0;
    swacl_status st = swacl_file_read(ctx, path, SWACL_FILE_MAX_JSON, &buf, &len);
    if (st != SWACL_OK) return st;
    *out = cJSON_ParseWithLength((const char *)buf, len);
    free(buf);
    if (!*out || !cJSON_IsObject(*out)) {
        cJSON_Delete(*out);
        *out = NULL;
        return swacl_set_error(ctx, SWACL_FORMAT, "%s: not a JSON object", path);
    }
    return SWACL_OK;
}

SWACL_API swacl_status swacl_tokenizer_load(swacl_ctx *ctx, const char *path, swacl_tokenizer **out)
{
    SWACL_FAIL_IF(ctx, !path || !out, SWACL_INVALID_ARG, "tokenizer_load: NULL argument");
    *out = NULL;
    struct stat sb;
    int is_dir = stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
    char file[4200], dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    if (is_dir) {
        snprintf(file, sizeof file, "%s/tokenizer.json", path);
    } else {
        snprintf(file, sizeof file, "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash) *slash = 0;
        else snprintf(dir, sizeof dir, ".");
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    swacl_status st = swacl_file_read(ctx, file, SWACL_FILE_MAX_JSON * 4, &buf, &len);
    if (st != SWACL_OK) return st;
    char err[512];
    tk_tokenizer *t = NULL;
    int bad = tk_parse((const char *)buf, len, &t, err, sizeof err);
    free(buf);
    const char *msg = strncmp(err, "tokenizer.json: ", 16) ? err : err + 16; /* the path says it */
    if (bad) return swacl_set_error(ctx, parse_status(err), "%s: %s", file, msg);
    cJSON *tc = NULL, *gc = NULL;
    if ((st = side_json(ctx, dir, "tokenizer_config.json", &tc)) != SWACL_OK ||
        (st = side_json(ctx, dir, "generation_config.json", &gc)) != SWACL_OK) {
        tk_free(t);
        return st;
    }
    /* EOS: generation_config.json's ids (one or a list), then tokenizer_config's token */
    const cJSON *ge = cJSON_GetObjectItemCaseSensitive(gc, "eos_token_id");
    int oom = 0;
    if (cJSON_IsArray(ge))
        for (const cJSON *v = ge->child; v && !oom; v = v->next) oom = add_eos(t, v);
    else
        oom = add_eos(t, ge);
    int32_t te = config_token(t, cJSON_GetObjectItemCaseSensitive(tc, "eos_token"));
    if (te >= 0 && !oom) {
        cJSON *n = cJSON_CreateNumber(te);
        oom = !n || add_eos(t, n);
        cJSON_Delete(n);
    }
    const cJSON *gb = cJSON_GetObjectItemCaseSensitive(gc, "bos_token_id");
    t->bos_id = cJSON_IsNumber(gb) && gb->valuedouble >= 0 && gb->valuedouble < t->n_total
                    ? (int32_t)gb->valuedouble
                    : config_token(t, cJSON_GetObjectItemCaseSensitive(tc, "bos_token"));
    cJSON_Delete(tc), cJSON_Delete(gc);
    if (oom) {
        tk_free(t);
        return swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "%s: out of memory", file);
    }
    *out = t;
    return SWACL_OK;
}

SWACL_API void swacl_tokenizer_destroy(swacl_tokenizer *tok) { tk_free(tok); }

SWACL_API swacl_status swacl_tokenizer_encode(swacl_ctx *ctx, const swacl_tokenizer *tok,
                                              const char *text, size_t len, int add_special,
                                              int32_t **ids, int *n_ids)
{
    SWACL_FAIL_IF(ctx, !tok || (!text && len) || !ids || !n_ids, SWACL_INVALID_ARG,
                  "tokenizer_encode: NULL argument");
    *ids = NULL, *n_ids = 0;
    SWACL_FAIL_IF(ctx, len > (size_t)INT32_MAX / 4, SWACL_INVALID_ARG,
                  "tokenizer_encode: %zu bytes of text is too long (at most %d)", len, INT32_MAX / 4);
    size_t ok = tk_utf8_valid_prefix((const unsigned char *)text, len);
    SWACL_FAIL_IF(ctx, ok != len, SWACL_INVALID_ARG,
                  "tokenizer_encode: the text is not valid UTF-8 (byte %zu, 0x%02X)", ok,
                  (unsigned)(unsigned char)text[ok]);
    char err[256] = "";
    tk_enc e;
    tk_enc_init(&e, err, sizeof err);
    swacl_status st = SWACL_OK;
    if (tk_encode(&e, tok, text ? text : "", len, add_special) != 0) {
        st = swacl_set_error(ctx, strstr(err, "memory") ? SWACL_OUT_OF_MEMORY : SWACL_FORMAT, "%s", err);
    } else if (e.n_ids > INT32_MAX) {
        st = swacl_set_error(ctx, SWACL_INVALID_ARG, "tokenizer_encode: too many tokens");
    } else if (!(*ids = malloc((e.n_ids ? e.n_ids : 1) * sizeof **ids))) {
        st = swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "tokenizer_encode: out of memory");
    } else {
        if (e.n_ids) memcpy(*ids, e.ids, e.n_ids * sizeof **ids);
        *n_ids = (int)e.n_ids;
    }
    tk_enc_free(&e);
    return st;
}

SWACL_API swacl_status swacl_tokenizer_decode(swacl_ctx *ctx, const swacl_tokenizer *tok,
                                              const int32_t *ids, int n_ids, int skip_special,
                                              char **text, size_t *len)
{
    SWACL_FAIL_IF(ctx, !tok || (!ids && n_ids) || n_ids < 0 || !text, SWACL_INVALID_ARG,
                  "tokenizer_decode: bad argument");
    tk_buf b = {0};
    *text = NULL;
    if (tk_decode(tok, ids, (size_t)n_ids, skip_special, &b)) {
        tk_buf_free(&b);
        return swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "tokenizer_decode: out of memory");
    }
    *text = b.p;
    if (len) *len = b.n;
    return SWACL_OK;
}

SWACL_API int swacl_tokenizer_vocab_size(const swacl_tokenizer *tok) { return tok ? tok->n_total : 0; }

SWACL_API const char *swacl_tokenizer_piece(const swacl_tokenizer *tok, int32_t id, size_t *len)
{
    size_t n = 0;
    const char *p = tok ? tk_id_piece(tok, id, &n) : NULL;
    if (len) *len = p ? n : 0;
    return p;
}

SWACL_API int swacl_tokenizer_eos(const swacl_tokenizer *tok, const int32_t **ids)
{
    if (ids) *ids = tok ? tok->eos : NULL;
    return tok ? tok->n_eos : 0;
}

SWACL_API int swacl_tokenizer_is_eos(const swacl_tokenizer *tok, int32_t id)
{
    for (int i = 0; tok && i < tok->n_eos; i++)
        if (tok->eos[i] == id) return 1;
    return 0;
}

SWACL_API int32_t swacl_tokenizer_bos(const swacl_tokenizer *tok) { return tok ? tok->bos_id : -1; }

/* ---- streaming ------------------------------------------------------------ */

struct swacl_tokenizer_stream {
    const tk_tokenizer *t;
    int skip_special;
    int32_t *ids;       /* read + prefix + rest of step_decode_stream */
    size_t n, cap, prefix_index;
    tk_buf prefix, cur, out;
};

SWACL_API swacl_status swacl_tokenizer_stream_create(swacl_ctx *ctx, const swacl_tokenizer *tok,
                                                     int skip_special, swacl_tokenizer_stream **out)
{
    SWACL_FAIL_IF(ctx, !tok || !out, SWACL_INVALID_ARG, "tokenizer_stream_create: NULL argument");
    *out = calloc(1, sizeof **out);
    SWACL_FAIL_IF(ctx, !*out, SWACL_OUT_OF_MEMORY, "tokenizer_stream_create: out of memory");
    (*out)->t = tok, (*out)->skip_special = skip_special;
    return SWACL_OK;
}

SWACL_API void swacl_tokenizer_stream_destroy(swacl_tokenizer_stream *s)
{
    if (!s) return;
    free(s->ids);
    tk_buf_free(&s->prefix), tk_buf_free(&s->cur), tk_buf_free(&s->out);
    free(s);
}

static int ends_incomplete(const tk_buf *b)
{
    return b->n >= 3 && !memcmp(b->p + b->n - 3, "\xEF\xBF\xBD", 3);
}

static int redecode(swacl_tokenizer_stream *s, const int32_t *ids, size_t n, tk_buf *b)
{
    b->n = 0;
    return tk_decode(s->t, ids, n, s->skip_special, b);
}

SWACL_API swacl_status swacl_tokenizer_stream_step(swacl_ctx *ctx, swacl_tokenizer_stream *s,
                                                   int32_t id, const char **text, size_t *len)
{
    SWACL_FAIL_IF(ctx, !s || !text || !len, SWACL_INVALID_ARG, "tokenizer_stream_step: NULL argument");
    *text = "", *len = 0;
    if (s->prefix.n == 0 && s->n) { /* nothing shown yet: is what we hold a clean prefix? */
        if (redecode(s, s->ids, s->n, &s->cur)) goto oom;
        if (!ends_incomplete(&s->cur)) {
            tk_buf t = s->prefix;
            s->prefix = s->cur, s->cur = t;
            s->prefix_index = s->n;
        }
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        int32_t *p = realloc(s->ids, cap * sizeof *p);
        if (!p) goto oom;
        s->ids = p, s->cap = cap;
    }
    s->ids[s->n++] = id;
    if (redecode(s, s->ids, s->n, &s->cur)) goto oom;
    if (s->cur.n <= s->prefix.n || ends_incomplete(&s->cur)) return SWACL_OK;
    if (memcmp(s->cur.p, s->prefix.p ? s->prefix.p : "", s->prefix.n))
        return swacl_set_error(ctx, SWACL_INTERNAL,
                               "tokenizer_stream_step: token %d changes text already shown", (int)id);
    s->out.n = 0;
    if (tk_buf_put(&s->out, s->cur.p + s->prefix.n, s->cur.n - s->prefix.n)) goto oom;
    size_t new_prefix_index = s->n - s->prefix_index;
    if (s->n > s->prefix_index)
        memmove(s->ids, s->ids + s->prefix_index, (s->n - s->prefix_index) * sizeof *s->ids);
    s->n -= s->prefix_index;
    if (redecode(s, s->ids, s->n, &s->prefix)) goto oom;
    s->prefix_index = new_prefix_index;
    *text = s->out.p, *len = s->out.n;
    return SWACL_OK;
oom:
    return swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "tokenizer_stream_step: out of memory");
}

SWACL_API swacl_status swacl_tokenizer_stream_flush(swacl_ctx *ctx, swacl_tokenizer_stream *s,
                                                    const char **text, size_t *len)
{
    SWACL_FAIL_IF(ctx, !s || !text || !len, SWACL_INVALID_ARG, "tokenizer_stream_flush: NULL argument");
    *text = "", *len = 0;
    if (redecode(s, s->ids, s->n, &s->cur))
        return swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "tokenizer_stream_flush: out of memory");
    s->out.n = 0;
    if (s->cur.n > s->prefix.n && !memcmp(s->cur.p, s->prefix.p ? s->prefix.p : "", s->prefix.n) &&
        tk_buf_put(&s->out, s->cur.p + s->prefix.n, s->cur.n - s->prefix.n))
        return swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "tokenizer_stream_flush: out of memory");
    s->n = 0, s->prefix_index = 0, s->prefix.n = 0;
    *text = s->out.p ? s->out.p : "", *len = s->out.n;
    return SWACL_OK;
}

SWACL_API swacl_status swacl_text_read(swacl_ctx *ctx, const char *path, char **text, size_t *len)
{
    SWACL_FAIL_IF(ctx, !path || !text || !len, SWACL_INVALID_ARG, "text_read: NULL argument");
    *text = NULL, *len = 0;
    if (strcmp(path, "-")) {
        uint8_t *buf = NULL;
        swacl_status st = swacl_file_read(ctx, path, SWACL_FILE_MAX_IDS, &buf, len);
        *text = (char *)buf;
        return st;
    }
    tk_buf b = {0};
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, stdin)) > 0) {
        int big = b.n + got > SWACL_FILE_MAX_IDS;
        if (big || tk_buf_put(&b, chunk, got)) {
            tk_buf_free(&b);
            if (big) return swacl_set_error(ctx, SWACL_IO, "stdin: more than %u bytes", (unsigned)SWACL_FILE_MAX_IDS);
            return swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "stdin: out of memory");
        }
    }
    if (ferror(stdin)) {
        tk_buf_free(&b);
        return swacl_set_error(ctx, SWACL_IO, "stdin: read error");
    }
    if (tk_buf_put(&b, "", 0)) return swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "stdin: out of memory");
    *text = b.p, *len = b.n;
    return SWACL_OK;
}
